"""Sessions: round trips, validation of hostile input, files, building runs."""

from __future__ import annotations

import builtins
import copy
import json
import math
import os
from dataclasses import replace

import numpy as np
import pytest
import sympy

from gd_explorer.core.engine.descent import run_descent
from gd_explorer.core.io.export import ExportError
from gd_explorer.core.optim.optimizers import SGD, Adam
from gd_explorer.core.optim.schedules import CosineSchedule, StepSchedule
from gd_explorer.core.problems.datasets import LOSSES, DatasetObjective
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.objectives import SymbolicObjective
from gd_explorer.core.session.specs import (
    MAX_RUNS,
    MAX_SESSION_BYTES,
    SESSION_VERSION,
    ProblemSpec,
    RunSpec,
    Session,
    SessionError,
    load_session,
    save_session,
    session_from_dict,
    session_json,
    session_to_dict,
)

RICH = Session(
    problem=ProblemSpec(kind="dataset", function="x^2*sin(y) + 0.1*x", dataset="data/my file.csv",
                        x_column="length", y_column=2, model="quadratic-full", loss="huber",
                        huber_delta=0.1 + 0.2, batch_size=7, seed=12345, maximize=False),
    runs=(
        RunSpec("adam", 0.1 + 0.2, {"betas": (0.8, 0.995), "amsgrad": True, "eps": 1e-10},
                "cosine", {"t_max": 500, "eta_min": 1e-5}, "Adam ∂ tuned", "#A0b1C2", False),
        RunSpec("sgd", 1e-3, {"momentum": 0.9, "nesterov": True}, "step",
                {"step_size": 10, "gamma": 0.5}),
        RunSpec("rmsprop", 3e-4, {"centered": True, "alpha": 0.9}),
    ),
    start=(-2.0, 1 / 3, 5e-300),
    max_steps=123_456,
    tol=0.0,
    loss_tol=1e-12,
    surface_axes=(2, 0),
    title="A title — with Unicode ✓",
    description="Line one.\nLine two.",
)


def base_dict() -> dict:
    """A valid session dictionary with two runs, for mutation by the tests."""
    s = Session(runs=(RunSpec("sgd", 0.01), RunSpec("adam", 0.01, {"betas": (0.9, 0.99)})),
                start=(-1.5, 2.0))
    return copy.deepcopy(session_to_dict(s))


# ------------------------------------------------------------------------ round trips
def test_default_session_round_trips():
    s = Session()
    assert session_from_dict(session_to_dict(s)) == s


def test_rich_session_round_trips_exactly_through_json():
    d = session_to_dict(RICH)
    text = json.dumps(d)
    back = session_from_dict(json.loads(text))
    assert back == RICH
    # floats are bit-exact, tuples come back as tuples
    assert back.runs[0].lr == 0.1 + 0.2 and back.runs[0].lr != 0.3
    assert back.start[2] == 5e-300
    assert back.runs[0].hyper["betas"] == (0.8, 0.995)
    assert isinstance(back.runs[0].hyper["betas"], tuple)
    assert back.surface_axes == (2, 0) and isinstance(back.surface_axes, tuple)
    assert back.problem.y_column == 2 and back.problem.x_column == "length"


def test_dict_is_json_native_and_starts_with_format_and_version():
    d = session_to_dict(RICH)
    assert list(d)[:2] == ["format", "version"]
    assert d["format"] == "gd-explorer-session" and d["version"] == SESSION_VERSION == 1
    assert json.loads(json.dumps(d)) == d  # no tuples, no numpy scalars
    assert d["runs"][0]["hyper"]["betas"] == [0.8, 0.995]


def test_numpy_scalars_are_written_as_plain_numbers():
    s = Session(runs=(RunSpec("sgd", np.float64(0.1), {"momentum": np.float64(0.5)}),),
                start=(np.float64(1.0), np.float64(2.0)), max_steps=np.int64(10))
    text = session_json(s)
    assert "np.float64" not in text and "np.int64" not in text
    back = session_from_dict(json.loads(text))
    assert back.runs[0].lr == 0.1 and back.max_steps == 10 and type(back.max_steps) is int


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "s.json"
    save_session(path, RICH)
    assert load_session(path) == RICH
    text = path.read_text(encoding="utf-8")
    assert text == session_json(RICH)
    assert text.startswith('{\n  "format": "gd-explorer-session",\n  "version": 1,')
    assert "✓" in text  # UTF-8, not \u escapes
    assert load_session(str(path)) == RICH


def test_load_accepts_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + session_json(Session()).encode())
    assert load_session(path) == Session()


# ------------------------------------------------------------------------ validation
def _run_with(optimizer, lr, hyper):
    """A mutation: run 1 becomes ``optimizer`` at ``lr`` with ``hyper``."""

    def mutate(d):
        d["runs"][1].update(optimizer=optimizer, lr=lr, hyper=hyper)
        return d

    return mutate


def _set(path, value):
    """A mutation of the base dictionary: set the item at ``path`` (a tuple of keys)."""

    def mutate(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return d

    return mutate


def _delete(path):
    def mutate(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return d

    return mutate


BAD = [
    # header
    (lambda d: [d], "must be a JSON object"),
    (_delete(("format",)), "not a gd-explorer session"),
    (_set(("format",), "something-else"), "not a gd-explorer session"),
    (_set(("version",), 2), "made by a newer gd-explorer (version 2)"),
    (_set(("version",), 0), "unknown session version 0"),
    (_set(("version",), "1"), "version: must be a whole number"),
    (_set(("version",), True), "version: must be a whole number, got true"),
    (_delete(("version",)), "missing key 'version'"),
    # keys
    (_set(("maxsteps",), 3), "unknown key 'maxsteps' (did you mean 'max_steps'?)"),
    (_delete(("tol",)), "missing key 'tol'"),
    (_set(("problem", "extra"), 1), "problem: unknown key 'extra'"),
    (_delete(("runs", 1, "color")), "runs[1]: missing key 'color'"),
    # top-level numbers
    (_set(("max_steps",), 1e300), "max_steps: must be a whole number, got 1e+300"),
    (_set(("max_steps",), 1000.0), "max_steps: must be a whole number"),
    (_set(("max_steps",), True), "max_steps: must be a whole number, got true"),
    (_set(("max_steps",), -1), "max_steps: must be between 0 and 10,000,000"),
    (_set(("max_steps",), 10_000_001), "max_steps: must be between 0 and 10,000,000"),
    (_set(("max_steps",), 10**5000), "max_steps: must be between 0 and 10,000,000, got a huge"),
    (_set(("tol",), float("nan")), "tol: must be a finite number, got nan"),
    (_set(("tol",), float("inf")), "tol: must be a finite number, got inf"),
    (_set(("tol",), -1e-3), "tol: must be zero or positive"),
    (_set(("loss_tol",), "0"), "loss_tol: must be a number, got '0'"),
    (_set(("loss_tol",), 10**400), "loss_tol: number too large"),
    # runs
    (_set(("runs",), [{}] * 10_000), "runs: at most 8 runs, got 10,000"),
    (_set(("runs",), {"0": {}}), "runs: must be a list"),
    (_set(("runs", 1), "adam"), "runs[1]: must be an object"),
    (_set(("runs", 1, "lr"), "NaN"), "runs[1].lr: must be a number, got 'NaN'"),
    (_set(("runs", 1, "lr"), float("nan")), "runs[1].lr: must be a finite number"),
    (_set(("runs", 1, "lr"), 0), "runs[1].lr: learning rate must be positive"),
    (_set(("runs", 1, "lr"), True), "runs[1].lr: must be a number, got true"),
    (_set(("runs", 1, "optimizer"), "adamm"), "runs[1].optimizer: unknown optimizer 'adamm'"),
    (_set(("runs", 1, "optimizer"), None), "runs[1].optimizer: must be text, got null"),
    (_set(("runs", 1, "hyper"), {"__class__": 1}),
     "runs[1].hyper: adam has no hyperparameter '__class__'"),
    (_set(("runs", 1, "hyper"), {"momentum": 0.9}),
     "runs[1].hyper: adam has no hyperparameter 'momentum'"),
    (_set(("runs", 1, "hyper"), {"lr": 0.1}), "runs[1].hyper: 'lr' does not belong here"),
    (_set(("runs", 1, "hyper"), {"maximize": True}), "'maximize' does not belong here"),
    (_set(("runs", 1, "hyper"), []), "runs[1].hyper: must be an object"),
    (_set(("runs", 1, "hyper", "betas"), [1.5, 0.9]),
     "runs[1].hyper.betas: betas[0] must be in [0, 1), got 1.5"),
    (_set(("runs", 1, "hyper", "betas"), [0.9]), "runs[1].hyper.betas: must be a pair"),
    (_set(("runs", 1, "hyper", "betas"), "0.9, 0.99"), "runs[1].hyper.betas: must be a pair"),
    (_set(("runs", 1, "hyper", "betas"), [0.9, "x"]), "runs[1].hyper.betas[1]: must be a number"),
    (_set(("runs", 1, "hyper", "eps"), -1), "runs[1].hyper.eps: eps must be zero or positive"),
    (_set(("runs", 1, "hyper", "amsgrad"), 1),
     "runs[1].hyper.amsgrad: must be true or false, got 1"),
    (_set(("runs", 0, "hyper"), {"momentum": True}),
     "runs[0].hyper.momentum: must be a number, got true"),
    (_set(("runs", 0, "hyper"), {"nesterov": True}),
     "runs[0].hyper.nesterov: nesterov momentum requires a momentum > 0"),
    (_set(("runs", 0, "hyper"), {"momentum": 0.9, "nesterov": True, "dampening": 0.5}),
     "runs[0].hyper.nesterov: nesterov momentum requires"),
    (_set(("runs", 0, "schedule"), "warmup"), "runs[0].schedule: unknown schedule 'warmup'"),
    (_set(("runs", 0, "schedule_params"), {"gamma": 0.5}),
     "runs[0].schedule_params: schedule 'constant' has no parameter 'gamma'"),
    (lambda d: _set(("runs", 0, "schedule_params"), {"step_size": 1.5})(
        _set(("runs", 0, "schedule"), "step")(d)),
     "runs[0].schedule_params.step_size: must be a whole number, got 1.5"),
    (lambda d: _set(("runs", 0, "schedule_params"), {"gamma": 0})(
        _set(("runs", 0, "schedule"), "exponential")(d)),
     "runs[0].schedule_params.gamma: gamma must be positive, got 0"),
    (_set(("runs", 0, "color"), "red"), "runs[0].color: must be \"#rrggbb\""),
    (_set(("runs", 0, "color"), "#12345"), "runs[0].color"),
    (_set(("runs", 0, "color"), "#1234567"), "runs[0].color"),
    (_set(("runs", 0, "color"), "#123456\n"), "runs[0].color"),
    (_set(("runs", 0, "visible"), 1), "runs[0].visible: must be true or false, got 1"),
    (_set(("runs", 0, "label"), "x" * 2001), "runs[0].label: too long: 2,001 characters"),
    (_set(("runs", 0, "label"), "a\x00b"), "runs[0].label: must not contain NUL"),
    (_set(("runs", 0, "label"), "\ud800"), "runs[0].label: is not valid Unicode"),
    # problem
    (_set(("problem",), None), "problem: must be an object"),
    (_set(("problem", "kind"), "both"), "problem.kind: must be 'function', 'dataset' or 'nets'"),
    (_set(("problem", "function"), "__import__('os').system('x')"), "problem.function:"),
    (_set(("problem", "function"), "x.__class__"), "problem.function:"),
    (_set(("problem", "function"), "9**9**9"), "problem.function:"),
    (_set(("problem", "function"), "rosenbrok"), "problem.function: unknown function 'rosenbrok'"),
    (_set(("problem", "function"), ""), "problem.function: must not be empty"),
    (_set(("problem", "function"), 5), "problem.function: must be text, got 5"),
    (_set(("problem", "function"), "x" * 2001), "problem.function: too long"),
    (_set(("problem", "dataset"), ""), "problem.dataset: must not be empty"),
    (_set(("problem", "model"), "cubic"), "problem.model: unknown model 'cubic'"),
    (_set(("problem", "loss"), "l2"), "problem.loss: unknown loss 'l2'"),
    (_set(("problem", "x_column"), True), "problem.x_column: must be a column name"),
    (_set(("problem", "x_column"), -1), "problem.x_column: must be between 0"),
    (_set(("problem", "y_column"), 1.0), "problem.y_column: must be a column name"),
    (_set(("problem", "batch_size"), 0), "problem.batch_size: must be between 1"),
    (_set(("problem", "batch_size"), True), "problem.batch_size: must be a whole number"),
    (_set(("problem", "seed"), -1), "problem.seed: must be between 0"),
    (_set(("problem", "seed"), False), "problem.seed: must be a whole number, got false"),
    (_set(("problem", "maximize"), "yes"), "problem.maximize: must be true or false"),
    (_set(("problem", "huber_delta"), 0.0),
     "problem.huber_delta: Huber delta must be a positive number, got 0.0"),
    (_set(("problem", "huber_delta"), -2), "problem.huber_delta: Huber delta must be a positive"),
    (_set(("problem", "huber_delta"), True), "problem.huber_delta: must be a number, got true"),
    (_set(("problem", "huber_delta"), "1"), "problem.huber_delta: must be a number, got '1'"),
    (lambda d: _set(("problem", "x_column"), "length")(_set(("problem", "kind"), "dataset")(d)),
     "problem.x_column: applies to a CSV file; 'fence' is a built-in dataset (use null)"),
    (_set(("problem", "maximize"), 0), "problem.maximize: must be true or false, got 0"),
    # start and axes
    (_set(("start",), [1.0, 2.0, 3.0]), "start: needs 2 values (x, y), got 3"),
    (_set(("start",), [1.0]), "start: needs 2 values (x, y), got 1"),
    (_set(("start",), [float("nan"), 1.0]), "start[0]: must be a finite number"),
    (_set(("start",), ["1", 2.0]), "start[0]: must be a number, got '1'"),
    (_set(("start",), [0.0, 1e200]), "start[1]: must be between -1e100 and 1e100"),
    (_set(("start",), "1,2"), "start: must be a list of numbers or null"),
    (_set(("surface_axes",), [0, 0]), "surface_axes: must name two different parameters"),
    (_set(("surface_axes",), [0]), "surface_axes: must be a pair"),
    (_set(("surface_axes",), [0, 2]), "surface_axes: this problem has 2 parameters"),
    (_set(("surface_axes",), [0, 3]), "surface_axes[1]: must be between 0 and 2"),
    (_set(("surface_axes",), [0, 1.0]), "surface_axes[1]: must be a whole number"),
    (_set(("title",), 5), "title: must be text"),
    (_set(("description",), "d" * 2001), "description: too long"),
    # hyperparameters of every kind, checked by the optimizer's declaration
    (_run_with("lbfgs", 1.0, {"max_eval": 2.5}),
     "runs[1].hyper.max_eval: must be a whole number, got 2.5"),
    (_run_with("lbfgs", 1.0, {"history_size": 0}),
     "runs[1].hyper.history_size: history_size must be a whole number >= 1, got 0"),
    (_run_with("lbfgs", 1.0, {"line_search_fn": "wolfe"}),
     "runs[1].hyper.line_search_fn: line_search_fn must be one of: none, strong_wolfe, "
     "got 'wolfe'"),
    (_run_with("lbfgs", 1.0, {"line_search_fn": 3}),
     "runs[1].hyper.line_search_fn: must be one of: none, strong_wolfe, got 3"),
    (_run_with("adafactor", 0.01, {"eps": [None, None]}),
     "runs[1].hyper.eps: eps[1] must be a number (only eps[0] may be none)"),
    (_run_with("adafactor", 0.01, {"eps": ["x", 1e-3]}),
     "runs[1].hyper.eps[0]: must be a number, got 'x'"),
    (_run_with("rprop", 0.01, {"etas": [1.5, 0.5]}),
     "runs[1].hyper.etas: etas must satisfy 0 < etas[0] < 1 < etas[1]"),
    (_run_with("nadam", 0.01, {"decoupled_weight_decay": 1}),
     "runs[1].hyper.decoupled_weight_decay: must be true or false, got 1"),
]


@pytest.mark.parametrize(("mutate", "message"), BAD, ids=[m for _, m in BAD])
def test_invalid_sessions_are_refused_with_the_key_path(mutate, message):
    d = mutate(base_dict())
    with pytest.raises(SessionError) as info:
        session_from_dict(d)
    assert message in str(info.value)


def test_the_base_dictionary_is_valid():
    # guards the table above: each case must fail because of its own mutation
    s = session_from_dict(base_dict())
    assert s.runs[1].hyper == {"betas": (0.9, 0.99)}


def test_error_messages_stay_short_for_huge_values():
    d = _set(("runs", 0, "label"), ["x"] * 100_000)(base_dict())
    with pytest.raises(SessionError) as info:
        session_from_dict(d)
    assert len(str(info.value)) < 200
    assert "a list of 100000 items" in str(info.value)


def test_exactly_max_runs_and_empty_runs_are_accepted():
    d = base_dict()
    d["runs"] = [d["runs"][0]] * MAX_RUNS
    assert len(session_from_dict(d).runs) == MAX_RUNS
    d["runs"] = [d["runs"][0]] * (MAX_RUNS + 1)
    with pytest.raises(SessionError, match="^runs: at most 8 runs, got 9$"):
        session_from_dict(d)
    d["runs"] = []
    assert session_from_dict(d).runs == ()


def test_axes_of_a_three_parameter_model_and_of_a_one_parameter_function():
    d = base_dict()
    d["problem"].update(kind="dataset", model="quadratic-full")
    d["start"] = [1.0, 2.0, 3.0]
    d["surface_axes"] = [2, 1]
    assert session_from_dict(d).surface_axes == (2, 1)
    d = base_dict()
    d["problem"]["function"] = "fence-area"
    d["start"] = [57]
    s = session_from_dict(d)  # (0, 1) is kept but means nothing for one parameter
    assert s.start == (57.0,) and isinstance(s.start[0], float)


def test_formulas_are_parsed_without_eval_or_sympify(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/sympify must not be called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(sympy, "sympify", forbidden)
    d = base_dict()
    d["problem"]["function"] = "(1 - x)^2 + 100*(y - x^2)^2"
    assert session_from_dict(d).problem.function.startswith("(1 - x)")
    d["problem"]["function"] = "__import__('os').system('touch /tmp/gdx-pwned')"
    with pytest.raises(SessionError):
        session_from_dict(d)


def test_hostile_formula_is_refused_even_when_the_session_fits_a_dataset():
    d = base_dict()
    d["problem"].update(kind="dataset", function="().__class__.__bases__[0]")
    with pytest.raises(SessionError, match="problem.function"):
        session_from_dict(d)


def test_a_formula_in_one_variable_needs_one_start_value():
    d = base_dict()
    d["problem"]["function"] = "y**2 + 1"
    with pytest.raises(SessionError, match=r"start: needs 1 value \(y\)"):
        session_from_dict(d)
    d["start"] = [0.5]
    assert session_from_dict(d).start == (0.5,)


def test_csv_path_is_stored_not_read(tmp_path):
    missing = str(tmp_path / "nowhere" / "data.csv")
    d = base_dict()
    d["problem"].update(kind="dataset", dataset=missing, x_column="x", y_column=1)
    d["start"] = None
    s = session_from_dict(d)
    assert s.problem.dataset == missing
    with pytest.raises(ValueError, match="no such file"):
        s.problem.build()
    csv = tmp_path / "data.csv"
    csv.write_text("a,x,y\n0,1,3\n0,2,5\n0,3,7\n", encoding="utf-8")
    s = session_from_dict(dict(d, problem=dict(d["problem"], dataset=str(csv), y_column=2)))
    obj = s.problem.build()
    assert isinstance(obj, DatasetObjective)
    assert obj.x.tolist() == [1.0, 2.0, 3.0] and obj.y.tolist() == [3.0, 5.0, 7.0]


# ------------------------------------------------------------------------ files
def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_load_refuses_missing_file_and_directory(tmp_path):
    with pytest.raises(SessionError, match="no such file"):
        load_session(tmp_path / "missing.json")
    with pytest.raises(SessionError, match="is a directory"):
        load_session(tmp_path)


def test_load_refuses_files_over_one_mebibyte(tmp_path):
    big = _write(tmp_path / "big.json", b" " * MAX_SESSION_BYTES + b"{}")
    with pytest.raises(SessionError, match="at most 1,024 KiB"):
        load_session(big)
    nested = _write(tmp_path / "nested.json", b"[" * 5_000_000 + b"]" * 5_000_000)
    with pytest.raises(SessionError, match="at most 1,024 KiB"):
        load_session(nested)


def test_load_refuses_deep_nesting_within_the_size_limit(tmp_path):
    deep = _write(tmp_path / "deep.json", b"[" * 400_000 + b"]" * 400_000)
    with pytest.raises(SessionError, match="nested too deeply"):
        load_session(deep)


def test_load_refuses_text_that_is_not_utf8(tmp_path):
    bad = _write(tmp_path / "latin1.json", b'{\n"title": "caf\xe9"}')
    with pytest.raises(SessionError, match=r"not UTF-8 text \(invalid byte at offset 15, line 2\)"):
        load_session(bad)


def test_load_reports_json_syntax_errors_with_line_and_column(tmp_path):
    text = b'{\n  "format": "gd-explorer-session",\n  "version" 1\n}'
    bad = _write(tmp_path / "syntax.json", text)
    with pytest.raises(SessionError, match="line 3, column 13"):
        load_session(bad)


def test_load_refuses_duplicate_keys_and_non_objects(tmp_path):
    text = session_json(Session()).replace('"max_steps": 1000,',
                                           '"max_steps": 1000, "max_steps": 5,')
    dup = _write(tmp_path / "dup.json", text.encode())
    with pytest.raises(SessionError, match="duplicate key 'max_steps'"):
        load_session(dup)
    arr = _write(tmp_path / "arr.json", b"[1, 2]")
    with pytest.raises(SessionError, match="must be a JSON object"):
        load_session(arr)


def test_load_refuses_a_huge_integer_literal(tmp_path):
    text = session_json(Session()).replace('"max_steps": 1000', '"max_steps": 1' + "0" * 5000)
    path = _write(tmp_path / "int.json", text.encode())
    with pytest.raises(SessionError):
        load_session(path)


@pytest.mark.parametrize(("literal", "message"), [
    ("NaN", "tol: must be a finite number, got nan"),
    ("Infinity", "tol: must be a finite number, got inf"),
    ("1e999", "tol: must be a finite number, got inf"),
])
def test_load_refuses_json_nan_and_infinity(tmp_path, literal, message):
    text = session_json(Session()).replace('"tol": 1e-08', f'"tol": {literal}')
    assert literal in text
    path = _write(tmp_path / "nan.json", text.encode())
    with pytest.raises(SessionError, match=message):
        load_session(path)


def test_load_prefixes_validation_errors_with_the_path(tmp_path):
    d = base_dict()
    d["runs"][1]["hyper"] = {"__class__": 1}
    path = _write(tmp_path / "hostile.json", json.dumps(d).encode())
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert str(info.value).startswith(f"{path}: runs[1].hyper:")


def test_load_raises_only_session_errors_on_corrupted_files(tmp_path):
    good = session_json(RICH).encode()
    rng = np.random.default_rng(7)
    path = tmp_path / "fuzz.json"
    outcomes = set()
    for k in range(300):
        data = bytearray(good)
        if k % 3 == 0:
            data = data[: rng.integers(0, len(data))]
        else:
            for _ in range(rng.integers(1, 4)):
                data[rng.integers(0, len(data))] = int(rng.integers(0, 256))
        path.write_bytes(bytes(data))
        try:
            load_session(path)
            outcomes.add("loaded")
        except SessionError:
            outcomes.add("refused")
    assert "refused" in outcomes  # anything else would have escaped and failed the test


def test_save_refuses_an_invalid_session_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "s.json"
    save_session(path, Session())
    before = path.read_bytes()
    bad = Session(runs=(RunSpec("sgd", -1.0),))
    with pytest.raises(SessionError, match="runs\\[0\\].lr: learning rate must be positive"):
        save_session(path, bad)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["s.json"]  # no temporary file left


def test_save_into_a_missing_folder_raises_export_error(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        save_session(tmp_path / "no" / "s.json", Session())


# ------------------------------------------------------------------------ building
def test_runspec_build_makes_optimizer_and_schedule():
    opt, sched = RunSpec("adam", 0.05, {"betas": (0.8, 0.9)}, "cosine", {"t_max": 10}).build(True)
    assert isinstance(opt, Adam) and opt.maximize is True and opt.hyper.betas == (0.8, 0.9)
    assert isinstance(sched, CosineSchedule) and sched.t_max == 10 and sched.base_lr == 0.05
    opt, sched = RunSpec("sgd", 0.1, {}, "step", {"step_size": 3}).build(False)
    assert isinstance(opt, SGD) and opt.maximize is False and isinstance(sched, StepSchedule)
    with pytest.raises(ValueError, match="momentum must be zero or positive"):
        RunSpec("sgd", 0.1, {"momentum": -1.0}).build(False)
    with pytest.raises(ValueError, match="unknown optimizer"):
        RunSpec("lbfgs-b").build(False)


def test_display_label():
    assert RunSpec("adam", 0.01).display_label() == "Adam lr=0.01"
    assert RunSpec("sgd", 0.001, {"momentum": 0.9}).display_label() == "SGD momentum=0.9 lr=0.001"
    assert RunSpec("sgd", 0.1, {"momentum": 0.0}).display_label() == "SGD lr=0.1"
    assert (RunSpec("adam", 0.01, {"betas": (0.9, 0.99), "amsgrad": True}, "cosine").display_label()
            == "Adam betas=(0.9, 0.99) amsgrad lr=0.01 cosine")
    assert RunSpec("adam", 0.01, {"betas": (0.9, 0.999)}).display_label() == "Adam lr=0.01"
    assert RunSpec("rmsprop", 0.01, label="mine").display_label() == "mine"


def test_problem_build_and_direction():
    p = ProblemSpec(function="rosenbrock")
    assert p.build() is get_function("rosenbrock")
    assert p.param_names() == ("x", "y")
    typed = ProblemSpec(function=" x^2*sin(y) ")
    obj = typed.build()
    assert isinstance(obj, SymbolicObjective)
    g = obj.grad(np.array([1.0, 2.0]))
    assert np.allclose(g, [2 * math.sin(2.0), math.cos(2.0)])
    fence = get_function("fence-area")
    assert ProblemSpec(function="fence-area").maximize_for(fence) is True
    assert ProblemSpec(function="fence-area", maximize=False).maximize_for(fence) is False
    ds = ProblemSpec(kind="dataset", dataset="fence", model="quadratic", loss="mae")
    assert ds.param_names() == ("a", "b")
    assert ds.build().value(np.array([-2.0, 30.0])) == 6748.5
    with pytest.raises(ValueError, match="unknown function 'rosenbrok'"):
        ProblemSpec(function="rosenbrok").build()


def test_start_for_and_descent_match_run_descent():
    s = Session(problem=ProblemSpec(kind="dataset", dataset="noisy-line", batch_size=5, seed=3),
                runs=(RunSpec("sgd", 0.01, {"momentum": 0.5}, "exponential", {"gamma": 0.99}),),
                start=(0.5, -0.5), max_steps=200, tol=0.0)
    obj = s.problem.build()
    assert s.start_for(obj).tolist() == [0.5, -0.5]
    traj = s.descent(0, obj).run()
    opt, sched = s.runs[0].build(False)
    ref = run_descent(obj, opt, np.array([0.5, -0.5]), steps=200, schedule=sched,
                      batch_size=5, seed=3)
    assert traj.steps == 200 and np.array_equal(traj.params, ref.params)
    # a different seed gives a different mini-batch order: the seed is really used
    other = replace(s, problem=ProblemSpec(kind="dataset", dataset="noisy-line",
                                           batch_size=5, seed=4))
    assert not np.array_equal(other.descent(0).run().params, traj.params)
    assert Session().start_for(get_function("rosenbrock")).tolist() == [-1.5, 2.0]
    with pytest.raises(ValueError, match="start must have 2 coordinate"):
        Session(start=(1.0,)).start_for(get_function("rosenbrock"))


def test_a_session_whose_start_is_not_finite_for_its_function_is_refused_with_a_message():
    s = Session(problem=ProblemSpec(function="log(x)"), start=(-1.0,))
    d = session_from_dict(session_to_dict(s))  # the file is well-formed ...
    obj = d.problem.build()
    message = "log(x) is not finite at the start (x = -1): f = nan"
    with pytest.raises(ValueError) as info:  # ... but no descent can begin there
        d.start_for(obj)
    assert str(info.value) == message
    with pytest.raises(ValueError) as info:
        d.descent(0, obj)
    assert str(info.value) == message


def test_huber_delta_is_saved_and_a_file_without_it_reads_delta_1():
    s = Session(problem=ProblemSpec(kind="dataset", dataset="noisy-line", loss="huber",
                                    huber_delta=0.25))
    d = session_to_dict(s)
    assert d["problem"]["huber_delta"] == 0.25  # always written
    back = session_from_dict(d)
    assert back == s and back.problem.build().loss.delta == 0.25
    del d["problem"]["huber_delta"]  # a file from before δ could be set
    old = session_from_dict(d)
    assert old.problem.huber_delta == 1.0 and old.problem.build().loss.delta == 1.0
    # every other key is still required
    del d["problem"]["loss"]
    with pytest.raises(SessionError, match="^problem: missing key 'loss'$"):
        session_from_dict(d)


def test_huber_delta_is_kept_but_unused_with_another_loss():
    s = Session(problem=ProblemSpec(kind="dataset", dataset="fence", loss="mse", huber_delta=3.0))
    assert session_from_dict(session_to_dict(s)).problem.huber_delta == 3.0
    assert s.problem.build().loss is LOSSES["mse"]


def test_batch_size_is_ignored_for_functions():
    s = Session(problem=ProblemSpec(function="bowl", batch_size=4), max_steps=5)
    assert s.descent(0).run().steps == 5


def test_none_and_whole_number_hyperparameters_round_trip(tmp_path):
    runs = (RunSpec(optimizer="adafactor", lr=0.01, hyper={"eps": (None, 1e-3)}),
            RunSpec(optimizer="lbfgs", lr=1.0, hyper={"max_eval": None, "history_size": 7,
                                                     "line_search_fn": "strong_wolfe"}))
    s = Session(runs=runs)
    d = session_to_dict(s)
    assert d["runs"][0]["hyper"]["eps"] == [None, 1e-3]
    assert d["runs"][1]["hyper"] == {"max_eval": None, "history_size": 7,
                                     "line_search_fn": "strong_wolfe"}
    assert json.dumps(d["runs"][1]["hyper"]) == (
        '{"max_eval": null, "history_size": 7, "line_search_fn": "strong_wolfe"}')
    path = tmp_path / "s.json"
    save_session(path, s)
    assert load_session(path).runs == runs


# ---------------------------------------------------------------- ghosts (Keep as ghost)
from gd_explorer.core.limits import MAX_GHOST_ROWS, MAX_GHOST_VALUES, MAX_GHOSTS  # noqa: E402
from gd_explorer.core.session.specs import GhostSpec, freeze_ghost, ghost_rows  # noqa: E402


def _ghost_session(n=5, dim=2) -> Session:
    rng = np.random.default_rng(0)
    ghost = freeze_ghost("ghost: Adam lr=0.05 (before)", "#D55E00",
                         rng.normal(size=(n, dim)) * 1e3, rng.random(n) + 0.1)
    problem = ProblemSpec(kind="function", function="rosenbrock") if dim == 2 else \
        ProblemSpec(kind="function", function="x**2")
    return Session(problem=problem, ghosts=(ghost,))


def test_ghosts_round_trip_bit_for_bit_and_old_files_read_without_them():
    s = _ghost_session()
    back = session_from_dict(json.loads(session_json(s)))
    assert back.ghosts == s.ghosts
    np.testing.assert_array_equal(back.ghosts[0].arrays()[1], s.ghosts[0].arrays()[1])
    d = session_to_dict(Session())
    assert "ghosts" not in d  # written only when there are some: older versions read it
    assert session_from_dict(d).ghosts == ()


def test_freeze_ghost_keeps_the_finite_prefix_and_thins_long_paths():
    p = np.arange(20.0).reshape(10, 2)
    f = np.arange(10.0)
    f[7] = np.inf
    g = freeze_ghost("g", "#000000", p, f)
    assert g.steps == tuple(range(7))
    np.testing.assert_array_equal(g.arrays()[1], p[:7])
    n = 50_000
    g = freeze_ghost("g", "#000000", np.zeros((n, 2)), np.ones(n))
    assert len(g.steps) == MAX_GHOST_ROWS and g.steps[0] == 0 and g.steps[-1] == n - 1
    # a network's ghost keeps fewer rows: within MAX_GHOST_VALUES numbers
    rows = ghost_rows(10_000, 105)
    assert len(rows) * 106 <= MAX_GHOST_VALUES and rows[-1] == 9999
    with pytest.raises(ValueError, match="no finite step"):
        freeze_ghost("g", "#000000", np.full((3, 2), np.nan), np.ones(3))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["ghosts"][0]["params"][1].pop(), "ghosts[0].params[1]: needs 2 values (x, y)"),
    (lambda d: d["ghosts"][0]["loss"].pop(), "ghosts[0].loss: needs one entry per step (5)"),
    (lambda d: d["ghosts"][0]["params"][2].__setitem__(0, float("nan")),
     "ghosts[0].params[2][0]: must be a finite number"),
    (lambda d: d["ghosts"][0]["loss"].__setitem__(0, 1e300),
     "ghosts[0].loss[0]: must be between"),
    (lambda d: d["ghosts"][0]["steps"].__setitem__(3, 1), "ghosts[0].steps[3]: steps must "
                                                          "increase"),
    (lambda d: d["ghosts"][0].__setitem__("color", "red"), "ghosts[0].color: must be"),
    (lambda d: d["ghosts"][0].__setitem__("extra", 1), "ghosts[0]: unknown key 'extra'"),
    (lambda d: d["ghosts"][0].pop("label"), "ghosts[0]: missing key 'label'"),
    (lambda d: d.__setitem__("ghosts", d["ghosts"] * (MAX_GHOSTS + 1)),
     f"ghosts: at most {MAX_GHOSTS} ghosts"),
    (lambda d: d.__setitem__("ghosts", {}), "ghosts: must be a list"),
    (lambda d: d["ghosts"][0].__setitem__("steps", list(range(MAX_GHOST_ROWS + 1))),
     f"ghosts[0].steps: must hold 1 to {MAX_GHOST_ROWS:,} rows"),
])
def test_invalid_ghosts_are_refused_with_the_key_path(mutate, message):
    d = session_to_dict(_ghost_session())
    mutate(d)
    with pytest.raises(SessionError) as err:
        session_from_dict(d)
    assert str(err.value).startswith(message), str(err.value)


def test_a_ghost_needs_the_problems_parameter_count():
    d = session_to_dict(_ghost_session(dim=1))
    d["problem"] = session_to_dict(Session())["problem"]  # a 2-parameter function
    with pytest.raises(SessionError, match=r"ghosts\[0\]\.params\[0\]: needs 2 values"):
        session_from_dict(d)


def test_max_ghosts_of_the_longest_rows_fit_in_a_session_file():
    n = MAX_GHOST_ROWS
    big = [freeze_ghost(f"ghost {i}", "#D55E00", np.random.default_rng(i).normal(size=(n, 3)),
                        np.random.default_rng(i).random(n)) for i in range(MAX_GHOSTS)]
    s = Session(problem=ProblemSpec(kind="dataset", dataset="fence", model="quadratic-full"),
                ghosts=tuple(big))
    assert len(session_json(s).encode()) < MAX_SESSION_BYTES
    assert isinstance(big[0], GhostSpec)
