"""Optimizers with torch.optim's update rules, hyperparameter names and defaults.

Every optimizer is a small class: validated hyperparameters, an explicit state
dataclass and one update rule.  The rule is written once, with plain arithmetic
and the two helpers ``sqrt`` and ``maximum`` taken from an ``ops`` namespace, so the
same code runs on numpy arrays of shape ``(k, d)`` (many runs at once) and on Python
floats, one coordinate at a time (the engine's fast path for a single 2-D run).

Conventions follow ``torch.optim`` (the single-tensor, ``foreach=False`` code):

* ``maximize`` negates the gradient before anything else;
* ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2), except in AdamW,
  which multiplies the parameters by ``1 - lr * weight_decay`` (decoupled);
* SGD's momentum buffer starts as a copy of the first gradient (not ``(1 - dampening)
  * g``, as some texts write);
* arithmetic is ordered as torch's kernels order it (``lerp``, ``addcmul``, ``addcdiv``),
  so trajectories agree with torch to the last bits, not merely to a tolerance;
* RMSprop and Adagrad add ``eps`` *outside* the square root (Keras puts it inside for
  RMSprop); Adam divides by ``sqrt(v_hat) + eps``, bias corrections applied as torch does.

Usage
-----
>>> opt = make_optimizer("adam", lr=0.01)
>>> state = opt.init_state(p)            # p: float64 array (k, d)
>>> p = opt.step(p, g, state, lr=0.01)   # advances state in place
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from gd_explorer.core.optim.hyper import (
    HyperParameter,
    check_flag,
    check_lr,
    check_non_negative,
    check_real,
)

ARRAY_OPS = SimpleNamespace(sqrt=np.sqrt, maximum=np.maximum)
SCALAR_OPS = SimpleNamespace(sqrt=math.sqrt, maximum=max)


# --------------------------------------------------------------------------- base
@dataclass
class OptimizerState:
    """State shared by all optimizers: the number of updates taken so far (torch's ``step``)."""

    step: int = 0

    def buffers(self) -> dict[str, np.ndarray]:
        """The state's arrays by name (torch's state keys), for display and export."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "step"}

    def copy(self):
        """A deep copy (arrays copied), safe to hand to another thread."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        return type(self)(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in kw.items()})


class Optimizer:
    """Base class.  Subclasses set ``name``, ``State``, ``params`` and implement ``rule``."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    State: ClassVar[type] = OptimizerState
    params: ClassVar[tuple[HyperParameter, ...]] = ()
    #: names of the state buffers, in the order ``rule`` receives them
    buffer_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, lr: float = 1e-3, maximize: bool = False, **kwargs: Any):
        self.lr = check_lr(lr)
        self.maximize = check_flag("maximize", maximize)
        known = {p.name for p in self.params}
        unknown = set(kwargs) - known
        if unknown:
            raise ValueError(
                f"{self.name} has no hyperparameter {sorted(unknown)[0]!r}; "
                f"it takes: lr, {', '.join(p.name for p in self.params)}, maximize"
            )
        values = {p.name: kwargs.get(p.name, p.default) for p in self.params}
        self.hyper = SimpleNamespace(**self.validate(values))

    # -- to be provided by subclasses
    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def rule(self, p, g, bufs: list, t: int, lr: float, ops):
        """One update of parameters ``p`` with gradient ``g``; mutates ``bufs``; returns new p."""
        raise NotImplementedError

    # -- shared machinery
    def _l2_direction(self, p, g):
        """torch's first lines of every rule: negate for ascent, add the L2 term."""
        if self.maximize:
            g = -g
        wd = self.hyper.weight_decay
        return g + wd * p if wd != 0 else g

    def hyperparameters(self) -> dict[str, Any]:
        """All hyperparameters by torch name, including ``lr`` and ``maximize``."""
        return {"lr": self.lr, **vars(self.hyper), "maximize": self.maximize}

    def init_state(self, p: np.ndarray) -> OptimizerState:
        """Fresh state for parameters ``p`` of shape ``(k, d)``."""
        p = np.asarray(p, dtype=np.float64)
        return self.State(step=0, **{n: self._initial_buffer(n, p) for n in self.buffer_names})

    def _initial_buffer(self, name: str, p: np.ndarray) -> np.ndarray:
        return np.zeros_like(p)

    def step(self, p: np.ndarray, g: np.ndarray, state: OptimizerState, lr: float | None = None):
        """Apply one update to ``p`` (shape ``(k, d)``) and return the new parameters.

        ``lr`` is the rate for this update (a schedule's value); defaults to ``self.lr``.
        """
        state.step += 1
        bufs = [getattr(state, n) for n in self.buffer_names]
        new_p = self.rule(p, g, bufs, state.step, self.lr if lr is None else lr, ARRAY_OPS)
        for n, b in zip(self.buffer_names, bufs):
            setattr(state, n, b)
        return new_p

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


def _lerp(a, b, w):
    # torch's lerp kernel, so that moment averages round exactly as torch's do
    if w < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1 - w)


def _pair(name: str, value: Any) -> tuple[float, float]:
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair of numbers, got {value!r}") from None
    return _unit(f"{name}[0]", a), _unit(f"{name}[1]", b)


def _unit(name: str, value: Any) -> float:
    v = check_real(name, value)
    if not 0 <= v < 1:
        raise ValueError(f"{name} must be in [0, 1), got {v:g}")
    return v


# --------------------------------------------------------------------------- SGD
@dataclass
class SGDState(OptimizerState):
    """``momentum_buffer``: torch's buffer, initialised to the first gradient."""

    momentum_buffer: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    With :math:`g_t = \nabla f(p_{t-1})` (negated if maximize) and
    :math:`g_t \leftarrow g_t + \lambda p_{t-1}` for weight decay :math:`\lambda`:

    .. math::
        b_1 = g_1, \quad b_t = \mu b_{t-1} + (1 - \tau) g_t \\
        \text{step} = g_t + \mu b_t \text{ (nesterov) else } b_t \quad(\mu>0),
        \qquad p_t = p_{t-1} - \gamma\,\text{step}

    where :math:`\mu` is ``momentum`` and :math:`\tau` ``dampening``. With
    ``momentum = 0`` this is plain gradient descent, :math:`p_t = p_{t-1} - \gamma g_t`.
    torch starts the buffer at :math:`g_1` (not :math:`(1-\tau) g_1`).
    """

    name = "sgd"
    title = "SGD (momentum, Nesterov)"
    State = SGDState
    buffer_names = ("momentum_buffer",)
    params = (
        HyperParameter("momentum", "float", 0.0, "momentum factor mu in [0, 1)"),
        HyperParameter("dampening", "float", 0.0, "dampening tau for momentum, in [0, 1]"),
        HyperParameter("nesterov", "bool", False, "use Nesterov momentum (needs momentum > 0)"),
        HyperParameter("weight_decay", "float", 0.0, "L2 penalty added to the gradient"),
    )

    def validate(self, v):
        mom = check_non_negative("momentum", v["momentum"])
        damp = check_real("dampening", v["dampening"])
        if not 0 <= damp <= 1:
            raise ValueError(f"dampening must be in [0, 1], got {damp:g}")
        nest = check_flag("nesterov", v["nesterov"])
        if nest and (mom <= 0 or damp != 0):
            raise ValueError("nesterov momentum requires a momentum > 0 and zero dampening")
        return dict(
            momentum=mom, dampening=damp, nesterov=nest,
            weight_decay=check_non_negative("weight_decay", v["weight_decay"]),
        )

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        g = self._l2_direction(p, g)
        if h.momentum != 0:
            if t == 1:
                buf = g
            else:
                buf = h.momentum * bufs[0] + (1 - h.dampening) * g
            bufs[0] = buf
            g = g + h.momentum * buf if h.nesterov else buf
        return p - lr * g


# --------------------------------------------------------------------------- Adagrad
@dataclass
class AdagradState(OptimizerState):
    """``sum``: running sum of squared gradients, started at ``initial_accumulator_value``."""

    sum: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


class Adagrad(Optimizer):
    r"""Adagrad.

    .. math::
        \tilde\gamma = \gamma / (1 + (t-1)\,\eta), \quad
        s_t = s_{t-1} + g_t^2, \quad
        p_t = p_{t-1} - \tilde\gamma\, g_t / (\sqrt{s_t} + \epsilon)

    with :math:`\eta` = ``lr_decay`` and :math:`s_0` = ``initial_accumulator_value``;
    ``eps`` is added outside the square root, as in torch.
    """

    name = "adagrad"
    title = "Adagrad"
    State = AdagradState
    buffer_names = ("sum",)
    params = (
        HyperParameter("lr_decay", "float", 0.0, "learning-rate decay eta: lr / (1 + (t-1) eta)"),
        HyperParameter("weight_decay", "float", 0.0, "L2 penalty added to the gradient"),
        HyperParameter("initial_accumulator_value", "float", 0.0, "starting value of the sum"),
        HyperParameter("eps", "float", 1e-10, "added to the denominator for stability"),
    )

    def validate(self, v):
        return dict(
            lr_decay=check_non_negative("lr_decay", v["lr_decay"]),
            weight_decay=check_non_negative("weight_decay", v["weight_decay"]),
            initial_accumulator_value=check_non_negative(
                "initial_accumulator_value", v["initial_accumulator_value"]
            ),
            eps=check_non_negative("eps", v["eps"]),
        )

    def _initial_buffer(self, name, p):
        return np.full_like(p, self.hyper.initial_accumulator_value)

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        g = self._l2_direction(p, g)
        clr = lr / (1 + (t - 1) * h.lr_decay)
        s = bufs[0] + g * g
        bufs[0] = s
        return p + (-clr * g) / (ops.sqrt(s) + h.eps)


# --------------------------------------------------------------------------- RMSprop
@dataclass
class RMSpropState(OptimizerState):
    """``square_avg`` (v), ``grad_avg`` (centered only) and ``momentum_buffer``, all from 0."""

    square_avg: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    grad_avg: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    momentum_buffer: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


class RMSprop(Optimizer):
    r"""RMSprop.

    .. math::
        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2, \quad
        \tilde v_t = v_t - \bar g_t^2 \text{ with } \bar g_t = \alpha \bar g_{t-1}
        + (1-\alpha) g_t \text{ if centered, else } v_t \\
        b_t = \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon), \quad p_t = p_{t-1} - \gamma b_t
        \quad (\mu > 0), \qquad\text{else } p_t = p_{t-1} - \gamma g_t / (\sqrt{\tilde v_t}
        + \epsilon)

    ``eps`` outside the square root (torch); Keras and TF put it inside. Buffers start at 0.
    """

    name = "rmsprop"
    title = "RMSprop"
    State = RMSpropState
    buffer_names = ("square_avg", "grad_avg", "momentum_buffer")
    params = (
        HyperParameter("alpha", "float", 0.99, "smoothing constant of the squared-gradient average"),
        HyperParameter("eps", "float", 1e-8, "added to the denominator for stability"),
        HyperParameter("weight_decay", "float", 0.0, "L2 penalty added to the gradient"),
        HyperParameter("momentum", "float", 0.0, "momentum factor mu"),
        HyperParameter("centered", "bool", False, "normalise by the variance estimate"),
    )

    def validate(self, v):
        alpha = check_real("alpha", v["alpha"])
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha:g}")
        return dict(
            alpha=alpha,
            eps=check_non_negative("eps", v["eps"]),
            weight_decay=check_non_negative("weight_decay", v["weight_decay"]),
            momentum=check_non_negative("momentum", v["momentum"]),
            centered=check_flag("centered", v["centered"]),
        )

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        g = self._l2_direction(p, g)
        sq = bufs[0] * h.alpha + (1 - h.alpha) * g * g
        bufs[0] = sq
        if h.centered:
            ga = _lerp(bufs[1], g, 1 - h.alpha)
            bufs[1] = ga
            avg = ops.sqrt(sq - ga * ga) + h.eps
        else:
            avg = ops.sqrt(sq) + h.eps
        if h.momentum > 0:
            buf = h.momentum * bufs[2] + g / avg
            bufs[2] = buf
            return p - lr * buf
        return p + (-lr * g) / avg


# --------------------------------------------------------------------------- Adam / AdamW
@dataclass
class AdamState(OptimizerState):
    """``exp_avg`` (m), ``exp_avg_sq`` (v) and ``max_exp_avg_sq`` (amsgrad), all from 0."""

    exp_avg: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    exp_avg_sq: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    max_exp_avg_sq: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


class Adam(Optimizer):
    r"""Adam (and AMSGrad).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        \hat v_t = \max(\hat v_{t-1}, v_t) \text{ (amsgrad) else } v_t \\
        p_t = p_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
              \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    This is torch's arrangement: ``eps`` is added after the bias correction of v
    (the Adam paper adds it to :math:`\sqrt{\hat v_t}` of the corrected moment, which is
    the same; some libraries add it before the correction, which is not).
    ``weight_decay`` is an L2 term added to the gradient (see AdamW for the decoupled form).
    """

    name = "adam"
    title = "Adam"
    State = AdamState
    buffer_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled = False
    params = (
        HyperParameter("betas", "pair", (0.9, 0.999), "decay rates (beta1, beta2) of the moments"),
        HyperParameter("eps", "float", 1e-8, "added to the denominator for stability"),
        HyperParameter("weight_decay", "float", 0.0, "L2 penalty added to the gradient"),
        HyperParameter("amsgrad", "bool", False, "use the running maximum of v (AMSGrad)"),
    )

    def validate(self, v):
        return dict(
            betas=_pair("betas", v["betas"]),
            eps=check_non_negative("eps", v["eps"]),
            weight_decay=check_non_negative("weight_decay", v["weight_decay"]),
            amsgrad=check_flag("amsgrad", v["amsgrad"]),
        )

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        b1, b2 = h.betas
        if self.maximize:
            g = -g
        if h.weight_decay != 0:
            if self.decoupled:
                p = p * (1 - lr * h.weight_decay)
            else:
                g = g + h.weight_decay * p
        m = _lerp(bufs[0], g, 1 - b1)
        v = bufs[1] * b2 + (1 - b2) * g * g
        bufs[0] = m
        bufs[1] = v
        if h.amsgrad:
            v = ops.maximum(bufs[2], v)
            bufs[2] = v
        step_size = lr / (1 - b1**t)
        bc2_sqrt = math.sqrt(1 - b2**t)
        return p + (-step_size * m) / (ops.sqrt(v) / bc2_sqrt + h.eps)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay.

    Before the Adam update, :math:`p \leftarrow p\,(1 - \gamma\lambda)`; the gradient is not
    changed.  Default ``weight_decay`` is 0.01, as in torch.
    """

    name = "adamw"
    title = "AdamW"
    decoupled = True
    params = (
        Adam.params[0],
        Adam.params[1],
        HyperParameter("weight_decay", "float", 1e-2, "decoupled weight decay lambda"),
        Adam.params[3],
    )


# --------------------------------------------------------------------------- registry
OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adam, AdamW)}


def make_optimizer(name: str, **kwargs: Any) -> Optimizer:
    """Build an optimizer by registry name with torch keyword arguments.

    Raises
    ------
    ValueError
        For an unknown name or an invalid hyperparameter, with a readable message.
    """
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}"
        ) from None
    return cls(**kwargs)
