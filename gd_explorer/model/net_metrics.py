"""What the network views draw, computed where the runs are (no Qt here).

:class:`DecisionCache` answers the Decision view: the selected run's P(class 1) on a grid
over the input plane at one recorded row, its 0.5 contour (contourpy) and the train and
test accuracy there, kept for that run and row (the view asks at every paced tick; a
paused or scrubbed run costs nothing after the first).

:class:`MetricsTracker` keeps, for every run, the objective's :attr:`metric_names`
(training loss on all the data, test loss, accuracies) and the per-layer norms of the
parameters and of the recorded gradient at decimated rows, extended incrementally as the
runs grow, as :class:`~gd_explorer.model.curvature.SharpnessTracker` does: kept rows are
the multiples of a power-of-two stride that doubles when a run would exceed
:data:`METRICS_ROWS`, and one update evaluates at most :data:`METRICS_BUDGET` residuals
over all the runs (the view asks again soon while rows are missing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import contourpy
import numpy as np

#: the metrics view draws at most this many rows a run (every s-th, s a power of 2)
METRICS_ROWS = 2000
#: residuals (rows × samples × width/4, the objective's evaluation cost) one update of the
#: metrics may evaluate, all runs together: ~60 rows of a 2-16-16-1 net on 200 points
METRICS_BUDGET = 1_000_000
#: points per axis of the decision function's grid
DECISION_GRID = 100
#: the grid reaches this share of the data's span beyond the data on each side
DECISION_MARGIN = 0.15


# ============================================================================ decision
@dataclass(frozen=True)
class DecisionMap:
    """A classifier's decision function at one row of one run.

    Attributes
    ----------
    run_id, row, label, color
        The run, the recorded row and the run's legend text and colour.
    xs, ys
        Grid coordinates ``(nx,)`` and ``(ny,)`` of the two inputs.
    probability
        P(class 1) = sigmoid(z) ``(ny, nx)`` (row-major: ``probability[j, i]`` at
        ``(xs[i], ys[j])``); NaN where the network's output is not finite.
    contour
        The 0.5 level ``(m, 2)``, pieces separated by NaN rows (empty: none in the grid).
    train_accuracy, test_accuracy
        Shares of points classified right (NaN: no test split, or outputs not finite).
    data
        The :class:`~gd_explorer.core.problems.objectives.DecisionData` drawn over it.
    """

    run_id: int
    row: int
    label: str
    color: str
    xs: np.ndarray
    ys: np.ndarray
    probability: np.ndarray
    contour: np.ndarray
    train_accuracy: float
    test_accuracy: float
    data: object


def decision_grid(data, n: int = DECISION_GRID) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points per axis over all the inputs (train and test) with a margin."""
    pts = np.vstack([data.x, data.x_test]) if len(data.x_test) else np.asarray(data.x)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    axes = []
    for i in range(2):
        lo, hi = (float(pts[:, i].min()), float(pts[:, i].max())) if len(pts) else (-1.0, 1.0)
        pad = DECISION_MARGIN * (hi - lo) if hi > lo else 1.0
        axes.append(np.linspace(lo - pad, hi + pad, n))
    return axes[0], axes[1]


def half_contour(xs, ys, prob) -> np.ndarray:
    """The 0.5 level of ``prob`` ``(ny, nx)`` as NaN-separated points ``(m, 2)``."""
    z = np.ma.masked_invalid(prob)
    if z.mask is not np.ma.nomask and z.mask.all():
        return np.empty((0, 2))
    gen = contourpy.contour_generator(xs, ys, z, line_type="ChunkCombinedNan")
    pieces = [p for p in gen.lines(0.5)[0] if p is not None]
    return np.vstack(pieces) if pieces else np.empty((0, 2))


def decision_map(objective, snap, row: int, n: int = DECISION_GRID) -> DecisionMap | None:
    """The decision function of ``snap``'s run at recorded ``row`` (None: no classifier)."""
    data = objective.decision_data()
    if data is None or row < 0:
        return None
    xs, ys = decision_grid(data, n)
    gx, gy = np.meshgrid(xs, ys)  # (ny, nx): row j is ys[j]
    p = np.array(snap.params[row], dtype=np.float64)
    with np.errstate(all="ignore"):
        prob = np.asarray(objective.probability(p, np.column_stack([gx.ravel(), gy.ravel()])),
                          dtype=np.float64).reshape(gy.shape)
    prob = np.where(np.isfinite(prob), prob, np.nan)
    m = objective.metrics(p[None, :])
    return DecisionMap(snap.run_id, row, snap.label, snap.color, xs, ys, prob,
                       half_contour(xs, ys, prob),
                       float(m.get("train accuracy", [math.nan])[0]),
                       float(m.get("test accuracy", [math.nan])[0]), data)


class DecisionCache:
    """The last :func:`decision_map`, kept while the objective, run, row and parameters
    stay the same (a scrubbed timeline or a paused run computes once)."""

    def __init__(self):
        self._key = None
        self._objective = None
        self._map: DecisionMap | None = None
        self.computed = 0  # for tests and benchmarks: maps computed so far

    def get(self, objective, snap, row: int) -> DecisionMap | None:
        if snap is None or row < 0 or objective.decision_data() is None:
            return None
        key = (snap.run_id, row, snap.params[row].tobytes(), snap.label, snap.color)
        if objective is not self._objective or key != self._key:
            self._map = decision_map(objective, snap, row)
            self._objective, self._key = objective, key
            self.computed += 1
        return self._map


# ============================================================================ metrics
@dataclass(frozen=True)
class MetricsRun:
    """One run's measures at decimated rows ``steps`` ``(m,)``: ``values`` name -> ``(m,)``
    (the objective's :attr:`metric_names`), ``weight_norms`` and ``grad_norms``
    ``(m, layers)`` (the norm of each layer's parameters and of its recorded gradient);
    ``rows`` the run's recorded rows, ``done``
    the rows computed so far (below ``rows`` while a long run fills in)."""

    run_id: int
    label: str
    color: str
    visible: bool
    steps: np.ndarray
    values: dict
    weight_norms: np.ndarray
    grad_norms: np.ndarray
    rows: int = 0
    done: int = 0


@dataclass(frozen=True)
class Metrics:
    """Every run's :class:`MetricsRun`, the measures' names and the layers' titles."""

    runs: tuple[MetricsRun, ...]
    names: tuple[str, ...]
    layer_titles: tuple[str, ...] = ()
    selected_id: int | None = None
    cursor: int | None = None

    @property
    def selected(self) -> MetricsRun | None:
        return next((r for r in self.runs if r.run_id == self.selected_id), None)

    @property
    def complete(self) -> bool:
        """Every run's rows are computed (else ask again: the budget cut this update)."""
        return all(r.done >= r.rows for r in self.runs)


@dataclass
class _Rows:
    stride: int = 1
    n: int = 0
    sign: tuple = ()
    steps: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    values: dict = field(default_factory=dict)
    weight_norms: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    grad_norms: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))


def _sign(snap) -> tuple:
    # a run edited in place restarts: new settings or a new start mean new rows
    n = snap.n
    return (snap.optimizer, float(snap.lr[0]) if n else None,
            snap.params[0].tobytes() if n else b"",
            repr({k: v for k, v in (snap.hyper or {}).items() if k not in ("momentum", "betas")}))


class MetricsTracker:
    """The objective's metrics and the layer norms along every run, each row computed once.

    :meth:`update` brings every run up to date (within the budget: a long run fills in
    over several calls) and forgets runs that are gone; :meth:`reset` forgets everything
    (a new problem).
    """

    def __init__(self, limit: int = METRICS_ROWS, budget: int = METRICS_BUDGET):
        self.limit = int(limit)
        self.budget = int(budget)
        self._runs: dict[int, _Rows] = {}
        self._objective = None
        self.rows_computed = 0  # for tests and benchmarks

    def reset(self) -> None:
        self._runs.clear()
        self._objective = None

    def update(self, objective, snapshots, selected_id=None, cursor=None) -> Metrics:
        if objective is not self._objective:
            self.reset()
            self._objective = objective
        names = tuple(objective.metric_names)
        layers = objective.layers()
        keep = {s.run_id for s in snapshots}
        for rid in [r for r in self._runs if r not in keep]:
            del self._runs[rid]
        out = []
        # rows this update may evaluate, all runs together (a row costs a pass over the data)
        cost = max(1, int(getattr(objective, "evaluation_cost", 1)))
        budget = max(1, self.budget // cost)
        for snap in snapshots:
            rec = self._runs.get(snap.run_id)
            sign = _sign(snap)
            if rec is None or rec.n > snap.n or rec.sign != sign:
                rec = self._runs[snap.run_id] = _Rows(sign=sign, values={
                    name: np.empty(0) for name in names})
            if snap.n > rec.n and budget > 0:
                budget -= self._extend(objective, layers, snap, rec, budget)
            out.append(MetricsRun(snap.run_id, snap.label, snap.color, snap.visible, rec.steps,
                                  dict(rec.values), rec.weight_norms, rec.grad_norms,
                                  snap.n, rec.n))
        titles = tuple(layers.layer_titles) if layers is not None else ()
        return Metrics(tuple(out), names, titles, selected_id, cursor)

    def _extend(self, objective, layers, snap, rec: _Rows, budget: int) -> int:
        """Compute up to ``budget`` new kept rows of ``snap``; returns how many."""
        n = snap.n
        stride = rec.stride
        while n > self.limit * stride:
            stride *= 2
        if stride != rec.stride:
            kept = rec.steps % stride == 0
            rec.steps = rec.steps[kept]
            rec.values = {k: v[kept] for k, v in rec.values.items()}
            rec.weight_norms, rec.grad_norms = rec.weight_norms[kept], rec.grad_norms[kept]
            rec.stride = stride
        start = -(-rec.n // stride) * stride
        rows = np.arange(start, n, stride, dtype=np.int64)
        if rows.size > budget:
            rows = rows[:budget]
            n = int(rows[-1]) + 1
        if rows.size:
            pts = np.asarray(snap.params[rows], dtype=np.float64)
            with np.errstate(all="ignore"):
                values = objective.metrics(pts) if rec.values else {}
                if layers is not None:
                    wn = layers.layer_norms(pts)
                    gn = layers.layer_norms(np.asarray(snap.grad[rows], dtype=np.float64))
                else:
                    wn = gn = np.empty((len(rows), 0))
            rec.steps = np.concatenate([rec.steps, rows])
            rec.values = {k: np.concatenate([v, values[k]]) for k, v in rec.values.items()}
            if rec.weight_norms.shape[1] != wn.shape[1]:
                rec.weight_norms = np.empty((0, wn.shape[1]))
                rec.grad_norms = np.empty((0, wn.shape[1]))
            rec.weight_norms = np.vstack([rec.weight_norms, wn])
            rec.grad_norms = np.vstack([rec.grad_norms, gn])
            self.rows_computed += len(rows)
        rec.n = n
        return int(rows.size)
