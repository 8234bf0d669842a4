"""The Sweep view as a user drives it: Ctrl+L / the Sweep button, typed settings, real
mouse clicks on the plots that add runs, the map and the range test, sessions."""

import json
import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gd_explorer.core.lab.sweep import SweepSettings
from gd_explorer.core.session.specs import (
    ProblemSpec,
    RunSpec,
    Session,
    load_session,
    save_session,
    session_from_dict,
    session_to_dict,
)


@pytest.fixture
def shown(window, qtbot):
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.model.set_problem(ProblemSpec(kind="function", function="ill-conditioned"))
    window.model.update_run(window.model.runs[0].run_id, RunSpec("sgd", 0.05))
    view = window.views.view("sweep")
    window.views.show_tab("sweep")
    qtbot.waitUntil(view.isVisible)
    return window, view


def _type(qtbot, widget, text):
    widget.setFocus()
    widget.selectAll()
    QTest.keyClicks(widget, text)
    QTest.keyClick(widget, Qt.Key.Key_Return)


def _spin(qtbot, spin, value):
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, str(value))
    QTest.keyClick(spin, Qt.Key.Key_Return)


def _run(window, view, qtbot):
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.model.sweep_job.running and view._result is not None,
                    timeout=30000)
    QApplication.processEvents()


def _click(qtbot, plot, x, y):
    vb = plot.getPlotItem().getViewBox()
    pos = plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_typed_settings_reach_the_model_and_the_sweep_draws_the_edges(shown, qtbot):
    w, view = shown
    _type(qtbot, view.low, "1e-3")
    _type(qtbot, view.high, "1")
    _spin(qtbot, view.count, 40)
    _spin(qtbot, view.steps, 300)
    s = w.model.sweep_job.settings
    assert (s.lr_low, s.lr_high, s.count, s.steps) == (1e-3, 1.0, 40, 300)
    _run(w, view, qtbot)
    r = view._result
    assert len(r.lrs) == 40 and r.steps == 300
    lo, hi = r.measured_edge
    assert lo < 0.1 * 1.2 and hi > 0.1 / 1.2  # the edge 2/λmax = 0.1, within a grid step
    assert view.predicted_line.isVisible() and view.measured_line.isVisible()
    assert view.predicted_line.value() == pytest.approx(math.log10(0.1), abs=1e-6)
    assert "predicted 0.1" in view.predicted_line.label.toPlainText()
    assert "measured" in view.measured_line.label.toPlainText()
    x, y = view.final_curve.getData()
    assert len(x) == 40 and np.isfinite(y[~r.diverged]).all()
    assert len(view.diverged_points.data) == int(r.diverged.sum()) > 0
    assert "Divergence edge: measured between" in view.note.text()


def test_clicking_a_point_adds_that_rate_as_a_run(shown, qtbot):
    w, view = shown
    w.model.sweep_job.set_settings(SweepSettings(lr_low=1e-3, lr_high=1.0, count=30, steps=200))
    _run(w, view, qtbot)
    r = view._result
    n = len(w.model.runs)
    target = r.lrs[12]
    yf = view.final_curve.getData()[1][12]
    _click(qtbot, view.line_plot, math.log10(target) + 0.01, yf)
    assert len(w.model.runs) == n + 1
    added = w.model.run(w.model.selected_run_id).spec
    assert added.optimizer == "sgd" and added.lr == target  # snapped to the swept rate
    assert w.runs_panel.run_list.count() == n + 1
    assert "added a run at lr" in w.statusBar().currentMessage()


def test_map_mode_click_adds_rate_and_momentum(shown, qtbot):
    w, view = shown
    view.mode.setCurrentIndex(view.mode.findData("map"))
    assert view.mcount.isVisible() and view.stack.currentWidget() is view.map_plot
    _spin(qtbot, view.count, 12)
    _spin(qtbot, view.mcount, 5)
    _type(qtbot, view.low, "1e-3")
    _type(qtbot, view.high, "1")
    _spin(qtbot, view.steps, 100)
    s = w.model.sweep_job.settings
    assert (s.mode, s.map_count, s.momenta) == ("map", 12, 5)
    _run(w, view, qtbot)
    m = view._result
    assert m.final_loss.shape == (5, 12)
    img = view.image.image
    assert img.shape == (5, 12)
    n = len(w.model.runs)
    _click(qtbot, view.map_plot, math.log10(m.lrs[3]), m.momenta[2])
    spec = w.model.run(w.model.selected_run_id).spec
    assert len(w.model.runs) == n + 1
    assert spec.lr == m.lrs[3] and spec.hyper["momentum"] == pytest.approx(m.momenta[2])


def test_range_test_on_a_dataset_draws_the_suggestions(shown, qtbot):
    w, view = shown
    w.model.set_problem(ProblemSpec(kind="dataset", dataset="noisy-line"))
    view.mode.setCurrentIndex(view.mode.findData("range"))
    assert "mislead" in view.note.text()
    _run(w, view, qtbot)
    r = view._result
    assert set(r.suggestions) == {"valley", "steepest", "minimum/10"}
    for key, line in view.suggestion_lines.items():
        assert line.isVisible()
        assert line.value() == pytest.approx(math.log10(r.suggestions[key]))
        assert key in line.label.toPlainText()
    assert "How the suggestions mislead" in view.note.text()


def test_bad_typed_rate_is_said_and_nothing_runs(shown, qtbot):
    w, view = shown
    _type(qtbot, view.low, "abc")
    assert "must be numbers" in view.note.text()
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert not w.model.sweep_job.running and view._result is None
    _type(qtbot, view.low, "5")
    _type(qtbot, view.high, "1")
    assert "below the highest" in view.note.text()


def test_map_of_an_optimizer_without_momentum_is_refused_in_plain_words(shown, qtbot):
    w, view = shown
    w.model.update_run(w.model.runs[0].run_id, RunSpec("adagrad", 0.1))
    view.mode.setCurrentIndex(view.mode.findData("map"))
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert "adagrad has neither momentum nor betas" in w.statusBar().currentMessage()
    assert not w.model.sweep_job.running


def test_sessions_remember_the_sweep_settings(window, tmp_path):
    m = window.model
    m.sweep_job.set_settings(SweepSettings(mode="map", count=50, steps=123, momenta=7))
    path = tmp_path / "s.json"
    save_session(path, m.session())
    data = json.loads(path.read_text())
    assert data["lab"]["sweep"]["steps"] == 123 and data["lab"]["sweep"]["mode"] == "map"
    m.sweep_job.set_settings(SweepSettings())
    m.apply_session(load_session(path))
    assert m.sweep_job.settings == SweepSettings(mode="map", count=50, steps=123, momenta=7)
    view = window.views.view("sweep")
    assert view.mode.currentData() == "map" and view.steps.value() == 123


def test_old_sessions_without_lab_load_and_bad_lab_values_name_their_path():
    d = session_to_dict(Session())
    assert "lab" not in d
    assert session_from_dict(d).lab == {}
    d["lab"] = {"sweep": {"count": 1}}
    with pytest.raises(ValueError, match=r"lab.sweep: a sweep needs at least 2"):
        session_from_dict(d)
    d["lab"] = {"sweep": {"steps": True}}
    with pytest.raises(ValueError, match=r"lab.sweep.steps: must be a whole number"):
        session_from_dict(d)
    d["lab"] = {"swep": {}}
    with pytest.raises(ValueError, match=r"lab: unknown key 'swep' \(did you mean 'sweep'"):
        session_from_dict(d)
    d["lab"] = {"sweep": {"steps": 77}}
    assert session_from_dict(d).lab["sweep"].steps == 77
