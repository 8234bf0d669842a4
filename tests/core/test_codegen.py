"""The generated built-in code is current and equals the formulas compiled now."""

from pathlib import Path

import numpy as np
import pytest

from gd_explorer.core.problems import codegen
from gd_explorer.core.problems.functions import FUNCTIONS, get_function
from gd_explorer.core.problems.objectives import expression_objective


def test_committed_modules_match_a_fresh_generation():
    for name, text in codegen.generate().items():
        committed = (Path(codegen.__file__).parent / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} is stale: run python -m gd_explorer.core.problems.codegen"


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_generated_code_equals_the_formula_compiled_now(name):
    built = get_function(name)
    fresh = expression_objective(FUNCTIONS[name].formula)
    rng = np.random.default_rng(7)
    lo = np.array([w[0] for w in built.window])
    hi = np.array([w[1] for w in built.window])
    pts = rng.uniform(lo, hi, size=(50, built.dim))
    for a, b in zip(built.value_and_grad(pts), fresh.value_and_grad(pts)):
        assert a.tobytes() == b.tobytes()
    assert built.gradient_formulas == fresh.gradient_formulas
