"""Learning-rate sweeps, the lr × momentum map and the LR range test (headless).

LR sweep (:func:`sweep_learning_rates`)
    ``K`` log-spaced learning rates, each descending from the same start with the same
    optimizer and hyperparameters for ``N`` steps, batched as *one*
    :class:`~gd_explorer.core.engine.descent.Descent` of ``K`` identical starts with a
    per-run rate (``Descent(lr=...)``; ``record=False``: only the current state is kept).
    After every step the best loss so far is tracked per run.  The result holds the final
    and best loss per rate, the status (``diverged`` with its step), the *measured*
    divergence edge (between the largest stable rate below the first diverged one and
    that one) and the *predicted* edge from the Hessian at the start (the optimizer
    entry's ``stability_edge``; exact for a quadratic: plain GD ``2/λmax``, heavy ball
    ``(2 + 2μ)/λmax``).  Entries whose step evaluates the objective itself (LBFGS's line
    search) run one descent per rate.

lr × momentum map (:func:`sweep_lr_momentum`)
    The same for a grid of rates × momenta, where the momentum is what the entry declares:
    ``betas[0]`` (β1) if it has ``betas``, else ``momentum`` (torch's rule for cycled
    momentum, :func:`~gd_explorer.core.optim.schedules.set_momentum`).  A hyperparameter is
    one number per optimizer, so each momentum is one batched descent over all the rates.

LR range test (:func:`range_test`)
    fastai's ``lr_find`` / Lightning's ``lr_find``: one run whose rate grows exponentially
    from ``lr_min`` (1e-7) to ``lr_max`` (10) over ``N`` updates (torch's ExponentialLR),
    the loss smoothed with ``β = 0.98`` and bias correction
    (``a ← β·a + (1 − β)·loss``, ``smoothed = a / (1 − β^(i+1))``), stopped when the
    smoothed loss passes 4 × the best smoothed loss.  As in both libraries the rate of an
    update is paired with the loss measured before it.  Suggestions (fastai's, on the
    points without the first tenth and the last five): ``valley`` (fastai's: the longest
    decreasing stretch of the curve, half way into it, see :func:`valley`),
    ``steepest`` (the most negative slope of the smoothed loss against log lr) and
    ``minimum / 10`` (the rate at the lowest smoothed loss, divided by ten).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gd_explorer.core.engine.descent import Descent, check_start
from gd_explorer.core.io import fields as fld
from gd_explorer.core.limits import MAX_STEPS, MAX_SWEEP_RUNS
from gd_explorer.core.optim.optimizers import Optimizer, make_optimizer
from gd_explorer.core.optim.schedules import make_schedule
from gd_explorer.core.problems.objectives import Objective

#: the defaults of the sweep (the CLI's and the view's)
DEFAULT_LRS = (1e-5, 10.0, 200)
DEFAULT_STEPS = 500
DEFAULT_MOMENTA = (0.0, 0.99, 40)
DEFAULT_MAP_LRS = (1e-5, 10.0, 60)
#: the range test (fastai / Lightning defaults, and their smoothing and stop rule)
RANGE_LRS = (1e-7, 10.0)
RANGE_STEPS = 100
RANGE_BETA = 0.98
RANGE_STOP_FACTOR = 4.0

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


class SweepCancelled(Exception):
    """Raised inside a sweep when its ``cancelled()`` callback says so."""


def _nothing(_fraction: float) -> None:
    return None


def _never() -> bool:
    return False


def log_rates(low: float, high: float, count: int) -> np.ndarray:
    """``count`` log-spaced rates from ``low`` to ``high`` (both included).

    Raises ``ValueError`` for rates that are not positive, ``low >= high`` or a count
    below 2 (one line, for the CLI and the dialog alike).
    """
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high) and low > 0 and high > 0):
        raise ValueError(f"learning rates must be positive, got {low:g} to {high:g}")
    if not low < high:
        raise ValueError(f"the lowest learning rate must be below the highest, "
                         f"got {low:g} to {high:g}")
    count = int(count)
    if count < 2:
        raise ValueError(f"a sweep needs at least 2 learning rates, got {count}")
    return np.geomspace(low, high, count)


def momentum_grid(low: float, high: float, count: int) -> np.ndarray:
    """``count`` evenly spaced momenta from ``low`` to ``high``, within [0, 1)."""
    low, high, count = float(low), float(high), int(count)
    if not (0 <= low < high < 1):
        raise ValueError(f"momenta must satisfy 0 <= low < high < 1, got {low:g} to {high:g}")
    if count < 2:
        raise ValueError(f"a momentum grid needs at least 2 values, got {count}")
    return np.linspace(low, high, count)


def momentum_name(optimizer: type[Optimizer] | Optimizer) -> str | None:
    """The hyperparameter that plays momentum for this entry: ``betas`` (its first
    entry, β1), ``momentum``, or None (the entry has neither)."""
    return optimizer.momentum_hyper()


def _hyper_with(optimizer: Optimizer, momentum: float | None) -> dict:
    values = dict(vars(optimizer.hyper))
    name = momentum_name(optimizer)
    if momentum is not None and name == "betas":
        values["betas"] = (float(momentum), *values["betas"][1:])
    elif momentum is not None and name == "momentum":
        values["momentum"] = float(momentum)
    return values


def predicted_edge(objective: Objective, optimizer: Optimizer, start,
                   hyper: dict | None = None) -> float | None:
    """The optimizer entry's stability edge on the Hessian at ``start`` (None: unknown)."""
    hyper = dict(vars(optimizer.hyper)) if hyper is None else hyper
    try:
        with np.errstate(all="ignore"):
            h = np.asarray(objective.hessian(np.asarray(start, dtype=np.float64)), dtype=float)
        if not np.all(np.isfinite(h)):
            return None
        if optimizer.maximize:
            h = -h
        edge = type(optimizer).stability_edge(hyper, h, None)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        return None
    return None if edge is None else float(edge)


@dataclass
class LRSweep:
    """The result of a learning-rate sweep (arrays ``(K,)``, rates ascending)."""

    lrs: np.ndarray
    final_loss: np.ndarray  # the loss at the last row kept (before divergence)
    best_loss: np.ndarray  # the best loss over the rows kept (lowest; highest maximizing)
    statuses: np.ndarray  # "max_steps", "converged", "diverged" (or "stopped")
    diverged_step: np.ndarray  # int, -1 where the run did not diverge
    steps: int
    predicted_edge: float | None = None
    optimizer: str = ""
    momentum: float | None = None  # the momentum of this row of a map

    @property
    def diverged(self) -> np.ndarray:
        return self.statuses == "diverged"

    @property
    def measured_edge(self) -> tuple[float, float] | None:
        """``(largest stable rate, first diverged rate)``: the edge lies between them.

        None when no rate diverged; ``(nan, lrs[0])`` when even the smallest did.
        """
        bad = np.flatnonzero(self.diverged)
        if bad.size == 0:
            return None
        i = int(bad[0])
        return (float(self.lrs[i - 1]) if i > 0 else math.nan, float(self.lrs[i]))

    @property
    def measured_edge_value(self) -> float | None:
        """The edge as one number: the geometric mean of :attr:`measured_edge`."""
        e = self.measured_edge
        if e is None or not math.isfinite(e[0]):
            return None
        return math.sqrt(e[0] * e[1])

    def rows(self) -> list[tuple]:
        """``(lr, final_loss, best_loss, status, diverged_step)`` per rate (CSV rows)."""
        return [(float(lr), float(f), float(b), str(s), int(d) if d >= 0 else None)
                for lr, f, b, s, d in zip(self.lrs, self.final_loss, self.best_loss,
                                          self.statuses, self.diverged_step)]


def _check_count(k: int, steps: int) -> None:
    if k > MAX_SWEEP_RUNS:
        raise ValueError(f"a sweep may batch at most {MAX_SWEEP_RUNS:,} runs, got {k:,}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"a sweep needs 1 to {MAX_STEPS:,} steps, got {steps:,}")


def _run_batch(objective, optimizer, start, lrs, steps, *, batch_size, seed,
               progress: Progress, cancelled: Cancelled, done: float, share: float):
    """One descent of ``len(lrs)`` copies of ``start``, each with its rate: final, best,
    statuses, diverged steps.  Best-loss tracking steps the batch one update at a time
    (the Python overhead is per step, not per run)."""
    k = len(lrs)
    sign = -1.0 if optimizer.maximize else 1.0
    if optimizer.evaluations == 1:
        descents = [Descent(objective, optimizer, np.tile(start, (k, 1)), max_steps=steps,
                            batch_size=batch_size, seed=seed, record=False, lr=lrs)]
    else:  # a line search per step: one descent per rate
        descents = [Descent(objective, make_optimizer(optimizer.name, lr=float(lr),
                                                      maximize=optimizer.maximize,
                                                      **vars(optimizer.hyper)),
                            start[None, :], max_steps=steps,
                            batch_size=batch_size, seed=seed, record=False)
                    for lr in lrs]
    n = len(descents)
    final = np.concatenate([d.value for d in descents]).astype(np.float64)
    best = final.copy()
    every = max(1, steps // 100)
    for i, d in enumerate(descents):
        rows = slice(i * d.k, (i + 1) * d.k)
        t = 0
        while not d.finished:
            d.advance(1)
            t += 1
            kept = d.statuses != "diverged"
            v = d.value
            final[rows] = np.where(kept, v, final[rows])
            with np.errstate(invalid="ignore"):
                better = kept & (sign * v < sign * best[rows])
            best[rows] = np.where(better, v, best[rows])
            if t % every == 0:
                if cancelled():
                    raise SweepCancelled("sweep cancelled")
                progress(done + share * (i + t / max(steps, 1)) / n)
    statuses = np.concatenate([d.statuses for d in descents])
    div = np.concatenate([[d.diverged_step_of(j) if d.diverged_step_of(j) is not None else -1
                           for j in range(d.k)] for d in descents]).astype(np.int64)
    return final, best, statuses, div


def sweep_learning_rates(objective: Objective, optimizer: Optimizer, start, lrs, steps: int,
                         *, batch_size: int | None = None, seed: int = 0,
                         momentum: float | None = None, progress: Progress | None = None,
                         cancelled: Cancelled | None = None, _done: float = 0.0,
                         _share: float = 1.0) -> LRSweep:
    """Sweep ``optimizer`` (its hyperparameters, not its rate) over ``lrs`` from ``start``.

    Parameters
    ----------
    objective, optimizer, start
        The problem, the optimizer (its ``lr`` is ignored) and the start ``(d,)``.
    lrs
        The rates (sorted ascending here).
    steps
        Updates per run (``N``).
    momentum
        Replace the optimizer's momentum (β1 for the Adam family) with this value.
    progress, cancelled
        ``progress(fraction)`` is called now and then; ``cancelled()`` is asked as often
        and a True answer raises :class:`SweepCancelled`.

    Raises
    ------
    ValueError
        For a bad start, rate, count or hyperparameter (one line).
    """
    lrs = np.sort(np.asarray(lrs, dtype=np.float64).reshape(-1))
    steps = int(steps)
    _check_count(len(lrs), steps)
    start = check_start(objective, start)
    hyper = _hyper_with(optimizer, momentum)
    opt = make_optimizer(optimizer.name, lr=float(lrs[0]), maximize=optimizer.maximize, **hyper)
    final, best, statuses, div = _run_batch(
        objective, opt, start, lrs, steps, batch_size=batch_size, seed=seed,
        progress=progress or _nothing, cancelled=cancelled or _never, done=_done,
        share=_share)
    return LRSweep(lrs=lrs, final_loss=final, best_loss=best, statuses=statuses,
                   diverged_step=div, steps=steps,
                   predicted_edge=predicted_edge(objective, opt, start, hyper),
                   optimizer=optimizer.name, momentum=momentum)


@dataclass
class MomentumMap:
    """lr × momentum: ``final_loss[i, j]`` at ``momenta[i]``, ``lrs[j]`` (NaN: diverged or
    not allowed, e.g. Nesterov at momentum 0)."""

    lrs: np.ndarray  # (L,)
    momenta: np.ndarray  # (M,)
    final_loss: np.ndarray  # (M, L)
    diverged: np.ndarray  # (M, L) bool
    parameter: str  # "momentum" or "betas" (β1)
    predicted_edges: np.ndarray  # (M,) the entry's edge per momentum (NaN: unknown)
    rows: list[LRSweep | None] = field(default_factory=list)


def sweep_lr_momentum(objective: Objective, optimizer: Optimizer, start, lrs, momenta,
                      steps: int, *, batch_size: int | None = None, seed: int = 0,
                      progress: Progress | None = None,
                      cancelled: Cancelled | None = None) -> MomentumMap:
    """The final loss over a grid of rates × momenta (one batched descent per momentum).

    Raises ``ValueError`` when the optimizer has neither ``momentum`` nor ``betas``.
    """
    name = momentum_name(optimizer)
    if name is None:
        raise ValueError(f"{optimizer.name} has neither momentum nor betas: "
                         "no lr × momentum map (choose SGD or an Adam-family optimizer)")
    lrs = np.sort(np.asarray(lrs, dtype=np.float64).reshape(-1))
    momenta = np.asarray(momenta, dtype=np.float64).reshape(-1)
    _check_count(len(lrs) * len(momenta), int(steps))
    start = check_start(objective, start)
    progress = progress or _nothing
    m = len(momenta)
    loss = np.full((m, len(lrs)), np.nan)
    diverged = np.zeros((m, len(lrs)), dtype=bool)
    edges = np.full(m, np.nan)
    rows: list[LRSweep | None] = []
    for i, mu in enumerate(momenta):
        try:
            row = sweep_learning_rates(objective, optimizer, start, lrs, steps,
                                       batch_size=batch_size, seed=seed, momentum=float(mu),
                                       progress=progress, cancelled=cancelled,
                                       _done=i / m, _share=1 / m)
        except SweepCancelled:
            raise
        except ValueError:  # e.g. nesterov needs momentum > 0: that row stays blank
            rows.append(None)
            continue
        rows.append(row)
        diverged[i] = row.diverged
        loss[i] = np.where(row.diverged, np.nan, row.final_loss)
        if row.predicted_edge is not None:
            edges[i] = row.predicted_edge
    progress(1.0)
    return MomentumMap(lrs=lrs, momenta=momenta, final_loss=loss, diverged=diverged,
                       parameter=name, predicted_edges=edges, rows=rows)


# ------------------------------------------------------------------ settings
#: the sweep's modes: one LR sweep, the lr × momentum map, the LR range test
MODES = ("lr", "map", "range")


@dataclass(frozen=True)
class SweepSettings:
    """What the Sweep view runs (and a session remembers under ``"lab": {"sweep": ...}``).

    ``lr_low``/``lr_high``/``count``: the rates (log-spaced); ``steps``: updates per run;
    ``momentum_low``/``momentum_high``/``momenta``: the map's momenta (linear);
    ``range_low``/``range_high``/``range_steps``: the range test's rates and length.
    """

    mode: str = "lr"
    lr_low: float = DEFAULT_LRS[0]
    lr_high: float = DEFAULT_LRS[1]
    count: int = DEFAULT_LRS[2]
    steps: int = DEFAULT_STEPS
    map_count: int = DEFAULT_MAP_LRS[2]
    momentum_low: float = DEFAULT_MOMENTA[0]
    momentum_high: float = DEFAULT_MOMENTA[1]
    momenta: int = DEFAULT_MOMENTA[2]
    range_low: float = RANGE_LRS[0]
    range_high: float = RANGE_LRS[1]
    range_steps: int = RANGE_STEPS

    def check(self) -> SweepSettings:
        """Itself, if every setting is usable (else ``ValueError``, one line)."""
        if self.mode not in MODES:
            raise ValueError(f"unknown sweep mode {self.mode!r}; choose one of: {', '.join(MODES)}")
        log_rates(self.lr_low, self.lr_high, self.count)
        log_rates(self.lr_low, self.lr_high, self.map_count)
        momentum_grid(self.momentum_low, self.momentum_high, self.momenta)
        log_rates(self.range_low, self.range_high, 2)
        _check_count(self.count, self.steps)
        _check_count(self.map_count * self.momenta, self.steps)
        if not 2 <= self.range_steps <= MAX_STEPS:
            raise ValueError(f"the range test needs 2 to {MAX_STEPS:,} steps, "
                             f"got {self.range_steps:,}")
        return self

    def to_dict(self) -> dict:
        """JSON-ready (plain floats and ints)."""
        return {f: (fld.plain_float(v) if isinstance(v, float) else v)
                for f, v in vars(self).items()}

    @classmethod
    def from_dict(cls, path: str, d) -> SweepSettings:
        """Read a session's ``lab.sweep`` object (missing keys take the defaults); errors
        name the key path (``lab.sweep.count: must be ...``)."""
        defaults = cls()
        keys = tuple(vars(defaults))
        d = fld.object_of(path, d, keys, optional=vars(defaults))
        values = {}
        for key in keys:
            at = fld.join(path, key)
            if key == "mode":
                values[key] = fld.choice(at, d[key], MODES, "sweep mode")
            elif isinstance(getattr(defaults, key), int):
                values[key] = fld.whole(at, d[key], 0, MAX_STEPS)
            else:
                values[key] = fld.real(at, d[key])
        try:
            return cls(**values).check()
        except ValueError as exc:
            raise fld.SessionError(f"{path}: {exc}") from None


# ------------------------------------------------------------------ the LR range test
def smooth_losses(losses, beta: float = RANGE_BETA) -> np.ndarray:
    """fastai's / Lightning's smoothing: an exponential average with bias correction."""
    avg = 0.0
    out = np.empty(len(losses))
    for i, v in enumerate(losses):
        avg = beta * avg + (1 - beta) * float(v)
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def valley(lrs: np.ndarray, losses: np.ndarray) -> int:
    """fastai's ``valley`` suggestion, as an index: the longest (not necessarily
    contiguous) decreasing subsequence of the losses, then the point 1/3 + 1/6 of the way
    into it (fastai 2.7 ``valley``)."""
    n = len(losses)
    if n == 0:
        raise ValueError("no losses to suggest from")
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return min(n - 1, max_start + int(sections) + int(sections / 2))


def steepest(lrs: np.ndarray, losses: np.ndarray) -> int:
    """Index of the most negative slope of ``losses`` against ``log(lrs)`` (fastai's
    ``steep``: forward differences, the slope's left point)."""
    if len(losses) < 2:
        raise ValueError("the steepest slope needs at least 2 points")
    slope = np.diff(losses) / np.diff(np.log(lrs))
    return int(np.nanargmin(slope))


@dataclass
class RangeTest:
    """The LR range test's curve and suggestions (rates of the suggestions)."""

    lrs: np.ndarray  # the rate of each update
    losses: np.ndarray  # the loss measured before it
    smoothed: np.ndarray
    stopped_early: bool
    stop_reason: str
    suggestions: dict[str, float]  # "valley", "steepest", "minimum/10"


def range_test(objective: Objective, optimizer: Optimizer, start, *,
               lr_min: float = RANGE_LRS[0], lr_max: float = RANGE_LRS[1],
               steps: int = RANGE_STEPS, beta: float = RANGE_BETA,
               stop_factor: float = RANGE_STOP_FACTOR, batch_size: int | None = None,
               seed: int = 0, progress: Progress | None = None,
               cancelled: Cancelled | None = None) -> RangeTest:
    """The LR range test (fastai / Lightning ``lr_find``), see the module docstring.

    The loss is the full-data loss at each point (the engine's), also with mini-batches.
    """
    log_rates(lr_min, lr_max, 2)
    steps = int(steps)
    if steps < 2:
        raise ValueError(f"the range test needs at least 2 steps, got {steps}")
    progress, cancelled = progress or _nothing, cancelled or _never
    gamma = (lr_max / lr_min) ** (1.0 / (steps - 1))
    opt = make_optimizer(optimizer.name, lr=lr_min, maximize=optimizer.maximize,
                         **vars(optimizer.hyper))
    schedule = make_schedule("exponential", base_lr=lr_min, gamma=gamma)
    d = Descent(objective, opt, start, schedule=schedule, max_steps=steps,
                batch_size=batch_size, seed=seed, record=False)
    sign = -1.0 if opt.maximize else 1.0
    lrs, losses, smoothed = [], [], []
    avg, best = 0.0, math.inf
    reason = ""
    for i in range(steps):
        loss = sign * float(d.value[0])  # a maximized objective: its negative is the loss
        avg = beta * avg + (1 - beta) * loss
        s = avg / (1 - beta ** (i + 1))
        lrs.append(float(d.lr_now))
        losses.append(loss)
        smoothed.append(s)
        best = min(best, s)
        if not math.isfinite(s) or s > stop_factor * best and i > 0:
            reason = f"the smoothed loss passed {stop_factor:g} × its best at lr {d.lr_now:.3g}"
            break
        if not d.step() or d.statuses[0] == "diverged":
            if d.statuses[0] == "diverged":
                reason = f"the run {d.message(0)} at lr {lrs[-1]:.3g}"
            break
        if i % 10 == 0:
            if cancelled():
                raise SweepCancelled("range test cancelled")
            progress(i / steps)
    progress(1.0)
    lrs_a, sm = np.array(lrs), np.array(smoothed)
    return RangeTest(lrs=lrs_a, losses=np.array(losses), smoothed=sm,
                     stopped_early=bool(reason), stop_reason=reason,
                     suggestions=suggestions(lrs_a, sm))


def suggestions(lrs: np.ndarray, smoothed: np.ndarray) -> dict[str, float]:
    """fastai's suggestions on the curve without its first tenth and last five points
    (fewer when the curve is short); empty when too few points remain."""
    n = len(lrs)
    lo, hi = n // 10, n - 5 if n - 5 > n // 10 + 2 else n
    x, y = lrs[lo:hi], smoothed[lo:hi]
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3:
        return {}
    return {"valley": float(x[valley(x, y)]),
            "steepest": float(x[steepest(x, y)]),
            "minimum/10": float(x[int(np.argmin(y))] / 10)}


__all__ = ["DEFAULT_LRS", "DEFAULT_MOMENTA", "DEFAULT_STEPS", "LRSweep", "MODES",
           "MomentumMap", "RangeTest", "SweepSettings", "SweepCancelled", "log_rates", "momentum_grid",
           "momentum_name", "predicted_edge", "range_test", "smooth_losses", "steepest",
           "suggestions", "sweep_learning_rates", "sweep_lr_momentum", "valley"]
