"""Presets: each one loads, builds, runs, and does what its description says."""

from __future__ import annotations

import json
import math
from functools import cache

import numpy as np
import pytest

from gd_explorer.core.engine.descent import Trajectory, run_descent
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.session.presets import CATEGORIES, DEFAULT_PRESET, PRESETS, Preset, get_preset
from gd_explorer.core.session.specs import (
    MAX_TEXT_LENGTH,
    RunSpec,
    Session,
    session_from_dict,
    session_json,
    session_to_dict,
)

REQUIRED = {
    "fence-ascent", "fence-fit-mae", "one-point-mae", "x2-sin-y", "zigzag", "lr-too-large",
    "lr-too-small", "saddle", "himmelblau-four", "rosenbrock-race", "double-well-local",
    "minibatch-sgd",
}


@cache
def run_preset(key: str) -> tuple[Trajectory, ...]:
    """Run every run of a preset with run_descent, its settings spelled out explicitly."""
    s = PRESETS[key].session
    obj = s.problem.build()
    maximize = obj.maximize if s.problem.maximize is None else s.problem.maximize
    start = np.array(obj.start if s.start is None else s.start, dtype=float)
    batch = s.problem.kind_entry.batch_size(s.problem)  # the kind says (nets: its own field)
    out = []
    for r in s.runs:
        optimizer, schedule = r.build(maximize)
        out.append(run_descent(obj, optimizer, start, steps=s.max_steps, schedule=schedule,
                               grad_tol=s.tol, loss_tol=s.loss_tol, batch_size=batch,
                               seed=s.problem.seed))
    return tuple(out)


def sign_changes(v: np.ndarray) -> int:
    s = np.sign(v)
    return int(np.sum(s[1:] != s[:-1]))


# ------------------------------------------------------------------------ registry
def test_registry():
    assert REQUIRED <= set(PRESETS)
    assert DEFAULT_PRESET == "rosenbrock-race" and DEFAULT_PRESET in PRESETS
    assert get_preset("zigzag") is PRESETS["zigzag"]
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("nope")
    assert {p.category for p in PRESETS.values()} == set(CATEGORIES)


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_is_a_valid_session(key):
    p = PRESETS[key]
    assert isinstance(p, Preset) and p.key == key and p.category in CATEGORIES
    assert p.session.title == p.title and p.session.description == p.description
    assert 0 < len(p.description) <= MAX_TEXT_LENGTH
    d = session_to_dict(p.session)
    assert session_from_dict(d) == p.session
    assert session_from_dict(json.loads(session_json(p.session))) == p.session
    obj = p.session.problem.build()
    maximize = p.session.problem.maximize_for(obj)
    assert 1 <= len(p.session.runs)
    labels = set()
    for r in p.session.runs:
        r.build(maximize)
        labels.add(r.display_label())
    assert len(labels) == len(p.session.runs)  # legends can tell the runs apart
    assert p.session.start_for(obj).shape == (obj.dim,)


@pytest.mark.parametrize("key", list(PRESETS))
def test_session_descent_agrees_with_run_descent(key):
    s = PRESETS[key].session
    obj = s.problem.build()
    for i, ref in enumerate(run_preset(key)):
        traj = s.descent(i, obj).run()
        assert traj.status == ref.status
        np.testing.assert_array_equal(traj.params, ref.params)


def test_every_preset_has_its_claims_checked():
    assert set(CLAIMS) == set(PRESETS)


# ------------------------------------------------------------------------ claims
def claims_fence_ascent():
    f = get_function("fence-area")
    assert f.grad(np.array([57.0]))[0] == -14.0 and f.value(np.array([50.0])) == 2500.0
    sgd, article = run_preset("fence-ascent")
    desc = PRESETS["fence-ascent"].description
    assert "A'(57) = −14" in desc and "A(50) = 2500" in desc and "200 m" in desc
    assert sgd.status == "converged" and sgd.steps < 100
    assert sgd.final[0] == pytest.approx(50.0, abs=1e-8) and sgd.loss[-1] == pytest.approx(2500)
    # distance to 50 shrinks by 0.8 per step
    d = np.abs(sgd.params[:10, 0] - 50.0)
    np.testing.assert_allclose(d[1:] / d[:-1], 0.8, rtol=1e-9)
    assert np.all(np.diff(sgd.loss[:30]) > 0)  # ascent: the area grows (until rounding)
    assert article.params[1, 0] == pytest.approx(54.0, abs=1e-12)
    assert article.params[2, 0] == pytest.approx(52.29, abs=0.005)
    assert article.status == "converged" and article.final[0] == pytest.approx(50.0, abs=1e-8)


def claims_fence_fit_mae():
    sgd, thrash, adam = run_preset("fence-fit-mae")
    desc = PRESETS["fence-fit-mae"].description
    for text in ("−674850", "−6748.5", "6748.5", "a = −2, b = 30", "a = −1, b = 100"):
        assert text in desc
    # the article's numbers: the sum of the errors, its mean, and the MAE
    x = np.arange(100.0)
    err = (30 * x - 2 * x * x) - (100 * x - x * x)
    assert err.sum() == -674850 and err.mean() == -6748.5
    for t in (sgd, thrash, adam):
        assert t.loss[0] == 6748.5
    first_below = int(np.argmax(sgd.loss < 1000))
    assert sgd.loss[first_below] < 1000 and first_below < 300
    assert sgd.final[0] == pytest.approx(-0.12, abs=0.02)
    assert abs(sgd.final[1] - 30.0) < 1.0  # b crawls
    assert 850 < sgd.loss[-1] < 950  # "MAE still about 900"
    late = thrash.loss[-200:]
    assert late.max() > 8000 and late.min() < 1500  # bounces between ~1000 and ~9000
    assert sign_changes(np.diff(thrash.params[-50:, 0])) > 40  # a jumps back and forth
    assert adam.final == pytest.approx([-1.0, 100.0], abs=1e-3) and adam.loss[-1] < 0.01


def claims_one_point_mae():
    const, decay = run_preset("one-point-mae")
    w = const.params[:, 0]
    np.testing.assert_allclose(np.diff(w[:8]), 0.2, atol=1e-12)  # steps of 0.2 from w = 0
    late = w[-100:]
    assert set(np.round(late, 9)) == {1.4, 1.6}
    assert np.all(np.abs(np.diff(late)) == pytest.approx(0.2))
    assert const.loss[-1] == pytest.approx(0.2) and const.status == "max_steps"
    assert abs(decay.final[0] - 1.5) < 1e-3


def claims_line_fit_mae():
    sgd, adam = run_preset("line-fit-mae")
    obj = PRESETS["line-fit-mae"].session.problem.build()
    for t in (sgd, adam):
        assert t.loss[0] == pytest.approx(11.29, abs=0.005)
        assert t.loss[-1] < 0.68
        assert abs(t.final[0] - 2.0) < 0.05 and abs(t.final[1] - 1.1) < 0.05
    # "not the least-squares line": the MSE fit's bias differs clearly
    from gd_explorer.core.problems.datasets import dataset_objective

    ls = dataset_objective("noisy-line", "linear", "mse").optima[0].point
    assert abs(ls[1] - sgd.final[1]) > 0.05
    assert obj.value(np.array(ls)) > sgd.loss[-1]  # the LS line has a worse MAE


def claims_x2_sin_y():
    f = get_function("x2siny")
    g = f.grad(np.array([1.0, 1.0]))
    assert g == pytest.approx([2 * math.sin(1.0), math.cos(1.0)])
    assert g == pytest.approx([1.683, 0.540], abs=5e-4)
    desc = PRESETS["x2-sin-y"].description
    assert "2x·sin y, x²·cos y" in desc and "wrong way round" in desc
    sgd, adam = run_preset("x2-sin-y")
    assert sgd.status == "converged" and abs(sgd.final[0]) < 1e-6
    assert sgd.final[1] == pytest.approx(0.80, abs=0.01) and abs(sgd.loss[-1]) < 1e-12
    assert adam.final[1] == pytest.approx(-math.pi / 2, abs=0.01)
    assert adam.loss[-1] < -1000
    x = np.abs(adam.params[-500:, 0])
    assert np.all(np.diff(x) > 0)  # |x| grows every step


def claims_rosenbrock_race():
    momentum, rmsprop, adam = run_preset("rosenbrock-race")
    dist = [float(np.hypot(*(t.final - 1.0))) for t in (momentum, rmsprop, adam)]
    assert momentum.loss.max() > momentum.loss[0]  # overshoots at first
    assert dist[0] < 1e-4
    assert adam.status == "converged" and adam.steps < 3000 and dist[2] < 1e-6
    assert 0.01 < dist[1] < 0.2
    ups = int(np.sum(np.diff(rmsprop.loss[-500:]) > 0))
    assert ups > 100  # rattles
    assert int(np.sum(np.diff(momentum.loss[-500:]) > 0)) == 0  # momentum glides


def claims_zigzag():
    sgd, momentum, adam = run_preset("zigzag")
    assert sign_changes(sgd.params[:31, 1]) == 30
    assert sgd.status == "converged" and 80 <= sgd.steps <= 130
    assert momentum.status == "converged" and momentum.steps < sgd.steps
    assert sign_changes(momentum.params[:31, 1]) < 30
    assert sign_changes(adam.params[:31, 1]) <= 1
    step = np.abs(adam.params[1] - adam.params[0])
    assert step[0] == pytest.approx(step[1], rel=1e-6)  # a diagonal first step
    assert adam.status == "converged" and adam.steps > sgd.steps


def claims_lr_too_large():
    r09, r10, r11 = run_preset("lr-too-large")
    assert r09.status == "converged" and sign_changes(r09.params[:20, 0]) == 19
    assert r10.status == "max_steps" and np.all(np.abs(r10.params[:, 0]) == 2.5)
    assert sign_changes(r10.params[:, 0]) == r10.steps
    # |f_k - 6.25| = 6.25 (1.44**k - 1) passes 1e5 times the window's spread 6.25 at k = 32
    k = next(k for k in range(1000) if 1.44**k - 1 > 1e5)
    assert r11.status == "diverged" and r11.diverged_step == k == 32
    assert r11.message == "diverged at step 32 (loss rose to 7.3e+05 from 6.25)"
    assert 7.25e5 < r11.loss[-1] * 1.44 < 7.35e5  # the runaway value, one step after the last row
    ratio = r11.params[1:, 0] / r11.params[:-1, 0]  # every kept row: 32 of them
    assert len(ratio) == 31
    np.testing.assert_allclose(ratio, -1.2, rtol=1e-12)


def claims_lr_too_small():
    fast, slow = run_preset("lr-too-small")
    assert fast.status == "converged" and fast.steps < 100
    assert slow.status == "max_steps" and slow.final[0] == pytest.approx(0.34, abs=0.005)
    assert slow.grad_norm[-1] > 0.5
    np.testing.assert_allclose(slow.params[1:5, 0] / slow.params[:4, 0], 0.998)


def claims_saddle():
    sgd, adam = run_preset("saddle")
    r = np.hypot(sgd.params[:, 0], sgd.params[:, 1])
    closest = int(np.argmin(r))
    assert r[closest] < 0.05 and sgd.grad_norm[closest] < 0.1
    assert 0 < closest < 100
    y = sgd.params[:, 1]
    np.testing.assert_allclose(y[1:50] / y[:49], 1.2, rtol=1e-12)
    assert sgd.status == "diverged"
    ra = np.hypot(adam.params[:, 0], adam.params[:, 1])
    assert ra.min() > 1.0
    assert adam.final[1] == pytest.approx(79, abs=4)
    assert np.all(np.diff(adam.params[100:, 1]) > 0)  # steadily down the y direction


HIMMELBLAU = {
    "SGD": (3.0, 2.0),
    "momentum": (3.584428340330492, -1.848126526964404),
    "Adam": (-2.805118086952745, 3.131312518250573),
}


def claims_himmelblau_four():
    runs = run_preset("himmelblau-four")
    for t, target in zip(runs, HIMMELBLAU.values(), strict=True):
        assert t.status == "converged"
        assert t.final == pytest.approx(target, abs=1e-6)
    # the same outcome from starts moved by up to 0.05
    s = PRESETS["himmelblau-four"].session
    obj = s.problem.build()
    starts = np.array([(0.75 + dx, 4.5 + dy) for dx in (-0.05, 0.0, 0.05)
                       for dy in (-0.05, 0.0, 0.05)])
    for r, target in zip(s.runs, HIMMELBLAU.values(), strict=True):
        opt, sched = r.build(False)
        d = run_descent(obj, opt, starts, steps=s.max_steps, schedule=sched, grad_tol=s.tol,
                        record=False)
        np.testing.assert_allclose(d.p, np.tile(target, (len(starts), 1)), atol=1e-6)
    # the fourth minimum, from (-4, -4) with plain SGD
    fourth = run_descent(obj, make_optimizer("sgd", lr=0.01), np.array([-4.0, -4.0]),
                         steps=1000, grad_tol=1e-8)
    assert fourth.final == pytest.approx((-3.779310253377747, -3.283185991286170), abs=1e-6)


def claims_double_well_local():
    plain, momentum, short = run_preset("double-well-local")
    f = get_function("double-well")
    local, glob = 1.346997408527774, -1.4729976011140302
    assert f.optima[1].point[0] == pytest.approx(local)
    assert plain.status == "converged" and plain.final[0] == pytest.approx(local, abs=1e-6)
    assert plain.params[:, 0].min() > 1.3  # never near the hump
    assert momentum.status == "converged" and momentum.final[0] == pytest.approx(glob, abs=1e-6)
    hump = 0.12600019  # the local maximum, root of 4x³ − 8x + 1 between the minima
    assert abs(4 * hump**3 - 8 * hump + 1) < 1e-6
    assert hump == pytest.approx(0.13, abs=0.005)  # "near 0.13"
    assert short.params[:, 0].min() == pytest.approx(0.24, abs=0.01)
    assert short.params[:, 0].min() > hump
    assert short.status == "converged" and short.final[0] == pytest.approx(local, abs=1e-6)


def _least_squares():
    from gd_explorer.core.problems.datasets import dataset_objective

    opt = dataset_objective("noisy-line", "linear", "mse").optima[0]
    return np.array(opt.point), opt.value


def claims_minibatch_sgd():
    ls, floor = _least_squares()
    assert ls == pytest.approx([1.98, 1.01], abs=0.005)
    const, cosine = run_preset("minibatch-sgd")
    for t in (const, cosine):
        ups = np.mean(np.diff(t.loss) > 0)
        assert 0.3 < ups < 0.7
    excess = const.loss[-500:] - floor
    assert 0.1 < np.median(excess) < 1.0
    assert np.hypot(*(cosine.final - ls)) < 0.05
    assert cosine.loss[-1] - floor < np.median(excess)


def claims_full_batch_gd():
    ls, _ = _least_squares()
    (full,) = run_preset("full-batch-gd")
    assert np.all(np.diff(full.loss) <= 0)
    assert np.hypot(*(full.final - ls)) < 1e-3
    # b is the slow direction: after 100 steps w is much closer to its optimum than b
    assert abs(full.params[100, 0] - ls[0]) < abs(full.params[100, 1] - ls[1])


# ------------------------------------------------------------------------ networks
def _accuracies(obj, traj, test: bool = False) -> np.ndarray:
    return np.array([obj.accuracy(p, test=test) for p in traj.params])


def _test_loss(obj, p) -> float:
    """The held-out loss, computed here from the outputs (not by the objective's loss)."""
    z = obj.predict(np.asarray(p)[None, :], obj.data.x_test)
    y = obj.data.y_test
    return float(np.mean(np.logaddexp(0.0, z) - y * z))  # BCE on logits, independently


def _variant(key: str, run: RunSpec, **fields) -> tuple:
    """The preset's problem with ``fields`` changed, descended by ``run`` (as a user who
    edits the page and presses Run)."""
    s = PRESETS[key].session
    obj = s.problem.with_fields(**fields).build()
    optimizer, _ = run.build(False)
    return obj, run_descent(obj, optimizer, np.asarray(obj.start), steps=s.max_steps,
                            grad_tol=s.tol)


def claims_nets_logistic_blobs():
    obj = PRESETS["nets-logistic-blobs"].session.problem.build()
    assert obj.names == ("w1", "w2", "b") and obj.samples == 200
    for t in run_preset("nets-logistic-blobs"):
        assert t.loss[0] == pytest.approx(0.865, abs=5e-4) and t.steps == 300
        assert obj.accuracy(t.params[0]) == 0.20
        assert obj.accuracy(t.final) == 0.995 and t.loss[-1] < 0.025


def claims_nets_xor_hidden():
    obj = PRESETS["nets-xor-hidden"].session.problem.build()
    adam, sgd = run_preset("nets-xor-hidden")
    assert obj.accuracy(adam.final) == pytest.approx(0.97, abs=0.005)
    assert obj.accuracy(sgd.final) == pytest.approx(0.95, abs=0.005)
    assert adam.loss[-1] < 0.11 and sgd.loss[-1] < 0.11
    lin, t = _variant("nets-xor-hidden", RunSpec("adam", 0.05), net_model="logistic")
    assert lin.names == ("w1", "w2", "b")
    assert t.loss[-1] == pytest.approx(0.68, abs=0.005) and t.loss[-1] < math.log(2)
    assert 0.6 < lin.accuracy(t.final) <= 0.7


def claims_nets_spiral_depth():
    obj = PRESETS["nets-spiral-depth"].session.problem.build()
    assert obj.dim == 177 and obj.samples == 400
    (deep,) = run_preset("nets-spiral-depth")
    acc = _accuracies(obj, deep)
    assert int(np.argmax(acc >= 0.98)) == 267 and int(np.argmax(acc >= 1.0)) < 350
    one, t = _variant("nets-spiral-depth", RunSpec("adam", 0.01), layers="2-8-1")
    assert 0.78 < one.accuracy(t.final) < 0.85
    wide, t = _variant("nets-spiral-depth", RunSpec("adam", 0.01), layers="2-32-1")
    assert wide.dim == 129
    wide_acc = _accuracies(wide, t)
    assert int(np.argmax(wide_acc >= 0.98)) == 855 and wide_acc.max() < 1.0


def claims_nets_adam_sgd_moons():
    obj = PRESETS["nets-adam-sgd-moons"].session.problem.build()
    assert obj.dim == 337
    sgd, adam = run_preset("nets-adam-sgd-moons")
    assert np.array_equal(sgd.params[0], adam.params[0])  # the same seeded start
    assert obj.accuracy(adam.params[200]) == 1.0 and adam.loss[200] < 0.02
    assert obj.accuracy(sgd.params[100]) == pytest.approx(0.88, abs=0.011)
    assert np.all(np.abs(sgd.loss[50:501] - 0.3) < 0.035)  # the plateau
    assert obj.accuracy(sgd.final) == 0.975 and sgd.loss[-1] == pytest.approx(0.066, abs=5e-4)


def claims_nets_overfitting():
    obj = PRESETS["nets-overfitting"].session.problem.build()
    assert obj.dim == 2241 and obj.samples == 30 and obj.data.y_test.size == 30
    (t,) = run_preset("nets-overfitting")
    assert t.loss[-1] < 1e-3 and obj.accuracy(t.final) == 1.0
    steps = np.arange(0, t.steps + 1, 10)
    test = np.array([_test_loss(obj, t.params[i]) for i in steps])
    best = int(steps[np.argmin(test)])
    assert best < 100 and test.min() == pytest.approx(0.6, abs=0.05)
    assert test[-1] > 1.5
    late = steps >= 200  # from there on: the train loss falls, the test loss rises
    assert np.all(np.diff(test[late]) > 0) and np.all(np.diff(t.loss[steps[late]]) < 0)
    assert obj.accuracy(t.final, test=True) == pytest.approx(0.733, abs=0.001)


CLAIMS = {
    "fence-ascent": claims_fence_ascent,
    "fence-fit-mae": claims_fence_fit_mae,
    "one-point-mae": claims_one_point_mae,
    "line-fit-mae": claims_line_fit_mae,
    "x2-sin-y": claims_x2_sin_y,
    "rosenbrock-race": claims_rosenbrock_race,
    "zigzag": claims_zigzag,
    "lr-too-large": claims_lr_too_large,
    "lr-too-small": claims_lr_too_small,
    "saddle": claims_saddle,
    "himmelblau-four": claims_himmelblau_four,
    "double-well-local": claims_double_well_local,
    "minibatch-sgd": claims_minibatch_sgd,
    "full-batch-gd": claims_full_batch_gd,
    "nets-logistic-blobs": claims_nets_logistic_blobs,
    "nets-xor-hidden": claims_nets_xor_hidden,
    "nets-spiral-depth": claims_nets_spiral_depth,
    "nets-adam-sgd-moons": claims_nets_adam_sgd_moons,
    "nets-overfitting": claims_nets_overfitting,
}


@pytest.mark.parametrize("key", list(CLAIMS))
def test_preset_does_what_its_description_says(key):
    CLAIMS[key]()


def test_default_session_is_the_default_preset_problem():
    # Session() is the app's blank state; the default preset races on the same function
    assert PRESETS[DEFAULT_PRESET].session.problem.function == Session().problem.function


#: how every preset run ends; only the two lessons about running away diverge (a guard
#: against the divergence rule firing where a run merely wanders: see the engine's
#: RUNAWAY_FACTOR)
PRESET_STATUSES = {
    "fence-ascent": ("converged", "converged"),
    "fence-fit-mae": ("max_steps",) * 3,
    "one-point-mae": ("max_steps",) * 2,
    "line-fit-mae": ("max_steps",) * 2,
    "x2-sin-y": ("converged", "max_steps"),
    "rosenbrock-race": ("max_steps", "max_steps", "converged"),
    "zigzag": ("converged",) * 3,
    "lr-too-large": ("converged", "max_steps", "diverged"),
    "lr-too-small": ("converged", "max_steps"),
    "saddle": ("diverged", "max_steps"),
    "himmelblau-four": ("converged",) * 3,
    "double-well-local": ("converged",) * 3,
    "minibatch-sgd": ("max_steps",) * 2,
    "full-batch-gd": ("max_steps",),
    "nets-logistic-blobs": ("max_steps",) * 2,
    "nets-xor-hidden": ("max_steps",) * 2,
    "nets-spiral-depth": ("max_steps",),
    "nets-adam-sgd-moons": ("max_steps",) * 2,
    "nets-overfitting": ("max_steps",),
}


def test_only_the_runaway_lessons_diverge():
    assert set(PRESET_STATUSES) == set(PRESETS)
    for key, expected in PRESET_STATUSES.items():
        s = PRESETS[key].session
        obj = s.problem.build()
        got = tuple(str(s.descent(i, obj).run().status) for i in range(len(s.runs)))
        assert got == expected, key


# ------------------------------------------------------------------ edge of stability
def claims_edge_of_stability():
    from gd_explorer.core.problems.lanczos import hessian_extremes

    p = PRESETS["edge-of-stability"]
    (gd,) = run_preset("edge-of-stability")
    obj = p.session.problem.build()
    assert obj.dim == 321 and p.session.runs[0].lr == 0.05 and gd.status == "max_steps"
    edge = 2.0 / 0.05
    every = 25
    steps = np.arange(0, gd.params.shape[0], every)
    # the sharpness by Lanczos (checked against eigvalsh in test_lanczos.py) along the run
    s = hessian_extremes(obj, gd.params[steps], iterations=20).lmax
    assert s[0] == pytest.approx(22.0, abs=0.5) and 0.5 < s[0] / edge < 0.6
    cross = steps[np.argmax(s > 0.9 * edge)]
    assert 500 <= cross <= 700  # "near step 600"
    assert 700 <= steps[np.argmax(s > edge)] <= 900  # "2/lr near step 800"
    assert 19.5 < s[1] < 21  # "dips to about 20 in the first 25 steps"
    rising = s[(steps >= 25) & (steps <= cross)]
    assert np.all(np.diff(rising) > 0)  # progressive sharpening: "then rises steadily"
    assert 43 < s.max() < 45.5  # "overshoots to about 44"
    hover = s[steps >= 1100]
    assert np.all(np.abs(hover / edge - 1) < 0.06)  # "within 6% of 40 from step 1100"
    assert np.all(np.abs(s[steps >= 1500] / edge - 1) < 0.03)
    assert np.all(np.abs(s[steps >= 2000] / edge - 1) < 0.01)
    loss = gd.loss
    assert loss.size == 4001
    assert loss[0] == pytest.approx(0.525, abs=5e-4)
    assert loss[1000] == pytest.approx(0.014, abs=5e-4) and np.all(loss[:1000] > loss[1000])
    spike = 1000 + int(np.argmax(loss[1000:1200]))
    assert 1030 <= spike <= 1070 and loss[spike] == pytest.approx(0.33, abs=0.01)
    assert s[steps == 1100][0] < edge  # "drops back below 2/lr"
    late = np.diff(loss[2000:])
    assert 0.4 < np.mean(late > 0) < 0.6  # "goes up on about every other step"
    assert loss[2000] == pytest.approx(0.019, abs=5e-4)
    assert loss[-1] == pytest.approx(0.017, abs=5e-4) and loss[-1] < loss[2000]
    assert np.all(np.isfinite(loss))
    for words in ("2/lr = 40", "0.9·2/lr = 36", "step 600", "step 800", "44", "step 1100",
                  "within 6%", "within 3% after step 1500", "1% after step 2000", "0.525",
                  "0.014", "0.33", "step 1050", "every other step", "0.017 at step 4000",
                  "lr = 0.05", "1-16-16-1", "Sharpness tab", "first 25 steps"):
        assert words in p.description, words


CLAIMS["edge-of-stability"] = claims_edge_of_stability
PRESET_STATUSES["edge-of-stability"] = ("max_steps",)


def test_edge_of_stability_preset_does_what_its_description_says():
    claims_edge_of_stability()
