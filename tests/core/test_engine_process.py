"""Descents advanced elsewhere: pickling, continuation/absorb, and the engine process."""

import collections
import dataclasses
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from gd_explorer.core.engine.descent import Descent, LiveState
from gd_explorer.core.engine.pacing import PACING
from gd_explorer.core.engine.process import (
    EXIT_PROTOCOL_ERROR,
    EngineProcess,
    EngineProcessError,
    run_rounds,
)
from gd_explorer.core.engine.protocol import (
    Alive,
    Done,
    Frame,
    LoadObjective,
    Pause,
    RunJob,
    SetSpeed,
)
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.datasets import LOSSES, MODELS, dataset_objective
from gd_explorer.core.problems.functions import FUNCTIONS, get_function
from gd_explorer.core.problems.objectives import expression_objective
from tests.processes import gone, stopping


def _objectives():
    out = [get_function(name) for name in FUNCTIONS]
    out.append(expression_objective("x^2*sin(y) + tanh(x*y)"))
    out += [dataset_objective("fence", m, loss) for m in MODELS for loss in LOSSES]
    out.append(dataset_objective("noisy-line", "linear", "huber", huber_delta=0.25))
    return out


@pytest.mark.parametrize("objective", _objectives(), ids=lambda o: o.name)
def test_every_objective_pickles_to_an_equal_one(objective):
    copy = pickle.loads(pickle.dumps(objective))
    assert (copy.name, copy.names, copy.window, copy.start, copy.optima) == (
        objective.name, objective.names, objective.window, objective.start, objective.optima)
    p = np.random.default_rng(1).uniform(-2, 2, (7, objective.dim))
    v0, g0 = objective.value_and_grad(p)
    v1, g1 = copy.value_and_grad(p)
    np.testing.assert_array_equal(v1, v0)
    np.testing.assert_array_equal(g1, g0)
    f0, f1 = objective.scalar_value_and_grad(), copy.scalar_value_and_grad()
    assert (f0 is None) == (f1 is None)
    if f0 is not None:
        assert f1(*p[0]) == f0(*p[0])


def _cases():
    """(label, descent factory): single fast-path runs, mini-batches, divergence, a batch."""
    rosen = get_function("rosenbrock")
    fence = dataset_objective("fence", "quadratic", "mae")
    return [
        ("adam-rosenbrock", lambda: Descent(rosen, make_optimizer("adam", lr=0.01),
                                            [-1.5, 2.0], max_steps=5000)),
        ("sgd-minibatch", lambda: Descent(fence, make_optimizer("sgd", lr=1e-3, momentum=0.9),
                                          [-2.0, 30.0], max_steps=3000, batch_size=2, seed=7)),
        ("diverges", lambda: Descent(get_function("bowl"), make_optimizer("sgd", lr=10.0),
                                     [1.0, 1.0], max_steps=3000)),
        ("batched-starts", lambda: Descent(rosen, make_optimizer("rmsprop", lr=1e-3),
                                           [[-1.5, 2.0], [0.0, 0.0], [2.0, -1.0]],
                                           max_steps=2000, grad_tol=1e-3)),
    ]


def _same(a: Descent, b: Descent):
    np.testing.assert_array_equal(a.recorded()[0], b.recorded()[0])
    np.testing.assert_array_equal(a.recorded()[1], b.recorded()[1])
    np.testing.assert_array_equal(a.recorded()[2], b.recorded()[2])
    np.testing.assert_array_equal(a.recorded()[3], b.recorded()[3])
    assert list(a.statuses) == list(b.statuses)
    assert [a.message(j) for j in range(a.k)] == [b.message(j) for j in range(b.k)]
    for name, buf in a.state.buffers().items():
        np.testing.assert_array_equal(buf, b.state.buffers()[name])
    assert (a.t, a.state.step) == (b.t, b.state.step)


@pytest.mark.parametrize("label,factory", _cases(), ids=[c[0] for c in _cases()])
def test_continuations_absorbed_chunk_by_chunk_equal_a_direct_run(label, factory):
    direct = factory()
    direct.run()
    main = factory()
    rng = np.random.default_rng(3)
    while not main.finished:
        # what a run/pause cycle does: a pickled continuation, frames, a final state
        away = pickle.loads(pickle.dumps(main.continuation()))
        for _ in range(int(rng.integers(1, 4))):
            away.advance(int(rng.integers(1, 700)))
            main.absorb(*away.drain_rows(), away.live_state())
        away.advance(int(rng.integers(0, 300)))
        main.absorb(*away.drain_rows(), away.live_state(final=True))
    _same(main, direct)


def test_a_continuation_does_not_share_state_with_its_origin():
    d = _cases()[1][1]()
    d.advance(10)
    c = d.continuation()
    c.advance(50)
    assert d.t == 10 and d.n_rows == 11
    assert c.t == 60 and c.n_rows == 50
    assert c.state.momentum_buffer is not d.state.momentum_buffer
    assert c.batches.rng is not d.batches.rng


def test_absorb_refuses_fields_that_are_not_live():
    d = _cases()[0][1]()
    with pytest.raises(ValueError, match="not a live field"):
        d.absorb(np.empty((0, 1, 5)), np.empty(0), LiveState(("objective",), (None,)))
    with pytest.raises(TypeError, match="absorbs a LiveState"):
        d.absorb(np.empty((0, 1, 5)), np.empty(0), {"p": d.p})  # before: took any dict
    live = d.live_state()
    with pytest.raises(ValueError, match="not the live fields"):  # some fields left stale
        d.absorb(np.empty((0, 1, 5)), np.empty(0), LiveState(live.names[:2], live.values[:2]))


def test_paced_rounds_never_run_ahead_of_the_clock():
    d = _cases()[0][1]()
    halt = threading.Event()
    timer = threading.Timer(0.15, halt.set)
    t0 = time.perf_counter()
    timer.start()
    run_rounds([d], halt=halt, speed=lambda: 200.0, frame=lambda: None)
    elapsed = time.perf_counter() - t0
    assert 1 <= d.t <= 200.0 * elapsed + 1  # a slow machine takes fewer, never more


def test_full_speed_rounds_run_to_the_end_and_publish_frames():
    ds = [f() for _, f in _cases()]
    frames = []
    run_rounds(ds, halt=threading.Event(), speed=lambda: 0.0,
               frame=lambda: frames.append(1), frame_seconds=0.0)
    assert all(d.finished for d in ds)
    assert frames


# ------------------------------------------------------------------ the real child process
@pytest.fixture
def engine():
    e = EngineProcess()
    yield e
    e.close()


def _drive(engine, objective, runs, speed=0.0, pause_after_frames=None):
    """Run ``runs`` in the engine; returns (frames, error)."""
    by_id = dict(runs)
    job = engine.run(objective, runs, speed)
    frames = 0
    while True:
        msg = engine.receive()
        assert isinstance(msg, (Frame, Done)) and msg.job == job
        for update in msg.runs:
            update.absorb_into(by_id[update.run_id])
        if isinstance(msg, Done):
            return frames, msg.error
        frames += 1
        if pause_after_frames is not None and frames == pause_after_frames:
            engine.pause()


def test_the_engine_process_gives_the_same_runs_bit_for_bit(engine):
    rosen = get_function("rosenbrock")

    def make():
        return [(i, Descent(rosen, make_optimizer(opt, lr=lr), [-1.5, 2.0], max_steps=40_000))
                for i, (opt, lr) in enumerate([("sgd", 1e-3), ("adam", 0.01), ("adagrad", 0.1)])]

    direct = make()
    for _, d in direct:
        d.run()
    runs = make()
    frames, error = _drive(engine, rosen, runs, pause_after_frames=1)  # pause ...
    assert error is None and frames >= 1
    assert not all(d.finished for _, d in runs)
    frames, error = _drive(engine, rosen, runs)  # ... and resume
    assert error is None
    for (_, a), (_, b) in zip(runs, direct):
        _same(a, b)


def test_a_huber_delta_travels_with_the_pickled_objective():
    obj = dataset_objective("noisy-line", "linear", "huber", huber_delta=0.25)
    copy = pickle.loads(pickle.dumps(obj))
    assert copy.loss.delta == 0.25 and copy.loss.title == "Huber (δ = 0.25)"
    p = np.array([[0.3, 2.0], [4.0, -1.0]])  # residuals on both sides of ±0.25
    np.testing.assert_array_equal(copy.value_and_grad(p)[0], obj.value_and_grad(p)[0])
    default = dataset_objective("noisy-line", "linear", "huber")
    assert not np.array_equal(default.value_and_grad(p)[0], obj.value_and_grad(p)[0])


def test_the_engine_process_runs_typed_formulas_and_datasets(engine):
    for objective, batch in ((expression_objective("x^2*sin(y) + y^2/10"), None),
                             (dataset_objective("fence", "quadratic", "huber"), 3),
                             (dataset_objective("fence", "quadratic", "huber",
                                                huber_delta=40.0), None)):
        direct, away = (Descent(objective, make_optimizer("adam", lr=0.05), [1.0, 1.0],
                                max_steps=3000, batch_size=batch, seed=2) for _ in range(2))
        direct.run()
        assert _drive(engine, objective, [(1, away)])[1] is None
        _same(away, direct)


def test_an_objective_that_fails_to_load_fails_its_run_and_the_engine_goes_on(engine):
    good = expression_objective("x^2 + y^2")
    bad = expression_objective("x^2 + y^2")
    bad._expression = dataclasses.replace(bad._expression, text="x +")  # will not parse there
    d = Descent(bad, make_optimizer("sgd", lr=0.1), [1.0, 1.0], max_steps=100)
    frames, error = _drive(engine, bad, [(1, d)])
    assert error is not None and "stopped with an error" in error
    assert d.t == 0  # nothing was absorbed
    d = Descent(good, make_optimizer("sgd", lr=0.1), [1.0, 1.0], max_steps=100)
    assert _drive(engine, good, [(1, d)])[1] is None
    assert d.status == "max_steps"


def test_a_killed_engine_process_is_reported_and_replaced(engine):
    rosen = get_function("rosenbrock")
    d = Descent(rosen, make_optimizer("adam", lr=0.01), [-1.5, 2.0], max_steps=50_000_000)
    engine.run(rosen, [(1, d)], 0.0)
    engine.receive()  # it is running
    engine.kill()
    with pytest.raises(EngineProcessError, match="stopped unexpectedly"):
        while True:
            engine.receive()
    d2 = Descent(rosen, make_optimizer("adam", lr=0.01), [-1.5, 2.0], max_steps=500)
    assert _drive(engine, rosen, [(1, d2)])[1] is None  # a new process took over
    assert d2.status == "max_steps"


def test_unpicklable_runs_are_refused_before_anything_is_sent(engine):
    rosen = get_function("rosenbrock")
    d = Descent(rosen, make_optimizer("adam", lr=0.01), [-1.5, 2.0], max_steps=100)
    d.schedule.lr = lambda t: 0.01  # a lambda cannot be pickled
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        engine.run(rosen, [(1, d)], 0.0)
    ok = Descent(rosen, make_optimizer("adam", lr=0.01), [-1.5, 2.0], max_steps=100)
    assert _drive(engine, rosen, [(1, ok)])[1] is None


# ------------------------------------------------------------------ malformed input
def _frame_bytes(message) -> bytes:
    data = message if isinstance(message, bytes) else \
        pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("<Q", len(data)) + data


class _Call:
    """Pickles as ``cls(*args)``: a message whose fields its constructor would refuse."""

    def __init__(self, cls, *args):
        self.cls, self.args = cls, args

    def __reduce__(self):
        return self.cls, self.args


def _with_state(message, state: dict) -> bytes:
    """The pickle of ``message``, then a BUILD that sets ``state`` on what it made."""
    data = pickle.dumps(message, protocol=2)
    return data[:-1] + pickle.dumps(state, protocol=2)[2:-1] + pickle.BUILD + pickle.STOP


#: (what is written, whether stdin is then closed); every one must end the child at once
#: with EXIT_PROTOCOL_ERROR and one line on stderr
MALFORMED = {
    "empty tuple": (_frame_bytes(()), False),
    "not a tuple": (_frame_bytes("pause"), False),
    "a list": (_frame_bytes(["pause"]), False),
    "unknown command": (_frame_bytes(("fly", 1)), False),
    "command not a string": (_frame_bytes((7,)), False),
    "run missing fields": (_frame_bytes(("run", 1)), False),
    "run job not a number": (_frame_bytes(("run", "one", 0.0, b"")), False),
    "speed not a number": (_frame_bytes(("speed", "fast")), False),
    "speed not finite": (_frame_bytes(("speed", float("nan"))), False),
    "pause with arguments": (_frame_bytes(("pause", 1, 2)), False),
    "objective not bytes": (_frame_bytes(("objective", 3)), False),
    "a global inside a command": (_frame_bytes(("speed", os.getpid)), False),
    "garbage after a header": (struct.pack("<Q", 6) + b"\x00junk!", False),
    "garbage bytes": (b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8 not a frame", False),
    "a header announcing 2**60 bytes": (struct.pack("<Q", 1 << 60), False),
    "truncated length prefix": (b"\x05\x00\x00", True),
    "truncated message": (struct.pack("<Q", 100) + b"abc", True),
    # the typed commands, with fields their checks refuse
    "SetSpeed not a number": (_frame_bytes(_Call(SetSpeed, "fast")), False),
    "SetSpeed a bool": (_frame_bytes(_Call(SetSpeed, True)), False),
    "SetSpeed negative": (_frame_bytes(_Call(SetSpeed, -1.0)), False),
    "SetSpeed infinite": (_frame_bytes(_Call(SetSpeed, float("inf"))), False),
    "SetSpeed missing its field": (_frame_bytes(_Call(SetSpeed)), False),
    "RunJob job a str": (_frame_bytes(_Call(RunJob, "one", 0.0, b"")), False),
    "RunJob job a float": (_frame_bytes(_Call(RunJob, 1.0, 0.0, b"")), False),
    "RunJob speed nan": (_frame_bytes(_Call(RunJob, 1, float("nan"), b"")), False),
    "RunJob runs not bytes": (_frame_bytes(_Call(RunJob, 1, 0.0, [])), False),
    "RunJob a field too many": (_frame_bytes(_Call(RunJob, 1, 0.0, b"", 4)), False),
    "LoadObjective not bytes": (_frame_bytes(_Call(LoadObjective, 3)), False),
    "Pause with a field": (_frame_bytes(_Call(Pause, 1)), False),
    "a function as a field": (_frame_bytes(_Call(SetSpeed, os.getpid)), False),
    "fields changed after the checks": (
        _frame_bytes(_with_state(SetSpeed(1.0), {"steps_per_second": "fast"})), False),
    # classes that are not commands
    "a reply sent as a command": (_frame_bytes(Done(1, (), None)), False),
    "the heartbeat sent as a command": (_frame_bytes(Alive()), False),
    "a live state sent as a command": (_frame_bytes(LiveState(("t",), (1,))), False),
    "a class of another module": (_frame_bytes(_Call(collections.OrderedDict)), False),
    "an unknown class of the protocol module": (
        _frame_bytes(b"\x80\x02cgd_explorer.core.engine.protocol\nLaunch\n)\x81."), False),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_frame_ends_the_child_at_once_with_a_reason(case):
    data, close = MALFORMED[case]
    proc = subprocess.Popen([sys.executable, "-m", "gd_explorer.core.engine.process"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        # a well-formed command first: the stream was fine until the bad frame
        proc.stdin.write(_frame_bytes(SetSpeed(10.0)) + data)
        proc.stdin.flush()
        if close:
            proc.stdin.close()
        status = proc.wait(timeout=20)  # before: the child kept running (TimeoutExpired)
        err = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if not stream.closed:
                stream.close()
    assert status == EXIT_PROTOCOL_ERROR
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gd-explorer engine process:"), err
    assert "Traceback" not in err


def test_a_closed_stdin_at_a_message_boundary_is_a_clean_exit():
    proc = subprocess.Popen([sys.executable, "-m", "gd_explorer.core.engine.process"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate(_frame_bytes(SetSpeed(10.0)) + _frame_bytes(Pause()),
                                timeout=20)
    assert proc.returncode == 0, err
    assert err == b""


# ------------------------------------------------------------------ a silent child
def _long_run(engine):
    rosen = get_function("rosenbrock")
    d = Descent(rosen, make_optimizer("adam", lr=0.01), [-1.5, 2.0], max_steps=50_000_000)
    engine.run(rosen, [(1, d)], 0.0)
    assert isinstance(engine.receive(), Frame)  # it is running
    return engine.pid


@pytest.fixture
def stopped(engine):
    """SIGSTOP the engine's child; continued and killed at the end, or after 15 s."""
    if not hasattr(signal, "SIGSTOP"):
        pytest.skip("no SIGSTOP here")
    with stopping(15.0) as stop:
        yield stop


def test_a_stopped_child_is_noticed_within_seconds_and_killed(engine, stopped):

    pid = _long_run(engine)
    stopped(pid)
    t0 = time.perf_counter()
    with pytest.raises(EngineProcessError, match="stopped answering"):
        while True:  # the frames already on their way, then the silence
            engine.receive()
    assert time.perf_counter() - t0 < PACING.silence_seconds + 3  # before: blocked until killed
    deadline = time.monotonic() + 5
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gone(pid)  # killed and reaped, not left stopped
    d = Descent(get_function("bowl"), make_optimizer("sgd", lr=0.1), [1.0, 1.0], max_steps=50)
    assert _drive(engine, get_function("bowl"), [(1, d)])[1] is None  # a fresh child
    assert engine.pid != pid


def test_pause_and_speed_never_block_on_a_stopped_child(engine, stopped):
    stopped(_long_run(engine))
    t0 = time.perf_counter()
    for i in range(5000):  # far more than a pipe holds: the writes used to block here
        engine.set_speed(float(i % 7))
        engine.pause()
    assert time.perf_counter() - t0 < 2.0


def test_a_step_slower_than_the_silence_limit_is_not_taken_for_a_hang(engine, monkeypatch):
    from tests.core.slow_objective import SlowBowl

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [
        root, os.environ.get("PYTHONPATH")])))  # the child unpickles SlowBowl from here
    slow = SlowBowl(name="slow bowl", names=("x", "y"), seconds=PACING.silence_seconds + 0.5)
    d = Descent(slow, make_optimizer("sgd", lr=0.1), [1.0, 1.0], max_steps=1)
    frames, error = _drive(engine, slow, [(1, d)])  # the heartbeat keeps it trusted
    assert error is None and d.t == 1


def test_two_threads_starting_the_engine_at_once_start_one_child(monkeypatch):
    import gd_explorer.core.engine.process as ep

    started = []
    real = subprocess.Popen

    def slow_popen(*args, **kwargs):  # widens the window between "not alive" and "started"
        time.sleep(0.05)
        proc = real(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(ep.subprocess, "Popen", slow_popen)
    engine = EngineProcess()
    try:
        barrier = threading.Barrier(2)

        def start():
            barrier.wait()
            engine.start()

        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(started) == 1  # before: two children, the first one orphaned
    finally:
        engine.close()
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_child_stopped_while_idle_is_replaced_by_the_next_run(engine, stopped):

    bowl = get_function("bowl")
    d = Descent(bowl, make_optimizer("sgd", lr=0.1), [1.0, 1.0], max_steps=50)
    assert _drive(engine, bowl, [(1, d)])[1] is None
    pid = engine.pid
    stopped(pid)
    time.sleep(PACING.silence_seconds + 0.3)  # idle and silent: nobody was waiting for it
    d = Descent(bowl, make_optimizer("sgd", lr=0.1), [1.0, 1.0], max_steps=50)
    assert _drive(engine, bowl, [(1, d)])[1] is None  # before: "stopped answering"
    assert engine.pid != pid
