"""The model's curvature at the cursor and sharpness along the paths."""

import math

import numpy as np
import pytest

from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session
from gd_explorer.model.curvature import SharpnessTracker
from gd_explorer.model.snapshot import RunSnapshot


def _session(function, *runs, steps=200, start=(-4.0, 1.5)):
    return Session(problem=ProblemSpec(kind="function", function=function), runs=tuple(runs),
                   start=start, max_steps=steps, tol=0.0)


def _run_to_end(model, qtbot):
    with qtbot.waitSignal(model.running_changed, timeout=20_000,
                          check_params_cb=lambda running: running is False):
        model.start_running()


def test_curvature_at_the_cursor_on_the_ill_conditioned_bowl(model, qtbot):
    model.apply_session(_session("ill-conditioned", RunSpec(optimizer="sgd", lr=0.09), steps=5))
    model.step()
    c = model.curvature()
    assert c.row == 1 and c.definiteness == "positive definite"
    np.testing.assert_allclose(c.eigenvalues, [2.0, 20.0])
    np.testing.assert_allclose(np.abs(c.eigenvectors), np.eye(2))
    assert c.kappa == pytest.approx(10.0)
    assert c.edge == pytest.approx(0.1)  # plain GD: 2/λmax
    assert c.stable is True and "stable here for lr < 0.1 (lr = 0.09: stable)" in c.edge_text()
    ratio = c.axis_lengths()
    assert ratio[0] / ratio[1] == pytest.approx(math.sqrt(10))
    # the drawn ellipse: half-axes along x and y, lengths 1/√λ, at the current point
    kind, xy = c.contour(1.0)
    assert kind == "ellipse"
    local = xy - c.point
    assert np.abs(local[:, 0]).max() == pytest.approx(1.0, rel=1e-3)
    assert np.abs(local[:, 1]).max() == pytest.approx(1 / math.sqrt(10), rel=1e-3)
    model.set_cursor(0)
    assert model.curvature().row == 0


def test_saddle_has_a_hyperbola_and_no_edge_with_ascent_flipping_the_hessian(model, qtbot):
    model.apply_session(_session("saddle", RunSpec(optimizer="sgd", lr=0.1), start=(1.0, 0.5)))
    c = model.curvature()
    assert c.definiteness == "indefinite" and c.kappa is None
    assert c.contour(1.0)[0] == "hyperbola"
    assert "not positive definite" in c.edge_text()
    fence = Session(problem=ProblemSpec(kind="function", function="fence-area"),
                    runs=(RunSpec(optimizer="sgd", lr=0.1),), max_steps=10)
    model.apply_session(fence)
    assert model.maximize
    c = model.curvature()
    np.testing.assert_allclose(c.hessian, [[2.0]])  # of −A: ascent minimises −A
    assert c.edge == pytest.approx(1.0)


def test_adaptive_edge_uses_the_runs_state(model, qtbot):
    model.apply_session(_session("ill-conditioned", RunSpec(optimizer="adam", lr=0.1), steps=30))
    assert model.curvature().edge is None  # no state before the first update
    _run_to_end(model, qtbot)
    c = model.curvature()
    assert c.uses_state and 0 < c.edge < math.inf
    snap = model.selected_snapshot()
    v_hat = np.asarray(snap.state["exp_avg_sq"]).reshape(-1) / (1 - 0.999 ** (snap.n - 1))
    p = np.sqrt(v_hat) + 1e-8
    lam = np.max(np.array([2.0, 20.0]) / p)
    assert c.edge == pytest.approx(38 / lam, rel=1e-9)


def test_sharpness_on_the_ill_conditioned_bowl_is_20_and_the_lines_are_2_over_lr(model, qtbot):
    model.apply_session(_session("ill-conditioned", RunSpec(optimizer="sgd", lr=0.09),
                                 RunSpec(optimizer="sgd", lr=0.02, hyper={"momentum": 0.9}),
                                 steps=300))
    _run_to_end(model, qtbot)
    runs = model.sharpness()
    assert len(runs) == 2
    for run in runs:
        assert len(run.steps) == 301 and run.steps[0] == 0
        np.testing.assert_allclose(run.lmax, 20.0, rtol=1e-12)
    assert runs[0].lr_edge == pytest.approx(2 / 0.09) and runs[0].own_edge == pytest.approx(2 / 0.09)
    assert runs[1].own_edge == pytest.approx(3.8 / 0.02)  # heavy ball: (2 + 2μ)/lr


@pytest.mark.parametrize(("factor", "converges"), [(0.98, True), (1.02, False)])
def test_gd_on_a_quadratic_near_2_over_lambda(model, qtbot, factor, converges):
    lr = factor * 2 / 20
    model.apply_session(_session("ill-conditioned", RunSpec(optimizer="sgd", lr=lr), steps=3000))
    _run_to_end(model, qtbot)
    snap = model.selected_snapshot()
    assert (snap.status != "diverged") is converges, snap.message
    run = model.sharpness()[0]
    # the picture: sharpness 20 sits below 2/lr exactly when the run converges
    assert bool(np.all(run.lmax < run.lr_edge)) is converges
    assert model.curvature().stable is converges


def _snap(n, lr=0.1, run_id=1, start=0.0):
    params = np.column_stack([np.linspace(start, 1, n), np.zeros(n)])
    return RunSnapshot.make(run_id, "r", "#ffffff", True, params, np.zeros(n), np.zeros((n, 2)),
                            np.full(n, lr), optimizer="sgd")


def test_sharpness_is_decimated_and_extended_incrementally():
    from gd_explorer.core.problems.functions import get_function

    f = get_function("rosenbrock")
    t = SharpnessTracker(limit=100)
    full = _snap(1000)
    for n in (1, 50, 400, 1000):
        run = t.update(f, [RunSnapshot.make(1, "r", "#fff", True, full.params[:n],
                                            full.loss[:n], full.grad[:n], full.lr[:n],
                                            optimizer="sgd")])[0]
        assert len(run.steps) <= 100 and run.steps[0] == 0
        expected = np.linalg.eigvalsh(f.hessian(full.params[run.steps]))[:, -1]
        np.testing.assert_allclose(run.lmax, expected, rtol=1e-12)
    # each kept row was computed once: 50 rows, then up to 400 by 4, then to 1000 by 16
    assert t.rows_computed == 50 + len(range(52, 400, 4)) + len(range(400, 1000, 16))
    before = t.rows_computed
    t.update(f, [full])
    assert t.rows_computed == before  # nothing new, nothing computed
    # a run restarted with other settings starts again
    assert len(t.update(f, [_snap(10, lr=0.2)])[0].steps) == 10


def test_a_costly_objective_fills_the_sharpness_over_several_calls():
    from gd_explorer.core.problems.datasets import dataset_objective

    f = dataset_objective("noisy-line", "linear", "huber")  # Hessian: a pass over the data
    t = SharpnessTracker(budget=10 * f.evaluation_cost)
    snap = _snap(35)
    sizes = [len(t.update(f, [snap])[0].steps) for _ in range(5)]
    assert sizes == [10, 20, 30, 35, 35]
    run = t.update(f, [snap])[0]
    np.testing.assert_allclose(run.lmax, np.linalg.eigvalsh(f.hessian(snap.params))[:, -1])


def test_a_flat_direction_is_called_singular_not_negative():
    from gd_explorer.core.problems.datasets import dataset_objective
    from gd_explorer.model.curvature import curvature_at

    f = dataset_objective("noisy-line", "linear", "huber")
    far = np.array([[50.0, 50.0]])  # every residual in the linear tails but one side
    snap = RunSnapshot.make(1, "r", "#fff", True, np.vstack([far, far]), np.zeros(2),
                            np.zeros((2, 2)), np.full(2, 0.1), optimizer="sgd")
    c = curvature_at(f, snap, 1)
    assert c.definiteness == "singular"
    assert "negative curvature" not in c.edge_text()
    np.testing.assert_array_equal(c.hessian, np.zeros((2, 2)))
    assert c.edge == math.inf and "no edge" in c.edge_text()
    from tests.core.hessian_kind import HessianBowl

    flat = HessianBowl(((2.0, 0.0), (0.0, 0.0)))  # curving along x only
    c = curvature_at(flat, snap, 1)
    assert c.definiteness == "singular" and c.edge == pytest.approx(1.0)
    assert "singular: along the flat direction" in c.edge_text()
    assert "negative curvature" not in c.edge_text()


def test_an_adaptive_run_gets_no_plain_gd_line(model):
    """2/lr is plain GD's edge: Adam's sharpness is not held to it (its edge is on the
    preconditioned Hessian), so its run carries no such line."""
    model.apply_session(_session("bowl", RunSpec(optimizer="sgd", lr=0.1),
                                 RunSpec(optimizer="adam", lr=0.1), steps=20))
    for _ in range(5):
        model.step()
    sgd, adam = model.sharpness()
    assert sgd.lr_edge == pytest.approx(20.0)
    assert math.isnan(adam.lr_edge)


# ------------------------------------------------------------ many parameters: Lanczos
def _net_snap(obj, n, optimizer="sgd", lr=0.05, hyper=None):
    """A GD path of ``obj`` of n rows (full batch, lr), as a snapshot."""
    p = np.asarray(obj.start)[None, :].copy()
    rows = [p[0].copy()]
    for _ in range(n - 1):
        p = p - lr * obj.value_and_grad(p)[1]
        rows.append(p[0].copy())
    params = np.array(rows)
    return RunSnapshot.make(1, "r", "#fff", True, params, obj.values(params),
                            obj.value_and_grad(params)[1], np.full(n, lr),
                            optimizer=optimizer, hyper=hyper or {})


def _exact_hessian(obj, p):
    """The full Hessian column by column from exact products (the independent reference
    is in tests/core/test_lanczos.py: these columns match differences of the gradient)."""
    cols = np.stack([obj.hvp(p, np.broadcast_to(e, p.shape)) for e in np.eye(obj.dim)], 2)
    return 0.5 * (cols + np.swapaxes(cols, 1, 2))


def test_sharpness_of_a_network_is_by_lanczos_within_the_budget_and_matches_eigvalsh():
    from gd_explorer.core.problems.lanczos import LANCZOS_ITERATIONS
    from gd_explorer.core.problems.nets import net_objective
    from gd_explorer.model.curvature import LANCZOS_DIM, uses_lanczos

    obj = net_objective("sine", "mlp", "1-6-6-1", "tanh", "mse", samples=50)
    assert obj.dim > LANCZOS_DIM and uses_lanczos(obj)
    snap = _net_snap(obj, 30, lr=0.05)
    t = SharpnessTracker(budget=4 * LANCZOS_ITERATIONS * obj.evaluation_cost)
    sizes = [len(t.update(obj, [snap])[0].steps) for _ in range(9)]
    assert sizes == [4, 8, 12, 16, 20, 24, 28, 30, 30]  # 4 rows a call: the budget
    run = t.update(obj, [snap])[0]
    ref = np.linalg.eigvalsh(_exact_hessian(obj, snap.params))[:, -1]
    np.testing.assert_allclose(run.lmax, ref, rtol=1e-8)
    assert run.lr_edge == pytest.approx(40.0)


def test_curvature_of_a_network_gives_lanczos_extremes_and_the_sgd_edge():
    from gd_explorer.core.problems.nets import net_objective
    from gd_explorer.model.curvature import curvature_at

    obj = net_objective("moons", "mlp", "2-6-6-1", "tanh", "cross-entropy", samples=60)
    snap = _net_snap(obj, 5, lr=0.5, hyper={"momentum": 0.9})
    c = curvature_at(obj, snap, 3)
    lam = np.linalg.eigvalsh(_exact_hessian(obj, snap.params[3:4]))[0]
    assert c.hessian is None and c.eigenvectors is None and c.lanczos is not None
    assert c.eigenvalues[1] == pytest.approx(lam[-1], rel=1e-8)
    assert lam[0] <= c.eigenvalues[0] < 0  # inside the spectrum; indefinite here
    assert c.definiteness == "indefinite" and c.kappa is None and c.finite
    assert c.edge == pytest.approx((2 + 2 * 0.9) / lam[-1], rel=1e-8)  # heavy ball
    assert "stable here for lr <" in c.edge_text()
    assert c.block() is None and c.contour(1.0) == ("none", None)  # no ellipse for 67 parameters
    adam = curvature_at(obj, _net_snap(obj, 3, optimizer="adam", lr=0.01), 2)
    assert adam.edge is None and "preconditioned Hessian" in adam.edge_text()
    up = curvature_at(obj, snap, 3, maximize=True)  # ascent: the Hessian of −f
    assert up.eigenvalues[1] == pytest.approx(-lam[0], rel=1e-3)
