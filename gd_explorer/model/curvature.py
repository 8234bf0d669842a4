"""Curvature of the objective where the runs are: at the timeline cursor, and along the paths.

Plain data and numpy (no Qt): :func:`curvature_at` answers what the step log and the
surface's ellipse show for the selected run at one row (eigenvalues, eigenvectors,
condition number, the optimizer's stability edge); :class:`SharpnessTracker` keeps
λmax(H(p_k)) along every run for the sharpness view, decimated to at most
``SHARPNESS_ROWS`` rows a run and extended incrementally as the runs grow, with batched
Hessians and one ``eigvalsh``.

Beyond :data:`LANCZOS_DIM` parameters (a network: 337 … 20,000) no d×d Hessian is built:
λmax (and λmin) come from Lanczos on Hessian-vector products
(:mod:`gd_explorer.core.problems.lanczos`), the objective's ``hvp``; the step log then
gives those two estimates and their residuals instead of d eigenvalues, and the surface
draws no curvature contour.

Hessians are of the function being *minimised*: for gradient ascent that is −f, so a
maximum reads as a bowl and the optimizers' edges apply unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gd_explorer.core.optim.optimizers import OPTIMIZERS
from gd_explorer.core.problems.lanczos import LANCZOS_ITERATIONS, LanczosResult, hessian_extremes

#: the sharpness view draws at most this many rows a run (every s-th, s a power of 2)
SHARPNESS_ROWS = 2000
#: residuals (rows × samples) one update of the sharpness may evaluate: ~10 ms
SHARPNESS_BUDGET = 2_000_000
#: eigenvalues this small relative to the largest |λ| count as zero (a flat direction)
FLAT = 1e-12
#: above this many parameters curvature comes from Lanczos on Hessian-vector products, not
#: a d×d Hessian (measured on tanh nets, 200 points, a network's exact Hessian from d
#: products and eigvalsh against 20 Lanczos steps: d = 13: 0.24 vs 2.8 ms; d = 37: 6.0 vs
#: 5.2 ms; d = 67: 42 vs 7 ms; d = 337: 250 vs 10 ms)
LANCZOS_DIM = 32
#: ... and the sharpness view keeps at most this many rows a run (20 Lanczos products at a
#: 321-parameter net on 200 points: ~4 ms a row; 400 rows fill in about 2 s)
LANCZOS_ROWS = 400


def uses_lanczos(objective) -> bool:
    """Whether the curvature of ``objective`` is estimated by Lanczos (many parameters)."""
    return objective.dim > LANCZOS_DIM


@dataclass(frozen=True)
class Curvature:
    """The local quadratic model of the minimised function at one point of one run.

    Attributes
    ----------
    run_id, row
        The run and the recorded row (the timeline's step).
    point
        The parameters ``(d,)`` at that row.
    hessian
        ``(d, d)`` Hessian of the minimised function (−f for gradient ascent); None when
        estimated by Lanczos (``lanczos``).
    eigenvalues, eigenvectors
        Ascending eigenvalues ``(d,)``; eigenvectors as columns ``(d, d)``.  By Lanczos:
        the estimates ``(λmin, λmax)`` and no eigenvectors (None).
    lr
        The run's learning rate at that row.
    edge
        The optimizer's largest stable rate there (None: no closed form known; inf: the
        curvature sets no bound).
    optimizer_title
        For the text ("SGD (momentum, Nesterov)").
    from_latest_state
        The edge uses the optimizer's state after the latest step (the state is not
        stored per step), while the row is an earlier one.
    uses_state
        The edge freezes the optimizer's state (an adaptive rule's preconditioner).
    note
        What the objective's Hessian is, in words (a dataset loss), or "".
    axes
        The parameter columns on the surface's x and y (for :meth:`ellipse`).
    lanczos
        For many parameters: the Lanczos result (Ritz values, residuals, steps) the
        estimates come from; None for a full Hessian.
    """

    run_id: int
    row: int
    point: np.ndarray
    hessian: np.ndarray | None
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray | None
    lr: float
    edge: float | None
    optimizer_title: str = ""
    from_latest_state: bool = False
    uses_state: bool = False
    note: str = ""
    axes: tuple[int, ...] = (0, 1)
    lanczos: LanczosResult | None = None

    @property
    def finite(self) -> bool:
        """Whether the Hessian has finite entries (Ackley's origin, a runaway run: not)."""
        if self.hessian is None:
            return bool(np.all(np.isfinite(self.eigenvalues)))
        return bool(np.all(np.isfinite(self.hessian)))

    @property
    def definiteness(self) -> str:
        """"positive definite", "negative definite", "indefinite" or "singular"."""
        return _definiteness(self.eigenvalues) if self.finite else "not finite"

    @property
    def kappa(self) -> float | None:
        """The condition number λmax/λmin where positive definite, else None."""
        lam = self.eigenvalues
        if not self.finite or self.definiteness != "positive definite" \
                or self.lanczos is not None:  # λmin by Lanczos is too rough for a ratio
            return None
        return float(lam[-1] / lam[0])

    @property
    def stable(self) -> bool | None:
        """Whether the run's rate is below the edge (None: no edge known)."""
        if self.edge is None:
            return None
        return self.lr < self.edge

    def edge_text(self) -> str:
        """The edge in words: "stable here for lr < 0.0198 (lr = 0.01: stable)"."""
        if not self.finite:
            return "no edge: the Hessian is not finite here"
        if self.edge is None and self.lanczos is not None and self.uses_state:
            return (f"edge not computed for {len(self.point):,} parameters: an adaptive "
                    "rule's is on its preconditioned Hessian")
        if self.edge is None:
            return (f"no known closed form for {self.optimizer_title or 'this optimizer'}'s "
                    "edge (unknown)")
        if math.isinf(self.edge):
            return "no edge: not positive definite (no positive curvature bounds the rate)"
        verdict = "stable" if self.lr < self.edge else "unstable: above the edge"
        text = f"stable here for lr < {_num(self.edge)} (lr = {_num(self.lr)}: {verdict})"
        kind = self.definiteness
        if kind == "singular" and not np.any(self.eigenvalues < 0):
            text += "; singular: along the flat direction no rate diverges (nor converges)"
        elif kind != "positive definite":
            text += "; not positive definite: along negative curvature no rate is stable"
        return text

    # -- the 2×2 block on the surface's axes, and its contour
    def block(self) -> np.ndarray | None:
        """The Hessian's 2×2 block on the surface axes (None for one parameter)."""
        if self.hessian is None or len(self.axes) < 2 or self.hessian.shape[0] < 2:
            return None
        i, j = self.axes[:2]
        return self.hessian[np.ix_([i, j], [i, j])]

    def contour(self, size: float, n: int = 181) -> tuple[str, np.ndarray | None]:
        """The local quadratic model's level curve δᵀBδ = c around the point, on the
        surface axes, scaled so its longest half-axis is ``size``.

        Returns ``(kind, xy)``: kind "ellipse" (B definite: half-axes along B's
        eigenvectors, lengths ∝ 1/√|λ|), "hyperbola" (indefinite: the curves δᵀBδ = ±c,
        NaN between branches) or "none" (singular or not finite; xy None).
        """
        b = self.block()
        if b is None or not np.all(np.isfinite(b)):
            return "none", None
        lam, vec = np.linalg.eigh(b)
        kind = _definiteness(lam)
        centre = self.point[list(self.axes[:2])]
        if kind in ("positive definite", "negative definite"):
            half = 1.0 / np.sqrt(np.abs(lam))
            half = half * (size / half.max())
            t = np.linspace(0.0, 2.0 * np.pi, n)
            local = np.outer(np.cos(t), half[0] * vec[:, 0]) + np.outer(np.sin(t), half[1] * vec[:, 1])
            return "ellipse", centre + local
        if kind == "indefinite":
            half = 1.0 / np.sqrt(np.abs(lam))
            half = half * (size / (2.0 * half.max()))
            s = np.linspace(-1.5, 1.5, n // 4)
            parts = []
            pos, neg = (1, 0) if lam[1] > 0 else (0, 1)
            for major, minor in ((pos, neg), (neg, pos)):  # δᵀBδ = +c, then −c
                for sign in (1.0, -1.0):
                    branch = (np.outer(sign * np.cosh(s), half[major] * vec[:, major])
                              + np.outer(np.sinh(s), half[minor] * vec[:, minor]))
                    parts += [centre + branch, np.full((1, 2), np.nan)]
            return "hyperbola", np.vstack(parts)
        return "none", None

    def axis_lengths(self) -> np.ndarray | None:
        """Relative half-axis lengths 1/√|λ| of the 2×2 block's contour (ascending λ)."""
        b = self.block()
        if b is None or not np.all(np.isfinite(b)):
            return None
        lam = np.linalg.eigvalsh(b)
        with np.errstate(divide="ignore"):
            return 1.0 / np.sqrt(np.abs(lam))


def _definiteness(lam: np.ndarray) -> str:
    scale = float(np.max(np.abs(lam))) if lam.size else 0.0
    if scale == 0.0 or np.any(np.abs(lam) <= FLAT * scale):
        return "singular"
    if np.all(lam > 0):
        return "positive definite"
    if np.all(lam < 0):
        return "negative definite"
    return "indefinite"


def _num(v: float) -> str:
    return f"{v:.4g}"


def minimised_hessian(objective, points: np.ndarray, maximize: bool) -> np.ndarray:
    """The Hessian at ``points`` of the function the run minimises (−f when ascending)."""
    with np.errstate(all="ignore"):
        h = objective.hessian(points)
    return -h if maximize else h


def optimizer_edge(snap, hessian: np.ndarray) -> float | None:
    """The snapshot's optimizer's stability edge for ``hessian`` (its latest state)."""
    entry = OPTIMIZERS.get(snap.optimizer)
    if entry is None or not np.all(np.isfinite(hessian)):
        return None
    state = {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in (snap.state or {}).items()}
    state["step"] = max(snap.n - 1, 0)
    hyper = {k: v for k, v in (snap.hyper or {}).items() if k not in ("lr", "maximize")}
    with np.errstate(all="ignore"):
        try:
            return entry.stability_edge(hyper, hessian, state)
        except (ValueError, KeyError, np.linalg.LinAlgError):
            return None


def lanczos_edge(snap, lmax: float) -> float | None:
    """The edge of a rule whose edge depends on λmax alone (SGD), from a λmax estimate;
    None for an adaptive rule (its edge is on the preconditioned Hessian) or unknown."""
    entry = OPTIMIZERS.get(snap.optimizer)
    if entry is None or entry.adaptive or not math.isfinite(lmax):
        return None
    hyper = {k: v for k, v in (snap.hyper or {}).items() if k not in ("lr", "maximize")}
    try:
        return entry.stability_edge(hyper, np.array([[lmax]]), None)
    except (ValueError, KeyError, np.linalg.LinAlgError):
        return None


def curvature_at(objective, snap, row: int, axes=(0, 1), maximize: bool = False) -> Curvature:
    """The curvature of ``snap``'s run at recorded ``row`` (see :class:`Curvature`); for
    more than :data:`LANCZOS_DIM` parameters λmin and λmax by Lanczos."""
    p = np.array(snap.params[row], dtype=np.float64)
    if uses_lanczos(objective):
        res = hessian_extremes(objective, p[None, :], maximize=maximize)
        lam = np.array([res.lmin[0], res.lmax[0]])
        return Curvature(
            run_id=snap.run_id, row=row, point=p, hessian=None, eigenvalues=lam,
            eigenvectors=None, lr=float(snap.lr[row]), edge=lanczos_edge(snap, lam[1]),
            optimizer_title=snap.optimizer_title, from_latest_state=row != snap.n - 1,
            uses_state=bool(getattr(OPTIMIZERS.get(snap.optimizer), "adaptive", False)),
            note=getattr(objective, "curvature_note", ""), axes=tuple(axes), lanczos=res,
        )
    h = minimised_hessian(objective, p, maximize)
    if np.all(np.isfinite(h)):
        lam, vec = np.linalg.eigh(h)
    else:
        lam, vec = np.full(len(p), np.nan), np.full((len(p), len(p)), np.nan)
    return Curvature(
        run_id=snap.run_id, row=row, point=p, hessian=h, eigenvalues=lam, eigenvectors=vec,
        lr=float(snap.lr[row]), edge=optimizer_edge(snap, h),
        optimizer_title=snap.optimizer_title, from_latest_state=row != snap.n - 1,
        uses_state=bool(getattr(OPTIMIZERS.get(snap.optimizer), "adaptive", False)),
        note=getattr(objective, "curvature_note", ""), axes=tuple(axes),
    )


# ----------------------------------------------------------------------------- sharpness
@dataclass(frozen=True)
class SharpnessRun:
    """λmax(H(p_k)) of one run at decimated rows: ``steps`` ``(m,)``, ``lmax`` ``(m,)``;
    ``lr_edge`` the sharpness ``2/lr`` above which plain GD at the run's latest rate
    diverges (NaN for an adaptive optimizer: its edge is on the preconditioned Hessian);
    ``own_edge`` the sharpness its optimizer tolerates at that rate where a
    closed form in λmax alone is known (SGD with momentum: (2 + 2μ)/lr), else None."""

    run_id: int
    label: str
    color: str
    steps: np.ndarray
    lmax: np.ndarray
    lr_edge: float
    own_edge: float | None
    complete: bool = True  # every kept row computed (False: more on the next calls)


class SharpnessTracker:
    """λmax along every run, computed once per kept row and extended as runs grow.

    Rows kept are the multiples of a stride (a power of two) that doubles whenever a run
    would exceed :data:`SHARPNESS_ROWS`, so rows computed earlier stay kept or are
    dropped, never recomputed.  One call evaluates at most :data:`SHARPNESS_BUDGET`
    residuals (a dataset's cost a row; by Lanczos, for many parameters, that times its
    :data:`~gd_explorer.core.problems.lanczos.LANCZOS_ITERATIONS` products): a large fit
    fills in over several calls.
    :meth:`reset` forgets everything (a new problem).
    """

    def __init__(self, limit: int = SHARPNESS_ROWS, budget: int = SHARPNESS_BUDGET):
        self.limit = int(limit)
        self.budget = int(budget)
        self._runs: dict[int, dict] = {}
        self.rows_computed = 0  # for tests and benchmarks: Hessians evaluated so far

    def reset(self) -> None:
        self._runs.clear()

    def update(self, objective, snapshots, maximize: bool = False) -> list[SharpnessRun]:
        """Bring every run up to date and return them (runs gone are forgotten)."""
        keep = {s.run_id for s in snapshots}
        for rid in [r for r in self._runs if r not in keep]:
            del self._runs[rid]
        out = []
        for snap in snapshots:
            rec = self._runs.get(snap.run_id)
            n = snap.n
            # a run edited in place restarts: new settings or a new start mean new rows
            sign = (snap.optimizer, float(snap.lr[0]) if n else None,
                    snap.params[0].tobytes() if n else b"",
                    repr({k: v for k, v in (snap.hyper or {}).items()
                          if k not in ("momentum", "betas")}))
            if rec is None or rec["n"] > n or rec["sign"] != sign:
                rec = {"stride": 1, "steps": np.empty(0, np.int64), "lmax": np.empty(0),
                       "n": 0, "sign": sign}
                self._runs[snap.run_id] = rec
            if n > rec["n"]:
                self._extend(objective, snap, rec, maximize)
            lr = float(snap.lr[n - 1]) if n else math.nan
            # 2/lr is plain GD's edge; an adaptive rule's is on its preconditioned Hessian
            adaptive = snap.entry is not None and snap.entry.adaptive
            out.append(SharpnessRun(snap.run_id, snap.label, snap.color, rec["steps"],
                                    rec["lmax"],
                                    2.0 / lr if lr > 0 and not adaptive else math.nan,
                                    _own_edge(snap, lr), rec["n"] >= n))
        return out

    def _extend(self, objective, snap, rec, maximize) -> None:
        n = snap.n
        stride = rec["stride"]
        limit = min(self.limit, LANCZOS_ROWS) if uses_lanczos(objective) else self.limit
        while n > limit * stride:
            stride *= 2
        if stride != rec["stride"]:
            keep = rec["steps"] % stride == 0
            rec["steps"], rec["lmax"] = rec["steps"][keep], rec["lmax"][keep]
            rec["stride"] = stride
        first = rec["n"]
        start = -(-first // stride) * stride
        rows = np.arange(start, n, stride, dtype=np.int64)
        # a big dataset's Hessian costs a pass over its samples a row: at most a budget a
        # call, the rest on the next ones (the display never waits for a long fill)
        lanczos = uses_lanczos(objective)
        cost = max(1, int(getattr(objective, "evaluation_cost", 1)))
        if lanczos:
            cost *= LANCZOS_ITERATIONS
        budget = max(1, self.budget // cost)
        if rows.size > budget:
            rows = rows[:budget]
            n = int(rows[-1]) + 1
        if rows.size:
            pts = np.asarray(snap.params[rows], dtype=np.float64)
            if lanczos:
                lam = hessian_extremes(objective, pts, maximize=maximize).lmax
            else:
                h = minimised_hessian(objective, pts, maximize)
                lam = np.full(len(rows), np.nan)
                ok = np.all(np.isfinite(h), axis=(1, 2))
                if ok.any():
                    lam[ok] = np.linalg.eigvalsh(h[ok])[:, -1]
            self.rows_computed += len(rows)
            rec["steps"] = np.concatenate([rec["steps"], rows])
            rec["lmax"] = np.concatenate([rec["lmax"], lam])
        rec["n"] = n


def _own_edge(snap, lr: float) -> float | None:
    """The sharpness the optimizer tolerates at rate ``lr`` when its edge depends on λmax
    alone (no state: SGD): ``edge(I)/lr``, since such edges scale as 1/λmax."""
    entry = OPTIMIZERS.get(snap.optimizer)
    if entry is None or entry.adaptive or not lr > 0:
        return None
    hyper = {k: v for k, v in (snap.hyper or {}).items()
             if k not in ("lr", "maximize", "weight_decay")}
    d = snap.params.shape[1] if snap.params.ndim == 2 else 1
    try:
        unit = entry.stability_edge(hyper, np.eye(d), None)
    except (ValueError, KeyError):
        return None
    if unit is None or not math.isfinite(unit):
        return None
    return float(unit) / lr
