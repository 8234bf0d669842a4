"""The engine: stop rules, statuses, divergence, recording, batching, determinism."""

import numpy as np
import pytest

from gd_explorer.core.engine.descent import (
    RUNAWAY_FACTOR,
    RUNAWAY_WIDTHS,
    Descent,
    Trajectory,
    check_start,
    run_descent,
    stop_verdict,
)
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.optim.schedules import make_schedule
from gd_explorer.core.problems.datasets import dataset_objective
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.objectives import expression_objective


def test_rows_follow_the_csv_contract():
    f = get_function("bowl")
    traj = run_descent(f, make_optimizer("sgd", lr=0.1), [2.0, -1.0], steps=3)
    assert traj.status == "max_steps" and traj.steps == 3
    np.testing.assert_array_equal(traj.params[0], [2.0, -1.0])
    for k in range(3):  # row k+1 = row k - lr * grad at row k
        np.testing.assert_allclose(traj.params[k + 1], traj.params[k] - 0.1 * traj.grad[k])
        assert traj.loss[k] == f.value(traj.params[k])
    np.testing.assert_array_equal(traj.lr, [0.1] * 4)


def test_converges_on_gradient_norm_and_reports_it():
    traj = run_descent(get_function("bowl"), make_optimizer("sgd", lr=0.1), [2.0, -1.0],
                       steps=10_000, grad_tol=1e-6)
    assert traj.status == "converged"
    assert traj.grad_norm[-1] <= 1e-6 < traj.grad_norm[-2]
    assert traj.message == f"converged after {traj.steps} steps"


def test_loss_tolerance_stops_when_progress_stalls():
    traj = run_descent(get_function("bowl"), make_optimizer("sgd", lr=0.01), [2.0, -1.0],
                       steps=10_000, loss_tol=1e-4)
    assert traj.status == "converged"
    assert abs(traj.loss[-1] - traj.loss[-2]) <= 1e-4 < abs(traj.loss[-2] - traj.loss[-3])


def test_tol_zero_runs_all_steps_even_at_a_stationary_point():
    traj = run_descent(get_function("bowl"), make_optimizer("sgd", lr=0.1), [0.0, 0.0], steps=25)
    assert traj.status == "max_steps" and traj.steps == 25


def first_step(predicate, limit=10_000):
    """The first k >= 0 for which predicate(k) holds (closed forms below)."""
    return next(k for k in range(limit) if predicate(k))


@pytest.mark.parametrize("start", [[2.5], [[2.5], [1.0]]])
def test_divergence_is_a_status_with_the_step_and_earlier_rows_kept(start):
    # lr = 1.5 on x**2 multiplies x by -2 each step, f_k = 6.25 * 4**k.  The window
    # [-3, 3] holds losses 0 to 9, so from f = 6.25 the spread is 6.25 and the run has
    # run away at the first k with f_k - 6.25 > RUNAWAY_FACTOR * 6.25 (k = 9).
    f = get_function("parabola")
    result = run_descent(f, make_optimizer("sgd", lr=1.5), start, steps=10_000)
    traj = result if isinstance(result, Trajectory) else result[0]
    k = first_step(lambda k: 6.25 * 4.0**k - 6.25 > RUNAWAY_FACTOR * 6.25)
    assert traj.status == "diverged" and traj.diverged_step == k == 9
    assert traj.message == f"diverged at step 9 (loss rose to {6.25 * 4.0**9:.3g} from 6.25)"
    assert traj.steps == traj.diverged_step - 1  # the runaway row is not kept
    assert np.all(np.isfinite(traj.params)) and np.all(np.isfinite(traj.loss))
    np.testing.assert_array_equal(traj.params[:, 0], 2.5 * (-2.0) ** np.arange(traj.steps + 1))


def test_the_lecture_example_diverges_at_step_32_not_627():
    # seed lesson "lr too large": x**2 from 2.5 with lr 1.1, x_k = 2.5 * (-1.2)**k,
    # f_k = 6.25 * 1.44**k; 1.44**k - 1 > 1e5 first at k = 32 (f_32 = 7.3e5).  The old
    # rule waited for 1e100: step 627.
    traj = run_descent(get_function("parabola"), make_optimizer("sgd", lr=1.1), [2.5],
                       steps=1000)
    k = first_step(lambda k: 6.25 * 1.44**k - 6.25 > RUNAWAY_FACTOR * 6.25)
    assert k == 32
    assert traj.message == f"diverged at step 32 (loss rose to {6.25 * 1.44**32:.3g} from 6.25)"
    assert traj.message == "diverged at step 32 (loss rose to 7.3e+05 from 6.25)"
    np.testing.assert_allclose(traj.params[:, 0], 2.5 * (-1.2) ** np.arange(32), rtol=1e-12)


def test_a_saddle_running_to_minus_infinity_diverges_and_says_the_loss_fell():
    # x**2 - y**2 from (-2.5, 0.001), SGD lr 0.1: x_k = -2.5 * 0.8**k, y_k = 0.001 * 1.2**k.
    # The window [-3, 3]^2 holds losses between -9 and 9: the spread from 6.25 is
    # between 6.25 and 15.25, so the step lies between these two closed-form steps.
    traj = run_descent(get_function("saddle"), make_optimizer("sgd", lr=0.1), [-2.5, 0.001],
                       steps=1000)

    def f(k):
        return (2.5 * 0.8**k) ** 2 - (0.001 * 1.2**k) ** 2

    f0 = f(0)
    earliest = first_step(lambda k: f0 - f(k) > RUNAWAY_FACTOR * 6.25)
    latest = first_step(lambda k: f0 - f(k) > RUNAWAY_FACTOR * 15.25)
    assert traj.status == "diverged" and earliest <= traj.diverged_step <= latest
    assert traj.message.startswith(f"diverged at step {traj.diverged_step} (loss fell to -")
    assert traj.message.endswith(" from 6.25)")


def test_maximizing_an_unbounded_function_runs_away_upwards():
    # gradient ascent on x**2 from 1 with lr 0.5: x_k = 2**k, f_k = 4**k; the window's
    # losses are 0 to 9, so the spread from f = 1 is 8 and k = 11 is the first step
    # with 4**k - 1 > 8e5
    traj = run_descent(get_function("parabola"), make_optimizer("sgd", lr=0.5, maximize=True),
                       [1.0], steps=1000)
    assert traj.diverged_step == first_step(lambda k: 4.0**k - 1 > RUNAWAY_FACTOR * 8) == 10
    assert traj.message == f"diverged at step 10 (loss rose to {4.0**10:.3g} from 1)"


def test_a_bounded_loss_whose_parameter_flies_off_diverges_by_the_parameter_rule():
    # sin(x**2) stays in [-1, 1], but SGD with lr 10 multiplies x by about 20 per step;
    # the window [-3, 3] (width 6, centre 0) allows |x| up to RUNAWAY_WIDTHS * 6
    f = expression_objective("sin(x^2)")
    traj = run_descent(f, make_optimizer("sgd", lr=10.0), [1.0], steps=1000)
    assert traj.status == "diverged"
    assert np.all(np.abs(traj.params) < RUNAWAY_WIDTHS * 6)
    x_next = traj.params[-1, 0] - 10.0 * traj.grad[-1, 0]  # the update the rule stopped
    assert abs(x_next) > RUNAWAY_WIDTHS * 6
    assert traj.message == f"diverged at step {traj.steps + 1} (x ran off to {x_next:.3g})"


@pytest.mark.parametrize("formula", ["sin(pi*x)", "sin(pi*x)*sin(pi*y)", "exp(-x^2-y^2)",
                                     "tanh(x)", "1e6 + x^2", "1e-9*x^2"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_no_false_alarm_on_bounded_periodic_or_offset_losses(formula, optimizer):
    # the window's corners and centre alone see sin(pi*x) = 0 (to rounding) and would
    # make a loss change of 1e-11 a "runaway"; the spread comes from points inside too
    f = expression_objective(formula)
    traj = run_descent(f, make_optimizer(optimizer, lr=0.05), f.start, steps=3000)
    assert traj.status != "diverged", traj.message


@pytest.mark.parametrize("case", ["parabola-lr1.1", "saddle", "x2siny-adam", "log-nan",
                                  "sin-x2-param", "bowl-lr10"])
def test_the_scalar_and_the_array_path_stop_at_the_same_row_for_the_same_reason(case):
    f, opt, start = {
        "parabola-lr1.1": (get_function("parabola"), ("sgd", 1.1), [2.5]),
        "saddle": (get_function("saddle"), ("sgd", 0.1), [-2.5, 0.001]),
        "x2siny-adam": (get_function("x2siny"), ("adam", 0.5), [1.0, 1.0]),
        "log-nan": (expression_objective("log(x) + y**2"), ("sgd", 10.0), [0.5, 1.0]),
        "sin-x2-param": (expression_objective("sin(x^2)"), ("sgd", 10.0), [1.0]),
        "bowl-lr10": (get_function("bowl"), ("sgd", 10.0), [1.0, 1.0]),
    }[case]
    single = Descent(f, make_optimizer(opt[0], lr=opt[1]), start, max_steps=5000)
    assert single._scalar is not None  # the fast path on floats
    single.run()
    batch = Descent(f, make_optimizer(opt[0], lr=opt[1]), [start, start], max_steps=5000)
    batch.run()  # numpy arrays, one rule per run
    assert single.statuses[0] == "diverged"
    for j in range(2):
        assert batch.message(j) == single.message(0)
        a, b = single.trajectory(), batch.trajectory(j)
        assert len(a.loss) == len(b.loss)  # the same rows kept (rounding may differ a little)
        np.testing.assert_allclose(a.params, b.params, rtol=1e-12)


#: rows (v, g, p, prev, t) around every edge of the stop rule; bounds: loss in (-10, 10),
#: parameters in (-5, 5); grad_tol 0.5, loss_tol 1e-3, max_steps 100
_LIM = 1e100
_EDGE_ROWS = [
    (1.0, [0.1, 0.2], [1.0, 2.0], 1.5, 3),  # going on
    (10.0, [0.1, 0.2], [1.0, 2.0], 1.5, 3),  # the loss at its bound
    (-10.0, [0.1, 0.2], [1.0, 2.0], 1.5, 3),
    (np.nan, [0.1, 0.2], [1.0, 2.0], 1.5, 3),
    (1.0, [_LIM, 0.2], [1.0, 2.0], 1.5, 3),  # a gradient at the limit
    (1.0, [0.1, -np.inf], [1.0, 2.0], 1.5, 3),
    (1.0, [0.1, np.nan], [1.0, 2.0], 1.5, 3),
    (1.0, [0.1, 0.2], [5.0, 2.0], 1.5, 3),  # a parameter at its bound
    (1.0, [0.1, 0.2], [1.0, np.nan], 1.5, 3),
    (1.0, [0.5, 0.0], [1.0, 2.0], 1.5, 3),  # gradient norm exactly 0.5
    (1.0, [0.5, 0.01], [1.0, 2.0], 1.5, 3),
    (1.0, [3.0, 4.0], [1.0, 2.0], 1.0 + 1e-3, 3),  # loss change 1e-3 (rounded)
    (1.0, [3.0, 4.0], [1.0, 2.0], 1.0, 0),  # the first row: no loss change yet
    (1.0, [3.0, 4.0], [1.0, 2.0], np.nan, 3),
    (1.0, [3.0, 4.0], [1.0, 2.0], 2.0, 100),  # the last step
    (1.0, [1e200, 4.0], [1.0, 2.0], 2.0, 100),  # beyond the limit, and a norm that overflows
]


@pytest.mark.parametrize("tols", [(0.5, 1e-3, 100), (0.0, 0.0, 100), (0.0, 1e-3, 3)])
def test_the_stop_rule_gives_floats_and_arrays_the_same_verdicts(tols):
    bounds = (-10.0, 10.0, [(-5.0, 5.0), (-5.0, 5.0)])
    each = [stop_verdict(v, g, p, prev, t, bounds, *tols) for v, g, p, prev, t in _EDGE_ROWS]
    for t in {row[4] for row in _EDGE_ROWS}:  # one batch per t: the arrays share one step
        rows = [r for r in _EDGE_ROWS if r[4] == t]
        k = len(rows)
        v = np.array([r[0] for r in rows])
        g = np.array([r[1] for r in rows])
        p = np.array([r[2] for r in rows])
        prev = np.array([r[3] for r in rows])
        batch = (np.full(k, -10.0), np.full(k, 10.0), [(np.full(k, -5.0), np.full(k, 5.0))] * 2)
        with np.errstate(all="ignore"):
            within, converged, at_end = stop_verdict(v, g.T, p.T, prev, t, batch, *tols)
        expect = [e for e, r in zip(each, _EDGE_ROWS) if r[4] == t]
        assert list(np.broadcast_to(within, k)) == [e[0] for e in expect]
        assert list(np.broadcast_to(converged, k)) == [e[1] for e in expect]
        assert all(e[2] == at_end for e in expect)
    if tols[0]:  # the edges do what they say
        assert [e[0] for e in each] == [True, False, False, False, False, False, False, False,
                                        False, True, True, True, True, True, True, False]
        assert [e[1] for e in each][9:12] == [True, False, True]


@pytest.mark.parametrize("limits", [{"grad_tol": 1e-4}, {"loss_tol": 1e-9},
                                    {"grad_tol": 1e-4, "loss_tol": 1e-7}, {}])
def test_the_scalar_and_the_array_path_converge_at_the_same_row(limits):
    f = get_function("rosenbrock")
    single = Descent(f, make_optimizer("adam", lr=0.01), [-1.5, 2.0], max_steps=20_000,
                     **limits)
    assert single._scalar is not None
    single.run()
    batch = Descent(f, make_optimizer("adam", lr=0.01), [[-1.5, 2.0]] * 2, max_steps=20_000,
                    **limits)
    batch.run()
    assert single.status == ("converged" if limits else "max_steps")
    for j in range(2):
        assert (batch.statuses[j], batch.run_rows[j]) == (single.statuses[0], single.run_rows[0])
        assert batch.message(j) == single.message(0)


def test_batched_runs_get_their_own_bounds_and_flag_per_run():
    # lr 1.1 on x**2: run 0 from 2.5 (f = 6.25, spread 6.25), run 1 from 0.5 (f = 0.25,
    # spread 9 - 0.25 = 8.75), run 2 from 0 stays at the minimum
    runs = run_descent(get_function("parabola"), make_optimizer("sgd", lr=1.1),
                       [[2.5], [0.5], [0.0]], steps=200, grad_tol=0)
    k0 = first_step(lambda k: 6.25 * 1.44**k - 6.25 > RUNAWAY_FACTOR * 6.25)
    k1 = first_step(lambda k: 0.25 * 1.44**k - 0.25 > RUNAWAY_FACTOR * 8.75)
    assert (runs[0].diverged_step, runs[1].diverged_step) == (k0, k1) == (32, 42)
    assert runs[1].message.endswith(f"(loss rose to {0.25 * 1.44**42:.3g} from 0.25)")
    assert runs[2].status == "max_steps" and runs[2].steps == 200


def test_non_finite_values_diverge_instead_of_raising():
    f = expression_objective("log(x) + y**2")
    traj = run_descent(f, make_optimizer("sgd", lr=10.0), [0.5, 1.0], steps=100)
    assert traj.status == "diverged" and traj.diverged_step == 1


def test_overflow_in_the_fast_path_falls_back_and_diverges():
    f = expression_objective("x**8")
    traj = run_descent(f, make_optimizer("sgd", lr=1.0), [3.0], steps=1000)
    assert traj.status == "diverged"


def test_step_by_step_equals_run_to_end():
    f, start = get_function("rosenbrock"), [-1.5, 2.0]
    full = run_descent(f, make_optimizer("adam", lr=0.01), start, steps=500)
    d = Descent(f, make_optimizer("adam", lr=0.01), start, max_steps=500)
    while d.step():
        pass
    stepped = d.trajectory()
    np.testing.assert_array_equal(full.params, stepped.params)
    np.testing.assert_array_equal(full.loss, stepped.loss)
    d2 = Descent(f, make_optimizer("adam", lr=0.01), start, max_steps=500)
    for chunk in (1, 7, 100, 1000):
        d2.advance(chunk)
    np.testing.assert_array_equal(full.grad, d2.trajectory().grad)


def test_records_generator_yields_every_row():
    d = Descent(get_function("bowl"), make_optimizer("sgd", lr=0.1), [1.0, 1.0], max_steps=5)
    recs = list(d.records())
    assert [r.step for r in recs] == list(range(6))
    np.testing.assert_array_equal([r.params for r in recs], d.trajectory().params)


def test_batched_runs_match_single_runs():
    f = get_function("rosenbrock")
    starts = np.array([[-1.5, 2.0], [0.0, 0.0], [1.5, -0.5]])
    batch = run_descent(f, make_optimizer("adam", lr=0.01), starts, steps=400)
    for j, s in enumerate(starts):
        single = run_descent(f, make_optimizer("adam", lr=0.01), s, steps=400)
        np.testing.assert_allclose(batch[j].params, single.params, rtol=1e-12, atol=1e-12)


def test_batched_runs_stop_independently():
    f = get_function("parabola")
    starts = np.array([[1.0], [1e-9], [1e60]])
    runs = run_descent(f, make_optimizer("sgd", lr=0.1), starts, steps=1000, grad_tol=1e-6)
    assert [r.status for r in runs] == ["converged", "converged", "diverged"]
    assert runs[1].steps == 0 and len(runs[1].loss) == 1
    assert runs[2].diverged_step == 0 and len(runs[2].loss) == 0  # 1e120 is beyond the limit
    assert runs[0].steps > 10
    assert np.all(np.isfinite(runs[0].params))


def test_schedule_rate_is_recorded_per_row():
    sched = make_schedule("step", base_lr=0.1, step_size=2, gamma=0.5)
    traj = run_descent(get_function("bowl"), make_optimizer("sgd", lr=0.1), [1.0, 1.0],
                       steps=5, schedule=sched)
    np.testing.assert_allclose(traj.lr, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_recording_grows_geometrically_and_costs_little():
    f = get_function("rosenbrock")
    d = Descent(f, make_optimizer("adam", lr=1e-3), [-1.5, 2.0], max_steps=200_000)
    caps = set()
    while d.advance(5000):
        caps.add(d._rec.shape[0])
    assert d.trajectory().steps == 200_000
    assert len(caps) < 10  # doubling, not one resize per chunk
    assert d.nbytes_per_step <= (2 * 2 + 4) * 8


def test_minibatches_are_seeded_and_the_recorded_loss_is_full_data():
    obj = dataset_objective("noisy-line", "linear", "mse")
    kw = dict(steps=200, batch_size=5, seed=3)
    a = run_descent(obj, make_optimizer("sgd", lr=0.01), [0.0, 0.0], **kw)
    b = run_descent(obj, make_optimizer("sgd", lr=0.01), [0.0, 0.0], **kw)
    c = run_descent(obj, make_optimizer("sgd", lr=0.01), [0.0, 0.0], **{**kw, "seed": 4})
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    for k in (0, 57, 200):
        assert a.loss[k] == pytest.approx(obj.value(a.params[k]), rel=1e-14)
        np.testing.assert_allclose(a.grad[k], obj.grad(a.params[k]), rtol=1e-13)
    # one update uses a 5-sample gradient, not the full one
    assert not np.allclose(a.params[1], a.params[0] - 0.01 * a.grad[0])


def test_every_sample_is_visited_once_per_epoch():
    from gd_explorer.core.engine.descent import MiniBatches

    mb = MiniBatches(10, 3, seed=0)
    epoch = np.concatenate([mb.next() for _ in range(4)])
    assert sorted(epoch) == list(range(10))


def test_deterministic_bit_for_bit():
    f = expression_objective("x**2*sin(y) + 0.1*(x**2 + y**2)")
    runs = [run_descent(f, make_optimizer("rmsprop", lr=0.01, centered=True), [1.0, 1.0],
                        steps=2000) for _ in range(2)]
    assert runs[0].params.tobytes() == runs[1].params.tobytes()


def test_bad_engine_settings_are_refused():
    f, opt = get_function("bowl"), make_optimizer("sgd")
    with pytest.raises(ValueError, match="start must have 2 coordinate"):
        Descent(f, opt, [1.0])
    with pytest.raises(ValueError, match="max_steps must be a whole number"):
        Descent(f, opt, [1.0, 1.0], max_steps=-1)
    with pytest.raises(ValueError, match="grad_tol must be zero or a positive"):
        Descent(f, opt, [1.0, 1.0], grad_tol=-1)
    with pytest.raises(ValueError, match="batch size applies to dataset objectives only"):
        Descent(f, opt, [1.0, 1.0], batch_size=4)
    with pytest.raises(ValueError, match="start point must be finite"):
        Descent(f, opt, [np.nan, 1.0])


def test_stop_marks_runs_stopped():
    d = Descent(get_function("bowl"), make_optimizer("sgd", lr=0.01), [1.0, 1.0], max_steps=100)
    d.advance(10)
    d.stop()
    assert d.status == "stopped" and d.advance(10) == 0 and d.trajectory().steps == 10


# ------------------------------------------------------------------ the start point
@pytest.mark.parametrize(("formula", "start", "message"), [
    ("log(x)", [-1.0], "log(x) is not finite at the start (x = -1): f = nan"),
    ("sqrt(x)", [0.0], "sqrt(x) is not finite at the start (x = 0): df/dx = inf"),
    ("1/x", [0.0], "1/x is not finite at the start (x = 0): f = inf, df/dx = -inf"),
    ("x**2", [1e308], "x**2 is not finite at the start (x = 1e+308): f = inf, df/dx = inf"),
    ("x**2", [1e60], "x**2 is too large at the start (x = 1e+60): f = 1e+120 (the limit is 1e100)"),
    ("x + y", [1e101, 0.0], "the start (x = 1e+101, y = 0) must be between -1e100 and 1e100"),
])
def test_a_single_run_refuses_a_start_where_it_cannot_begin(formula, start, message):
    f = expression_objective(formula)
    with pytest.raises(ValueError) as info:
        Descent(f, make_optimizer("sgd"), start)
    assert str(info.value) == message
    with pytest.raises(ValueError) as again:
        check_start(f, start)
    assert str(again.value) == message


def test_a_batch_flags_a_bad_start_per_run_and_the_others_go_on():
    f = expression_objective("log(x)")
    runs = run_descent(f, make_optimizer("sgd", lr=0.1), [[2.0], [-1.0]], steps=5)
    assert runs[0].status == "max_steps" and runs[0].steps == 5
    assert runs[1].status == "diverged" and runs[1].diverged_step == 0
    assert len(runs[1].loss) == 0


def test_a_dataset_too_large_for_float64_is_refused_at_its_default_start(tmp_path):
    data = tmp_path / "huge.csv"
    data.write_text("x,y\n1,1e308\n2,-1e308\n3,1e308\n")
    obj = dataset_objective(str(data), "linear", "mse")
    with pytest.raises(ValueError, match=r"^mse of linear on .*huge.csv is not finite at the "
                                         r"start \(w = 0, b = 0\): f = inf"):
        Descent(obj, make_optimizer("sgd"), obj.start)


def test_the_final_point_of_an_empty_trajectory_is_nan_not_an_index_error():
    f = expression_objective("log(x)")
    runs = run_descent(f, make_optimizer("sgd"), [[-1.0], [1.0]], steps=5)
    assert np.isnan(runs[0].final).all() and runs[0].final.shape == (1,)
    d = Descent(f, make_optimizer("sgd"), [[-1.0], [1.0]], record=False)
    assert np.isnan(d.trajectory(0).final).all()


@pytest.mark.parametrize(("formula", "start"), [
    ("log(x - 2)", (2.2,)), ("sqrt(-x)", (-0.2,)), ("log(y - x)", (0.8, 1.0)),
    ("x^2", (1.0,)), ("x*y", (1.0, 1.0)),
])
def test_a_typed_formula_starts_at_1_or_the_nearest_grid_point_where_it_is_finite(formula, start):
    f = expression_objective(formula)
    assert f.start == start
    check_start(f, f.start)  # a descent can begin there
