"""Built-in functions: exact gradients, known optima, the registry."""

import numpy as np
import pytest

from gd_explorer.core.problems.functions import FUNCTIONS, get_function
from tests.conftest import central_difference

NAMES = list(FUNCTIONS)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    obj = get_function(name)
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    lo = np.array([w[0] for w in obj.window])
    hi = np.array([w[1] for w in obj.window])
    for p in rng.uniform(lo, hi, size=(20, obj.dim)):
        g = obj.grad(p)
        fd = central_difference(obj.value, p)
        scale = max(1.0, float(np.max(np.abs(fd))))
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("name", NAMES)
def test_batched_and_single_evaluation_agree(name):
    obj = get_function(name)
    rng = np.random.default_rng(0)
    lo = np.array([w[0] for w in obj.window])
    hi = np.array([w[1] for w in obj.window])
    pts = rng.uniform(lo, hi, size=(7, obj.dim))
    v, g = obj.value_and_grad(pts)
    assert v.shape == (7,) and g.shape == (7, obj.dim)
    scalar = obj.scalar_value_and_grad()
    for i, p in enumerate(pts):
        assert obj.value(p) == pytest.approx(v[i], rel=1e-13, abs=1e-13)
        out = scalar(*p)
        np.testing.assert_allclose(out[0], v[i], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(out[1:], g[i], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(obj.values(pts), v, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", [n for n in NAMES if FUNCTIONS[n].optima])
def test_known_optima_are_stationary_with_stated_values(name):
    obj = get_function(name)
    for opt in obj.optima:
        p = np.array(opt.point)
        if name == "ackley":  # gradient undefined at the hole; check the value only
            assert obj.value(p) == pytest.approx(opt.value, abs=1e-12)
            continue
        np.testing.assert_allclose(obj.grad(p), 0.0, atol=1e-8)
        assert obj.value(p) == pytest.approx(opt.value, abs=1e-10)


def test_rosenbrock_is_exactly_the_documented_formula():
    obj = get_function("rosenbrock")
    assert obj.formula == "(1 - x)**2 + 100*(y - x**2)**2"
    for x, y in [(-1.5, 2.0), (0.3, -0.7), (1.0, 1.0)]:
        assert obj.value([x, y]) == (1 - x) ** 2 + 100 * (y - x**2) ** 2


def test_himmelblau_has_four_distinct_minima():
    pts = {tuple(np.round(o.point, 3)) for o in get_function("himmelblau").optima}
    assert len(pts) == 4


def test_seed_000_fencing_worked_example():
    area = get_function("fence-area")
    assert area.maximize
    assert area.start == (57.0,)
    assert area.grad([57.0])[0] == -14.0  # A'(57) = 100 - 2*57
    assert area.value([50.0]) == 2500.0
    assert area.value([49.0]) == 2499.0 and area.value([51.0]) == 2499.0
    assert area.value([54.0]) == 2484.0 and area.value([52.0]) == 2496.0


def test_seed_001_gradient_of_x2_siny_is_not_swapped():
    obj = get_function("x2siny")
    x, y = 1.3, 0.4
    g = obj.grad([x, y])
    np.testing.assert_allclose(g, [2 * x * np.sin(y), x**2 * np.cos(y)], rtol=1e-15)
    assert obj.gradient_formulas == ("2*x*sin(y)", "x**2*cos(y)")


def test_unknown_function_is_refused_with_the_list():
    with pytest.raises(ValueError, match="unknown function 'nope'.*rosenbrock"):
        get_function("nope")


def test_every_spec_is_consistent():
    for spec in FUNCTIONS.values():
        obj = get_function(spec.name)
        assert obj.dim == spec.dim in (1, 2)
        assert obj.names == (("x",) if spec.dim == 1 else ("x", "y"))
        assert spec.description and spec.title
        assert np.isfinite(obj.value(np.array(spec.start)))
