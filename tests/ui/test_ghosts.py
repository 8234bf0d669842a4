"""Run ▸ Keep as ghost, as a user meets it: the shortcut freezes the selected run's path,
the lr is changed in the run editor or the problem in the panel, and the old path stays
drawn (dashed, labelled) on the surface, the loss pane and the 1-D curve; it is saved in
the session file (File ▸ Save, the dialog answered by a monkeypatch) and read back;
Clear ghosts removes it; a problem with another number of parameters drops it, saying so.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from gd_explorer.core.limits import MAX_GHOST_ROWS, MAX_GHOSTS
from gd_explorer.core.session.specs import load_session


@pytest.fixture
def win(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gd_explorer.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.speed_slider.setValue(w.speed_slider.maximum())  # as fast as it goes
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    yield w
    w.close()


def _action(w, name) -> QAction:
    return next(a for a in w.findChildren(QAction) if a.objectName() == name)


def _press(w, keys: str) -> None:
    w.surface_view.plot_widget.setFocus()
    QTest.keySequence(w.surface_view.plot_widget, QKeySequence(keys))


def _type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def _run_to_end(w, qtbot, steps: int) -> None:
    w.model.set_limits(max_steps=steps, tol=0.0)
    qtbot.mouseClick(w.reset_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.model.running, timeout=20_000)
    assert w.model.selected_snapshot().n == steps + 1


def _snap(w):
    s = w.model.selected_snapshot()
    return np.array(s.params), np.array(s.loss), s.label


def test_ghost_stays_drawn_after_the_lr_changes(win, qtbot):
    w = win
    w.loss_view.set_log_y(False)  # (compared in plotted coordinates below)
    _run_to_end(w, qtbot, 60)
    params, loss, label = _snap(w)
    _press(w, "G")
    assert "kept ghost" in w.statusBar().currentMessage()

    old_lr = w.model.run(w.model.selected_run_id).spec.lr
    _type_into(qtbot, w.runs_panel.lr_edit.edit, repr(old_lr / 4))
    assert w.model.run(w.model.selected_run_id).spec.lr == old_lr / 4
    _run_to_end(w, qtbot, 60)
    new_params, _, new_label = _snap(w)
    assert not np.array_equal(new_params, params)  # the run really changed
    assert new_label != label

    (x, y, text, shown), = w.surface_view.ghosts.drawn()
    np.testing.assert_array_equal(x, params[:, 0])
    np.testing.assert_array_equal(y, params[:, 1])
    assert text == f"ghost: {label} (before)" and shown
    (sx, sy, ltext, _), = w.loss_view.ghosts.drawn()
    np.testing.assert_array_equal(sx, np.arange(61.0))
    np.testing.assert_array_equal(sy, loss)
    assert ltext == text
    # dashed and dimmed: behind the live run
    curve = w.surface_view.ghosts._items[0][0]
    assert curve.opts["pen"].style() == Qt.PenStyle.DashLine
    assert curve.opts["pen"].color().alpha() < 255


def test_ghost_survives_a_problem_of_the_same_size_and_is_dropped_for_another(win, qtbot):
    w = win
    _run_to_end(w, qtbot, 20)
    params, _, _ = _snap(w)
    _action(w, "actionKeepGhost").trigger()
    edit = w.problem_panel.formula_edit
    edit.clear()
    _type_into(qtbot, edit, "x^2 + 3*y^2")
    assert w.model.dim == 2 and len(w.model.ghosts) == 1
    (x, y, _, _), = w.surface_view.ghosts.drawn()
    np.testing.assert_array_equal(x, params[:, 0])
    edit.clear()
    _type_into(qtbot, edit, "x^4 - x")
    assert w.model.dim == 1
    assert w.model.ghosts == ()
    assert "1 ghost dropped" in w.statusBar().currentMessage()
    assert "2 parameters" in w.statusBar().currentMessage()


def test_ghost_on_the_one_parameter_curve(win, qtbot):
    w = win
    edit = w.problem_panel.formula_edit
    edit.clear()
    _type_into(qtbot, edit, "x^4 - 4*x^2 + x")
    assert w.model.dim == 1
    _run_to_end(w, qtbot, 30)
    params, loss, label = _snap(w)
    _press(w, "G")
    _type_into(qtbot, w.runs_panel.lr_edit.edit, "0.002")
    _run_to_end(w, qtbot, 30)
    (x, y, text, _), = w.curve_view.ghosts.drawn()
    np.testing.assert_array_equal(x, params[:, 0])
    np.testing.assert_array_equal(y, loss)
    assert text == f"ghost: {label} (before)"


def test_ghosts_are_saved_reopened_and_cleared(win, qtbot, tmp_path, monkeypatch):
    w = win
    _run_to_end(w, qtbot, 25)
    params, loss, label = _snap(w)
    _press(w, "G")
    path = tmp_path / "with-ghost.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    _action(w, "actionSaveSession").trigger()
    qtbot.waitUntil(path.exists, timeout=5000)
    (ghost,) = load_session(path).ghosts
    assert ghost.label == f"ghost: {label} (before)"
    np.testing.assert_array_equal(np.array(ghost.params), params)  # bit for bit

    _press(w, "Shift+G")
    assert w.model.ghosts == () and w.surface_view.ghosts.drawn() == []
    _action(w, "actionOpenSession").trigger()
    qtbot.waitUntil(lambda: len(w.model.ghosts) == 1, timeout=5000)
    (x, y, text, _), = w.surface_view.ghosts.drawn()
    np.testing.assert_array_equal(np.column_stack([x, y]), params[:, :2])
    assert text == f"ghost: {label} (before)"
    (_, ly, _, _), = w.loss_view.ghosts.drawn()
    expect = np.log10(loss) if w.loss_view._log_active else loss
    np.testing.assert_array_equal(ly, expect)


def test_a_long_run_is_thinned_and_at_most_max_ghosts_are_kept(win, qtbot):
    w = win
    _run_to_end(w, qtbot, 3000)
    params, _, _ = _snap(w)
    for _ in range(MAX_GHOSTS + 1):
        _press(w, "G")
    assert len(w.model.ghosts) == MAX_GHOSTS
    assert "dropped the oldest" in w.statusBar().currentMessage()
    labels = [g.label for g in w.model.ghosts]
    assert len(set(labels)) == MAX_GHOSTS  # told apart
    drawn = w.surface_view.ghosts.drawn()
    assert len(drawn) == MAX_GHOSTS
    x, y, _, _ = drawn[0]
    assert len(x) == MAX_GHOST_ROWS
    assert (x[0], y[0]) == (params[0, 0], params[0, 1])  # first and last rows kept
    assert (x[-1], y[-1]) == (params[-1, 0], params[-1, 1])


def test_a_runaway_ghost_from_a_file_is_cut_to_the_view(win, qtbot, tmp_path, monkeypatch):
    # the engine flags a runaway long before 1e47, but a session file may hold such a path:
    # handed to Qt uncut it crashes the rasteriser under X (STYLE.md)
    from gd_explorer.core.session.specs import GhostSpec, ProblemSpec, Session, save_session

    ys = [2.0 * 10.0 ** k for k in range(48)]  # up to 2e47
    ghost = GhostSpec(label="ghost: far away", color="#56B4E9", steps=tuple(range(48)),
                      params=tuple((0.5, y) for y in ys), loss=tuple(-y * y / 1e50 for y in ys))
    path = tmp_path / "runaway.json"
    save_session(path, Session(problem=ProblemSpec(kind="function", function="saddle"),
                               ghosts=(ghost,)))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    _action(w := win, "actionOpenSession").trigger()
    qtbot.waitUntil(lambda: len(w.model.ghosts) == 1, timeout=5000)
    qtbot.wait(50)
    (x, y, text, shown), = w.surface_view.ghosts.drawn()
    (x0, x1), (y0, y1) = w.surface_view.view_box.viewRange()
    span = max(x1 - x0, y1 - y0)
    fin = np.isfinite(y)
    assert fin.sum() >= 2 and np.all(np.abs(y[fin]) < 1e3 * span), y
    assert x[0] == 0.5 and y[0] == 2.0  # its start as it was
    assert text == "ghost: far away" and not shown  # its end is far off: no label out there


def test_keep_ghost_without_a_step_says_why(win, qtbot):
    w = win
    w.model.set_limits(max_steps=0)
    qtbot.mouseClick(w.reset_button, Qt.MouseButton.LeftButton)
    _press(w, "G")  # a start row only: still a (one-point) ghost
    assert len(w.model.ghosts) == 1


# ---------------------------------------------------------------- Rewind
def _minibatch_session(seed: int):
    from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session

    return Session(problem=ProblemSpec(kind="dataset", dataset="noisy-line", batch_size=5,
                                       seed=seed),
                   runs=(RunSpec(optimizer="sgd", lr=0.01), RunSpec(optimizer="adam", lr=0.05)),
                   max_steps=80, tol=0.0)


def _rows(w, n=50):
    s = w.model.selected_snapshot()
    return np.array(s.params[:n]), np.array(s.loss[:n]), np.array(s.grad[:n])


def test_rewind_repeats_a_mini_batch_run_bit_for_bit(win, qtbot):
    w = win
    w.model.apply_session(_minibatch_session(seed=3))
    qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.model.running, timeout=20_000)
    first = _rows(w)
    assert w.model.selected_snapshot().n == 81
    other = w.model.runs[1].run_id
    other_rows = np.array(w.model.run(other).descent.trajectory().params)

    _press(w, "Shift+R")
    assert w.model.selected_snapshot().n == 1
    assert "same mini-batches of 5, seed 3" in w.statusBar().currentMessage()
    np.testing.assert_array_equal(w.model.run(other).descent.trajectory().params, other_rows)
    w.model.set_limits(max_steps=60)  # (the rewound run alone has steps left)
    qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.model.running, timeout=20_000)
    again = _rows(w)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit: the same batches, same order

    # the check has teeth: another shuffling seed takes another path within 50 rows
    w.model.apply_session(_minibatch_session(seed=4))
    qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.model.running, timeout=20_000)
    assert not np.array_equal(_rows(w)[0], first[0])


def test_ghosts_come_back_with_the_remembered_session(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gd_explorer.ui.main_window import MainWindow

    def settings():
        return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)

    w = MainWindow(settings=settings())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.step()
    w.step()
    _action(w, "actionKeepGhost").trigger()
    kept = w.model.ghosts
    w.close()
    again = MainWindow(settings=settings(), restore=True)
    qtbot.addWidget(again)
    try:
        assert again.model.ghosts == kept
    finally:
        again.close()
