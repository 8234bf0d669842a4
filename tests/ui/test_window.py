"""The main window: smoke, bindings both ways, controls, files, sessions, shortcuts."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
)

from gd_explorer.cli import main as cli_main
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session


def test_smoke_show_and_quit_by_timer(qapp, qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    QTimer.singleShot(200, w.close)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)


def test_key_widgets_have_object_names(window):
    for name, cls in [("runButton", QPushButton), ("stepButton", QPushButton),
                      ("resetButton", QPushButton), ("addRunButton", QPushButton),
                      ("functionPicker", QComboBox), ("optimizerPicker", QComboBox),
                      ("learningRate", QLineEdit)]:
        assert window.findChild(cls, name) is not None, name
    for name in ("surfacePlot", "lossPlot", "fitPlot"):
        assert window.findChild(object, name) is not None, name
    from PySide6.QtGui import QAction

    act = window.findChild(QAction, "actionExportCsv")
    assert act is not None and act.shortcut().toString() == "Ctrl+E"


def test_every_control_has_a_tooltip(window):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QAbstractSpinBox

    missing = []
    for cls in (QAbstractButton, QComboBox, QLineEdit, QAbstractSlider, QAbstractSpinBox):
        for w in window.findChildren(cls):
            if not w.objectName() or w.objectName().startswith("qt_") or \
                    w.objectName() in ("ScrollLeftButton", "ScrollRightButton"):
                continue  # Qt's own tab-bar scrollers
            if not w.toolTip():
                missing.append(w.objectName())
    assert not missing, missing


def test_shortcuts(window):
    from PySide6.QtGui import QAction

    keys = {a.objectName(): a.shortcut().toString() for a in window.findChildren(QAction)
            if a.objectName()}
    assert keys["actionRun"] == "Space" and keys["actionStep"] == "Right"
    assert keys["actionReset"] == "R" and keys["actionSaveSession"] == "Ctrl+S"
    assert keys["actionOpenSession"] == "Ctrl+O" and keys["actionQuit"] == "Ctrl+Q"


def test_step_button_advances_and_views_update(window, qtbot):
    qtbot.mouseClick(window.step_button, Qt.MouseButton.LeftButton)
    snaps = window.model.snapshots()
    assert all(s.n == 2 for s in snaps)
    assert window.timeline.maximum() == 1
    assert "step 1" in window.status_label.text()
    assert "Step k = 1" in window.step_log.toPlainText()


def test_run_button_runs_to_the_end_and_back(window, qtbot):
    window.model.set_problem(ProblemSpec(kind="function", function="bowl"))
    window.model.set_limits(max_steps=2000, tol=1e-9)
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.model.running, timeout=15_000)
    assert window.run_button.text() == "Run" and not window.run_button.isChecked()
    assert all(s.status == "converged" for s in window.model.snapshots())


def test_pause_and_resume_from_the_button(window, qtbot):
    window.model.set_limits(max_steps=10_000_000, tol=0.0)
    window.model.set_speed(0)
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.max_rows() > 100, timeout=10_000)
    assert window.run_button.text() == "Pause"
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    assert not window.model.running and window.run_button.text() == "Run"
    n = window.model.max_rows()
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.max_rows() > n + 100, timeout=10_000)
    qtbot.mouseClick(window.reset_button, Qt.MouseButton.LeftButton)
    assert not window.model.running and window.model.max_rows() == 1


def test_function_picker_binds_both_ways(window):
    picker = window.problem_panel.function_picker
    i = picker.findData("himmelblau")
    picker.setCurrentIndex(i)
    picker.activated.emit(i)
    assert window.model.objective.name == "himmelblau"
    window.model.set_problem(ProblemSpec(kind="function", function="booth"))
    assert picker.currentData() == "booth"


def test_typed_function_validates_live_and_invalid_changes_nothing(window, qtbot):
    edit = window.problem_panel.formula_edit
    before = window.model.objective
    qtbot.keyClicks(edit, "x^2 + foo(y)")
    status = window.problem_panel.formula_status.text()
    assert "foo" in status and "not allowed" in status
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.model.objective is before
    edit.clear()
    qtbot.keyClicks(edit, "x^2*sin(y)")
    assert "2x·sin(y)" in window.problem_panel.formula_status.text()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.model.objective.formula.replace(" ", "") in ("x**2*sin(y)",)


def test_learning_rate_binds_both_ways(window):
    panel = window.runs_panel
    edit = panel.lr_edit.edit
    edit.setText("2e-6")
    edit.editingFinished.emit()
    rid = window.model.selected_run_id
    assert window.model.run(rid).spec.lr == 2e-6
    spec = window.model.run(rid).spec
    from dataclasses import replace

    window.model.update_run(rid, replace(spec, lr=0.125))
    assert edit.text() == "0.125"
    edit.setText("-3")
    edit.editingFinished.emit()
    assert window.model.run(rid).spec.lr == 0.125  # refused, unchanged


def test_optimizer_picker_shows_only_relevant_hyperparameters(window):
    panel = window.runs_panel
    i = panel.optimizer_picker.findData("adam")
    panel.optimizer_picker.setCurrentIndex(i)
    panel.optimizer_picker.activated.emit(i)
    assert window.model.run(window.model.selected_run_id).spec.optimizer == "adam"
    names = set(panel._hyper_widgets)
    assert names == {"betas", "eps", "weight_decay", "amsgrad"}
    assert "momentum" not in names


def test_start_spin_and_click_bind(window):
    panel = window.problem_panel
    panel.start_edits[0].setText("0.25")
    panel.start_edits[0].editingFinished.emit()
    assert window.model.start[0] == 0.25
    window.surface_view.start_clicked.emit(-1.0, 1.5)
    np.testing.assert_array_equal(window.model.start, [-1.0, 1.5])
    assert panel.start_edits[1].text() == "1.5"


def test_timeline_scrubs_every_view(window):
    for _ in range(10):
        window.model.step()
    window.timeline.setValue(3)
    assert window.model.cursor == 3
    assert "Step k = 3" in window.step_log.toPlainText()
    window.timeline.setValue(window.timeline.maximum())
    assert window.model.cursor is None


def test_csv_dataset_good_and_bad(window, tmp_path):
    good = tmp_path / "pts.csv"
    good.write_text("\ufefflength;area\r\n1;99\r\n2;196\r\n\r\n3;291\r\n", encoding="utf-8")
    assert window.load_csv(str(good))
    assert window.model.problem.kind == "dataset" and window.model.objective.n == 3
    assert window.main_tabs.isTabVisible(3)  # Fit tab
    shown = []
    window._on_failed = shown.append
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,abc\n")
    before = window.model.objective
    assert not window.load_csv(str(bad))
    assert window.model.objective is before
    assert "line 3" in shown[0] and "bad.csv" in shown[0]


def test_exported_csv_equals_gd_explorer_run(window, qtbot, tmp_path):
    window.model.apply_session(Session(
        problem=ProblemSpec(kind="dataset", dataset="fence", model="quadratic", loss="mae"),
        runs=(RunSpec(optimizer="sgd", lr=2e-6),), start=(-2.0, 30.0), max_steps=500,
        tol=1e-8))
    window.model.start_running()
    qtbot.waitUntil(lambda: not window.model.running, timeout=15_000)
    app_csv = tmp_path / "app.csv"
    with qtbot.waitSignal(window.model.export_finished, timeout=10_000):
        assert window.export_csv(str(app_csv))
    cli_csv = tmp_path / "cli.csv"
    assert cli_main(["run", "--dataset", "fence", "--model", "quadratic", "--loss", "mae",
                     "--optimizer", "sgd", "--lr", "2e-6", "--start", "-2,30", "--steps", "500",
                     "--out", str(cli_csv)]) == 0
    assert app_csv.read_bytes() == cli_csv.read_bytes()


def test_export_all_and_plot(window, qtbot, tmp_path):
    window.model.step()
    with qtbot.waitSignal(window.model.export_finished, timeout=10_000):
        assert window.export_all_csv(str(tmp_path))
    assert len(list(tmp_path.glob("*.csv"))) == len(window.model.runs)
    assert window.export_plot(str(tmp_path / "plot.png"))
    assert (tmp_path / "plot.png").stat().st_size > 1000


@pytest.mark.parametrize("preset", ["rosenbrock-race", "fence-ascent", "fence-fit-mae"])
def test_every_plot_tab_exports_as_svg(qtbot, tmp_path, message_boxes, preset):
    import xml.etree.ElementTree as ET

    from gd_explorer.core.session.presets import PRESETS
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow(PRESETS[preset].session)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    w.model.step()
    exported = 0
    for i in range(w.main_tabs.count()):
        if not w.main_tabs.isTabVisible(i):
            continue
        w.main_tabs.setCurrentIndex(i)
        out = tmp_path / f"tab{i}.svg"
        if w.main_tabs.currentWidget() is w.surface3d:
            assert not w.export_plot(str(out))
            assert "export it as PNG" in message_boxes.texts("warning")[-1]
            assert not out.exists()
            assert w.export_plot(str(tmp_path / f"tab{i}.png"))
            continue
        assert w.export_plot(str(out)), w.statusBar().currentMessage()
        root = ET.parse(out).getroot()  # well-formed
        assert root.tag.endswith("svg")
        shapes = [e for e in root.iter() if e.tag.split("}")[-1] in ("path", "polyline")]
        assert shapes, f"tab {i} exported no vector shapes"
        exported += 1
    assert exported >= 1
    assert not list(tmp_path.glob("*.part"))
    w.close()


def test_a_failed_svg_export_says_why_and_leaves_no_file(window, tmp_path, message_boxes):
    target = tmp_path / "missing-folder" / "plot.svg"
    assert not window.export_plot(str(target))
    shown = message_boxes.texts("warning")
    assert shown and "cannot export the plot" in shown[0]
    assert not target.exists() and not target.parent.exists()


def test_session_save_open_round_trip(window, tmp_path):
    window.model.set_problem(ProblemSpec(kind="function", function="x^2 + 3*y^2"))
    window.model.set_start([1.0, -2.0])
    path = tmp_path / "s.json"
    assert window.save_session(str(path))
    saved = window.model.session()
    window.model.set_problem(ProblemSpec(kind="function", function="booth"))
    assert window.open_session(str(path))
    assert window.model.session() == saved


@pytest.mark.parametrize("content", [
    "{not json",
    json.dumps({"format": "gd-explorer-session", "version": 1,
                "problem": {"kind": "function", "function": "__import__('os').system('x')"}}),
    json.dumps({"format": "gd-explorer-session", "version": 99}),
    "[" * 100_000,
])
def test_hostile_session_is_refused_and_changes_nothing(window, tmp_path, content):
    path = tmp_path / "evil.json"
    path.write_text(content)
    shown = []
    window._on_failed = shown.append
    before = window.model.session()
    assert not window.open_session(str(path))
    assert window.model.session() == before
    assert shown and "evil.json" in shown[0]


def test_presets_menu_loads_every_preset(window):
    from gd_explorer.core.session.presets import PRESETS

    for key in PRESETS:
        window.load_preset(key)
        assert window.model.session().problem == PRESETS[key].session.problem


def test_closing_mid_run_joins_the_thread(qapp, qtbot):
    from gd_explorer.model.threads import running_threads
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.model.set_limits(max_steps=10_000_000, tol=0.0)
    w.model.start_running()
    qtbot.wait(150)
    w.close()
    assert running_threads() == []


def test_worker_failure_is_shown(window, qtbot):
    shown = []
    window._on_failed = shown.append
    window.model.failed.disconnect()
    window.model.failed.connect(window._on_failed)
    window.model.runs[0].descent.advance = lambda n: 1 / 0
    window.model.start_running()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "ZeroDivisionError" in shown[0]
    qtbot.waitUntil(lambda: not window.model.running, timeout=5000)


def test_settings_remember_geometry_and_session(qapp, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gd_explorer.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.model.set_problem(ProblemSpec(kind="function", function="booth"))
    w.close()
    w2 = MainWindow(settings=settings, restore=True)
    qtbot.addWidget(w2)
    assert w2.model.objective.name == "booth"
    w2.close()


XVFB_SCRIPT = textwrap.dedent("""
    import sys
    from PySide6.QtWidgets import QApplication
    app = QApplication(sys.argv)
    from gd_explorer.ui.views.surface3d import Surface3DView, opengl_available
    import numpy as np
    ok = opengl_available()
    v = Surface3DView()
    xs = np.linspace(-2, 2, 60); ys = np.linspace(-1, 3, 60)
    X, Y = np.meshgrid(xs, ys)
    v.set_surface(xs, ys, (1 - X)**2 + 100*(Y - X**2)**2)
    v.resize(400, 300); v.show()
    for _ in range(20): app.processEvents()
    img = v.grab().toImage()
    colors = {img.pixel(x, y) for x in range(0, 400, 7) for y in range(0, 300, 7)}
    print("gl", ok, "placeholder", v.is_placeholder, "colors", len(colors))
""")


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed")
def test_3d_view_renders_under_xvfb(tmp_path):
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
               "LIBGL_ALWAYS_SOFTWARE": "1"}
        script = tmp_path / "gl.py"
        script.write_text(XVFB_SCRIPT)
        import time

        time.sleep(0.5)
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                             env=env, timeout=120)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    assert out.returncode == 0, out.stderr[-2000:]
    words = out.stdout.split()
    assert words[:4] == ["gl", "True", "placeholder", "False"], out.stdout + out.stderr[-2000:]
    assert int(words[-1]) > 20  # a shaded surface, not a blank widget


def test_offscreen_3d_shows_the_placeholder(window):
    assert window.surface3d.is_placeholder
    assert QApplication.platformName() == "offscreen"


def test_hidden_tabs_build_their_views_when_first_used(window, qtbot):
    # start-up cost: the 1-D curve and the slice are not built for the default 2-D problem
    assert window.findChild(object, "curvePlot") is None
    assert window.findChild(object, "slicePlot") is None
    window.show()
    qtbot.waitExposed(window)
    window.side_tabs.setCurrentIndex(1)  # Slice: built and filled at once
    plot = window.findChild(object, "slicePlot")
    assert plot is not None and plot is window.slice_view
    assert len(window.slice_view.curve.getData()[0]) > 0
    window.model.set_problem(ProblemSpec(kind="function", function="parabola"))
    curve = window.findChild(object, "curvePlot")
    assert curve is not None and curve is window.curve_view
    assert window.main_tabs.currentWidget().isAncestorOf(curve)
    assert len(curve.curve.getData()[0]) > 0
    qtbot.waitUntil(curve.isVisible)
    QApplication.processEvents()
    pos = curve.plot_widget.mapFromScene(curve.view_box.mapViewToScene(QPointF(1.5, 0.0)))
    qtbot.mouseClick(curve.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert window.model.start[0] == pytest.approx(1.5, abs=0.1)  # clicks still set the start


def test_more_bindings_both_ways(window):
    m, panel = window.model, window.problem_panel
    # maximize checkbox <-> model
    panel.maximize_check.setChecked(True)
    assert m.maximize is True
    from dataclasses import replace

    m.set_problem(replace(m.problem, maximize=False))
    assert panel.maximize_check.isChecked() is False
    # max steps spin <-> model
    panel.max_steps.setValue(1234)
    panel.max_steps.editingFinished.emit()
    assert m.max_steps == 1234
    m.set_limits(max_steps=77)
    assert panel.max_steps.value() == 77
    # speed slider <-> model
    window.speed_slider.setValue(0)
    assert m.speed == 1
    m.set_speed(0)
    assert window.speed_slider.value() == window.speed_slider.maximum()
    # visibility tick <-> model
    item = window.runs_panel.run_list.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert m.snapshots()[0].visible is False
    m.set_run_visible(m.runs[0].run_id, True)
    assert window.runs_panel.run_list.item(0).checkState() == Qt.CheckState.Checked


def test_dataset_mode_binds(window):
    panel = window.problem_panel
    panel.dataset_radio.setChecked(True)
    assert window.model.problem.kind == "dataset"
    i = panel.loss_picker.findData("huber")
    panel.loss_picker.setCurrentIndex(i)
    panel.loss_picker.activated.emit(i)
    assert window.model.problem.loss == "huber"
    panel.batch_size.setValue(4)
    panel.batch_size.editingFinished.emit()
    assert window.model.problem.batch_size == 4
    window.model.step()
    assert window.model.selected_snapshot().batch is not None
    assert len(window.model.selected_snapshot().batch) == 4


def test_every_optimizer_is_in_the_picker_runs_and_shows_its_rule(window, qtbot):
    """The registry, as a user meets it: pick each optimizer, step, read the step log."""
    import html as _html

    from PySide6.QtGui import QAction

    from gd_explorer.core.optim.optimizers import OPTIMIZERS

    panel = window.runs_panel
    picker = panel.optimizer_picker
    assert [picker.itemData(i) for i in range(picker.count())] == list(OPTIMIZERS)
    step = next(a for a in window.findChildren(QAction) if a.objectName() == "actionStep")
    reset = next(a for a in window.findChildren(QAction) if a.objectName() == "actionReset")
    m = window.model
    for name, cls in OPTIMIZERS.items():
        i = picker.findData(name)
        tip = _html.unescape(picker.itemData(i, Qt.ItemDataRole.ToolTipRole))
        assert cls.rule_text.split("\n")[0] in tip and cls.title in tip
        picker.setCurrentIndex(i)
        picker.activated.emit(i)
        rid = m.selected_run_id
        why = cls.unmet_needs(least_squares=False, full_batch=True)
        if why:  # Gauss–Newton, LM on this function: refused in words, the run unchanged
            assert why in _html.unescape(panel.error_label.text())
            assert m.run(rid).spec.optimizer != name
            continue
        assert m.run(rid).spec.optimizer == name
        assert set(panel._hyper_widgets) == {p.name for p in cls.params}
        for hp, w in panel._hyper_widgets.values():
            assert hp.name in _html.unescape(w.toolTip())
        # paused, the switch recomputed the run's path with this optimizer (what-if),
        # which may have stopped (CG converges): start it over to step it
        reset.trigger()
        before = m.selected_snapshot().n
        for _ in range(3):
            step.trigger()
        qtbot.waitUntil(lambda b=before: m.selected_snapshot().n >= b + 3, timeout=10_000)
        window.timeline.setValue(before)  # the first step with this optimizer
        qtbot.waitUntil(lambda b=before: f"Step k = {b}" in window.step_log.toPlainText())
        text = window.step_log.toPlainText()
        if cls.plain(m.run(rid).spec.hyper):
            assert "p_(k+1) = p_k − lr·g_k" in text, name
        else:
            for line in cls.rule_text.split("\n"):
                assert line in text, (name, line)
        assert cls.title in text
        window.timeline.setValue(window.timeline.maximum())


def test_run_editor_widgets_follow_the_declaration(window, qtbot):
    """int → spin box within its range, choice → combo, a none-able value → typed text."""
    from PySide6.QtWidgets import QSpinBox

    panel = window.runs_panel
    m = window.model
    picker = panel.optimizer_picker
    i = picker.findData("lbfgs")
    picker.setCurrentIndex(i)
    picker.activated.emit(i)
    rid = m.selected_run_id
    spin = panel.findChild(QSpinBox, "hyper_history_size")
    assert spin.minimum() == 1 and spin.value() == 100
    spin.setValue(5)
    spin.editingFinished.emit()
    assert m.run(rid).spec.hyper["history_size"] == 5
    combo = panel.findChild(QComboBox, "hyper_line_search_fn")
    assert [combo.itemText(j) for j in range(combo.count())] == ["none", "strong_wolfe"]
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert m.run(rid).spec.hyper["line_search_fn"] == "strong_wolfe"
    edit = panel.findChild(QLineEdit, "hyper_max_eval")
    assert edit.text() == "none"
    for text, expected in (("7", 7), ("none", None)):
        edit.clear()
        qtbot.keyClicks(edit, text)
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert m.run(rid).spec.hyper["max_eval"] == expected
    edit.clear()
    qtbot.keyClicks(edit, "0")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    import html as _html

    assert "max_eval must be a whole number >= 1" in _html.unescape(panel.error_label.text())
    assert m.run(rid).spec.hyper["max_eval"] is None  # refused, unchanged
    assert "history_size" in spin.toolTip() and "curvature pairs" in spin.toolTip()
    # a pair with none: Adafactor's eps
    i = picker.findData("adafactor")
    picker.setCurrentIndex(i)
    picker.activated.emit(i)
    eps = panel.findChild(QLineEdit, "hyper_eps")
    assert eps.text() == "none,0.001"
    eps.clear()
    qtbot.keyClicks(eps, "1e-30,0.01")
    qtbot.keyClick(eps, Qt.Key.Key_Return)
    assert m.run(m.selected_run_id).spec.hyper["eps"] == (1e-30, 0.01)


def test_points_an_optimizer_keeps_are_drawn_on_the_surface(window, qtbot):
    """ASGD's averaged point and L-BFGS's line-search trials, as the user picks them: markers
    at the state's points, labelled by the entry; none for an optimizer that keeps no points."""
    from PySide6.QtGui import QAction

    m = window.model
    picker = window.runs_panel.optimizer_picker
    step = next(a for a in window.findChildren(QAction) if a.objectName() == "actionStep")
    view = window.surface_view
    (marker, label), (trials, trial_label) = view.state_points

    def pick(name):
        i = picker.findData(name)
        picker.setCurrentIndex(i)
        picker.activated.emit(i)

    def step_and_draw(count):
        before = m.selected_snapshot().n
        for _ in range(count):
            step.trigger()
        qtbot.waitUntil(lambda: m.selected_snapshot().n >= before + count, timeout=10_000)
        m.progressed.emit()  # the display tick

    pick("asgd")
    step_and_draw(4)
    a = m.surface_axes
    ax = m.selected_snapshot().state["ax"]
    xs, ys = marker.getData()
    assert marker.isVisible() and label.toPlainText() == "averaged point"
    assert (float(xs[0]), float(ys[0])) == (float(ax[a[0]]), float(ax[a[1]]))
    assert not trials.isVisible()

    pick("lbfgs")
    step_and_draw(1)
    snap = m.selected_snapshot()
    pts = snap.state["trial_points"]
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    assert len(finite) >= 1
    assert marker.isVisible() and label.toPlainText().startswith("line-search trials")
    assert len(marker.getData()[0]) <= len(finite)

    pick("sgd")
    step_and_draw(1)
    assert not marker.isVisible() and not label.isVisible()


def test_second_order_entries_run_on_a_fit_and_say_what_they_did(window, qtbot):
    """Gauss–Newton refused on a function, picked on a fit: one step to the least-squares
    line; LM's λ, Newton's shift and CG's β in the step log; GN's refusal again when the
    problem goes back to a function with a GN run in place."""
    import html as _html

    from PySide6.QtGui import QAction

    panel, problem = window.runs_panel, window.problem_panel
    picker = panel.optimizer_picker
    m = window.model
    step = next(a for a in window.findChildren(QAction) if a.objectName() == "actionStep")

    def pick(name):
        i = picker.findData(name)
        picker.setCurrentIndex(i)
        picker.activated.emit(i)

    reset = window.findChild(QPushButton, "resetButton")

    def log_after_steps(n):
        qtbot.mouseClick(reset, Qt.MouseButton.LeftButton)  # from the start again
        before = m.selected_snapshot().n
        assert before == 1
        for _ in range(n):
            step.trigger()
        qtbot.waitUntil(lambda: m.selected_snapshot().n >= before + n, timeout=10_000)
        window.timeline.setValue(window.timeline.maximum())
        qtbot.waitUntil(lambda: "Optimizer state" in window.step_log.toPlainText())
        return window.step_log.toPlainText()

    n_runs = len(m.runs)
    pick("gauss_newton")
    assert ("Gauss–Newton needs a least-squares fit (a dataset with the MSE loss)"
            in _html.unescape(panel.error_label.text()))
    assert len(m.runs) == n_runs and m.selected_snapshot().optimizer != "gauss_newton"
    # Newton on Himmelblau from its local maximum: the shift is said in words
    i = problem.function_picker.findData("himmelblau")
    problem.function_picker.setCurrentIndex(i)
    problem.function_picker.activated.emit(i)
    assert m.problem.function == "himmelblau"
    pick("newton")
    text = log_after_steps(1)
    assert "Hessian not positive definite (λmin = -42): shifted by 42" in text
    # a fit: Gauss–Newton is taken and lands on the least-squares point in one step
    problem.dataset_radio.setChecked(True)
    assert m.problem.kind == "dataset"
    pick("gauss_newton")
    assert m.selected_snapshot().optimizer == "gauss_newton"
    assert "Gauss–Newton's usual rate for this problem is 1" in _html.unescape(
        panel.error_label.text())
    edit = panel.lr_edit.edit  # the rate was kept; the full step is lr = 1
    edit.clear()
    qtbot.keyClicks(edit, "1")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert m.run(m.selected_run_id).spec.lr == 1.0
    text = log_after_steps(1)
    assert "s = argmin ‖r + J·s‖" in text and "Jacobian rank 2" in text
    obj = m.objective
    np.testing.assert_allclose(m.selected_snapshot().params[-1],
                               np.linalg.lstsq(obj.phi, obj.y, rcond=None)[0], rtol=1e-9)
    pick("levenberg_marquardt")
    text = log_after_steps(2)
    assert "for the next step" in text and "λ = " in text
    pick("cg")
    text = log_after_steps(2)
    assert "step size t = " in text and "restart(s) in all" in text
    # back to a function with a least-squares run in place: refused, the fit stays
    pick("gauss_newton")
    window.problem_panel.findChild(QRadioButton, "functionRadio").setChecked(True)
    assert m.problem.kind == "dataset"
    page_text = "".join(_html.unescape(lbl.text()) for lbl in window.problem_panel
                        .findChildren(QLabel))
    assert "Gauss–Newton needs a least-squares fit" in page_text
