"""What a network objective answers the views: fit data for 1-D regression, decision data and
P(class 1) for 2-D classifiers, train/test metrics, its layers. Checked against a forward
pass written here in plain numpy (torch's nn.Linear layout), not the package's."""

import numpy as np
import pytest

from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.nets import net_objective


def _forward(obj, p, x):
    """An independent MLP forward pass: weight (out × in) row-major then bias, per layer."""
    sizes = obj.network.sizes
    h, at = np.asarray(x, float), 0
    for layer, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = p[at:at + o * i].reshape(o, i)
        b = p[at + o * i:at + o * i + o]
        at += o * i + o
        h = h @ w.T + b
        if layer < len(sizes) - 2:
            h = np.tanh(h)
    return h[:, 0]


def _bce(z, y):
    return np.mean(np.log1p(np.exp(z)) - y * z)


@pytest.fixture(scope="module")
def moons():
    return net_objective("moons", layers="2-6-5-1", test_fraction=0.25, samples=120)


def _trained_like(obj, seed=1):
    return np.random.default_rng(seed).normal(0.0, 1.5, obj.dim)


def test_a_classifier_has_decision_data_not_fit_data_and_a_regression_the_reverse(moons):
    d = moons.decision_data()
    assert d is not None and moons.fit_data() is None
    np.testing.assert_array_equal(d.x, moons.data.x)
    np.testing.assert_array_equal(d.y_test, moons.data.y_test)
    assert d.x.shape[1] == 2 and len(d.y_test) == 30 and d.names == ("x1", "x2")
    sine = net_objective("sine", layers="1-8-1")
    x, y, names = sine.fit_data()
    assert sine.decision_data() is None and x.shape == (200,) and y.shape == (200,)
    assert names == ("x", "y")
    # a plain function has neither, nor metrics or layers
    f = get_function("rosenbrock")
    assert f.decision_data() is None and f.metric_names == () and f.layers() is None


def test_probability_is_the_sigmoid_of_the_network_output(moons):
    p = _trained_like(moons)
    grid = np.random.default_rng(2).uniform(-2, 2, (50, 2))
    z = _forward(moons, p, grid)
    np.testing.assert_allclose(moons.probability(p, grid), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(moons.predict(p, grid), z, rtol=1e-12)


def test_a_regression_predicts_at_the_fit_views_one_dimensional_xs():
    sine = net_objective("sine", layers="1-8-1")
    p = _trained_like(sine)
    xs = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(sine.predict(p, xs), _forward(sine, p, xs[:, None]), rtol=1e-12)


def test_metrics_are_the_full_train_loss_the_test_loss_and_the_accuracies(moons):
    assert moons.metric_names == ("train loss", "test loss", "train accuracy", "test accuracy")
    pts = np.stack([_trained_like(moons, s) for s in range(4)])
    m = moons.metrics(pts)
    d = moons.data
    for k, p in enumerate(pts):
        zt, zs = _forward(moons, p, d.x), _forward(moons, p, d.x_test)
        assert m["train loss"][k] == pytest.approx(_bce(zt, d.y), rel=1e-12)
        assert m["test loss"][k] == pytest.approx(_bce(zs, d.y_test), rel=1e-12)
        assert m["train accuracy"][k] == np.mean((zt > 0) == (d.y == 1))
        assert m["test accuracy"][k] == np.mean((zs > 0) == (d.y_test == 1))
    np.testing.assert_allclose(m["train loss"], moons.values(pts), rtol=1e-12)


def test_metrics_of_a_runaway_network_are_nan_not_a_wrong_accuracy(moons):
    p = np.full(moons.dim, np.nan)
    m = moons.metrics(p[None, :])
    assert np.isnan(m["train accuracy"][0]) and np.isnan(m["test loss"][0])


def test_a_regression_without_test_split_measures_its_train_loss_only():
    sine = net_objective("sine", layers="1-4-1")
    assert sine.metric_names == ("train loss",)
    p = _trained_like(sine)
    d = sine.data
    expected = np.mean((_forward(sine, p, d.x) - d.y) ** 2)
    assert sine.metrics(p[None, :])["train loss"][0] == pytest.approx(expected, rel=1e-12)


def test_layers_give_each_layers_norm(moons):
    layers = moons.layers()
    assert layers.layer_titles == ("layer 1 (2→6)", "layer 2 (6→5)", "layer 3 (5→1)")
    p = _trained_like(moons)
    expected = [np.linalg.norm(p[0:18]), np.linalg.norm(p[18:53]), np.linalg.norm(p[53:59])]
    assert moons.dim == 59
    np.testing.assert_allclose(layers.layer_norms(p), expected, rtol=1e-12)
