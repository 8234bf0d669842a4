"""The extreme eigenvalues of a Hessian from Hessian-vector products: Lanczos.

A network of 337 … 20,000 parameters has a Hessian nobody should build (d gradient pairs
and an O(d³) eigendecomposition); its sharpness λmax needs only products H·v
(:meth:`~gd_explorer.core.problems.objectives.Objective.hvp`).  :func:`lanczos` runs m
steps of the symmetric Lanczos iteration from a seeded start vector, with *full*
reorthogonalisation (classical Gram–Schmidt, twice, against every earlier vector: m ≤ a
few dozen, so this costs nothing beside the products and keeps the Ritz values free of
the spurious copies plain Lanczos produces in floating point).  The tridiagonal matrix T
it builds has Ritz values θ that lie inside [λmin, λmax] and converge to both ends first:
for a separated top eigenvalue, 20 steps give λmax to ~1e-8 relative or better.

Everything is batched over k points (rows): ``matvec`` maps ``(k, d)`` directions to
``(k, d)`` products, one Krylov space per row (the sharpness of many steps at once).  The
start vector is one seeded draw shared by all rows, so a row's answer does not depend on
which rows it was batched with.

Convergence measure: the residual of a Ritz pair (θ, y = Q·s) is ‖H·y − θ·y‖ = |β_m·s_m|
(floored at eps·‖H‖, what the products resolve)
(β_m the last off-diagonal, s_m the eigenvector's last component of T), computed without
another product; :attr:`LanczosResult.relative_residual` divides it by |θ|.  Since an
eigenvalue of H lies within that residual of θ, it is an error bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["LANCZOS_ITERATIONS", "LanczosResult", "hessian_extremes", "lanczos"]

#: Lanczos steps (Hessian-vector products) per point by default
LANCZOS_ITERATIONS = 20


@dataclass(frozen=True)
class LanczosResult:
    """Ritz values of every row, ascending, and their residuals.

    Attributes
    ----------
    ritz : ndarray
        ``(k, m)`` Ritz values, ascending (NaN rows: a product was not finite).
    residuals : ndarray
        ``(k, m)`` ‖H·y − θ·y‖ of each Ritz pair.
    iterations : int
        The Lanczos steps taken, m (at most d: then the Ritz values are H's eigenvalues).
    """

    ritz: np.ndarray
    residuals: np.ndarray
    iterations: int

    @property
    def lmax(self) -> np.ndarray:
        """The estimate of λmax per row ``(k,)`` (a lower bound: Ritz values lie inside)."""
        return self.ritz[:, -1]

    @property
    def lmin(self) -> np.ndarray:
        """The estimate of λmin per row ``(k,)`` (an upper bound; converges more slowly
        where the bottom of the spectrum is crowded)."""
        return self.ritz[:, 0]

    @property
    def relative_residual(self) -> np.ndarray:
        """The top Ritz pair's residual over |λmax| per row ``(k,)``."""
        with np.errstate(all="ignore"):
            return self.residuals[:, -1] / np.abs(self.ritz[:, -1])

    @property
    def relative_residual_min(self) -> np.ndarray:
        """The bottom Ritz pair's residual over |λmax| per row ``(k,)``."""
        with np.errstate(all="ignore"):
            return self.residuals[:, 0] / np.abs(self.ritz[:, -1])


def lanczos(matvec: Callable[[np.ndarray], np.ndarray], k: int, d: int,
            iterations: int = LANCZOS_ITERATIONS, seed: int = 0) -> LanczosResult:
    """Lanczos with full reorthogonalisation on the symmetric operators ``matvec``
    (``(k, d)`` -> ``(k, d)``, one operator per row), from a seeded start vector.

    Parameters
    ----------
    matvec
        H·v for every row at once.
    k, d
        Rows (operators) and their dimension.
    iterations
        Steps m (products per row); capped at d.  Must be at least 1.
    seed
        The start vector's seed (a standard normal draw, normalised).

    Returns
    -------
    LanczosResult
        Ritz values and residuals; rows whose products were not finite are NaN.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) \
            or iterations < 1:
        raise ValueError(f"Lanczos needs at least one iteration, got {iterations!r}")
    m = min(int(iterations), int(d))
    rng = np.random.default_rng(seed)
    q = np.broadcast_to(rng.standard_normal(d), (k, d)).copy()
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    basis = np.empty((k, m, d))
    alpha = np.zeros((k, m))
    beta = np.zeros((k, m))  # beta[:, j]: between q_j and q_{j+1}; beta[:, m-1]: the residual's
    bad = np.zeros(k, dtype=bool)
    scale = np.zeros(k)  # the largest ‖H·q‖ seen: what "β ≈ 0" is relative to
    with np.errstate(all="ignore"):
        for j in range(m):
            basis[:, j] = q
            w = np.asarray(matvec(q), dtype=np.float64).reshape(k, d)
            finite = np.all(np.isfinite(w), axis=1)
            bad |= ~finite
            w[~finite] = 0.0
            scale = np.maximum(scale, np.linalg.norm(w, axis=1))
            alpha[:, j] = np.einsum("kd,kd->k", w, q)
            for _ in range(2):  # full reorthogonalisation, twice (Kahan: twice is enough)
                coef = np.einsum("kjd,kd->kj", basis[:, :j + 1], w)
                w -= np.einsum("kjd,kj->kd", basis[:, :j + 1], coef)
            b = np.linalg.norm(w, axis=1)
            beta[:, j] = b
            if j == m - 1:
                break
            # an invariant subspace found (β ≈ 0): go on from a fresh direction orthogonal
            # to the basis, with β = 0 (T splits into blocks; its eigenvalues stay H's)
            stuck = b <= 1e-13 * np.maximum(scale, np.finfo(np.float64).tiny)
            if stuck.any():
                fresh = rng.standard_normal((int(stuck.sum()), d))
                for _ in range(2):
                    fb = basis[stuck, :j + 1]
                    fresh -= np.einsum("kjd,kj->kd", fb, np.einsum("kjd,kd->kj", fb, fresh))
                w[stuck] = fresh
                beta[stuck, j] = 0.0
                b = np.where(stuck, np.linalg.norm(w, axis=1), b)
            q = w / np.where(b > 0, b, 1.0)[:, None]
    t = np.zeros((k, m, m))
    idx = np.arange(m)
    t[:, idx, idx] = alpha
    if m > 1:
        t[:, idx[:-1], idx[1:]] = beta[:, :-1]
        t[:, idx[1:], idx[:-1]] = beta[:, :-1]
    theta, s = np.linalg.eigh(t)
    # |β_m·s_m| can underflow far below what the products resolve: floor it at the
    # rounding of a product, eps·‖H‖ (‖H‖ ≈ the largest ‖H·q‖ seen)
    res = np.maximum(np.abs(beta[:, -1:] * s[:, -1, :]),
                     np.finfo(np.float64).eps * scale[:, None])
    theta[bad] = np.nan
    res[bad] = np.nan
    return LanczosResult(theta, res, m)


def hessian_extremes(objective, points: np.ndarray, iterations: int = LANCZOS_ITERATIONS,
                     seed: int = 0, maximize: bool = False) -> LanczosResult:
    """Lanczos on the Hessian of ``objective`` (of −f when ``maximize``) at points
    ``(k, d)``, by its :meth:`~gd_explorer.core.problems.objectives.Objective.hvp`."""
    points = np.atleast_2d(np.asarray(points, dtype=np.float64))
    k, d = points.shape
    sign = -1.0 if maximize else 1.0

    def matvec(v):
        return sign * objective.hvp(points, v)

    return lanczos(matvec, k, d, iterations, seed)
