"""Newton, Gauss–Newton, LM, line-search gradient descent and nonlinear CG against closed
forms, hand-written iterations and scipy.optimize (``golden/scipy_golden.json``, made by
``golden/generate_golden_scipy.py``; scipy is not a dependency).

Conventions (see the generator): scipy's CG is PR+ with its own line search and LM is
MINPACK's trust-region form, so final points are compared to a tolerance, not iterates;
iterates are compared where the rule's text determines them (Newton's step, Armijo
backtracking from t = lr, the Gauss–Newton step).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gd_explorer.core.engine.descent import Descent, run_descent
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.problems.datasets import dataset_objective
from gd_explorer.core.problems.functions import get_function

GOLDEN = json.loads((Path(__file__).parent / "golden" / "scipy_golden.json")
                    .read_text(encoding="utf-8"))
CASES = GOLDEN["cases"]
FITS = {"noisy_line_linear": ("noisy-line", "linear"),
        "noisy_parabola_quadratic_full": ("noisy-parabola", "quadratic-full"),
        "fence_quadratic": ("fence", "quadratic")}
SECOND_ORDER = ("newton", "gauss_newton", "levenberg_marquardt", "gd_armijo", "gd_wolfe", "cg")


def objective_of(name):
    if name in FITS:
        return dataset_objective(*FITS[name], "mse")
    return get_function(name.replace("_", "-"))


def run_case(case, steps=100_000, grad_tol=None):
    obj = objective_of(case["objective"])
    opt = make_optimizer(case["optimizer"], **case["kwargs"])
    tol = GOLDEN["gtol"] if grad_tol is None else grad_tol
    return run_descent(obj, opt, case["start"], steps=steps, grad_tol=tol)


def _ids(cases):
    return [c["name"] for c in cases]


def test_the_golden_data_says_where_it_came_from():
    assert GOLDEN["versions"]["scipy"] and GOLDEN["versions"]["numpy"]
    for name in SECOND_ORDER:
        assert len({c["objective"] for c in CASES if c["optimizer"] == name}) >= 2, name
    assert set(SECOND_ORDER) <= set(OPTIMIZERS)


# ------------------------------------------------------------------ final points
FINAL = [c for c in CASES if c["optimizer"] != "gd_wolfe" or c["objective"] != "rosenbrock"]


@pytest.mark.parametrize("case", FINAL, ids=_ids(FINAL))
def test_final_point_agrees_with_the_reference(case):
    # steepest descent on a fit whose loss stays ~0.7: near |g| = 1e-7 the decrease a line
    # search must see (c1·t·|g|²) is below the loss's rounding, so it stops there
    loose = case["optimizer"].startswith("gd_") and case["objective"] in FITS
    traj = run_case(case, grad_tol=1e-7 if loose else None)
    assert traj.status == "converged", traj.message
    np.testing.assert_allclose(traj.final, case["final"], rtol=0, atol=case["atol"],
                               err_msg=case["reference"])


def test_strong_wolfe_descent_on_rosenbrock_heads_for_scipys_point():
    # steepest descent crawls along the valley: scipy's line search needed 22,557 steps
    # to |g| <= 1e-9; ours is checked after 20,000 at a looser tolerance
    case = next(c for c in CASES if c["name"] == "gd_wolfe__rosenbrock")
    traj = run_case(case, steps=20_000, grad_tol=1e-5)
    np.testing.assert_allclose(traj.final, case["final"], atol=2e-3)


ITERATES = [c for c in CASES if "iterates" in c]


@pytest.mark.parametrize("case", ITERATES, ids=_ids(ITERATES))
def test_iterates_agree_with_the_rule_written_out(case):
    expected = np.array(case["iterates"])
    traj = run_case(case, steps=len(expected) - 1, grad_tol=0.0)
    n = min(len(traj.params), len(expected))
    assert n >= 2
    scale = max(1.0, float(np.max(np.abs(expected))))
    # Newton's Hessian is the objective's (exact for formulas, differences for fits)
    tol = 1e-9 if case["optimizer"] != "newton" else 1e-7
    np.testing.assert_allclose(traj.params[:n], expected[:n], rtol=0, atol=tol * scale)


COUNTED = [c for c in CASES if c.get("comparable_iterations")]


@pytest.mark.parametrize("case", COUNTED, ids=_ids(COUNTED))
def test_cg_takes_about_as_many_iterations_as_scipys(case):
    traj = run_case(case)
    # both PR+; the line searches differ, so the counts agree in size, not exactly
    assert traj.steps <= 2 * case["iterations"] + 5, (traj.steps, case["iterations"])


# ------------------------------------------------------------------ closed forms
@pytest.mark.parametrize("name", ["bowl", "ill-conditioned"])
def test_newton_solves_a_quadratic_in_one_step(name):
    f = get_function(name)
    traj = run_descent(f, make_optimizer("newton"), f.start, steps=1)
    np.testing.assert_allclose(traj.params[1], [0.0, 0.0], atol=1e-9)
    # damped: lr is the fraction of the Newton step
    half = run_descent(f, make_optimizer("newton", lr=0.5), f.start, steps=1)
    np.testing.assert_allclose(half.params[1], 0.5 * np.array(f.start), atol=1e-9)


@pytest.mark.parametrize("fit", list(FITS))
def test_gauss_newton_is_lstsq_in_one_step(fit):
    obj = objective_of(fit)
    traj = run_descent(obj, make_optimizer("gauss_newton"), np.zeros(obj.dim), steps=1)
    expected = np.linalg.lstsq(obj.phi, obj.y, rcond=None)[0]
    np.testing.assert_allclose(traj.params[1], expected, rtol=1e-10)


def test_cg_minimises_a_two_dimensional_quadratic_in_two_steps():
    # with exact-enough line searches CG ends on an n-dimensional quadratic in n steps
    f = get_function("ill-conditioned")
    for rule in ("polak_ribiere", "fletcher_reeves"):
        traj = run_descent(f, make_optimizer("cg", beta_rule=rule, c1=1e-10, c2=1e-8), f.start, steps=2)
        np.testing.assert_allclose(traj.params[2], [0.0, 0.0], atol=1e-6)


# ------------------------------------------------------------------ state, in words
def test_newton_shifts_a_hessian_that_is_not_positive_definite_and_says_so():
    f = get_function("himmelblau")  # at the origin H = diag(-42, -26), g = (-14, -22)
    opt = make_optimizer("newton", lr=1.0, min_curvature=1.0)
    descent = Descent(f, opt, [0.0, 0.0], max_steps=1)
    descent.step()
    state = descent.state.buffers()
    assert state["lambda_min"][0, 0] == pytest.approx(-42.0)
    assert state["shift"][0, 0] == pytest.approx(43.0)
    # (H + 43 I) s = g: s = (-14 / 1, -22 / 17)
    np.testing.assert_allclose(descent.p[0], [14.0, 22.0 / 17.0], rtol=1e-6)
    lines = OPTIMIZERS["newton"].state_lines({k: v[0] for k, v in state.items()})
    assert lines == ["Hessian not positive definite (λmin = -42): shifted by 43"]
    pd = OPTIMIZERS["newton"].state_lines({"lambda_min": np.array([2.0]), "shift": np.zeros(1)})
    assert pd == ["Hessian positive definite (λmin = 2): the plain Newton step"]


def test_levenberg_marquardt_adapts_lambda_as_marquardt_does():
    obj = objective_of("noisy_line_linear")
    # lr 2.5 overshoots the Gauss–Newton point (the loss rises): λ is raised until the
    # damped step is short enough, then lowered after each accepted step
    opt = make_optimizer("levenberg_marquardt", lr=2.5, lambda0=1e-3)
    descent = Descent(obj, opt, [0.0, 0.0], max_steps=5)
    descent.step()
    st = descent.state
    assert st.rejected[0, 0] >= 1
    assert st.lam[0, 0] == pytest.approx(1e-3 * 10 ** (st.rejected[0, 0] - 1))
    assert st.evaluations[0, 0] == st.rejected[0, 0] + 2  # f(p) and every trial
    assert st.trial_points.shape[1] == st.rejected[0, 0] + 1
    assert descent.value[0] < obj.value(np.zeros(2))
    ok = make_optimizer("levenberg_marquardt", lambda0=1e-3)
    d2 = Descent(obj, ok, [0.0, 0.0], max_steps=5)
    d2.step()
    assert d2.state.rejected[0, 0] == 0 and d2.state.lam[0, 0] == pytest.approx(1e-4)
    lines = OPTIMIZERS["levenberg_marquardt"].state_lines(
        {k: v[0] for k, v in d2.state.buffers().items()})
    assert lines == ["λ = 0.0001 for the next step; 2 evaluation(s), first trial accepted"]


def test_line_searches_keep_their_trial_points_and_count_evaluations():
    f = get_function("rosenbrock")
    for name in ("gd_armijo", "gd_wolfe", "cg"):
        descent = Descent(f, make_optimizer(name), [-1.5, 2.0], max_steps=3)
        descent.step()
        st = descent.state
        trials = st.trial_points[0]
        trials = trials[np.all(np.isfinite(trials), axis=1)]
        assert len(trials) == st.evaluations[0, 0] - 1 >= 1, name  # the first is f(p)
        assert "trial_points" in OPTIMIZERS[name].point_buffers
        # the accepted point is the last trial (Armijo) or one of them (Wolfe's zoom)
        assert np.any(np.all(np.isclose(trials, descent.p[0]), axis=1)), name


def test_armijo_backtracks_from_lr_by_the_shrink_factor():
    f = get_function("bowl")  # g = 2p; t = 4 overshoots, 2, 1 too (f unchanged), 0.5 lands
    descent = Descent(f, make_optimizer("gd_armijo", lr=4.0, shrink=0.5), [1.0, 1.0],
                      max_steps=1)
    descent.step()
    assert descent.state.step_size[0, 0] == 0.5
    np.testing.assert_allclose(descent.p[0], [0.0, 0.0], atol=1e-15)
    assert OPTIMIZERS["gd_armijo"].state_lines({k: v[0] for k, v in descent.state.buffers()
                                                .items()}) == [
        "step size t = 0.5 after 5 evaluation(s)"]


def test_cg_restarts_on_schedule_and_says_so():
    f = get_function("rosenbrock")
    descent = Descent(f, make_optimizer("cg", restart=2), [-1.5, 2.0], max_steps=10)
    whys = []
    for _ in range(5):
        descent.step()
        whys.append(int(descent.state.restarted[0, 0]))
    assert whys[0] == 0 and whys[2] == 1 and whys[4] == 1  # every 2 steps
    assert descent.state.restarts[0, 0] >= 2
    text = OPTIMIZERS["cg"].state_lines({k: v[0] for k, v in descent.state.buffers().items()})
    assert text[0].startswith("d = −g (scheduled restart); step size t = ")


def test_cg_restarts_when_the_direction_is_not_one_of_descent():
    opt = make_optimizer("cg")
    p = np.array([[0.0, 0.0]])
    st = opt.init_state(p)
    # pretend the last step went along +x with a tiny gradient: FR's β·d₋ then dominates
    st.step = 1
    st.direction[:] = [[10.0, 0.0]]
    st.prev_grad[:] = [[-1e-3, 0.0]]
    st.since_restart[:] = 1
    opt.hyper.beta_rule = "fletcher_reeves"

    def closure(x):
        return np.sum(x * x, axis=1), 2 * x

    g = np.array([[1.0, 1.0]])  # β = 2 / 1e-6: d = −g + β·d₋ climbs along +x
    opt.step(p, g, st, closure=closure)
    assert st.restarted[0, 0] == 2
    np.testing.assert_allclose(st.direction[0], [-1.0, -1.0])


# ------------------------------------------------------------------ refusals
def test_least_squares_methods_refuse_other_objectives_in_one_line():
    for name in ("gauss_newton", "levenberg_marquardt"):
        for obj in (get_function("rosenbrock"), dataset_objective("noisy-line", "linear", "mae")):
            with pytest.raises(ValueError, match=r"needs a least-squares fit \(a dataset with "
                               r"the MSE loss\)$"):
                Descent(obj, make_optimizer(name), obj.start)


def test_hessian_and_least_squares_methods_refuse_mini_batches():
    obj = dataset_objective("noisy-line", "linear", "mse")
    for name in ("newton", "gauss_newton", "levenberg_marquardt"):
        with pytest.raises(ValueError, match="needs the full batch"):
            Descent(obj, make_optimizer(name), obj.start, batch_size=10)
    # the line searches take the step's mini-batch, as L-BFGS does
    Descent(obj, make_optimizer("cg"), obj.start, batch_size=10).advance(3)


def test_switching_a_running_descent_to_gauss_newton_on_a_function_is_refused():
    f = get_function("bowl")
    descent = Descent(f, make_optimizer("sgd", lr=0.1), f.start, max_steps=10)
    descent.advance(2)
    with pytest.raises(ValueError, match="needs a least-squares fit"):
        descent.replace_optimizer(make_optimizer("gauss_newton"))
    assert type(descent.optimizer).__name__ == "SGD"


def test_the_cli_refuses_gauss_newton_on_a_function(capsys):
    from gd_explorer.cli import main

    assert main(["run", "--function", "rosenbrock", "--optimizer", "gauss_newton"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Gauss–Newton needs a least-squares fit (a dataset with the MSE " \
        "loss)" in err[0]
    assert main(["run", "--dataset", "noisy-line", "--optimizer", "gauss_newton",
                 "--steps", "3"]) == 0
    assert "converged after 1 steps" in capsys.readouterr().out


def test_batched_newton_equals_single_runs():
    f = get_function("himmelblau")
    starts = np.array([[1.0, 1.0], [-3.0, 3.0], [0.0, 0.0], [3.5, -2.0]])
    batch = run_descent(f, make_optimizer("newton", lr=0.5), starts, steps=20)
    for j, s in enumerate(starts):
        one = run_descent(f, make_optimizer("newton", lr=0.5), s, steps=20)
        n = len(one.params)
        np.testing.assert_allclose(batch[j].params[:n], one.params, rtol=1e-12, atol=1e-12)
