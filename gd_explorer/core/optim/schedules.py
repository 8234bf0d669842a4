"""Learning-rate schedules with torch.optim.lr_scheduler's semantics.

``schedule.lr(t)`` is the rate used for update number ``t`` (``t = 0`` is the first
update), i.e. torch's ``optimizer.param_groups[0]["lr"]`` after ``t`` calls of
``scheduler.step()``, one per optimizer step.

=============  ====================================================================
constant       :math:`\\gamma_t = \\gamma_0`
step           :math:`\\gamma_t = \\gamma_0 \\cdot g^{\\lfloor t / s \\rfloor}` (StepLR)
exponential    :math:`\\gamma_t = \\gamma_0 \\cdot g^t` (ExponentialLR)
cosine         :math:`\\gamma_t = \\eta_{min} + (\\gamma_0 - \\eta_{min})(1 + \\cos(\\pi t/T))/2`
               (CosineAnnealingLR; periodic beyond ``t_max``, as torch's is)
=============  ====================================================================

torch computes StepLR, ExponentialLR and CosineAnnealingLR recursively (multiplying the
previous rate); the closed forms here agree with it to rounding (checked against golden
values generated with torch).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from gd_explorer.core.optim.hyper import check_lr, check_positive, check_real, check_whole


class Schedule:
    """Base: a constant rate."""

    name: ClassVar[str] = "constant"
    title: ClassVar[str] = "constant"
    params: ClassVar[tuple[tuple[str, Any, str], ...]] = ()

    def __init__(self, base_lr: float):
        self.base_lr = check_lr(base_lr)

    def lr(self, t: int) -> float:
        """The learning rate for update number ``t`` (0-based)."""
        return self.base_lr

    def settings(self) -> dict[str, Any]:
        """The schedule's own parameters (without base_lr), by name."""
        return {name: getattr(self, name) for name, _, _ in self.params}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}(base_lr={self.base_lr!r}{', ' if args else ''}{args})"


class ConstantSchedule(Schedule):
    pass


class StepSchedule(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` updates (torch's StepLR)."""

    name = "step"
    title = "step decay"
    params = (
        ("step_size", 100, "updates between two decays"),
        ("gamma", 0.1, "factor applied at each decay"),
    )

    def __init__(self, base_lr: float, step_size: int = 100, gamma: float = 0.1):
        super().__init__(base_lr)
        self.step_size = check_whole("step_size", step_size, 1, integral_floats=True)
        self.gamma = check_positive("gamma", gamma)

    def lr(self, t: int) -> float:
        return self.base_lr * self.gamma ** (t // self.step_size)


class ExponentialSchedule(Schedule):
    """Multiply the rate by ``gamma`` after every update (torch's ExponentialLR)."""

    name = "exponential"
    title = "exponential decay"
    params = (("gamma", 0.99, "factor applied after every update"),)

    def __init__(self, base_lr: float, gamma: float = 0.99):
        super().__init__(base_lr)
        self.gamma = check_positive("gamma", gamma)

    def lr(self, t: int) -> float:
        return self.base_lr * self.gamma**t


class CosineSchedule(Schedule):
    """Cosine annealing from the base rate to ``eta_min`` over ``t_max`` updates."""

    name = "cosine"
    title = "cosine annealing"
    params = (
        ("t_max", 1000, "updates in half a cosine period"),
        ("eta_min", 0.0, "smallest rate"),
    )

    def __init__(self, base_lr: float, t_max: int = 1000, eta_min: float = 0.0):
        super().__init__(base_lr)
        self.t_max = check_whole("t_max", t_max, 1, integral_floats=True)
        self.eta_min = check_real("eta_min", eta_min)
        if self.eta_min < 0:
            raise ValueError(f"eta_min must be zero or positive, got {self.eta_min:g}")

    def lr(self, t: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (
            1 + math.cos(math.pi * t / self.t_max)
        ) / 2


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (ConstantSchedule, StepSchedule, ExponentialSchedule, CosineSchedule)
}


def make_schedule(name: str, base_lr: float, **kwargs: Any) -> Schedule:
    """Build a schedule by registry name.

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
    allowed = {p[0] for p in cls.params}
    for key in kwargs:
        if key not in allowed:
            raise ValueError(
                f"schedule {name!r} takes no {key!r}"
                + (f"; it takes: {', '.join(sorted(allowed))}" if allowed else "")
            )
    return cls(base_lr, **kwargs)
