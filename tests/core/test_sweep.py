"""The LR sweep, the lr × momentum map and the LR range test (core, no Qt)."""

import math

import numpy as np
import pytest

from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.lab.sweep import (
    DEFAULT_LRS,
    log_rates,
    momentum_grid,
    momentum_name,
    range_test,
    smooth_losses,
    steepest,
    suggestions,
    sweep_learning_rates,
    sweep_lr_momentum,
    valley,
)
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.problems.functions import get_function

GRID = log_rates(*DEFAULT_LRS)
STEP = GRID[1] / GRID[0]  # one grid step, as a ratio


def _within_one_step(edge, value):
    lo, hi = edge
    return lo / STEP <= value <= hi * STEP and lo < hi


@pytest.mark.parametrize("momentum, expected", [(0.0, 0.1), (0.9, 0.19)])
def test_measured_edge_on_ill_conditioned_matches_the_hessian(momentum, expected):
    f = get_function("ill-conditioned")  # x² + 10 y²: λmax = 20
    opt = make_optimizer("sgd", lr=0.01, momentum=momentum)
    sweep = sweep_learning_rates(f, opt, [1.5, 1.0], GRID, 500)
    assert sweep.predicted_edge == pytest.approx(expected)
    lo, hi = sweep.measured_edge
    assert GRID[np.searchsorted(GRID, lo)] == lo and np.searchsorted(GRID, hi) == \
        np.searchsorted(GRID, lo) + 1  # neighbours on the grid
    assert _within_one_step((lo, hi), expected), (lo, hi)
    # every rate past the edge diverged, every one below it did not
    assert np.all(sweep.diverged[GRID >= hi * STEP]) and not np.any(sweep.diverged[GRID <= lo])
    assert np.all(sweep.diverged_step[sweep.diverged] > 0)
    assert np.all(sweep.diverged_step[~sweep.diverged] == -1)


def test_sweep_equals_separate_runs_and_tracks_the_best_loss():
    f = get_function("rosenbrock")
    lrs = np.array([1e-4, 1e-3, 2e-3, 5e-3])
    sweep = sweep_learning_rates(f, make_optimizer("adam", lr=1.0), [-1.2, 1.0], lrs, 60)
    for j, lr in enumerate(lrs):
        d = Descent(f, make_optimizer("adam", lr=float(lr)), [-1.2, 1.0], max_steps=60)
        traj = d.run()
        assert sweep.final_loss[j] == pytest.approx(traj.loss[-1], rel=1e-12)
        assert sweep.best_loss[j] == pytest.approx(traj.loss.min(), rel=1e-12)
        assert sweep.statuses[j] == traj.status


def test_a_diverged_run_keeps_the_losses_before_its_divergence():
    f = get_function("ill-conditioned")
    sweep = sweep_learning_rates(f, make_optimizer("sgd", lr=0.1), [1.0, 1.0], [0.01, 1.0], 100)
    assert list(sweep.statuses) == ["max_steps", "diverged"]
    assert np.isfinite(sweep.final_loss).all() and sweep.best_loss[1] <= 11.0
    assert sweep.measured_edge == (0.01, 1.0)


def test_lbfgs_runs_one_descent_per_rate():
    f = get_function("rosenbrock")
    sweep = sweep_learning_rates(f, make_optimizer("lbfgs"), [-1.2, 1.0], [0.1, 1.0], 20)
    assert sweep.final_loss.shape == (2,) and np.all(np.isfinite(sweep.final_loss))
    assert sweep.final_loss[1] < 1e-6  # a unit step with line search reaches the minimum


def test_cancel_raises():
    from gd_explorer.core.lab.sweep import SweepCancelled
    f = get_function("rosenbrock")
    with pytest.raises(SweepCancelled):
        sweep_learning_rates(f, make_optimizer("sgd", lr=0.1), [-1.2, 1.0], GRID, 500,
                             cancelled=lambda: True)


@pytest.mark.parametrize("args, text", [((0, 1, 10), "must be positive"),
                                        ((1, 0.1, 10), "below the highest"),
                                        ((1e-3, 1, 1), "at least 2")])
def test_bad_grids(args, text):
    with pytest.raises(ValueError, match=text):
        log_rates(*args)


def test_momentum_is_what_the_entry_declares():
    assert momentum_name(OPTIMIZERS["sgd"]) == "momentum"
    assert momentum_name(OPTIMIZERS["adam"]) == "betas"
    assert momentum_name(OPTIMIZERS["adagrad"]) is None
    with pytest.raises(ValueError, match="neither momentum nor betas"):
        sweep_lr_momentum(get_function("rosenbrock"), make_optimizer("adagrad"), [0, 0],
                          [0.1, 1], [0, 0.5], 10)


def test_momentum_map_rows_equal_sweeps_and_follow_the_edge():
    f = get_function("ill-conditioned")
    lrs, momenta = log_rates(1e-3, 1.0, 30), momentum_grid(0.0, 0.9, 4)
    m = sweep_lr_momentum(f, make_optimizer("sgd", lr=0.1), [1.5, 1.0], lrs, momenta, 300)
    assert m.final_loss.shape == (4, 30) and m.parameter == "momentum"
    for i, mu in enumerate(momenta):
        row = sweep_learning_rates(f, make_optimizer("sgd", lr=0.1, momentum=mu), [1.5, 1.0],
                                   lrs, 300)
        np.testing.assert_array_equal(m.diverged[i], row.diverged)
        assert m.predicted_edges[i] == pytest.approx((2 + 2 * mu) / 20)
        first = np.flatnonzero(row.diverged)[0]
        assert lrs[first - 1] <= m.predicted_edges[i] * 1.0001
    # β1 for Adam: its first beta is what varies
    a = sweep_lr_momentum(f, make_optimizer("adam", lr=0.1), [1.5, 1.0], lrs[:3], [0.0, 0.5], 5)
    assert a.parameter == "betas" and np.isfinite(a.final_loss).all()


def test_nesterov_at_momentum_zero_is_left_blank():
    f = get_function("ill-conditioned")
    m = sweep_lr_momentum(f, make_optimizer("sgd", lr=0.1, momentum=0.5, nesterov=True),
                          [1.0, 1.0], [0.01, 0.02], [0.0, 0.5], 20)
    assert np.isnan(m.final_loss[0]).all() and np.isfinite(m.final_loss[1]).all()


# ------------------------------------------------------------------ range test
def test_smoothing_is_bias_corrected():
    s = smooth_losses([5.0, 5.0, 5.0])
    np.testing.assert_allclose(s, 5.0)  # a constant loss stays itself from the first point
    s = smooth_losses([1.0, 3.0])
    assert s[1] == pytest.approx((0.98 * 0.02 * 1 + 0.02 * 3) / (1 - 0.98**2))


def test_valley_matches_fastai_on_a_hand_example():
    # longest decreasing subsequence 9 > 7 > 5 > 3 > 2 > 1 > 0.5 (indices 0..7 without
    # the 8), length 7 ending at 7: max_start = 7 - 7 = 0, sections = 7/3, index
    # 0 + int(2.33) + int(1.17) = 3 (fastai 2.7's valley, by hand)
    losses = np.array([9.0, 7.0, 8.0, 5.0, 3.0, 2.0, 1.0, 0.5, 4.0, 6.0])
    lrs = np.geomspace(1e-3, 1, 10)
    assert valley(lrs, losses) == 3
    assert steepest(lrs[:4], np.array([3.0, 2.9, 1.0, 0.9])) == 1


def test_range_test_stops_past_four_times_the_best():
    f = get_function("ill-conditioned")
    rt = range_test(f, make_optimizer("sgd", lr=0.1), [1.5, 1.0], steps=100)
    assert rt.stopped_early and "passed 4" in rt.stop_reason or "diverged" in rt.stop_reason
    assert rt.smoothed[-1] > 4 * rt.smoothed[:-1].min() or not math.isfinite(rt.smoothed[-1])
    assert rt.lrs[0] == pytest.approx(1e-7)
    np.testing.assert_allclose(np.diff(np.log(rt.lrs)), np.log(1e8) / 99, rtol=1e-9)
    s = rt.suggestions
    assert set(s) == {"valley", "steepest", "minimum/10"}
    # on this bowl (edge 0.1) every suggestion is a stable rate, though the smoothed
    # minimum itself lags past the edge (the smoothing's delay: why fastai divides by 10)
    assert all(1e-4 < v < 0.1 for v in s.values()), s
    assert rt.lrs[int(np.argmin(rt.smoothed))] > 0.1
    assert suggestions(rt.lrs[:2], rt.smoothed[:2]) == {}


def test_range_test_on_a_dataset():
    from gd_explorer.core.problems.datasets import dataset_objective
    obj = dataset_objective("noisy-line")
    rt = range_test(obj, make_optimizer("sgd", lr=0.1), obj.start, steps=100)
    assert len(rt.lrs) > 20 and rt.suggestions
