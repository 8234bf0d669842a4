"""Loss landscapes off the UI thread: one at a time, with progress and cancel.

:class:`LandscapeJob` (owned by :class:`~gd_explorer.model.explorer.ExplorerModel`)
sends a frozen :class:`LandscapeRequest` (the objective, the selected run's path up to
the row shown, the mode, seed and resolution, the event that cancels it) to a worker on
the ``landscapeThread``, which runs :mod:`gd_explorer.core.lab.landscape` and answers
with exactly one of ``finished``, ``cancelled`` or ``failed`` tagged with the request id:
a stale answer (a newer request was made) is dropped, and a cancelled or failed one
leaves :attr:`LandscapeJob.last` (the picture shown) as it was (the bookkeeping is
:class:`~gd_explorer.model.jobs.BackgroundJob`'s).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject

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
from gd_explorer.model.jobs import BackgroundJob

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


class LandscapeJob(BackgroundJob):
    """Computes landscapes off the UI thread; see the module docstring.

    Signals: ``busy_changed(bool)``, ``progress(float)``, ``finished(LandscapeResult)``,
    ``cancelled(str)``, ``failed(str)``; :attr:`last` is the latest finished landscape.
    """

    thread_name = "landscapeThread"
    cancelled_error = LandscapeCancelled
    failure_prefix = "cannot draw the landscape: "
    cancel_text = "landscape cancelled"
    progress_interval = PROGRESS_INTERVAL

    def __init__(self, parent: QObject | None = None):
        super().__init__(compute_landscape, parent)
        self.last: LandscapeResult | None = None

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
        return self._submit(lambda job: LandscapeRequest(job, objective, mode, path, int(seed),
                                                         int(resolution), run_id, label))

    def _accept(self, result: LandscapeResult) -> None:
        self.last = result
