"""Loss landscapes off the UI thread: one at a time, with progress and cancel.

:class:`LandscapeJob` (owned by :class:`~gd_explorer.model.explorer.ExplorerModel`)
sends a frozen :class:`LandscapeRequest` (the objective, the selected run's path up to
the row shown, the mode, seed and resolution, the event that cancels it) to a worker on
the ``landscapeThread``, which runs :mod:`gd_explorer.core.lab.landscape` and answers
with exactly one of ``finished``, ``cancelled`` or ``failed`` tagged with the request id:
a stale answer (a newer request was made) is dropped, and a cancelled or failed one
leaves :attr:`LandscapeJob.last` (the picture shown) as it was.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.core.lab.landscape import (
    DEFAULT_RESOLUTION,
    LANDSCAPE_MODES,
    Interpolation,
    LandscapeCancelled,
    PlaneGrid,
    TrajectoryPlane,
    interpolation,
    plane_grid,
    random_plane,
    trajectory_plane,
    trajectory_span,
)
from gd_explorer.core.problems.objectives import Objective
from gd_explorer.model.threads import new_thread

#: at most this often a progress signal (seconds)
PROGRESS_INTERVAL = 0.05
#: points along the 1-D interpolation line
LINE_POINTS = 201


@dataclass(frozen=True)
class LandscapeRequest:
    """One landscape to compute.

    ``path`` holds the run's rows ``0..row`` (the current point is its last row);
    ``run_id``, ``row`` and ``label`` say which picture it is (the view compares them
    with the run as it moves on, to say when the picture is stale).
    """

    job: int
    objective: Objective
    mode: str
    path: np.ndarray
    seed: int = 0
    resolution: int = DEFAULT_RESOLUTION
    run_id: int | None = None
    label: str = ""
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)

    @property
    def row(self) -> int:
        """The step of the current point."""
        return len(self.path) - 1

    @property
    def centre(self) -> np.ndarray:
        return self.path[-1]


@dataclass(frozen=True)
class LandscapeResult:
    """A finished landscape: a grid (random, pca), the path's plane (pca) or the line."""

    job: int
    request: LandscapeRequest
    centre_loss: float
    grid: PlaneGrid | None = None
    plane: TrajectoryPlane | None = None
    line: Interpolation | None = None
    seconds: float = 0.0

    @property
    def mode(self) -> str:
        return self.request.mode


def compute_landscape(request: LandscapeRequest, progress=None) -> LandscapeResult:
    """Compute ``request`` (any thread); raises ``LandscapeCancelled`` or ``ValueError``."""
    t0 = time.perf_counter()
    obj, path = request.objective, request.path
    centre = path[-1]
    if not np.isfinite(centre).all():
        raise ValueError("the current point is not finite (a diverged run): no landscape")
    grid = plane = line = None
    if request.mode == "random":
        grid = plane_grid(obj, centre, random_plane(obj, centre, request.seed), 1.0,
                          resolution=request.resolution, progress=progress)
    elif request.mode == "pca":
        plane = trajectory_plane(path)
        ha, hb = trajectory_span(plane)
        grid = plane_grid(obj, centre, plane.directions, ha, hb,
                          resolution=request.resolution, progress=progress)
    elif request.mode == "line":
        if len(path) < 2:
            raise ValueError("the line from the start to the current point needs a step: "
                             "run the network first")
        if progress is not None and not progress(0.0):
            raise LandscapeCancelled
        line = interpolation(obj, path[0], centre, LINE_POINTS)
    else:
        raise ValueError(f"unknown landscape mode {request.mode!r}; choose one of: "
                         f"{', '.join(LANDSCAPE_MODES)}")
    return LandscapeResult(request.job, request, float(obj.values(centre[None, :])[0]),
                           grid, plane, line, time.perf_counter() - t0)


class _LandscapeWorker(QObject):
    progress = Signal(int, float)
    done = Signal(object)  # LandscapeResult
    cancelled = Signal(int)
    failed = Signal(int, str)

    @Slot(object)
    def compute(self, request: LandscapeRequest) -> None:
        last = [0.0]

        def report(fraction: float) -> bool:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL:
                last[0] = now
                self.progress.emit(request.job, float(fraction))
            return not request.cancel.is_set()

        try:
            if request.cancel.is_set():
                raise LandscapeCancelled
            result = compute_landscape(request, report)
        except LandscapeCancelled:
            self.cancelled.emit(request.job)
            return
        except (ValueError, ArithmeticError) as exc:
            self.failed.emit(request.job, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown in plain text; the app goes on
            self.failed.emit(request.job, f"{type(exc).__name__}: {exc}")
            return
        self.done.emit(result)


class LandscapeJob(QObject):
    """Computes landscapes off the UI thread; see the module docstring."""

    busy_changed = Signal(bool)
    progress = Signal(float)
    finished = Signal(object)  # LandscapeResult
    cancelled = Signal(str)
    failed = Signal(str)
    _compute = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._job = 0
        self._request: LandscapeRequest | None = None
        self.last: LandscapeResult | None = None
        self._worker = _LandscapeWorker()
        self.thread = new_thread("landscapeThread")
        self._worker.moveToThread(self.thread)
        self._compute.connect(self._worker.compute)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.failed.connect(self._on_failed)
        self.thread.start()

    @property
    def busy(self) -> bool:
        """True while a landscape is being computed."""
        return self._request is not None

    def start(self, objective: Objective, mode: str, path, *, seed: int = 0,
              resolution: int = DEFAULT_RESOLUTION, run_id: int | None = None,
              label: str = "") -> int:
        """Compute a landscape around the last row of ``path`` (a landscape being computed
        is dropped); returns the job id.  ``ValueError`` at once for a bad mode."""
        if mode not in LANDSCAPE_MODES:
            raise ValueError(f"unknown landscape mode {mode!r}; choose one of: "
                             f"{', '.join(LANDSCAPE_MODES)}")
        path = np.array(path, dtype=np.float64)  # a copy: the recording goes on
        if path.ndim != 2 or len(path) == 0:
            raise ValueError("no point to draw the landscape around: add a run")
        if self._request is not None:
            self._request.cancel.set()
        self._job += 1
        request = LandscapeRequest(self._job, objective, mode, path, int(seed),
                                   int(resolution), run_id, label)
        was_busy = self._request is not None
        self._request = request
        if not was_busy:
            self.busy_changed.emit(True)
        self.progress.emit(0.0)
        self._compute.emit(request)
        return request.job

    def cancel(self) -> None:
        """Stop the landscape being computed; the picture shown stays."""
        if self._request is None:
            return
        self._request.cancel.set()
        self._request = None
        self.busy_changed.emit(False)
        self.cancelled.emit("landscape cancelled")

    def stop(self) -> None:
        """Drop any computation (shutdown); the thread is the owner's to join."""
        if self._request is not None:
            self._request.cancel.set()
        self._request = None

    def _current(self, job: int) -> bool:
        return self._request is not None and job == self._request.job

    @Slot(int, float)
    def _on_progress(self, job: int, fraction: float) -> None:
        if self._current(job):
            self.progress.emit(fraction)

    @Slot(object)
    def _on_done(self, result: LandscapeResult) -> None:
        if self._current(result.job):
            self._request = None
            self.last = result
            self.busy_changed.emit(False)
            self.finished.emit(result)

    @Slot(int)
    def _on_cancelled(self, job: int) -> None:
        if self._current(job):  # cancelled from inside (never from here: cancel() ends it)
            self._request = None
            self.busy_changed.emit(False)
            self.cancelled.emit("landscape cancelled")

    @Slot(int, str)
    def _on_failed(self, job: int, text: str) -> None:
        if self._current(job):
            self._request = None
            self.busy_changed.emit(False)
            self.failed.emit(f"cannot draw the landscape: {text}")
