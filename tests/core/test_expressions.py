"""Tests for the safe expression parser: grammar, refusals, resource bombs, properties."""

from __future__ import annotations

import ast
import inspect
import math
import re
from collections.abc import Callable

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from gd_explorer.core.problems import expressions
from gd_explorer.core.problems.expressions import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_NODES,
    MAX_TEXT_LENGTH,
    SYMBOLS,
    Expression,
    ExpressionError,
    X,
    Y,
    derivative,
    gradient,
    hessian,
    parse_expression,
    to_text,
)

# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    ("text", "expected", "variables"),
    [
        ("x^2*sin(y)", X**2 * sympy.sin(Y), ("x", "y")),
        ("100*x - x^2", 100 * X - X**2, ("x",)),
        ("-x**2", -(X**2), ("x",)),
        ("e^x", sympy.exp(X), ("x",)),
        ("ln(x)", sympy.log(X), ("x",)),
        ("abs(x)", sympy.Abs(X), ("x",)),
        (".5*x", X / 2, ("x",)),
        ("1e-8*x", X / 10**8, ("x",)),
        ("(1-x)^2 + 100*(y-x^2)^2", (1 - X) ** 2 + 100 * (Y - X**2) ** 2, ("x", "y")),
        ("x^2^3", X**8, ("x",)),
        ("2*x^-1", 2 / X, ("x",)),
        ("x ^ 2 * y", X**2 * Y, ("x", "y")),
        ("+x - -y", X + Y, ("x", "y")),
        ("pi*y", sympy.pi * Y, ("y",)),
        ("e*x", sympy.E * X, ("x",)),
        ("sqrt(x)", sympy.sqrt(X), ("x",)),
        ("x**0.5", sympy.sqrt(X), ("x",)),
        ("1_000*x", 1000 * X, ("x",)),
        ("x/2/4", X / 8, ("x",)),
        ("1e15*x", 10**15 * X, ("x",)),
        ("x**100", X**100, ("x",)),
        ("  x*y\n", X * Y, ("x", "y")),
        ("x\n+ 1", X + 1, ("x",)),
        ("2**60 + 1 - 2**60 + x", X + 1, ("x",)),
        ("exp(100*log(2*x))", 2**100 * X**100, ("x",)),
        ("((x + 1)*(x - 1))/(x - 1)", X + 1, ("x",)),
    ],
)
def test_accepts_and_builds_the_expected_expression(text, expected, variables):
    parsed = parse_expression(text)
    assert parsed.expr == expected
    assert parsed.variables == variables
    assert parsed.text == text.strip()


@pytest.mark.parametrize(
    ("alias", "name"),
    [("ln", "log"), ("arctan", "atan"), ("arcsin", "asin"), ("arccos", "acos")],
)
def test_function_aliases_build_the_same_function(alias, name):
    assert parse_expression(f"{alias}(x/2)").expr == parse_expression(f"{name}(x/2)").expr


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_allowed_function_parses(name):
    assert parse_expression(f"{name}(x/2)").expr == FUNCTIONS[name](X / 2)


def test_abs_is_sympy_abs():
    assert FUNCTIONS["abs"] is sympy.Abs


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        ("x", ("x",)),
        ("y", ("y",)),
        ("y*x", ("x", "y")),
        ("sin(y) + x", ("x", "y")),
        ("x - x + y", ("y",)),
        ("y**0 * x", ("x",)),
    ],
)
def test_variables_are_those_that_occur_in_x_y_order(text, variables):
    assert parse_expression(text).variables == variables


def test_symbols_are_the_public_real_symbols():
    assert SYMBOLS == {"x": X, "y": Y}
    assert X.is_real and Y.is_real
    assert parse_expression("x*y").expr.free_symbols == {X, Y}


def test_constants_need_allow_constant():
    with pytest.raises(ExpressionError, match="no variable"):
        parse_expression("2^-1")
    parsed = parse_expression("2^-1", allow_constant=True)
    assert parsed.expr == sympy.Rational(1, 2)
    assert parsed.variables == ()
    assert parse_expression("x - x", allow_constant=True).expr == 0


def test_decimal_literal_converts_back_to_the_same_double():
    # 0.1 is built as exactly 1/10, whose float64 rounding is the double the user typed.
    parsed = parse_expression("0.1*x + 0.3*y")
    assert parsed.expr == X / 10 + 3 * Y / 10
    assert float(parsed.expr.subs({X: 1, Y: 0})) == 0.1
    assert float(parse_expression("1e-8", allow_constant=True).expr) == 1e-8
    tiny = parse_expression("2.2250738585072014e-30*x").expr.coeff(X)
    assert float(tiny) == 2.2250738585072014e-30


def test_expression_is_frozen():
    parsed = parse_expression("x")
    assert isinstance(parsed, Expression)
    with pytest.raises(AttributeError):
        parsed.text = "y"  # type: ignore[misc]


# --------------------------------------------------------------------------- derivatives


def test_gradient_of_x2_sin_y():
    parsed = parse_expression("x**2*sin(y)")
    assert gradient(parsed) == (2 * X * sympy.sin(Y), X**2 * sympy.cos(Y))


def test_hessian_of_x2_sin_y():
    parsed = parse_expression("x**2*sin(y)")
    assert hessian(parsed) == (
        (2 * sympy.sin(Y), 2 * X * sympy.cos(Y)),
        (2 * X * sympy.cos(Y), -(X**2) * sympy.sin(Y)),
    )


def test_gradient_follows_variables():
    assert gradient(parse_expression("y**3")) == (3 * Y**2,)
    assert hessian(parse_expression("y**3")) == ((6 * Y,),)
    assert gradient(parse_expression("5", allow_constant=True)) == ()


@pytest.mark.parametrize(
    "text",
    [
        "exp(exp(exp(exp(x))))",
        "sin(x)**100",
        "*".join(f"(x + {i})" for i in range(1, 51)),
        "**".join(["x"] * 20),
        "asin(" * 20 + "x/2" + ")" * 20,
        "(x*y + 1)**100 * (x - y)**100",
    ],
)
def test_derivatives_of_large_valid_expressions_are_computed(text):
    parsed = parse_expression(text)
    first = gradient(parsed)
    assert len(first) == len(parsed.variables)
    assert all(g.free_symbols <= {X, Y} for g in first)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("z", "unknown name 'z'"),
        ("x*foo", "unknown name 'foo'"),
        ("xy", r"unknown name 'xy': write x\*y"),
        ("X", "case-sensitive"),
        ("E*x", "case-sensitive"),
        ("x*y*z", "three or more variables"),
        ("t*s*x", "three or more variables"),
        ("factorial(x)", "function 'factorial' is not allowed; allowed: abs, acos"),
        ("__import__(os)", "function '__import__' is not allowed"),
        ("sign(x)", "function 'sign' is not allowed"),
        ("sin", "function 'sin' must be called"),
        ("x(2)", "'x' is not a function"),
        ("x.real", "attribute access"),
        ("x.__class__", "attribute access"),
        ("sin(x).func", "attribute access"),
        ("x[0]", "subscripts"),
        ("lambda: x", "lambda"),
        ("[x for x in y]", "comprehensions"),
        ("sin(x for x in y)", "comprehensions"),
        ("sin(x=1)", "keyword arguments"),
        ("sin(*x)", "starred"),
        ("'x'", "strings are not allowed"),
        ('"x"', "strings are not allowed"),
        ("b'x'", "strings are not allowed"),
        ("1j*x", "complex numbers"),
        ("x*2J", "complex numbers"),
        ("x < y", "comparisons"),
        ("x == y", "comparisons"),
        ("x in y", "comparisons"),
        ("x and y", "boolean operators"),
        ("not x", "boolean operators"),
        ("x if y else 1", "conditional expressions"),
        ("True*x", "'True' is not allowed"),
        ("None", "'None' is not allowed"),
        ("x, y", "commas"),
        ("[x]", "lists"),
        ("{x}", "sets"),
        ("{x: y}", "dicts"),
        ("(x := 1)", "assignments"),
        ("sin(x, y)", "exactly one argument, got 2"),
        ("sin()", "exactly one argument, got 0"),
        ("(x + 1)(x - 1)", "only named functions can be called"),
        ("2(x)", "only named functions can be called"),
        ("2x", r"implicit multiplication is not supported, write 2\*x"),
        ("3 y", r"write 3\*y"),
        ("1.5e3x", r"write 1.5e3\*x"),
        ("2pi", r"write 2\*pi"),
        ("2e", r"write 2\*e"),
        ("x y", r"column 3: .*a '\*' may be missing"),
        ("sin(x)y", r"a '\*' may be missing"),
        ("1if x else 2", "a space is missing"),
        ("0x1f", "missing operator"),
        ("x // 2", "operator '//' is not allowed; use / for division"),
        ("x % 2", "operator '%'"),
        ("x @ y", "operator '@'"),
        ("x | y", "operator '[|]'"),
        ("x & y", "operator '&'"),
        ("x << 2", "operator '<<'"),
        ("~x", "operator '~'"),
        ("x # comment", "comments"),
        ("x \\\n+ y", "backslashes"),
        ("x\x00", "not allowed"),
        ("x\u00b2", r"write x\*\*2"),
        ("\u03c0*x", "write pi"),
        ("x \u2212 y", "use '-'"),
        ("x +", "incomplete"),
        ("(x + 1", "was never closed"),
        ("sin(x))", "unmatched"),
        ("x^^2", "syntax error at column 3"),
        ("", "empty expression"),
        ("   \t\n", "empty expression"),
        ("7", "no variable"),
        ("pi*e", "no variable"),
        ("x - x", "no variable"),
    ],
)
def test_refuses_with_a_message_naming_the_problem(text, match):
    with pytest.raises(ExpressionError, match=match):
        parse_expression(text)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1/0", "division by zero"),
        ("x/0", "division by zero"),
        ("x/(y - y)", "division by zero"),
        ("0**-1*x", "division by zero"),
        ("tan(pi/2)*x", "division by zero"),
        ("log(0)*x", "not a real number"),
        ("ln(-1)*x", "not a real number"),
        ("sqrt(-2)*x", "not a real number"),
        ("arcsin(2)*x", "not a real number"),
        ("acos(-1.5)*x", "not a real number"),
        ("(-8)**(1/3)*x", "not a real number"),
        ("sqrt(-x**2)", "not a real number"),
        ("exp(1000)*x", "too large"),
        ("cosh(1000)*x", "too large"),
        ("10.0**300*10.0**300*x", "too large"),
    ],
)
def test_refuses_constants_without_a_finite_real_value(text, match):
    with pytest.raises(ExpressionError, match=match):
        parse_expression(text)


def test_refuses_non_text():
    with pytest.raises(ExpressionError, match="must be text"):
        parse_expression(b"x")  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match="must be text"):
        parse_expression(None)  # type: ignore[arg-type]


def test_refusal_points_at_the_original_text():
    # The column refers to what the user typed, although '^' was rewritten to '**'.
    with pytest.raises(ExpressionError, match="column 8"):
        parse_expression("x^2 + 2x")
    with pytest.raises(ExpressionError, match=re.escape("'x^2 // y^3'")):
        parse_expression("x^2 // y^3")


# --------------------------------------------------------------------------- bombs


_BOMBS = {
    "power tower": ("9**9**9", "exponent too large"),
    "power tower caret": ("9^9^9*x", "exponent too large"),
    "huge exponent": ("x**(10**100000)", "exponent too large"),
    "large literal exponent": ("x**1000", r"exponent too large \(limit 100\)"),
    "factorial": ("factorial(10**9)", "function 'factorial' is not allowed"),
    "5000 parentheses": ("(" * 5000 + "x" + ")" * 5000, "too long"),
    "200000-term sum": ("+".join(["x"] * 200_000), "too long"),
    "1000-term sum": ("+".join(["x"] * 1000)[:MAX_TEXT_LENGTH], "too large"),
    "deep parentheses": ("(" * 500 + "x" + ")" * 500, "too deeply nested"),
    "41 parentheses": ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), "deeply nested"),
    "unary chain": ("-" * 1999 + "x", "too deeply nested"),
    "call chain": ("sin(" * 45 + "x" + ")" * 45, "too deeply nested"),
    "power chain": ("**".join(["x"] * 600), "too deeply nested"),
    "infinite literal": ("1e999*x", "too large"),
    "literal above 1e15": ("1e16*x", r"too large \(limit 1e\+15\)"),
    "5000-digit integer": ("1" * 5000, "too long"),
    "1990-digit integer": ("1" * 1990 + "*x", r"number too large"),
    "nan by overflow": ("1e308*10*x", "too large"),
    "tiny literal": ("1e-300*x", "100 digits"),
    "nested powers of a coefficient": ("((x*3**50)**100)**100", "100 digits"),
    "power of a decimal": ("0.9**100*x", "100 digits"),
    "exp-log power": ("exp(1e15*log(2*x))", "exponent too large"),
    "exp-log power underflow": ("exp(1e15*log(0.5))*x", "exponent too large"),
    "e-power of log": ("(e**2)**(1e15*log(2*x))", "exponent too large"),
    "logcombine inside exp": ("exp(y*(1e15*log(2) + 1))", "exponent too large"),
    "exp tower": ("exp(exp(exp(exp(100))))*x", "too large"),
    "cancelled exponent": ("2**(x - x + 10**6)*y", "exponent too large"),
    "merged exponents": ("x**60*x**60", "once powers are combined"),
    "power of a power": ("(x**60)**2", "once powers are combined"),
    "precise exponent": ("x**0.1234567", "fractional exponent too precise"),
    "precise exponent of a number": ("exp(50*log(((1e-7)**1/3)**(1e-7)))", "too precise"),
    "merged roots": ("2**(1/997)*2**(1/998)*x", "too precise"),
    "costly root": ("29999997**-0.001*x", "too costly"),
    "costly root through exp-log": ("exp(100*log(29999997**-0.001))*x", "too costly"),
    "root of a root": ("(2**(1/999)*x)**(1/3)", "too precise"),
}


@pytest.mark.parametrize(("text", "match"), list(_BOMBS.values()), ids=list(_BOMBS))
def test_resource_bombs_are_refused(text, match):
    with pytest.raises(ExpressionError, match=match):
        parse_expression(text)


def test_node_limit_counts_every_part():
    terms = MAX_NODES // 2
    parse_expression("+".join(["x"] * terms))
    with pytest.raises(ExpressionError, match="too large"):
        parse_expression("+".join(["x"] * (terms + 1)))


def test_a_long_sum_is_not_deep():
    # 60 terms nest 60 deep in Python's AST, yet a sum is one level for MAX_DEPTH.
    parsed = parse_expression(" + ".join(f"x**{i % 5}*y" for i in range(60)))
    assert parsed.variables == ("x", "y")


def test_depth_limit_is_exact_for_parentheses():
    parse_expression("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH)


@pytest.mark.parametrize(
    "text",
    [
        "abs(tanh((y**-1.5 + sin(y))**-10))",
        "log(sinh((y**-1.5 + sin(y))**-10))",
        "exp(cosh((y**-1.5 + sin(y))**-10))",
        "abs(cos((y**-1.5 + sin(y))**-10))",
        "abs(tan((y**-1.5 + sin(y))**-10)) + x",
        "sqrt(12**(1/99)*x) + 2**0.001*y",
    ],
)
def test_sympy_assumption_traps_stay_cheap(text):
    # Each of these took sympy from tens of seconds to minutes before the guards; the
    # suite's faulthandler_timeout is what fails here if one comes back.
    parsed = parse_expression(text)
    assert len(gradient(parsed)) == len(parsed.variables)
    hessian(parsed)


# --------------------------------------------------------------------------- derivatives by rule


@pytest.mark.parametrize(
    "text",
    [
        "x**2*sin(y)",
        "exp(x*y)/(1 + x**2)",
        "log(x**2 + 1)*atan(y)",
        "sqrt(x**2 + y**2)",
        "x**y",
        "2**x*e**y",
        "asin(x/2) + acos(y/3) + tan(x*y)",
        "sinh(x) + cosh(y) + tanh(x*y)",
        "(1-x)^2 + 100*(y-x^2)^2",
    ],
)
def test_derivative_matches_sympy_diff(text):
    parsed = parse_expression(text)
    for name, first in zip(parsed.variables, gradient(parsed)):
        reference = sympy.diff(parsed.expr, SYMBOLS[name])
        difference = (first - reference).rewrite(sympy.exp)
        assert first == reference or sympy.simplify(difference) == 0


def test_derivative_of_abs_is_sign_and_of_sign_is_zero():
    parsed = parse_expression("abs(x)*y")
    assert gradient(parsed) == (sympy.sign(X) * Y, sympy.Abs(X))
    assert hessian(parsed) == ((0, sympy.sign(X)), (sympy.sign(X), 0))
    assert derivative(sympy.sign(X), X) == 0


def test_hyperbolic_functions_keep_their_names_and_derivatives():
    for name in ("sinh", "cosh", "tanh"):
        expr = parse_expression(f"{name}(x)").expr
        assert isinstance(expr, getattr(sympy, name))
        assert to_text(expr) == f"{name}(x)"
        assert float(expr.subs(X, 0.5)) == pytest.approx(getattr(math, name)(0.5))
    assert derivative(FUNCTIONS["sinh"](X), X) == FUNCTIONS["cosh"](X)
    assert derivative(FUNCTIONS["cosh"](X), X) == FUNCTIONS["sinh"](X)
    assert derivative(FUNCTIONS["tanh"](X), X) == 1 - FUNCTIONS["tanh"](X) ** 2


# --------------------------------------------------------------------------- to_text


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (2 * X * sympy.sin(Y), "2*x*sin(y)"),
        (sympy.exp(X), "exp(x)"),
        (sympy.E * X, "e*x"),
        (sympy.Abs(X), "abs(x)"),
        (X**2 + Y**2, "x**2 + y**2"),
        (X / 10, "x/10"),
        (sympy.sqrt(X), "sqrt(x)"),
        (sympy.atan(X), "atan(x)"),
    ],
)
def test_to_text_examples(expr, text):
    assert to_text(expr) == text


@pytest.mark.parametrize(
    "expr",
    [
        2**100 * X,
        -(2**60) * X + Y,
        X / 3**40,
        X**2 * sympy.Rational(10**20 + 1, 10**20),
        sympy.Rational(-(10**40) - 7, 3) * sympy.exp(Y),
    ],
)
def test_to_text_writes_big_integers_exactly(expr):
    text = to_text(expr)
    assert parse_expression(text).expr == expr


def test_to_text_of_gradient_is_readable():
    parsed = parse_expression("x^2*sin(y) + abs(y)")
    assert [to_text(g) for g in gradient(parsed)] == ["2*x*sin(y)", "x**2*cos(y) + sign(y)"]


# --------------------------------------------------------------------------- safety of the module


def test_module_never_calls_code_evaluating_functions():
    tree = ast.parse(inspect.getsource(expressions))
    forbidden = {"eval", "exec", "sympify", "parse_expr", "lambdify", "S", "__import__"}
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                called.add(func.id)
                assert func.id != "compile"
            elif isinstance(func, ast.Attribute):
                called.add(func.attr)
    assert not called & forbidden


def test_hostile_symbol_names_never_reach_sympy():
    # lambdify executes code hidden in a symbol name; only x and y can ever be symbols.
    for text in ["x*__import__", "x*os", "x*y*system"]:
        with pytest.raises(ExpressionError):
            parse_expression(text)


# --------------------------------------------------------------------------- properties

# A generated expression is its text, a reference evaluator written independently with the
# math module, the variables named in the text, and an upper bound on its AST depth. The
# evaluator runs on dual numbers, so one call gives the value and both partial derivatives.


class _Dual:
    """A value with its partial derivatives in x and y (forward-mode differentiation)."""

    # Largest magnitude seen in the current evaluation: float64 rounding errors scale with
    # it, so it sets the tolerance of the comparison.
    scale = 0.0
    # abs of a float that is 0: a kink, or a value that only rounded to 0 (log(1 + 1e-252)),
    # where the exact derivative the parser's gradient gets (evaluated at 30 digits) and
    # this float one may differ; such points are not compared
    kink = False

    def __init__(self, value: float, dx: float = 0.0, dy: float = 0.0) -> None:
        self.value, self.dx, self.dy = value, dx, dy
        _Dual.scale = max(_Dual.scale, abs(value), abs(dx), abs(dy))

    @staticmethod
    def lift(other: _Dual | float) -> _Dual:
        return other if isinstance(other, _Dual) else _Dual(float(other))

    def chain(self, value: float, slope: float) -> _Dual:
        return _Dual(value, slope * self.dx, slope * self.dy)

    def __add__(self, other: _Dual | float) -> _Dual:
        o = _Dual.lift(other)
        return _Dual(self.value + o.value, self.dx + o.dx, self.dy + o.dy)

    __radd__ = __add__

    def __neg__(self) -> _Dual:
        return _Dual(-self.value, -self.dx, -self.dy)

    def __sub__(self, other: _Dual | float) -> _Dual:
        return self + -_Dual.lift(other)

    def __mul__(self, other: _Dual | float) -> _Dual:
        o = _Dual.lift(other)
        return _Dual(
            self.value * o.value,
            self.dx * o.value + self.value * o.dx,
            self.dy * o.value + self.value * o.dy,
        )

    __rmul__ = __mul__

    def __truediv__(self, other: _Dual | float) -> _Dual:
        o = _Dual.lift(other)
        return self * o.chain(1.0 / o.value, -1.0 / o.value**2)

    def __pow__(self, power: int) -> _Dual:
        if power == 0:
            return _Dual(1.0)
        return self.chain(self.value**power, power * self.value ** (power - 1))


class _M:
    """The functions the templates use, on dual numbers, written with the math module."""

    @staticmethod
    def sin(a: _Dual) -> _Dual:
        return a.chain(math.sin(a.value), math.cos(a.value))

    @staticmethod
    def cos(a: _Dual) -> _Dual:
        return a.chain(math.cos(a.value), -math.sin(a.value))

    @staticmethod
    def tan(a: _Dual) -> _Dual:
        return a.chain(math.tan(a.value), 1.0 / math.cos(a.value) ** 2)

    @staticmethod
    def atan(a: _Dual) -> _Dual:
        return a.chain(math.atan(a.value), 1.0 / (1.0 + a.value**2))

    @staticmethod
    def tanh(a: _Dual) -> _Dual:
        return a.chain(math.tanh(a.value), 1.0 - math.tanh(a.value) ** 2)

    @staticmethod
    def sinh(a: _Dual) -> _Dual:
        return a.chain(math.sinh(a.value), math.cosh(a.value))

    @staticmethod
    def cosh(a: _Dual) -> _Dual:
        return a.chain(math.cosh(a.value), math.sinh(a.value))

    @staticmethod
    def abs(a: _Dual) -> _Dual:
        if a.value == 0:
            _Dual.kink = True
        return a.chain(abs(a.value), (a.value > 0) - (a.value < 0))

    @staticmethod
    def exp(a: _Dual) -> _Dual:
        return a.chain(math.exp(a.value), math.exp(a.value))

    @staticmethod
    def sqrt(a: _Dual) -> _Dual:
        return a.chain(math.sqrt(a.value), 0.5 / math.sqrt(a.value))

    @staticmethod
    def log(a: _Dual) -> _Dual:
        return a.chain(math.log(a.value), 1.0 / a.value)

    @staticmethod
    def asin(a: _Dual) -> _Dual:
        return a.chain(math.asin(a.value), 1.0 / math.sqrt(1.0 - a.value**2))

    @staticmethod
    def acos(a: _Dual) -> _Dual:
        return a.chain(math.acos(a.value), -1.0 / math.sqrt(1.0 - a.value**2))


_Eval = Callable[[_Dual, _Dual], _Dual]
_Tree = tuple[str, _Eval, frozenset[str], int]

_DECIMALS = ["0.5", "0.25", "1.5", "2.5", "0.1", ".5", "1e-1", "2e0", "0.75"]


def _constant(value: float) -> _Eval:
    return lambda x, y: _Dual(value)


def _leaves() -> st.SearchStrategy[_Tree]:
    return st.one_of(
        st.just(("x", lambda x, y: x, frozenset("x"), 1)),
        st.just(("y", lambda x, y: y, frozenset("y"), 1)),
        st.integers(0, 9).map(lambda n: (str(n), _constant(float(n)), frozenset(), 1)),
        st.sampled_from(_DECIMALS).map(lambda t: (t, _constant(float(t)), frozenset(), 1)),
        st.just(("pi", _constant(math.pi), frozenset(), 1)),
        st.just(("e", _constant(math.e), frozenset(), 1)),
    )


# (template, reference); the templates keep every argument inside its function's domain.
_WRAPPERS: list[tuple[str, Callable[[_Dual], _Dual]]] = [
    ("-({})", lambda a: -a),
    ("+({})", lambda a: a),
    ("sin({})", _M.sin),
    ("cos({})", _M.cos),
    ("atan({})", _M.atan),
    ("arctan({})", _M.atan),
    ("tanh({})", _M.tanh),
    ("abs({})", _M.abs),
    ("tan(tanh({}))", lambda a: _M.tan(_M.tanh(a))),
    ("exp(sin({}))", lambda a: _M.exp(_M.sin(a))),
    ("e^cos({})", lambda a: _M.exp(_M.cos(a))),
    ("sqrt(2 + ({})**2)", lambda a: _M.sqrt(2 + a**2)),
    ("log(1 + abs({}))", lambda a: _M.log(1 + _M.abs(a))),
    ("ln(3 + ({})^2)", lambda a: _M.log(3 + a**2)),
    ("asin(tanh({})/2)", lambda a: _M.asin(_M.tanh(a) / 2)),
    ("arccos(tanh({})/2)", lambda a: _M.acos(_M.tanh(a) / 2)),
    ("sinh(tanh({}))", lambda a: _M.sinh(_M.tanh(a))),
    ("cosh(tanh({}))", lambda a: _M.cosh(_M.tanh(a))),
    ("({})^2", lambda a: a**2),
    ("({})**3", lambda a: a**3),
    ("({})**0", lambda a: a**0),
]
_OPERATORS: list[tuple[str, Callable[[_Dual, _Dual], _Dual]]] = [
    ("({}) + ({})", lambda a, b: a + b),
    ("({}) - ({})", lambda a, b: a - b),
    ("({})*({})", lambda a, b: a * b),
    ("({})/(1 + ({})**2)", lambda a, b: a / (1 + b**2)),
    ("({})/(2 + cos({}))", lambda a, b: a / (2 + _M.cos(b))),
]
# Each wrapper or operator adds at most this many AST levels.
_LEVELS_PER_STEP = 4


def _wrapped(evaluate: _Eval, op: Callable[[_Dual], _Dual]) -> _Eval:
    return lambda x, y: op(evaluate(x, y))


def _combined(left: _Eval, right: _Eval, op: Callable[[_Dual, _Dual], _Dual]) -> _Eval:
    return lambda x, y: op(left(x, y), right(x, y))


def _extend(children: st.SearchStrategy[_Tree]) -> st.SearchStrategy[_Tree]:
    def wrap(item: tuple[_Tree, tuple[str, Callable[[_Dual], _Dual]]]) -> _Tree:
        (text, evaluate, names, depth), (template, op) = item
        if depth + _LEVELS_PER_STEP > MAX_DEPTH:
            return text, evaluate, names, depth
        return template.format(text), _wrapped(evaluate, op), names, depth + _LEVELS_PER_STEP

    def combine(item: tuple[_Tree, _Tree, tuple[str, Callable[[_Dual, _Dual], _Dual]]]) -> _Tree:
        (ta, ea, na, da), (tb, eb, nb, db), (template, op) = item
        depth = max(da, db) + _LEVELS_PER_STEP
        if depth > MAX_DEPTH:
            return ta, ea, na, da
        return template.format(ta, tb), _combined(ea, eb, op), na | nb, depth

    return st.one_of(
        st.tuples(children, st.sampled_from(_WRAPPERS)).map(wrap),
        st.tuples(children, children, st.sampled_from(_OPERATORS)).map(combine),
    )


_TREES = st.recursive(_leaves(), _extend, max_leaves=10)
_POINTS = st.lists(
    st.tuples(
        st.floats(-3, 3, allow_nan=False, allow_infinity=False),
        st.floats(-3, 3, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=3,
)


def _reference(evaluate: _Eval, x: float, y: float) -> tuple[_Dual, float] | None:
    _Dual.scale = 0.0
    _Dual.kink = False
    try:
        result = evaluate(_Dual(x, 1.0, 0.0), _Dual(y, 0.0, 1.0))
    except (ArithmeticError, ValueError):
        return None
    if _Dual.kink:
        return None
    scale = _Dual.scale
    if not math.isfinite(scale) or scale > 1e12:
        return None
    return result, scale


def _evaluate(expr: sympy.Expr, x: float, y: float) -> complex:
    return complex(expr.evalf(30, subs={X: x, Y: y}))


@settings(max_examples=200, deadline=None)
@given(tree=_TREES, points=_POINTS)
def test_random_valid_expressions_match_an_independent_evaluation(tree, points):
    text, evaluate, names, _ = tree
    parsed = parse_expression(text, allow_constant=True)
    assert set(parsed.variables) <= names
    assert parsed.expr.free_symbols <= {X, Y}
    first = dict(zip(parsed.variables, gradient(parsed)))
    for x, y in points:
        reference = _reference(evaluate, x, y)
        if reference is None:
            continue
        expected, scale = reference
        tolerance = 1e-9 * (1 + scale)
        actual = _evaluate(parsed.expr, x, y)
        assert abs(actual.imag) <= tolerance
        assert abs(actual.real - expected.value) <= tolerance, (text, x, y)
        for name, slope in (("x", expected.dx), ("y", expected.dy)):
            got = _evaluate(first[name], x, y).real if name in first else 0.0
            assert abs(got - slope) <= 1e-7 * (1 + scale), (text, name, x, y)


@settings(max_examples=50, deadline=None)
@given(tree=_TREES, point=_POINTS)
def test_hessian_is_symmetric(tree, point):
    parsed = parse_expression(tree[0], allow_constant=True)
    second = hessian(parsed)
    if len(second) == 2:
        for x, y in point:
            upper, lower = _evaluate(second[0][1], x, y), _evaluate(second[1][0], x, y)
            assert abs(upper - lower) <= 1e-6 * (1 + abs(upper))


@settings(max_examples=200, deadline=None)
@given(tree=_TREES)
def test_to_text_round_trips(tree):
    parsed = parse_expression(tree[0], allow_constant=True)
    again = parse_expression(to_text(parsed.expr), allow_constant=True)
    assert again.expr == parsed.expr or sympy.simplify(again.expr - parsed.expr) == 0


def _parse_or_refuse(text: str, allow_constant: bool) -> None:
    try:
        parsed = parse_expression(text, allow_constant=allow_constant)
    except ExpressionError as exc:
        assert str(exc)
        return
    assert parsed.expr.free_symbols <= {X, Y}
    assert parsed.variables or allow_constant


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200), allow_constant=st.booleans())
def test_arbitrary_text_is_parsed_or_refused(text, allow_constant):
    _parse_or_refuse(text, allow_constant)


_TOKENS = [
    "x", "y", "z", "e", "pi", "0", "1", "2", "9", "10", "100", "2.5", ".5", "1e5", "1e-8",
    "1e15", "1e16", "1e300", "9**9", "+", "-", "*", "/", "**", "^", "(", ")", ",", " ", ".",
    "sin", "log", "exp", "sqrt", "abs", "asin", "tan", "ln", "cosh", "foo", "=", "[", "]",
    "j", "if", "lambda", ":", "not", "<", "@", "%", "~", "_",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(st.sampled_from(_TOKENS), max_size=40),
    allow_constant=st.booleans(),
)
def test_token_soup_is_parsed_or_refused(tokens, allow_constant):
    _parse_or_refuse("".join(tokens), allow_constant)
