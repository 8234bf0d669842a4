"""Drag and see (issue 11 §1), as a user meets it: press on the start ★ of the Surface
view and drag, and every run's path is recomputed under the cursor (its first
DRAG_PREVIEW_STEPS steps); release, and the runs restart from there in full. A drag that
begins away from the ★ still pans. Everything through real mouse events on the plot's
viewport; the paths are checked against an independent run of the engine.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore
from PySide6.QtCore import Qt

from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.limits import DRAG_PREVIEW_STEPS
from gd_explorer.core.session.presets import PRESETS
from gd_explorer.core.session.specs import make_descent
from gd_explorer.ui.views.surface import DRAG_TICK_MS

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    # pyqtgraph drops mouse moves closer than 10 ms apart; every move of these tests counts
    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)

    from gd_explorer.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(PRESETS["rosenbrock-race"].session, settings=settings)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.speed_slider.setValue(w.speed_slider.maximum())  # as fast as it goes
    w.show()
    qtbot.waitExposed(w)
    w.views.show_tab("surface")
    qtbot.wait(200)
    yield w
    w.close()


def _star_pos(view) -> QtCore.QPoint:
    """Where the ★ is on the plot's viewport (mapped from its data coordinates)."""
    x, y = view.start_marker.getData()
    scene = view.view_box.mapViewToScene(QtCore.QPointF(float(x[0]), float(y[0])))
    return view.plot_widget.mapFromScene(scene)


def _data_at(view, pos: QtCore.QPoint) -> tuple[float, float]:
    """The data point under a viewport position (the inverse mapping)."""
    p = view.view_box.mapSceneToView(view.plot_widget.mapToScene(pos))
    return p.x(), p.y()


def _engine_rows(m, spec, start, rows: int) -> np.ndarray:
    """An independent run of the engine from ``start``: its first ``rows`` parameter rows."""
    d: Descent = make_descent(m.objective, m.problem, spec, np.asarray(start),
                              max_steps=m.max_steps, tol=m.tol, loss_tol=m.loss_tol)
    d.advance(rows - 1)
    return d.trajectory().params[:rows]


def _drag(qtbot, vp, a: QtCore.QPoint, offset: QtCore.QPoint, steps: int = 6) -> QtCore.QPoint:
    qtbot.mousePress(vp, LEFT, pos=a)
    p = a
    for t in range(1, steps + 1):
        p = a + QtCore.QPoint(offset.x() * t // steps, offset.y() * t // steps)
        qtbot.mouseMove(vp, p, delay=5)
    return p


def test_dragging_the_star_previews_every_path_then_runs_in_full(win, qtbot):
    m, v = win.model, win.surface_view
    m.set_limits(max_steps=2500, tol=0.0, loss_tol=0.0)
    assert len(m.runs) == 3
    start0 = m.start
    vp = v.plot_widget.viewport()
    a = _star_pos(v)
    b = _drag(qtbot, vp, a, QtCore.QPoint(70, -45))
    qtbot.wait(4 * DRAG_TICK_MS)  # a display tick computes the preview
    x, y = _data_at(v, b)
    # the ★ follows the cursor; the model's start moves only on release
    sx, sy = v.start_marker.getData()
    assert (sx[0], sy[0]) == pytest.approx((x, y), abs=1e-9)
    assert np.array_equal(m.start, start0)
    p = m.start.copy()
    p[list(m.surface_axes)] = (x, y)
    for r in m.runs:
        path, _ = v.run_items(r.run_id)
        px, py = path.getData()
        ref = _engine_rows(m, r.spec, p, DRAG_PREVIEW_STEPS + 1)
        assert len(px) == DRAG_PREVIEW_STEPS + 1
        np.testing.assert_array_equal(px, ref[:, 0])
        np.testing.assert_array_equal(py, ref[:, 1])
    qtbot.mouseRelease(vp, LEFT, pos=b)
    # release: the start is where the ★ was let go, and every run restarts from there
    np.testing.assert_array_equal(m.start, p)
    qtbot.waitUntil(lambda: not m.running, timeout=20_000)
    for r in m.runs:
        snap = next(s for s in m.snapshots() if s.run_id == r.run_id)
        ref = _engine_rows(m, r.spec, p, 2501)
        assert snap.n == 2501
        np.testing.assert_array_equal(snap.params, ref)


def test_moves_within_a_tick_are_coalesced_to_the_latest(win, qtbot):
    v = win.surface_view
    seen = []
    v.start_dragged.connect(lambda x, y: seen.append((x, y)))
    vp = v.plot_widget.viewport()
    a = _star_pos(v)
    qtbot.mousePress(vp, LEFT, pos=a)
    qtbot.mouseMove(vp, a + QtCore.QPoint(10, 10), delay=5)  # past the drag distance
    qtbot.wait(4 * DRAG_TICK_MS)
    seen.clear()
    last = a
    for t in range(1, 21):  # twenty moves with no event loop in between: one tick
        last = a + QtCore.QPoint(10 + 3 * t, 10 + 2 * t)
        qtbot.mouseMove(vp, last)
    qtbot.wait(4 * DRAG_TICK_MS)
    assert len(seen) == 1
    assert seen[0] == pytest.approx(_data_at(v, last), abs=1e-9)
    qtbot.mouseRelease(vp, LEFT, pos=last)


def test_a_drag_away_from_the_star_pans(win, qtbot):
    m, v = win.model, win.surface_view
    start0 = m.start
    before = v.view_box.viewRange()
    vp = v.plot_widget.viewport()
    a = _star_pos(v) + QtCore.QPoint(80, 60)  # well away from the ★
    assert vp.rect().contains(a)
    with qtbot.assertNotEmitted(v.start_dragged), qtbot.assertNotEmitted(v.start_dropped):
        b = _drag(qtbot, vp, a, QtCore.QPoint(60, 40))
        qtbot.wait(4 * DRAG_TICK_MS)
        qtbot.mouseRelease(vp, LEFT, pos=b)
    assert v.view_box.viewRange()[0] != pytest.approx(before[0])  # panned
    np.testing.assert_array_equal(m.start, start0)


def test_a_network_drag_previews_fewer_steps_as_its_evaluations_cost_more(win, qtbot):
    """1,000 steps of three network runs at every mouse move would freeze the window for
    half a second; the preview's work per tick is bounded (DRAG_PREVIEW_WORK)."""
    from PySide6.QtWidgets import QRadioButton

    from gd_explorer.core.limits import DRAG_PREVIEW_WORK

    m, v = win.model, win.surface_view
    rosenbrock_steps = m.drag_preview_steps(len(m.runs))
    assert rosenbrock_steps == DRAG_PREVIEW_STEPS
    qtbot.mouseClick(win.problem_panel.findChild(QRadioButton, "netsRadio"), LEFT)
    qtbot.waitUntil(lambda: m.surface is not None and m.surface[2] is not None, timeout=20_000)
    qtbot.wait(200)
    steps = m.drag_preview_steps(len(m.runs))
    assert 1 <= steps < DRAG_PREVIEW_STEPS
    assert steps * len(m.runs) * m.objective.evaluation_cost <= DRAG_PREVIEW_WORK
    vp = v.plot_widget.viewport()
    b = _drag(qtbot, vp, _star_pos(v), QtCore.QPoint(30, -20))
    qtbot.wait(4 * DRAG_TICK_MS)
    for r in m.runs:
        px, _ = v.run_items(r.run_id)[0].getData()
        assert len(px) == steps + 1  # the bounded preview is what is drawn
    qtbot.mouseRelease(vp, LEFT, pos=b)
    m.pause()


def test_a_drop_keeps_runs_paused_part_way_paused_at_the_previewed_step(win, qtbot):
    """Stepped by hand and paused: the drop moves the start and leaves every run paused
    where the preview showed it (no jump back to the ★, no run the user did not ask
    for); the next Step continues from there. Before, the drop always started the runs."""
    from PySide6.QtGui import QAction

    m, v = win.model, win.surface_view
    m.set_limits(max_steps=2500, tol=0.0, loss_tol=0.0)
    step = win.findChild(QAction, "actionStep")
    for _ in range(5):
        step.trigger()
    assert not m.running
    vp = v.plot_widget.viewport()
    b = _drag(qtbot, vp, _star_pos(v), QtCore.QPoint(40, 30))
    qtbot.wait(4 * DRAG_TICK_MS)
    qtbot.mouseRelease(vp, LEFT, pos=b)
    qtbot.wait(50)
    assert not m.running
    x, y = _data_at(v, b)
    p = m.start
    assert (p[0], p[1]) == pytest.approx((x, y), abs=1e-9)
    for r in m.runs:
        snap = next(s for s in m.snapshots() if s.run_id == r.run_id)
        assert snap.n == DRAG_PREVIEW_STEPS + 1
        np.testing.assert_array_equal(snap.params,
                                      _engine_rows(m, r.spec, p, DRAG_PREVIEW_STEPS + 1))
    step.trigger()
    snap = m.snapshots()[0]
    assert snap.n == DRAG_PREVIEW_STEPS + 2
    np.testing.assert_array_equal(snap.params,
                                  _engine_rows(m, m.runs[0].spec, p, DRAG_PREVIEW_STEPS + 2))


def test_a_drag_of_running_runs_goes_on_running_after_the_drop(win, qtbot):
    from PySide6.QtGui import QAction

    m, v = win.model, win.surface_view
    m.set_limits(max_steps=200_000, tol=0.0, loss_tol=0.0)
    win.speed_slider.setValue(win.speed_slider.minimum())  # slow: still running at the drag
    win.findChild(QAction, "actionRun").trigger()
    qtbot.waitUntil(lambda: m.running, timeout=5000)
    vp = v.plot_widget.viewport()
    b = _drag(qtbot, vp, _star_pos(v), QtCore.QPoint(40, 30))
    qtbot.wait(4 * DRAG_TICK_MS)
    assert not m.running  # paused while the hand is on the ★
    qtbot.mouseRelease(vp, LEFT, pos=b)
    qtbot.waitUntil(lambda: m.running, timeout=5000)
    m.pause()
