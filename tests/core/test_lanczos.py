"""Hessian-vector products (exact R-operator for networks, differences of the gradient by
default) and Lanczos for the extreme eigenvalues, against independent references: central
differences, torch autograd golden values, full Hessians with ``eigvalsh``, known spectra."""

import json
import math
import pathlib

import numpy as np
import pytest

from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.lanczos import hessian_extremes, lanczos
from gd_explorer.core.problems.nets import (
    ACTIVATIONS,
    NetData,
    NetObjective,
    Network,
    erf,
    net_objective,
)
from gd_explorer.core.problems.objectives import fd_hvp


def _central_hvp(obj, p, v, t=1e-5):
    """An independent H·v: central differences of the exact gradient, fixed step."""
    return (obj.grad(p + t * v) - obj.grad(p - t * v)) / (2 * t)


CASES = [("moons", "2-5-4-1", act, loss) for act in ACTIVATIONS
         for loss in ("cross-entropy", "mse")] + [("sine", "1-6-6-1", "gelu", "mse")]


@pytest.mark.parametrize("dataset,layers,act,loss", CASES)
def test_network_hvp_matches_central_differences_of_the_gradient(dataset, layers, act, loss):
    obj = net_objective(dataset, "mlp", layers, act, loss, samples=40, data_seed=3)
    assert obj.exact_hvp
    rng = np.random.default_rng(0)
    p = np.asarray(obj.start) + 0.3 * rng.normal(size=(3, obj.dim))
    v = rng.normal(size=(3, obj.dim))
    hv = obj.hvp(p, v)
    assert hv.shape == (3, obj.dim)
    ref = np.stack([_central_hvp(obj, p[j], v[j]) for j in range(3)])
    np.testing.assert_allclose(hv, ref, rtol=1e-6, atol=1e-8 * np.abs(ref).max())
    for j in range(3):  # batched rows equal single rows
        np.testing.assert_allclose(obj.hvp(p[j], v[j]), hv[j], rtol=1e-12, atol=1e-15)


GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden"
                     / "nets_hvp_golden.json").read_text())


@pytest.mark.parametrize("case", GOLDEN["cases"],
                         ids=[f"{'-'.join(map(str, c['layers']))}-{c['activation']}-{c['loss']}"
                              for c in GOLDEN["cases"]])
def test_network_hvp_matches_torch_double_backward(case):
    """golden/nets_hvp_golden.json: torch 2.13 autograd, float64 (generate_nets_hvp.py)."""
    x, y = np.array(case["x"]), np.array(case["y"])
    task = "classification" if case["loss"] == "cross-entropy" else "regression"
    obj = NetObjective(NetData("golden", task, x, y, x[:0], y[:0]),
                       Network(tuple(case["layers"]), case["activation"]), case["loss"])
    hv = obj.hvp(np.array(case["params"]), np.array(case["v"]))
    ref = np.array(case["hvp"])
    np.testing.assert_allclose(hv, ref, rtol=1e-11, atol=1e-13 * np.abs(ref).max())


def test_default_hvp_is_the_exact_hessian_times_v_to_difference_accuracy():
    obj = get_function("rosenbrock")
    p = np.array([[-1.2, 1.0], [0.5, 0.3]])
    v = np.array([[0.3, -2.0], [1.0, 1.0]])
    ref = np.einsum("kij,kj->ki", obj.hessian(p), v)  # compiled exact Hessian
    np.testing.assert_allclose(obj.hvp(p, v), ref, rtol=1e-8, atol=1e-9 * np.abs(ref).max())
    assert not obj.exact_hvp
    np.testing.assert_array_equal(fd_hvp(obj, p, np.zeros_like(p)), 0.0)


def test_vectorised_erf_agrees_with_libm():
    xs = np.concatenate([np.linspace(-8, 8, 40001), [0.0, 0.46875, 4.0, 6.0, 1e-300, 40.0]])
    ref = np.array([math.erf(t) for t in xs])
    np.testing.assert_allclose(erf(xs), ref, rtol=0, atol=4e-16)
    np.testing.assert_allclose(erf(-xs), -ref, rtol=0, atol=4e-16)
    assert erf(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]
    assert np.isnan(erf(np.array([np.nan]))[0])


# ------------------------------------------------------------------------------ Lanczos
def _diag_matvec(lam):
    return lambda v: v * lam


def test_lanczos_on_a_diagonal_matrix_with_known_spectrum():
    lam = np.concatenate([np.linspace(-1.0, 1.0, 299), [3.0]])  # λmax separated
    r = lanczos(_diag_matvec(lam), 1, lam.size, iterations=20, seed=1)
    assert r.iterations == 20
    assert r.lmax[0] == pytest.approx(3.0, rel=1e-10)
    assert r.relative_residual[0] < 1e-5
    assert abs(r.lmax[0] - 3.0) <= r.residuals[0, -1] + 1e-14  # the residual is an error bar
    assert r.lmin[0] >= -1.0 - 1e-12  # Ritz values lie inside the spectrum
    # d ≤ iterations: the whole spectrum, exactly
    small = np.array([5.0, -2.0, 0.5, 0.5, 7.0])
    r = lanczos(_diag_matvec(small), 1, 5, iterations=20)
    assert r.iterations == 5
    np.testing.assert_allclose(r.ritz[0], np.sort(small), atol=1e-12)


def test_lanczos_survives_an_invariant_subspace():
    # three distinct eigenvalues: the Krylov space closes after 3 steps (β = 0); the
    # restart keeps going and the top eigenvalue stays exact
    lam = np.repeat([1.0, 2.0, 10.0], 20)
    r = lanczos(_diag_matvec(lam), 1, lam.size, iterations=12)
    assert np.all(np.isfinite(r.ritz))
    assert r.lmax[0] == pytest.approx(10.0, rel=1e-12)
    assert r.lmin[0] == pytest.approx(1.0, rel=1e-12)


def test_lanczos_matches_eigvalsh_of_the_full_hessian_of_a_network():
    obj = net_objective("moons", "mlp", "2-6-6-1", "tanh", "cross-entropy", samples=100)
    assert 50 <= obj.dim <= 100
    rng = np.random.default_rng(2)
    p = np.asarray(obj.start) + 0.5 * rng.normal(size=(2, obj.dim))
    # the full Hessian column by column from exact products: symmetric to rounding
    cols = np.stack([obj.hvp(p, np.broadcast_to(e, p.shape)) for e in np.eye(obj.dim)],
                    axis=2)
    h = 0.5 * (cols + np.swapaxes(cols, 1, 2))
    np.testing.assert_allclose(h, obj.hessian(p), rtol=1e-5, atol=1e-7)  # the FD Hessian
    lam = np.linalg.eigvalsh(h)
    assert np.all((lam[:, -1] - lam[:, -2]) > 0.05 * lam[:, -1])  # a separated top
    r = hessian_extremes(obj, p, iterations=20, seed=0)
    np.testing.assert_allclose(r.lmax, lam[:, -1], rtol=1e-8)
    assert np.all(r.relative_residual < 1e-4)
    r40 = hessian_extremes(obj, p, iterations=40)
    np.testing.assert_allclose(r40.lmin, lam[:, 0], rtol=1e-6)
    # maximising: the Hessian of −f
    np.testing.assert_allclose(hessian_extremes(obj, p, maximize=True).lmax, -lam[:, 0],
                               rtol=1e-3)


def test_lanczos_is_seeded_and_rows_do_not_depend_on_their_batch():
    obj = net_objective("xor", "mlp", "2-8-8-1", "gelu", "cross-entropy", samples=60)
    rng = np.random.default_rng(5)
    p = np.asarray(obj.start) + 0.3 * rng.normal(size=(4, obj.dim))
    a = hessian_extremes(obj, p, iterations=15, seed=3)
    b = hessian_extremes(obj, p, iterations=15, seed=3)
    np.testing.assert_array_equal(a.ritz, b.ritz)
    one = hessian_extremes(obj, p[2:3], iterations=15, seed=3)
    np.testing.assert_allclose(one.ritz[0], a.ritz[2], rtol=1e-10)


def test_lanczos_gives_nan_for_rows_whose_products_are_not_finite_and_refuses_zero_steps():
    lam = np.array([1.0, 2.0, 3.0])

    def matvec(v):
        out = v * lam
        out[1] = np.nan
        return out

    r = lanczos(matvec, 3, 3)
    assert np.all(np.isnan(r.ritz[1])) and np.all(np.isfinite(r.ritz[[0, 2]]))
    with pytest.raises(ValueError, match="at least one iteration"):
        lanczos(matvec, 3, 3, iterations=0)


def test_network_hessian_is_exact_from_products_and_matches_differences():
    obj = net_objective("circles", "mlp", "2-4-3-1", "sigmoid", "cross-entropy", samples=30)
    rng = np.random.default_rng(7)
    p = np.asarray(obj.start) + 0.4 * rng.normal(size=(2, obj.dim))
    h = obj.exact_hessian(p)
    assert h.shape == (2, obj.dim, obj.dim)
    np.testing.assert_array_equal(h, np.swapaxes(h, 1, 2))
    from gd_explorer.core.problems.objectives import fd_hessian

    np.testing.assert_allclose(h, fd_hessian(obj, p), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(obj.hessian(p[0]), h[0], rtol=1e-14)
    v = rng.normal(size=obj.dim)
    np.testing.assert_allclose(h[1] @ v, obj.hvp(p[1], v), rtol=1e-10, atol=1e-14)
