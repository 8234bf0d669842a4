"""The registry of built-in test functions (1-D and 2-D).

Each entry is a formula in the typed-function language (parsed by the same allowlisting
parser as user input, differentiated exactly by sympy) plus metadata: a description,
a view window, a start point, the default direction, learning rates and known optima.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from gd_explorer.core.problems import _builtins_math, _builtins_numpy
from gd_explorer.core.problems.codegen import identifier
from gd_explorer.core.problems.objectives import FormulaObjective, Optimum


@dataclass(frozen=True)
class FunctionSpec:
    """One built-in function."""

    name: str
    title: str
    formula: str
    description: str
    window: tuple[tuple[float, float], ...]
    start: tuple[float, ...]
    lr_sgd: float
    lr_adaptive: float
    optima: tuple[Optimum, ...] = ()
    maximize: bool = False

    @property
    def dim(self) -> int:
        return len(self.start)

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names: ``("x",)`` or ``("x", "y")``."""
        return ("x", "y")[:self.dim]


def _min(*point: float, value: float = 0.0, kind: str = "global minimum") -> Optimum:
    return Optimum(tuple(point), value, kind)


_HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118086952745, 3.131312518250573),
    (-3.779310253377747, -3.283185991286170),
    (3.584428340330492, -1.848126526964404),
)
_CAMEL = (0.08984201310031806, -0.7126564030207396)
# roots of 4x^3 - 8x + 1 = 0 (stationary points of the double well), found with mpmath
_WELL_GLOBAL = -1.4729976011140302
_WELL_LOCAL = 1.346997408527774


def _well(x: float) -> float:
    return x**4 - 4 * x**2 + x


SPECS: tuple[FunctionSpec, ...] = (
    # ------------------------------------------------------------------ 1-D
    FunctionSpec(
        "fence-area", "Fencing area A(L)", "100*x - x**2",
        "Area of a rectangular pasture with sides x and 100 - x (200 m of fence). "
        "Maximize it: A'(57) = -14, so gradient ascent steps left; the maximum is "
        "A(50) = 2500.",
        ((0.0, 100.0),), (57.0,), 0.1, 1.0,
        (Optimum((50.0,), 2500.0, "global maximum"),), maximize=True,
    ),
    FunctionSpec(
        "double-well", "Double well", "x**4 - 4*x**2 + x",
        "A local minimum near x = 1.35 and a lower, global one near x = -1.47: "
        "from x = 2, plain gradient descent stops in the local one.",
        ((-2.5, 2.5),), (2.0,), 0.02, 0.05,
        (
            _min(_WELL_GLOBAL, value=_well(_WELL_GLOBAL)),
            _min(_WELL_LOCAL, value=_well(_WELL_LOCAL), kind="local minimum"),
        ),
    ),
    FunctionSpec(
        "parabola", "Parabola", "x**2",
        "The simplest convex function; gradient descent with lr < 1 converges, "
        "lr = 1 oscillates, lr > 1 diverges.",
        ((-3.0, 3.0),), (2.5,), 0.1, 0.1, (_min(0.0),),
    ),
    # ------------------------------------------------------------------ 2-D
    FunctionSpec(
        "bowl", "Bowl", "x**2 + y**2",
        "A round bowl: the gradient points straight at the minimum.",
        ((-3.0, 3.0), (-3.0, 3.0)), (2.5, -2.0), 0.1, 0.1, (_min(0.0, 0.0),),
    ),
    FunctionSpec(
        "ill-conditioned", "Ill-conditioned bowl", "x**2 + 10*y**2",
        "An elongated bowl (condition number 10): plain gradient descent zigzags across "
        "the valley; momentum and Adam do better.",
        ((-5.0, 5.0), (-2.5, 2.5)), (-4.0, 1.5), 0.09, 0.1, (_min(0.0, 0.0),),
    ),
    FunctionSpec(
        "x2siny", "x² sin(y)", "x**2*sin(y)",
        "Seed 001's example. Gradient (2x sin y, x² cos y) — the article swaps the two "
        "partial derivatives. Unbounded below where sin(y) < 0.",
        ((-3.0, 3.0), (-3.0, 3.0)), (1.0, 1.0), 0.05, 0.05,
    ),
    FunctionSpec(
        "saddle", "Saddle", "x**2 - y**2",
        "A saddle point at the origin: minimum along x, maximum along y. Started exactly "
        "on y = 0 gradient descent stops at the saddle; any offset in y escapes it.",
        ((-3.0, 3.0), (-3.0, 3.0)), (-2.5, 0.001), 0.1, 0.05,
        (Optimum((0.0, 0.0), 0.0, "saddle point"),),
    ),
    FunctionSpec(
        "rosenbrock", "Rosenbrock", "(1 - x)**2 + 100*(y - x**2)**2",
        "A curved, flat-bottomed valley; the minimum at (1, 1) is easy to find and hard "
        "to reach.",
        ((-2.0, 2.0), (-1.0, 3.0)), (-1.5, 2.0), 0.001, 0.01, (_min(1.0, 1.0),),
    ),
    FunctionSpec(
        "himmelblau", "Himmelblau", "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
        "Four global minima of value 0; which one a run reaches depends on the start.",
        ((-5.0, 5.0), (-5.0, 5.0)), (0.0, 0.0), 0.01, 0.05,
        tuple(_min(*p) for p in _HIMMELBLAU_MINIMA),
    ),
    FunctionSpec(
        "booth", "Booth", "(x + 2*y - 7)**2 + (2*x + y - 5)**2",
        "A convex quadratic with its minimum at (1, 3).",
        ((-10.0, 10.0), (-10.0, 10.0)), (-8.0, -6.0), 0.05, 0.1, (_min(1.0, 3.0),),
    ),
    FunctionSpec(
        "beale", "Beale",
        "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
        "Sharp ridges and flat regions; minimum at (3, 0.5).",
        ((-4.5, 4.5), (-4.5, 4.5)), (1.0, 1.5), 0.001, 0.01, (_min(3.0, 0.5),),
    ),
    FunctionSpec(
        "six-hump-camel", "Six-hump camel",
        "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2",
        "Six local minima, two of them global (value -1.0316).",
        ((-3.0, 3.0), (-2.0, 2.0)), (-1.5, 1.0), 0.01, 0.02,
        (
            _min(*_CAMEL, value=-1.0316284534898774),
            _min(-_CAMEL[0], -_CAMEL[1], value=-1.0316284534898774),
        ),
    ),
    FunctionSpec(
        "rastrigin", "Rastrigin",
        "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)",
        "A regular grid of local minima around the global one at the origin.",
        ((-5.12, 5.12), (-5.12, 5.12)), (3.2, 2.3), 0.002, 0.05, (_min(0.0, 0.0),),
    ),
    FunctionSpec(
        "ackley", "Ackley",
        "-20*exp(-0.2*sqrt(0.5*(x**2 + y**2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
        "A nearly flat outer region full of small dimples and a deep hole at the origin "
        "(where the gradient is undefined).",
        ((-5.0, 5.0), (-5.0, 5.0)), (3.5, -2.5), 0.01, 0.05, (_min(0.0, 0.0),),
    ),
)

FUNCTIONS: dict[str, FunctionSpec] = {s.name: s for s in SPECS}


@cache
def get_function(name: str) -> FormulaObjective:
    """Build (once) the objective of the built-in function ``name``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the built-ins.
    """
    try:
        spec = FUNCTIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown function {name!r}; built-ins are: {', '.join(FUNCTIONS)} "
            "(or type a formula in x and y)"
        ) from None
    ident = identifier(spec.name)
    variables = ("x",) if spec.dim == 1 else ("x", "y")
    return FormulaObjective(
        variables,
        getattr(_builtins_numpy, ident),
        getattr(_builtins_numpy, ident + "__values"),
        getattr(_builtins_math, ident),
        hessian=getattr(_builtins_numpy, ident + "__hessian"),
        name=spec.name,
        gradient_formulas=_builtins_numpy.GRADIENT_TEXT[spec.name],
        formula=spec.formula,
        description=spec.description,
        window=spec.window,
        start=spec.start,
        maximize=spec.maximize,
        lr_sgd=spec.lr_sgd,
        lr_adaptive=spec.lr_adaptive,
        optima=spec.optima,
    )


def _check_specs() -> None:  # pragma: no cover - import-time sanity of the table
    for s in SPECS:
        assert len(s.window) == s.dim and all(lo < hi for lo, hi in s.window), s.name
        assert all(math.isfinite(v) for v in s.start), s.name


_check_specs()
