"""ExplorerModel: setters, signals, stepping, the worker thread, export, sessions."""

import re
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QObject, Signal

from gd_explorer.cli import main as cli_main
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session


def test_default_session_is_a_race_on_rosenbrock(model):
    assert model.objective.name == "rosenbrock"
    assert len(model.runs) == 3
    assert {r.spec.optimizer for r in model.runs} >= {"adam"}
    assert not model.running
    assert all(s.n == 1 for s in model.snapshots())  # only the start row


def test_invalid_formula_changes_nothing(model, qtbot):
    before = (model.problem, model.objective, [r.descent for r in model.runs])
    with qtbot.assertNotEmitted(model.problem_changed):
        with pytest.raises(ValueError, match="unknown name 'z'"):
            model.set_problem(replace(model.problem, function="x + z"))
    assert (model.problem, model.objective, [r.descent for r in model.runs]) == before


def test_setters_emit_only_on_change(model, qtbot):
    with qtbot.assertNotEmitted(model.start_changed):
        model.set_start(model.start)
    with qtbot.waitSignal(model.start_changed, timeout=1000):
        model.set_start([0.5, 0.5])
    with qtbot.assertNotEmitted(model.speed_changed):
        model.set_speed(model.speed)
    with qtbot.assertNotEmitted(model.limits_changed):
        model.set_limits(model.max_steps, model.tol)


def test_typed_function_builds_and_resets_start(model):
    model.set_problem(replace(model.problem, function="x^2*sin(y)"))
    assert model.objective.gradient_formulas == ("2*x*sin(y)", "x**2*cos(y)")
    np.testing.assert_array_equal(model.start, model.objective.start)


def test_step_advances_every_run_by_one(model, qtbot):
    with qtbot.waitSignal(model.progressed, timeout=1000):
        model.step()
    assert [s.n for s in model.snapshots()] == [2, 2, 2]
    model.step()
    assert [s.n for s in model.snapshots()] == [3, 3, 3]


def test_run_to_convergence_on_the_worker_thread(model, qtbot):
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    model.set_limits(max_steps=100_000, tol=1e-6)
    with qtbot.waitSignal(model.running_changed, timeout=10_000,
                          check_params_cb=lambda running: running is False):
        model.start_running()
    assert not model.running
    for s in model.snapshots():
        assert s.status == "converged", s.message
        assert np.linalg.norm(s.grad[-1]) <= 1e-6


def test_pause_and_resume_keep_the_trajectory(model, qtbot):
    model.set_limits(max_steps=5_000_000, tol=0.0)
    model.set_speed(0)
    model.start_running()
    qtbot.waitUntil(lambda: model.max_rows() > 1000, timeout=10_000)
    model.pause()
    assert not model.running
    rows = [s.n for s in model.snapshots()]
    first = [np.array(s.params[:rows[i]]) for i, s in enumerate(model.snapshots())]
    qtbot.wait(50)
    assert [s.n for s in model.snapshots()] == rows  # nothing moves while paused
    model.start_running()
    qtbot.waitUntil(lambda: min(s.n for s in model.snapshots()) > max(rows) + 100,
                    timeout=10_000)
    model.pause()
    for s, before in zip(model.snapshots(), first):
        np.testing.assert_array_equal(s.params[:len(before)], before)


def test_speed_limits_steps_per_second(model, qtbot):
    model.set_speed(20)
    model.start_running()
    qtbot.wait(500)
    model.pause()
    steps = max(s.n for s in model.snapshots()) - 1
    assert 1 <= steps <= 40  # ~10 expected; generous for a loaded machine


def test_reset_returns_to_the_start(model):
    for _ in range(5):
        model.step()
    model.reset()
    for s in model.snapshots():
        assert s.n == 1
        np.testing.assert_array_equal(s.params[0], model.start)


def test_hyperparameter_change_while_paused_recomputes_a_short_selected_run(model):
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    rid = model.runs[0].run_id
    model.update_run(rid, RunSpec(optimizer="sgd", lr=0.1))
    model.step()
    model.step()
    model.update_run(rid, RunSpec(optimizer="sgd", lr=0.2))  # what-if: from step 0
    s = model.snapshots()[0]
    assert s.n == 3
    np.testing.assert_array_equal(s.params[0], model.start)
    for k in (0, 1):
        np.testing.assert_allclose(s.params[k + 1], s.params[k] - 0.2 * s.grad[k])


def test_hyperparameter_change_while_paused_applies_from_the_next_step(model, monkeypatch):
    import gd_explorer.model.explorer as explorer

    monkeypatch.setattr(explorer, "WHATIF_MAX_STEPS", 1)  # a "long" run: 2 steps
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    rid = model.runs[0].run_id
    model.update_run(rid, RunSpec(optimizer="sgd", lr=0.1))
    model.step()
    model.step()
    before = np.array(model.snapshots()[0].params)
    model.update_run(rid, RunSpec(optimizer="sgd", lr=0.2))
    model.step()
    s = model.snapshots()[0]
    np.testing.assert_array_equal(s.params[:3], before)
    np.testing.assert_allclose(s.params[3], s.params[2] - 0.2 * s.grad[2])


def test_bad_hyperparameter_is_refused_and_changes_nothing(model):
    rid = model.runs[0].run_id
    spec = model.run(rid).spec
    with pytest.raises(ValueError, match="learning rate must be positive"):
        model.update_run(rid, replace(spec, lr=-1.0))
    assert model.run(rid).spec == spec


def test_divergence_is_reported_per_run_and_earlier_rows_stay(model, qtbot):
    model.set_problem(ProblemSpec(kind="function", function="parabola"))
    model.apply_session(Session(problem=ProblemSpec(kind="function", function="parabola"),
                                runs=(RunSpec(optimizer="sgd", lr=1.5),
                                      RunSpec(optimizer="sgd", lr=0.1)),
                                max_steps=10_000, tol=1e-8))
    with qtbot.waitSignal(model.running_changed, timeout=10_000,
                          check_params_cb=lambda running: running is False):
        model.start_running()
    bad, good = model.snapshots()
    assert bad.status == "diverged" and bad.message.startswith("diverged at step")
    # x -> -2x per step: the loss runs away at step 9 (tests/core/test_engine.py), rows 0-8 stay
    assert bad.n == 9 and np.all(np.isfinite(bad.params))
    assert good.status == "converged"


def test_add_remove_hide_runs(model, qtbot):
    n = len(model.runs)
    with qtbot.waitSignal(model.runs_changed, timeout=1000):
        rid = model.add_run()
    assert len(model.runs) == n + 1 and model.selected_run_id == rid
    assert len({r.color for r in model.runs}) == len(model.runs)
    model.set_run_visible(rid, False)
    assert [s.visible for s in model.snapshots()][-1] is False
    model.remove_run(rid)
    assert len(model.runs) == n
    for r in model.runs[1:]:
        model.remove_run(r.run_id)
    with pytest.raises(ValueError, match="keep at least one run"):
        model.remove_run(model.runs[0].run_id)


def test_add_run_offers_the_next_unused_optimizer_in_registry_order(model):
    from gd_explorer.core.limits import MAX_RUNS
    from gd_explorer.core.optim.optimizers import OPTIMIZERS

    for r in model.runs[1:]:
        model.remove_run(r.run_id)
    first = model.runs[0].spec.optimizer
    while len(model.runs) < MAX_RUNS:
        model.add_run()
    expected = [n for n in OPTIMIZERS if n != first][:MAX_RUNS - 1]
    assert [r.spec.optimizer for r in model.runs[1:]] == expected
    for r in model.runs[1:]:  # each at the rate its entry asks the problem for
        assert r.spec.lr == model.objective.default_lr(r.spec.optimizer)
    model.step()
    assert all(s.n == 2 for s in model.snapshots())


def test_worker_exception_reaches_the_ui_and_recovers(model, qtbot, monkeypatch):
    from gd_explorer.model.worker import ENGINE_ENV

    monkeypatch.setenv(ENGINE_ENV, "thread")  # the process's errors: test_engine_modes.py
    entry = model.runs[0]

    def boom(n):
        raise RuntimeError("objective exploded")

    entry.descent.advance = boom
    with qtbot.waitSignal(model.failed, timeout=5000) as blocker:
        model.start_running()
    assert "objective exploded" in blocker.args[0]
    qtbot.waitUntil(lambda: not model.running, timeout=5000)
    model.reset()  # fresh descents: works again
    assert model.step() == 3


def test_shutdown_mid_run_joins_the_threads(qapp, qtbot):
    from gd_explorer.model.explorer import ExplorerModel
    from gd_explorer.model.threads import running_threads

    m = ExplorerModel()
    m.set_limits(max_steps=10_000_000, tol=0.0)
    m.start_running()
    qtbot.wait(100)
    m.shutdown()
    assert running_threads() == []


def test_exported_csv_equals_the_cli(model, tmp_path, capsys, qtbot):
    session = Session(problem=ProblemSpec(kind="function", function="rosenbrock"),
                      runs=(RunSpec(optimizer="adam", lr=0.01),), start=(-1.5, 2.0),
                      max_steps=700, tol=1e-8)
    model.apply_session(session)
    model.start_running()
    qtbot.waitUntil(lambda: not model.running, timeout=20_000)
    app_csv = tmp_path / "app.csv"
    model.export_run_csv(model.runs[0].run_id, str(app_csv))
    cli_csv = tmp_path / "cli.csv"
    assert cli_main(["run", "--function", "rosenbrock", "--optimizer", "adam", "--lr", "0.01",
                     "--start", "-1.5,2", "--steps", "700", "--out", str(cli_csv)]) == 0
    assert app_csv.read_bytes() == cli_csv.read_bytes()


def test_session_round_trip_through_the_model(model):
    s = model.session()
    model.set_problem(ProblemSpec(kind="function", function="booth"))
    model.apply_session(s)
    assert model.session() == s


def test_dataset_problem_with_three_parameters_and_surface_axes(model):
    model.set_problem(ProblemSpec(kind="dataset", dataset="noisy-parabola",
                                  model="quadratic-full", loss="mse"))
    assert model.names == ("a", "b", "c") and model.surface_axes == (0, 1)
    model.set_surface_axes((0, 2))
    xs, ys, z, names = model.surface
    assert names == ("a", "c") and z.shape == (ys.size, xs.size)
    with pytest.raises(ValueError, match="two different parameters"):
        model.set_surface_axes((1, 1))


def test_a_hundred_thousand_signal_emits_do_not_corrupt_refcounts(qapp):
    # PySide6 6.12.0 on CPython 3.11 aborts after ~1000 emits; pinned out in pyproject
    class Emitter(QObject):
        fired = Signal(object)

    e = Emitter()
    seen = []
    e.fired.connect(lambda v: seen.append(v) if len(seen) < 1 else None)
    payload = np.arange(3.0)
    for _ in range(100_000):
        e.fired.emit(payload)
    assert seen and seen[0] is payload
    assert payload.sum() == 3.0


def test_three_parameter_surface_follows_the_selected_run_when_it_stops(model):
    model.set_problem(ProblemSpec(kind="dataset", dataset="noisy-parabola",
                                  model="quadratic-full", loss="mse"))
    z0 = model.surface[2].copy()
    for _ in range(20):
        model.step()
    c = model.selected_snapshot().params[-1][2]
    assert c != 0.0
    z1 = model.surface[2]
    assert not np.array_equal(z0, z1)  # the slice moved with c
    xs, ys, z, _ = model.surface
    p = np.array([xs[5], ys[7], c])
    assert z[7, 5] == pytest.approx(model.objective.value(p), rel=1e-9)


def test_a_least_squares_method_is_refused_where_the_problem_has_no_fit(model):
    """Gauss–Newton on a function: refused in one line by add_run, update_run, a session
    and a change of problem, each time before anything changes."""
    fit = ProblemSpec(kind="dataset", dataset="noisy-line")
    gn = RunSpec(optimizer="gauss_newton", lr=1.0)
    why = "Gauss–Newton needs a least-squares fit (a dataset with the MSE loss)"
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    n = len(model.runs)
    with pytest.raises(ValueError, match=re.escape(why)):
        model.add_run(gn)
    assert len(model.runs) == n
    rid = model.selected_run_id
    spec = model.run(rid).spec
    with pytest.raises(ValueError, match=re.escape(why)):
        model.update_run(rid, replace(spec, optimizer="gauss_newton", hyper={}))
    assert model.run(rid).spec == spec
    with pytest.raises(ValueError, match=re.escape(f"run 1: {why}")):
        model.apply_session(Session(problem=ProblemSpec(kind="function", function="bowl"),
                                    runs=(gn,)))
    assert model.run(rid).spec == spec
    model.apply_session(Session(problem=fit, runs=(gn,)))
    assert model.problem.kind == "dataset"
    with pytest.raises(ValueError, match=re.escape(why)):
        model.set_problem(ProblemSpec(kind="function", function="bowl"))
    assert model.problem == fit and model.runs[0].spec.optimizer == "gauss_newton"


def test_a_drop_where_the_start_already_is_restarts_the_runs_too(model):
    """Let go of the ★ exactly where it was: the runs restart from it and show the
    previewed steps, as for any other drop (set_start alone would keep them where they
    were, and the advance would have carried them 1,000 steps further)."""
    model.set_limits(max_steps=5000, tol=0.0, loss_tol=0.0)
    for _ in range(5):
        model.step()
    x, y = (float(v) for v in model.start[list(model.surface_axes)])
    n = model.drag_preview_steps(len(model.runs))
    model.drop_start_2d(x, y)
    assert not model.running  # paused part-way: stays paused
    assert {s.n for s in model.snapshots()} == {n + 1}
