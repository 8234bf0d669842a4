"""The background jobs' base: one answer per request, stale and cancelled answers dropped,
failure texts, throttled progress; driven by a fake compute function on the real thread."""

import threading
from dataclasses import dataclass, field

import pytest

from gd_explorer.model.jobs import BackgroundJob


class FakeCancelled(Exception):
    pass


@dataclass(frozen=True)
class FakeRequest:
    job: int
    value: object
    gate: threading.Event | None = None  # the computation waits for it
    steps: int = 0  # report(i / steps) for i = 0..steps
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)


def fake_compute(request: FakeRequest, report):
    """Doubles ``value``; waits for the gate, reports, raises what it is given."""
    if request.gate is not None:
        assert request.gate.wait(10), "the test never opened the gate"
    for i in range(request.steps + 1):
        if not report(i / max(request.steps, 1)):
            raise FakeCancelled
    if isinstance(request.value, BaseException):
        raise request.value
    return 2 * request.value


class FakeJob(BackgroundJob):
    thread_name = "fakeJobThread"
    cancelled_error = FakeCancelled
    failure_prefix = "cannot fake: "
    unexpected_prefix = "fake failed: "
    cancel_text = "fake cancelled"

    def __init__(self):
        super().__init__(fake_compute)
        self.last = None

    def start(self, value, gate=None, steps=0) -> int:
        return self._submit(lambda job: FakeRequest(job, value, gate, steps))

    def _accept(self, result) -> None:
        self.last = result


class Recorder:
    """Every signal of a job, in order, as (name, payload)."""

    def __init__(self, job: BackgroundJob):
        self.events = []
        for name in ("busy_changed", "progress", "finished", "cancelled", "failed"):
            getattr(job, name).connect(lambda v, n=name: self.events.append((n, v)))

    def of(self, name: str) -> list:
        return [v for n, v in self.events if n == name]


@pytest.fixture
def job(qapp):
    job = FakeJob()
    yield job
    job.stop()
    job.thread.quit()
    assert job.thread.wait(10_000)


def _idle(job, qtbot):
    qtbot.waitUntil(lambda: not job.busy, timeout=10_000)
    qtbot.wait(50)  # any late (stale) answer would arrive now


def test_an_answer_is_finished_and_kept(job, qtbot):
    seen = Recorder(job)
    with qtbot.waitSignal(job.finished, timeout=10_000) as blocker:
        job.start(21)
    assert blocker.args == [42] and job.last == 42 and not job.busy
    assert seen.events == [("busy_changed", True), ("progress", 0.0), ("progress", 0.0),
                           ("busy_changed", False), ("finished", 42)]


def test_a_newer_request_drops_the_older_answer(job, qtbot):
    """The first request finishes first (the worker is serial) while the second is the
    current one: its answer must never be shown. Fails without the request-id check."""
    seen = Recorder(job)
    gate = threading.Event()
    first = job.start(1, gate)
    second = job.start(5, gate)
    gate.set()
    _idle(job, qtbot)
    assert first != second
    assert seen.of("finished") == [10] and job.last == 10
    assert seen.of("busy_changed") == [True, False]  # one busy spell for both
    assert seen.of("cancelled") == []  # the dropped request says nothing


def test_cancel_from_outside_ends_at_once_and_drops_the_answer(job, qtbot):
    seen = Recorder(job)
    gate = threading.Event()
    job.start(3, gate)
    job.cancel()
    assert not job.busy and seen.of("cancelled") == ["fake cancelled"]
    assert seen.of("busy_changed") == [True, False]
    gate.set()
    qtbot.wait(200)
    assert seen.of("finished") == [] and job.last is None  # the old picture stays
    assert seen.of("cancelled") == ["fake cancelled"]  # said once


def test_cancel_from_inside_says_the_cancel_text(job, qtbot):
    seen = Recorder(job)
    with qtbot.waitSignal(job.cancelled, timeout=10_000) as blocker:
        job.start(FakeCancelled())
    assert blocker.args == ["fake cancelled"] and not job.busy
    assert seen.of("finished") == [] and seen.of("failed") == []


def test_a_cancelling_job_waits_for_the_workers_answer(qapp, qtbot):
    class WaitingJob(FakeJob):
        cancel_waits = True

    job = WaitingJob()
    try:
        seen = Recorder(job)
        gate = threading.Event()
        job.start(3, gate, steps=10)
        job.cancel()
        assert job.busy and seen.of("cancelled") == []  # nothing said before the answer
        gate.set()
        _idle(job, qtbot)
        assert seen.of("cancelled") == ["fake cancelled"] and seen.of("finished") == []
        assert seen.of("busy_changed") == [True, False]
    finally:
        job.stop()
        job.thread.quit()
        assert job.thread.wait(10_000)


@pytest.mark.parametrize(("error", "text"), [
    (ValueError("start point must be finite"), "cannot fake: start point must be finite"),
    (ZeroDivisionError("division by zero"), "cannot fake: division by zero"),
    (ValueError(), "cannot fake: ValueError"),
    (KeyError("w"), "cannot fake: fake failed: KeyError: 'w'"),
])
def test_a_failure_is_one_line_of_text(job, qtbot, error, text):
    seen = Recorder(job)
    with qtbot.waitSignal(job.failed, timeout=10_000) as blocker:
        job.start(error)
    assert blocker.args == [text] and not job.busy and job.last is None
    job.start(4)  # the thread goes on
    _idle(job, qtbot)
    assert seen.of("finished") == [8]


def test_progress_at_most_once_per_step(qapp, qtbot):
    class SteppedJob(FakeJob):
        progress_step = 0.1

    job = SteppedJob()
    try:
        seen = Recorder(job)
        with qtbot.waitSignal(job.finished, timeout=10_000):
            job.start(1, steps=1000)
        reported = seen.of("progress")[1:]  # after start's own 0.0
        gaps = [b - a for a, b in zip(reported, reported[1:], strict=False)]
        assert reported[0] == 0.0 and reported[-1] > 0.89 and 10 <= len(reported) <= 11
        assert min(gaps) >= 0.1 - 1e-12 and max(gaps) < 0.1 + 2e-3  # 1001 reports, ~10 sent
    finally:
        job.stop()
        job.thread.quit()
        assert job.thread.wait(10_000)


def test_progress_at_most_once_per_interval(qapp, qtbot):
    class SlowJob(FakeJob):
        progress_interval = 3600.0  # seconds: only the first report is sent

    job = SlowJob()
    try:
        seen = Recorder(job)
        with qtbot.waitSignal(job.finished, timeout=10_000):
            job.start(1, steps=1000)
        assert seen.of("progress") == [0.0, 0.0]  # start's and the first report's
    finally:
        job.stop()
        job.thread.quit()
        assert job.thread.wait(10_000)


def test_stop_drops_the_answer_silently(job, qtbot):
    seen = Recorder(job)
    gate = threading.Event()
    job.start(3, gate)
    job.stop()
    gate.set()
    qtbot.wait(200)
    assert not job.busy
    assert seen.events == [("busy_changed", True), ("progress", 0.0)]


# ------------------------------------------------------------------ the slow surface on it
@pytest.fixture
def gated_surface(monkeypatch, tmp_path):
    """A CSV big enough that MAE on it is a slow surface, and the thread's surface_grid
    replaced by one that waits for a gate and answers a grid full of its call number."""
    import numpy as np

    import gd_explorer.model.surface_job as surface_job

    rng = np.random.default_rng(3)
    x = rng.uniform(-2.0, 2.0, surface_job.HOVER_EXACT_MAX_POINTS + 5_000)
    path = tmp_path / "big.csv"
    np.savetxt(path, np.column_stack([x, 1.5 * x - 0.5]), delimiter=",", header="x,y",
               comments="")
    gate, calls, original = threading.Event(), [], surface_job.surface_grid

    def gated(objective, axes, fixed, xs, ys, progress=None):
        if progress is None:  # the fast path, on the UI thread
            return original(objective, axes, fixed, xs, ys)
        calls.append(len(calls) + 1)
        number = calls[-1]
        assert gate.wait(10)
        progress(0.5)  # answers its grid even when cancelled: the job must drop it
        return np.full((len(ys), len(xs)), float(number))

    monkeypatch.setattr(surface_job, "surface_grid", gated)
    return str(path), gate, calls


def test_cancelling_a_slow_surface_from_the_status_bar(window, qtbot, gated_surface):
    from PySide6.QtCore import Qt

    from gd_explorer.core.session.specs import ProblemSpec

    path, gate, _ = gated_surface
    w, changed = window, []
    w.model.set_problem(ProblemSpec(kind="dataset", dataset=path, loss="mae"))
    w.model.surface_changed.connect(lambda: changed.append(w.model.surface))
    assert w.model.surface[2] is None and w.cancel_surface.isVisibleTo(w)
    qtbot.mouseClick(w.cancel_surface, Qt.MouseButton.LeftButton)
    assert "surface computation cancelled" in w.statusBar().currentMessage()
    assert not w.cancel_surface.isVisibleTo(w)
    gate.set()
    qtbot.wait(200)
    assert changed == [] and w.model.surface[2] is None  # the late grid is dropped


def test_a_newer_slow_surface_drops_the_older_grid(model, qtbot, gated_surface):
    """The first request's computation is under way (it has been called) when the window
    changes; its grid arrives after the second request was made and must never be shown."""
    from gd_explorer.core.session.specs import ProblemSpec

    path, gate, calls = gated_surface
    shown = []
    model.surface_changed.connect(lambda: shown.append(model.surface[2]))
    model.set_problem(ProblemSpec(kind="dataset", dataset=path, loss="mae"))
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=10_000)  # the first one is computing
    model.set_surface_window(((-1.0, 1.0), (-1.0, 1.0)))
    gate.set()
    qtbot.waitUntil(lambda: model.surface[2] is not None, timeout=10_000)
    qtbot.wait(100)
    xs, _, z, _ = model.surface
    assert len(calls) == 2 and (xs[0], xs[-1]) == (-1.0, 1.0)
    assert (z == 2.0).all()  # the last request's grid
    assert not any(g is not None and (g == 1.0).all() for g in shown)  # the first never shown
