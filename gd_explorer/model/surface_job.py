"""The loss surface the views draw: its grid, its window, its background job, hover values.

:class:`SurfaceJob` is owned by :class:`~gd_explorer.model.explorer.ExplorerModel`, which
tells it what to compute (objective, axes, window, fixed point) and forwards its signals
as its own (``surface_changed``, ``surface_progress``).  A surface is computed at once
when it is cheap; when the objective says it is costly (``objective.surface_cost``, e.g.
MAE or Huber on big data) it is computed on the ``surfaceThread``, cancellable, and a newer
request drops an older one (a request id, as napari's async slicing does: the bookkeeping
is :class:`~gd_explorer.model.jobs.BackgroundJob`'s).

The window helpers are pure functions of the objective's default window, so that the
model only keeps the state.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from gd_explorer.core.problems.objectives import Objective
from gd_explorer.core.problems.surface import SurfaceCancelled, surface_grid
from gd_explorer.model.jobs import BackgroundJob

#: residual evaluations above which a surface is computed off the UI thread
SLOW_SURFACE = 4_000_000
#: objectives whose one evaluation costs more than this answer hover from the surface grid
HOVER_EXACT_MAX_POINTS = 20_000
#: grid points per axis of the surface
SURFACE_RESOLUTION = 200
#: a surface window reaches at most this many spans of the default window from its centre
MAX_WINDOW_SPANS = 1e6
#: "Fit to paths" looks at the points within the default window widened by this many of its
#: spans on every side (what a diverged run does beyond is not worth a surface)
PATHS_WINDOW_SPANS = 10.0

Window = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class SurfaceRequest:
    """A slow surface to compute: ``objective`` over ``xs × ys`` on ``axes``, the other
    parameters at ``fixed``; ``cancel`` stops it."""

    job: int
    objective: Objective
    axes: tuple
    fixed: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)


def compute_surface(request: SurfaceRequest, report) -> np.ndarray:
    """The grid ``z`` of ``request`` (any thread); raises ``SurfaceCancelled``."""
    return surface_grid(request.objective, request.axes, request.fixed, request.xs,
                        request.ys, progress=report)


class SurfaceJob(BackgroundJob):
    """The surface grid ``(xs, ys, z, names)`` (``z`` None while being computed).

    Signals: ``changed()``, ``progress(float)``, ``failed(str)``, ``message(str)``.  A
    slow surface is the base's request on the ``surfaceThread`` (unthrottled progress: the
    core reports once per chunk); a newer surface, fast or slow, drops it silently.
    """

    changed = Signal()
    message = Signal(str)
    #: ``progress`` as the status bar shows it: silent while a grid already drawn is
    #: refreshed (the same objective and window, another fixed point: a network's surface
    #: follows the run at every step; the old grid stays drawn until the new one is in)
    shown_progress = Signal(float)

    thread_name = "surfaceThread"
    cancelled_error = SurfaceCancelled
    plain_errors = Exception  # the core's message as it is
    failure_prefix = "surface failed: "
    cancel_text = "surface computation cancelled"

    def __init__(self, parent: QObject | None = None):
        super().__init__(compute_surface, parent)
        self.surface: tuple | None = None
        self._of: Objective | None = None  # the objective of the grid drawn
        self._refreshing = False
        self._pending = None  # (objective, axes, fixed, xs, ys) waiting for the one under way
        self.progress.connect(self._relay_progress)
        self.finished.connect(self._on_finished)

    def compute(self, objective: Objective, axes, window: Window | None, fixed) -> None:
        """Recompute the surface of ``objective`` over ``window`` (None: no surface, below
        2-D) with the other parameters at ``fixed``; a slow one starts on the thread."""
        if objective.dim < 2 or window is None:
            self._drop()
            self.surface = None
            self.changed.emit()
            return
        (x0, x1), (y0, y1) = window
        xs = np.linspace(x0, x1, SURFACE_RESOLUTION)
        ys = np.linspace(y0, y1, SURFACE_RESOLUTION)
        names = (objective.names[axes[0]], objective.names[axes[1]])
        if objective.surface_cost(xs.size * ys.size) > SLOW_SURFACE:
            old = self.surface
            same_grid = (old is not None and old[3] == names and objective is self._of
                         and np.array_equal(old[0], xs) and np.array_equal(old[1], ys))
            if same_grid and self.busy:
                # the same picture at another fixed point is under way: the newest point
                # waits for it (cancelling it at every step of a moving run would never
                # let one finish)
                self._pending = (objective, axes, fixed, xs, ys)
                return
            self._drop()
            self._refreshing = same_grid and old[2] is not None
            if not self._refreshing:
                self.surface = (xs, ys, None, names)
            self._of = objective
            self._submit(lambda job: SurfaceRequest(job, objective, axes, fixed, xs, ys))
            if not self._refreshing:
                self.message.emit("computing the loss surface…")
            return
        self._drop()
        z = surface_grid(objective, axes, fixed, xs, ys)
        self.surface, self._of = (xs, ys, z, names), objective
        self.changed.emit()

    def _drop(self) -> None:
        """A slow one being computed, and the point waiting for it, are dropped."""
        self.stop()
        self._pending = None

    def _on_finished(self, _z) -> None:
        if self._pending is not None:  # the newest point that waited: drawn next, quietly
            objective, axes, fixed, xs, ys = self._pending
            self._pending = None
            self._refreshing = True
            self._submit(lambda job: SurfaceRequest(job, objective, axes, fixed, xs, ys))

    def _relay_progress(self, fraction: float) -> None:
        if not self._refreshing or fraction >= 1.0:
            self.shown_progress.emit(fraction)

    def cancel(self) -> None:
        """Stop a slow surface computation (the progress bar goes away)."""
        self._drop()
        self.progress.emit(1.0)
        self.message.emit(self.cancel_text)

    def _accept(self, z: np.ndarray) -> None:
        xs, ys, _, names = self.surface
        self.surface = (xs, ys, z, names)
        self.progress.emit(1.0)
        self.changed.emit()
        if not self._refreshing:
            self.message.emit("loss surface ready")
        self._refreshing = False

    def grid_value(self, x: float, y: float | None) -> float | None:
        """The nearest value of the computed grid (None while computing, or in 1-D)."""
        if self.surface is None or self.surface[2] is None or y is None:
            return None
        xs, ys, z, _ = self.surface
        j = int(np.clip(np.searchsorted(xs, x), 0, xs.size - 1))
        i = int(np.clip(np.searchsorted(ys, y), 0, ys.size - 1))
        return float(z[i, j])


# ============================================================================ hover
def hover_value(objective: Objective, job: SurfaceJob, fixed: np.ndarray, axes,
                x: float, y: float | None) -> float | None:
    """f at a point of the surface (other parameters at ``fixed``).

    When one evaluation is a pass over many samples (``objective.evaluation_cost``), too
    slow for mouse moves, the nearest value of the computed surface grid is returned
    (None while it is being computed).
    """
    if objective.evaluation_cost > HOVER_EXACT_MAX_POINTS:
        return job.grid_value(x, y)
    p = fixed
    p[axes[0]] = x
    if y is not None and len(axes) > 1:
        p[axes[1]] = y
    with np.errstate(all="ignore"):
        return float(objective.value(p))


# ============================================================================ windows
def default_window(objective: Objective, axes) -> Window | None:
    """The objective's own window of the two surface parameters (None below 2-D)."""
    if objective.dim < 2:
        return None
    a, b = axes
    win = objective.window
    return (float(win[a][0]), float(win[a][1])), (float(win[b][0]), float(win[b][1]))


def sane_window(window, default: Window) -> Window:
    """``window = ((x0, x1), (y0, y1))`` checked, cut to ``MAX_WINDOW_SPANS`` spans of
    ``default`` around its centre and widened where too narrow for an exact linspace.

    Raises
    ------
    ValueError
        For anything but two finite ranges with lo < hi.
    """
    try:
        (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in window)
    except (TypeError, ValueError):
        raise ValueError(f"a surface window is ((x0, x1), (y0, y1)), got {window!r}") \
            from None
    out = []
    for (lo, hi), (d0, d1) in zip(((x0, x1), (y0, y1)), default, strict=True):
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"a surface window needs finite ranges with lo < hi, "
                             f"got ({lo}, {hi})")
        c, span = 0.5 * (d0 + d1), d1 - d0
        lo = max(lo, c - MAX_WINDOW_SPANS * span)
        hi = min(hi, c + MAX_WINDOW_SPANS * span)
        least = max(1e-9 * span, 1e-12 * max(abs(lo), abs(hi)))  # linspace stays exact
        if hi - lo < least:
            mid = 0.5 * (lo + hi)
            lo, hi = mid - least / 2, mid + least / 2
        out.append((lo, hi))
    return out[0], out[1]


def paths_window(default: Window, points: list[np.ndarray]) -> Window:
    """A window around ``points`` (arrays ``(m, 2)`` of the surface parameters: the start
    and the visible paths); points beyond ``PATHS_WINDOW_SPANS`` default spans (a runaway)
    and non-finite ones are left out."""
    (d0, d1), (e0, e1) = default
    pad = PATHS_WINDOW_SPANS
    lo = np.array([d0 - pad * (d1 - d0), e0 - pad * (e1 - e0)])
    hi = np.array([d1 + pad * (d1 - d0), e1 + pad * (e1 - e0)])
    p = np.concatenate(points)
    with np.errstate(invalid="ignore"):
        p = p[np.isfinite(p).all(axis=1) & (p >= lo).all(axis=1) & (p <= hi).all(axis=1)]
    out = []
    for k, (w0, w1) in enumerate(((d0, d1), (e0, e1))):
        v0, v1 = float(p[:, k].min()), float(p[:, k].max())
        margin = max(0.08 * (v1 - v0), 0.02 * (w1 - w0))  # a single point: some room
        out.append((v0 - margin, v1 + margin))
    return out[0], out[1]
