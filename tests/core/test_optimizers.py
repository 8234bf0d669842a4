"""Optimizers: hand-computed steps, equivalences, validation, one table for generic checks."""

import math

import numpy as np
import pytest

from gd_explorer.core.engine.descent import run_descent
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.optim.schedules import make_schedule
from gd_explorer.core.problems.functions import get_function

# optimizer table: name, kwargs, lr on the bowl (used by the generic checks)
TABLE = [
    ("sgd", {}, 0.1),
    ("sgd", {"momentum": 0.9}, 0.05),
    ("sgd", {"momentum": 0.9, "nesterov": True}, 0.05),
    ("sgd", {"momentum": 0.5, "dampening": 0.5, "weight_decay": 0.01}, 0.1),
    ("adagrad", {}, 0.5),
    ("adagrad", {"lr_decay": 0.001, "initial_accumulator_value": 0.1}, 0.5),
    ("rmsprop", {}, 0.01),
    ("rmsprop", {"centered": True, "momentum": 0.5}, 0.01),
    ("adam", {}, 0.05),
    ("adam", {"amsgrad": True}, 0.05),
    ("adamw", {}, 0.05),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw, _ in TABLE]


def one_step(name, p, g, lr, **kw):
    opt = make_optimizer(name, lr=lr, **kw)
    p = np.atleast_2d(np.asarray(p, float))
    state = opt.init_state(p)
    return opt.step(p, np.atleast_2d(np.asarray(g, float)), state)[0]


def test_registry_has_torch_names():
    assert set(OPTIMIZERS) == {"sgd", "adagrad", "rmsprop", "adam", "adamw"}


@pytest.mark.parametrize(("name", "kw", "lr"), TABLE, ids=IDS)
def test_loss_decreases_and_minimum_is_reached(name, kw, lr):
    bowl = get_function("bowl")
    opt = make_optimizer(name, lr=lr, **kw)
    traj = run_descent(bowl, opt, [2.5, -2.0], steps=3000)
    assert traj.loss[-1] < 1e-3 * traj.loss[0]
    np.testing.assert_allclose(traj.final, [0.0, 0.0], atol=0.05)


@pytest.mark.parametrize(("name", "kw", "lr"), TABLE, ids=IDS)
def test_maximize_climbs_the_fence_area(name, kw, lr):
    area = get_function("fence-area")
    kw = {k: v for k, v in kw.items() if k != "weight_decay"}
    opt = make_optimizer(name, lr=lr * (1 if name == "sgd" else 10), maximize=True, **kw)
    traj = run_descent(area, opt, [57.0], steps=4000)
    assert traj.loss[-1] > traj.loss[0]
    assert traj.final[0] == pytest.approx(50.0, abs=0.5)


@pytest.mark.parametrize(("name", "kw", "lr"), TABLE, ids=IDS)
def test_maximize_on_f_equals_minimize_on_minus_f(name, kw, lr):
    from gd_explorer.core.problems.objectives import expression_objective

    f = expression_objective("(x - 1)**2 + 3*y**2 + x*y")
    neg = expression_objective("-((x - 1)**2 + 3*y**2 + x*y)")
    a = run_descent(f, make_optimizer(name, lr=lr, **kw), [2.0, 1.0], steps=50, grad_tol=0)
    b = run_descent(neg, make_optimizer(name, lr=lr, maximize=True, **kw), [2.0, 1.0],
                    steps=50, grad_tol=0)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-13, atol=1e-13)


def test_seed_000_ascent_step_by_hand():
    # A'(57) = -14: gradient ascent with lr 3/14 steps from 57 to 54, as the article does
    assert one_step("sgd", [57.0], [-14.0], 3 / 14, maximize=True)[0] == pytest.approx(54.0)
    assert one_step("sgd", [57.0], [-14.0], 0.1, maximize=True)[0] == pytest.approx(55.6)


def test_first_steps_by_hand():
    p, g, lr = np.array([1.0, -2.0]), np.array([4.0, -0.5]), 0.1
    np.testing.assert_allclose(one_step("sgd", p, g, lr), p - lr * g)
    # momentum: buffer starts at g, so the first step is the plain one
    np.testing.assert_allclose(one_step("sgd", p, g, lr, momentum=0.9), p - lr * g)
    np.testing.assert_allclose(one_step("sgd", p, g, lr, momentum=0.9, nesterov=True),
                               p - lr * (g + 0.9 * g))
    np.testing.assert_allclose(one_step("adagrad", p, g, lr), p - lr * g / (np.abs(g) + 1e-10))
    np.testing.assert_allclose(one_step("rmsprop", p, g, lr),
                               p - lr * g / (np.sqrt(0.01 * g * g) + 1e-8))
    # Adam's first step has length lr in every coordinate (bias corrections cancel)
    np.testing.assert_allclose(one_step("adam", p, g, lr), p - lr * g / (np.abs(g) + 1e-8),
                               rtol=1e-12)
    np.testing.assert_allclose(one_step("adamw", p, g, lr, weight_decay=0.5),
                               p * (1 - lr * 0.5) - lr * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_second_sgd_momentum_step_by_hand():
    opt = make_optimizer("sgd", lr=0.1, momentum=0.9, dampening=0.5)
    p = np.array([[1.0]])
    st = opt.init_state(p)
    p = opt.step(p, np.array([[2.0]]), st)  # buf = 2
    p = opt.step(p, np.array([[1.0]]), st)  # buf = 0.9*2 + 0.5*1 = 2.3
    assert st.momentum_buffer[0, 0] == pytest.approx(2.3)
    assert p[0, 0] == pytest.approx(1.0 - 0.2 - 0.23)


def test_momentum_zero_is_plain_gradient_descent():
    f = get_function("rosenbrock")
    a = run_descent(f, make_optimizer("sgd", lr=1e-3), [-1.5, 2.0], steps=300)
    b = run_descent(f, make_optimizer("sgd", lr=1e-3, momentum=0.0, dampening=0.3), [-1.5, 2.0],
                    steps=300)
    np.testing.assert_array_equal(a.params, b.params)


def test_adamw_without_weight_decay_is_adam():
    f = get_function("rosenbrock")
    a = run_descent(f, make_optimizer("adam", lr=1e-2), [-1.5, 2.0], steps=300)
    b = run_descent(f, make_optimizer("adamw", lr=1e-2, weight_decay=0.0), [-1.5, 2.0], steps=300)
    np.testing.assert_array_equal(a.params, b.params)


def test_defaults_are_torchs():
    assert make_optimizer("adam").hyperparameters() == {
        "lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
        "amsgrad": False, "maximize": False}
    assert make_optimizer("adamw").hyper.weight_decay == 1e-2
    rms = make_optimizer("rmsprop").hyper
    assert (rms.alpha, rms.eps, rms.momentum, rms.centered) == (0.99, 1e-8, 0.0, False)
    ada = make_optimizer("adagrad").hyper
    assert (ada.lr_decay, ada.eps, ada.initial_accumulator_value) == (0.0, 1e-10, 0.0)


@pytest.mark.parametrize(
    ("name", "kw", "message"),
    [
        ("sgd", {"lr": -1}, "learning rate must be positive, got -1"),
        ("sgd", {"lr": 0}, "learning rate must be positive"),
        ("sgd", {"lr": math.nan}, "learning rate must be finite"),
        ("sgd", {"lr": "fast"}, "learning rate must be a number"),
        ("sgd", {"momentum": -0.1}, "momentum must be zero or positive"),
        ("sgd", {"nesterov": True}, "nesterov momentum requires a momentum > 0"),
        ("sgd", {"dampening": 2}, "dampening must be in"),
        ("adam", {"betas": (0.9, 1.0)}, r"betas\[1\] must be in \[0, 1\)"),
        ("adam", {"betas": (-0.1, 0.9)}, r"betas\[0\] must be in"),
        ("adam", {"betas": 0.9}, "betas must be a pair"),
        ("adam", {"eps": -1e-8}, "eps must be zero or positive"),
        ("adam", {"momentum": 0.9}, "adam has no hyperparameter 'momentum'"),
        ("rmsprop", {"alpha": 1.5}, "alpha must be in"),
        ("adagrad", {"lr_decay": -1}, "lr_decay must be zero or positive"),
        ("adam", {"amsgrad": "yes"}, "amsgrad must be true or false"),
        ("lbfgs", {}, "unknown optimizer 'lbfgs'; choose one of: sgd"),
    ],
)
def test_bad_hyperparameters_are_refused_clearly(name, kw, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, **kw)


def test_schedules_follow_torch_semantics():
    s = make_schedule("step", base_lr=1.0, step_size=3, gamma=0.5)
    assert [s.lr(t) for t in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    e = make_schedule("exponential", base_lr=2.0, gamma=0.5)
    assert [e.lr(t) for t in range(3)] == [2.0, 1.0, 0.5]
    c = make_schedule("cosine", base_lr=1.0, t_max=10, eta_min=0.1)
    assert c.lr(0) == 1.0 and c.lr(10) == pytest.approx(0.1) and c.lr(5) == pytest.approx(0.55)
    assert c.lr(20) == pytest.approx(1.0)  # torch's cosine is periodic beyond t_max
    with pytest.raises(ValueError, match="t_max must be a whole number"):
        make_schedule("cosine", base_lr=1.0, t_max=0)
    with pytest.raises(ValueError, match="schedule 'step' takes no 't_max'"):
        make_schedule("step", base_lr=1.0, t_max=3)
    with pytest.raises(ValueError, match="unknown schedule"):
        make_schedule("warmup", base_lr=1.0)
