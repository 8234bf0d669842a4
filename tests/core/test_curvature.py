"""The Hessian every objective answers: exact where known, else differences of the exact
gradient; checked against closed forms."""

import math

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


# ------------------------------------------------------------------ adaptive rules, frozen
# The edges of adaptive rules are statements about the linearised update with the
# preconditioner frozen.  With its second-moment buffer pinned (set before each update
# so that the rule's own update lands on the frozen value), late in a run (bias
# corrections of m equal to 1), the real optimizer's step is a linear map of
# (p, momentum buffer): its Jacobian, built column by column from the real ``step``,
# must have spectral radius < 1 just below the edge and > 1 just above it.
H_SKEW = ((3.0, 1.0), (1.0, 2.0))
V_FROZEN = np.array([1.0, 4.0])  # P ≈ diag(1, 2): λmax(P⁻¹H) differs from λmax(H)
LATE = 1000  # 1 − 0.9^1000 == 1.0: no bias correction of m left
MOMENTUM = {"adam": "exp_avg", "adamw": "exp_avg", "nadam": "exp_avg",
            "rmsprop": "momentum_buffer", "adagrad": None}


def _pin(name, opt, state, g):
    """Set the buffers so that after the next update they hold the frozen values."""
    h = opt.hyper
    t = state.step + 1
    if name in ("adam", "adamw", "nadam"):
        b2 = h.betas[1]
        state.exp_avg_sq = (V_FROZEN * (1 - b2**t) - (1 - b2) * g * g) / b2
        if getattr(h, "amsgrad", False):
            state.max_exp_avg_sq = V_FROZEN * (1 - b2**t)
        if name == "nadam":
            state.mu_product = np.zeros_like(g)  # the product of the μ_t: 0 late in a run
    elif name == "rmsprop":
        state.square_avg = (V_FROZEN - (1 - h.alpha) * g * g) / h.alpha
    elif name == "adagrad":
        state.sum = V_FROZEN - g * g


def _frozen_state(name, hyper, steps=LATE):
    b2 = hyper.get("betas", (0.9, 0.999))[1]
    if name in ("adam", "adamw", "nadam"):
        v = V_FROZEN * (1 - b2**steps)
        return {"step": steps, "exp_avg_sq": v, "max_exp_avg_sq": v}
    if name == "rmsprop":
        return {"step": steps, "square_avg": V_FROZEN, "grad_avg": np.zeros(2)}
    return {"step": steps, "sum": V_FROZEN}


def _update_map_radius(name, hyper, lr):
    """Spectral radius of the real step as a map of (p, momentum buffer), v pinned."""
    from gd_explorer.core.optim.optimizers import make_optimizer
    from tests.core.hessian_kind import HessianBowl

    f = HessianBowl(H_SKEW)
    opt = make_optimizer(name, lr=lr, **hyper)
    wd = opt.hyper.weight_decay
    wd_l2 = 0.0 if (name == "adamw" or getattr(opt.hyper, "decoupled_weight_decay", False)) \
        else wd
    buf = MOMENTUM[name] if (name != "rmsprop" or opt.hyper.momentum > 0) else None
    size = 4 if buf else 2
    columns = []
    for z in np.eye(size):
        p = z[None, :2].copy()
        state = opt.init_state(p)
        state.step = LATE
        if buf:
            setattr(state, buf, z[None, 2:].copy())
        g = f.grad(p)
        _pin(name, opt, state, g + wd_l2 * p)
        new_p = opt.step(p, g, state)
        columns.append(np.concatenate([new_p[0], getattr(state, buf)[0]]) if buf else new_p[0])
    return float(np.max(np.abs(np.linalg.eigvals(np.array(columns).T))))


FROZEN_CASES = [
    ("adam", {}), ("adam", {"betas": (0.5, 0.999)}), ("adam", {"weight_decay": 0.3}),
    ("adam", {"amsgrad": True}),
    ("adamw", {}), ("adamw", {"weight_decay": 0.5}),
    ("nadam", {"momentum_decay": 10.0}), ("nadam", {"momentum_decay": 10.0, "weight_decay": 0.2}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.8}), ("rmsprop", {"weight_decay": 0.4}),
    ("adagrad", {}), ("adagrad", {"weight_decay": 0.4}), ("adagrad", {"lr_decay": 0.01}),
]


@pytest.mark.parametrize(("name", "hyper"), FROZEN_CASES)
def test_frozen_preconditioner_edges_separate_converging_from_diverging_updates(name, hyper):
    from gd_explorer.core.optim.optimizers import OPTIMIZERS

    edge = OPTIMIZERS[name].stability_edge(hyper, np.array(H_SKEW), _frozen_state(name, hyper))
    assert edge is not None and 0 < edge < math.inf
    assert _update_map_radius(name, hyper, 0.99 * edge) < 1
    assert _update_map_radius(name, hyper, 1.01 * edge) > 1
    # and the map's radius crosses 1 at the edge itself, to rounding
    assert _update_map_radius(name, hyper, edge) == pytest.approx(1.0, abs=1e-9)


def test_adam_edge_is_38_over_the_preconditioned_sharpness():
    from gd_explorer.core.optim.optimizers import OPTIMIZERS

    h = np.diag([2.0, 20.0])
    state = {"step": 10**6, "exp_avg_sq": np.array([1.0, 4.0]), "max_exp_avg_sq": np.zeros(2)}
    edge = OPTIMIZERS["adam"].stability_edge({"eps": 0.0}, h, state)
    assert edge == pytest.approx(38 / 10, rel=1e-9)  # P⁻¹H = diag(2, 10)


def test_edges_say_unknown_without_a_state_or_a_closed_form():
    from gd_explorer.core.optim.optimizers import OPTIMIZERS

    h = np.diag([2.0, 20.0])
    for name in ("adam", "adamw", "nadam", "rmsprop", "adagrad"):
        assert OPTIMIZERS[name].stability_edge({}, h, None) is None
    for name in ("lion", "rprop", "adadelta", "lbfgs", "radam", "adamax", "asgd", "adafactor"):
        assert OPTIMIZERS[name].stability_edge({}, h, {"step": 5}) is None
    assert OPTIMIZERS["sgd"].stability_edge({}, -h) == math.inf
