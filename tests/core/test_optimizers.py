"""Optimizers: hand-computed steps, equivalences, validation, one table for generic checks."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gd_explorer.cli import _join_negative_values, _optimizer_kwargs, build_parser
from gd_explorer.core.engine.descent import run_descent
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.optim.schedules import make_schedule
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.session.specs import RunSpec, Session, load_session, save_session

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
    ("nadam", {}, 0.05),
    ("nadam", {"decoupled_weight_decay": True, "weight_decay": 0.01}, 0.05),
    ("radam", {}, 0.05),
    ("adamax", {}, 0.05),
    ("adadelta", {}, 1.0),
    ("lion", {}, 0.01),
    ("rprop", {}, 0.01),
    ("asgd", {"t0": 100.0}, 0.1),
    ("adafactor", {}, 0.05),
    ("lbfgs", {}, 1.0),
    ("lbfgs", {"line_search_fn": "strong_wolfe", "history_size": 3}, 1.0),
    ("newton", {}, 1.0),
    ("newton", {"min_curvature": 0.5}, 0.5),
    ("gauss_newton", {}, 1.0),
    ("levenberg_marquardt", {}, 1.0),
    ("levenberg_marquardt", {"lambda0": 100.0, "factor": 3.0}, 1.0),
    ("gd_armijo", {}, 1.0),
    ("gd_armijo", {"shrink": 0.8, "c1": 0.3}, 2.0),
    ("gd_wolfe", {}, 1.0),
    ("cg", {}, 1.0),
    ("cg", {"beta_rule": "fletcher_reeves", "restart": 5}, 0.5),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw, _ in TABLE]


def _least_squares_only(name):
    """Entries that need a least-squares fit (Gauss–Newton, LM): refused on functions."""
    return OPTIMIZERS[name].unmet_needs(least_squares=False, full_batch=True) is not None


def _bowl_or_fit(name):
    """The bowl from (2.5, -2) with its minimum; a line fit (MSE) for least-squares entries."""
    if _least_squares_only(name):
        from gd_explorer.core.problems.datasets import dataset_objective

        fit = dataset_objective("noisy-line", "linear", "mse")
        return fit, [0.0, 0.0], list(fit.optima[0].point), fit.optima[0].value
    return get_function("bowl"), [2.5, -2.0], [0.0, 0.0], 0.0


def one_step(name, p, g, lr, **kw):
    opt = make_optimizer(name, lr=lr, **kw)
    p = np.atleast_2d(np.asarray(p, float))
    state = opt.init_state(p)
    return opt.step(p, np.atleast_2d(np.asarray(g, float)), state)[0]


def test_registry_has_torch_names():
    torch_names = {"sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax",
                   "adadelta", "asgd", "rprop", "adafactor"}
    assert torch_names <= set(OPTIMIZERS)
    assert list(OPTIMIZERS)[:5] == ["sgd", "adam", "rmsprop", "adagrad", "adamw"]  # picker order


def test_the_table_covers_the_registry():
    assert {name for name, _, _ in TABLE} == set(OPTIMIZERS)


@pytest.mark.parametrize(("name", "kw", "lr"), TABLE, ids=IDS)
def test_loss_decreases_and_minimum_is_reached(name, kw, lr):
    objective, start, minimum, lowest = _bowl_or_fit(name)
    opt = make_optimizer(name, lr=lr, **kw)
    traj = run_descent(objective, opt, start, steps=3000)
    assert traj.loss[-1] - lowest < 1e-3 * (traj.loss[0] - lowest)
    np.testing.assert_allclose(traj.final, minimum, atol=0.05)


@pytest.mark.parametrize(("name", "kw", "lr"), TABLE, ids=IDS)
def test_maximize_climbs_the_fence_area(name, kw, lr):
    if _least_squares_only(name):  # a sum of squares has no maximum: refused, in words
        with pytest.raises(ValueError, match="minimizes a sum of squares: it cannot maximize"):
            make_optimizer(name, lr=lr, maximize=True, **kw)
        return
    area = get_function("fence-area")
    kw = {k: v for k, v in kw.items() if k != "weight_decay"}
    opt = make_optimizer(name, lr=lr * (10 if OPTIMIZERS[name].adaptive else 1), maximize=True,
                         **kw)
    traj = run_descent(area, opt, [57.0], steps=4000)
    assert traj.loss[-1] > traj.loss[0]
    assert traj.final[0] == pytest.approx(50.0, abs=0.5)


@pytest.mark.parametrize(("name", "kw", "lr"), TABLE, ids=IDS)
def test_maximize_on_f_equals_minimize_on_minus_f(name, kw, lr):
    from gd_explorer.core.problems.objectives import expression_objective

    f = expression_objective("(x - 1)**2 + 3*y**2 + x*y")
    neg = expression_objective("-((x - 1)**2 + 3*y**2 + x*y)")
    if _least_squares_only(name):  # a formula is no least-squares fit: refused, in words
        with pytest.raises(ValueError, match="needs a least-squares fit"):
            run_descent(f, make_optimizer(name, lr=lr, **kw), [2.0, 1.0], steps=50)
        return
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
        ("lbfgs-b", {}, "unknown optimizer 'lbfgs-b'; choose one of: sgd"),
        ("rprop", {"etas": (1.2, 0.5)}, r"etas must satisfy 0 < etas\[0\] < 1 < etas\[1\]"),
        ("rprop", {"step_sizes": (1.0, 0.1)}, r"step_sizes\[0\] must be <= step_sizes\[1\]"),
        ("adafactor", {"d": 0.5}, "d must be >= 1"),
        ("adafactor", {"beta2_decay": 0.5}, "beta2_decay must be <= 0"),
        ("adafactor", {"eps": (None, None)}, r"eps\[1\] must be a number"),
        ("nadam", {"momentum_decay": -1}, "momentum_decay must be zero or positive"),
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


# ------------------------------------------------------------------ the registry, entry by entry
GOLDEN_DIR = Path(__file__).parent / "golden"
# torch's and optax's trajectories; scipy's answers and closed forms for the entries
# torch.optim lacks (Newton, Gauss–Newton, LM, line-search GD, CG: test_second_order.py)
GOLDEN_CASES = [case for name in ("torch_golden.json", "torch_golden_optim.json",
                                  "optax_golden.json", "scipy_golden.json")
                for case in json.loads((GOLDEN_DIR / name).read_text(encoding="utf-8"))["cases"]]


def _non_default(p):
    """A valid value other than the default, for round trips through CLI and session."""
    if p.kind == "bool":
        return not p.default
    if p.kind == "choice":
        return next(c for c in p.choices if c != p.default)
    if p.kind == "pair":
        return tuple((0.5 if v is None else v * 0.5 if p.low is None or v * 0.5 >= p.low else v)
                     if i == 0 else v for i, v in enumerate(p.default))
    if p.kind == "int":
        return 30 if p.default is None else p.default + 1
    v = p.default * 0.5 if p.default else 0.125
    return v if p.high is None or v <= p.high else p.default


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_registry_entry_is_complete(name, tmp_path):
    cls = OPTIMIZERS[name]
    # the rule text: one source, in the docstring too (tooltips and step log read it)
    assert cls.rule_text.strip() and cls.rule_text.split("\n")[0] in cls.__doc__
    assert cls.title and cls.name == name
    assert cls.momentum_buffer is None or cls.momentum_buffer in cls.buffer_names
    assert cls.default_lr(0.1, 0.01) > 0
    assert cls.evaluations is None or cls.evaluations >= 1
    text = cls.describe()
    for p in cls.params:
        assert p.describe() in text
    # a state buffer per declared name, shaped like the parameters
    opt = cls()
    state = opt.init_state(np.zeros((3, 2)))
    assert set(state.buffers()) >= set(cls.buffer_names) - {"history"}
    # golden data from an independent reference, on at least two problems
    objectives = {c["objective"] for c in GOLDEN_CASES if c["optimizer"] == name}
    assert len(objectives) >= 2, f"{name}: golden data on {sorted(objectives)}"
    # a CLI flag per hyperparameter, parsed by the declaration
    values = {}
    for p in cls.params:  # every value changed that the cross-field rules allow together
        trial = {**values, p.name: _non_default(p)}
        try:
            cls(**trial)
        except ValueError:
            trial[p.name] = p.default
        values = trial
    assert len(cls.params) < 2 or sum(values[p.name] != p.default for p in cls.params) >= 2
    argv = ["run", "--function", "bowl", "--optimizer", name, "--steps", "2"]
    for p in cls.params:
        argv += [p.flag, p.format(values[p.name])]
    args = build_parser().parse_args(_join_negative_values(argv))
    assert _optimizer_kwargs(args) == values
    # a session with these settings saves, reloads and runs
    run = RunSpec(optimizer=name, lr=0.01, hyper=values)
    session = Session(runs=(run,))
    if _least_squares_only(name):
        from gd_explorer.core.session.specs import ProblemSpec

        session = Session(problem=ProblemSpec(kind="dataset", dataset="noisy-line"), runs=(run,))
    path = tmp_path / "s.json"
    save_session(path, session)
    back = load_session(path)
    assert back.runs[0].hyper == values
    traj = back.descent(0, back.problem.build()).run()
    assert traj.steps >= 1 and np.all(np.isfinite(traj.params))


def test_a_wrong_entry_is_refused_when_it_is_defined():
    from gd_explorer.core.optim.optimizers import Optimizer

    with pytest.raises(TypeError, match="is taken by SGD"):
        type("Again", (Optimizer,), {"name": "sgd", "title": "x", "rule_text": "p ← p"})
    with pytest.raises(TypeError, match="needs a title and its rule_text"):
        type("NoRule", (Optimizer,), {"name": "norule", "title": "x"})
    assert "sgd" in OPTIMIZERS and "norule" not in OPTIMIZERS
