"""The Landscape tab as a user meets it: open a network, take steps, pick a mode, press
Compute, read what is drawn; Cancel in the status bar leaves the earlier picture."""

import os
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QPushButton, QRadioButton

from gd_explorer.core.lab.landscape import DEFAULT_RESOLUTION


@pytest.fixture
def nets_window(window, qtbot):
    w = window
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    radio = w.problem_panel.findChild(QRadioButton, "netsRadio")
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton)
    assert w.model.problem.kind == "nets"
    step = w.findChild(QAction, "actionStep")
    for _ in range(12):
        step.trigger()
    qtbot.waitUntil(lambda: w.model.selected_snapshot().n == 13, timeout=20_000)
    tabs = w.main_tabs
    page = w.findChild(type(w.views.page("landscape")), "landscapePage")
    i = tabs.indexOf(page)
    assert tabs.isTabVisible(i) and tabs.tabText(i) == "Landscape" and tabs.tabToolTip(i)
    tabs.setCurrentIndex(i)  # what a click on the tab does
    qtbot.wait(50)
    return w


def _view(w):
    return w.findChild(QComboBox, "landscapeModePicker").parent()


def _compute(w, qtbot, mode_title):
    picker = w.findChild(QComboBox, "landscapeModePicker")
    picker.setCurrentIndex(picker.findText(mode_title))
    button = w.findChild(QPushButton, "computeLandscapeButton")
    assert button.toolTip()
    with qtbot.waitSignal(w.model.landscape_job.finished, timeout=30_000) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    return blocker.args[0]


def _status(w) -> str:
    return w.findChild(QLabel, "landscapeStatus").text()


def _shot(w, qtbot, name):
    if os.environ.get("GD_SHOT"):  # look at it: GD_SHOT=1 pytest tests/ui/test_landscape_view.py
        os.makedirs("/tmp/shots", exist_ok=True)
        qtbot.wait(300)
        w.grab().save(f"/tmp/shots/landscape_{name}.png")


def test_random_plane_is_centred_on_the_current_point(nets_window, qtbot):
    w = nets_window
    result = _compute(w, qtbot, "Random directions")
    snap = w.model.selected_snapshot()
    view = _view(w)
    drawn = view.image.image  # log10 loss, row-major (b rows, a columns)
    assert drawn.shape == (DEFAULT_RESOLUTION, DEFAULT_RESOLUTION)
    mid = DEFAULT_RESOLUTION // 2
    loss_now = w.model.objective.value(snap.params[-1])
    assert 10 ** drawn[mid, mid] == pytest.approx(loss_now, rel=1e-12)
    assert result.grid.losses[mid, mid] == loss_now
    x, y = view.centre_point.getData()
    assert (x[0], y[0]) == (0.0, 0.0)
    assert "random plane, seed 0" in view.plane_plot.getPlotItem().titleLabel.text
    assert "step 12" in _status(w) and f"{loss_now:.6g}" in _status(w)
    assert view.contours.getData()[0].size > 0
    _shot(w, qtbot, "random")


def test_pca_plane_shows_the_path_ending_at_the_centre_and_the_variance(nets_window, qtbot):
    w = nets_window
    result = _compute(w, qtbot, "Trajectory PCA")
    view = _view(w)
    px, py = view.path.getData()
    assert len(px) == 13 and (px[-1], py[-1]) == (0.0, 0.0)
    e = result.plane.explained * 100
    title = view.plane_plot.getPlotItem().titleLabel.text
    assert f"PC1 {e[0]:.1f} %" in title and f"PC2 {e[1]:.1f} %" in title
    assert f"explains {e.sum():.1f} % of the path's variance" in _status(w)
    assert view.distance_plot.isVisible() and not view.line_plot.isVisible()
    steps, dist = view.distance_curve.getData()
    np.testing.assert_array_equal(steps, np.arange(13))
    assert dist[-1] == 0.0 and np.all(dist >= 0)
    # the centre of the grid is the current point
    mid = DEFAULT_RESOLUTION // 2
    snap = w.model.selected_snapshot()
    assert result.grid.losses[mid, mid] == w.model.objective.value(snap.params[-1])
    _shot(w, qtbot, "pca")


def test_interpolation_marks_the_start_and_the_current_point(nets_window, qtbot):
    w = nets_window
    _compute(w, qtbot, "1-D interpolation")
    view = _view(w)
    assert view.line_plot.isVisible() and not view.plane_plot.isVisible()
    assert [m.value() for m in view.alpha_marks] == [0.0, 1.0]
    snap = w.model.selected_snapshot()
    x, y = view.line_points.getData()
    np.testing.assert_array_equal(x, [0.0, 1.0])
    obj = w.model.objective
    assert y[1] == pytest.approx(obj.value(snap.params[-1]), rel=1e-12)
    assert y[0] == pytest.approx(obj.value(snap.params[0]), rel=1e-9)
    ax, ay = view.line_curve.getData()
    assert ax[0] == -0.5 and ax[-1] == 1.5 and np.isfinite(ay).all()
    _shot(w, qtbot, "line")


def test_the_picture_says_when_the_run_moved_on(nets_window, qtbot):
    w = nets_window
    _compute(w, qtbot, "Random directions")
    w.findChild(QAction, "actionStep").trigger()
    qtbot.waitUntil(lambda: "Stale: drawn at step 12; the run is at step 13" in _status(w),
                    timeout=10_000)
    x, _ = _view(w).now_point.getData()
    assert len(x) == 1  # where the run is now, projected onto the plane
    _compute(w, qtbot, "Random directions")
    assert "step 13" in _status(w) and "Stale" not in _status(w)


def test_cancel_leaves_the_old_picture_and_says_so(nets_window, qtbot, monkeypatch):
    w = nets_window
    first = _compute(w, qtbot, "Random directions")
    view = _view(w)
    before = view.image.image.copy()
    gate = threading.Event()
    obj = w.model.objective
    original = type(obj).values

    def slow_values(self, p):
        gate.wait(10)
        return original(self, p)

    monkeypatch.setattr(type(obj), "values", slow_values)
    qtbot.mouseClick(w.findChild(QPushButton, "computeLandscapeButton"),
                     Qt.MouseButton.LeftButton)
    cancel = w.findChild(QPushButton, "cancelLandscapeButton")
    qtbot.waitUntil(cancel.isVisible, timeout=5000)
    assert w.findChild(type(w.landscape_progress), "landscapeProgress").isVisible()
    said = []  # what the status bar showed (a later message, the surface's, may follow it)
    w.statusBar().messageChanged.connect(said.append)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    gate.set()
    assert "Cancelled: the picture shown is still the earlier one" in _status(w)
    qtbot.waitUntil(lambda: not cancel.isVisible(), timeout=5000)
    qtbot.wait(300)  # the cancelled computation ends; nothing of it is drawn
    np.testing.assert_array_equal(view.image.image, before)
    assert w.model.landscape_job.last is first
    assert any("landscape cancelled" in text for text in said), said


def test_a_path_too_short_for_a_plane_is_refused_in_words(window, qtbot):
    w = window
    w.show()
    qtbot.waitExposed(w)
    radio = w.problem_panel.findChild(QRadioButton, "netsRadio")
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton)
    w.views.show_tab("landscape")
    picker = w.findChild(QComboBox, "landscapeModePicker")
    picker.setCurrentIndex(picker.findText("Trajectory PCA"))
    with qtbot.waitSignal(w.model.landscape_job.failed, timeout=10_000):
        qtbot.mouseClick(w.findChild(QPushButton, "computeLandscapeButton"),
                         Qt.MouseButton.LeftButton)
    assert "cannot draw the landscape" in _status(w) and "run it further" in _status(w)


def test_every_control_has_a_tooltip_and_a_name(nets_window):
    view = _view(nets_window)
    for name in ("landscapeModePicker", "landscapeSeed", "landscapeResolution",
                 "computeLandscapeButton", "landscapeStatus", "landscapePlanePlot"):
        child = view.findChild(object, name)
        assert child is not None and child.toolTip(), name


def test_the_tab_is_hidden_for_a_function(window):
    w = window
    assert not w.main_tabs.isTabVisible(w.views.tab_index("landscape"))


def test_a_newer_request_drops_the_older_answer(qapp, qtbot, monkeypatch):
    """Request ids: the first computation, still running when a second is asked for,
    never reaches ``finished``; only the second does."""
    from gd_explorer.core.problems.nets import net_objective
    from gd_explorer.model.landscape_job import LandscapeJob

    obj = net_objective("moons", "mlp", "2-4-1", samples=20)
    gate = threading.Event()
    original = type(obj).values
    calls = []

    def gated(self, p):
        calls.append(len(p))
        if len(calls) == 1:
            gate.wait(10)
        return original(self, p)

    monkeypatch.setattr(type(obj), "values", gated)
    job = LandscapeJob()
    try:
        got = []
        job.finished.connect(got.append)
        path = np.array(obj.start)[None, :]
        first = job.start(obj, "random", path, resolution=11)
        second = job.start(obj, "random", path, seed=3, resolution=11)
        gate.set()
        qtbot.waitUntil(lambda: bool(got), timeout=10_000)
        qtbot.wait(200)
        assert [r.job for r in got] == [second] and first != second
        assert got[0].request.seed == 3 and job.last is got[0]
    finally:
        job.stop()
        job.thread.quit()
        job.thread.wait(5000)
