"""Runs advance in the engine process by default, in the worker thread as a fallback;
both give the same trajectories, and failures in either reach the UI."""

import dataclasses

import numpy as np
import pytest

from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session
from gd_explorer.model.worker import ENGINE_ENV


def _race(max_steps=20_000):
    return Session(problem=ProblemSpec(kind="function", function="rosenbrock"),
                   runs=(RunSpec(optimizer="sgd", lr=1e-3, hyper={"momentum": 0.9}),
                         RunSpec(optimizer="adam", lr=0.01),
                         RunSpec(optimizer="rmsprop", lr=1e-3)),
                   start=(-1.5, 2.0), max_steps=max_steps, tol=0.0)


def _run_to_end(model, qtbot):
    model.start_running()
    qtbot.waitUntil(lambda: not model.running, timeout=60_000)


def _rows(model):
    return [(s.params.copy(), s.loss.copy(), s.grad.copy(), s.lr.copy(), s.status)
            for s in model.snapshots()]


def test_process_and_thread_give_the_same_runs(model, qtbot, monkeypatch):
    model.apply_session(_race())
    _run_to_end(model, qtbot)
    assert model._worker.used_process
    in_process = _rows(model)
    monkeypatch.setenv(ENGINE_ENV, "thread")
    model.reset()
    _run_to_end(model, qtbot)
    assert not model._worker.used_process
    for a, b in zip(in_process, _rows(model), strict=True):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert {r[4] for r in in_process} == {"max_steps"}


def test_pause_and_resume_in_the_process_lose_nothing(model, qtbot):
    model.apply_session(_race(3_000_000))
    model.start_running()
    qtbot.waitUntil(lambda: max(s.n for s in model.snapshots()) > 2000, timeout=20_000)
    model.pause()
    assert not model.running
    paused = [s.n for s in model.snapshots()]
    assert [r.descent.t + 1 for r in model.runs] == paused  # state and rows agree
    assert model.step() == 3  # a step after the pause continues from the last row
    assert [s.n for s in model.snapshots()] == [n + 1 for n in paused]
    model.start_running()
    qtbot.wait(200)
    model.pause()
    assert all(s.n > n + 1 for s, n in zip(model.snapshots(), paused))


def test_an_error_in_the_engine_process_reaches_the_ui_and_recovers(model, qtbot):
    model.set_problem(ProblemSpec(kind="function", function="x^2 + y^2"))
    objective = model.objective
    # the process rebuilds typed formulas from their text: make that text unparsable
    objective._expression = dataclasses.replace(objective._expression, text="x +")
    with qtbot.waitSignal(model.failed, timeout=20_000) as blocker:
        model.start_running()
    assert "stopped with an error" in blocker.args[0]
    qtbot.waitUntil(lambda: not model.running, timeout=5000)
    assert model.step() == 3  # the window goes on


def test_a_dead_engine_process_is_reported_and_the_rows_are_kept(model, qtbot):
    from gd_explorer.core.engine.process import shared_engine

    model.apply_session(_race(50_000_000))
    model.start_running()
    qtbot.waitUntil(lambda: max(s.n for s in model.snapshots()) > 1000, timeout=20_000)
    with qtbot.waitSignal(model.failed, timeout=10_000) as blocker:
        shared_engine().kill()
    assert "stopped unexpectedly" in blocker.args[0]
    qtbot.waitUntil(lambda: not model.running, timeout=5000)
    kept = [s.n for s in model.snapshots()]
    assert min(kept) > 1000
    assert [r.descent.t + 1 for r in model.runs] == kept
    model.set_limits(max_steps=max(kept) + 500)
    _run_to_end(model, qtbot)  # a new engine process takes over
    assert model._worker.used_process
    assert {s.status for s in model.snapshots()} == {"max_steps"}


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_paced_runs_advance_in_either_mode(model, qtbot, monkeypatch, mode):
    monkeypatch.setenv(ENGINE_ENV, mode)
    model.set_speed(400)
    model.start_running()
    qtbot.waitUntil(lambda: min(s.n for s in model.snapshots()) > 5, timeout=10_000)
    model.pause()
    assert model._worker.used_process == (mode == "process")


def _messages(model):
    seen = []
    model.message.connect(seen.append)
    return seen


def test_a_busy_engine_process_falls_back_with_a_message_once(model, qtbot):
    from gd_explorer.core.engine.process import shared_engine

    seen = _messages(model)
    engine = shared_engine()
    assert engine.acquire()  # another window's runs are over there
    try:
        for _ in range(2):
            model.start_running()
            qtbot.waitUntil(lambda: min(s.n for s in model.snapshots()) > 5, timeout=10_000)
            model.pause()
            assert not model._worker.used_process
    finally:
        engine.release()
    qtbot.wait(20)
    fallbacks = [m for m in seen if m.startswith("runs advance in the window's process")]
    assert fallbacks == ["runs advance in the window's process: another window's runs are "
                         "using the engine process"]  # before: nothing said


def test_an_engine_process_that_cannot_start_falls_back_with_the_reason(
        model, qtbot, monkeypatch):
    import gd_explorer.core.engine.process as ep

    engine = ep.shared_engine()
    engine.kill()
    qtbot.waitUntil(lambda: not engine.alive, timeout=5000)
    monkeypatch.setattr(ep.sys, "executable", "/nonexistent/python")
    seen = _messages(model)
    model.start_running()
    qtbot.waitUntil(lambda: min(s.n for s in model.snapshots()) > 5, timeout=10_000)
    model.pause()
    assert not model._worker.used_process
    qtbot.wait(20)
    assert any(m.startswith("runs advance in the window's process: cannot start the engine "
                            "process") for m in seen), seen


def _stateful(max_steps=6000):
    """A Plateau run (state that follows the loss) and runs with cycled momentum/beta1."""
    return Session(
        problem=ProblemSpec(kind="function", function="rosenbrock"),
        runs=(RunSpec(optimizer="sgd", lr=1e-3, hyper={"momentum": 0.9}, schedule="plateau",
                      schedule_params={"factor": 0.5, "patience": 3, "threshold": 0.02,
                                       "cooldown": 2, "min_lr": 1e-6}),
              RunSpec(optimizer="sgd", lr=2e-3, hyper={"momentum": 0.5}, schedule="onecycle",
                      schedule_params={"total_steps": max_steps}),
              RunSpec(optimizer="adam", lr=2e-3, schedule="cyclic",
                      schedule_params={"max_lr": 0.02, "step_size_up": 500,
                                       "mode": "triangular2"}, warmup=0),
              RunSpec(optimizer="sgd", lr=1e-3, schedule="cosine", warmup=300,
                      schedule_params={"t_max": 2000})),
        start=(-1.5, 2.0), max_steps=max_steps, tol=0.0)


def _direct_rows(session):
    out = []
    for i in range(len(session.runs)):
        traj = session.descent(i).run()
        out.append((traj.params, traj.loss, traj.grad, traj.lr, traj.status))
    return out


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_stateful_schedules_cross_the_process_boundary_bit_for_bit(model, qtbot, monkeypatch,
                                                                    mode):
    """Paused in the middle (state back in this process), stepped here, resumed there:
    the same rows as one direct run, for a Plateau run and runs cycling momentum."""
    monkeypatch.setenv(ENGINE_ENV, mode)
    session = _stateful()
    model.apply_session(session)
    model.start_running()
    qtbot.waitUntil(lambda: min(s.n for s in model.snapshots()) > 1500, timeout=30_000)
    model.pause()
    for _ in range(7):
        model.step()  # in this process, from the state the engine sent back
    _run_to_end(model, qtbot)
    assert model._worker.used_process == (mode == "process")
    plateau = model.runs[0].descent.schedule
    assert plateau.name == "plateau" and plateau._t == session.max_steps
    rows = _rows(model)
    assert len(set(rows[0][3].tolist())) > 3  # the plateau rule acted
    for a, b in zip(_direct_rows(session), rows, strict=True):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_every_optimizer_runs_in_the_engine_process_as_in_the_thread(model, qtbot, monkeypatch):
    """The registry through the app's engine: each optimizer's run, its state (LBFGS's
    history, ASGD's averaged point) crossing the process boundary, equals the thread's."""
    from gd_explorer.core.limits import MAX_RUNS
    from gd_explorer.core.optim.optimizers import OPTIMIZERS

    def fit_only(n):  # Gauss–Newton, LM: a least-squares fit, not Rosenbrock
        return OPTIMIZERS[n].unmet_needs(least_squares=False, full_batch=True) is not None

    groups = [[n for n in OPTIMIZERS if not fit_only(n)], [n for n in OPTIMIZERS if fit_only(n)]]
    assert groups[1], "the fit-only group is empty: the test no longer covers it"
    chunks = [(g[i:i + MAX_RUNS], g is groups[1]) for g in groups for i in range(0, len(g), MAX_RUNS)]
    for chunk, fit in chunks:
        problem = ProblemSpec(kind="dataset", dataset="noisy-line") if fit else \
            ProblemSpec(kind="function", function="rosenbrock")
        session = Session(problem=problem, start=(0.0, 0.0) if fit else (-1.5, 2.0),
                          max_steps=300, tol=0.0,
                          runs=tuple(RunSpec(optimizer=n, lr=OPTIMIZERS[n].default_lr(1e-3, 1e-2))
                                     for n in chunk))
        monkeypatch.delenv(ENGINE_ENV, raising=False)
        model.apply_session(session)
        _run_to_end(model, qtbot)
        assert model._worker.used_process
        in_process = _rows(model)
        states = [s.state for s in model.snapshots()]
        monkeypatch.setenv(ENGINE_ENV, "thread")
        model.reset()
        _run_to_end(model, qtbot)
        for name, a, b in zip(chunk, in_process, _rows(model), strict=True):
            assert a[4] in ("max_steps", "converged"), (name, a[4])
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y, err_msg=name)
        for name, state, snap in zip(chunk, states, model.snapshots(), strict=True):
            assert set(state) == set(snap.state), name
            for key in state:
                np.testing.assert_array_equal(state[key], snap.state[key], err_msg=name)
