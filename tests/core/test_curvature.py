"""The Hessian every objective answers: exact where known, else differences of the exact
gradient; checked against closed forms."""

import numpy as np
import pytest

from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.objectives import fd_hessian


def test_rosenbrock_hessian_matches_its_closed_form():
    f = get_function("rosenbrock")
    x, y = -1.2, 1.0
    exact = np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])
    np.testing.assert_allclose(f.hessian(np.array([x, y])), exact, rtol=1e-7)


@pytest.mark.parametrize("name", ["bowl", "ill-conditioned", "himmelblau", "x2siny", "parabola"])
def test_hessians_are_symmetric_and_batched(name):
    f = get_function(name)
    rng = np.random.default_rng(0)
    p = rng.uniform(-2, 2, size=(5, f.dim))
    h = f.hessian(p)
    assert h.shape == (5, f.dim, f.dim)
    np.testing.assert_array_equal(h, np.swapaxes(h, 1, 2))
    np.testing.assert_allclose(h[2], f.hessian(p[2]), rtol=0, atol=0)
    np.testing.assert_allclose(fd_hessian(f, p), h, rtol=1e-6, atol=1e-6)


def test_ill_conditioned_quadratic_hessian_is_constant():
    f = get_function("ill-conditioned")
    np.testing.assert_allclose(f.hessian(np.array([3.0, -1.0])), [[2, 0], [0, 20]], atol=1e-6)


@pytest.mark.parametrize("hyper", [{}, {"momentum": 0.9}, {"momentum": 0.5, "dampening": 0.5},
                                   {"momentum": 0.9, "nesterov": True},
                                   {"momentum": 0.3, "weight_decay": 0.5}])
def test_sgd_stability_edge_separates_converging_from_diverging_runs(hyper):
    """The predicted edge, checked by running just below and just above it."""
    from gd_explorer.core.engine.descent import run_descent
    from gd_explorer.core.optim.optimizers import SGD, make_optimizer

    f = get_function("ill-conditioned")
    start = np.array([1.0, 1.0])
    edge = SGD.stability_edge(hyper, f.hessian(start))
    below = run_descent(f, make_optimizer("sgd", lr=0.98 * edge, **hyper), start, steps=4000)
    above = run_descent(f, make_optimizer("sgd", lr=1.02 * edge, **hyper), start, steps=4000)
    assert below.status == "max_steps" and below.loss[-1] < 1e-3 * below.loss[0]
    assert above.status == "diverged"
