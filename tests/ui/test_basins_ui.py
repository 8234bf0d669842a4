"""The basins overlay as a user meets it: computed from the menu, drawn over the surface,
clicks through it still set the start, Cancel in the status bar leaves nothing drawn."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from gd_explorer.core.lab.basins import BasinSettings
from gd_explorer.core.session.specs import ProblemSpec, RunSpec


@pytest.fixture
def shown_window(window, qtbot):
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    m = window.model
    m.set_problem(ProblemSpec(kind="function", function="himmelblau"))
    rid = m.runs[0].run_id
    m.update_run(rid, RunSpec("sgd", 0.01))
    m.select_run(rid)
    # the view asks for a surface over its own range once that settles (a map computed
    # before would be marked stale by it): as a user, wait for the window to be drawn
    qtbot.wait(50)
    qtbot.waitUntil(lambda: not window.surface_view._settle.isActive(), timeout=5000)
    QApplication.processEvents()
    return window


def _compute(window, qtbot, settings):
    with qtbot.waitSignal(window.model.basins_changed, timeout=30_000):
        window.model.compute_basins(settings)
    QApplication.processEvents()


def test_overlay_placed_on_the_grid_with_the_maps_colours(shown_window, qtbot):
    w = shown_window
    _compute(w, qtbot, BasinSettings(20, 200))
    view = w.surface_view
    assert view.basins_visible()
    np.testing.assert_array_equal(view.basins.image, w.model.basins.rgba)
    r = w.model.basins.result
    rect = view.basins.mapRectToParent(view.basins.boundingRect())
    dx = (r.xs[-1] - r.xs[0]) / 19
    assert rect.left() == pytest.approx(r.xs[0] - dx / 2)
    assert rect.right() == pytest.approx(r.xs[-1] + dx / 2)
    # over the heat map, under the contours and the paths
    assert view.image.zValue() < view.basins.zValue() < view.contours.zValue()


def test_click_through_the_overlay_sets_the_start(shown_window, qtbot):
    w = shown_window
    _compute(w, qtbot, BasinSettings(20, 100))
    view = w.surface_view
    assert view.basins_visible()
    pos = view.plot_widget.mapFromScene(view.view_box.mapViewToScene(QPointF(2.5, -1.5)))
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    start = w.model.start
    assert start[0] == pytest.approx(2.5, abs=0.1) and start[1] == pytest.approx(-1.5, abs=0.1)
    assert view.basins_visible()  # a new start does not change a 2-D map
    assert not w.model.basins_stale


def test_cancel_button_leaves_nothing_drawn(shown_window, qtbot):
    w = shown_window
    w.model.set_limits(tol=0.0)  # every start runs all its steps: slow enough to cancel
    progressed = threading.Event()
    w.model.basins_progress.connect(lambda f: progressed.set() if f > 0 else None)
    w.model.compute_basins(BasinSettings(300, 100_000))
    qtbot.waitUntil(progressed.is_set, timeout=20_000)
    assert w.basins_progress.isVisible() and w.cancel_basins.isVisible()
    qtbot.mouseClick(w.cancel_basins, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    assert not w.basins_progress.isVisible() and not w.cancel_basins.isVisible()
    assert not w.surface_view.basins_visible()
    assert w.surface_view.basins.image is None
    assert not w.surface_view.basins_legend.isVisible()
    assert "cancelled" in w.statusBar().currentMessage()


def test_stale_map_says_so_and_a_new_problem_removes_it(shown_window, qtbot):
    w = shown_window
    _compute(w, qtbot, BasinSettings(20, 100))
    w.model.update_run(w.model.runs[0].run_id, RunSpec("adam", 0.05))
    texts = [label.text for _, label in w.surface_view.basins_legend.items]
    assert texts[0].startswith("stale")
    assert w.surface_view.basins_visible()
    w.model.set_problem(ProblemSpec(kind="function", function="bowl"))
    assert not w.surface_view.basins_visible()
    assert not w.surface_view.basins_legend.isVisible()


def test_toggle_off_then_a_new_map_shows_again(shown_window, qtbot):
    w = shown_window
    _compute(w, qtbot, BasinSettings(10, 50))
    w.actions_by_name["actionShowBasins"].trigger()
    assert not w.surface_view.basins_visible()
    _compute(w, qtbot, BasinSettings(12, 50))
    assert w.actions_by_name["actionShowBasins"].isChecked()
    assert w.surface_view.basins_visible()


def test_closing_while_a_map_is_computed_ends_its_thread(qapp, qtbot):
    from gd_explorer.model.threads import running_threads
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.model.set_limits(tol=0.0)
    progressed = threading.Event()
    w.model.basins_progress.connect(lambda f: progressed.set() if f > 0 else None)
    w.model.compute_basins(BasinSettings(300, 100_000))
    qtbot.waitUntil(progressed.is_set, timeout=20_000)
    assert "basinsThread" in running_threads()
    w.close()
    assert "basinsThread" not in running_threads()
