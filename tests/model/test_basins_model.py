"""The model's basin maps: computed off the UI thread, cancelled whole, stale or cleared
when what they were computed from changes."""

import threading

import numpy as np
import pytest

from gd_explorer.core.lab.basins import BasinSettings, compute_basins
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session


def _himmelblau(model, optimizer="sgd", lr=0.01):
    model.set_problem(ProblemSpec(kind="function", function="himmelblau"))
    rid = model.runs[0].run_id
    model.update_run(rid, RunSpec(optimizer, lr))
    model.select_run(rid)
    return rid


def _compute(model, qtbot, settings):
    with qtbot.waitSignal(model.basins_changed, timeout=30_000):
        model.compute_basins(settings)
    return model.basins


def test_the_map_is_the_selected_runs_and_the_cores(model, qtbot):
    _himmelblau(model, "adam", 0.05)
    busy = []
    model.basins_busy_changed.connect(busy.append)
    got = _compute(model, qtbot, BasinSettings(25, 200))
    assert busy == [True, False] and not model.basins_busy
    obj = model.objective
    ref = compute_basins(obj, make_optimizer("adam", lr=0.05), model.start, (0, 1),
                         model.surface_window, grid=25, steps=200, tol=model.tol)
    np.testing.assert_array_equal(got.result.label, ref.label)
    np.testing.assert_array_equal(got.result.steps, ref.steps)
    assert got.rgba.shape == (25, 25, 4)
    assert not model.basins_stale


def test_cancel_keeps_the_map_shown_and_drops_the_one_computed(model, qtbot):
    _himmelblau(model)
    first = _compute(model, qtbot, BasinSettings(10, 50))
    changes = []
    model.basins_changed.connect(lambda: changes.append(model.basins))
    # a slow map: tolerance 0, many steps; cancelled once it has made progress
    model.set_limits(tol=0.0)
    changes.clear()
    progressed = threading.Event()
    model.basins_progress.connect(lambda f: progressed.set() if f > 0 else None)
    messages = []
    model.message.connect(messages.append)
    model.compute_basins(BasinSettings(300, 100_000))
    qtbot.waitUntil(progressed.is_set, timeout=20_000)
    with qtbot.waitSignal(model.basins_busy_changed, timeout=5000) as blocker:
        model.cancel_basins()
    assert blocker.args == [False]
    qtbot.wait(300)  # anything the worker still sends is dropped
    assert model.basins is first  # nothing half-drawn replaced it
    assert changes == []
    assert "basins of attraction cancelled" in messages


def test_optimizer_tolerance_and_selection_make_it_stale(model, qtbot):
    rid = _himmelblau(model)
    _compute(model, qtbot, BasinSettings(10, 50))
    model.update_run(rid, RunSpec("sgd", 0.02))
    assert model.basins is not None and model.basins_stale
    _compute(model, qtbot, BasinSettings(10, 50))
    assert not model.basins_stale
    model.set_limits(tol=1e-6)
    assert model.basins_stale
    _compute(model, qtbot, BasinSettings(10, 50))
    model.select_run(model.runs[1].run_id)
    assert model.basins_stale


def test_window_stale_only_when_the_map_no_longer_serves_it(model, qtbot):
    _himmelblau(model)
    _compute(model, qtbot, BasinSettings(10, 50))
    model.set_surface_window(((-4.0, 4.5), (-4.0, 4.0)))  # inside, not much narrower
    assert not model.basins_stale
    model.set_surface_window(((-8.0, 8.0), (-8.0, 8.0)))  # beyond the map
    assert model.basins_stale


def test_a_new_problem_or_session_clears_the_map(model, qtbot):
    _himmelblau(model)
    _compute(model, qtbot, BasinSettings(10, 50))
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    assert model.basins is None
    _compute(model, qtbot, BasinSettings(10, 50))
    model.apply_session(Session(lab={"basins": BasinSettings(64, 80)}))
    assert model.basins is None
    assert model.basin_settings == BasinSettings(64, 80)
    assert model.session().lab == {"basins": BasinSettings(64, 80)}


def test_refusals_change_nothing(model, qtbot):
    rid = _himmelblau(model)
    model.update_run(rid, RunSpec("sgd", 0.01, schedule="plateau"))
    with pytest.raises(ValueError, match="follows one run's loss"):
        model.compute_basins(BasinSettings(10, 50))
    assert not model.basins_busy and model.basin_settings == BasinSettings()
    model.set_problem(ProblemSpec(kind="function", function="parabola"))
    with pytest.raises(ValueError, match="need a surface"):
        model.compute_basins()
