"""Exact Hessians of every objective, checked against differences of the exact gradient
and closed forms."""

import numpy as np
import pytest

from gd_explorer.core.problems.datasets import dataset_objective
from gd_explorer.core.problems.functions import FUNCTIONS, get_function
from gd_explorer.core.problems.objectives import expression_objective, fd_hessian


def _points(f, k=20, seed=3):
    rng = np.random.default_rng(seed)
    lo = np.array([w[0] for w in f.window])
    hi = np.array([w[1] for w in f.window])
    return rng.uniform(lo, hi, size=(k, f.dim))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_every_builtin_has_an_exact_hessian_equal_to_differences_of_its_gradient(name):
    f = get_function(name)
    p = _points(f)
    exact = f.exact_hessian(p)
    assert exact is not None and exact.shape == (len(p), f.dim, f.dim)
    fd = fd_hessian(f, p)
    scale = np.maximum(1.0, np.abs(exact).max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(exact / scale, fd / scale, rtol=0, atol=2e-6)
    np.testing.assert_array_equal(exact, np.swapaxes(exact, 1, 2))


def test_builtin_hessians_are_closed_forms():
    f = get_function("rosenbrock")
    x, y = -1.2, 1.0
    closed = np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])
    np.testing.assert_allclose(f.hessian(np.array([x, y])), closed, rtol=1e-14)
    np.testing.assert_array_equal(get_function("ill-conditioned").hessian(np.zeros((3, 2))),
                                  np.broadcast_to([[2.0, 0.0], [0.0, 20.0]], (3, 2, 2)))
    np.testing.assert_array_equal(get_function("double-well").hessian(np.array([2.0])),
                                  [[12 * 4 - 8.0]])


def test_typed_formula_hessian_is_exact_and_compiled_on_first_use():
    f = expression_objective("x^3*y + exp(x*y)")
    assert f._hessian is None  # nothing compiled until asked
    p = np.array([[0.5, -1.0], [1.2, 0.3]])
    h = f.hessian(p)
    x, y = p[:, 0], p[:, 1]
    e = np.exp(x * y)
    closed = np.stack([np.stack([6 * x * y + y * y * e, 3 * x * x + e + x * y * e], -1),
                       np.stack([3 * x * x + e + x * y * e, x * x * e], -1)], 1)
    np.testing.assert_allclose(h, closed, rtol=1e-14)
    np.testing.assert_allclose(h, fd_hessian(f, p), rtol=1e-6)
    one_d = expression_objective("sin(x)")
    np.testing.assert_allclose(one_d.hessian(np.array([0.7])), [[-np.sin(0.7)]], rtol=1e-15)


def test_constant_hessian_entries_broadcast_over_points():
    f = expression_objective("x^2 + 3*x*y")
    np.testing.assert_array_equal(f.hessian(np.ones((4, 2))),
                                  np.broadcast_to([[2.0, 3.0], [3.0, 0.0]], (4, 2, 2)))


@pytest.mark.parametrize("model", ["linear", "quadratic", "quadratic-full", "slope"])
def test_mse_hessian_is_the_constant_two_phi_t_phi_over_n(model):
    f = dataset_objective("noisy-parabola", model, "mse")
    p = _points(f, k=4)
    closed = 2 * f.phi.T @ f.phi / f.n
    np.testing.assert_allclose(f.hessian(p), np.broadcast_to(closed, (4, f.dim, f.dim)),
                               rtol=1e-13)
    scale = np.abs(closed).max()
    np.testing.assert_allclose(fd_hessian(f, p) / scale, f.hessian(p) / scale, atol=1e-6)
    assert "constant" in f.curvature_note


def test_mae_hessian_is_zero_and_huber_counts_the_quadratic_samples():
    mae = dataset_objective("noisy-line", "linear", "mae")
    p = _points(mae, k=3)
    np.testing.assert_array_equal(mae.hessian(p), np.zeros((3, 2, 2)))
    assert "zero almost everywhere" in mae.curvature_note
    for delta in (1.0, 0.3):
        hub = dataset_objective("noisy-line", "linear", "huber", huber_delta=delta)
        p = _points(hub, k=6, seed=11)
        h = hub.hessian(p)
        for row, theta in zip(h, p):
            inside = np.abs(hub.phi @ theta - hub.y) < delta
            closed = hub.phi[inside].T @ hub.phi[inside] / hub.n
            np.testing.assert_allclose(row, closed, rtol=1e-13, atol=1e-15)
        # away from the kinks the exact gradient's differences agree
        fd = fd_hessian(hub, p)
        r = p @ hub.phi.T - hub.y
        clear = np.all(np.abs(np.abs(r) - delta) > 1e-3, axis=1)
        assert clear.sum() >= 3
        np.testing.assert_allclose(fd[clear], h[clear], atol=1e-6)
        assert "piecewise" in hub.curvature_note
