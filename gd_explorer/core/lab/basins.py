"""Basins of attraction: which minimum each start of a grid descends to, and how fast.

A grid of ``n x n`` start points covers the surface window on the two surface axes (the
other parameters at the current start).  All starts are descended together, batched, by
one :class:`~gd_explorer.core.engine.descent.Descent` per chunk of starts (``record=False``:
only the current state is kept), with the selected run's optimizer, hyperparameters and
schedule, for at most ``steps`` updates, stopping each start by the session's gradient-norm
tolerance.  Then every start is classified:

status
    ``converged`` (gradient norm <= tol), ``max_steps`` (not converged within ``steps``)
    or ``diverged`` (the engine's runaway rule).
basin (``label``)
    The index of the minimum the start reached in :attr:`BasinResult.minima`, -1 for none.
    A final point reached a minimum when it lies within ``radius`` of it (Euclidean, in
    all parameters).  The objective's known optima (``objective.optima``) that are
    minima (maxima when maximizing; :func:`known_minima` asks the function, not the
    optimum's description) come first, in the objective's order, each with its basin even
    when no start reached it; final points of converged starts near none of them are
    clustered (below) and each cluster is a minimum found, larger basins first.  A
    start that did not converge within ``steps`` but ended within ``radius`` of a minimum
    gets that basin too (its status stays ``max_steps``: it is drawn at the palest shade);
    one that ended near none is "not converged".
radius (the clustering threshold, tied to the tolerance)
    ``radius = span * clip(tol ** (1/3), 1e-3, 0.02)``, ``span`` the larger side of the
    window.  Near a minimum with curvature ``c`` a gradient below ``tol`` means a distance
    below ``tol / c``; near a flat (quartic) minimum ``(tol / 4) ** (1/3)``: the cube
    root covers both, so one minimum is one cluster, and the clip keeps distinct minima
    apart for coarse tolerances (and gives ``tol = 0`` a radius).  Clustering: final points
    are binned into cells of side ``radius``; cells are merged greedily (biggest first)
    with every cell whose mean lies within ``2 * radius`` of the cluster's first cell.
steps
    Updates to converge (to the end for ``max_steps``); for a diverged start the step at
    which it diverged.

Colours (:func:`basin_colours`, the app's overlay and the PNG alike): each basin one colour
of :data:`BASIN_COLOURS` (colour-blind-safe: Okabe–Ito's and Paul Tol's), from the full
colour for the map's fastest converged start to a pale tint for its slowest
(:func:`step_shade`: ``log(1 + steps)`` over the map's range); not converged and diverged
starts in their own greys.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.io.export import atomic_write_chunks
from gd_explorer.core.io.fields import join, object_of, whole
from gd_explorer.core.io.png import write_png
from gd_explorer.core.limits import MAX_BASIN_GRID, MAX_STEPS
from gd_explorer.core.problems.objectives import Objective

#: default grid points per axis and steps per start
DEFAULT_GRID = 200
DEFAULT_STEPS = 500
#: starts descended by one Descent: the arrays of a chunk stay in the CPU's cache range
#: and a million starts never need more than a few hundred MB
CHUNK_STARTS = 1 << 16
#: updates between progress reports and cancel checks
STEPS_PER_CHECK = 25
#: the clustering radius, as fractions of the window's larger side (see the module doc)
RADIUS_MIN, RADIUS_MAX = 1e-3, 0.02

STATUS_CONVERGED, STATUS_MAX_STEPS, STATUS_DIVERGED = 0, 1, 2
STATUS_NAMES = ("converged", "max_steps", "diverged")

#: a colour per basin (colour-blind-safe: Okabe–Ito's blue, orange, green, purple, sky
#: blue, vermilion, yellow, then Paul Tol's wine); more basins than colours repeat them
BASIN_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                 "#F0E442", "#882255")
#: starts that reached no minimum within the steps, and starts that diverged
NOT_CONVERGED_COLOUR = "#8C8C8C"
DIVERGED_COLOUR = "#1A1A1A"
#: how far towards white the slowest start's colour goes
PALEST = 0.7


class BasinsCancelled(Exception):
    """The computation was cancelled through its progress callback."""


@dataclass(frozen=True)
class BasinSettings:
    """What a basin map is computed with: grid points per axis and steps per start.

    Remembered by sessions as ``"lab": {"basins": {"grid": 200, "steps": 500}}``.
    """

    grid: int = DEFAULT_GRID
    steps: int = DEFAULT_STEPS

    def __post_init__(self):
        check_grid(self.grid)
        if isinstance(self.steps, bool) or int(self.steps) != self.steps or \
                not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"basin steps must be a whole number from 1 to {MAX_STEPS:,}, "
                             f"got {self.steps}")

    def to_dict(self) -> dict:
        """The session file's ``lab.basins`` object."""
        return {"grid": int(self.grid), "steps": int(self.steps)}

    @classmethod
    def from_dict(cls, path: str, value) -> BasinSettings:
        """Read a session file's ``lab.basins`` (keys optional; messages name the path)."""
        d = object_of(path, value, ("grid", "steps"),
                      {"grid": DEFAULT_GRID, "steps": DEFAULT_STEPS})
        return cls(whole(join(path, "grid"), d["grid"], 2, MAX_BASIN_GRID),
                   whole(join(path, "steps"), d["steps"], 1, MAX_STEPS))


def check_grid(n) -> int:
    """``n`` if it is a usable grid size (2 to :data:`MAX_BASIN_GRID` points per axis)."""
    if isinstance(n, bool) or int(n) != n or not 2 <= n <= MAX_BASIN_GRID:
        raise ValueError(f"the basin grid must be 2 to {MAX_BASIN_GRID:,} points per axis, "
                         f"got {n}")
    return int(n)


@dataclass(frozen=True, repr=False)
class BasinResult:
    """A computed basin map; arrays are ``(ny, nx)``, row ``i`` is ``y = ys[i]``.

    Attributes
    ----------
    xs, ys
        Grid coordinates of the two surface parameters.
    axes, names
        Which parameters they are (indices and names).
    label
        Index into ``minima`` per start, -1 for none (int32).
    steps
        Updates to converge, or to the end, or the step of divergence (int32).
    status
        ``STATUS_CONVERGED``, ``STATUS_MAX_STEPS`` or ``STATUS_DIVERGED`` (uint8).
    minima
        ``(b, d)`` the minima, known ones first; ``known[i]`` says which are.
    counts
        Starts per basin ``(b,)``.
    max_steps, radius
        The step limit and the clustering radius used.
    """

    xs: np.ndarray
    ys: np.ndarray
    axes: tuple[int, int]
    names: tuple[str, str]
    label: np.ndarray
    steps: np.ndarray
    status: np.ndarray
    minima: np.ndarray
    known: tuple[bool, ...]
    counts: np.ndarray
    max_steps: int
    radius: float

    def __repr__(self) -> str:
        return (f"BasinResult({len(self.xs)}x{len(self.ys)} starts, {len(self.minima)} "
                f"minima, counts={self.counts.tolist()})")

    @property
    def window(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return (float(self.xs[0]), float(self.xs[-1])), (float(self.ys[0]), float(self.ys[-1]))

    def fraction(self, status: int) -> float:
        """The share of starts with ``status``."""
        return float(np.count_nonzero(self.status == status)) / self.status.size

    def legend(self) -> list[tuple[str, str]]:
        """``(colour, text)`` per basin and for the not converged / diverged starts that
        occur: what the app's legend lists."""
        a0, a1 = self.axes
        total = self.status.size
        rows = []
        for i, (point, known) in enumerate(zip(self.minima, self.known)):
            share = 100.0 * self.counts[i] / total
            where = f"({_short(point[a0])}, {_short(point[a1])})"
            rows.append((basin_colour(i), f"{'minimum' if known else 'found'} {where}: "
                                          f"{share:.1f}%"))
        none = np.count_nonzero((self.label < 0) & (self.status != STATUS_DIVERGED))
        if none:
            rows.append((NOT_CONVERGED_COLOUR, f"not converged in {self.max_steps:,} steps: "
                                               f"{100.0 * none / total:.1f}%"))
        div = np.count_nonzero(self.status == STATUS_DIVERGED)
        if div:
            rows.append((DIVERGED_COLOUR, f"diverged: {100.0 * div / total:.1f}%"))
        return rows


def _short(v: float) -> str:
    return f"{float(v):.3g}"


def basin_colour(i: int) -> str:
    """The colour of basin ``i`` (the palette repeats beyond its length)."""
    return BASIN_COLOURS[i % len(BASIN_COLOURS)]


def cluster_radius(window, tol: float) -> float:
    """The distance within which a final point reached a minimum (see the module doc)."""
    (x0, x1), (y0, y1) = window
    span = max(x1 - x0, y1 - y0)
    frac = min(max(float(tol) ** (1.0 / 3.0), RADIUS_MIN), RADIUS_MAX) if tol > 0 else RADIUS_MIN
    return span * frac


def grid_starts(fixed, axes, window, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``xs, ys`` (``n`` points each over ``window``) and the starts ``(n*n, d)``: row
    ``i * n + j`` is ``(xs[j], ys[i])`` on the two axes, ``fixed`` elsewhere."""
    n = check_grid(n)
    (x0, x1), (y0, y1) = window
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    starts = np.repeat(np.asarray(fixed, dtype=np.float64)[None, :], n * n, axis=0)
    gx, gy = np.meshgrid(xs, ys)
    starts[:, axes[0]] = gx.ravel()
    starts[:, axes[1]] = gy.ravel()
    return xs, ys, starts


def known_minima(objective: Objective, maximize: bool, radius: float = 1e-3) -> np.ndarray:
    """The objective's known optima that a descent in this direction ends at ``(b, d)``.

    Asked of the function, not of the optimum's description: a known optimum counts when
    no point of the ``3**d - 1`` around it at ``radius`` (along the axes and diagonals)
    is lower (higher when maximizing) — a minimum, not a saddle or a maximum.
    """
    pts = [o.point for o in objective.optima]
    pts = [p for p in pts if len(p) == objective.dim and np.all(np.isfinite(p))]
    pts = np.array(pts, dtype=np.float64).reshape(-1, objective.dim)
    if len(pts) == 0:
        return pts
    d = objective.dim
    steps = np.array(np.meshgrid(*([(-1.0, 0.0, 1.0)] * d), indexing="ij")).reshape(d, -1).T
    steps = steps[np.any(steps != 0, axis=1)] * radius  # (3^d - 1, d)
    sign = -1.0 if maximize else 1.0
    keep = []
    with np.errstate(all="ignore"):
        for p in pts:
            f0 = float(objective.values(p[None, :])[0])
            around = objective.values(p[None, :] + steps)
            slack = 1e-12 * max(abs(f0), 1.0)
            keep.append(bool(np.isfinite(f0) and np.all(sign * (around - f0) >= -slack)))
    return pts[np.array(keep, dtype=bool)]


def _nearest(points: np.ndarray, centres: np.ndarray, radius: float) -> np.ndarray:
    """Index of the centre within ``radius`` of each point (the nearest), -1 for none."""
    out = np.full(len(points), -1, dtype=np.int32)
    if len(centres) == 0 or len(points) == 0:
        return out
    best = np.full(len(points), np.inf)
    with np.errstate(all="ignore"):
        for i, c in enumerate(centres):
            dist = np.hypot.reduce(points - c, axis=1)
            closer = (dist <= radius) & (dist < best)
            out[closer] = i
            best[closer] = dist[closer]
    return out


def cluster_points(points: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster ``points`` ``(m, d)`` (finite): ``(centres (c, d), label (m,))``, the
    biggest cluster first.

    Points are binned into cells of side ``radius``; the most populated cell left starts
    a cluster that takes every cell left whose mean is within ``2 * radius`` of its own;
    the centre is the mean of the cluster's points.
    """
    if len(points) == 0:
        return np.empty((0, points.shape[1])), np.empty(0, dtype=np.int32)
    cells, inverse, counts = np.unique(np.floor(points / radius).astype(np.int64), axis=0,
                                       return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    sums = np.zeros((len(cells), points.shape[1]))
    np.add.at(sums, inverse, points)
    means = sums / counts[:, None]
    cluster_of = np.full(len(cells), -1, dtype=np.int32)
    centres, sizes = [], []
    for i in np.argsort(-counts, kind="stable"):
        if cluster_of[i] >= 0:
            continue
        near = (cluster_of < 0) & (np.hypot.reduce(means - means[i], axis=1) <= 2 * radius)
        cluster_of[near] = len(centres)
        w = counts[near]
        centres.append((means[near] * w[:, None]).sum(axis=0) / w.sum())
        sizes.append(w.sum())
    order = np.argsort(-np.array(sizes), kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return np.array(centres)[order], rank[cluster_of[inverse]]


def compute_basins(objective: Objective, optimizer, fixed, axes, window, *,
                   grid: int = DEFAULT_GRID, steps: int = DEFAULT_STEPS, tol: float = 1e-8,
                   schedule=None, batch_size: int | None = None, seed: int = 0,
                   chunk: int = CHUNK_STARTS,
                   progress: Callable[[float], bool] | None = None) -> BasinResult:
    """Descend every start of the grid and classify it (see the module docstring).

    Parameters
    ----------
    objective, optimizer, schedule
        What to descend and how (the optimizer's ``maximize`` decides the direction;
        copies are used, the arguments are not changed).
    fixed
        The point ``(d,)`` whose other parameters every start shares (the current start).
    axes, window
        The two surface parameters and ``((x0, x1), (y0, y1))`` over them.
    grid, steps, tol
        Points per axis, the step limit and the gradient-norm tolerance.
    batch_size, seed
        Mini-batches of a dataset objective, as the runs use them.
    chunk
        Starts descended by one Descent.
    progress
        Called with the fraction done now and then; returning False cancels
        (:class:`BasinsCancelled`).

    Raises
    ------
    ValueError
        For a bad grid, window or step count, or a schedule that follows one run's loss.
    BasinsCancelled
        When ``progress`` returned False; nothing is returned half done.
    """
    grid = check_grid(grid)
    BasinSettings(grid, steps)  # checks steps
    (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in window)
    if not all(math.isfinite(v) for v in (x0, x1, y0, y1)) or not (x0 < x1 and y0 < y1):
        raise ValueError(f"a basin window needs finite ranges with lo < hi, got {window!r}")
    window = ((x0, x1), (y0, y1))
    axes = (int(axes[0]), int(axes[1]))
    xs, ys, starts = grid_starts(fixed, axes, window, grid)
    k = len(starts)
    final = np.empty_like(starts)
    status = np.empty(k, dtype=np.uint8)
    nsteps = np.empty(k, dtype=np.int32)
    done_work, total_work = 0, k * max(steps, 1)
    for lo in range(0, k, chunk):
        hi = min(lo + chunk, k)
        sched = copy.deepcopy(schedule) if schedule is not None else None
        descent = Descent(objective, copy.deepcopy(optimizer), starts[lo:hi], schedule=sched,
                          max_steps=steps, grad_tol=tol, batch_size=batch_size, seed=seed,
                          record=False)
        while not descent.finished:
            descent.advance(STEPS_PER_CHECK)
            if progress is not None:
                frac = (done_work + (hi - lo) * min(descent.t, steps)) / total_work
                if progress(frac) is False:
                    raise BasinsCancelled()
        done_work += (hi - lo) * steps
        s = descent.statuses
        status[lo:hi] = np.where(s == "converged", STATUS_CONVERGED,
                                 np.where(s == "diverged", STATUS_DIVERGED, STATUS_MAX_STEPS))
        rows = descent.run_rows
        # run_rows counts the accepted rows: updates + 1, or the diverging step itself
        nsteps[lo:hi] = np.where(s == "diverged", rows, rows - 1)
        final[lo:hi] = descent.p
    maximize = bool(getattr(optimizer, "maximize", False))
    radius = cluster_radius(window, tol)
    known = known_minima(objective, maximize, radius)
    label = np.full(k, -1, dtype=np.int32)
    conv = status == STATUS_CONVERGED
    label[conv] = _nearest(final[conv], known, radius)
    stray = conv & (label < 0) & np.isfinite(final).all(axis=1)
    found, which = cluster_points(final[stray], radius)
    minima = np.vstack([known, found]) if len(found) else known
    label[stray] = len(known) + which
    late = status == STATUS_MAX_STEPS
    label[late] = _nearest(final[late], minima, radius)
    counts = np.bincount(label[label >= 0], minlength=len(minima))
    names = (objective.names[axes[0]], objective.names[axes[1]])
    shape = (grid, grid)
    return BasinResult(xs, ys, axes, names, label.reshape(shape), nsteps.reshape(shape),
                       status.reshape(shape), minima, tuple([True] * len(known)
                                                            + [False] * len(found)),
                       counts, int(steps), float(radius))


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def step_shade(result: BasinResult) -> np.ndarray:
    """0 (fastest converged start of the map) to 1 (slowest), on ``log(1 + steps)``: the
    map's own range, so a map where every start takes 300 to 500 steps still shows which
    are quick."""
    logs = np.log1p(np.maximum(result.steps, 0).astype(np.float64))
    conv = logs[result.status == STATUS_CONVERGED]
    if conv.size == 0:
        return np.ones(logs.shape)
    lo, hi = float(conv.min()), float(conv.max())
    return np.clip((logs - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros(logs.shape)


def basin_colours(result: BasinResult) -> np.ndarray:
    """RGBA ``(ny, nx, 4)`` uint8, row 0 at ``ys[0]``: basin colours, paler for slower
    starts; not converged and diverged starts in their own greys (module docstring)."""
    label, status = result.label, result.status
    palette = np.array([_rgb(c) for c in BASIN_COLOURS])
    rgb = np.empty((*label.shape, 3))
    has = label >= 0
    rgb[has] = palette[label[has] % len(BASIN_COLOURS)]
    fade = PALEST * step_shade(result)
    fade[has & (status == STATUS_MAX_STEPS)] = PALEST
    rgb[has] += (255.0 - rgb[has]) * fade[has][:, None]
    rgb[~has] = _rgb(NOT_CONVERGED_COLOUR)
    rgb[status == STATUS_DIVERGED] = _rgb(DIVERGED_COLOUR)
    out = np.empty((*label.shape, 4), dtype=np.uint8)
    out[..., :3] = np.rint(rgb).astype(np.uint8)
    out[..., 3] = 255
    return out


def basins_csv_rows(result: BasinResult):
    """The CSV text in chunks: header ``x,y,basin,steps,status`` (the axes' names for x
    and y), one row per start, row by row of the grid; ``basin`` 1-based, 0 for none."""
    n0, n1 = result.names
    yield f"{n0},{n1},basin,steps,status\n"
    xs = [repr(float(v)) for v in result.xs]
    for i, y in enumerate(result.ys):
        yt = repr(float(y))
        lab, st, sn = result.label[i], result.steps[i], result.status[i]
        yield "".join(f"{xs[j]},{yt},{int(lab[j]) + 1},{int(st[j])},{STATUS_NAMES[sn[j]]}\n"
                      for j in range(len(xs)))


def write_basins_csv(path, result: BasinResult) -> int:
    """Write :func:`basins_csv_rows` to ``path`` atomically; returns the rows written.

    Raises
    ------
    ExportError
        When the file cannot be written (nothing is left behind).
    """
    atomic_write_chunks(path, basins_csv_rows(result))
    return int(result.label.size)


def write_basins_png(path, result: BasinResult, scale: int = 1) -> None:
    """The basin map as a PNG, one ``scale`` x ``scale`` block per start, the app's
    colours; the top row is the largest y (as on the surface)."""
    write_png(path, basin_colours(result)[::-1], scale=scale)
