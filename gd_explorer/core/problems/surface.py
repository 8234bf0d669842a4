"""Loss surfaces, 1-D slices and gradient fields for the plots, computed fast.

A surface shows two parameters ``axes = (a, b)`` of an objective on a grid ``xs`` x ``ys``
with every other parameter held at ``fixed``.  Arrays are row-major images:
``z[i, j]`` is the objective at parameter ``a = xs[j]``, ``b = ys[i]``, shape
``(len(ys), len(xs))``.

How each kind of objective is evaluated
---------------------------------------
The objective is asked first (``objective.fast_surface``, ``fast_curve``,
``fast_gradient_field``: None when it has no fast path); dataset fits answer with the
``linear_fit_*`` functions here.

* Functions (built-in or typed): one vectorized ``objective.values`` call.
* Dataset fits with MSE: closed form.  Every model is linear in its parameters,
  ``F = Φθ``, so ``loss(θ) = θᵀAθ − 2bᵀθ + c`` with ``A = ΦᵀΦ/n``, ``b = Φᵀy/n``,
  ``c = yᵀy/n``.  The statistics are computed once per objective and cached on it.  The
  form is evaluated around the least-squares point θ*,
  ``loss(θ) = dᵀAd + 2dᵀ(Aθ* − b) + loss(θ*)`` with ``d = θ − θ*``, because expanding
  around the origin subtracts numbers of the size of ``c`` to get a loss that may be
  millions of times smaller (the fence data: ``c ≈ 4e6``, minimum 0).  Cost: O(n) once,
  then O(nx·ny) per grid, whatever the number of samples.
* Dataset fits with MAE or Huber: per grid row, the residuals are ``r_k = c_k + φ_k x``
  and the loss is a sum of pieces that are polynomials of degree <= 2 in ``x`` between
  kinks (``r = 0`` for MAE, ``r = ±δ`` for Huber: the loss declares them in
  ``Loss.pieces``).  Each sample changes the summed coefficients only where its residual
  crosses a kink; those changes are binned to the grid and accumulated (``bincount`` +
  ``cumsum``), so a row costs O(n) instead of O(n·nx) and needs O(n) memory.  Exact up to rounding.
* Any other loss: direct evaluation in chunks of at most :data:`CHUNK` residuals, so
  memory stays bounded for 100,000 samples.

The row-by-row paths call ``progress(fraction)`` after each chunk and stop with
:class:`SurfaceCancelled` when it returns False; they are meant for a worker thread.
Non-finite values stay NaN or inf in the result: the plots deal with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gd_explorer.core.problems.objectives import Objective

if TYPE_CHECKING:
    from gd_explorer.core.problems.datasets import DatasetObjective

__all__ = [
    "CHUNK",
    "SurfaceCancelled",
    "curve_1d",
    "gradient_field",
    "grid_axes",
    "surface_grid",
]

#: most residuals (grid points x samples) held in memory at once by the chunked path
CHUNK = 1 << 20
#: largest grid resolution accepted by :func:`grid_axes`
MAX_RESOLUTION = 4096

Progress = Callable[[float], bool]


class SurfaceCancelled(Exception):
    """The progress callback returned False: the computation stopped early."""


# ----------------------------------------------------------------------------- checks
def _check_axes(axes, dim: int) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in axes)
    except (TypeError, ValueError):
        raise ValueError(f"axes must be two parameter indices, got {axes!r}") from None
    if dim < 2:
        raise ValueError(f"a surface needs two parameters, the objective has {dim}; "
                         "use curve_1d")
    if a == b or not (0 <= a < dim and 0 <= b < dim):
        raise ValueError(f"axes must be two different indices from 0 to {dim - 1}, "
                         f"got {tuple(axes)}")
    return a, b


def _check_fixed(fixed, dim: int, free: Sequence[int]) -> np.ndarray:
    p = np.array(fixed, dtype=np.float64).reshape(-1)
    if p.size != dim:
        raise ValueError(f"fixed must give all {dim} parameters, got {p.size}")
    p[list(free)] = 0.0  # the values on the plotted axes are not used
    if not np.all(np.isfinite(p)):
        raise ValueError("fixed parameters must be finite")
    return p


def _check_line(name: str, v) -> np.ndarray:
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    return arr


def _report(progress: Progress | None, fraction: float) -> None:
    if progress is not None and progress(fraction) is False:
        raise SurfaceCancelled(f"surface cancelled at {fraction:.0%}")


# ----------------------------------------------------------------------------- grid
def grid_axes(window: tuple[tuple[float, float], ...], axes: tuple[int, int],
              resolution: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced grid coordinates for two parameters of a view window.

    Parameters
    ----------
    window : tuple of (lo, hi)
        One finite interval per parameter, e.g. ``objective.window``.
    axes : (int, int)
        The two parameters shown.
    resolution : int
        Points per axis, 2 to :data:`MAX_RESOLUTION`.

    Returns
    -------
    xs, ys : numpy.ndarray
        ``linspace`` over the intervals of ``axes[0]`` and ``axes[1]``.
    """
    a, b = _check_axes(axes, len(window))
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or not 2 <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution must be a whole number from 2 to {MAX_RESOLUTION}, "
                         f"got {resolution!r}")
    out = []
    for k in (a, b):
        lo, hi = (float(v) for v in window[k])
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"window of parameter {k} must be finite with lo < hi, "
                             f"got {window[k]!r}")
        out.append(np.linspace(lo, hi, int(resolution)))
    return out[0], out[1]


def _plane_points(dim: int, axes: tuple[int, int], fixed: np.ndarray, xs: np.ndarray,
                  ys: np.ndarray) -> np.ndarray:
    """All grid points as a ``(ny * nx, dim)`` array in row-major (y, x) order."""
    pts = np.empty((ys.size * xs.size, dim))
    pts[:] = fixed
    pts[:, axes[0]] = np.tile(xs, ys.size)
    pts[:, axes[1]] = np.repeat(ys, xs.size)
    return pts


# ----------------------------------------------------------------------------- MSE
@dataclass(frozen=True)
class _MseStats:
    """Sufficient statistics of MSE, centred at the least-squares point ``center``."""

    phi: np.ndarray  # the objective's arrays, to notice a replaced dataset
    y: np.ndarray
    gram: np.ndarray  # A = ΦᵀΦ / n, (d, d)
    center: np.ndarray  # θ*, (d,)
    slope: np.ndarray  # g = Aθ* − b, ~0 up to rounding (d,)
    floor: float  # loss(θ*), computed directly


_STATS_ATTR = "_gdx_mse_stats"


def _mse_stats(objective: DatasetObjective) -> _MseStats:
    cached = objective.__dict__.get(_STATS_ATTR)
    if cached is not None and cached.phi is objective.phi and cached.y is objective.y:
        return cached
    phi, y = objective.phi, objective.y
    n = y.size
    with np.errstate(all="ignore"):
        gram = phi.T @ phi / n
        moment = phi.T @ y / n
        try:
            center = np.linalg.lstsq(phi, y, rcond=None)[0]
        except np.linalg.LinAlgError:
            center = np.zeros(phi.shape[1])
        if not np.all(np.isfinite(center)):
            center = np.zeros(phi.shape[1])
        r = phi @ center - y
        floor = float(np.mean(r * r))
        slope = gram @ center - moment
    stats = _MseStats(phi, y, gram, center, slope, floor)
    # An attribute, not a WeakKeyDictionary: objectives are dataclasses, hence unhashable.
    objective.__dict__[_STATS_ATTR] = stats
    return stats


def _is_loss(objective: DatasetObjective, name: str) -> bool:
    from gd_explorer.core.problems.datasets import LOSSES

    return objective.loss is LOSSES[name]


def _mse_surface(s: _MseStats, axes, fixed, xs, ys) -> np.ndarray:
    a, b = axes
    A, g = s.gram, s.slope
    r0 = fixed - s.center  # offset of the fixed parameters from θ*
    r0[[a, b]] = 0.0
    with np.errstate(all="ignore"):  # data like 1e308 makes these inf/NaN: drawn as gaps
        ar0 = A @ r0
        const = float(r0 @ ar0 + 2.0 * (r0 @ g) + s.floor)
        dx = xs - s.center[a]
        dy = ys - s.center[b]
        px = A[a, a] * dx * dx + 2.0 * dx * (ar0[a] + g[a])
        py = A[b, b] * dy * dy + 2.0 * dy * (ar0[b] + g[b]) + const
        z = np.multiply.outer(dy, (2.0 * A[a, b]) * dx)
        z += py[:, None]
        z += px[None, :]
        np.maximum(z, 0.0, out=z)  # MSE is >= 0; rounding must not make it negative
    return z


# ----------------------------------------------------------------------------- MAE, Huber
@dataclass(frozen=True)
class _Piecewise:
    """An even loss that is a polynomial of degree <= 2 between kinks of the residual r.

    ``kinks`` are increasing values of r; ``polys[i] = (p0, p1, p2)`` gives
    ``p0 + p1 r + p2 r²`` on the i-th region (left of the first kink, between kinks, right
    of the last one).
    """

    kinks: tuple[float, ...]
    polys: tuple[tuple[float, float, float], ...]


def _piecewise_for(objective: DatasetObjective) -> _Piecewise | None:
    # the loss says whether it is piecewise (MAE, Huber with any δ): Loss.pieces
    pieces = objective.loss.pieces
    return _Piecewise(*pieces) if pieces else None


def _bins(u: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each position ``at``, the index of the first grid point ``u`` >= it (0..nu)."""
    nu = u.size
    if nu > 1 and np.all(np.isfinite(at)):
        du = (u[-1] - u[0]) / (nu - 1)
        step = np.diff(u)
        if du > 0 and np.all(np.abs(step - du) <= 1e-10 * du):
            # An even grid (linspace): arithmetic, several times faster than a binary
            # search.  A point that rounding puts in the neighbouring bin sits within
            # rounding of a grid point, where the loss is continuous, so its polynomial
            # change is ~0 there and the error stays at rounding level.
            m = np.ceil((at - u[0]) / du)
            np.clip(m, 0, nu, out=m)
            return m.astype(np.intp)
    return np.searchsorted(u, at, side="left")


def _piecewise_row(pw: _Piecewise, c: np.ndarray, slope: np.ndarray, flat: float,
                   u: np.ndarray, n: int) -> np.ndarray:
    """``mean_k loss(c_k + slope_k·u)`` at every ``u`` (sorted), all ``slope_k > 0``.

    Between kinks the sum is a quadratic in ``u``; each sample changes the coefficients
    only where its residual crosses a kink, at ``u = (kink − c_k)/slope_k``.  Those
    changes are binned to the grid (:func:`_bins` + ``bincount``) and accumulated, so a
    row costs O(n) (O(n log nu) on an uneven grid) instead of O(n·nu).  ``flat`` adds
    the samples whose slope is zero.
    """
    nu = u.size
    p0, p1, p2 = pw.polys[0]
    # coefficients of the leftmost region summed over all samples (in powers of u)
    a0 = np.full(nu, p0 * c.size + p1 * c.sum() + (p2 * (c * c).sum() if p2 else 0.0) + flat)
    a1 = np.full(nu, p1 * slope.sum() + (2.0 * p2 * (c * slope).sum() if p2 else 0.0))
    a2 = np.full(nu, p2 * (slope * slope).sum() if p2 else 0.0)
    for j, kink in enumerate(pw.kinks):
        q0, q1, q2 = (after - before for after, before in zip(pw.polys[j + 1], pw.polys[j],
                                                              strict=True))
        # grid points u[m:] lie at or right of the kink and take the new polynomial
        m = _bins(u, (kink - c) / slope)
        if q0 or q1 or q2:
            d0 = q0 + q1 * c + (q2 * c * c if q2 else 0.0)
            a0 += np.cumsum(np.bincount(m, weights=d0, minlength=nu + 1)[:nu])
        if q1 or q2:
            d1 = (q1 + 2.0 * q2 * c) * slope if q2 else q1 * slope
            a1 += np.cumsum(np.bincount(m, weights=d1, minlength=nu + 1)[:nu])
        if q2:
            a2 += np.cumsum(np.bincount(m, weights=q2 * slope * slope, minlength=nu + 1)[:nu])
    return (a0 + u * (a1 + u * a2)) / n


def _piecewise_surface(pw: _Piecewise, loss, base: np.ndarray, phi_a: np.ndarray,
                       phi_b: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                       progress: Progress | None) -> np.ndarray:
    """``z[i, j] = mean_k loss(base_k + xs[j]·phi_a_k + ys[i]·phi_b_k)``, row by row."""
    n = base.size
    # Both losses are even, so a sample with a negative slope along x is mirrored
    # (r -> -r) to get a positive one; samples with slope 0 are constant along x.
    order = np.argsort(xs, kind="stable")
    mid = 0.5 * (float(xs[order[0]]) + float(xs[order[-1]]))
    u = xs[order] - mid  # centring keeps the accumulated coefficients small
    nz = phi_a != 0
    zero_rows = not nz.all()
    if zero_rows:
        base_z, phi_bz = base[~nz], phi_b[~nz]
        base, phi_a, phi_b = base[nz], phi_a[nz], phi_b[nz]
    sign = np.sign(phi_a)
    slope = np.abs(phi_a)
    with np.errstate(all="ignore"):
        c0 = sign * (base + phi_a * mid)  # mirrored residual at u = 0 and y = 0
        cy = sign * phi_b
    z = np.empty((ys.size, xs.size))
    for i in range(ys.size):
        with np.errstate(all="ignore"):
            flat = float(loss.value(base_z + ys[i] * phi_bz).sum()) if zero_rows else 0.0
            row = _piecewise_row(pw, c0 + ys[i] * cy, slope, flat, u, n)
            # the loss is >= 0; rounding in the sums must not make it negative
            z[i, order] = np.maximum(row, 0.0)
        _report(progress, (i + 1) / ys.size)
    return z


# ----------------------------------------------------------------------------- public
def surface_grid(objective: Objective, axes: tuple[int, int], fixed: Sequence[float],
                 xs, ys, *, progress: Progress | None = None) -> np.ndarray:
    """The objective on a grid of two parameters.

    Parameters
    ----------
    objective : Objective
        A function or dataset objective with at least two parameters.
    axes : (int, int)
        Parameter shown along x (columns) and along y (rows).
    fixed : sequence of float
        All ``d`` parameters; those not in ``axes`` are held at these values.
    xs, ys : array_like
        1-D grid coordinates of ``axes[0]`` and ``axes[1]``.
    progress : callable, optional
        ``progress(fraction) -> bool``, called after each chunk of rows (and once, with
        1.0, by the one-shot paths); returning False stops with :class:`SurfaceCancelled`.

    Returns
    -------
    numpy.ndarray
        ``z`` of shape ``(len(ys), len(xs))``: ``z[i, j]`` is the objective with
        ``axes[0] = xs[j]`` and ``axes[1] = ys[i]``.  Non-finite values are kept.

    Raises
    ------
    SurfaceCancelled
        When ``progress`` returned False.
    ValueError
        For bad axes, a ``fixed`` of the wrong length, or non-1-D coordinates.
    """
    a, b = _check_axes(axes, objective.dim)
    p = _check_fixed(fixed, objective.dim, (a, b))
    xs, ys = _check_line("xs", xs), _check_line("ys", ys)
    z = objective.fast_surface((a, b), p, xs, ys, progress)
    if z is not None:
        return z
    with np.errstate(all="ignore"):
        z = np.asarray(objective.values(_plane_points(objective.dim, (a, b), p, xs, ys)),
                       dtype=np.float64).reshape(ys.size, xs.size)
    _report(progress, 1.0)
    return z


def linear_fit_surface(objective: DatasetObjective, axes: tuple[int, int], p: np.ndarray,
                       xs: np.ndarray, ys: np.ndarray,
                       progress: Progress | None = None) -> np.ndarray:
    """:func:`surface_grid` of a fit of a model linear in its parameters (checked inputs):
    MSE in closed form, MAE/Huber piecewise, any other loss in chunks."""
    if _is_loss(objective, "mse"):
        z = _mse_surface(_mse_stats(objective), axes, p, xs, ys)
        _report(progress, 1.0)
        return z
    return _dataset_rows(objective, axes, p, xs, ys, progress)


def linear_fit_curve(objective: DatasetObjective, index: int, p: np.ndarray,
                     xs: np.ndarray) -> np.ndarray | None:
    """:func:`curve_1d` of a linear fit with MSE (closed form) or MAE/Huber (piecewise);
    None for another loss."""
    if _is_loss(objective, "mse"):
        s = _mse_stats(objective)
        r0 = p - s.center
        r0[index] = 0.0
        ar0 = s.gram @ r0
        dx = xs - s.center[index]
        with np.errstate(all="ignore"):
            line = (s.gram[index, index] * dx * dx + 2.0 * dx * (ar0[index] + s.slope[index])
                    + float(r0 @ ar0 + 2.0 * (r0 @ s.slope) + s.floor))
            return np.maximum(line, 0.0)
    pw = _piecewise_for(objective)
    if pw is not None:
        with np.errstate(all="ignore"):
            base = objective.phi @ p - objective.y
        phi_a = np.ascontiguousarray(objective.phi[:, index])
        return _piecewise_surface(pw, objective.loss, base, phi_a, np.zeros_like(phi_a), xs,
                                  np.zeros(1), None)[0]
    return None


def linear_fit_gradient_field(objective: DatasetObjective, axes: tuple[int, int],
                              p: np.ndarray, xs: np.ndarray,
                              ys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`gradient_field` of a linear fit with MSE, ``2(Aθ − b)``; None otherwise."""
    if not _is_loss(objective, "mse"):
        return None
    a, b = axes
    s = _mse_stats(objective)
    r0 = p - s.center
    r0[[a, b]] = 0.0
    base = s.gram @ r0 + s.slope  # gradient / 2 with the plotted parameters at θ*
    dx = xs - s.center[a]
    dy = ys - s.center[b]
    A = s.gram
    with np.errstate(all="ignore"):
        u = 2.0 * (base[a] + A[a, a] * dx[None, :] + A[a, b] * dy[:, None])
        v = 2.0 * (base[b] + A[b, a] * dx[None, :] + A[b, b] * dy[:, None])
    return u, v


def _dataset_rows(objective: DatasetObjective, axes, p, xs, ys,
                  progress: Progress | None) -> np.ndarray:
    """Row-by-row evaluation for non-MSE dataset losses, with progress and cancel."""
    a, b = axes
    phi, n = objective.phi, objective.n
    phi_a = np.ascontiguousarray(phi[:, a])
    phi_b = np.ascontiguousarray(phi[:, b])
    with np.errstate(all="ignore"):
        base = phi @ p - objective.y  # residuals with the plotted parameters at 0
    ny, nx = ys.size, xs.size
    z = np.empty((ny, nx))
    loss = objective.loss
    pw = _piecewise_for(objective)
    if pw is not None:
        return _piecewise_surface(pw, loss, base, phi_a, phi_b, xs, ys, progress)
    if n * nx <= CHUNK:  # several grid rows per chunk
        rows = max(1, CHUNK // (n * nx))
        for i0 in range(0, ny, rows):
            i1 = min(ny, i0 + rows)
            with np.errstate(all="ignore"):
                c = base[None, :] + ys[i0:i1, None] * phi_b[None, :]  # (k, n)
                r = c[:, None, :] + np.multiply.outer(xs, phi_a)[None, :, :]  # (k, nx, n)
                z[i0:i1] = loss.value(r).mean(axis=2)
            _report(progress, i1 / ny)
        return z
    cols = max(1, CHUNK // n)  # one grid row is more than a chunk: split its columns
    for i in range(ny):
        with np.errstate(all="ignore"):
            c = base + ys[i] * phi_b
        for j0 in range(0, nx, cols):
            j1 = min(nx, j0 + cols)
            with np.errstate(all="ignore"):
                r = np.multiply.outer(xs[j0:j1], phi_a)
                r += c
                z[i, j0:j1] = loss.value(r).mean(axis=1)
            _report(progress, (i * nx + j1) / (ny * nx))
    return z


def curve_1d(objective: Objective, index: int, fixed: Sequence[float], xs) -> np.ndarray:
    """The objective along one parameter, the others held at ``fixed``.

    Parameters
    ----------
    objective : Objective
        Any objective (1-D functions, or a slice of a many-parameter one).
    index : int
        The parameter that varies.
    fixed : sequence of float
        All ``d`` parameters; entry ``index`` is not used.
    xs : array_like
        1-D coordinates of parameter ``index``.

    Returns
    -------
    numpy.ndarray
        ``values[j]`` = objective with parameter ``index`` at ``xs[j]``, shape ``(len(xs),)``.
    """
    dim = objective.dim
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) \
            or not 0 <= index < dim:
        raise ValueError(f"index must be a parameter index from 0 to {dim - 1}, got {index!r}")
    p = _check_fixed(fixed, dim, (index,))
    xs = _check_line("xs", xs)
    line = objective.fast_curve(index, p, xs)
    if line is not None:
        return line
    pts = np.empty((xs.size, dim))
    pts[:] = p
    pts[:, index] = xs
    with np.errstate(all="ignore"):
        return np.asarray(objective.values(pts), dtype=np.float64).reshape(xs.size)


def gradient_field(objective: Objective, axes: tuple[int, int], fixed: Sequence[float],
                   xs, ys) -> tuple[np.ndarray, np.ndarray]:
    """The two gradient components along ``axes`` on a grid (for arrows).

    Parameters
    ----------
    objective, axes, fixed, xs, ys
        As for :func:`surface_grid`.

    Returns
    -------
    U, V : numpy.ndarray
        ``∂f/∂θ[axes[0]]`` and ``∂f/∂θ[axes[1]]`` at ``(xs[j], ys[i])``, each of shape
        ``(len(ys), len(xs))``.

    Notes
    -----
    MSE fits use the closed form ``2(Aθ − b)``; everything else calls
    ``objective.value_and_grad`` on all grid points at once (for dataset fits this costs
    ``nx·ny·n``, so keep arrow grids coarse).
    """
    a, b = _check_axes(axes, objective.dim)
    p = _check_fixed(fixed, objective.dim, (a, b))
    xs, ys = _check_line("xs", xs), _check_line("ys", ys)
    ny, nx = ys.size, xs.size
    uv = objective.fast_gradient_field((a, b), p, xs, ys)
    if uv is not None:
        return uv
    pts = _plane_points(objective.dim, (a, b), p, xs, ys)
    with np.errstate(all="ignore"):
        _, g = objective.value_and_grad(pts)
    g = np.asarray(g, dtype=np.float64)
    return g[:, a].reshape(ny, nx).copy(), g[:, b].reshape(ny, nx).copy()
