"""Optimizers with torch.optim's update rules, hyperparameter names and defaults.

Every optimizer is one class here (see :mod:`gd_explorer.core.optim.base` for what an
entry declares): validated hyperparameters, an explicit state dataclass, the rule's text
and one update rule.  The rule is written once, with plain arithmetic and a few helpers
(``sqrt``, ``maximum``, ``sign``, ...) taken from an ``ops`` namespace, so the same code
runs on numpy arrays of shape ``(k, d)`` (many runs at once) and on Python floats, one
coordinate at a time (the engine's fast path for a single 2-D run).

Conventions follow ``torch.optim`` (the single-tensor, ``foreach=False`` code):

* ``maximize`` negates the gradient before anything else;
* ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2), except where it is
  decoupled (AdamW, NAdam/RAdam with ``decoupled_weight_decay``, Adafactor, Lion), which
  multiplies the parameters by ``1 - lr * weight_decay`` (Lion: adds ``lr * wd * p`` to
  the step, as optax does);
* SGD's momentum buffer starts as a copy of the first gradient (not ``(1 - dampening)
  * g``, as some texts write);
* arithmetic is ordered as torch's kernels order it (``lerp``, ``addcmul``, ``addcdiv``),
  so trajectories agree with torch to the last bits, not merely to a tolerance;
* RMSprop and Adagrad add ``eps`` *outside* the square root (Keras puts it inside for
  RMSprop); Adam divides by ``sqrt(v_hat) + eps``, bias corrections applied as torch does.

Adding an optimizer: one class below (``name``, ``title``, ``order``, ``params``,
``rule_text``, ``State``, ``rule``), one golden case in ``tests/core/golden``.

Usage
-----
>>> opt = make_optimizer("adam", lr=0.01)
>>> state = opt.init_state(p)            # p: float64 array (k, d)
>>> p = opt.step(p, g, state, lr=0.01)   # advances state in place
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gd_explorer.core.optim.base import (
    ARRAY_OPS,
    OPTIMIZERS,
    SCALAR_OPS,
    FusedRule,
    Optimizer,
    OptimizerState,
    lerp,
    literal,
    make_optimizer,
    preconditioned_lmax,
)
from gd_explorer.core.optim.hyper import HyperParameter

__all__ = ["ARRAY_OPS", "OPTIMIZERS", "SCALAR_OPS", "Optimizer", "OptimizerState",
           "make_optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam",
           "Adamax", "Adadelta", "Lion", "Rprop", "ASGD", "Adafactor", "LBFGS", "LBFGSState",
           "Newton", "GaussNewton", "LevenbergMarquardt", "ArmijoGD", "WolfeGD",
           "ConjugateGradient"]

_lerp = lerp


def _lerp_line(out: str, a: str, b: str, w: float) -> str:
    """:func:`lerp` of the names ``a`` and ``b`` as a fused-loop line, its branch chosen here."""
    if w < 0.5:
        return f"{out} = {a} + {literal(w)} * ({b} - {a})"
    return f"{out} = {b} - ({b} - {a}) * {literal(1 - w)}"


def _buffer():
    return field(default_factory=lambda: np.zeros((0, 0)))


def _wd(help_text: str = "L2 penalty added to the gradient", default: float = 0.0):
    return HyperParameter("weight_decay", "float", default, help_text, low=0.0)


def _eps(default: float = 1e-8):
    return HyperParameter("eps", "float", default, "added to the denominator for stability",
                          low=0.0)


_BETAS = HyperParameter("betas", "pair", (0.9, 0.999), "decay rates (beta1, beta2) of the moments",
                        low=0.0, high=1.0, high_open=True)
_DECOUPLED = HyperParameter("decoupled_weight_decay", "bool", False,
                            "multiply p by (1 − lr·weight_decay) instead of adding the L2 term "
                            "to the gradient (the AdamW form)")


def _weight_decay(opt, p, g, lr, decoupled: bool):
    """Negate for ascent, then the L2 term, or the decoupled decay of ``p`` (torch's order)."""
    if opt.maximize:
        g = -g
    wd = opt.hyper.weight_decay
    if wd != 0:
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
    return p, g


def _state_ready(state) -> bool:
    """A state to freeze a preconditioner from: buffers given and at least one update."""
    return bool(state) and int(state.get("step", 0)) > 0


# --------------------------------------------------------------------------- SGD
@dataclass
class SGDState(OptimizerState):
    """``momentum_buffer``: torch's buffer, initialised to the first gradient."""

    momentum_buffer: np.ndarray = _buffer()


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With ``momentum = 0`` this is plain gradient descent.  torch starts the buffer at the
    first gradient (not at ``(1 − τ)·g``, as some texts write).
    """

    name = "sgd"
    title = "SGD (momentum, Nesterov)"
    order = 10
    State = SGDState
    buffer_names = ("momentum_buffer",)
    momentum_buffer = "momentum_buffer"
    adaptive = False
    lr_default = "sgd"
    params = (
        HyperParameter("momentum", "float", 0.0, "momentum factor mu", low=0.0),
        HyperParameter("dampening", "float", 0.0, "dampening tau for momentum",
                       low=0.0, high=1.0),
        HyperParameter("nesterov", "bool", False, "use Nesterov momentum (needs momentum > 0 "
                       "and dampening 0)"),
        _wd(),
    )
    rule_text = (
        "g ← ∇f(p) + weight_decay·p\n"
        "b ← μ·b + (1 − τ)·g      (b starts as the first g; μ = momentum, τ = dampening)\n"
        "p ← p − lr·b             (Nesterov: p − lr·(g + μ·b); μ = 0: p − lr·g)"
    )

    @classmethod
    def plain(cls, hyper):
        return not hyper.get("momentum") and not hyper.get("weight_decay")

    @classmethod
    def stability_edge(cls, hyper, hessian, state=None):
        """Heavy ball on a quadratic: stable while lr·(1 − τ)·(λmax + wd) < 2 + 2μ; with
        Nesterov (τ = 0) while lr·(1 + 2μ)·(λmax + wd) < 2 + 2μ.  μ = 0: plain GD, 2/λmax."""
        lam = float(np.max(np.linalg.eigvalsh(np.asarray(hessian, dtype=np.float64))))
        lam += float(hyper.get("weight_decay", 0.0))
        mu, tau = float(hyper.get("momentum", 0.0)), float(hyper.get("dampening", 0.0))
        scale = (1 + 2 * mu) if hyper.get("nesterov") else (1 - tau)
        if lam <= 0 or scale <= 0:
            return math.inf
        return (2 + 2 * mu) / (scale * lam)

    def validate(self, v):
        if v["nesterov"] and (v["momentum"] <= 0 or v["dampening"] != 0):
            raise ValueError("nesterov momentum requires a momentum > 0 and zero dampening")
        return v

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

    def fused_rule(self):
        h = self.hyper
        lines = ["_g = -g" if self.maximize else "_g = g"]
        if h.weight_decay != 0:
            lines.append(f"_g = _g + {literal(h.weight_decay)} * p")
        writes = ()
        if h.momentum != 0:
            mu = literal(h.momentum)
            lines.append(f"n0 = _g if t == 1 else {mu} * s0 + {literal(1 - h.dampening)} * _g")
            lines.append(f"_g = _g + {mu} * n0" if h.nesterov else "_g = n0")
            writes = (0,)
        lines.append("q = p - lr * _g")
        return FusedRule((), tuple(lines), writes)


# --------------------------------------------------------------------------- Adagrad
@dataclass
class AdagradState(OptimizerState):
    """``sum``: running sum of squared gradients, started at ``initial_accumulator_value``."""

    sum: np.ndarray = _buffer()


class Adagrad(Optimizer):
    """Adagrad.  ``eps`` is added outside the square root, as in torch."""

    name = "adagrad"
    title = "Adagrad"
    order = 40
    State = AdagradState
    buffer_names = ("sum",)
    torch_lr = 1e-2
    params = (
        HyperParameter("lr_decay", "float", 0.0, "learning-rate decay eta: lr / (1 + (t-1) eta)",
                       low=0.0),
        _wd(),
        HyperParameter("initial_accumulator_value", "float", 0.0, "starting value of the sum",
                       low=0.0),
        _eps(1e-10),
    )
    rule_text = (
        "s ← s + g²               (s starts at initial_accumulator_value)\n"
        "p ← p − lr/(1 + (t−1)·lr_decay) · g/(√s + eps)"
    )

    def _initial_buffer(self, name, p):
        return np.full_like(p, self.hyper.initial_accumulator_value)

    @classmethod
    def stability_edge(cls, hyper, hessian, state=None):
        """With the sum s frozen (P = √s + eps) the next update is GD preconditioned by P
        at the rate lr/(1 + t·lr_decay): stable while that rate·λmax(P⁻¹(H + wd)) < 2."""
        hyper = cls.settings(hyper)
        if not _state_ready(state):
            return None
        t = int(state["step"])
        lam = preconditioned_lmax(hessian, np.sqrt(state["sum"]) + hyper.get("eps", 1e-10),
                                  float(hyper.get("weight_decay", 0.0)))
        if lam <= 0:
            return math.inf
        return 2.0 * (1 + t * float(hyper.get("lr_decay", 0.0))) / lam

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

    square_avg: np.ndarray = _buffer()
    grad_avg: np.ndarray = _buffer()
    momentum_buffer: np.ndarray = _buffer()


class RMSprop(Optimizer):
    """RMSprop.  ``eps`` outside the square root (torch); Keras and TF put it inside.
    Buffers start at 0."""

    name = "rmsprop"
    title = "RMSprop"
    order = 30
    State = RMSpropState
    buffer_names = ("square_avg", "grad_avg", "momentum_buffer")
    momentum_buffer = "momentum_buffer"
    torch_lr = 1e-2
    params = (
        HyperParameter("alpha", "float", 0.99, "smoothing constant of the squared-gradient "
                       "average", low=0.0, high=1.0),
        _eps(),
        _wd(),
        HyperParameter("momentum", "float", 0.0, "momentum factor mu", low=0.0),
        HyperParameter("centered", "bool", False, "normalise by the variance estimate"),
    )
    rule_text = (
        "v ← α·v + (1 − α)·g²      (centered: v − ḡ², ḡ ← α·ḡ + (1 − α)·g)\n"
        "p ← p − lr·g/(√v + eps)\n"
        "momentum μ > 0: b ← μ·b + g/(√v + eps), p ← p − lr·b"
    )

    @classmethod
    def stability_edge(cls, hyper, hessian, state=None):
        """With v (and ḡ) frozen, P = √v + eps (centered: √(v − ḡ²) + eps): GD, or heavy
        ball with momentum μ, on P⁻¹(H + wd): stable while lr·λmax < 2 + 2μ."""
        hyper = cls.settings(hyper)
        if not _state_ready(state):
            return None
        v = np.asarray(state["square_avg"], dtype=np.float64)
        if hyper.get("centered"):
            v = v - np.asarray(state["grad_avg"], dtype=np.float64) ** 2
        lam = preconditioned_lmax(hessian, np.sqrt(np.maximum(v, 0.0)) + hyper.get("eps", 1e-8),
                                  float(hyper.get("weight_decay", 0.0)))
        if lam <= 0:
            return math.inf
        return (2.0 + 2.0 * float(hyper.get("momentum", 0.0))) / lam

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

    def fused_rule(self):
        h = self.hyper
        lines = ["_g = -g" if self.maximize else "_g = g"]
        if h.weight_decay != 0:
            lines.append(f"_g = _g + {literal(h.weight_decay)} * p")
        lines.append(f"n0 = s0 * {literal(h.alpha)} + {literal(1 - h.alpha)} * _g * _g")
        writes = [0]
        if h.centered:
            lines.append(_lerp_line("n1", "s1", "_g", 1 - h.alpha))
            lines.append("_x = n0 - n1 * n1")
            writes.append(1)
        else:
            lines.append("_x = n0")
        # ops.sqrt: NaN for a negative or NaN argument, where math's raises
        lines.append(f"_a = (sqrt(_x) if _x >= 0 else nan) + {literal(h.eps)}")
        if h.momentum > 0:
            lines.append(f"n2 = {literal(h.momentum)} * s2 + _g / _a")
            lines.append("q = p - lr * n2")
            writes.append(2)
        else:
            lines.append("q = p + (-lr * _g) / _a")
        return FusedRule((), tuple(lines), tuple(writes))


# --------------------------------------------------------------------------- Adam / AdamW
@dataclass
class AdamState(OptimizerState):
    """``exp_avg`` (m), ``exp_avg_sq`` (v) and ``max_exp_avg_sq`` (amsgrad), all from 0."""

    exp_avg: np.ndarray = _buffer()
    exp_avg_sq: np.ndarray = _buffer()
    max_exp_avg_sq: np.ndarray = _buffer()


class Adam(Optimizer):
    """Adam (and AMSGrad).

    torch's arrangement: ``eps`` is added after the bias correction of v (the Adam paper
    adds it to the square root of the corrected moment, which is the same; some libraries
    add it before the correction, which is not).  ``weight_decay`` is an L2 term added to
    the gradient (see AdamW for the decoupled form).
    """

    name = "adam"
    title = "Adam"
    order = 20
    State = AdamState
    buffer_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    momentum_buffer = "exp_avg"
    decoupled = False
    params = (
        _BETAS,
        _eps(),
        _wd(),
        HyperParameter("amsgrad", "bool", False, "use the running maximum of v (AMSGrad)"),
    )
    rule_text = (
        "m ← β1·m + (1 − β1)·g\n"
        "v ← β2·v + (1 − β2)·g²    (amsgrad: v̂ = max(v̂, v))\n"
        "p ← p − lr · m̂/(√v̂ + eps),  m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)"
    )

    @classmethod
    def stability_edge(cls, hyper, hessian, state=None):
        """The frozen-preconditioner edge (Cohen et al. 2022): with P = diag(√v̂ + eps)
        fixed, the update is EMA momentum on P⁻¹H, stable while
        lr·λmax(P⁻¹(H + wd)) < (2 + 2β1)/(1 − β1) (38 at β1 = 0.9); decoupled decay λ
        adds (1 + β1)·λ to the denominator: lr < 2(1 + β1)/((1 − β1)·λmax + (1 + β1)·λ).
        m's bias correction is taken as 1 (its limit)."""
        hyper = cls.settings(hyper)
        if not _state_ready(state):
            return None
        b1, b2 = hyper.get("betas", (0.9, 0.999))
        t = int(state["step"])
        v = state["max_exp_avg_sq"] if hyper.get("amsgrad") else state["exp_avg_sq"]
        p_diag = np.sqrt(np.asarray(v, dtype=np.float64) / (1 - b2**t)) + hyper.get("eps", 1e-8)
        wd = float(hyper.get("weight_decay", 0.0))
        lam = preconditioned_lmax(hessian, p_diag, 0.0 if cls.decoupled else wd)
        if lam <= 0:
            return math.inf
        return 2 * (1 + b1) / ((1 - b1) * lam + ((1 + b1) * wd if cls.decoupled else 0.0))

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        b1, b2 = h.betas
        p, g = _weight_decay(self, p, g, lr, self.decoupled)
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

    def fused_rule(self):
        h = self.hyper
        b1, b2 = h.betas
        w = 1 - b1  # _lerp(m, g, w)
        lines = ["_g = -g" if self.maximize else "_g = g", "_p = p"]
        if h.weight_decay != 0:
            wd = literal(h.weight_decay)
            lines.append(f"_p = p * (1 - lr * {wd})" if self.decoupled else f"_g = _g + {wd} * p")
        lines.append(_lerp_line("n0", "s0", "_g", w))
        lines.append(f"n1 = s1 * {literal(b2)} + {literal(1 - b2)} * _g * _g")
        lines.append("_v = n1")
        writes = (0, 1)
        if h.amsgrad:  # ops.maximum: NaN propagates
            lines.append("_v = nan if s2 != s2 or _v != _v else (s2 if s2 >= _v else _v)")
            lines.append("n2 = _v")
            writes = (0, 1, 2)
        lines.append(f"q = _p + (-_ss * n0) / ((sqrt(_v) if _v >= 0 else nan) / _bc2 + "
                     f"{literal(h.eps)})")
        per_step = (f"_ss = lr / (1 - {literal(b1)} ** t)", f"_bc2 = sqrt(1 - {literal(b2)} ** t)")
        return FusedRule(per_step, tuple(lines), writes)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (default 0.01, as in torch)."""

    name = "adamw"
    title = "AdamW"
    order = 50
    decoupled = True
    params = (
        Adam.params[0],
        Adam.params[1],
        _wd("decoupled weight decay lambda", 1e-2),
        Adam.params[3],
    )
    rule_text = (
        "p ← p·(1 − lr·λ)          (decoupled weight decay), then the Adam step:\n"
        "m ← β1·m + (1 − β1)·g\n"
        "v ← β2·v + (1 − β2)·g²    (amsgrad: v̂ = max(v̂, v))\n"
        "p ← p − lr · m̂/(√v̂ + eps),  m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)"
    )


# --------------------------------------------------------------------------- NAdam
@dataclass
class NAdamState(OptimizerState):
    """``exp_avg`` (m), ``exp_avg_sq`` (v) from 0; ``mu_product`` (∏ μ_i) from 1."""

    exp_avg: np.ndarray = _buffer()
    exp_avg_sq: np.ndarray = _buffer()
    mu_product: np.ndarray = _buffer()


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum and torch's momentum schedule (Dozat 2016).

    The momentum warms up as μ_t = β1·(1 − ½·0.96^(t·momentum_decay)).  Unlike Adam, the
    bias correction of m uses the product of the μ_t.  torch keeps ``mu_product`` as a
    scalar; here it is a buffer with one (equal) value per coordinate.
    """

    name = "nadam"
    title = "NAdam"
    order = 60
    State = NAdamState
    buffer_names = ("exp_avg", "exp_avg_sq", "mu_product")
    momentum_buffer = "exp_avg"
    torch_lr = 2e-3
    params = (
        _BETAS,
        _eps(),
        _wd(),
        HyperParameter("momentum_decay", "float", 4e-3, "psi of the momentum warm-up "
                       "μ_t = β1·(1 − ½·0.96^(t·psi))", low=0.0),
        _DECOUPLED,
    )
    rule_text = (
        "μ_t = β1·(1 − ½·0.96^(t·ψ)),  Π ← Π·μ_t   (ψ = momentum_decay)\n"
        "m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²\n"
        "p ← p − lr·(1 − μ_t)/(1 − Π)·g/d − lr·μ_(t+1)/(1 − Π·μ_(t+1))·m/d\n"
        "d = √(v/(1 − β2^t)) + eps"
    )

    def _initial_buffer(self, name, p):
        return np.ones_like(p) if name == "mu_product" else np.zeros_like(p)

    @classmethod
    def stability_edge(cls, hyper, hessian, state=None):
        """With P = diag(√v̂ + eps) frozen and the next step's μ_t, μ_(t+1) held, the
        update is Nesterov-like momentum on P⁻¹(H + wd): stable while
        lr·λmax < 2(1 + β1)/((1 + β1)(1 − μ_t) + (1 − β1)·μ_(t+1)) (the products Π → 0
        are dropped; μ = β1 gives torch Nesterov's (2 + 2β1)/((1 − β1)(1 + 2β1))).
        Unknown (None) with decoupled weight decay."""
        hyper = cls.settings(hyper)
        wd = float(hyper.get("weight_decay", 0.0))
        if not _state_ready(state) or (hyper.get("decoupled_weight_decay") and wd != 0):
            return None
        b1, b2 = hyper.get("betas", (0.9, 0.999))
        psi = float(hyper.get("momentum_decay", 4e-3))
        t = int(state["step"]) + 1
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        v = np.asarray(state["exp_avg_sq"], dtype=np.float64)
        p_diag = np.sqrt(v / (1 - b2 ** (t - 1))) + hyper.get("eps", 1e-8)
        lam = preconditioned_lmax(hessian, p_diag, wd)
        if lam <= 0:
            return math.inf
        return 2 * (1 + b1) / (lam * ((1 + b1) * (1 - mu) + (1 - b1) * mu_next))

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        b1, b2 = h.betas
        bc2 = 1 - b2**t
        p, g = _weight_decay(self, p, g, lr, h.decoupled_weight_decay)
        mu = b1 * (1.0 - 0.5 * (0.96 ** (t * h.momentum_decay)))
        mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * h.momentum_decay)))
        mp = bufs[2] * mu
        m = _lerp(bufs[0], g, 1 - b1)
        v = bufs[1] * b2 + (1 - b2) * g * g
        bufs[0], bufs[1], bufs[2] = m, v, mp
        denom = ops.sqrt(v / bc2) + h.eps
        mp_next = mp * mu_next
        p = p + (-lr * (1.0 - mu) / (1.0 - mp)) * g / denom
        return p + ((-lr * mu_next) / (1.0 - mp_next)) * m / denom


# --------------------------------------------------------------------------- RAdam
@dataclass
class RAdamState(OptimizerState):
    """``exp_avg`` (m) and ``exp_avg_sq`` (v), from 0."""

    exp_avg: np.ndarray = _buffer()
    exp_avg_sq: np.ndarray = _buffer()


class RAdam(Optimizer):
    """RAdam: Adam with the variance of the adaptive rate rectified (Liu et al. 2019).

    While the length of the approximated SMA ρ_t is at most 5 the step is un-rectified:
    plain momentum SGD on the bias-corrected m, no division by √v (torch's rule; the
    paper's threshold is 4).
    """

    name = "radam"
    title = "RAdam"
    order = 70
    State = RAdamState
    buffer_names = ("exp_avg", "exp_avg_sq")
    momentum_buffer = "exp_avg"
    params = (_BETAS, _eps(), _wd(), _DECOUPLED)
    rule_text = (
        "m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,  m̂ = m/(1 − β1^t)\n"
        "ρ∞ = 2/(1 − β2) − 1,  ρ_t = ρ∞ − 2t·β2^t/(1 − β2^t)\n"
        "ρ_t > 5: p ← p − lr·m̂·r_t·√(1 − β2^t)/(√v + eps),\n"
        "         r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))\n"
        "else:    p ← p − lr·m̂   (un-rectified: the first steps)"
    )

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        b1, b2 = h.betas
        p, g = _weight_decay(self, p, g, lr, h.decoupled_weight_decay)
        m = _lerp(bufs[0], g, 1 - b1)
        v = bufs[1] * b2 + (1 - b2) * g * g
        bufs[0], bufs[1] = m, v
        bc1 = 1 - b1**t
        bc2 = 1 - b2**t
        m_hat = m / bc1
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * (b2**t) / bc2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = (bc2**0.5) / (ops.sqrt(v) + h.eps)
            return p - m_hat * lr * adaptive * rect
        return p - m_hat * lr


# --------------------------------------------------------------------------- Adamax
@dataclass
class AdamaxState(OptimizerState):
    """``exp_avg`` (m) and ``exp_inf`` (u, the decayed maximum of |g|), from 0."""

    exp_avg: np.ndarray = _buffer()
    exp_inf: np.ndarray = _buffer()


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of v (Kingma & Ba 2015, §7).

    torch adds ``eps`` to |g| inside the maximum (the paper has no eps).
    """

    name = "adamax"
    title = "Adamax"
    order = 80
    State = AdamaxState
    buffer_names = ("exp_avg", "exp_inf")
    momentum_buffer = "exp_avg"
    torch_lr = 2e-3
    params = (_BETAS, _eps(), _wd())
    rule_text = (
        "m ← β1·m + (1 − β1)·g\n"
        "u ← max(β2·u, |g| + eps)\n"
        "p ← p − lr/(1 − β1^t) · m/u"
    )

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        b1, b2 = h.betas
        g = self._l2_direction(p, g)
        m = _lerp(bufs[0], g, 1 - b1)
        u = ops.maximum(bufs[1] * b2, ops.abs(g) + h.eps)
        bufs[0], bufs[1] = m, u
        clr = lr / (1 - b1**t)
        return p + (-clr) * m / u


# --------------------------------------------------------------------------- Adadelta
@dataclass
class AdadeltaState(OptimizerState):
    """``square_avg`` (v, of g²) and ``acc_delta`` (u, of Δ²), from 0."""

    square_avg: np.ndarray = _buffer()
    acc_delta: np.ndarray = _buffer()


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): the rate is the ratio of two running RMS values.

    torch keeps an ``lr`` that scales the step (default 1.0, the paper's rule); ``eps`` is
    inside both square roots.
    """

    name = "adadelta"
    title = "Adadelta"
    order = 90
    State = AdadeltaState
    buffer_names = ("square_avg", "acc_delta")
    lr_default = 1.0
    torch_lr = 1.0
    params = (
        HyperParameter("rho", "float", 0.9, "decay rate of the running averages",
                       low=0.0, high=1.0),
        _eps(1e-6),
        _wd(),
    )
    rule_text = (
        "v ← ρ·v + (1 − ρ)·g²\n"
        "Δ = √(u + eps)/√(v + eps) · g\n"
        "u ← ρ·u + (1 − ρ)·Δ²\n"
        "p ← p − lr·Δ"
    )

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        g = self._l2_direction(p, g)
        sq = bufs[0] * h.rho + (1 - h.rho) * g * g
        std = ops.sqrt(sq + h.eps)
        delta = ops.sqrt(bufs[1] + h.eps) / std * g
        bufs[0] = sq
        bufs[1] = bufs[1] * h.rho + (1 - h.rho) * delta * delta
        return p + (-lr) * delta


# --------------------------------------------------------------------------- Lion
@dataclass
class LionState(OptimizerState):
    """``exp_avg`` (m), from 0."""

    exp_avg: np.ndarray = _buffer()


class Lion(Optimizer):
    """Lion (Chen et al. 2023, "Symbolic discovery of optimization algorithms").

    Not in torch.optim: arithmetic and names follow optax's ``lion`` (``b1``, ``b2`` are
    ``betas`` here).  Every coordinate moves by exactly lr (plus the decay): use a rate
    several times smaller than Adam's.  optax's default weight decay is 1e-3; here it is
    0, as in the paper's pseudo-code and other optimizers' defaults.
    """

    name = "lion"
    title = "Lion (sign momentum)"
    order = 100
    State = LionState
    buffer_names = ("exp_avg",)
    momentum_buffer = "exp_avg"
    torch_lr = 1e-4
    params = (
        HyperParameter("betas", "pair", (0.9, 0.99), "interpolation β1 of the step and decay "
                       "β2 of the momentum", low=0.0, high=1.0, high_open=True),
        _wd("decoupled weight decay lambda"),
    )
    rule_text = (
        "c = β1·m + (1 − β1)·g\n"
        "p ← p − lr·(sign(c) + λ·p)   (λ = weight_decay, decoupled)\n"
        "m ← β2·m + (1 − β2)·g"
    )

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        b1, b2 = h.betas
        if self.maximize:
            g = -g
        m = bufs[0]
        u = ops.sign((1.0 - b1) * g + b1 * m)
        bufs[0] = (1.0 - b2) * g + b2 * m
        if h.weight_decay != 0:
            u = u + h.weight_decay * p
        return p + (-lr) * u


# --------------------------------------------------------------------------- Rprop
@dataclass
class RpropState(OptimizerState):
    """``prev`` (the last gradient used, 0 where the sign flipped) and ``step_size``
    (started at lr)."""

    prev: np.ndarray = _buffer()
    step_size: np.ndarray = _buffer()


class Rprop(Optimizer):
    """Rprop (Riedmiller & Braun 1993), torch's variant without weight backtracking.

    Only the sign of the gradient is used; each coordinate's step grows by η+ while the
    sign holds and shrinks by η− when it flips (and that coordinate then waits one step).
    The step sizes start at lr, torch's group rate at the first step.
    """

    name = "rprop"
    title = "Rprop (sign-based)"
    order = 110
    State = RpropState
    buffer_names = ("prev", "step_size")
    torch_lr = 1e-2
    params = (
        HyperParameter("etas", "pair", (0.5, 1.2), "(η−, η+): step shrink and growth "
                       "factors, 0 < η− < 1 < η+", low=0.0, low_open=True),
        HyperParameter("step_sizes", "pair", (1e-6, 50.0), "(smallest, largest) step size",
                       low=0.0),
    )
    rule_text = (
        "s = sign(g·g_prev):  step ← clamp(step·η+ (s > 0), step·η− (s < 0), step (s = 0))\n"
        "where s < 0: g ← 0   (the sign flipped: wait one step)\n"
        "p ← p − sign(g)·step,  g_prev ← g   (step starts at lr)"
    )

    def validate(self, v):
        lo, hi = v["etas"]
        if not lo < 1.0 < hi:
            raise ValueError(f"etas must satisfy 0 < etas[0] < 1 < etas[1], got ({lo:g}, {hi:g})")
        smin, smax = v["step_sizes"]
        if smin > smax:
            raise ValueError(f"step_sizes[0] must be <= step_sizes[1], got ({smin:g}, {smax:g})")
        return v

    def rule(self, p, g, bufs, t, lr, ops):
        etaminus, etaplus = self.hyper.etas
        smin, smax = self.hyper.step_sizes
        if self.maximize:
            g = -g
        step = lr if t == 1 else bufs[1]
        s = ops.sign(g * bufs[0])
        factor = ops.where(s > 0, etaplus, ops.where(s < 0, etaminus, ops.where(s == 0, 1.0, s)))
        step = ops.clip(step * factor, smin, smax)
        g = ops.where(factor == etaminus, 0.0, g)
        bufs[0], bufs[1] = g, step
        return p + (-1.0 * ops.sign(g)) * step


# --------------------------------------------------------------------------- ASGD
@dataclass
class ASGDState(OptimizerState):
    """``eta`` (the rate η_t) and ``mu`` (the averaging weight μ_t), one equal value per
    coordinate (torch keeps scalars), and ``ax``: the averaged point."""

    eta: np.ndarray = _buffer()
    mu: np.ndarray = _buffer()
    ax: np.ndarray = _buffer()


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky 1992), torch's form.

    The iterate p follows SGD with a decaying rate; the answer is the running average
    ``ax`` of the iterates from step t0 on (before t0, ax is the iterate itself).  Note
    torch's default t0 = 1e6: averaging starts late unless t0 is lowered.
    """

    name = "asgd"
    title = "ASGD (averaged SGD)"
    order = 120
    State = ASGDState
    buffer_names = ("eta", "mu", "ax")
    buffer_notes = {"ax": "the averaged point (ASGD's answer)",
                    "eta": "this step's rate η", "mu": "averaging weight μ"}
    point_buffers = {"ax": "averaged point"}
    adaptive = False
    lr_default = "sgd"
    torch_lr = 1e-2
    params = (
        HyperParameter("lambd", "float", 1e-4, "decay term lambda", low=0.0),
        HyperParameter("alpha", "float", 0.75, "power for the rate update", low=0.0),
        HyperParameter("t0", "float", 1e6, "step at which averaging starts", low=0.0),
        _wd(),
    )
    rule_text = (
        "p ← p·(1 − λ·η) − η·g        (η starts at lr)\n"
        "ax ← ax + μ·(p − ax)         (μ = 1: ax ← p)\n"
        "η ← lr/(1 + λ·lr·t)^α,  μ ← 1/max(1, t − t0)"
    )

    @classmethod
    def plain(cls, hyper):
        return False

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        g = self._l2_direction(p, g)
        eta = lr if t == 1 else bufs[0]
        mu = 1.0 if t == 1 else bufs[1]
        p = p * (1 - h.lambd * eta)
        p = p + (-eta) * g
        bufs[2] = ops.where(mu != 1, bufs[2] + (p - bufs[2]) * mu, p)
        bufs[0] = ops.full_like(p, lr / ((1 + h.lambd * lr * t) ** h.alpha))
        bufs[1] = ops.full_like(p, 1 / max(1, t - h.t0))
        return p


# --------------------------------------------------------------------------- Adafactor
@dataclass
class AdafactorState(OptimizerState):
    """``variance``: the second-moment estimate.  torch factors it into row and column
    averages only for matrices; a parameter vector keeps it whole, as here."""

    variance: np.ndarray = _buffer()


_FLOAT64_EPS = float(np.finfo(np.float64).eps)


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018), torch's ``torch.optim.Adafactor``.

    The step is relative: it scales with the RMS of the parameters (at least eps2), so
    it needs the whole vector (not coordinatewise).  No first moment.  ``eps[0] = None``
    means float64's machine epsilon, torch's choice.
    """

    name = "adafactor"
    title = "Adafactor"
    order = 130
    State = AdafactorState
    buffer_names = ("variance",)
    torch_lr = 1e-2
    coordinatewise = False
    params = (
        HyperParameter("beta2_decay", "float", -0.8, "decay exponent c of β2_t = 1 − t^c",
                       high=0.0),
        HyperParameter("eps", "pair", (None, 1e-3), "(eps1, eps2): floor of the variance "
                       "(none: machine epsilon) and of the parameter RMS", low=0.0,
                       none_ok=True),
        HyperParameter("d", "float", 1.0, "clipping threshold of the update RMS", low=1.0),
        _wd("decoupled weight decay lambda"),
    )
    rule_text = (
        "v ← v + t^c·(g² − v)          (c = beta2_decay)\n"
        "u = g/√max(v, eps1²),  u ← u / max(1, RMS(u)/d)\n"
        "p ← p·(1 − lr·λ) − max(eps2, RMS(p))·min(lr, 1/√t)·u"
    )

    def validate(self, v):
        if v["eps"][1] is None:
            raise ValueError("eps[1] must be a number (only eps[0] may be none)")
        return v

    def rule(self, p, g, bufs, t, lr, ops):
        h = self.hyper
        eps1, eps2 = h.eps
        if eps1 is None:
            eps1 = _FLOAT64_EPS
        if self.maximize:
            g = -g
        n = p.shape[1]
        beta2_t = float(t) ** h.beta2_decay
        cap = 1 / (float(t) ** 0.5)
        # per-run rates (a sweep) arrive as a (k, 1) column
        rho_t = min(lr, cap) if np.ndim(lr) == 0 else np.minimum(lr, cap)[:, 0]
        alpha = np.maximum(eps2, np.sqrt(np.sum(p * p, axis=1)) / (n**0.5)) * rho_t
        if h.weight_decay != 0:
            p = p * (1 - lr * h.weight_decay)
        var = _lerp(bufs[0], g * g, beta2_t)
        bufs[0] = var
        update = 1 / np.sqrt(np.maximum(var, eps1 * eps1)) * g
        denom = np.maximum(1.0, np.sqrt(np.sum(update * update, axis=1)) / ((n**0.5) * h.d))
        return p + (-alpha / denom)[:, None] * update


# --------------------------------------------------------------------------- LBFGS
# L-BFGS and torch's line search are long enough for a module of their own; importing it
# here registers it with the others (after them: its picker place is its ``order``).
from gd_explorer.core.optim.lbfgs import LBFGS, LBFGSState  # noqa: E402

# --------------------------------------------------------------------------- second order
# Newton, Gauss–Newton, LM, line-search gradient descent and nonlinear CG: not torch.optim's,
# each still one entry (their module imports lbfgs for torch's strong-Wolfe search).
from gd_explorer.core.optim.second_order import (  # noqa: E402
    ArmijoGD,
    ConjugateGradient,
    GaussNewton,
    LevenbergMarquardt,
    Newton,
    WolfeGD,
)
