"""The descent engine: runs an optimizer on an objective and records every step.

One :class:`Descent` advances ``k`` runs at once (the same optimizer and schedule from
``k`` start points, shape ``(k, d)``), so a single run, a comparison from many starts and
a sweep share one implementation.  It is driven step by step (:meth:`Descent.step`), in
chunks (:meth:`Descent.advance`, what the app's worker calls between checks of its stop
event) or to the end (:meth:`Descent.run`, :func:`run_descent`).

Recording
    Row ``i`` holds the point after ``i`` updates, the loss and gradient evaluated there
    (full-data values, also with mini-batches) and the rate used for the update that
    leaves it.  Rows go into preallocated float64 arrays that double when full; no
    per-step Python objects are kept.  A recorded step costs ``(2d + 1) * 8`` bytes per
    run plus 8 bytes for the rate.

Status
    ``running``, ``converged`` (gradient norm <= ``grad_tol`` or loss change <=
    ``loss_tol``, each only when > 0), ``max_steps``, ``diverged`` (the run ran away at
    step ``diverged_step``, see below) or ``stopped`` (by :meth:`Descent.stop`).

Divergence: running away
    At the start the engine evaluates the objective at probe points of its default
    window (corners, centre and up to 256 points spread inside; for a dataset one pass
    over the data, once per objective).  With ``f_ref`` the loss at the start and
    ``spread`` the largest ``|f(q) - f_ref|`` over those points (1 if that is 0 or not
    finite), a run diverges at the first step where

    * ``|f_k - f_ref| > RUNAWAY_FACTOR * spread`` (1e5): the loss moved 100,000 times
      further from its start than anything in the window is, up (a learning rate too
      large) or down (a saddle or an unbounded maximization running to -inf);
    * a parameter is more than ``RUNAWAY_WIDTHS`` (1e6) times ``max(window width,
      |start - centre|)`` from the window's centre: losses that stay bounded while the
      parameters fly off (``sin(x**2)``);
    * a loss, gradient or parameter is not finite or beyond ``DIVERGENCE_LIMIT`` (1e100).

    The factors are far beyond anything a converging or wandering run does (over 784
    built-in, dataset and typed configurations at 0.1 to 10 times the default rates, the
    largest excursion of a run that did not run away was 470 spreads and 240 widths:
    ``tests/benchmarks/calibrate_runaway.py``)
    and small enough that an exploding run is caught within a few dozen steps:
    ``x**2`` from 2.5 with lr 1.1 (``f_k = 6.25 * 1.44**k``) diverges at step 32, not
    at step 627 where the values pass 1e100.  The row where a run diverges is not kept
    (everything before it is, one convention whatever the reason); the message names
    the reason and the value: ``"diverged at step 32 (loss rose to 7.3e+05 from
    6.25)"``.  The rule is one set of per-run bounds (:class:`Runaway`) that both the
    array path and the scalar fast path compare against.

Determinism
    No randomness but the mini-batch order, drawn from ``numpy.random.default_rng(seed)``;
    the same configuration gives the same trajectory bit for bit.  A single run with a
    formula objective takes a fast path on Python floats with the same update rules.
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from gd_explorer.core.optim.hyper import check_whole
from gd_explorer.core.optim.optimizers import SCALAR_OPS, Optimizer
from gd_explorer.core.optim.schedules import ConstantSchedule, Schedule, set_momentum
from gd_explorer.core.problems.objectives import DIVERGENCE_LIMIT, Objective

STATUSES = ("running", "converged", "max_steps", "diverged", "stopped")
_NOTHING_TO_QUIET = contextlib.nullcontext()
#: rows the scalar path buffers before copying into the recording arrays
_FLUSH_ROWS = 1 << 15


#: the helpers the rules take on the scalar path (NaN behaves as in numpy)
_ScalarOps = SCALAR_OPS


def grad_norms(grad: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row of ``grad`` ``(n, d)`` (no overflow for huge components)."""
    if grad.shape[1] == 0:
        return np.zeros(len(grad))
    with np.errstate(over="ignore"):  # a norm beyond 1.8e308 is inf, and that is fine
        return np.hypot.reduce(grad, axis=1)


@dataclass
class Trajectory:
    """The recorded rows of one run: copies, safe to keep, or read-only views of the
    descent's recording (:meth:`Descent.trajectory` with ``copy=False``)."""

    names: tuple[str, ...]
    params: np.ndarray  # (n, d)
    loss: np.ndarray  # (n,)
    grad: np.ndarray  # (n, d)
    lr: np.ndarray  # (n,)
    status: str
    diverged_step: int | None = None
    message: str = ""

    @property
    def steps(self) -> int:
        """The number of updates recorded (rows minus one)."""
        return max(len(self.loss) - 1, 0)

    @property
    def grad_norm(self) -> np.ndarray:
        """Euclidean norm of the gradient per row (no overflow for huge components)."""
        return grad_norms(self.grad)

    @property
    def final(self) -> np.ndarray:
        """The last recorded point (NaNs when no row was recorded)."""
        if len(self.params) == 0:
            return np.full(len(self.names), np.nan)
        return self.params[-1]


class StepRecord(NamedTuple):
    """One row, as yielded by :meth:`Descent.records` (for scripting)."""

    step: int
    params: np.ndarray
    loss: float | np.ndarray
    grad: np.ndarray
    lr: float


class Runs(Sequence):
    """The trajectories of a batched descent, built on access (250,000 runs cost nothing)."""

    def __init__(self, descent: Descent):
        self.descent = descent

    def __len__(self) -> int:
        return self.descent.k

    def __getitem__(self, j):
        if isinstance(j, slice):
            return [self.descent.trajectory(i) for i in range(*j.indices(len(self)))]
        if not -len(self) <= j < len(self):
            raise IndexError(j)
        return self.descent.trajectory(j % len(self))


class MiniBatches:
    """Index batches of size ``batch_size`` over ``n`` samples, reshuffled every epoch.

    The last batch of an epoch may be smaller (torch DataLoader's ``drop_last=False``).
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0):
        self.n, self.batch_size = n, batch_size
        self.rng = np.random.default_rng(seed)
        self._order = np.empty(0, dtype=np.intp)
        self._pos = 0
        self.epoch = -1

    def next(self) -> np.ndarray:
        """The indices of the next mini-batch."""
        if self._pos >= self._order.size:
            self._order = self.rng.permutation(self.n)
            self._pos = 0
            self.epoch += 1
        idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx


_LIMIT_TEXT = f"{DIVERGENCE_LIMIT:.0e}".replace("e+", "e")  # "1e100"


def _num(v: float) -> str:
    return f"{float(v):.10g}"


def _start_problem(objective: Objective, point: np.ndarray, value: float,
                   grad: np.ndarray) -> str | None:
    """Why ``objective`` cannot start at ``point`` (its value and gradient), or None."""
    where = ", ".join(f"{n} = {_num(c)}" for n, c in zip(objective.names, point))
    lim = DIVERGENCE_LIMIT
    with np.errstate(all="ignore"):
        bad_g = [f"df/d{n} = {_num(c)}" for n, c in zip(objective.names, grad)
                 if not abs(c) < lim]
    if not math.isfinite(value) or not np.all(np.isfinite(grad)):
        parts = [f"f = {_num(value)}", *bad_g] if not math.isfinite(value) else bad_g
        return f"{objective.name} is not finite at the start ({where}): {', '.join(parts)}"
    if not np.all(np.abs(point) < lim):
        return f"the start ({where}) must be between -{_LIMIT_TEXT} and {_LIMIT_TEXT}"
    if not abs(value) < lim or bad_g:
        parts = ([f"f = {_num(value)}"] if not abs(value) < lim else []) + bad_g
        return (f"{objective.name} is too large at the start ({where}): {', '.join(parts)} "
                f"(the limit is {_LIMIT_TEXT})")
    return None


def check_start(objective: Objective, start) -> np.ndarray:
    """``start`` as a float64 ``(d,)`` array, if a descent of ``objective`` can begin there.

    The loss and the gradient must be finite and below ``DIVERGENCE_LIMIT`` at the start:
    a run from a point where they are not has no first row to show.

    Raises
    ------
    ValueError
        With one line naming the objective, the point and the value, e.g.
        ``log(x) is not finite at the start (x = -1): f = nan``.
    """
    p = np.array(start, dtype=np.float64)
    if p.shape != (objective.dim,):
        raise ValueError(f"start must have {objective.dim} coordinate(s) "
                         f"({', '.join(objective.names)}), got shape {np.shape(start)}")
    if not np.all(np.isfinite(p)):
        raise ValueError("start point must be finite")
    with np.errstate(all="ignore"):
        v, g = objective.value_and_grad(p[None, :])
    problem = _start_problem(objective, p, float(v[0]), g[0])
    if problem is not None:
        raise ValueError(problem)
    return p


# ------------------------------------------------------------------ running away
#: a run has run away when its loss moved this many times the loss range of the
#: objective's default window away from the loss at its start (see :class:`Runaway`)
RUNAWAY_FACTOR = 1e5
#: ... or a parameter went this many window widths (or start offsets) from the centre
RUNAWAY_WIDTHS = 1e6
#: most extra probe points, and most residuals (probe points x samples) they may cost
_PROBES, _PROBE_BUDGET = 256, 1 << 22
_PROBE_ATTR = "_gdx_runaway_probe"


def _probe_points(window: np.ndarray, extra: int) -> np.ndarray:
    """The window's corners and centre, plus ``extra`` points spread inside it.

    The extra points follow a Kronecker sequence (fractional parts of multiples of
    irrational numbers), so a periodic function cannot hide its range: at the corners
    and centre alone ``sin(pi*x)`` is 0 everywhere.
    """
    d = len(window)
    lo, hi = window[:, 0], window[:, 1]
    corners = np.array(np.meshgrid(*window, indexing="ij")).reshape(d, -1).T if d <= 4 else \
        np.vstack([lo, hi])
    alpha = np.sqrt(np.array([2.0, 3.0, 5.0, 7.0, 11.0, 13.0])[:d]) % 1.0
    if d > len(alpha):
        alpha = (np.arange(1, d + 1) * 0.6180339887498949) % 1.0
    frac = (np.arange(1, extra + 1)[:, None] * alpha[None, :]) % 1.0
    return np.vstack([corners, 0.5 * (lo + hi), lo + frac * (hi - lo)])


def _window_of(objective: Objective, start: np.ndarray) -> np.ndarray:
    """The objective's default window as ``(d, 2)``; around the start if it has none."""
    w = np.array(objective.window, dtype=np.float64).reshape(-1, 2)
    if w.shape[0] == objective.dim and np.all(np.isfinite(w)) and np.all(w[:, 1] > w[:, 0]):
        return w
    c = start.mean(axis=0)
    half = np.maximum(np.abs(c), 1.0)
    return np.stack([c - half, c + half], axis=1)


def _probe_values(objective: Objective, window: np.ndarray) -> np.ndarray:
    """The objective's values at :func:`_probe_points` of ``window`` (cached on it)."""
    key = window.tobytes()
    cached = objective.__dict__.get(_PROBE_ATTR)
    if cached is not None and cached[0] == key:
        return cached[1]
    samples = max(int(objective.evaluation_cost or 1), 1)
    extra = int(min(_PROBES, _PROBE_BUDGET // samples))
    with np.errstate(all="ignore"):
        values = np.asarray(objective.values(_probe_points(window, extra)), dtype=np.float64)
    # an attribute, not a dict keyed by objective: objectives are unhashable dataclasses
    objective.__dict__[_PROBE_ATTR] = (key, values)
    return values


#: up to this many parameters Runaway.all_within tests the columns one by one (fastest
#: for few parameters and many runs); beyond, with one broadcast comparison
_COLUMNS_ONE_BY_ONE = 16


@dataclass(frozen=True)
class Runaway:
    """The stop rule for divergence, per run: the bounds a row must stay within.

    A row of run ``j`` is accepted while

    * its loss is within ``RUNAWAY_FACTOR * spread_j`` of ``f_ref_j``, the loss at the
      start, where ``spread_j = max |f(q) - f_ref_j|`` over probe points ``q`` of the
      default window (its corners, centre and up to 256 points spread inside; 1 when that
      is 0 or not finite): a loss 100,000 times further from the start's than anything
      in the window has run away, to +inf or, maximizing or on a saddle, to -inf;
    * each parameter is within ``RUNAWAY_WIDTHS * scale_i`` of the window's centre,
      ``scale_i`` the larger of the window's width and the start's distance from the
      centre: for losses that stay bounded while the parameters fly off;
    * loss, gradient and parameters are finite and below ``DIVERGENCE_LIMIT``.

    The bounds are plain numbers fixed at the start (:meth:`bounds`); :func:`stop_verdict`
    compares a row against them, the same function on both engine paths
    (:meth:`Descent._accept_row` on arrays, :meth:`Descent._advance_scalar` on floats).
    """

    f_ref: np.ndarray  # (k,)
    v_lo: np.ndarray  # (k,)
    v_hi: np.ndarray  # (k,)
    p_lo: np.ndarray  # (k, d)
    p_hi: np.ndarray  # (k, d)
    # the tightest bounds over all runs: one whole-array test per step for a big batch
    v_lo_max: float = -DIVERGENCE_LIMIT
    v_hi_min: float = DIVERGENCE_LIMIT
    p_lo_max: np.ndarray | None = None  # (d,)
    p_hi_min: np.ndarray | None = None  # (d,)

    @classmethod
    def at_start(cls, objective: Objective, p: np.ndarray, v: np.ndarray) -> Runaway:
        """The bounds for runs starting at ``p`` ``(k, d)`` with losses ``v`` ``(k,)``."""
        lim = DIVERGENCE_LIMIT
        window = _window_of(objective, p)
        probe = _probe_values(objective, window)
        probe = probe[np.isfinite(probe)]
        with np.errstate(all="ignore"):
            # the farthest of a set of numbers from v is its smallest or its largest
            lo, hi = (probe.min(), probe.max()) if probe.size else (np.nan, np.nan)
            spread = np.maximum(np.abs(hi - v), np.abs(v - lo))
            spread[~(np.isfinite(spread) & (spread > 0))] = 1.0
            reach = RUNAWAY_FACTOR * spread
            v_lo = np.maximum(v - reach, -lim)
            v_hi = np.minimum(v + reach, lim)
            centre = window.mean(axis=1)
            scale = np.maximum(window[:, 1] - window[:, 0], np.abs(p - centre))
            p_lo = np.maximum(centre - RUNAWAY_WIDTHS * scale, -lim)
            p_hi = np.minimum(centre + RUNAWAY_WIDTHS * scale, lim)
        return cls(np.array(v, dtype=np.float64), v_lo, v_hi, p_lo, p_hi,
                   float(v_lo.max()), float(v_hi.min()), p_lo.max(axis=0), p_hi.min(axis=0))

    def all_within(self, v: np.ndarray, g: np.ndarray, p: np.ndarray) -> bool:
        """Is every run's row (``v`` ``(k,)``, ``g``, ``p`` ``(k, d)``) within even the
        tightest bounds of all runs?  Then each is within its own, and :func:`stop_verdict`
        needs no per-run test (the common case, at the cost of a few reductions); NaN fails.
        """
        lim = DIVERGENCE_LIMIT
        with np.errstate(invalid="ignore"):
            # NaN makes every comparison False, so it always reaches the per-run test;
            # columns one by one: min(axis=0) of a (k, d) array is 30 times slower
            fine = (self.v_lo_max < v.min() and v.max() < self.v_hi_min
                    and -lim < g.min() and g.max() < lim)
            if fine and p.shape[1] > _COLUMNS_ONE_BY_ONE:
                # many parameters (a network): one broadcast comparison, not d Python rounds
                # (the same answer: every entry above its column's bound and below the other)
                return bool((self.p_lo_max < p).all() and (p < self.p_hi_min).all())
            for c in range(p.shape[1]):
                fine = fine and self.p_lo_max[c] < p[:, c].min() and p[:, c].max() < self.p_hi_min[c]
        return bool(fine)

    def bounds(self, j: int | None = None) -> tuple:
        """The bounds as :func:`stop_verdict` takes them: ``(v_lo, v_hi, [(lo, hi), ...])``,
        one ``(lo, hi)`` per parameter; floats for run ``j``, ``(k,)`` arrays for ``None``."""
        if j is None:
            return self.v_lo, self.v_hi, [(self.p_lo[:, c], self.p_hi[:, c])
                                          for c in range(self.p_lo.shape[1])]
        return (float(self.v_lo[j]), float(self.v_hi[j]),
                [(float(a), float(b)) for a, b in zip(self.p_lo[j], self.p_hi[j])])

    def reason(self, j: int, names: Sequence[str], v: float, g, p) -> str:
        """Why run ``j``'s row is out of bounds, in a few words (for the status line)."""
        lim = DIVERGENCE_LIMIT
        if not math.isfinite(v):
            return f"loss is {_num(v)}"
        for n, c in zip(names, p):
            if not math.isfinite(c):
                return f"{n} is {_num(c)}"
        for n, c in zip(names, g):
            if not math.isfinite(c):
                return f"df/d{n} is {_num(c)}"
        if not abs(v) < lim:
            return f"loss {v:.3g} is beyond {_LIMIT_TEXT}"
        for n, c in zip(names, p):
            if not abs(c) < lim:
                return f"{n} = {c:.3g} is beyond {_LIMIT_TEXT}"
        for n, c in zip(names, g):
            if not abs(c) < lim:
                return f"df/d{n} = {c:.3g} is beyond {_LIMIT_TEXT}"
        if not self.v_lo[j] < v < self.v_hi[j]:
            verb = "rose" if v > self.f_ref[j] else "fell"
            return f"loss {verb} to {v:.3g} from {float(self.f_ref[j]):.3g}"
        for i, (n, c) in enumerate(zip(names, p)):
            if not self.p_lo[j, i] < c < self.p_hi[j, i]:
                return f"{n} ran off to {c:.3g}"
        return ""


@dataclass(frozen=True)
class LiveState:
    """What changes as a descent advances, besides its rows: copies of the fields a
    descent names in ``Descent._LIVE`` (``_LIVE_FINAL`` with the mini-batch order).

    Made by :meth:`Descent.live_state` of a continuation and taken by :meth:`Descent.absorb`
    of the descent it continues; opaque to everything else (the engine process carries it
    without looking inside).  ``values`` are in the order of ``names``.
    """

    names: tuple[str, ...]
    values: tuple

    def __post_init__(self):
        if not (isinstance(self.names, tuple) and all(isinstance(n, str) for n in self.names)):
            raise TypeError(f"LiveState.names must be a tuple of str, got {self.names!r}")
        if not isinstance(self.values, tuple) or len(self.values) != len(self.names):
            raise TypeError(f"LiveState.values must be a tuple of {len(self.names)} values")

    def __reduce__(self):  # unpickled through the constructor: checked on arrival too
        return LiveState, (self.names, self.values)


def stop_verdict(v, g, p, prev, t: int, bounds, grad_tol: float, loss_tol: float,
                 max_steps: int) -> tuple:
    """The stop rule for the row after update ``t``: ``(within, converged, at_end)``.

    Written once for both engine paths: one run on Python floats (the scalar fast path)
    and ``k`` runs on ``(k,)`` arrays (the array path), with ``&`` and ``|`` where both
    work, so the two stop at the same step for the same reason, bit for bit.

    Parameters
    ----------
    v, prev
        The loss at this row and at the row before (floats, or ``(k,)`` arrays).
    g, p
        The gradient and the point at this row, one entry per coordinate: floats, or
        ``(k,)`` columns (``g.T`` of a ``(k, d)`` array).
    t
        The row's index (updates done).
    bounds
        ``(v_lo, v_hi, [(lo, hi), ...])`` from :meth:`Runaway.bounds`, or None when the
        row is already known to be within them (:meth:`Runaway.all_within`).
    grad_tol, loss_tol, max_steps
        The descent's limits; a tolerance of 0 disables its rule.

    Returns
    -------
    within
        The row is within the runaway bounds, and finite (else the run diverged at ``t``).
    converged
        The gradient norm is <= ``grad_tol``, or the loss changed by <= ``loss_tol`` in
        the last update (not on the first row).
    at_end
        ``t >= max_steps``.

    The caller applies them in that order: diverged, then converged, then max steps.
    With a tolerance on, the array path calls it under ``np.errstate(all="ignore")`` (a
    norm or a loss change may overflow); on floats nothing raises.
    """
    if bounds is None:
        within = True
    else:
        lim = DIVERGENCE_LIMIT
        v_lo, v_hi, p_bounds = bounds
        within = (v_lo < v) & (v < v_hi)
        for c, gc, (lo, hi) in zip(p, g, p_bounds):
            within = within & (lo < c) & (c < hi) & (abs(gc) < lim)
    converged = False
    if grad_tol > 0:
        norm2 = 0.0
        for c in g:
            norm2 = norm2 + c * c
        converged = norm2 <= grad_tol * grad_tol
    if loss_tol > 0 and t > 0:
        converged = converged | (abs(v - prev) <= loss_tol)
    return within, converged, t >= max_steps


def _check_run_rates(lr, k: int, optimizer: Optimizer) -> np.ndarray:
    """Per-run learning rates ``(k,)`` as the ``(k, 1)`` column the rules broadcast."""
    if optimizer.evaluations != 1:
        raise ValueError(f"{optimizer.name} evaluates the objective inside its step (one "
                         "line search for the whole batch): it takes one learning rate "
                         "per descent, not one per run")
    rates = np.array(lr, dtype=np.float64).reshape(-1)
    if rates.shape != (k,):
        raise ValueError(f"per-run learning rates must be {k} numbers (one per run), "
                         f"got shape {np.shape(lr)}")
    if not np.all(np.isfinite(rates) & (rates > 0)):
        bad = rates[~(np.isfinite(rates) & (rates > 0))][0]
        raise ValueError(f"learning rate must be positive, got {bad:g}")
    return rates[:, None]


def _check_needs(objective: Objective, optimizer: Optimizer, full_batch: bool) -> None:
    """Refuse, in one line, an optimizer whose step needs what ``objective`` cannot give
    (Gauss–Newton on a function: no least-squares form; Newton on a mini-batch)."""
    why = optimizer.unmet_needs(least_squares=objective.least_squares() is not None,
                                full_batch=full_batch)
    if why:
        raise ValueError(why)


def check_optimizer_fits(objective: Objective, optimizer: Optimizer,
                         batch_size: int | None = None) -> None:
    """What :class:`Descent` checks of an optimizer and a problem, before one is built:
    a ``ValueError`` in one line when the optimizer's step needs what the objective
    cannot give ("Gauss–Newton needs a least-squares fit (a dataset with the MSE loss)")."""
    n = objective.samples
    full = batch_size is None or n is None or batch_size >= n
    _check_needs(objective, optimizer, full)


def _check_tol(name: str, value) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be zero or a positive number, got {value!r}")
    return v


class Descent:
    """Runs ``optimizer`` on ``objective`` from ``start`` (``(d,)`` or ``(k, d)``).

    Parameters
    ----------
    objective, optimizer
        What to descend and how.  ``optimizer.maximize`` decides the direction.
    start
        One start point ``(d,)`` or ``k`` of them ``(k, d)``.  A single start where the
        loss or the gradient is not finite or beyond ``DIVERGENCE_LIMIT`` is refused
        (``ValueError``, see :func:`check_start`); in a batch such a run is ``diverged``
        at step 0 and the others go on.
    schedule
        Learning-rate schedule; default constant at ``optimizer.lr``.
    max_steps
        Stop after this many updates (status ``max_steps``).
    grad_tol, loss_tol
        Converged when the gradient norm is <= ``grad_tol``, or the loss changed by
        <= ``loss_tol`` in the last update; 0 disables a rule.
    batch_size, seed
        Mini-batch size for dataset objectives (``None``: full batch); batches are
        reshuffled every epoch from ``seed``.
    record
        Keep every row (default); with ``False`` only the current state is kept.
    lr
        One learning rate per run, ``(k,)`` (a learning-rate sweep: ``k`` copies of one
        start, each with its own rate); the rules receive it as a ``(k, 1)`` column, times
        the schedule's factor ``rate(t) / base_lr`` (exactly 1 for a constant schedule).
        Not for optimizers whose step evaluates the objective itself (LBFGS: one line
        search for the batch), refused with a ``ValueError``.  The recorded rate column
        holds the schedule's rate.  Default None: every run uses the schedule's rate.
    """

    def __init__(
        self,
        objective: Objective,
        optimizer: Optimizer,
        start,
        *,
        schedule: Schedule | None = None,
        max_steps: int = 1000,
        grad_tol: float = 0.0,
        loss_tol: float = 0.0,
        batch_size: int | None = None,
        seed: int = 0,
        record: bool = True,
        lr=None,
    ):
        self.objective = objective
        self.schedule = schedule if schedule is not None else ConstantSchedule(optimizer.lr)
        self.optimizer = self.schedule.bind(optimizer)  # a copy if it cycles the momentum
        self.max_steps = check_whole("max_steps", max_steps, 0)
        self.grad_tol = _check_tol("grad_tol", grad_tol)
        self.loss_tol = _check_tol("loss_tol", loss_tol)
        p = np.array(start, dtype=np.float64)
        self.single = p.ndim == 1
        if self.single:
            p = p[None, :]
        if p.ndim != 2 or p.shape[1] != objective.dim or p.shape[0] < 1:
            raise ValueError(
                f"start must have {objective.dim} coordinate(s) "
                f"({', '.join(objective.names)}), got shape {np.shape(start)}"
            )
        if not np.all(np.isfinite(p)):
            raise ValueError("start point must be finite")
        self.k, self.d = p.shape
        if self.schedule.follows_loss and self.k > 1:
            raise ValueError(f"schedule {self.schedule.name!r} follows one run's loss; "
                             f"it cannot drive a batch of {self.k} runs")
        self.batches = None
        if batch_size is not None:
            n = objective.samples
            if n is None:
                raise ValueError("batch size applies to dataset objectives only")
            batch_size = check_whole("batch size", batch_size, 1)
            if batch_size < n:
                self.batches = MiniBatches(n, batch_size, check_whole("seed", seed, 0))
        self.batch_size = batch_size
        _check_needs(objective, optimizer, self.batches is None)
        self.seed = seed
        self.last_batch: np.ndarray | None = None
        self.record = bool(record)
        self.lr_runs = None if lr is None else _check_run_rates(lr, self.k, optimizer)

        self.p = p
        self.state = optimizer.init_state(p)
        self.t = 0  # updates done = index of the current row
        self.statuses = np.full(self.k, "running", dtype="<U9")
        self._diverged_at = np.full(self.k, -1, dtype=np.int64)
        # the row that made each run diverge (the reason is worded from it when asked)
        self._why_row = np.full((self.k, 2 * self.d + 1), np.nan)
        self._why_text: dict[int, str] = {}  # reasons no row tells (a failed update)
        self.run_rows = np.zeros(self.k, dtype=np.int64)
        self.active = np.ones(self.k, dtype=bool)
        self._w = 2 * self.d + 1
        cap = self.max_steps + 1 if record else 1
        cap = max(1, min(cap, max(16, (1 << 21) // (self.k * self._w))))
        self._rec = np.empty((cap, self.k, self._w))
        self._lr = np.empty(cap)
        self.n_rows = 0
        self.value = np.empty(self.k)
        self.gradient = np.empty((self.k, self.d))
        self._scalar = self._scalar_function()
        v, g = objective.value_and_grad(p)
        if self.single:  # a batch (a sweep of starts) flags such runs diverged at step 0
            problem = _start_problem(objective, p[0], float(v[0]), g[0])
            if problem is not None:
                raise ValueError(problem)
        self.runaway = Runaway.at_start(objective, p, np.asarray(v, dtype=np.float64))
        self._accept_row(v, g)

    # ------------------------------------------------------------------ properties
    @property
    def status(self) -> str:
        """Status of a single run; for a batch, ``running`` while any run is."""
        if self.k == 1:
            return str(self.statuses[0])
        if self.active.any():
            return "running"
        for s in ("stopped", "max_steps", "converged"):
            if s in self.statuses:
                return s
        return "diverged"

    @property
    def finished(self) -> bool:
        """True when no run is active any more."""
        return not self.active.any()

    @property
    def diverged_step(self) -> int | None:
        """Step at which the (single) run diverged, else None."""
        return self.diverged_step_of(0)

    def diverged_step_of(self, j: int) -> int | None:
        """Step at which run ``j`` diverged, else None."""
        return int(self._diverged_at[j]) if self._diverged_at[j] >= 0 else None

    @property
    def nbytes_per_step(self) -> int:
        """Bytes of recording per step (all runs)."""
        return self._rec.itemsize * self.k * self._w + self._lr.itemsize

    def divergence_reason(self, j: int = 0) -> str:
        """Why run ``j`` diverged, in a few words (``""`` if it did not)."""
        if self._diverged_at[j] < 0:
            return ""
        if j in self._why_text:
            return self._why_text[j]
        row, d = self._why_row[j], self.d
        return self.runaway.reason(j, self.objective.names, float(row[d]), row[d + 1:], row[:d])

    def message(self, j: int = 0) -> str:
        """A one-line human description of run ``j``'s status.

        A diverged run reads ``"diverged at step 32 (loss rose to 7.22e+05 from 6.25)"``:
        the step number first (the app looks for "diverged at step"), then the reason.
        """
        s = self.statuses[j]
        if s == "diverged":
            why = self.divergence_reason(j)
            step = self.diverged_step_of(j)
            return f"diverged at step {step} ({why})" if why else f"diverged at step {step}"
        if s == "converged":
            return f"converged after {self.run_rows[j] - 1} steps"
        if s == "max_steps":
            return f"reached max steps ({self.max_steps})"
        return s

    # ------------------------------------------------------------------ recording
    def _ensure(self, rows: int) -> None:
        cap = self._rec.shape[0]
        if rows <= cap:
            return
        new_cap = max(rows, 2 * cap)
        if self.record:
            new_cap = min(new_cap, max(rows, self.max_steps + 1))
        rec = np.empty((new_cap, self.k, self._w))
        rec[:self.n_rows] = self._rec[:self.n_rows]
        lr = np.empty(new_cap)
        lr[:self.n_rows] = self._lr[:self.n_rows]
        self._rec, self._lr = rec, lr

    def _accept_row(self, v: np.ndarray, g: np.ndarray) -> None:
        """Check and record the row for the current point ``self.p`` (index ``self.t``)."""
        i = self.t
        d = self.d
        p = self.p
        ok_all = self.runaway.all_within(v, g, p)
        # a norm or a loss change may overflow; comparisons (NaN included) never warn
        quiet = np.errstate(all="ignore") if self.grad_tol > 0 or self.loss_tol > 0 else \
            _NOTHING_TO_QUIET
        with quiet:
            ok, done, at_end = stop_verdict(v, g.T, p.T, self.value, i,
                                            None if ok_all else self.runaway.bounds(),
                                            self.grad_tol, self.loss_tol, self.max_steps)
        row = self.n_rows if self.record else 0
        if self.record:
            self._ensure(row + 1)
            rec = self._rec[row]
            rec[:, :d] = p
            rec[:, d] = v
            rec[:, d + 1:] = g
        self.lr_now = self.schedule.rate(i, v)
        self._lr[row] = self.lr_now
        self.value = np.asarray(v, dtype=np.float64)
        self.gradient = np.asarray(g, dtype=np.float64)
        active = self.active
        if ok_all:
            alive = active.copy()
        else:
            bad = active & ~ok
            self.statuses[bad] = "diverged"
            self._diverged_at[bad] = i
            self._why_row[bad, :d] = p[bad]
            self._why_row[bad, d] = v[bad]
            self._why_row[bad, d + 1:] = g[bad]
            if self.record:
                rec[bad] = np.nan
            alive = active & ok
        self.run_rows[alive] = i + 1
        if done is not False:
            conv = alive & done
            if conv.any():
                self.statuses[conv] = "converged"
                alive &= ~conv
        if at_end:
            self.statuses[alive] = "max_steps"
            alive[:] = False
        self.active = alive
        if self.record and not alive.all():
            stale = ~alive & (self.run_rows < i + 1)
            if stale.any():
                rec[stale] = np.nan
        self.n_rows = row + 1

    # ------------------------------------------------------------------ stepping
    def _scalar_function(self):
        if (self.k != 1 or self.lr_runs is not None or self.batches is not None
                or not self.optimizer.coordinatewise):
            return None
        if getattr(self.optimizer.hyper, "eps", 1.0) == 0:
            return None  # the scalar rules would raise on 0/0 where numpy gives nan
        return self.objective.scalar_value_and_grad()

    def step(self) -> bool:
        """One update of every active run.  Returns False when nothing is left to do."""
        return self.advance(1) > 0

    def advance(self, n: int) -> int:
        """Up to ``n`` updates; returns how many were taken (stops early when finished)."""
        if n <= 0 or self.finished:
            return 0
        if self._scalar is not None:
            return self._advance_scalar(n)
        done = 0
        opt, obj = self.optimizer, self.objective
        while done < n and self.active.any():
            g = self.gradient
            closure = None
            if self.batches is not None:
                self.last_batch = self.batches.next()
                g = obj.value_and_grad(self.p, index=self.last_batch)[1]
            if self.schedule.cycles_momentum:
                set_momentum(opt, self.schedule.momentum(self.t))
            if opt.evaluations != 1:  # the step evaluates the objective itself (LBFGS)
                closure = obj.value_and_grad if self.batches is None else \
                    partial(obj.value_and_grad, index=self.last_batch)
            needs = {}  # full batch: __init__ refused mini-batches for these
            if opt.needs_hessian:
                needs["hessian"] = obj.hessian
            if opt.needs_least_squares:
                needs["least_squares"] = obj.least_squares()
            lr = self.lr_now if self.lr_runs is None else \
                self.lr_runs * (self.lr_now / self.schedule.base_lr)
            with np.errstate(all="ignore"):
                new_p = opt.step(self.p, g, self.state, lr, closure=closure, **needs)
            if not self.active.all():
                new_p = np.where(self.active[:, None], new_p, self.p)
            self.p = new_p
            self.t += 1
            v, g = obj.value_and_grad(self.p)
            self._accept_row(v, g)
            done += 1
        return done

    def _advance_scalar(self, n: int) -> int:
        """The single-run fast path: a fused loop when the optimizer gives its rule as
        lines (:meth:`~gd_explorer.core.optim.base.Optimizer.fused_rule`), else the rules
        on Python floats, one call per coordinate (:meth:`_advance_rules`).

        A step the fused loop cannot take (an update or the objective raised) is taken
        by the rules, from the same state, so both paths give the same rows bit for bit.
        """
        loop = self._fused_loop()
        if loop is None:
            return self._advance_rules(n)
        done = 0
        while done < n and not self.finished:
            took, fell_back = self._advance_fused(loop, min(n - done, _FLUSH_ROWS))
            done += took
            if fell_back and done < n and not self.finished:
                done += self._advance_rules(1)
        return done

    def _fused_loop(self):
        """The generated loop for this optimizer and these stop rules, or None."""
        sched = self.schedule
        if type(sched) is not ConstantSchedule or sched.cycles_momentum:
            return None
        lr = sched.lr(0)
        if self.lr_now != lr:
            return None
        opt = self.optimizer
        # the loop depends on these only: one look-up per call of advance, not a rebuild
        key = (type(opt), opt.maximize, repr(vars(opt.hyper)), self.d, self.grad_tol > 0,
               self.loss_tol > 0)
        if key in _FUSED_BY_SETTINGS:
            return _FUSED_BY_SETTINGS[key]
        try:
            rule = opt.fused_rule()
        except ValueError:  # a hyperparameter that is no literal (inf, nan)
            rule = None
        loop = None if rule is None else fused_loop(
            rule, self.d, len(opt.buffer_names), self.grad_tol > 0, self.loss_tol > 0)
        if len(_FUSED_BY_SETTINGS) > 256:
            _FUSED_BY_SETTINGS.clear()
        _FUSED_BY_SETTINGS[key] = loop
        return loop

    def _advance_fused(self, loop, n: int) -> tuple[int, bool]:
        """Up to ``n`` steps of the fused loop; returns (steps taken, fell back)."""
        d = self.d
        state = self.state
        names = self.optimizer.buffer_names
        bufs = [float(getattr(state, nm)[0, i]) for i in range(d) for nm in names]
        p = [float(c) for c in self.p[0]]
        g = [float(c) for c in self.gradient[0]]
        v_lo, v_hi, p_bounds = self.runaway.bounds(0)
        flat_bounds = [b for pair in p_bounds for b in pair]
        rows: list = []
        lr = self.schedule.lr(0)
        done, t, p, bufs, end, why = loop(
            self._scalar, n, self.t, lr, float(self.value[0]), p, g, bufs, rows,
            v_lo, v_hi, flat_bounds, self.grad_tol, self.loss_tol, self.max_steps,
            DIVERGENCE_LIMIT)
        recorded = len(rows) // self._w
        self._flush(array("d", rows), array("d", [lr]) * recorded)
        state.step = t
        nb = len(names)
        for i in range(d):
            for k, nm in enumerate(names):
                getattr(state, nm)[0, i] = bufs[i * nb + k]
        if end == "diverged":
            self._why_row[0] = why
        if end in ("diverged", "converged", "max_steps"):
            self.statuses[0] = end
            self.active[0] = False
            if end == "diverged":
                self._diverged_at[0] = t
        self.t = t
        return done, end == "fall back"

    def _advance_rules(self, n: int) -> int:
        """The optimizer's rules on Python floats, one call per coordinate."""
        f = self._scalar
        opt, sched = self.optimizer, self.schedule
        rule, ops = opt.rule, _ScalarOps
        d = self.d
        names = opt.buffer_names
        bufs = [[float(getattr(self.state, nm)[0, i]) for nm in names] for i in range(d)]
        p = [float(c) for c in self.p[0]]
        g = [float(c) for c in self.gradient[0]]
        v = float(self.value[0])
        lr_const = sched.lr(0) if type(sched) is ConstantSchedule else None
        momentum = sched.momentum if sched.cycles_momentum else None
        rows = array("d")
        lrs = array("d")
        verdict = stop_verdict  # the same rule as _accept_row's
        bounds = self.runaway.bounds(0)
        grad_tol, loss_tol, max_steps = self.grad_tol, self.loss_tol, self.max_steps
        t = self.t
        state = self.state
        done = 0
        end = None  # (status, step) when the run stops inside the loop
        lr = self.lr_now  # the rate of the update leaving the current row
        try:
            while done < n:
                t += 1
                if momentum is not None:
                    set_momentum(opt, momentum(t - 1))
                try:
                    p = [rule(p[i], g[i], bufs[i], t, lr, ops) for i in range(d)]
                except (ArithmeticError, ValueError):
                    end = ("diverged", t)
                    self._why_text[0] = "the update overflowed"
                    break
                try:
                    out = f(*p)
                    v_new = out[0]
                    g = list(out[1:])
                except (ArithmeticError, ValueError):
                    with np.errstate(all="ignore"):
                        vv, gg = self.objective.value_and_grad(np.array([p]))
                    v_new, g = float(vv[0]), [float(c) for c in gg[0]]
                done += 1
                ok, converged, at_end = verdict(v_new, g, p, v, t, bounds,
                                                grad_tol, loss_tol, max_steps)
                if not ok:
                    end = ("diverged", t)
                    self._why_row[0] = [*p, v_new, *g]
                    break
                rows.extend(p)
                rows.append(v_new)
                rows.extend(g)
                lr = sched.rate(t, v_new) if lr_const is None else lr_const
                lrs.append(lr)
                if converged:
                    end = ("converged", t)
                elif at_end:
                    end = ("max_steps", t)
                v = v_new
                if end is not None:
                    break
                if len(lrs) >= _FLUSH_ROWS:
                    self._flush(rows, lrs)
                    rows, lrs = array("d"), array("d")
        finally:
            state.step = t
            self._flush(rows, lrs)
            for i in range(d):
                for nm, val in zip(names, bufs[i]):
                    getattr(state, nm)[0, i] = val
        if end is not None:
            status, step = end
            self.statuses[0] = status
            self.active[0] = False
            if status == "diverged":
                self._diverged_at[0] = step
        self.t = t
        return done

    def _flush(self, rows: array, lrs: array) -> None:
        """Copy rows buffered by the scalar path into the recording arrays."""
        m = len(lrs)
        if m == 0:
            return
        block = np.frombuffer(rows, dtype=np.float64).reshape(m, self._w)
        last = block[-1]
        self.lr_now = lrs[-1]
        self.p = last[None, :self.d].copy()
        self.value[0] = last[self.d]
        self.gradient[0] = last[self.d + 1:]
        if self.record:
            self._ensure(self.n_rows + m)
            self._rec[self.n_rows:self.n_rows + m, 0] = block
            self._lr[self.n_rows:self.n_rows + m] = lrs
            self.n_rows += m
        self.run_rows[0] += m

    def run(self, copy: bool = True) -> Trajectory | Runs:
        """Advance until every run has stopped; return the trajectory (or one per run).

        ``copy=False`` returns a single run's trajectory as views (see :meth:`trajectory`).
        """
        while not self.finished:
            self.advance(1 << 16)
        return self.trajectory(copy=copy) if self.k == 1 else Runs(self)

    def stop(self) -> None:
        """Stop every active run (status ``stopped``)."""
        self.statuses[self.active] = "stopped"
        self.active[:] = False

    def records(self) -> Iterator[StepRecord]:
        """Yield the current row, then one row per update until the runs stop."""
        while True:
            p = self.p[0] if self.k == 1 else self.p
            v = float(self.value[0]) if self.k == 1 else self.value.copy()
            g = self.gradient[0] if self.k == 1 else self.gradient
            yield StepRecord(self.t, p.copy(), v, g.copy(), self.lr_now)
            if not self.step():
                return

    def set_max_steps(self, max_steps: int) -> None:
        """Change the step limit; runs stopped by the old limit resume if the new one is higher."""
        self.max_steps = check_whole("max_steps", max_steps, 0)
        for j in range(self.k):
            if self.statuses[j] == "max_steps" and self.run_rows[j] - 1 < self.max_steps:
                self.statuses[j] = "running"
                self.active[j] = True
            elif self.statuses[j] == "running" and self.t >= self.max_steps:
                self.statuses[j] = "max_steps"
                self.active[j] = False

    def set_tolerances(self, grad_tol: float, loss_tol: float) -> None:
        """Change the stop rules for the coming steps."""
        self.grad_tol = _check_tol("grad_tol", grad_tol)
        self.loss_tol = _check_tol("loss_tol", loss_tol)

    def replace_optimizer(self, optimizer: Optimizer, schedule: Schedule | None = None) -> None:
        """Use ``optimizer`` (and ``schedule``) from the next update on.

        The same kind of optimizer keeps its state (momentum buffers, moments, step count),
        so changing a hyperparameter mid-run continues smoothly; another kind starts from
        a fresh state at the current point.
        """
        _check_needs(self.objective, optimizer, self.batches is None)
        if type(optimizer) is not type(self.optimizer):
            self.state = optimizer.init_state(self.p)
        schedule = schedule if schedule is not None else ConstantSchedule(optimizer.lr)
        if not schedule.same_as(self.schedule):  # the same one keeps its state (plateau)
            self.schedule = schedule
        self.optimizer = self.schedule.bind(optimizer)
        self.lr_now = self.schedule.rate(self.t, self.value)
        self._scalar = self._scalar_function()

    # ------------------------------------------------------------------ streaming
    # The app advances descents in a separate engine process: it ships a copy of each
    # descent without its rows (:meth:`continuation`), the copy streams the rows it
    # records back (:meth:`drain_rows`), and the original appends them and takes over
    # the copy's live state (:meth:`absorb`), so it always equals the descent it would
    # have been had it advanced itself.

    #: what changes as a descent advances (besides its rows); ``batches`` is large for
    #: big datasets and only travels with the final state
    _LIVE = ("p", "state", "t", "statuses", "_diverged_at", "_why_row", "_why_text", "run_rows",
             "active", "value", "gradient", "lr_now", "last_batch", "schedule")
    _LIVE_FINAL = _LIVE + ("batches",)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_scalar"] = None  # compiled code may not pickle; rebuilt on load
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._scalar = self._scalar_function()

    def continuation(self) -> Descent:
        """A copy in the current state with no recorded rows (cheap to send elsewhere)."""
        c = Descent.__new__(Descent)
        c.__dict__.update(self.__dict__)
        c._rec = np.empty((16, self.k, self._w))
        c._lr = np.empty(16)
        c.n_rows = 0
        for name in self._LIVE_FINAL:
            c.__dict__[name] = copy.deepcopy(self.__dict__[name])
        return c

    def drain_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Remove and return the rows recorded so far: ``(m, k, 2d + 1)`` and ``(m,)``."""
        m = self.n_rows
        block, lrs = self._rec[:m].copy(), self._lr[:m].copy()
        self.n_rows = 0
        return block, lrs

    def live_state(self, final: bool = False) -> LiveState:
        """Copies of what :meth:`absorb` needs (with the mini-batch order when ``final``)."""
        names = self._LIVE_FINAL if final else self._LIVE
        return LiveState(names, tuple(copy.deepcopy(self.__dict__[name]) for name in names))

    def absorb(self, block: np.ndarray, lrs: np.ndarray, live: LiveState) -> None:
        """Append rows drained from a continuation and take over its live state."""
        if not isinstance(live, LiveState):
            raise TypeError(f"a descent absorbs a LiveState, got {type(live).__name__}")
        for name in live.names:
            if name not in self._LIVE_FINAL:
                raise ValueError(f"not a live field of a descent: {name!r}")
        if live.names not in (self._LIVE, self._LIVE_FINAL):
            raise ValueError(f"not the live fields of a descent: {live.names!r}")
        m = len(lrs)
        if m and self.record:
            self._ensure(self.n_rows + m)
            self._rec[self.n_rows:self.n_rows + m] = block
            self._lr[self.n_rows:self.n_rows + m] = lrs
            self.n_rows += m
        for name, value in zip(live.names, live.values):
            self.__dict__[name] = value

    # ------------------------------------------------------------------ results
    def views(self, j: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Views of run ``j``'s recorded rows: params, loss, grad, lr (no copies).

        Rows already recorded are never written again (recording only appends), so these
        views stay valid while the descent goes on; the next rows land beyond them.
        """
        n = int(self.run_rows[j]) if self.record else 0
        rec = self._rec[:n, j]
        return rec[:, :self.d], rec[:, self.d], rec[:, self.d + 1:], self._lr[:n]

    def trajectory(self, j: int = 0, copy: bool = True) -> Trajectory:
        """Run ``j``'s recorded rows (only the current row if ``record=False``).

        With ``copy=False`` the arrays are read-only views of the recording, as
        :meth:`views`: rows already recorded are never written again, so they stay valid
        while the descent goes on (a CSV export of 10 million rows then copies nothing).
        """
        d = self.d
        if not self.record:
            alive = self._diverged_at[j] < 0
            return Trajectory(
                names=self.objective.names,
                params=self.p[j:j + 1].copy() if alive else np.empty((0, d)),
                loss=self.value[j:j + 1].copy() if alive else np.empty(0),
                grad=self.gradient[j:j + 1].copy() if alive else np.empty((0, d)),
                lr=np.array([self.lr_now]) if alive else np.empty(0),
                status=str(self.statuses[j]),
                diverged_step=self.diverged_step_of(j),
                message=self.message(j),
            )
        n = int(self.run_rows[j])
        rec = self._rec[:n, j]
        arrays = [rec[:, :d], rec[:, d], rec[:, d + 1:], self._lr[:n]]
        for i, a in enumerate(arrays):
            if copy:
                arrays[i] = a.copy()
            else:
                arrays[i] = a.view()
                arrays[i].flags.writeable = False
        params, loss, grad, lr = arrays
        return Trajectory(
            names=self.objective.names,
            params=params,
            loss=loss,
            grad=grad,
            lr=lr,
            status=str(self.statuses[j]),
            diverged_step=self.diverged_step_of(j),
            message=self.message(j),
        )

    def recorded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Views of all rows of all runs: params ``(n, k, d)``, loss, grad, lr.

        Rows after a run stopped are NaN.  Views: copy before keeping them.
        """
        rec = self._rec[:self.n_rows]
        return rec[..., :self.d], rec[..., self.d], rec[..., self.d + 1:], self._lr[:self.n_rows]


_FUSED_CACHE: dict[str, object] = {}
_FUSED_BY_SETTINGS: dict[tuple, object] = {}
_FUSED_TEMPLATE = """\
def loop(f, n, t, lr, v, p, g, s, rows, v_lo, v_hi, pb, grad_tol, loss_tol, max_steps, lim):
    {unpack}
    {bounds}
    ext = rows.extend
    done = 0
    end = None
    why = None
    while done < n:
        t += 1
        try:
{update}
            out = f({qs})
        except (ArithmeticError, ValueError):
            t -= 1
            end = "fall back"
            break
        v_new, {gs} = out
        done += 1
        {commit}
        if not ((v_lo < v_new) and (v_new < v_hi) and {within}):
            end = "diverged"
            why = [{ps}, v_new, {gs}]
            break
        ext(({ps}, v_new, {gs}))
{converged}
        if t >= max_steps:
            end = "max_steps"
            break
        v = v_new
    return done, t, [{ps}], [{ss}], end, why
"""
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")


def fused_loop(rule, d: int, n_buffers: int, grad_stop: bool, loss_stop: bool):
    """The fused scalar loop for an optimizer's :class:`~gd_explorer.core.optim.base.FusedRule`
    on ``d`` coordinates (generated once per source, then cached).

    It does what :meth:`Descent._advance_rules` does, unrolled over the coordinates with
    everything in locals: the update, the objective, :func:`stop_verdict` written out on
    floats (the same comparisons in the same order) and the row appended to ``rows``.
    It stops before a step whose update or objective raises (``"fall back"``: the rules
    take that step), at divergence (the state updated, the row not kept, ``why`` the
    row), convergence or the step limit, or after ``n`` steps.
    """
    step_names = {ln.split("=", 1)[0].strip() for ln in rule.per_step}

    def coord(line: str, i: int) -> str:
        def sub(m):
            w = m.group(0)
            if w in ("p", "g", "q") or (w[0] in "sn" and w[1:].isdigit()):
                return f"{w}_{i}" if w[0] in "sn" else f"{w}{i}"
            if w.startswith("_") and w not in step_names:
                return f"{w}_{i}"
            return w
        return _NAME.sub(sub, line)

    ind = " " * 12
    update = [ind + ln for ln in rule.per_step]
    for i in range(d):
        update += [ind + coord(ln, i) for ln in rule.per_coordinate]
    ps = ", ".join(f"p{i}" for i in range(d))
    gs = ", ".join(f"g{i}" for i in range(d))
    qs = ", ".join(f"q{i}" for i in range(d))
    ss = ", ".join(f"s{k}_{i}" for i in range(d) for k in range(n_buffers))
    unpack = (f"{ps}, = p\n    {gs}, = g\n    " + (f"{ss}, = s" if n_buffers else "pass"))
    commit = "; ".join([f"p{i} = q{i}" for i in range(d)]
                       + [f"s{k}_{i} = n{k}_{i}" for i in range(d) for k in rule.writes])
    bounds = ", ".join(f"lo{i}, hi{i}" for i in range(d)) + ", = pb"
    within = " and ".join(f"(lo{i} < p{i}) and (p{i} < hi{i}) "
                          f"and (abs(g{i}) < lim)" for i in range(d))
    conv = []
    if grad_stop:
        norm2 = " + ".join(["0.0", *(f"g{i} * g{i}" for i in range(d))])
        conv.append(f"{norm2} <= grad_tol * grad_tol")
    if loss_stop:
        conv.append("abs(v_new - v) <= loss_tol")
    converged = ""
    if conv:
        converged = (f"        if {' or '.join(conv)}:\n"
                     "            end = \"converged\"\n            break")
    if d == 0:
        return None
    src = _FUSED_TEMPLATE.format(unpack=unpack, update="\n".join(update), qs=qs, gs=gs,
                                 ps=ps, ss=ss, commit=commit, within=within, bounds=bounds,
                                 converged=converged)
    fn = _FUSED_CACHE.get(src)
    if fn is None:
        scope = {"sqrt": math.sqrt, "nan": math.nan}
        exec(compile(src, "<fused scalar loop>", "exec"), scope)  # noqa: S102
        if len(_FUSED_CACHE) > 256:
            _FUSED_CACHE.clear()
        fn = _FUSED_CACHE[src] = scope["loop"]
    return fn


def run_descent(objective: Objective, optimizer: Optimizer, start, *, steps: int = 1000,
                schedule: Schedule | None = None, grad_tol: float = 0.0, loss_tol: float = 0.0,
                batch_size: int | None = None, seed: int = 0, record: bool = True):
    """Run to the end and return the :class:`Trajectory` (:class:`Runs` for ``(k, d)`` starts).

    With ``record=False`` and many starts, returns the finished :class:`Descent` itself
    (its ``p``, ``value`` and ``statuses`` hold the final state).
    """
    descent = Descent(objective, optimizer, start, schedule=schedule, max_steps=steps,
                      grad_tol=grad_tol, loss_tol=loss_tol, batch_size=batch_size,
                      seed=seed, record=record)
    if not record and descent.k > 1:
        while not descent.finished:
            descent.advance(1 << 16)
        return descent
    return descent.run()
