"""The model's side of basin maps: one computation at a time, on the ``basinsThread``.

:class:`BasinsJob` is owned by :class:`~gd_explorer.model.explorer.ExplorerModel`, which
builds the request (the selected run's optimizer and schedule, the surface window, the
grid and steps, the tolerance) and keeps the result.  The worker computes the whole map
(:func:`~gd_explorer.core.lab.basins.compute_basins`) and its colours into its own
arrays and hands them over only when complete: a cancel, a failure or a newer request
(answers carry the request id; a stale one is dropped) never shows half a map.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.core.lab.basins import BasinResult, BasinsCancelled, basin_colours, compute_basins
from gd_explorer.model.threads import new_thread


@dataclass(frozen=True)
class BasinRequest:
    """What to compute; ``cancel`` is set to stop it."""

    job: int
    objective: Any
    optimizer: Any
    schedule: Any
    fixed: np.ndarray
    axes: tuple[int, int]
    window: tuple[tuple[float, float], tuple[float, float]]
    grid: int
    steps: int
    tol: float
    batch_size: int | None = None
    seed: int = 0
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)


@dataclass(frozen=True)
class BasinMap:
    """A finished map: the core result and its colours ``(ny, nx, 4)`` uint8."""

    job: int
    result: BasinResult
    rgba: np.ndarray


class _BasinsWorker(QObject):
    progress = Signal(int, float)
    done = Signal(object)  # BasinMap
    cancelled = Signal(int)
    failed = Signal(int, str)

    @Slot(object)
    def compute(self, req: BasinRequest) -> None:
        if req.cancel.is_set():
            self.cancelled.emit(req.job)
            return
        last = [-1.0]

        def report(fraction: float) -> bool:
            if fraction - last[0] >= 0.01:  # at most ~100 signals per map
                last[0] = fraction
                self.progress.emit(req.job, fraction)
            return not req.cancel.is_set()

        try:
            result = compute_basins(req.objective, req.optimizer, req.fixed, req.axes,
                                    req.window, grid=req.grid, steps=req.steps, tol=req.tol,
                                    schedule=req.schedule, batch_size=req.batch_size,
                                    seed=req.seed, progress=report)
            rgba = basin_colours(result)
        except BasinsCancelled:
            self.cancelled.emit(req.job)
            return
        except Exception as exc:  # noqa: BLE001 - shown in plain text; the app goes on
            self.failed.emit(req.job, str(exc) or type(exc).__name__)
            return
        self.done.emit(BasinMap(req.job, result, rgba))


class BasinsJob(QObject):
    """Computes basin maps off the UI thread; see the module docstring."""

    busy_changed = Signal(bool)
    progress = Signal(float)
    finished = Signal(object)  # BasinMap
    message = Signal(str)
    failed = Signal(str)
    _compute = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._job = 0
        self._request: BasinRequest | None = None
        self._worker = _BasinsWorker()
        self.thread = new_thread("basinsThread")
        self._worker.moveToThread(self.thread)
        self._compute.connect(self._worker.compute)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.failed.connect(self._on_failed)
        self.thread.start()

    @property
    def busy(self) -> bool:
        """True while a map is being computed."""
        return self._request is not None

    def start(self, **what) -> int:
        """Compute a map (the fields of :class:`BasinRequest` but ``job``); a map being
        computed is dropped.  Returns the job id."""
        if self._request is not None:
            self._request.cancel.set()
        self._job += 1
        request = BasinRequest(self._job, **what)
        was_busy = self._request is not None
        self._request = request
        if not was_busy:
            self.busy_changed.emit(True)
        self.progress.emit(0.0)
        self._compute.emit(request)
        return request.job

    def cancel(self, text: str = "basins of attraction cancelled") -> None:
        """Stop the map being computed; nothing of it is shown."""
        if self._request is None:
            return
        self._request.cancel.set()
        self._request = None
        self.busy_changed.emit(False)
        if text:
            self.message.emit(text)

    def stop(self) -> None:
        """Drop any computation (shutdown); the thread is the owner's to join."""
        if self._request is not None:
            self._request.cancel.set()

    def _current(self, job: int) -> bool:
        return self._request is not None and job == self._request.job

    @Slot(int, float)
    def _on_progress(self, job: int, fraction: float) -> None:
        if self._current(job):
            self.progress.emit(fraction)

    @Slot(object)
    def _on_done(self, basin_map: BasinMap) -> None:
        if self._current(basin_map.job):
            self._request = None
            self.busy_changed.emit(False)
            self.finished.emit(basin_map)

    @Slot(int)
    def _on_cancelled(self, job: int) -> None:
        if self._current(job):  # cancelled from inside (never from here: cancel() ends it)
            self._request = None
            self.busy_changed.emit(False)

    @Slot(int, str)
    def _on_failed(self, job: int, text: str) -> None:
        if self._current(job):
            self._request = None
            self.busy_changed.emit(False)
            self.failed.emit(f"basins of attraction failed: {text}")
