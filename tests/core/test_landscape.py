"""Loss landscapes (Li et al. 2018) against independent references: closed forms on a
quadratic, a path that lies in a plane, row norms computed from the layer shapes, PCA
against an eigen-decomposition of the covariance."""

import numpy as np
import pytest

from gd_explorer.core.lab.landscape import (
    MAX_CHECKPOINTS,
    LandscapeCancelled,
    filter_normalised,
    interpolation,
    plane_grid,
    random_plane,
    trajectory_plane,
    trajectory_span,
)
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.nets import net_objective
from gd_explorer.core.problems.objectives import Objective


class Quadratic(Objective):
    """f(θ) = ½ θᵀAθ + cᵀθ, written out here (not one of the app's objectives)."""

    def __init__(self, d=6, seed=3):
        rng = np.random.default_rng(seed)
        m = rng.normal(size=(d, d))
        self.A = m @ m.T + np.eye(d)
        self.c = rng.normal(size=d)
        super().__init__(name="quadratic", names=tuple(f"p{i}" for i in range(d)))

    def value_and_grad(self, p):
        p = np.asarray(p, dtype=np.float64)
        return 0.5 * np.einsum("ki,ij,kj->k", p, self.A, p) + p @ self.c, p @ self.A + self.c


@pytest.fixture(scope="module")
def net():
    return net_objective("moons", "mlp", "2-16-16-1", samples=200)


def _row_norms(network, v):
    """Per layer, the norms of the rows of the (out, in) weight matrix, from the shapes."""
    return [np.linalg.norm(v[ws].reshape(o, i), axis=1)
            for (o, i), (ws, _) in zip(network.shapes, network.slices)]


def test_random_directions_are_filter_normalised_with_biases_zeroed(net):
    theta = net.network.init(5) + 0.3  # no row of zeros; biases non-zero too
    dirs = random_plane(net, theta, seed=11)
    assert dirs.shape == (2, net.dim)
    for d in dirs:
        for got, want in zip(_row_norms(net.network, d), _row_norms(net.network, theta)):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        for _, bs in net.network.slices:
            assert np.all(d[bs] == 0.0)
    # the two directions are different draws, nearly orthogonal in 337 dimensions
    cos = dirs[0] @ dirs[1] / np.linalg.norm(dirs[0]) / np.linalg.norm(dirs[1])
    assert abs(cos) < 0.3


def test_logistic_model_has_one_filter_and_its_bias_zeroed():
    obj = net_objective("blobs", "logistic")
    theta = np.array([3.0, -4.0, 2.0])
    d = random_plane(obj, theta, seed=0)
    np.testing.assert_allclose(np.linalg.norm(d[:, :2], axis=1), 5.0, rtol=1e-12)
    assert np.all(d[:, 2] == 0.0)


def test_without_layers_the_whole_direction_takes_the_norm_of_theta():
    obj = get_function("rosenbrock")
    assert obj.filter_groups() is None
    theta = np.array([1.5, -2.0])
    d = random_plane(obj, theta, seed=4)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 2.5, rtol=1e-12)
    # a zero filter of θ gets a zero direction, not NaN
    np.testing.assert_array_equal(filter_normalised(np.ones(3), np.zeros(3), None), 0.0)
    np.testing.assert_array_equal(
        filter_normalised(np.ones(4), np.array([0.0, 0.0, 3.0, 4.0]), [[0, 1], [2, 3]]),
        [0.0, 0.0, 5 / np.sqrt(2), 5 / np.sqrt(2)])


def test_seeds_are_reproducible(net):
    theta = net.network.init(0)
    np.testing.assert_array_equal(random_plane(net, theta, 7), random_plane(net, theta, 7))
    assert not np.allclose(random_plane(net, theta, 7), random_plane(net, theta, 8))


def test_plane_grid_matches_the_closed_form_of_a_quadratic():
    q = Quadratic(6)
    rng = np.random.default_rng(1)
    centre, d1, d2 = rng.normal(size=(3, 6))
    grid = plane_grid(q, centre, (d1, d2), a_span=(-0.7, 1.3), b_span=0.9, resolution=21)
    a, b = np.meshgrid(grid.a, grid.b)  # rows: b
    g = q.A @ centre + q.c
    f0 = 0.5 * centre @ q.A @ centre + q.c @ centre
    want = (f0 + a * (g @ d1) + b * (g @ d2)
            + 0.5 * (a * a * (d1 @ q.A @ d1) + 2 * a * b * (d1 @ q.A @ d2)
                     + b * b * (d2 @ q.A @ d2)))
    np.testing.assert_allclose(grid.losses, want, rtol=1e-12, atol=1e-12)
    assert grid.a[0] == -0.7 and grid.a[-1] == 1.3 and grid.b[0] == -0.9


def test_the_middle_of_a_symmetric_grid_is_the_centre_exactly(net):
    theta = net.network.init(2)
    for n in (51, 7, 201):
        grid = plane_grid(net, theta, random_plane(net, theta, 1), 1.0, resolution=n)
        assert grid.a[n // 2] == 0.0 and grid.b[n // 2] == 0.0
        assert grid.losses[n // 2, n // 2] == net.value(theta)


def test_progress_can_cancel_a_grid():
    q = Quadratic(3)
    seen = []

    def progress(f):
        seen.append(f)
        return False

    with pytest.raises(LandscapeCancelled):
        plane_grid(q, np.zeros(3), np.eye(3)[:2], resolution=51, progress=progress)
    assert seen == [0.0]


def test_a_path_lying_in_a_plane_has_distance_zero_and_all_the_variance():
    rng = np.random.default_rng(2)
    d = 12
    u, v = rng.normal(size=(2, d))  # not orthogonal, not unit: any plane
    final = rng.normal(size=d)
    t = np.linspace(0, 1, 80)
    x, y = 3 * (1 - t) ** 2, np.sin(4 * t) * (1 - t)
    path = final + x[:, None] * u + y[:, None] * v
    plane = trajectory_plane(path)
    np.testing.assert_allclose(plane.distance, 0.0, atol=1e-12)
    assert plane.explained.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    # the plane is spanned by u and v: both project onto it without loss
    for w in (u, v):
        assert np.linalg.norm(plane.directions @ w) == pytest.approx(np.linalg.norm(w))
    np.testing.assert_array_equal(plane.coords[-1], 0.0)
    np.testing.assert_array_equal(plane.centre, final + x[-1] * u + y[-1] * v)


def test_pca_matches_an_eigen_decomposition_of_the_covariance():
    rng = np.random.default_rng(9)
    n, d = 60, 8
    scales = np.array([5.0, 2.0, 0.5, 0.3, 0.2, 0.1, 0.1, 0.05])
    path = np.cumsum(rng.normal(size=(n, d)) * scales, axis=0)
    plane = trajectory_plane(path)
    diffs = path - path[-1]
    w, vecs = np.linalg.eigh(np.cov(diffs.T))  # ascending
    order = np.argsort(w)[::-1]
    w, vecs = w[order], vecs[:, order]
    for k in range(2):
        assert abs(plane.directions[k] @ vecs[:, k]) == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(plane.explained, w[:2] / w.sum(), rtol=1e-9)
    coords = diffs @ plane.directions.T
    np.testing.assert_allclose(plane.coords, coords, atol=1e-12)
    off = diffs - coords @ plane.directions
    np.testing.assert_allclose(plane.distance, np.linalg.norm(off, axis=1), atol=1e-12)
    assert plane.distance.max() > 0.1  # a random walk in 8-D sits off the plane
    # the start lies on the positive side of both directions
    assert np.all(plane.coords[0] > 0)


def test_long_paths_are_thinned_to_checkpoints_keeping_the_last():
    rng = np.random.default_rng(0)
    path = np.cumsum(rng.normal(size=(5000, 5)), axis=0)
    plane = trajectory_plane(path)
    assert len(plane.steps) <= MAX_CHECKPOINTS
    assert plane.steps[0] == 0 and plane.steps[-1] == 4999
    np.testing.assert_array_equal(plane.centre, path[-1])
    ha, hb = trajectory_span(plane)
    assert ha >= np.abs(plane.coords[:, 0]).max() * 1.2
    assert hb >= np.abs(plane.coords[:, 1]).max() * 1.2


@pytest.mark.parametrize("path, words", [
    (np.zeros((2, 4)), "at least 3 steps"),
    (np.outer(np.arange(10.0), np.ones(4)), "one line"),
    (np.ones((10, 4)), "not moved"),
    (np.vstack([np.zeros((5, 3)), np.full((1, 3), np.nan)]), "non-finite"),
])
def test_paths_without_a_plane_are_refused_in_words(path, words):
    with pytest.raises(ValueError, match=words):
        trajectory_plane(path)


def test_interpolation_matches_the_closed_form_and_hits_both_ends():
    q = Quadratic(5)
    rng = np.random.default_rng(4)
    s, e = rng.normal(size=(2, 5))
    line = interpolation(q, s, e, resolution=41)
    assert line.alphas[0] == -0.5 and line.alphas[-1] == 1.5
    al = line.alphas
    p = (1 - al)[:, None] * s + al[:, None] * e
    want = 0.5 * np.einsum("ki,ij,kj->k", p, q.A, p) + p @ q.c
    np.testing.assert_allclose(line.losses, want, rtol=1e-12)
    i0, i1 = int(np.argmin(np.abs(al))), int(np.argmin(np.abs(al - 1)))
    assert line.losses[i0] == pytest.approx(q.value(s), rel=1e-12)
    assert line.losses[i1] == pytest.approx(q.value(e), rel=1e-12)
