"""The optimizer entry: one class carries everything every layer needs.

An optimizer is a subclass of :class:`Optimizer` that declares, on the class:

``name``, ``title``, ``order``
    torch's (lower-case) name, the picker's text and the picker's position.
``params``
    its hyperparameters as :class:`~gd_explorer.core.optim.hyper.HyperParameter`; the
    CLI flags, the run editor's widgets, the session reader and the validation all come
    from this tuple (``validate`` adds cross-field rules only).
``rule_text``
    the update rule in plain text (unicode math, a few lines): the docstring, the
    picker's and the run editor's tooltips and the step log all show this one text.
``State``, ``buffer_names``, ``buffer_notes``
    the state dataclass, its buffers (torch's state keys) in the order ``rule`` takes
    them, and a few words on what a buffer means where that helps (ASGD's ``ax``).
``momentum_buffer``
    the buffer drawn as the momentum arrow (None: no such buffer).
``adaptive``
    whether the rule rescales the gradient per coordinate (Adam-like).
``lr_default``
    ``"sgd"`` (the problem's plain-GD rate), ``"adaptive"`` (its rate for adaptive
    methods) or a number (a fixed rate, torch's default: Adadelta's and LBFGS's 1.0).
``evaluations``
    objective evaluations per step: 1, or None when the step decides (LBFGS, via the
    ``closure`` the engine passes to :meth:`Optimizer.step`).
``needs_hessian``, ``needs_least_squares``
    the step also gets ``hessian(points) -> (k, d, d)`` (Newton) or the objective's
    least-squares form, ``residuals(points) -> (k, n)`` and ``jacobian(points) -> (k, n,
    d)`` (Gauss–Newton, LM); :meth:`Optimizer.unmet_needs` says, in one line, when an
    objective cannot give them (no least-squares form, a mini-batch).
``coordinatewise``
    the rule acts on each coordinate alone (most do); the engine's scalar fast path then
    applies it one coordinate at a time on floats.  A rule that needs the whole vector
    (a norm, a line search) declares False and gets rows of shape ``(k, d)``.

Defining the class registers it in :data:`OPTIMIZERS` (picker order): adding an
optimizer is one class in one file, plus its golden data.  The classes live in
:mod:`gd_explorer.core.optim.optimizers` (which also imports :mod:`~.lbfgs`); import the
registry from there, so that every entry is defined.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, fields
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from gd_explorer.core.optim.hyper import HyperParameter, check_all, check_flag, check_lr


# --------------------------------------------------------------------------- ops
def _scalar_sqrt(v: float) -> float:
    return math.sqrt(v) if v >= 0 else math.nan


def _scalar_max(a: float, b: float) -> float:
    if a != a or b != b:  # NaN propagates, as in np.maximum
        return math.nan
    return a if a >= b else b


def _scalar_sign(v: float) -> float:
    if v != v:
        return math.nan
    return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)


def _scalar_clip(v: float, lo: float, hi: float) -> float:
    if v != v:
        return math.nan
    return lo if v < lo else (hi if v > hi else v)


def _scalar_where(cond, a, b):
    return a if cond else b


def _scalar_full_like(p, value: float) -> float:
    return value


#: the helpers a rule takes from ``ops``: numpy on rows ``(k, d)`` ...
ARRAY_OPS = SimpleNamespace(sqrt=np.sqrt, maximum=np.maximum, abs=np.abs, sign=np.sign,
                            clip=np.clip, where=np.where, full_like=np.full_like)
#: ... or Python floats, one coordinate at a time (NaN behaves as in numpy)
SCALAR_OPS = SimpleNamespace(sqrt=_scalar_sqrt, maximum=_scalar_max, abs=abs,
                             sign=_scalar_sign, clip=_scalar_clip, where=_scalar_where,
                             full_like=_scalar_full_like)


def preconditioned_lmax(hessian, diag, shift: float = 0.0) -> float:
    """λmax of P^(−½)(H + shift·I)P^(−½) with P = diag(``diag``) (> 0): the sharpness an
    update ``p ← p − lr·P⁻¹·g`` sees (the eigenvalues of P⁻¹H, symmetric form)."""
    h = np.asarray(hessian, dtype=np.float64)
    s = 1.0 / np.sqrt(np.asarray(diag, dtype=np.float64))
    m = (h + shift * np.eye(h.shape[0])) * s[:, None] * s[None, :]
    return float(np.linalg.eigvalsh(m)[-1])


def lerp(a, b, w):
    """torch's lerp kernel, so that moment averages round exactly as torch's do."""
    if w < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1 - w)


@dataclass(frozen=True)
class FusedRule:
    """An optimizer's rule as source lines (see :meth:`Optimizer.fused_rule`).

    ``per_step`` lines run once per update before the coordinates (shared terms such as
    a bias correction, names starting with ``_``); ``per_coordinate`` lines run for each
    coordinate; ``writes`` are the indices of the buffers they assign (``n0`` ...).
    """

    per_step: tuple[str, ...]
    per_coordinate: tuple[str, ...]
    writes: tuple[int, ...]


def literal(value) -> str:
    """``value`` (a finite int or float) as Python source that reads back bit for bit."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return f"({value!r})"


# --------------------------------------------------------------------------- state
@dataclass
class OptimizerState:
    """State shared by all optimizers: the number of updates taken so far (torch's ``step``)."""

    step: int = 0

    def buffers(self) -> dict[str, np.ndarray]:
        """The state's arrays by name (torch's state keys), for display and export."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "step" and isinstance(getattr(self, f.name), np.ndarray)}

    def copy(self):
        """A deep copy (arrays copied), safe to hand to another thread."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        return type(self)(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in kw.items()})


# --------------------------------------------------------------------------- registry
#: every optimizer by torch name, in picker order (filled as the classes are defined)
OPTIMIZERS: dict[str, type[Optimizer]] = {}


def _indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line else line for line in text.split("\n"))


class Optimizer:
    """Base class of the optimizer entries (see the module docstring)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    order: ClassVar[int] = 1000
    State: ClassVar[type] = OptimizerState
    params: ClassVar[tuple[HyperParameter, ...]] = ()
    rule_text: ClassVar[str] = ""
    #: names of the state buffers, in the order ``rule`` receives them
    buffer_names: ClassVar[tuple[str, ...]] = ()
    buffer_notes: ClassVar[dict[str, str]] = {}
    momentum_buffer: ClassVar[str | None] = None
    #: state buffers that are points in parameter space (one ``(d,)`` or several
    #: ``(m, d)`` per run), drawn as markers on the surface: name -> what the marker is
    point_buffers: ClassVar[dict[str, str]] = {}
    adaptive: ClassVar[bool] = True
    lr_default: ClassVar[str | float] = "adaptive"
    #: torch's default learning rate (the constructor's default)
    torch_lr: ClassVar[float] = 1e-3
    #: whose default ``torch_lr`` is, for the entry's description (not torch's: "default")
    lr_origin: ClassVar[str] = "torch default"
    evaluations: ClassVar[int | None] = 1
    coordinatewise: ClassVar[bool] = True
    #: the step takes ``hessian=`` (the objective's, full batch)
    needs_hessian: ClassVar[bool] = False
    #: the step takes ``least_squares=`` (the objective's residuals and Jacobian)
    needs_least_squares: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__ or not cls.name:
            return  # an abstract helper class
        if cls.name in OPTIMIZERS:
            raise TypeError(f"optimizer name {cls.name!r} is taken by "
                            f"{OPTIMIZERS[cls.name].__name__}")
        if not cls.rule_text or not cls.title:
            raise TypeError(f"optimizer {cls.name!r} needs a title and its rule_text")
        names = [p.name for p in cls.params]
        if len(set(names)) != len(names) or {"lr", "maximize"} & set(names):
            raise TypeError(f"optimizer {cls.name!r}: hyperparameter names must be unique "
                            "and not lr or maximize")
        if cls.momentum_buffer is not None and cls.momentum_buffer not in cls.buffer_names:
            raise TypeError(f"optimizer {cls.name!r}: momentum_buffer "
                            f"{cls.momentum_buffer!r} is not one of its buffers")
        stray = set(cls.point_buffers) - set(cls.buffer_names)
        if stray:
            raise TypeError(f"optimizer {cls.name!r}: point_buffers {sorted(stray)} are not "
                            "among its buffers")
        # the docstring carries the rule text: one source for docs, tooltips and step log
        doc = inspect.cleandoc(cls.__doc__ or cls.title)
        cls.__doc__ = f"{doc}\n\nUpdate rule::\n\n{_indent(cls.rule_text)}\n"
        entries = sorted([*OPTIMIZERS.values(), cls], key=lambda c: (c.order, c.name))
        OPTIMIZERS.clear()
        OPTIMIZERS.update((c.name, c) for c in entries)

    def __init__(self, lr: float | None = None, maximize: bool = False, **kwargs: Any):
        self.lr = check_lr(self.torch_lr if lr is None else lr)
        self.maximize = check_flag("maximize", maximize)
        values = check_all(self.params, kwargs, self.name)
        self.hyper = SimpleNamespace(**self.validate(values))

    # -- the entry, asked by the other layers
    @classmethod
    def default_lr(cls, lr_sgd: float, lr_adaptive: float) -> float:
        """The rate to start with on a problem whose usual rates are ``lr_sgd`` (plain
        gradient descent) and ``lr_adaptive`` (adaptive methods)."""
        if cls.lr_default == "sgd":
            return lr_sgd
        if cls.lr_default == "adaptive":
            return lr_adaptive
        return float(cls.lr_default)

    @classmethod
    def plain(cls, hyper: dict[str, Any]) -> bool:
        """Whether these settings make the rule plain gradient descent ``p − lr·g``."""
        return False

    @classmethod
    def stability_edge(cls, hyper: dict[str, Any], hessian: np.ndarray,
                       state: dict[str, np.ndarray] | None = None) -> float | None:
        """The largest stable learning rate on the local quadratic model, or None (unknown).

        ``hessian`` ``(d, d)`` is that of the function being *minimised* (for a maximised
        one, pass the Hessian of −f); ``state`` the run's buffers (``(d,)`` each) and its
        ``"step"`` count (updates taken) for rules whose edge depends on them (Adam's
        preconditioner).  ``math.inf`` when the curvature sets no bound (no positive
        eigenvalue).  Adaptive rules answer for their preconditioner *frozen* at the
        state's value (Cohen et al. 2022): a statement about the linearised update.
        """
        return None

    @classmethod
    def momentum_hyper(cls) -> str | None:
        """The hyperparameter that plays momentum (torch's rule for cycled momentum):
        ``"betas"`` (its first entry, β1) when declared, else ``"momentum"``, else None."""
        names = {p.name for p in cls.params}
        if "betas" in names:
            return "betas"
        return "momentum" if "momentum" in names else None

    @classmethod
    def settings(cls, hyper: dict[str, Any]) -> dict[str, Any]:
        """``hyper`` completed with the declared defaults (AdamW's weight decay 0.01 applies
        when a dict leaves it out, as it does in the optimizer itself)."""
        return {**{p.name: p.default for p in cls.params}, **hyper}

    @classmethod
    def unmet_needs(cls, least_squares: bool, full_batch: bool) -> str | None:
        """Why this optimizer cannot run on an objective that has (or lacks) a
        least-squares form, on the full batch or mini-batches: one line, or None."""
        return None

    @classmethod
    def state_lines(cls, state: dict[str, np.ndarray]) -> list[str]:
        """The run's state in words for the step log (``state``: one run's buffers):
        "Hessian not positive definite: shifted by 3.2".  Default: nothing to add."""
        return []

    @classmethod
    def param(cls, name: str) -> HyperParameter:
        """The declaration of hyperparameter ``name`` (KeyError if it has none)."""
        for p in cls.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @classmethod
    def flags_text(cls) -> str:
        """``--momentum, --dampening, ...``: the CLI flags this optimizer takes."""
        return ", ".join(p.flag for p in cls.params) or "no optimizer flags"

    @classmethod
    def describe(cls) -> str:
        """The entry in words: title, rule and every hyperparameter (tooltips, ``list``)."""
        if isinstance(cls.lr_default, str):
            usual = f"the problem's usual {cls.lr_default} rate"
        else:
            usual = f"{cls.lr_default:g}"
        lines = [f"{cls.title} ({cls.name})", _indent(cls.rule_text, "  "), "",
                 f"lr: learning rate (> 0; here {usual}; {cls.lr_origin} {cls.torch_lr:g})"]
        lines += [p.describe() for p in cls.params]
        return "\n".join(lines)

    # -- to be provided by subclasses
    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """Cross-field rules on declared, already checked values (default: none)."""
        return values

    def rule(self, p, g, bufs: list, t: int, lr: float, ops):
        """One update of parameters ``p`` with gradient ``g``; mutates ``bufs``; returns new p."""
        raise NotImplementedError

    def fused_rule(self) -> FusedRule | None:
        """:meth:`rule` on one coordinate as lines of Python, for the engine's fused loop.

        None (the default) keeps the rule-by-rule scalar path.  The lines name the
        coordinate's parameter ``p``, gradient ``g``, buffers ``s0, s1, ...`` (in
        ``buffer_names`` order), the step ``t`` and rate ``lr``; they assign the new
        point to ``q`` and each buffer they change to ``n0, n1, ...``; ``sqrt`` (math's),
        ``nan`` and temporaries starting with ``_`` are free.  The hyperparameters are
        written in as literals (:func:`literal`), so the lines hold for the current
        values only.  A test runs both paths on every problem of the golden table and
        compares them bit for bit: the lines must do exactly the rule's arithmetic, in
        its order.
        """
        return None

    # -- shared machinery
    def _l2_direction(self, p, g):
        """torch's first lines of most rules: negate for ascent, add the L2 term."""
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

    def step(self, p: np.ndarray, g: np.ndarray, state: OptimizerState, lr: float | None = None,
             closure=None):
        """Apply one update to ``p`` (shape ``(k, d)``) and return the new parameters.

        ``lr`` is the rate for this update (a schedule's value); defaults to ``self.lr``.
        ``closure(points) -> (values, grads)`` evaluates the objective at rows ``(k, d)``;
        only optimizers with ``evaluations != 1`` call it.
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


def make_optimizer(name: str, **kwargs: Any) -> Optimizer:
    """Build an optimizer by registry name with torch keyword arguments.

    Raises
    ------
    ValueError
        For an unknown name or an invalid hyperparameter, with a readable message.
    """
    try:
        cls = OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}"
        ) from None
    return cls(**kwargs)
