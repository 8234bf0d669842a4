"""Safe parsing of typed functions of ``x`` and ``y`` into sympy expressions.

The text of a typed function also arrives inside shared session files, so this module is
the application's attack surface. It never hands user text to ``eval``, ``exec``,
``sympify``, ``parse_expr`` or ``lambdify``: the text is parsed with
``ast.parse(..., mode="eval")``, every node is checked against an allowlist, and the sympy
expression is built node by node from ``X``, ``Y`` and the functions in ``FUNCTIONS``.

Grammar
-------
Numbers (``3``, ``2.5``, ``.5``, ``1e-8``), the variables ``x`` and ``y``, the constants
``pi`` and ``e``, the binary operators ``+ - * / **`` (``^`` is accepted as a synonym of
``**``, with the precedence of ``**``), unary ``-`` and ``+``, parentheses, and calls of the
one-argument functions in ``FUNCTIONS``. Everything else is refused with an
``ExpressionError`` whose message names the problem.

Number literals
---------------
An integer literal becomes ``sympy.Integer``. A decimal literal becomes the exact
``sympy.Rational`` of the shortest decimal string that round-trips its float64 value
(``repr(float)``): ``0.1`` becomes ``1/10``. Converting that rational back to float64 gives
the very same double the user typed, derivatives stay exact, and ``to_text`` prints
``x/10`` rather than ``0.100000000000000*x``.

Limits
------
``MAX_TEXT_LENGTH``, ``MAX_NODES``, ``MAX_DEPTH``, ``MAX_LITERAL``, ``MAX_EXPONENT``,
``MAX_EXPONENT_DENOMINATOR``, ``MAX_ROOT_BITS`` and ``MAX_CONSTANT_DIGITS`` bound the work
any input can cause. sympy evaluates powers of numbers eagerly: ``9**9**9`` would never
finish, nor would ``exp(10**15*log(2*x))``, which sympy turns into ``(2*x)**(10**15)``, nor
``30000000**(-1/10**6)``, whose exact roots it looks for. So exponents are checked *before*
the sympy node is built. Every constant sub-expression is also evaluated in float64 as it
is built, so division by zero, overflow and values that are not real are refused where
they appear.

Derivatives
-----------
Use ``gradient``, ``hessian`` or ``derivative``, not ``sympy.diff``: on valid input such as
``abs(cos((y**-1.5 + sin(y))**-10))``, ``sympy.diff`` spends minutes in assumption queries.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import sympy
from sympy.core.function import ArgumentIndexError
from sympy.printing.str import StrPrinter

from gd_explorer.core.limits import MAX_TEXT_LENGTH

__all__ = [
    "FUNCTIONS",
    "MAX_CONSTANT_DIGITS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_EXPONENT_DENOMINATOR",
    "MAX_LITERAL",
    "MAX_NODES",
    "MAX_ROOT_BITS",
    "MAX_TEXT_LENGTH",
    "SYMBOLS",
    "X",
    "Y",
    "Expression",
    "ExpressionError",
    "derivative",
    "gradient",
    "hessian",
    "parse_expression",
    "to_text",
]

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)
SYMBOLS: dict[str, sympy.Symbol] = {"x": X, "y": Y}


# sympy asks sinh, cosh and tanh whether they are real (every diff, Abs, log or exp of them
# does) by expanding the real and imaginary parts of their argument; for an argument such as
# (y**-1.5 + sin(y))**-10, which is not known to be real, that takes minutes. These
# subclasses answer from the argument alone. They keep sympy's names, so printers and
# lambdify treat them as sinh, cosh and tanh; they differentiate into each other.
class sinh(sympy.sinh):
    """``sympy.sinh`` with realness decided from the argument alone."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return cosh(self.args[0])

    def _eval_is_real(self) -> bool | None:
        return True if self.args[0].is_real else None


class cosh(sympy.cosh):
    """``sympy.cosh`` with realness and sign decided from the argument alone."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sinh(self.args[0])

    def _eval_is_real(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _eval_is_positive(self) -> bool | None:
        return True if self.args[0].is_extended_real else None

    def _eval_is_nonnegative(self) -> bool | None:
        return True if self.args[0].is_extended_real else None


class tanh(sympy.tanh):
    """``sympy.tanh`` with realness and finiteness decided from the argument alone."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return 1 - tanh(self.args[0]) ** 2

    def _eval_is_real(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _eval_is_finite(self) -> bool | None:
        return True if self.args[0].is_extended_real else None


FUNCTIONS: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "tanh": tanh,
    "sinh": sinh,
    "cosh": cosh,
    "arctan": sympy.atan,
    "atan": sympy.atan,
    "arcsin": sympy.asin,
    "asin": sympy.asin,
    "arccos": sympy.acos,
    "acos": sympy.acos,
}

# MAX_TEXT_LENGTH (longest accepted text, checked before anything else looks at it) is
# the one text limit of gd_explorer.core.limits.
#: Most numbers, names, operators and calls in one expression.
MAX_NODES = 400
#: Deepest nesting of parentheses, calls, powers and unary signs. A run of ``+``/``-`` (or
#: of ``*``/``/``) counts as one level, so a long polynomial is not "deep".
MAX_DEPTH = 40
#: Largest magnitude of a number literal in the text.
MAX_LITERAL = 1e15
#: Largest magnitude of an exponent that is a numeric constant, and of the coefficient of a
#: ``log`` inside an exponent (``exp(c*log(u))`` is ``u**c`` to sympy).
MAX_EXPONENT = 100
#: Most decimal digits of the numerator or denominator of any exact rational constant.
MAX_CONSTANT_DIGITS = 100
#: Largest denominator of a fractional exponent (``x**0.125`` is ``x**(1/8)``). sympy looks
#: for exact roots of numbers, e.g. ``30000000**(-1/10**6)``, with work that grows with it.
MAX_EXPONENT_DENOMINATOR = 1000
#: Bound on ``q * log2(n)`` for a fractional power ``n**(p/q)`` of a number. sympy extracts
#: exact roots through integers as large as ``n**(q-1)`` and tests them for primality.
MAX_ROOT_BITS = 1024

_CONSTANTS: dict[str, tuple[sympy.Expr, float]] = {"pi": (sympy.pi, math.pi), "e": (sympy.E, math.e)}

_FLOAT_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
    "tanh": math.tanh,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "arctan": math.atan,
    "atan": math.atan,
    "arcsin": math.asin,
    "asin": math.asin,
    "arccos": math.acos,
    "acos": math.acos,
}

_ALLOWED_FUNCTIONS_TEXT = ", ".join(sorted(FUNCTIONS))
_DIGIT_BOUND = 10**MAX_CONSTANT_DIGITS
_WHITESPACE = " \t\n\r\f\v"
_WORD = re.compile(r"[A-Za-z_]\w*")
_NUMBER = re.compile(r"(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?")
_CHARACTER_HINTS = {
    "\u00b2": "write x**2",
    "\u00b3": "write x**3",
    "\u03c0": "write pi",
    "\u2212": "use '-'",
    "\u00d7": "use '*'",
    "\u00b7": "use '*'",
    "\u22c5": "use '*'",
    "\u00f7": "use '/'",
}
_NODE_MESSAGES: dict[type, str] = {
    ast.Attribute: "attribute access ('.name') is not allowed",
    ast.Subscript: "subscripts ('[...]') are not allowed",
    ast.Slice: "subscripts ('[...]') are not allowed",
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "boolean operators ('and', 'or', 'not') are not allowed",
    ast.IfExp: "conditional expressions ('... if ... else ...') are not allowed",
    ast.Tuple: "commas are only allowed between function arguments; write one expression",
    ast.List: "lists are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.NamedExpr: "assignments (':=') are not allowed",
    ast.Starred: "starred expressions ('*args') are not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.FormattedValue: "strings are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}
_OPERATOR_TEXT: dict[type, str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}


class ExpressionError(ValueError):
    """A typed expression was refused; the message says why in plain words."""


@dataclass(frozen=True)
class Expression:
    """A parsed, validated function of ``x`` and/or ``y``.

    Attributes
    ----------
    text : str
        The user's text, stripped of surrounding whitespace.
    expr : sympy.Expr
        The expression, built from ``X``, ``Y`` and the functions in ``FUNCTIONS``.
    variables : tuple of str
        The variables the expression depends on, in ``x``, ``y`` order: ``("x",)``,
        ``("y",)``, ``("x", "y")``, or ``()`` for a constant.
    """

    text: str
    expr: sympy.Expr
    variables: tuple[str, ...]


@dataclass(frozen=True)
class _Built:
    expr: sympy.Expr
    # The float64 value when ``expr`` is a number (no x or y), else None.
    value: float | None


def parse_expression(text: str, *, allow_constant: bool = False) -> Expression:
    """Parse a typed function of ``x`` and ``y`` without evaluating any code.

    Parameters
    ----------
    text : str
        What the user typed, e.g. ``"x^2*sin(y)"`` or ``"(1-x)^2 + 100*(y-x^2)^2"``.
    allow_constant : bool, optional
        Accept an expression that depends on neither variable (default False).

    Returns
    -------
    Expression
        The stripped text, the sympy expression and the variables that occur in it.

    Raises
    ------
    ExpressionError
        If the text is empty, too long or too complex, uses anything outside the grammar
        described in the module docstring, or denotes a constant that is infinite, undefined,
        not real or too large (``1/0``, ``log(-1)``, ``9**9**9``).

    Examples
    --------
    >>> parse_expression("100*x - x^2").variables
    ('x',)
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}")
    # Checked before anything else touches the text, so no step below sees a huge input.
    if len(text) > MAX_TEXT_LENGTH:
        raise ExpressionError(f"expression too long: {len(text)} characters (limit {MAX_TEXT_LENGTH})")
    stripped = text.strip(_WHITESPACE)
    if not stripped:
        raise ExpressionError("empty expression: type a function of x and y, e.g. x**2 + y**2")
    source = _Source(stripped)
    tree = source.parse()
    _check_size(tree, source)
    _check_names(tree, source)
    try:
        built = _Builder(source).build(tree.body)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError, RecursionError) as exc:
        # Not expected from any input the fuzz tests found; a message beats a crash here.
        raise ExpressionError(f"cannot interpret the expression ({type(exc).__name__}: {exc})") from exc
    free = built.expr.free_symbols
    variables = tuple(name for name, symbol in SYMBOLS.items() if symbol in free)
    if not variables and not allow_constant:
        raise ExpressionError("no variable: the expression must depend on x or y (e.g. x**2 + y**2)")
    return Expression(text=stripped, expr=built.expr, variables=variables)


def gradient(e: Expression) -> tuple[sympy.Expr, ...]:
    """Partial derivatives of an expression with respect to its variables.

    The derivatives are taken by the chain rule directly (see ``derivative``) rather than
    by ``sympy.diff``, whose assumption queries can take minutes on valid input.

    Parameters
    ----------
    e : Expression
        A parsed expression.

    Returns
    -------
    tuple of sympy.Expr
        ``d e.expr / d v`` for each ``v`` in ``e.variables``, in that order.
    """
    return tuple(derivative(e.expr, SYMBOLS[name]) for name in e.variables)


def hessian(e: Expression) -> tuple[tuple[sympy.Expr, ...], ...]:
    """Second partial derivatives of an expression with respect to its variables.

    Parameters
    ----------
    e : Expression
        A parsed expression.

    Returns
    -------
    tuple of tuple of sympy.Expr
        Row ``i``, column ``j`` holds ``d2 e.expr / (d v_i d v_j)`` for ``v`` in
        ``e.variables``.
    """
    return tuple(tuple(derivative(g, SYMBOLS[name]) for name in e.variables) for g in gradient(e))


def derivative(expr: sympy.Expr, variable: sympy.Symbol) -> sympy.Expr:
    """Derivative of a parsed expression (or of one of its derivatives) by the chain rule.

    ``sympy.diff`` asks whether the result is zero, and for an argument that is not known to
    be real (``sqrt``, ``log`` or a negative power of a sum) that question can expand it
    into real and imaginary parts for minutes; ``diff(abs(u))`` always does so. This
    function builds the same derivative from the sum, product, power and chain rules
    without such questions, with ``d abs(u) = sign(u) du`` and ``d sign(u) = 0`` (true
    wherever ``u != 0``, which is what a gradient method can use).

    Parameters
    ----------
    expr : sympy.Expr
        An expression built by ``parse_expression``, or a derivative of one.
    variable : sympy.Symbol
        ``X`` or ``Y``.

    Returns
    -------
    sympy.Expr
        The derivative.
    """
    return _Differentiator(variable).derivative(expr)


def to_text(expr: sympy.Expr) -> str:
    """Readable text for an expression, written in the grammar ``parse_expression`` reads.

    Powers use ``**``, Euler's number is ``e`` and the absolute value is ``abs``, e.g.
    ``"2*x*sin(y)"``. For expressions produced by ``parse_expression`` the text parses back
    to an equal expression, as long as it stays within the parser's limits. Integers beyond
    ``MAX_LITERAL`` are written as exact sums such as ``(1*10**15 + 5)``. Derivatives may
    contain functions outside ``FUNCTIONS`` (``sign`` from ``abs``); they are printed by
    name but do not parse back.

    Parameters
    ----------
    expr : sympy.Expr
        The expression to print.

    Returns
    -------
    str
        The text.
    """
    return _TextPrinter().doprint(expr)


class _Source:
    """The stripped text, its parseable form and the map between their columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        chars: list[str] = []
        # origin[i] is the index in ``text`` of character i of ``code``; the sentinel maps
        # the end of ``code`` to the end of ``text``.
        origin: list[int] = []
        for index, char in enumerate(text):
            self._check_character(char, index)
            if char == "^":
                # Replacing the token (rather than mapping ast.BitXor to a power) keeps the
                # precedence of a power: Python reads x^2*y as x ^ (2*y).
                chars += "**"
                origin += [index, index]
            else:
                chars.append(" " if char in _WHITESPACE else char)
                origin.append(index)
        origin.append(len(text))
        self.code = "".join(chars)
        self.origin = origin

    @staticmethod
    def _check_character(char: str, index: int) -> None:
        column = index + 1
        if char in "'\"":
            raise ExpressionError(f"strings are not allowed (quote at column {column})")
        if char == "#":
            raise ExpressionError(f"comments ('#') are not allowed (column {column})")
        if char == "\\":
            raise ExpressionError(f"backslashes are not allowed (column {column})")
        if char in _WHITESPACE or " " <= char <= "~":
            return
        hint = _CHARACTER_HINTS.get(char)
        message = f"character {char!r} at column {column} is not allowed"
        raise ExpressionError(f"{message}: {hint}" if hint else message)

    def column(self, code_index: int) -> int:
        """1-based column in the user's text of an index into ``code``."""
        code_index = min(max(code_index, 0), len(self.origin) - 1)
        return self.origin[code_index] + 1

    def segment(self, node: ast.AST) -> str:
        """The user's text of a node, shortened for messages."""
        start = self.origin[min(node.col_offset, len(self.origin) - 1)]
        end_index = min(max(node.end_col_offset - 1, 0), len(self.origin) - 2)
        piece = " ".join(self.text[start : self.origin[end_index] + 1].split())
        return piece if len(piece) <= 40 else piece[:37] + "..."

    def parse(self) -> ast.Expression:
        self._check_implicit_multiplication()
        self._check_parentheses()
        try:
            return ast.parse(self.code, mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(self._syntax_message(exc)) from None
        except (RecursionError, MemoryError):
            raise ExpressionError("expression too deeply nested") from None
        except ValueError as exc:
            raise ExpressionError(f"syntax error: {exc}") from None

    def _check_implicit_multiplication(self) -> None:
        # Python reads "2x" as a malformed number and "1if" only with a warning, so name the
        # real problem before the parser does.
        code, index = self.code, 0
        while index < len(code):
            char = code[index]
            if char.isalpha() or char == "_":
                index = _WORD.match(code, index).end()
                continue
            starts_number = char.isdigit() or (
                char == "." and index + 1 < len(code) and code[index + 1].isdigit()
            )
            if not starts_number:
                index += 1
                continue
            number = _NUMBER.match(code, index)
            after = number.end()
            while after < len(code) and code[after] == " ":
                after += 1
            word = _WORD.match(code, after)
            adjacent = after == number.end()
            if word and (adjacent or not keyword.iskeyword(word.group())):
                left, right = number.group(), word.group()
                column = self.column(after)
                if adjacent and right in ("j", "J"):
                    raise ExpressionError(
                        f"complex numbers are not allowed ('{left}{right}' at column {self.column(index)})"
                    )
                if keyword.iskeyword(right):
                    raise ExpressionError(
                        f"a space is missing between '{left}' and '{right}' at column {column}"
                    )
                raise ExpressionError(
                    f"missing operator between '{left}' and '{right}' at column {column}: "
                    f"implicit multiplication is not supported, write {left}*{right}"
                )
            index = number.end()

    def _check_parentheses(self) -> None:
        depth = 0
        for index, char in enumerate(self.code):
            if char in "([{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise ExpressionError(
                        f"expression too deeply nested: more than {MAX_DEPTH} levels of "
                        f"parentheses (column {self.column(index)})"
                    )
            elif char in ")]}":
                depth -= 1

    def _syntax_message(self, exc: SyntaxError) -> str:
        reason = exc.msg or "invalid syntax"
        if "nested" in reason or "too complex" in reason:
            return "expression too deeply nested"
        offset = exc.offset or 0
        if offset < 1 or offset > len(self.code):
            return f"syntax error: the expression is incomplete ({reason})"
        index = offset - 1
        before = self.code[:index].rstrip()
        if (
            before
            and (before[-1].isalnum() or before[-1] in "_.)")
            and (self.code[index].isalnum() or self.code[index] in "_.(")
        ):
            reason += "; a '*' may be missing (implicit multiplication is not supported)"
        return f"syntax error at column {self.column(index)}: {reason}"


def _chain_kind(op: ast.operator) -> str | None:
    if isinstance(op, (ast.Add, ast.Sub)):
        return "sum"
    if isinstance(op, (ast.Mult, ast.Div)):
        return "product"
    return None


def _same_chain(parent: ast.AST, child: ast.AST) -> bool:
    return (
        isinstance(parent, ast.BinOp)
        and isinstance(child, ast.BinOp)
        and child is parent.left
        and _chain_kind(parent.op) is not None
        and _chain_kind(parent.op) == _chain_kind(child.op)
    )


def _check_size(tree: ast.Expression, source: _Source) -> None:
    # Iterative on purpose: the builder recurses, so depth must be bounded before it runs.
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"expression too large: more than {MAX_NODES} numbers, names and operators")
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression too deeply nested: more than {MAX_DEPTH} levels "
                f"(near column {source.column(node.col_offset)})"
            )
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                stack.append((child, depth if _same_chain(node, child) else depth + 1))


def _check_names(tree: ast.Expression, source: _Source) -> None:
    """Refuse a third variable with its own message, before any other name problem."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called]
    names.sort(key=lambda node: node.col_offset)
    used = {node.id for node in names}
    letters = [name for name in SYMBOLS if name in used]
    for node in names:
        lowered = node.id.lower()
        if len(node.id) == 1 and lowered not in SYMBOLS and lowered not in _CONSTANTS:
            if node.id not in letters:
                letters.append(node.id)
    if len(letters) >= 3:
        raise ExpressionError(f"three or more variables ({', '.join(letters)}): only x and y are supported")


class _Builder:
    """Builds the sympy expression from allowlisted AST nodes."""

    def __init__(self, source: _Source) -> None:
        self.source = source

    def refuse(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(f"{message}: '{self.source.segment(node)}'")

    def build(self, node: ast.AST) -> _Built:
        if isinstance(node, ast.BinOp):
            kind = _chain_kind(node.op)
            if kind is not None:
                return self._chain(node, kind)
            if isinstance(node.op, ast.Pow):
                return self._power(node)
            symbol = _OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)
            hint = "; use / for division" if symbol == "//" else ""
            raise self.refuse(f"operator '{symbol}' is not allowed{hint}", node)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant):
            return self._number(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        message = _NODE_MESSAGES.get(type(node), f"'{type(node).__name__}' is not allowed")
        raise self.refuse(message, node)

    def _name(self, node: ast.Name) -> _Built:
        name = node.id
        if name in SYMBOLS:
            return _Built(SYMBOLS[name], None)
        if name in _CONSTANTS:
            expr, value = _CONSTANTS[name]
            return _Built(expr, value)
        if name in FUNCTIONS:
            raise self.refuse(f"function '{name}' must be called with one argument, e.g. {name}(x)", node)
        if name.lower() in SYMBOLS or name.lower() in _CONSTANTS:
            raise ExpressionError(f"unknown name '{name}': names are case-sensitive, write {name.lower()}")
        if len(name) == 1:
            raise ExpressionError(f"unknown name '{name}': use x and y (only two variables are supported)")
        if set(name) <= {"x", "y"}:
            raise ExpressionError(f"unknown name '{name}': write {'*'.join(name)} for a product")
        raise ExpressionError(
            f"unknown name '{name}': use x and y, the constants pi and e, "
            f"and the functions {_ALLOWED_FUNCTIONS_TEXT}"
        )

    def _number(self, node: ast.Constant) -> _Built:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.refuse(f"'{value!r}' is not allowed", node)
        if isinstance(value, (str, bytes)):
            raise self.refuse("strings are not allowed", node)
        if isinstance(value, complex):
            raise self.refuse("complex numbers are not allowed", node)
        if isinstance(value, int):
            if abs(value) > MAX_LITERAL:
                raise self.refuse(f"number too large (limit {MAX_LITERAL:g})", node)
            expr: sympy.Expr = sympy.Integer(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise self.refuse("number too large (it is infinite in float64)", node)
            if abs(value) > MAX_LITERAL:
                raise self.refuse(f"number too large (limit {MAX_LITERAL:g})", node)
            decimal = Fraction(repr(value))
            expr = sympy.Rational(decimal.numerator, decimal.denominator)
        else:
            raise self.refuse(f"'{type(value).__name__}' values are not allowed", node)
        return self._finish(expr, float(value), node)

    def _unary(self, node: ast.UnaryOp) -> _Built:
        if isinstance(node.op, ast.Not):
            raise self.refuse(_NODE_MESSAGES[ast.BoolOp], node)
        if isinstance(node.op, ast.Invert):
            raise self.refuse("operator '~' is not allowed", node)
        operand = self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        value = None if operand.value is None else -operand.value
        return self._finish(-operand.expr, value, node)

    def _chain(self, node: ast.BinOp, kind: str) -> _Built:
        # Flattened so that a long sum neither recurses deeply here nor rebuilds a growing
        # sympy Add once per term.
        operands: list[tuple[ast.operator | None, ast.AST]] = []
        current: ast.AST = node
        while isinstance(current, ast.BinOp) and _chain_kind(current.op) == kind:
            operands.append((current.op, current.right))
            current = current.left
        operands.append((None, current))
        operands.reverse()
        built = [(op, self.build(operand), operand) for op, operand in operands]
        numeric = all(item.value is not None for _, item, _ in built)
        value = built[0][1].value
        parts = []
        for op, item, _operand in built:
            if (
                isinstance(op, ast.Div)
                and item.value is not None
                and (item.value == 0.0 or item.expr.is_zero)
            ):
                raise self.refuse("division by zero", node)
            if isinstance(op, ast.Sub):
                parts.append(-item.expr)
            elif isinstance(op, ast.Div):
                parts.append(sympy.Pow(item.expr, -1))
            else:
                parts.append(item.expr)
            if numeric and op is not None:
                value = _fold_binary(op, value, item.value)
        if numeric:
            self._check_value(value, node)
        if kind == "product":
            self._check_merged_powers(parts, node)
        expr = sympy.Add(*parts) if kind == "sum" else sympy.Mul(*parts)
        return self._finish(expr, value if numeric else None, node)

    def _power(self, node: ast.BinOp) -> _Built:
        base = self.build(node.left)
        exponent = self.build(node.right)
        # Checked before sympy sees the power, which it would evaluate eagerly.
        if exponent.value is not None and abs(exponent.value) > MAX_EXPONENT:
            raise self.refuse(
                f"exponent too large (limit {MAX_EXPONENT}); the exponent is {exponent.value:.6g}",
                node,
            )
        self._check_distributed_power(base.expr, exponent.expr, node)
        self._check_log_coefficients(exponent.expr, node)
        value = None
        if base.value is not None and exponent.value is not None:
            try:
                if exponent.expr.is_Integer:
                    result = base.value ** int(exponent.expr)
                else:
                    result = base.value**exponent.value
            except ZeroDivisionError:
                raise self.refuse("division by zero (zero to a negative power)", node) from None
            except OverflowError:
                raise self.refuse("number too large (overflows float64)", node) from None
            if isinstance(result, complex):
                raise self.refuse("not a real number (negative base with a fractional exponent)", node)
            value = float(result)
            self._check_value(value, node)
        return self._finish(sympy.Pow(base.expr, exponent.expr), value, node)

    def _call(self, node: ast.Call) -> _Built:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.refuse(
                "only named functions can be called; implicit multiplication is not "
                "supported, write '*' between factors",
                node,
            )
        name = func.id
        if name not in FUNCTIONS:
            if name in SYMBOLS or name in _CONSTANTS:
                raise self.refuse(f"'{name}' is not a function; write {name}*(...) to multiply", node)
            raise ExpressionError(f"function '{name}' is not allowed; allowed: {_ALLOWED_FUNCTIONS_TEXT}")
        if node.keywords:
            raise self.refuse("keyword arguments are not allowed", node)
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.refuse(_NODE_MESSAGES[ast.Starred], node)
        if len(node.args) != 1:
            raise self.refuse(f"function '{name}' takes exactly one argument, got {len(node.args)}", node)
        argument = self.build(node.args[0])
        if name == "exp":
            self._check_log_coefficients(argument.expr, node)
        if name == "sqrt":
            self._check_distributed_power(argument.expr, sympy.S.Half, node)
        value = None
        if argument.value is not None:
            try:
                value = float(_FLOAT_FUNCTIONS[name](argument.value))
            except OverflowError:
                raise self.refuse("number too large (overflows float64)", node) from None
            except ValueError:
                raise self.refuse(
                    f"not a real number ({name} is undefined at {argument.value:.6g})", node
                ) from None
            self._check_value(value, node)
        return self._finish(FUNCTIONS[name](argument.expr), value, node)

    def _check_log_coefficients(self, expr: sympy.Expr, node: ast.AST) -> None:
        """Refuse ``c*log(u)`` with a large ``c`` where sympy would compute ``u**c``."""
        # sympy rewrites exp(c*log(u)) as u**c, and logcombine (which exp runs on the
        # factors of its argument) rewrites c*log(u) as log(u**c) anywhere inside them.
        if not expr.has(sympy.log):
            return
        for sub in sympy.preorder_traversal(expr):
            if not (sub.is_Mul and any(isinstance(f, sympy.log) for f in sub.args)):
                continue
            coefficient = 1.0
            rational = sympy.S.One
            for factor in sub.args:
                if factor.is_number and not isinstance(factor, sympy.log):
                    coefficient *= abs(_numeric_value(factor))
                if factor.is_Rational:
                    rational *= factor
            for factor in sub.args:
                if isinstance(factor, sympy.log):
                    self._check_distributed_power(factor.args[0], rational, node)
            if not coefficient <= MAX_EXPONENT:
                raise self.refuse(
                    f"exponent too large (limit {MAX_EXPONENT}): a log with coefficient "
                    f"{coefficient:.6g} in an exponent raises to that power",
                    node,
                )

    def _check_fraction(self, exponent: sympy.Expr, node: ast.AST) -> None:
        if exponent.is_Rational and exponent.q > MAX_EXPONENT_DENOMINATOR:
            raise self.refuse(
                f"fractional exponent too precise: {exponent.p}/{exponent.q} has a "
                f"denominator above {MAX_EXPONENT_DENOMINATOR}; use at most 3 decimals",
                node,
            )

    def _check_root(self, base: sympy.Expr, exponent: sympy.Expr, node: ast.AST) -> None:
        if not (base.is_Rational and exponent.is_Rational) or exponent.is_Integer:
            return
        size = exponent.q * math.log2(max(abs(base.p), base.q, 2))
        if size > MAX_ROOT_BITS:
            raise self.refuse(
                f"fractional power of a number too costly to simplify exactly: "
                f"({base})**({exponent}) (denominator times bits of the number {size:.0f}, "
                f"limit {MAX_ROOT_BITS}); use fewer decimals in the exponent",
                node,
            )

    def _check_distributed_power(self, base: sympy.Expr, exponent: sympy.Expr, node: ast.AST) -> None:
        """Check the powers sympy forms when it distributes ``exponent`` over ``base``."""
        if not exponent.is_Rational:
            return
        self._check_fraction(exponent, node)
        for factor in sympy.Mul.make_args(base):
            if factor.is_Pow and factor.exp.is_Rational:
                root_base, root_exponent = factor.base, factor.exp * exponent
            else:
                root_base, root_exponent = factor, exponent
            self._check_fraction(root_exponent, node)
            self._check_root(root_base, root_exponent, node)

    def _check_merged_powers(self, factors: list[sympy.Expr], node: ast.AST) -> None:
        """Check the powers sympy forms when it merges powers of the same number."""
        totals: dict[sympy.Expr, sympy.Rational] = {}
        for part in factors:
            for factor in sympy.Mul.make_args(part):
                if factor.is_Pow and factor.base.is_Rational and factor.exp.is_Rational:
                    totals[factor.base] = totals.get(factor.base, sympy.S.Zero) + factor.exp
        for base, total in totals.items():
            self._check_fraction(total, node)
            self._check_root(base, total, node)

    def _check_value(self, value: float, node: ast.AST) -> None:
        if math.isnan(value):
            raise self.refuse("undefined value (not a number)", node)
        if math.isinf(value):
            raise self.refuse("number too large (overflows float64)", node)

    def _finish(self, expr: sympy.Expr, folded: float | None, node: ast.AST) -> _Built:
        if expr.has(sympy.zoo):
            raise self.refuse("division by zero (the value is infinite)", node)
        if expr.has(sympy.nan):
            raise self.refuse("undefined value (not a number)", node)
        if expr.has(sympy.oo, -sympy.oo):
            raise self.refuse("infinite value", node)
        if expr.has(sympy.I):
            raise self.refuse("not a real number", node)
        for rational in expr.atoms(sympy.Rational):
            if abs(rational.p) >= _DIGIT_BOUND or rational.q >= _DIGIT_BOUND:
                raise self.refuse(
                    f"constant too large or too precise: exact constants are limited to "
                    f"{MAX_CONSTANT_DIGITS} digits",
                    node,
                )
        for power in expr.atoms(sympy.Pow):
            # sympy merges (x**60)**2 and x**60*x**60 into x**120; keep the limits on the result.
            if power.exp.is_number and not abs(_numeric_value(power.exp)) <= MAX_EXPONENT:
                raise self.refuse(f"exponent too large (limit {MAX_EXPONENT}) once powers are combined", node)
            self._check_fraction(power.exp, node)
            self._check_root(power.base, power.exp, node)
        if expr.free_symbols:
            return _Built(expr, None)
        if expr.is_Rational:
            # Exact rounding of the rational beats the float64 fold (2**60 + 1 - 2**60).
            value = _numeric_value(expr)
        elif folded is not None:
            value = folded
        else:
            # The variables cancelled (x - x + 3): the pieces are bounded, so evalf is cheap.
            value = _numeric_value(expr)
            if isinstance(value, complex):
                raise self.refuse("not a real number", node)
        self._check_value(value, node)
        return _Built(expr, value)


class _Differentiator:
    """Chain-rule differentiation with one cache per variable, so shared parts cost once."""

    def __init__(self, variable: sympy.Symbol) -> None:
        self.variable = variable
        self.cache: dict[sympy.Expr, sympy.Expr] = {}

    def derivative(self, expr: sympy.Expr) -> sympy.Expr:
        cached = self.cache.get(expr)
        if cached is None:
            cached = self.cache[expr] = self._derivative(expr)
        return cached

    def _derivative(self, expr: sympy.Expr) -> sympy.Expr:
        if expr == self.variable:
            return sympy.S.One
        if self.variable not in expr.free_symbols:
            return sympy.S.Zero
        args = expr.args
        if expr.is_Add:
            return sympy.Add(*(self.derivative(arg) for arg in args))
        if expr.is_Mul:
            terms = []
            for index, arg in enumerate(args):
                inner = self.derivative(arg)
                if inner != 0:
                    terms.append(sympy.Mul(*args[:index], inner, *args[index + 1 :]))
            return sympy.Add(*terms)
        if expr.is_Pow:
            base, exponent = args
            if self.variable not in exponent.free_symbols:
                return exponent * base ** (exponent - 1) * self.derivative(base)
            if self.variable not in base.free_symbols:
                return expr * sympy.log(base) * self.derivative(exponent)
            return expr * (
                self.derivative(exponent) * sympy.log(base) + exponent * self.derivative(base) / base
            )
        if isinstance(expr, sympy.sign):
            return sympy.S.Zero
        if isinstance(expr, sympy.Function) and len(args) == 1:
            return expr.fdiff(1) * self.derivative(args[0])
        # Nothing parse_expression builds gets here; anything else keeps sympy's rules.
        return sympy.diff(expr, self.variable)


def _numeric_value(expr: sympy.Expr) -> float | complex:
    """Float value of a sympy number; inf if it overflows float64, complex if not real."""
    try:
        if expr.is_Rational:
            return expr.p / expr.q
        result = complex(expr.evalf(20))
    except OverflowError:
        return math.inf
    except (TypeError, ValueError):
        return math.nan
    if result.imag != 0.0 and abs(result.imag) > 1e-12 * max(1.0, abs(result.real)):
        return result
    return result.real


def _fold_binary(op: ast.operator, left: float, right: float) -> float:
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    return left / right


def _integer_text(value: int) -> str:
    if abs(value) <= MAX_LITERAL:
        return str(value)
    # Exact, and within the literal limit on every piece, so it parses back.
    digits = str(abs(value))
    chunks = []
    while digits:
        digits, chunk = digits[:-15], digits[-15:]
        chunks.append(int(chunk))
    terms = [
        str(chunk) if power == 0 else f"{chunk}*10**{15 * power}"
        for power, chunk in enumerate(chunks)
        if chunk
    ]
    text = "(" + " + ".join(reversed(terms)) + ")"
    return "-" + text if value < 0 else text


class _TextPrinter(StrPrinter):
    """sympy's str printer, speaking the grammar of ``parse_expression``."""

    def _print_Exp1(self, expr: sympy.Expr) -> str:
        return "e"

    def _print_Abs(self, expr: sympy.Expr) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return _integer_text(int(expr.p))

    def _print_Rational(self, expr: sympy.Rational) -> str:
        if expr.q == 1:
            return _integer_text(int(expr.p))
        return f"{_integer_text(int(expr.p))}/{_integer_text(int(expr.q))}"
