"""A stopped (SIGSTOPped) engine process, and steps slower than a pause may wait: the UI
never waits for them, the failure reaches the user, the rows reached are kept, and no two
threads ever touch the descents at once."""

import dataclasses
import os
import signal
import threading
import time

import numpy as np
import pytest

from gd_explorer.core.engine.pacing import PACING
from gd_explorer.core.engine.process import shared_engine
from gd_explorer.core.problems.objectives import Objective
from gd_explorer.model.worker import ENGINE_ENV
from tests.processes import gone
from tests.qtsupport import race_session

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="no SIGSTOP here")



def _running_far(model, qtbot, rows=1000):
    model.start_running()
    qtbot.waitUntil(lambda: min(s.n for s in model.snapshots()) > rows, timeout=20_000)
    assert model._worker.used_process


def _consistent(model):
    """Published rows and descent state agree (nothing half-absorbed)."""
    return [r.descent.t + 1 for r in model.runs] == [s.n for s in model.snapshots()] == \
        [r.descent.n_rows for r in model.runs]


def test_pause_with_a_stopped_engine_returns_at_once_and_the_hang_is_reported(
        model, qtbot, stop_engine):
    model.apply_session(race_session(50_000_000))
    _running_far(model, qtbot)
    pid = stop_engine()
    stopped_at = time.perf_counter()
    with qtbot.waitSignal(model.failed, timeout=15_000) as blocker:
        t0 = time.perf_counter()
        model.pause()
        took = time.perf_counter() - t0
    assert took < 1.0  # before: 5 s waiting for an answer, then a kill
    assert not model.running
    assert "stopped answering" in blocker.args[0]
    assert "keep what they had reached" in blocker.args[0]
    assert time.perf_counter() - stopped_at < PACING.silence_seconds + 4
    qtbot.waitUntil(lambda: gone(pid), timeout=5000)  # killed and reaped
    assert _consistent(model)
    kept = [s.n for s in model.snapshots()]
    assert min(kept) > 1000
    model.set_limits(max_steps=max(kept) + 500)
    model.start_running()  # a fresh engine process takes over from the rows kept
    qtbot.waitUntil(lambda: not model.running, timeout=30_000)
    assert model._worker.used_process and shared_engine().pid != pid
    assert {s.status for s in model.snapshots()} == {"max_steps"}


def test_shutdown_with_a_stopped_engine_returns_at_once(qapp, qtbot, stop_engine):
    from gd_explorer.model.explorer import ExplorerModel
    from gd_explorer.model.threads import running_threads

    m = ExplorerModel()
    try:
        m.apply_session(race_session(50_000_000))
        _running_far(m, qtbot)
        pid = stop_engine()
        t0 = time.perf_counter()
        m.shutdown()
        took = time.perf_counter() - t0
    finally:
        m.shutdown()
    assert took < 1.0  # before: 5 s, then QThread.terminate
    assert running_threads() == []
    qtbot.waitUntil(lambda: gone(pid), timeout=5000)


def test_an_answer_arriving_after_the_pause_gave_up_waiting_is_dropped(
        model, qtbot, stop_engine):
    # The child is stopped for 1.5 s (less than the silence limit), so the pause gives up
    # waiting, the UI steps the descents itself, and then the child's "done" arrives: it
    # must not be absorbed on top of the step.  The runs still end bit for bit as a
    # direct run.
    session = race_session(40_000)
    model.apply_session(session)
    _running_far(model, qtbot)
    pid = stop_engine()
    threading.Timer(1.5, os.kill, (pid, signal.SIGCONT)).start()
    t0 = time.perf_counter()
    model.pause()
    assert time.perf_counter() - t0 < 1.0  # before: until the child answered (1.5 s)
    assert _consistent(model)
    assert model.step() == 3
    assert _consistent(model)
    qtbot.waitUntil(lambda: not model._worker.busy, timeout=10_000)  # the answer came
    assert _consistent(model)
    model.start_running()
    qtbot.waitUntil(lambda: not model.running, timeout=30_000)
    objective = session.problem.build()
    for i, snap in enumerate(model.snapshots()):
        direct = session.descent(i, objective)
        direct.run()
        params, loss, grad, lr = direct.views(0)
        np.testing.assert_array_equal(snap.params, params)
        np.testing.assert_array_equal(snap.loss, loss)
        np.testing.assert_array_equal(snap.grad, grad)
        np.testing.assert_array_equal(snap.lr, lr)


@dataclasses.dataclass
class SlowInWorker(Objective):
    """x² + y², each evaluation off the main thread taking ``seconds`` (a huge dataset)."""

    seconds: float = 0.0

    def value_and_grad(self, p, index=None):
        if threading.current_thread() is not threading.main_thread():
            time.sleep(self.seconds)
        p = np.asarray(p, dtype=np.float64)
        return (p * p).sum(axis=-1), 2 * p


def test_in_the_worker_thread_a_pause_does_not_wait_for_a_slow_step(
        model, qtbot, monkeypatch):
    monkeypatch.setenv(ENGINE_ENV, "thread")
    model.objective = SlowInWorker(name="slow", names=("x", "y"), seconds=1.5)
    model._rebuild_descents()
    model.start_running()
    qtbot.wait(300)  # inside the first (slow) step
    t0 = time.perf_counter()
    model.pause()
    assert time.perf_counter() - t0 < 1.0  # before: until the step ended (1.5 s)
    assert model.step() == 3  # the UI's own step, while the worker's one goes on
    assert _consistent(model)
    qtbot.waitUntil(lambda: not model._worker.busy, timeout=10_000)
    assert _consistent(model)  # the worker's late step was dropped, not absorbed
    assert [s.n for s in model.snapshots()] == [2, 2, 2]
