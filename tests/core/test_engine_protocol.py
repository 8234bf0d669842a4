"""The engine process's typed messages: round trips, checks, the command unpickler, the
pacing, and the rule that the protocol's two ends never reach into a Descent."""

import ast
import dataclasses
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

import gd_explorer
from gd_explorer.core.engine.descent import Descent, LiveState
from gd_explorer.core.engine.pacing import PACING, Pacing
from gd_explorer.core.engine.protocol import (
    COMMANDS,
    REPLIES,
    Alive,
    Done,
    Exit,
    Frame,
    LoadObjective,
    Pause,
    ProtocolError,
    RunJob,
    RunRows,
    SetSpeed,
    command_from,
)
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function

PACKAGE = Path(gd_explorer.__file__).parent


def _descent(k=1, steps=40):
    starts = [-1.5, 2.0] if k == 1 else [[-1.5, 2.0]] * k
    d = Descent(get_function("rosenbrock"), make_optimizer("adam", lr=0.01), starts,
                max_steps=1000)
    d.advance(steps)
    return d


def _rows(final=False):
    return RunRows.drained(7, _descent(), final)


COMMAND_EXAMPLES = [LoadObjective(b"\x80\x05N."), RunJob(3, 12.5, b"runs"), RunJob(4, 0, b""),
                    SetSpeed(0.0), SetSpeed(400), Pause(), Exit()]


@pytest.mark.parametrize("message", COMMAND_EXAMPLES, ids=repr)
def test_every_command_round_trips_through_the_child_unpickler(message):
    for protocol in range(3, pickle.HIGHEST_PROTOCOL + 1):  # 2 has no bytes (a global)
        back = command_from(pickle.dumps(message, protocol=protocol))
        assert type(back) is type(message) and back == message


def test_every_message_class_has_an_example():
    shown = {type(m) for m in COMMAND_EXAMPLES} | {Frame, Done, Alive}
    assert shown == set(COMMANDS) | set(REPLIES)


def _same_rows(a: RunRows, b: RunRows):
    assert a.run_id == b.run_id
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.lrs, b.lrs)
    assert a.live.names == b.live.names


@pytest.mark.parametrize("final", [False, True])
def test_replies_round_trip_with_their_rows_and_live_state(final):
    for message in (Frame(1, (_rows(final), _rows(final))), Done(2, (_rows(final),), None),
                    Done(3, (), "the descent stopped with an error: boom"), Alive()):
        back = pickle.loads(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(back) is type(message)
        for f in dataclasses.fields(message):
            if f.name != "runs":
                assert getattr(back, f.name) == getattr(message, f.name)
        for a, b in zip(getattr(message, "runs", ()), getattr(back, "runs", ()), strict=True):
            _same_rows(a, b)


def test_rows_absorbed_after_a_round_trip_continue_a_descent_bit_for_bit():
    direct, main = _descent(steps=0), _descent(steps=0)
    direct.advance(300)
    away = pickle.loads(pickle.dumps(main.continuation()))
    for n, final in ((100, False), (200, True)):
        away.advance(n)
        update = pickle.loads(pickle.dumps(Frame(1, (RunRows.drained(0, away, final),))))
        update.runs[0].absorb_into(main)
    for a, b in zip(main.recorded(), direct.recorded(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert (main.t, main.status) == (direct.t, direct.status)


def test_speeds_are_floats_whatever_number_was_given():
    assert type(SetSpeed(400).steps_per_second) is float
    assert type(RunJob(1, 0, b"").speed) is float


BAD = {
    "SetSpeed a str": lambda: SetSpeed("fast"),
    "SetSpeed a bool": lambda: SetSpeed(True),
    "SetSpeed negative": lambda: SetSpeed(-1),
    "SetSpeed nan": lambda: SetSpeed(math.nan),
    "SetSpeed inf": lambda: SetSpeed(math.inf),
    "RunJob job a float": lambda: RunJob(1.0, 0.0, b""),
    "RunJob job a bool": lambda: RunJob(True, 0.0, b""),
    "RunJob speed a str": lambda: RunJob(1, "0", b""),
    "RunJob runs a list": lambda: RunJob(1, 0.0, []),
    "LoadObjective a str": lambda: LoadObjective("objective"),
    "RunRows run_id a str": lambda: RunRows("7", *_parts()),
    "RunRows rows a list": lambda: RunRows(7, [[1.0]], *_parts()[1:]),
    "RunRows rows 2-d": lambda: RunRows(7, np.zeros((2, 5)), np.zeros(2), _parts()[2]),
    "RunRows fewer rates than rows": lambda: RunRows(7, np.zeros((2, 1, 5)), np.zeros(1),
                                                     _parts()[2]),
    "RunRows live a dict": lambda: RunRows(7, *_parts()[:2], {"t": 3}),
    "Frame job a str": lambda: Frame("1", ()),
    "Frame runs of tuples": lambda: Frame(1, [(7, *_parts())]),
    "Done error an int": lambda: Done(1, (), 3),
    "Done runs None": lambda: Done(1, None, None),
    "LiveState values of another length": lambda: LiveState(("t", "p"), (1,)),
    "LiveState names a list": lambda: LiveState(["t"], (1,)),
}


def _parts():
    r = _rows()
    return r.rows, r.lrs, r.live


@pytest.mark.parametrize("case", list(BAD))
def test_a_message_with_a_wrong_field_is_refused_where_it_is_made(case):
    with pytest.raises((TypeError, ValueError)):
        BAD[case]()


def _pickle_of_call(cls, *args) -> bytes:
    class Call:
        def __reduce__(self):
            return cls, args
    return pickle.dumps(Call(), protocol=pickle.HIGHEST_PROTOCOL)


@pytest.mark.parametrize("data,reason", [
    (_pickle_of_call(SetSpeed, "fast"), "must be a number"),
    (_pickle_of_call(RunJob, 1, 0.0), "missing"),
    (pickle.dumps(Done(1, (), None)), "refers to gd_explorer.core.engine.protocol.Done"),
    (pickle.dumps(Alive()), "refers to gd_explorer.core.engine.protocol.Alive"),
    (pickle.dumps(("speed", 1.0)), "not a command"),
    (pickle.dumps(np.float64(1.0)), "refers to numpy"),
    (pickle.dumps(SetSpeed(1.0), protocol=2)[:-1] + pickle.dumps({"steps_per_second": -1},
                                                                 protocol=2)[2:-1] + b"b.",
     "takes no state"),
    (b"\x80\x05junk", "does not unpickle"),
])
def test_the_child_unpickler_builds_commands_and_nothing_else(data, reason):
    with pytest.raises(ProtocolError, match=reason):
        command_from(data)


# ------------------------------------------------------------------ pacing
def test_pacing_refuses_what_could_not_work():
    assert PACING == Pacing()
    for bad in ({"round_seconds": 0}, {"frame_seconds": -1.0}, {"silence_seconds": math.inf},
                {"heartbeat_seconds": "0.25"}, {"heartbeat_seconds": 3.0}):
        with pytest.raises(ValueError):
            dataclasses.replace(PACING, **bad)


@pytest.mark.parametrize("module", ["core/engine/process.py", "model/worker.py"])
def test_the_engine_modules_keep_no_pace_of_their_own(module):
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    own = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
           if isinstance(t, ast.Name) and t.id.endswith("_SECONDS")]
    assert own == []  # before: ROUND_SECONDS, FRAME_WAIT_SECONDS, ... in both


# ------------------------------------------------------------------ no reaching into a Descent
def _descent_privates() -> set[str]:
    d = _descent()
    names = {n for n in vars(d) if n.startswith("_")}
    names |= {n for n in dir(Descent) if n.startswith("_") and not n.startswith("__")}
    return names


def private_reaches(source: str, privates: set[str]) -> list[str]:
    """Where ``source`` reads another object's private attribute (``descent._rec``), a
    Descent's private attribute by name (``getattr(d, "_why_row")``, ``{"_t": ...}``) or
    another object's ``__dict__``.  ``self._x`` and ``cls._x`` are a class's own, and an
    imported module's ``_x`` (``os._exit``) is that module's API."""
    tree = ast.parse(source)
    own = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
           and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")}
    modules = {(a.asname or a.name).split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import) for a in node.names}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", *modules):
                continue
            if node.attr == "__dict__" or node.attr in privates or (
                    node.attr.startswith("_") and not node.attr.startswith("__")
                    and node.attr not in own):
                out.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Constant) and node.value in privates:
            out.append(f"line {node.lineno}: {node.value!r}")
    return out


@pytest.mark.parametrize("module", ["core/engine/process.py", "model/worker.py"])
def test_the_protocol_ends_never_touch_a_descents_private_attributes(module):
    source = (PACKAGE / module).read_text(encoding="utf-8")
    assert private_reaches(source, _descent_privates()) == []


@pytest.mark.parametrize("source", [
    "def f(descent):\n    return descent._why_row\n",
    "def f(d):\n    d._rec[0] = 1\n",
    "def f(d):\n    return getattr(d, '_diverged_at')\n",
    "LIVE = ('p', 'state', '_why_text')\n",
    "def f(d):\n    return d.__dict__['p']\n",
    "def f(loop):\n    return loop._engine\n",  # any other object's private attribute
    "import os\ndef f(d):\n    return d._scalar\n",
])
def test_the_private_attribute_check_catches_a_reach(source):
    assert private_reaches(source, _descent_privates())  # the check itself can fail
