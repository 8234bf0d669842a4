"""The network views' data as the model computes it: metrics and layer norms along the runs
(each row once, decimated, within a budget) and the decision map (cached per run and row),
against direct evaluations of the objective at the recorded rows."""

import numpy as np
import pytest

from gd_explorer.core.engine.descent import run_descent
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.nets import net_objective
from gd_explorer.model.net_metrics import DecisionCache, MetricsTracker, decision_grid
from gd_explorer.model.snapshot import RunSnapshot


@pytest.fixture(scope="module")
def moons():
    return net_objective("moons", layers="2-8-1", test_fraction=0.2, samples=100)


def _snap(obj, steps, run_id=1, lr=0.05, upto=None):
    tr = run_descent(obj, make_optimizer("adam", lr=lr), np.asarray(obj.start), steps=steps)
    n = tr.params.shape[0] if upto is None else upto
    return RunSnapshot.make(run_id, f"run {run_id}", "#D55E00", True, tr.params[:n],
                            tr.loss[:n], tr.grad[:n], tr.lr[:n], optimizer="adam",
                            hyper={"lr": lr})


def test_metrics_equal_the_objective_at_every_recorded_row(moons):
    snap = _snap(moons, 40)
    m = MetricsTracker().update(moons, [snap], selected_id=1)
    run = m.selected
    assert m.names == moons.metric_names and m.complete
    np.testing.assert_array_equal(run.steps, np.arange(41))
    direct = moons.metrics(np.asarray(snap.params))
    for name in m.names:
        np.testing.assert_allclose(run.values[name], direct[name], rtol=1e-12)
    w = np.asarray(snap.params)
    np.testing.assert_allclose(run.weight_norms[:, 0], np.linalg.norm(w[:, :24], axis=1))
    np.testing.assert_allclose(run.grad_norms[:, 1],
                               np.linalg.norm(np.asarray(snap.grad)[:, 24:], axis=1))
    assert m.layer_titles == ("layer 1 (2→8)", "layer 2 (8→1)")


def test_metrics_extend_incrementally_and_decimate_by_a_doubling_stride(moons):
    tracker = MetricsTracker(limit=16)
    tracker.update(moons, [_snap(moons, 60, upto=10)])
    assert tracker.rows_computed == 10
    full = _snap(moons, 60)  # the same run, grown to 61 rows
    run = tracker.update(moons, [full]).runs[0]
    # stride 4 keeps rows 0, 4, ..., 60: rows computed before are kept, none recomputed
    np.testing.assert_array_equal(run.steps, np.arange(0, 61, 4))
    assert tracker.rows_computed == 10 + len(range(12, 61, 4))
    np.testing.assert_allclose(run.values["test loss"],
                               moons.metrics(np.asarray(full.params[::4]))["test loss"])


def test_a_budget_fills_a_long_run_in_over_several_updates(moons):
    tracker = MetricsTracker(budget=moons.evaluation_cost * 7)
    snap = _snap(moons, 20)
    first = tracker.update(moons, [snap])
    assert len(first.runs[0].steps) == 7 and not first.complete
    while not tracker.update(moons, [snap]).complete:
        pass
    assert tracker.rows_computed == 21
    # the budget is for all runs together: a second run waits for the first
    two = MetricsTracker(budget=moons.evaluation_cost * 7)
    m = two.update(moons, [_snap(moons, 5, run_id=1), _snap(moons, 5, run_id=2)])
    assert [len(r.steps) for r in m.runs] == [6, 1] and two.rows_computed == 7


def test_an_edited_run_starts_its_rows_again(moons):
    tracker = MetricsTracker()
    tracker.update(moons, [_snap(moons, 10, lr=0.05)])
    run = tracker.update(moons, [_snap(moons, 5, lr=0.2)]).runs[0]
    assert len(run.steps) == 6 and tracker.rows_computed == 11 + 6


def test_decision_map_is_the_sigmoid_of_predict_on_the_grid_and_cached(moons):
    snap = _snap(moons, 80)
    cache = DecisionCache()
    dmap = cache.get(moons, snap, 80)
    p = np.asarray(snap.params[80])
    xs, ys = decision_grid(moons.decision_data())
    assert dmap.probability.shape == (len(ys), len(xs)) == (100, 100)
    j, i = 37, 61  # row j is ys[j], column i is xs[i]
    z = moons.predict(p, np.array([[xs[i], ys[j]]]))
    assert dmap.probability[j, i] == pytest.approx(1 / (1 + np.exp(-z[0])), rel=1e-12)
    # the 0.5 contour: the network's probability there is 0.5 (up to the grid's
    # interpolation), and points of either class lie on its two sides
    c = dmap.contour[np.all(np.isfinite(dmap.contour), axis=1)]
    assert len(c) > 20
    prob = 1 / (1 + np.exp(-moons.predict(p, c)))
    assert np.max(np.abs(prob - 0.5)) < 0.05
    assert dmap.train_accuracy == pytest.approx(moons.accuracy(p))
    assert dmap.test_accuracy == pytest.approx(moons.accuracy(p, test=True))
    assert cache.get(moons, snap, 80) is dmap and cache.computed == 1
    assert cache.get(moons, snap, 40).row == 40 and cache.computed == 2


def test_no_decision_map_for_a_regression():
    sine = net_objective("sine", layers="1-4-1")
    assert DecisionCache().get(sine, _snap(sine, 3), 2) is None


def test_a_runaway_row_gives_an_empty_map_and_nan_metrics_not_an_error(moons):
    snap = _snap(moons, 3)
    params = np.array(snap.params)
    params[3] = np.nan
    params[2, :5] = 1e200
    bad = RunSnapshot.make(1, "r", "#ffffff", True, params, snap.loss, snap.grad, snap.lr,
                           optimizer="adam")
    dmap = DecisionCache().get(moons, bad, 3)
    assert np.isnan(dmap.probability).all() and dmap.contour.shape == (0, 2)
    assert np.isnan(dmap.train_accuracy)
    m = MetricsTracker().update(moons, [bad]).runs[0]
    assert np.isnan(m.values["train loss"][3]) and np.isfinite(m.values["train loss"][:2]).all()
    DecisionCache().get(moons, bad, 2)  # huge weights: saturated, finite or not, no error
