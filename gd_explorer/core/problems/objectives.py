"""Objectives: everything the engine descends on.

An objective has parameter names, ``value(p)``, ``grad(p)`` (exact), a default view
window, a default start, a default direction (minimize or maximize), default learning
rates and, where known, its optima.  Built-in functions, typed expressions and
dataset fits are all objectives, so the engine, the plots and CSV export never care
which one they got.

Points are arrays of shape ``(d,)`` or, batched, ``(k, d)``; values come back with the
leading shape (``()`` or ``(k,)``), gradients with the point's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gd_explorer.core.limits import DIVERGENCE_LIMIT  # also re-exported from here
from gd_explorer.core.optim.optimizers import OPTIMIZERS


@dataclass(frozen=True)
class Optimum:
    """A known optimum: the point, its value and its kind ("global min", "local min", ...)."""

    point: tuple[float, ...]
    value: float
    kind: str = "global minimum"


@dataclass(frozen=True)
class LeastSquares:
    """A least-squares objective ``f(p) = mean(r(p)²)`` (n residuals): ``residuals(points
    (k, d)) -> (k, n)`` and ``jacobian(points) -> (k, n, d)``, ``∂r_i/∂p_j``."""

    residuals: Any
    jacobian: Any


@dataclass(frozen=True)
class DecisionData:
    """The labelled 2-D inputs of a binary classifier (the Decision view): train inputs
    ``x`` ``(n, 2)`` and labels ``y`` ``(n,)`` in {0, 1}, the test split likewise (maybe
    empty), and the inputs' names."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names: tuple[str, str] = ("x1", "x2")


@dataclass
class Objective:
    """Base class of all objectives.

    Subclasses implement :meth:`value_and_grad`; ``value`` and ``grad`` derive from it.
    """

    name: str
    names: tuple[str, ...]
    formula: str = ""
    description: str = ""
    window: tuple[tuple[float, float], ...] = ()
    start: tuple[float, ...] = ()
    maximize: bool = False
    lr_sgd: float = 0.01
    lr_adaptive: float = 0.01
    optima: tuple[Optimum, ...] = ()
    gradient_formulas: tuple[str, ...] = field(default=())

    @property
    def dim(self) -> int:
        """The number of parameters."""
        return len(self.names)

    def parameter_groups(self) -> tuple[tuple[str, np.ndarray], ...] | None:
        """Named groups of parameter columns (a network's layers: ``("layer 1 (2→8)",
        indices)``) that the step log and the CLI summarise by norm, or None (no groups:
        whole-vector statistics only)."""
        return None

    # -- evaluation
    def value_and_grad(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Value and gradient at ``p`` of shape ``(k, d)``: arrays ``(k,)`` and ``(k, d)``."""
        raise NotImplementedError

    def _batched(self, p) -> tuple[np.ndarray, bool]:
        arr = np.asarray(p, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None, :]
            single = True
        else:
            single = False
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise ValueError(
                f"{self.name} takes points with {self.dim} coordinates "
                f"({', '.join(self.names)}), got shape {np.shape(p)}"
            )
        return arr, single

    def value(self, p) -> np.ndarray | float:
        """The objective at ``p`` (``(d,)`` -> float, ``(k, d)`` -> ``(k,)``)."""
        arr, single = self._batched(p)
        v = self.values(arr)
        return float(v[0]) if single else v

    def values(self, p: np.ndarray) -> np.ndarray:
        """Values only, for many points at once (surfaces); subclasses may do this faster."""
        return self.value_and_grad(p)[0]

    def grad(self, p) -> np.ndarray:
        """The exact gradient at ``p`` (same shape as ``p``)."""
        arr, single = self._batched(p)
        g = self.value_and_grad(arr)[1]
        return g[0] if single else g

    def hessian(self, p) -> np.ndarray:
        """The Hessian at ``p``: ``(d,)`` -> ``(d, d)``, ``(k, d)`` -> ``(k, d, d)``.

        Exact where the objective knows it (:meth:`exact_hessian`); otherwise central
        differences of the exact gradient (step ``eps^(1/3)·max(1, |p_i|)``), made symmetric.
        """
        arr, single = self._batched(p)
        h = self.exact_hessian(arr)
        if h is None:
            h = fd_hessian(self, arr)
        return h[0] if single else h

    def exact_hessian(self, p: np.ndarray) -> np.ndarray | None:
        """The exact Hessian ``(k, d, d)`` at points ``(k, d)``, or None where unknown
        (then :meth:`hessian` uses differences of the gradient)."""
        return None

    def hvp(self, p, v) -> np.ndarray:
        """The Hessian-vector product H(p)·v, without forming H: ``(d,)`` or ``(k, d)``
        points with directions of the same shape -> the same shape.

        This default is the central difference of the exact gradient along v, one pair of
        gradient evaluations (one batched call): (∇f(p + t·v) − ∇f(p − t·v)) / 2t with
        t = eps^(1/3)·max(1, |p|)/|v| per row, error O(t²).  Objectives that know better
        override it (networks: Pearlmutter's R-operator, exact).
        """
        arr, single = self._batched(p)
        v = np.asarray(v, dtype=np.float64).reshape(arr.shape)
        out = fd_hvp(self, arr, v)
        return out[0] if single else out

    #: whether :meth:`hvp` is exact (not a difference of gradients)
    exact_hvp = False

    def default_lr(self, optimizer: str) -> float:
        """A learning rate that makes ``optimizer`` (a registry name) move sensibly here:
        the optimizer's entry says which of this objective's rates it takes, or its own."""
        return OPTIMIZERS[optimizer].default_lr(self.lr_sgd, self.lr_adaptive)

    # -- capabilities: what the engine, the surfaces and the views ask instead of the type
    #: what this objective's Hessian is, in words, where that helps the step log
    #: (a dataset loss: "constant", "zero almost everywhere", "piecewise")
    curvature_note = ""

    #: the parameters share one unit, so the surface is drawn to equal scale (a bowl round,
    #: −∇f at right angles to the contours); a model's weight and bias do not
    equal_aspect = True

    @property
    def samples(self) -> int | None:
        """The number of samples mini-batches draw from (None: batches do not apply)."""
        return None

    @property
    def evaluation_cost(self) -> int:
        """The work of one evaluation, in residuals: 1 for a formula, n for a dataset fit
        (a surface grid costs this per point; hover answers from the grid when large)."""
        return 1

    def surface_cost(self, points: int) -> int:
        """The work of a surface of ``points`` grid points by its row-by-row path (0 when a
        closed form computes it at once, :meth:`fast_surface`)."""
        return 0

    def fast_surface(self, axes, fixed, xs, ys, progress=None) -> np.ndarray | None:
        """A faster :func:`~gd_explorer.core.problems.surface.surface_grid` (checked
        arguments), or None to evaluate ``values`` on the grid."""
        return None

    def fast_curve(self, index: int, fixed, xs) -> np.ndarray | None:
        """A faster :func:`~gd_explorer.core.problems.surface.curve_1d`, or None."""
        return None

    def fast_gradient_field(self, axes, fixed, xs, ys):
        """A faster :func:`~gd_explorer.core.problems.surface.gradient_field`, or None."""
        return None

    def least_squares(self) -> LeastSquares | None:
        """The objective as a sum of squares, ``f = mean(r(p)²)``, with ``r``'s Jacobian
        (what Gauss–Newton and Levenberg–Marquardt need), or None: not a least-squares fit."""
        return None

    def fit_data(self):
        """``(x, y, (x_name, y_name))`` of the data a model is fitted to (the Fit view), or
        None; :meth:`predict` then gives the fitted curve."""
        return None

    def predict(self, p, x=None) -> np.ndarray:
        """The fitted model's predictions at ``x`` for parameters ``p`` (fits only)."""
        raise NotImplementedError(f"{self.name} is not a fit: it has no predictions")

    def decision_data(self) -> DecisionData | None:
        """The data of a binary classifier on 2-D inputs (:class:`DecisionData`), or None:
        not one; :meth:`probability` then gives its decision function."""
        return None

    def probability(self, p, x) -> np.ndarray:
        """P(class 1) at inputs ``x`` ``(n, m)`` for parameters ``p`` ``(d,)`` (classifiers
        only, :meth:`decision_data`)."""
        raise NotImplementedError(f"{self.name} is not a classifier")

    #: the measures :meth:`metrics` returns, in order ("train loss", "test accuracy", ...);
    #: empty: none beyond the recorded loss
    metric_names = ()

    def metrics(self, p) -> dict[str, np.ndarray]:
        """Each of :attr:`metric_names` at points ``(k, d)``: name -> ``(k,)`` (the
        training loss on all the data even where runs take mini-batches, a test split's
        loss, accuracies)."""
        return {}

    def layers(self):
        """The parameters' layers, or None: an object with ``layer_titles`` (one per
        layer) and ``layer_norms(v)`` (``(k, d)`` -> ``(k, layers)``: the Euclidean norm of
        each layer's part of a parameter or gradient vector)."""
        return None

    def filter_groups(self) -> tuple[np.ndarray, ...] | None:
        """The parameter indices of each filter (a unit's incoming weights) of a layered
        model, for filter-normalised landscape directions (every parameter in none of them,
        a bias, is left out); None: no layers (a direction is normalised as a whole)."""
        return None

    # -- optional fast path
    def scalar_value_and_grad(self):
        """A function of ``d`` floats returning ``(value, g_1, ..., g_d)`` as floats, or None.

        The engine uses it for a single run; it may raise ArithmeticError or ValueError
        (overflow, domain errors), in which case the engine falls back to the array path.
        """
        return None


# ----------------------------------------------------------------------------- formulas
def fd_hessian(objective: Objective, p: np.ndarray) -> np.ndarray:
    """Central differences of ``objective``'s exact gradient at points ``(k, d)``: ``(k, d, d)``,
    symmetrised; error O(h²) with h ≈ 6e-6·max(1, |p_i|)."""
    p = np.asarray(p, dtype=np.float64)
    k, d = p.shape
    h = np.finfo(np.float64).eps ** (1 / 3) * np.maximum(1.0, np.abs(p))  # (k, d)
    out = np.empty((k, d, d))
    with np.errstate(all="ignore"):
        for i in range(d):
            step = np.zeros_like(p)
            step[:, i] = h[:, i]
            gp = objective.value_and_grad(p + step)[1]
            gm = objective.value_and_grad(p - step)[1]
            out[:, i, :] = (gp - gm) / (2 * h[:, i:i + 1])
    return 0.5 * (out + np.swapaxes(out, 1, 2))


def fd_hvp(objective: Objective, p: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Central difference of ``objective``'s exact gradient along ``v`` at points ``(k, d)``:
    H·v ``(k, d)`` from one batched gradient call of 2k points (a zero ``v`` gives 0)."""
    p = np.asarray(p, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    k = p.shape[0]
    with np.errstate(all="ignore"):
        norm = np.sqrt(np.sum(v * v, axis=1))
        scale = np.maximum(1.0, np.sqrt(np.sum(p * p, axis=1)))
        t = np.where(norm > 0, np.finfo(np.float64).eps ** (1 / 3) * scale
                     / np.where(norm > 0, norm, 1.0), 0.0)
        g = objective.value_and_grad(np.concatenate([p + t[:, None] * v,
                                                     p - t[:, None] * v]))[1]
        out = (g[:k] - g[k:]) / np.where(t > 0, 2.0 * t, 1.0)[:, None]
    return np.where((t > 0)[:, None], out, 0.0)


class FormulaObjective(Objective):
    """An objective given by a formula in ``x`` (and ``y``) with compiled numeric code.

    ``vector(*columns)`` returns ``(value, g_1, ...)`` on arrays, ``values(*columns)`` the
    value only, ``scalar(*floats)`` the same tuple on floats.  The built-ins get these
    from generated modules (no sympy at start-up); typed formulas from
    :class:`SymbolicObjective`.
    """

    def __init__(self, variables: tuple[str, ...], vector, values, scalar, hessian=None,
                 **meta: Any):
        d = len(variables)
        meta.setdefault("window", ((-3.0, 3.0),) * d)
        meta.setdefault("start", (1.0,) * d)
        super().__init__(names=tuple(variables), **meta)
        self._vector, self._values, self._scalar = vector, values, scalar
        # ``hessian(*columns)`` -> the d·d entries row by row (None: compiled on first use)
        self._hessian = hessian
        self._expression = None

    @property
    def expression(self):
        """The parsed sympy expression (parsed on first use: sympy is slow to import)."""
        if self._expression is None:
            from gd_explorer.core.problems.expressions import parse_expression

            self._expression = parse_expression(self.formula)
        return self._expression

    def hessian_formulas(self):
        """The exact Hessian as sympy expressions (a tuple of rows)."""
        from gd_explorer.core.problems.expressions import hessian

        return hessian(self.expression)

    def exact_hessian(self, p):
        if self._hessian is None:
            self._hessian = self._compile_hessian()
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        with np.errstate(all="ignore"):
            out = self._hessian(*(p[:, i] for i in range(d)))
        h = np.empty((k, d * d))
        for i, entry in enumerate(out):
            h[:, i] = entry  # a constant entry (a Python scalar) broadcasts
        h = h.reshape(k, d, d)
        # the compiled entries (i, j) and (j, i) may round differently: mirror the upper one
        lower = np.tril_indices(d, -1)
        h[:, lower[0], lower[1]] = h[:, lower[1], lower[0]]
        return h

    def _compile_hessian(self):
        """lambdify the sympy Hessian (typed formulas: on first use, sympy is slow)."""
        import sympy

        from gd_explorer.core.problems.expressions import SYMBOLS

        # safe as for the gradient: the expression comes from the allowlisting parser
        syms = [SYMBOLS[v] for v in self.names]
        entries = tuple(h for row in self.hessian_formulas() for h in row)
        return sympy.lambdify(syms, entries, modules="numpy", cse=True)

    def value_and_grad(self, p):
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        with np.errstate(all="ignore"):
            out = self._vector(*(p[:, i] for i in range(d)))
        v = out[0]
        if not (isinstance(v, np.ndarray) and v.shape == (k,)):
            # constant components come back as Python scalars; broadcast them
            v = np.full(k, v, dtype=np.float64)
        g = np.empty((k, d))
        for i in range(d):
            g[:, i] = out[i + 1]
        return v, g

    def values(self, p):
        p = np.asarray(p, dtype=np.float64)
        with np.errstate(all="ignore"):
            v = self._values(*(p[:, i] for i in range(p.shape[1])))
        return np.array(np.broadcast_to(np.asarray(v, dtype=np.float64), (p.shape[0],)))

    def scalar_value_and_grad(self):
        return self._scalar


class SymbolicObjective(FormulaObjective):
    """A typed formula, differentiated by sympy and compiled with lambdify."""

    def __init__(self, expression, **meta: Any):
        import sympy

        from gd_explorer.core.problems.expressions import SYMBOLS, gradient, to_text

        variables = expression.variables
        grads = gradient(expression)
        meta.setdefault("name", expression.text)
        meta.setdefault("formula", to_text(expression.expr))
        meta.setdefault("gradient_formulas", tuple(to_text(g) for g in grads))
        # lambdify is safe here: the expression was built by our own allowlisting parser
        # from the symbols x and y only, so no user text reaches the generated source.
        syms = [SYMBOLS[v] for v in variables]
        vector = sympy.lambdify(syms, (expression.expr, *grads), modules="numpy", cse=True)
        scalar = sympy.lambdify(syms, (expression.expr, *grads), modules="math", cse=True)
        values = sympy.lambdify(syms, expression.expr, modules="numpy", cse=True)
        if "start" not in meta:
            window = meta.get("window", ((-3.0, 3.0),) * len(variables))
            meta["start"] = _finite_start(vector, window, (1.0,) * len(variables))
        super().__init__(variables, vector, values, scalar, **meta)
        self._expression = expression
        self._meta = meta
        self.sympy_gradient = grads

    def __reduce__(self):
        # the lambdified code cannot be pickled; the text parses to the same expression
        return _symbolic_from_text, (self._expression.text, self._meta)


def _finite_start(vector, window, preferred: tuple[float, ...]) -> tuple[float, ...]:
    """``preferred``, or if the formula is not finite there (``log(x - 2)`` at 1) the grid
    point of ``window`` nearest to it where value and gradient are finite and below
    ``DIVERGENCE_LIMIT``; ``preferred`` again when there is none (the descent then says
    why it cannot start)."""
    axes = [np.linspace(lo, hi, 31) for lo, hi in window]
    grid = np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=1)
    points = np.vstack([np.asarray(preferred, dtype=np.float64)[None, :], grid])
    with np.errstate(all="ignore"):
        out = vector(*(points[:, i] for i in range(points.shape[1])))
        ok = np.ones(len(points), dtype=bool)
        for part in out:
            ok &= np.abs(np.broadcast_to(np.asarray(part, dtype=np.float64), ok.shape)) \
                < DIVERGENCE_LIMIT
    if ok[0] or not ok.any():
        return tuple(preferred)
    dist = np.where(ok, np.hypot.reduce(points - points[0], axis=1), np.inf)
    # "-0.2", not linspace's "-0.19999999999999973": a start people can read and type
    return tuple(float(f"{c:.12g}") for c in points[int(np.argmin(dist))])


def _symbolic_from_text(text: str, meta: dict) -> SymbolicObjective:
    from gd_explorer.core.problems.expressions import parse_expression

    return SymbolicObjective(parse_expression(text), **meta)


def expression_objective(text: str, **meta: Any) -> SymbolicObjective:
    """Parse a typed function (``"x^2*sin(y)"``) and build its objective.

    Raises
    ------
    ExpressionError
        When the text is not an allowed expression; the message says why.
    """
    from gd_explorer.core.problems.expressions import parse_expression

    return SymbolicObjective(parse_expression(text), **meta)
