"""The model's side of basin maps: one computation at a time, on the ``basinsThread``.

:class:`BasinsJob` is owned by :class:`~gd_explorer.model.explorer.ExplorerModel`, which
builds the request (the selected run's optimizer and schedule, the surface window, the
grid and steps, the tolerance) and keeps the result.  The worker computes the whole map
(:func:`~gd_explorer.core.lab.basins.compute_basins`) and its colours into its own
arrays and hands them over only when complete: a cancel, a failure or a newer request
(answers carry the request id; a stale one is dropped) never shows half a map.  The
thread and the request-id bookkeeping are :class:`~gd_explorer.model.jobs.BackgroundJob`'s.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from gd_explorer.core.lab.basins import BasinResult, BasinsCancelled, basin_colours, compute_basins
from gd_explorer.model.jobs import BackgroundJob


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


def compute_basin_map(req: BasinRequest, report) -> BasinMap:
    """Compute ``req`` (any thread): the whole map and its colours, or ``BasinsCancelled``."""
    result = compute_basins(req.objective, req.optimizer, req.fixed, req.axes, req.window,
                            grid=req.grid, steps=req.steps, tol=req.tol,
                            schedule=req.schedule, batch_size=req.batch_size, seed=req.seed,
                            progress=report)
    return BasinMap(req.job, result, basin_colours(result))


class BasinsJob(BackgroundJob):
    """Computes basin maps off the UI thread; see the module docstring.

    Signals: ``busy_changed(bool)``, ``progress(float)``, ``finished(BasinMap)``,
    ``message(str)`` (a cancel), ``failed(str)``.
    """

    message = Signal(str)

    thread_name = "basinsThread"
    cancelled_error = BasinsCancelled
    plain_errors = Exception  # the core's message as it is
    failure_prefix = "basins of attraction failed: "
    cancel_text = "basins of attraction cancelled"
    progress_step = 0.01  # at most ~100 signals per map

    def __init__(self, parent: QObject | None = None):
        super().__init__(compute_basin_map, parent)
        self.cancelled.connect(self.message)

    def start(self, **what) -> int:
        """Compute a map (the fields of :class:`BasinRequest` but ``job``); a map being
        computed is dropped.  Returns the job id."""
        return self._submit(lambda job: BasinRequest(job, **what))

    def cancel(self, text: str | None = None) -> None:
        """Stop the map being computed; nothing of it is shown.  ``text`` (by default
        :attr:`cancel_text`) is said on ``message``; an empty one says nothing."""
        self._cancel(self.cancel_text if text is None else text)
