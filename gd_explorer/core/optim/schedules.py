"""Learning-rate schedules: torch.optim.lr_scheduler, one class per scheduler.

``schedule.lr(t)`` is the rate used for update number ``t`` (``t = 0`` is the first
update), i.e. torch's ``optimizer.param_groups[0]["lr"]`` after ``t`` calls of
``scheduler.step()``, one per optimizer step.

Each schedule is one class, and the class is its registry entry: ``name`` (the session
key and the CLI's ``--schedule`` value), ``title`` (the picker), ``torch_name``, the
rule as text (``rule_text``: the docstring, the tooltip and ``gd-explorer list`` all
read it) and its hyperparameters as :class:`~gd_explorer.core.optim.hyper.HyperParameter`
declarations (torch's keyword names and defaults; ranges; help), from which the CLI
flags, the session reader's checks and the run editor's widgets are made.  Defining a
subclass registers it in :data:`SCHEDULES` (in definition order, the picker's order).

Arithmetic
    torch computes most schedulers recursively ("chainable form": the new rate from the
    previous one).  Such a schedule here implements torch's recursion (``_first`` for the
    rate set when the scheduler is made, ``_next`` for one ``step()``) and ``lr(t)``
    advances a small state ``(t, rate)`` as ``t`` grows (starting over if ``t`` goes
    back), so the rates agree with torch's bit for bit, not only to rounding.  CyclicLR
    and OneCycleLR are closed forms in torch too and are written the same way here.

Momentum
    CyclicLR and OneCycleLR also cycle the momentum: torch sets the group's ``momentum``,
    or ``betas[0]`` when the optimizer has ``betas``, and refuses an optimizer with
    neither.  :meth:`Schedule.momentum` gives the value for update ``t`` (``None`` when the
    schedule does not cycle it) and :meth:`Schedule.bind` checks the optimizer's
    declarations and returns a private copy whose hyperparameter the engine sets before
    each update (:func:`set_momentum`).

State
    ReduceLROnPlateau follows the loss: the engine calls :meth:`Schedule.rate` with the
    full-data loss of each new row.  Its state (best loss, bad-epoch count, cooldown,
    current rate) lives in the schedule object, which travels with the descent.
"""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from gd_explorer.core.limits import MAX_COUNT
from gd_explorer.core.optim.hyper import HyperParameter, check_all, check_lr, check_whole

#: every schedule by name, in picker order (filled by :meth:`Schedule.__init_subclass__`)
SCHEDULES: dict[str, type[Schedule]] = {}


def _count(name: str, default: int, help: str, low: int = 1) -> HyperParameter:
    return HyperParameter(name, "int", default, help, low=low, high=MAX_COUNT)


def _factor(name: str, default: float, help: str, *, low_open: bool = False,
            high: float | None = 1.0) -> HyperParameter:
    return HyperParameter(name, "float", default, help, low=0.0, high=high, low_open=low_open)


def _momentum(name: str, default: float, help: str) -> HyperParameter:
    return HyperParameter(name, "float", default, help, low=0.0, high=1.0, high_open=True)


class Schedule:
    """Base of every schedule: torch's recursion, advanced as ``t`` grows.

    Subclasses set the class attributes and implement ``_first`` (the rate right after
    torch makes the scheduler, ``last_epoch = 0``) and ``_next(t, lr)`` (torch's
    ``get_lr()`` at ``last_epoch = t`` with the current rate ``lr``).  ``_closed0`` is the
    rate ``step(0)`` sets (``SequentialLR`` at its milestone); it defaults to ``_first``.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    torch_name: ClassVar[str] = ""
    rule_text: ClassVar[str] = ""
    params: ClassVar[tuple[HyperParameter, ...]] = ()
    #: False for schedules that set the rate themselves (a warm-up cannot precede them)
    allows_warmup: ClassVar[bool] = True
    #: True when ``rate`` needs the loss (ReduceLROnPlateau)
    follows_loss: ClassVar[bool] = False

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if register:
            if not cls.name or cls.name in SCHEDULES:
                raise TypeError(f"schedule {cls.__name__} needs a new name, got {cls.name!r}")
            cls.__doc__ = f"{cls.title} (torch's {cls.torch_name}): {cls.rule_text}"
            SCHEDULES[cls.name] = cls

    def __init__(self, base_lr: float, **values: Any):
        self.base_lr = check_lr(base_lr)
        for key, value in check_all(self.params, values, f"schedule {self.name!r}").items():
            setattr(self, key, value)
        self._validate()
        self._restart()

    # ------------------------------------------------------------------ to override
    def _validate(self) -> None:
        """Rules that combine parameters (raise ``ValueError``)."""

    def _first(self) -> float:
        return self.base_lr

    def _next(self, t: int, lr: float) -> float:
        return lr

    def _closed0(self) -> float:
        return self._first()

    def momentum(self, t: int) -> float | None:
        """The momentum (or beta1) for update ``t``; ``None``: the schedule leaves it alone."""
        return None

    # ------------------------------------------------------------------ shared
    @property
    def cycles_momentum(self) -> bool:
        return bool(getattr(self, "cycle_momentum", False))

    def _restart(self) -> None:
        self._t = 0
        self._lr = self._first()

    def lr(self, t: int) -> float:
        """The learning rate for update number ``t`` (0-based)."""
        if t < self._t:
            self._restart()
        while self._t < t:
            self._t += 1
            self._lr = self._next(self._t, self._lr)
        return self._lr

    def rate(self, t: int, loss: Any) -> float:
        """The rate for update ``t``, given the full-data loss of row ``t`` (what the engine
        calls once per new row, in order)."""
        return self.lr(t)

    def settings(self) -> dict[str, Any]:
        """The schedule's own parameters (without base_lr), by name."""
        return {p.name: getattr(self, p.name) for p in self.params}

    def same_as(self, other: Schedule) -> bool:
        """True when ``other`` is the same schedule with the same settings."""
        return (type(other) is type(self) and other.name == self.name
                and other.base_lr == self.base_lr
                and other.settings() == self.settings()
                and getattr(other, "warmup", 0) == getattr(self, "warmup", 0))

    def bind(self, optimizer):
        """The optimizer to run with this schedule: ``optimizer`` itself, or a private copy
        whose momentum (beta1) the engine may set per update.

        Raises
        ------
        ValueError
            When the schedule cycles the momentum and the optimizer has neither a
            ``momentum`` nor ``betas`` (torch refuses it too).
        """
        if not self.cycles_momentum:
            return optimizer
        if optimizer.momentum_hyper() is None:
            raise ValueError(
                f"cycle_momentum needs an optimizer with momentum or betas; "
                f"{optimizer.name} has neither (set cycle_momentum to false)")
        own = copy.copy(optimizer)
        own.hyper = SimpleNamespace(**vars(optimizer.hyper))
        set_momentum(own, self.momentum(0))
        return own

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}(base_lr={self.base_lr!r}{', ' if args else ''}{args})"


def set_momentum(optimizer, value: float | None) -> None:
    """Set the momentum the optimizer uses: ``betas[0]`` if it declares ``betas``, else
    ``momentum`` (torch's rule for cycled momentum)."""
    if value is None:
        return
    h = optimizer.hyper
    if optimizer.momentum_hyper() == "betas":
        h.betas = (value, *h.betas[1:])
    else:
        h.momentum = value


# =========================================================================== the schedules
class ConstantSchedule(Schedule):
    name = "constant"
    title = "constant"
    torch_name = "none"
    rule_text = "lr_t = lr (no scheduler)"


class StepSchedule(Schedule):
    name = "step"
    title = "step decay"
    torch_name = "StepLR"
    rule_text = "multiply the rate by gamma every step_size updates: lr_t = lr * gamma^floor(t / step_size)"
    params = (
        _count("step_size", 100, "updates between two decays"),
        HyperParameter("gamma", "float", 0.1, "factor applied at each decay", low=0.0,
                       low_open=True),
    )

    def _next(self, t, lr):
        if t % self.step_size != 0:
            return lr
        return lr * self.gamma


class MultiStepSchedule(Schedule):
    name = "multistep"
    title = "multi-step decay"
    torch_name = "MultiStepLR"
    rule_text = ("multiply the rate by gamma at each milestone: "
                 "lr_t = lr * gamma^(number of milestones <= t)")
    params = (
        HyperParameter("milestones", "ints", (100, 200), "updates at which the rate decays",
                       low=1, high=MAX_COUNT),
        HyperParameter("gamma", "float", 0.1, "factor applied at each milestone", low=0.0,
                       low_open=True),
    )

    def _next(self, t, lr):
        if t not in self.milestones:
            return lr
        # torch: gamma ** (times the milestone is listed); milestones here are distinct
        return lr * self.gamma


class ConstantFactorSchedule(Schedule):
    name = "constantlr"
    title = "constant factor, then full rate"
    torch_name = "ConstantLR"
    rule_text = "lr_t = lr * factor for t < total_iters, then lr"
    params = (
        _factor("factor", 1.0 / 3, "factor applied before total_iters", low_open=True),
        _count("total_iters", 5, "updates at the reduced rate"),
    )

    def _first(self):
        return self.base_lr * self.factor

    def _next(self, t, lr):
        if t != self.total_iters:
            return lr
        return lr * (1.0 / self.factor)


class LinearSchedule(Schedule):
    name = "linear"
    title = "linear ramp"
    torch_name = "LinearLR"
    rule_text = ("lr_t = lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) "
                 "/ total_iters)")
    params = (
        _factor("start_factor", 1.0 / 3, "factor at the first update", low_open=True),
        _factor("end_factor", 1.0, "factor from total_iters on"),
        _count("total_iters", 5, "updates of the ramp"),
    )

    def _first(self):
        return self.base_lr * self.start_factor

    def _next(self, t, lr):
        if t > self.total_iters:
            return lr
        return lr * (1.0 + (self.end_factor - self.start_factor) / (
            self.total_iters * self.start_factor
            + (t - 1) * (self.end_factor - self.start_factor)))


class ExponentialSchedule(Schedule):
    name = "exponential"
    title = "exponential decay"
    torch_name = "ExponentialLR"
    rule_text = "multiply the rate by gamma after every update: lr_t = lr * gamma^t"
    params = (HyperParameter("gamma", "float", 0.99, "factor applied after every update",
                             low=0.0, low_open=True),)

    def _next(self, t, lr):
        return lr * self.gamma


class PolynomialSchedule(Schedule):
    name = "polynomial"
    title = "polynomial decay"
    torch_name = "PolynomialLR"
    rule_text = "lr_t = lr * (1 - min(t, total_iters) / total_iters)^power"
    params = (
        _count("total_iters", 5, "updates until the rate reaches 0"),
        HyperParameter("power", "float", 1.0, "power of the polynomial", low=0.0),
    )

    def _next(self, t, lr):
        if t > self.total_iters:
            return lr
        decay = ((1.0 - t / self.total_iters) / (1.0 - (t - 1) / self.total_iters)) ** self.power
        return lr * decay

    def _closed0(self):
        return self.base_lr * (1.0 - min(self.total_iters, 0) / self.total_iters) ** self.power


class CosineSchedule(Schedule):
    name = "cosine"
    title = "cosine annealing"
    torch_name = "CosineAnnealingLR"
    rule_text = ("lr_t = eta_min + (lr - eta_min) * (1 + cos(pi * t / t_max)) / 2 "
                 "(periodic beyond t_max, as torch's is)")
    params = (
        _count("t_max", 1000, "updates in half a cosine period (torch's T_max)"),
        HyperParameter("eta_min", "float", 0.0, "smallest rate", low=0.0),
    )

    def _next(self, t, lr):
        if (t - 1 - self.t_max) % (2 * self.t_max) == 0:
            return lr + (self.base_lr - self.eta_min) * (1 - math.cos(math.pi / self.t_max)) / 2
        return ((1 + math.cos(math.pi * t / self.t_max))
                / (1 + math.cos(math.pi * (t - 1) / self.t_max))
                * (lr - self.eta_min) + self.eta_min)

    def _closed0(self):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(0.0)) / 2


class WarmRestartsSchedule(Schedule):
    name = "warm_restarts"
    title = "cosine with warm restarts"
    torch_name = "CosineAnnealingWarmRestarts"
    rule_text = ("cosine annealing from lr to eta_min over t_0 updates, then restart; each "
                 "period is t_mult times the last: lr_t = eta_min + (lr - eta_min) * "
                 "(1 + cos(pi * T_cur / T_i)) / 2")
    params = (
        _count("t_0", 100, "updates of the first period (torch's T_0)"),
        _count("t_mult", 1, "factor by which each period grows (torch's T_mult)"),
        HyperParameter("eta_min", "float", 0.0, "smallest rate", low=0.0),
    )

    def _value(self):
        return self.eta_min + (self.base_lr - self.eta_min) * (
            1 + math.cos(math.pi * self._t_cur / self._t_i)) / 2

    def _first(self):
        self._t_cur, self._t_i = 0, self.t_0
        return self._value()

    def _next(self, t, lr):
        self._t_cur += 1
        if self._t_cur >= self._t_i:
            self._t_cur = self._t_cur % self._t_i
            self._t_i = self._t_i * self.t_mult
        return self._value()


class CyclicSchedule(Schedule):
    name = "cyclic"
    title = "cyclic"
    torch_name = "CyclicLR"
    rule_text = ("a triangle wave between the run's rate (torch's base_lr) and max_lr: up in "
                 "step_size_up updates, down in step_size_down; triangular2 halves the "
                 "amplitude each cycle, exp_range scales it by gamma^t; the momentum "
                 "(beta1) runs the opposite way between max_momentum and base_momentum")
    allows_warmup = False
    params = (
        HyperParameter("max_lr", "float", 0.1, "the rate at the top of a cycle", low=0.0,
                       low_open=True),
        _count("step_size_up", 2000, "updates of the rising half"),
        _count("step_size_down", 0, "updates of the falling half (0: as step_size_up, "
                                    "torch's None)", low=0),
        HyperParameter("mode", "choice", "triangular", "amplitude policy",
                       choices=("triangular", "triangular2", "exp_range")),
        HyperParameter("gamma", "float", 1.0, "exp_range: amplitude factor gamma^t",
                       low=0.0, low_open=True, high=1.0),
        HyperParameter("cycle_momentum", "bool", True,
                       "cycle the momentum (beta1) against the rate"),
        _momentum("base_momentum", 0.8, "momentum at the top of the rate"),
        _momentum("max_momentum", 0.9, "momentum at the bottom of the rate"),
    )

    def _validate(self):
        up = float(self.step_size_up)
        down = float(self.step_size_down) if self.step_size_down else up
        self._total_size = up + down
        self._step_ratio = up / self._total_size

    def _scale(self, t):
        """(scale_factor, amplitude factor) at ``last_epoch = t``, as torch's get_lr."""
        cycle = math.floor(1 + t / self._total_size)
        x = 1.0 + t / self._total_size - cycle
        if x <= self._step_ratio:
            scale_factor = x / self._step_ratio
        else:
            scale_factor = (x - 1) / (self._step_ratio - 1)
        if self.mode == "triangular":
            amp = 1.0
        elif self.mode == "triangular2":
            amp = 1 / (2.0 ** (cycle - 1))
        else:
            amp = self.gamma**t
        return scale_factor, amp

    def _first(self):
        return self._next(0, self.base_lr)

    def _next(self, t, lr):
        scale_factor, amp = self._scale(t)
        base_height = (self.max_lr - self.base_lr) * scale_factor
        return self.base_lr + base_height * amp

    def momentum(self, t):
        if not self.cycle_momentum:
            return None
        scale_factor, amp = self._scale(t)
        base_height = (self.max_momentum - self.base_momentum) * scale_factor
        return self.max_momentum - base_height * amp


class OneCycleSchedule(Schedule):
    name = "onecycle"
    title = "one cycle"
    torch_name = "OneCycleLR"
    rule_text = ("warm up from lr / div_factor to the run's rate (torch's max_lr) over "
                 "pct_start of total_steps, then anneal (cos or linear) to lr / div_factor / "
                 "final_div_factor; three_phase comes back down symmetrically first; the "
                 "momentum (beta1) runs the opposite way; beyond total_steps (where torch "
                 "raises) the final rate and momentum are kept")
    allows_warmup = False
    params = (
        _count("total_steps", 1000, "updates in the cycle (torch requires it)"),
        HyperParameter("pct_start", "float", 0.3, "fraction of the cycle spent rising",
                       low=0.0, high=1.0),
        HyperParameter("anneal_strategy", "choice", "cos", "shape of each phase",
                       choices=("cos", "linear")),
        HyperParameter("cycle_momentum", "bool", True,
                       "cycle the momentum (beta1) against the rate"),
        _momentum("base_momentum", 0.85, "momentum at the peak rate"),
        _momentum("max_momentum", 0.95, "momentum at the lowest rate"),
        HyperParameter("div_factor", "float", 25.0, "initial rate = max_lr / div_factor",
                       low=0.0, low_open=True),
        HyperParameter("final_div_factor", "float", 1e4,
                       "final rate = initial rate / final_div_factor", low=0.0, low_open=True),
        HyperParameter("three_phase", "bool", False, "come back down before annealing"),
    )

    def _validate(self):
        n = self.total_steps
        self._initial = self.base_lr / self.div_factor
        self._min = self._initial / self.final_div_factor
        peak, low, top, bottom = self.base_lr, self._initial, "max", "base"
        if self.three_phase:
            self._phases = (
                (float(self.pct_start * n) - 1, low, peak, top, bottom),
                (float(2 * self.pct_start * n) - 2, peak, low, bottom, top),
                (n - 1, low, self._min, top, top),
            )
        else:
            self._phases = (
                (float(self.pct_start * n) - 1, low, peak, top, bottom),
                (n - 1, peak, self._min, bottom, top),
            )
        start = 0.0
        for end, *_ in self._phases:
            if end == start:  # torch divides by zero there
                raise ValueError(
                    f"total_steps ({n}) is too small for pct_start {self.pct_start:g}: "
                    "each phase needs at least one update")
            start = end

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            cos_out = math.cos(math.pi * pct) + 1
            return end + (start - end) / 2.0 * cos_out
        return (end - start) * pct + start

    def _phase(self, t):
        if t > self.total_steps:  # torch raises; keep the end of the last phase
            return self._phases[-1], 1.0
        step_num = t
        start_step = 0.0
        for i, phase in enumerate(self._phases):
            end_step = phase[0]
            if step_num <= end_step or i == len(self._phases) - 1:
                return phase, (step_num - start_step) / (end_step - start_step)
            start_step = end_step
        raise AssertionError("unreachable")

    def _first(self):
        return self._next(0, self.base_lr)

    def _next(self, t, lr):
        (_, lo, hi, _, _), pct = self._phase(t)
        return self._anneal(lo, hi, pct)

    def momentum(self, t):
        if not self.cycle_momentum:
            return None
        (_, _, _, m0, m1), pct = self._phase(t)
        values = {"max": self.max_momentum, "base": self.base_momentum}
        return self._anneal(values[m0], values[m1], pct)


class PlateauSchedule(Schedule):
    name = "plateau"
    title = "reduce on plateau"
    torch_name = "ReduceLROnPlateau"
    rule_text = ("watch the full-data loss after every update; when it has not improved "
                 "(by threshold, rel or abs) for more than patience updates, multiply the "
                 "rate by factor (not below min_lr), then wait cooldown updates")
    allows_warmup = False
    follows_loss = True
    params = (
        HyperParameter("mode", "choice", "min", "min: the loss should fall; max: rise",
                       choices=("min", "max")),
        HyperParameter("factor", "float", 0.1, "factor applied at each reduction", low=0.0,
                       high=1.0, high_open=True),
        _count("patience", 10, "updates without improvement tolerated", low=0),
        HyperParameter("threshold", "float", 1e-4, "smallest change that counts", low=0.0),
        HyperParameter("threshold_mode", "choice", "rel", "rel: relative change; abs: absolute",
                       choices=("rel", "abs")),
        _count("cooldown", 0, "updates to wait after a reduction", low=0),
        HyperParameter("min_lr", "float", 0.0, "smallest rate", low=0.0),
        HyperParameter("eps", "float", 1e-8, "smaller reductions are skipped", low=0.0),
    )

    def _restart(self):
        self._t = 0
        self._lr = self.base_lr
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _step(self, current: float) -> None:
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old = self._lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self._lr = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def rate(self, t, loss):
        if t == self._t:
            return self._lr
        if t != self._t + 1:  # a fresh scheduler made mid-run (an edited run): start here
            self._restart()
            self._t = t
            return self._lr
        self._t = t
        self._step(float(loss) if np.ndim(loss) == 0 else float(np.reshape(loss, -1)[0]))
        return self._lr

    def lr(self, t):
        if t != self._t:
            raise ValueError("reduce on plateau knows its rate only at the current update "
                             f"({self._t}), not at {t}: it follows the loss")
        return self._lr


# =========================================================================== warm-up
class Warmup(Schedule, register=False):
    """torch's ``SequentialLR([LinearLR(start_factor, total_iters=n), main], milestones=[n])``:
    a linear warm-up from ``start_factor * lr`` over ``n`` updates, then ``main`` from its
    own start (``main.lr(t - n)``)."""

    params = ()

    def __init__(self, main: Schedule, warmup: int, start_factor: float = 1.0 / 3):
        if not main.allows_warmup:
            raise ValueError(f"schedule {main.name!r} cannot follow a warm-up "
                             "(it sets the rate itself)")
        self.main = main
        self.warmup = check_whole("warmup", warmup, 1, integral_floats=True, maximum=MAX_COUNT)
        self.ramp = LinearSchedule(main.base_lr, start_factor=start_factor, total_iters=self.warmup)
        self.name, self.title, self.torch_name = main.name, main.title, main.torch_name
        self.params = main.params
        self.rule_text = f"linear warm-up over {self.warmup} updates, then: {main.rule_text}"
        self.base_lr = main.base_lr
        self._restart()

    def settings(self):
        return self.main.settings()

    def __getattr__(self, key):  # the main schedule's parameters (t_max, gamma, ...)
        if key == "main":
            raise AttributeError(key)
        return getattr(self.main, key)

    def _first(self):
        self.main._restart()
        return self.ramp._first()

    def _next(self, t, lr):
        n = self.warmup
        if t < n:
            return self.ramp._next(t, lr)
        if t == n:  # SequentialLR: main.step(0), the closed form at its epoch 0
            self.main._restart()
            self.main._lr = self.main._closed0()
            return self.main._lr
        return self.main.lr(t - n)

    def __repr__(self):
        return f"Warmup({self.main!r}, warmup={self.warmup})"


# =========================================================================== factory
def make_schedule(name: str, base_lr: float, warmup: int = 0, **kwargs: Any) -> Schedule:
    """Build a schedule by registry name; ``warmup > 0`` puts a linear warm-up first.

    Raises
    ------
    ValueError
        For an unknown name, an unknown keyword or an invalid value.
    """
    try:
        cls = SCHEDULES[name]
    except KeyError:
        raise ValueError(
            f"unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}"
        ) from None
    allowed = [p.name for p in cls.params]
    for key in kwargs:
        if key not in allowed:
            raise ValueError(
                f"schedule {name!r} takes no {key!r}"
                + (f"; it takes: {', '.join(allowed)}" if allowed else "")
            )
    schedule = cls(base_lr, **kwargs)
    warmup = check_whole("warmup", warmup, 0, integral_floats=True, maximum=MAX_COUNT)
    return Warmup(schedule, warmup) if warmup else schedule
