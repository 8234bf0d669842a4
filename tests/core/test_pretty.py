"""Readable formulas: what labels show instead of sympy text."""

import pytest

from gd_explorer.core.pretty import pretty_formula
from gd_explorer.core.problems.functions import FUNCTIONS, get_function


@pytest.mark.parametrize("text, shown", [
    ("(1 - x)**2 + 100*(y - x**2)**2", "(1 − x)² + 100(y − x²)²"),
    ("2*x*sin(y)", "2x·sin(y)"),
    ("x**2*cos(y)", "x²·cos(y)"),
    ("x^2*sin(y)", "x²·sin(y)"),
    ("x**(-1)", "x⁻¹"),
    ("x**(x + 1)", "x^(x + 1)"),
    ("x**y", "x^y"),
    ("x**0.5", "x^0.5"),
    ("-2*y", "−2y"),
    ("exp(-x**2 - y**2)", "exp(−x² − y²)"),
    ("sqrt(x**2 + y**2)", "√(x² + y²)"),
    ("20 + x**2 - 10*cos(2*pi*x)", "20 + x² − 10·cos(2π·x)"),
    ("1e-3*x", "1e-3·x"),
    ("2*e", "2·e"),
    ("3*x**2/2", "3x²/2"),
    ("100*x - x**2", "100x − x²"),
])
def test_pretty_formula(text, shown):
    assert pretty_formula(text) == shown


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_every_builtin_formula_reads_without_sympy_operators(name):
    obj = get_function(name)
    for text in (obj.formula, *obj.gradient_formulas):
        shown = pretty_formula(text)
        assert "**" not in shown and "*" not in shown, shown
        for var in ("x", "y"):
            assert (var in text) == (var in shown), (text, shown)


def test_text_it_cannot_read_passes_through():
    assert pretty_formula("") == ""
    assert pretty_formula("@@@") == "@@@"
    assert pretty_formula("x ** ") == "x^"
