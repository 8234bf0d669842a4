"""The loss landscape of a many-parameter problem through 2-D planes and a 1-D line.

After Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss Landscape of Neural Nets"
(NeurIPS 2018):

* **Random plane**: two Gaussian directions shaped like the parameters θ, each made
  *filter-normalised*: every filter (a unit's incoming weights, one row of a layer's
  ``out × in`` weight matrix) rescaled to the norm of that row of θ, the biases zeroed
  (their ``--xignore biasbn``).  Without layers (the objective's ``filter_groups()`` is
  None) the whole direction is rescaled to |θ|.  The landscape is
  ``L(θ_c + a·d1 + b·d2)`` over a ∈ b ∈ [−1, 1].
* **Trajectory plane**: PCA of the checkpoints ``θ_i − θ_final`` of a run (mean removed,
  as sklearn's PCA in their ``plot_trajectory``); the plane through θ_final along the first
  two principal directions (orthonormal), the explained variance ratio of each, the
  path's coordinates ``(θ_i − θ_final)·d_k`` (the last at (0, 0)) and each checkpoint's
  distance from the plane: the path of a network sits off any 2-D plane, and how far is
  part of the picture.
* **1-D interpolation**: ``L((1 − α)·θ_0 + α·θ_T)`` for α ∈ [−0.5, 1.5] (Goodfellow et al.
  2015).

Everything is numpy only and works for any objective (``values(points (k, d))``); the
grids are evaluated a row of points at a time so that ``progress(fraction) -> bool``
can report and stop them (False: :class:`LandscapeCancelled`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_RESOLUTION", "LANDSCAPE_MODES", "LandscapeCancelled", "LandscapeMode",
           "MAX_CHECKPOINTS", "MAX_RESOLUTION",
           "MIN_RESOLUTION", "Interpolation", "PlaneGrid", "TrajectoryPlane",
           "filter_normalised", "interpolation", "plane_grid", "random_plane",
           "trajectory_plane", "trajectory_span"]

#: grid points per side by default (Li et al. draw 51 × 51)
DEFAULT_RESOLUTION = 51
MIN_RESOLUTION, MAX_RESOLUTION = 5, 201
#: at most this many checkpoints go into the PCA (evenly spaced, the last always in)
MAX_CHECKPOINTS = 200
#: the plane around the path: this much beyond its farthest coordinate on each axis
PATH_MARGIN = 0.25

Progress = Callable[[float], bool] | None


@dataclass(frozen=True)
class LandscapeMode:
    """One way of looking at the landscape (the view's picker and its tool tips read these)."""

    key: str
    title: str
    tooltip: str


#: the modes, in the picker's order
LANDSCAPE_MODES: dict[str, LandscapeMode] = {
    m.key: m
    for m in (
        LandscapeMode("random", "Random directions",
                      "The loss over the plane through the current point along two seeded "
                      "random directions, filter-normalised as Li et al. 2018 (each unit's "
                      "incoming weights rescaled to their norm in θ, biases zeroed); "
                      "a, b in [-1, 1]"),
        LandscapeMode("pca", "Trajectory PCA",
                      "The loss over the plane of the selected run's first two principal "
                      "components (checkpoints θ_i − θ_now), with the path projected onto "
                      "it and its distance from the plane against step"),
        LandscapeMode("line", "1-D interpolation",
                      "The loss along the line from the start θ_0 (α = 0) to the current "
                      "point θ_T (α = 1), for α from -0.5 to 1.5"),
    )
}


class LandscapeCancelled(Exception):
    """The computation was stopped through its progress callback."""


@dataclass(frozen=True)
class TrajectoryPlane:
    """The PCA plane of a path through its last point.

    Attributes
    ----------
    centre
        θ_final ``(d,)``.
    directions
        ``(2, d)``: the first two principal directions, orthonormal.
    explained
        ``(2,)``: the share of the variance of the checkpoints each explains.
    steps
        ``(m,)``: the step (row) of each checkpoint used.
    coords
        ``(m, 2)``: each checkpoint's coordinates in the plane, ``(θ_i − θ_final)·d_k``.
    distance
        ``(m,)``: each checkpoint's Euclidean distance from the plane.
    """

    centre: np.ndarray
    directions: np.ndarray
    explained: np.ndarray
    steps: np.ndarray
    coords: np.ndarray
    distance: np.ndarray


@dataclass(frozen=True)
class PlaneGrid:
    """Losses over ``centre + a·d1 + b·d2``: ``losses[j, i]`` at ``(a[i], b[j])``
    (row-major: a row per b)."""

    centre: np.ndarray
    directions: np.ndarray  # (2, d)
    a: np.ndarray
    b: np.ndarray
    losses: np.ndarray


@dataclass(frozen=True)
class Interpolation:
    """``losses[i] = L((1 − alphas[i])·start + alphas[i]·end)``."""

    start: np.ndarray
    end: np.ndarray
    alphas: np.ndarray
    losses: np.ndarray


# ============================================================================ directions


def filter_normalised(direction, theta, groups) -> np.ndarray:
    """``direction`` with each filter rescaled to the norm of the same filter of ``theta``.

    Parameters
    ----------
    direction, theta
        ``(d,)`` arrays.
    groups
        The objective's ``filter_groups()``: a sequence of index arrays, one per filter
        (a unit's incoming weights); every parameter in none of them (a bias) is zeroed.
        None: no layers, the whole direction is rescaled to |θ|.

    A filter of θ that is all zero gets a zero direction (as Li et al.'s
    ``d·|w|/(|d| + 1e-10)``).
    """
    direction = np.asarray(direction, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    if direction.shape != theta.shape or direction.ndim != 1:
        raise ValueError(f"a direction shaped like the parameters {theta.shape} is needed, got "
                         f"{direction.shape}")
    if groups is None:
        return _rescaled(direction, float(np.linalg.norm(theta)))
    out = np.zeros_like(direction)
    for idx in groups:
        idx = np.asarray(idx, dtype=np.intp)
        out[idx] = _rescaled(direction[idx], float(np.linalg.norm(theta[idx])))
    return out


def _rescaled(v: np.ndarray, norm: float) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v * (norm / n) if n > 0 else np.zeros_like(v)


def random_plane(objective, theta, seed: int = 0) -> np.ndarray:
    """Two seeded filter-normalised Gaussian directions at ``theta``: ``(2, d)``.

    The groups come from the objective's ``filter_groups()`` capability (None when it
    has no layers).  The same seed gives the same directions.
    """
    theta = np.asarray(theta, dtype=np.float64)
    rng = np.random.default_rng(seed)
    groups = _groups_of(objective)
    raw = rng.standard_normal((2, theta.size))
    return np.stack([filter_normalised(raw[0], theta, groups),
                     filter_normalised(raw[1], theta, groups)])


def _groups_of(objective):
    ask = getattr(objective, "filter_groups", None)
    return ask() if callable(ask) else None


# ============================================================================ the path's plane


def checkpoint_rows(n: int, max_checkpoints: int = MAX_CHECKPOINTS) -> np.ndarray:
    """At most ``max_checkpoints`` rows of ``0..n-1``, evenly spaced, the last included."""
    if n <= max_checkpoints:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_checkpoints)).astype(np.intp))


def trajectory_plane(path, steps=None, max_checkpoints: int = MAX_CHECKPOINTS
                     ) -> TrajectoryPlane:
    """The PCA plane of ``path`` ``(n, d)`` (rows θ_0 … θ_final) through its last row.

    Parameters
    ----------
    path
        The recorded parameters, row by row; thinned to ``max_checkpoints`` rows.
    steps
        Step number of each row (default ``0..n-1``).

    Raises
    ------
    ValueError
        With fewer than three distinct points, or non-finite parameters.
    """
    path = np.asarray(path, dtype=np.float64)
    if path.ndim != 2 or path.shape[1] < 2:
        raise ValueError("a plane needs a path of at least two parameters")
    steps = np.arange(len(path)) if steps is None else np.asarray(steps)
    rows = checkpoint_rows(len(path), max_checkpoints)
    pts, steps = path[rows], steps[rows]
    if not np.isfinite(pts).all():
        raise ValueError("the path has non-finite parameters (a diverged run): no plane")
    if len(pts) < 3:
        raise ValueError(f"a plane through the path needs at least 3 steps, the run has "
                         f"{len(pts)}: run it further")
    centre = pts[-1].copy()
    diffs = pts - centre
    centred = diffs - diffs.mean(axis=0)
    # the principal directions from the m × m Gram matrix (m <= MAX_CHECKPOINTS): its
    # eigen-decomposition is a few ms where LAPACK's SVD with vectors took seconds here
    w, u = np.linalg.eigh(centred @ centred.T)
    w, u = w[::-1][:2], u[:, ::-1][:, :2]
    total = float(np.sum(centred * centred))
    if not total > 0 or not w[1] > 1e-12 * w[0]:
        raise ValueError("the path does not span a plane (it has not moved, or moved along "
                         "one line): run it further, or use random directions")
    directions = (centred.T @ u).T
    directions[0] /= np.linalg.norm(directions[0])
    directions[1] -= (directions[1] @ directions[0]) * directions[0]  # orthonormal to rounding
    directions[1] /= np.linalg.norm(directions[1])
    # a direction's sign is arbitrary: point it from the end towards the start
    for k in range(2):
        if float(diffs[0] @ directions[k]) < 0:
            directions[k] = -directions[k]
    coords = diffs @ directions.T
    with np.errstate(all="ignore"):
        off = diffs - coords @ directions
    distance = np.sqrt(np.sum(off * off, axis=1))
    return TrajectoryPlane(centre, directions, w / total, steps, coords, distance)


def trajectory_span(plane: TrajectoryPlane, margin: float = PATH_MARGIN
                    ) -> tuple[float, float]:
    """Half widths of a grid centred on θ_final that holds the projected path with a margin
    (each axis its own: the first direction usually spans much more)."""
    reach = np.max(np.abs(plane.coords), axis=0)
    reach = np.where(reach > 0, reach, max(float(reach.max()), 1e-3))
    return float(reach[0] * (1 + margin)), float(reach[1] * (1 + margin))


# ============================================================================ grids


def plane_grid(objective, centre, directions, a_span: float | tuple[float, float] = 1.0,
               b_span: float | tuple[float, float] | None = None,
               resolution: int = DEFAULT_RESOLUTION, progress: Progress = None) -> PlaneGrid:
    """Losses over ``centre + a·d1 + b·d2`` on a ``resolution × resolution`` grid.

    ``a_span``/``b_span``: a half width (the axis runs −s … s, so with an odd resolution the
    middle point is ``centre`` itself) or a ``(lo, hi)`` pair; ``b_span`` defaults to
    ``a_span``.  Evaluated a few rows at a time; ``progress(fraction)`` returning False
    stops it (:class:`LandscapeCancelled`).
    """
    resolution = _resolution(resolution)
    centre = np.asarray(centre, dtype=np.float64)
    d1, d2 = (np.asarray(v, dtype=np.float64) for v in directions)
    a = _axis(a_span, resolution)
    b = _axis(a_span if b_span is None else b_span, resolution)
    losses = np.empty((resolution, resolution))
    per_call = max(1, 4096 // resolution)  # rows per evaluation: few calls, bounded memory
    ad1 = a[:, None] * d1[None, :]  # (n, d)
    for lo in range(0, resolution, per_call):
        if progress is not None and not progress(lo / resolution):
            raise LandscapeCancelled
        rows = b[lo:lo + per_call]
        pts = centre[None, None, :] + ad1[None, :, :] + rows[:, None, None] * d2[None, None, :]
        losses[lo:lo + len(rows)] = objective.values(pts.reshape(-1, centre.size)).reshape(
            len(rows), resolution)
    if progress is not None:
        progress(1.0)
    return PlaneGrid(centre, np.stack([d1, d2]), a, b, losses)


def interpolation(objective, start, end, resolution: int = 201,
                  alpha_range: tuple[float, float] = (-0.5, 1.5)) -> Interpolation:
    """``L((1 − α)·start + α·end)`` at ``resolution`` values of α over ``alpha_range``
    (α = 0 and α = 1 are among them when the range and resolution allow)."""
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    if resolution < 3:
        raise ValueError(f"at least 3 points along the line, got {resolution}")
    alphas = np.linspace(alpha_range[0], alpha_range[1], int(resolution))
    with np.errstate(all="ignore"):
        pts = (1.0 - alphas)[:, None] * start[None, :] + alphas[:, None] * end[None, :]
    return Interpolation(start, end, alphas, objective.values(pts))


def _resolution(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or \
            not MIN_RESOLUTION <= n <= MAX_RESOLUTION:
        raise ValueError(f"resolution must be a whole number from {MIN_RESOLUTION} to "
                         f"{MAX_RESOLUTION}, got {n!r}")
    return int(n)


def _axis(span, n: int) -> np.ndarray:
    lo, hi = (-float(span), float(span)) if np.ndim(span) == 0 else map(float, span)
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"a plane's span must be finite and positive, got {span!r}")
    if lo == -hi:  # exactly symmetric, the middle point exactly 0 (linspace rounds)
        u = np.linspace(-1.0, 1.0, n)
        u = 0.5 * (u - u[::-1])
        return hi * u
    return np.linspace(lo, hi, n)
