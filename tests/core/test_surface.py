"""Loss surfaces: orientation, closed forms against direct evaluation, progress, cancel."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gd_explorer.core.problems import surface
from gd_explorer.core.problems.datasets import LOSSES, MODELS, Dataset, DatasetObjective, dataset_objective
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.objectives import expression_objective
from gd_explorer.core.problems.surface import (
    SurfaceCancelled,
    curve_1d,
    gradient_field,
    grid_axes,
    surface_grid,
)


def direct_surface(objective, axes, fixed, xs, ys):
    """The reference: ``objective.value`` at every grid point, one by one."""
    z = np.empty((len(ys), len(xs)))
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            p = np.array(fixed, dtype=float)
            p[axes[0]], p[axes[1]] = xv, yv
            z[i, j] = objective.value(p)
    return z


def random_dataset(n=3000, seed=0, x_zero=False):
    """Data with an offset and spread unlike the built-ins; optionally some x exactly 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4.0, 9.0, n)
    if x_zero:
        x[::7] = 0.0
    y = 0.3 * x * x - 2.0 * x + 40.0 + rng.standard_t(3, n)
    return Dataset("random", x, y)


def axes_pairs(dim):
    return [(a, b) for a in range(dim) for b in range(dim) if a != b]


# ------------------------------------------------------------------------ grid and shape
def test_grid_axes():
    xs, ys = grid_axes(((-1.0, 3.0), (10.0, 20.0), (0.0, 1.0)), (2, 0), resolution=5)
    assert xs.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ys.tolist() == [-1.0, 0.0, 1.0, 2.0, 3.0]
    xs, ys = grid_axes(get_function("rosenbrock").window, (0, 1))
    assert xs.shape == ys.shape == (200,) and xs[0] == -2.0 and ys[-1] == 3.0
    for bad in (dict(axes=(0, 0)), dict(axes=(0, 2)), dict(resolution=1),
                dict(resolution=True), dict(window=((0.0, 1.0), (1.0, 1.0)))):
        kw = dict(window=((0.0, 1.0), (0.0, 2.0)), axes=(0, 1), resolution=10) | bad
        with pytest.raises(ValueError):
            grid_axes(**kw)


def test_orientation_with_an_asymmetric_function():
    f = expression_objective("x + 10*y")
    xs = np.array([0.0, 1.0, 2.0])
    ys = np.array([0.0, 1.0])
    z = surface_grid(f, (0, 1), [0.0, 0.0], xs, ys)
    assert z.shape == (2, 3)
    assert z.tolist() == [[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]]  # z[i, j] = xs[j] + 10 ys[i]
    # swapped axes: parameter y runs along the columns
    z = surface_grid(f, (1, 0), [0.0, 0.0], xs, ys)
    assert z.tolist() == [[0.0, 10.0, 20.0], [1.0, 11.0, 21.0]]


def test_function_surface_matches_pointwise_values():
    f = get_function("rosenbrock")
    xs, ys = grid_axes(f.window, (0, 1), 23)
    ys = ys[:17]  # non-square
    z = surface_grid(f, (0, 1), f.start, xs, ys)
    assert z.shape == (17, 23)
    np.testing.assert_allclose(z, direct_surface(f, (0, 1), f.start, xs, ys), rtol=1e-14)


def test_non_finite_values_stay_in_the_surface():
    f = expression_objective("log(x) + 1/y")
    xs = np.array([-1.0, 0.0, 1.0])
    ys = np.array([0.0, 1.0])
    z = surface_grid(f, (0, 1), [1.0, 1.0], xs, ys)  # no warning, no exception
    assert np.isnan(z[1, 0]) and np.isneginf(z[1, 1]) and z[1, 2] == 1.0
    assert not np.isfinite(z[0]).any()


def test_argument_errors():
    f = get_function("rosenbrock")
    xs = np.linspace(0, 1, 3)
    with pytest.raises(ValueError, match="two parameters"):
        surface_grid(get_function("parabola"), (0, 1), [0.0], xs, xs)
    with pytest.raises(ValueError, match="fixed must give all 2"):
        surface_grid(f, (0, 1), [0.0], xs, xs)
    with pytest.raises(ValueError, match="1-D"):
        surface_grid(f, (0, 1), [0.0, 0.0], xs[None, :], xs)
    with pytest.raises(ValueError, match="different"):
        surface_grid(f, (1, 1), [0.0, 0.0], xs, xs)


# ------------------------------------------------------------------------ MSE closed form
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("data", ["noisy-line", "noisy-parabola", "random"])
def test_mse_closed_form_matches_direct_evaluation(model, data):
    ds = random_dataset() if data == "random" else None
    obj = DatasetObjective(ds, model, "mse") if ds else dataset_objective(data, model, "mse")
    if obj.dim < 2:
        return
    fixed = np.array(obj.optima[0].point) + 0.7  # third parameter away from its optimum
    for axes in axes_pairs(obj.dim):
        xs, ys = grid_axes(obj.window, axes, 19)
        ys = ys[:13] * 1.3
        z = surface_grid(obj, axes, fixed, xs, ys)
        ref = obj.values(surface._plane_points(obj.dim, axes, fixed, xs, ys)).reshape(z.shape)
        np.testing.assert_allclose(z, ref, rtol=1e-9)
        np.testing.assert_allclose(z[::6, ::6], direct_surface(obj, axes, fixed, xs[::6],
                                                               ys[::6]), rtol=1e-9)


def test_mse_closed_form_on_exact_fit_data_is_accurate_to_the_scale():
    # fence data are fitted exactly (minimum 0), so values near the optimum are rounding
    obj = dataset_objective("fence", "quadratic", "mse")
    xs, ys = grid_axes(obj.window, (0, 1), 41)
    z = surface_grid(obj, (0, 1), [0.0, 0.0], xs, ys)
    ref = direct_surface(obj, (0, 1), [0.0, 0.0], xs, ys)
    np.testing.assert_allclose(z, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
    assert (z >= 0).all()


def test_mse_uses_cached_statistics_not_the_data(monkeypatch):
    obj = DatasetObjective(random_dataset(), "quadratic-full", "mse")
    xs, ys = grid_axes(obj.window, (0, 2), 11)
    first = surface_grid(obj, (0, 2), obj.start, xs, ys)
    stats = obj.__dict__[surface._STATS_ATTR]

    def forbidden(*args, **kwargs):
        raise AssertionError("the closed form must not evaluate the data")

    monkeypatch.setattr(obj, "values", forbidden)
    monkeypatch.setattr(obj, "value_and_grad", forbidden)
    again = surface_grid(obj, (0, 2), obj.start, xs, ys)
    assert obj.__dict__[surface._STATS_ATTR] is stats
    np.testing.assert_array_equal(first, again)
    gradient_field(obj, (0, 2), obj.start, xs, ys)
    curve_1d(obj, 1, obj.start, xs)


# ------------------------------------------------------------------------ MAE and Huber
@pytest.mark.parametrize("loss", ["mae", "huber"])
@pytest.mark.parametrize("model", ["linear", "quadratic", "quadratic-full"])
def test_piecewise_losses_match_direct_evaluation(loss, model):
    obj = DatasetObjective(random_dataset(800, seed=1, x_zero=True), model, loss)
    fixed = np.array(obj.window)[:, 0] * 0.3 + 0.1
    for axes in axes_pairs(obj.dim):
        xs, ys = grid_axes(obj.window, axes, 17)
        z = surface_grid(obj, axes, fixed, xs, ys)
        ref = direct_surface(obj, axes, fixed, xs, ys)
        np.testing.assert_allclose(z, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("delta", [0.2, 3.0])
def test_huber_with_another_delta_takes_the_piecewise_path_and_matches(delta, monkeypatch):
    obj = DatasetObjective(random_dataset(400, seed=4, x_zero=True), "quadratic-full", "huber",
                           huber_delta=delta)
    assert surface._piecewise_for(obj) is not None
    fixed = np.array(obj.window)[:, 0] * 0.3 + 0.1
    for axes in axes_pairs(obj.dim):
        xs, ys = grid_axes(obj.window, axes, 13)
        z = surface_grid(obj, axes, fixed, xs, ys)
        np.testing.assert_allclose(z, direct_surface(obj, axes, fixed, xs, ys), rtol=1e-9,
                                   atol=1e-12 * np.abs(z).max())
    # and it is not δ = 1's surface
    one = DatasetObjective(obj.dataset, "quadratic-full", "huber")
    xs, ys = grid_axes(obj.window, (0, 1), 13)
    assert not np.allclose(surface_grid(one, (0, 1), fixed, xs, ys),
                           surface_grid(obj, (0, 1), fixed, xs, ys))


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_piecewise_losses_on_an_uneven_unsorted_grid(loss):
    obj = dataset_objective("noisy-parabola", "quadratic-full", loss)
    rng = np.random.default_rng(3)
    xs = rng.uniform(-2.0, 3.0, 15)  # unsorted, uneven: the binary-search branch
    xs[4] = xs[9]  # a repeated coordinate
    ys = np.array([1.5, -0.5, 0.25])
    fixed = [0.5, -1.0, 2.0]
    z = surface_grid(obj, (2, 1), fixed, xs, ys)
    np.testing.assert_allclose(z, direct_surface(obj, (2, 1), fixed, xs, ys), rtol=1e-9)


def test_mae_on_a_grid_through_the_kinks():
    # one point (x = 2, y = 3): |2w + b - 3| has its kinks exactly on grid points
    obj = dataset_objective("one-point", "linear", "mae")
    xs = np.linspace(0.0, 3.0, 31)
    ys = np.linspace(-1.0, 1.0, 21)
    z = surface_grid(obj, (0, 1), [0.0, 0.0], xs, ys)
    expected = np.abs(2 * xs[None, :] + ys[:, None] - 3.0)
    np.testing.assert_allclose(z, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("chunk", [surface.CHUNK, 500, 10])
@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_generic_chunked_path_matches_direct(monkeypatch, chunk, loss):
    # a loss that does not declare its pieces takes the generic path
    obj = DatasetObjective(random_dataset(120, seed=2), "quadratic-full",
                           dataclasses.replace(LOSSES[loss], pieces=None))
    monkeypatch.setattr(surface, "CHUNK", chunk)  # several rows / one row / split columns
    xs, ys = grid_axes(obj.window, (1, 2), 9)
    fixed = [0.2, 0.0, 0.0]
    calls = []
    z = surface_grid(obj, (1, 2), fixed, xs, ys, progress=lambda f: calls.append(f) or True)
    np.testing.assert_allclose(z, direct_surface(obj, (1, 2), fixed, xs, ys), rtol=1e-12)
    assert calls[-1] == 1.0 and calls == sorted(calls) and len(calls) >= 1
    if chunk == 10:
        assert len(calls) == 9 * 9  # one grid point per chunk


# ------------------------------------------------------------------------ progress
def test_progress_is_reported_per_row_and_cancels():
    obj = DatasetObjective(random_dataset(500), "linear", "mae")
    xs, ys = grid_axes(obj.window, (0, 1), 12)
    seen = []
    surface_grid(obj, (0, 1), obj.start, xs, ys, progress=lambda f: seen.append(f) or True)
    assert seen == pytest.approx([(i + 1) / 12 for i in range(12)])
    seen.clear()

    def stop_at_third(f):
        seen.append(f)
        return len(seen) < 3

    with pytest.raises(SurfaceCancelled):
        surface_grid(obj, (0, 1), obj.start, xs, ys, progress=stop_at_third)
    assert len(seen) == 3  # stopped right there, not after the whole grid


def test_progress_on_the_chunked_path_cancels(monkeypatch):
    obj = DatasetObjective(random_dataset(200), "linear",
                           dataclasses.replace(LOSSES["huber"], pieces=None))
    monkeypatch.setattr(surface, "CHUNK", 1000)
    xs, ys = grid_axes(obj.window, (0, 1), 10)
    seen = []
    with pytest.raises(SurfaceCancelled):
        surface_grid(obj, (0, 1), obj.start, xs, ys,
                     progress=lambda f: seen.append(f) or len(seen) < 2)
    assert len(seen) == 2


@pytest.mark.parametrize("kind", ["function", "mse"])
def test_one_shot_paths_report_completion_once(kind):
    if kind == "function":
        obj = get_function("bowl")
    else:
        obj = dataset_objective("noisy-line", "linear", "mse")
    seen = []
    xs, ys = grid_axes(obj.window, (0, 1), 5)
    surface_grid(obj, (0, 1), obj.start, xs, ys, progress=lambda f: seen.append(f) or True)
    assert seen == [1.0]
    with pytest.raises(SurfaceCancelled):
        surface_grid(obj, (0, 1), obj.start, xs, ys, progress=lambda f: False)


# ------------------------------------------------------------------------ 1-D curves
@pytest.mark.parametrize("case", ["double-well", "fence-area", "mse", "mae", "huber", "slope"])
def test_curve_1d_equals_pointwise_values(case):
    if case in ("double-well", "fence-area"):
        obj = get_function(case)
        index, fixed = 0, [0.0]
    elif case == "slope":
        obj = dataset_objective("one-point", "slope", "mae")
        index, fixed = 0, [0.0]
    else:
        obj = DatasetObjective(random_dataset(300, x_zero=True), "quadratic-full", case)
        index, fixed = 1, [0.3, 0.0, 38.0]
    lo, hi = obj.window[index]
    xs = np.linspace(lo, hi, 57)
    values = curve_1d(obj, index, fixed, xs)
    ref = []
    for v in xs:
        p = np.array(fixed, dtype=float)
        p[index] = v
        ref.append(obj.value(p))
    assert values.shape == (57,)
    np.testing.assert_allclose(values, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
    with pytest.raises(ValueError):
        curve_1d(obj, obj.dim, fixed, xs)


# ------------------------------------------------------------------------ gradient field
@pytest.mark.parametrize("case", ["rosenbrock", "x2siny", "mse", "mae", "huber"])
def test_gradient_field_equals_pointwise_gradient(case):
    if case in ("rosenbrock", "x2siny"):
        obj = get_function(case)
        axes, fixed = (0, 1), [0.0, 0.0]
    else:
        obj = DatasetObjective(random_dataset(200), "quadratic-full", case)
        axes, fixed = (2, 0), [0.0, -1.5, 0.0]
    xs, ys = grid_axes(obj.window, axes, 9)
    ys = ys[:6]
    u, v = gradient_field(obj, axes, fixed, xs, ys)
    assert u.shape == v.shape == (6, 9)
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            p = np.array(fixed, dtype=float)
            p[axes[0]], p[axes[1]] = xv, yv
            g = obj.grad(p)
            scale = np.abs(g).max() + 1.0
            assert u[i, j] == pytest.approx(g[axes[0]], rel=1e-9, abs=1e-12 * scale)
            assert v[i, j] == pytest.approx(g[axes[1]], rel=1e-9, abs=1e-12 * scale)
