"""What a teacher hits in the first lecture: memory, hostile text, settings, the controls'
small print. Every test drives the window as a user does (actions, clicks, typed keys)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import weakref

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from gd_explorer.core.session.presets import PRESETS
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session, save_session


def _type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def _drop(window) -> weakref.ref:
    ref = weakref.ref(window)
    window.close()
    window.deleteLater()
    return ref


# ------------------------------------------------------------------ memory
def test_a_closed_window_is_freed(qapp, qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    w.show()
    qtbot.waitExposed(w)
    w.model.step()
    w.runs_panel.add_button.click()
    ref = _drop(w)
    del w
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert ref() is None, [type(r).__name__ for r in gc.get_referrers(ref())]


CYCLES = textwrap.dedent("""
    import gc, os, sys
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from gd_explorer.ui.main_window import MainWindow

    def rss_mib():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def cycle():
        w = MainWindow()
        w.show()
        w.model.set_limits(max_steps=2000)
        w.speed_slider.setValue(w.speed_slider.maximum())
        w.run_button.click()
        for _ in range(5):
            app.processEvents()
        w.close()
        w.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()

    for _ in range(5):  # caches, fonts, the engine process: warm
        cycle()
    base = rss_mib()
    for _ in range(int(sys.argv[1])):
        cycle()
    print(f"{rss_mib() - base:.1f}")
""")


def test_open_run_close_cycles_do_not_grow_memory(tmp_path):
    # before: about 18 MiB per window (lambdas connected to the model kept every closed
    # window alive); 40 cycles then grew by ~700 MiB
    script = tmp_path / "cycles.py"
    script.write_text(CYCLES)
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, str(script), "40"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.split()[-1]) < 25.0, out.stdout


# ------------------------------------------------------------------ hostile text
HOSTILE = "<h1>Big</h1><a href='http://example.com'>link</a>"


def test_text_from_a_shared_session_stays_text(qapp, qtbot, tmp_path, monkeypatch,
                                               message_boxes):
    from gd_explorer.ui.main_window import MainWindow

    data = tmp_path / "<h1>pasture<h1>.csv"
    data.write_text("x,y\n1,2\n2,4.1\n3,5.9\n")
    path = tmp_path / "shared.json"
    save_session(path, Session(
        problem=ProblemSpec(kind="dataset", dataset=str(data)),
        runs=(RunSpec(optimizer="sgd", lr=0.01, label=HOSTILE),),
        title="<i>Lesson</i>", description=HOSTILE))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.actions_by_name["actionOpenSession"].trigger()
    assert w.model.runs[0].spec.label == HOSTILE
    w.model.step()
    w._refresh_text()
    assert w.status_label.textFormat() == Qt.TextFormat.PlainText
    assert HOSTILE in w.status_label.text()
    assert w.runs_panel.run_list.item(0).text().startswith(HOSTILE)
    assert w.lesson_note.text.textFormat() == Qt.TextFormat.PlainText
    assert w.lesson_note.text.text() == f"<i>Lesson</i> — {HOSTILE}"
    info = w.problem_panel.dataset_info.text()  # rich text, so everything in it is escaped
    assert "&lt;h1&gt;pasture&lt;h1&gt;" in info and "<h1>pasture" not in info
    assert "<h1>" not in w.step_log.toHtml()
    # a refusal naming the file: a plain-text message box
    bad = tmp_path / "<h1>broken<h1>.json"
    bad.write_text("{")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(bad), "")))
    w.actions_by_name["actionOpenSession"].trigger()
    kind, text, fmt = message_boxes[-1]
    assert kind == "warning" and "<h1>broken<h1>.json" in text
    assert fmt == Qt.TextFormat.PlainText
    w.close()


def test_every_message_box_shows_plain_text(window, message_boxes, tmp_path):
    window.actions_by_name["actionShortcuts"].trigger()
    window._on_failed("<h1>x</h1>")
    assert [f for _, _, f in message_boxes] == [Qt.TextFormat.PlainText] * 2


# ------------------------------------------------------------------ settings
def _settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.mark.parametrize("key, value", [
    ("session/last", "[" * 100_000),  # RecursionError in json.loads before the fix
    ("session/last", json.dumps({"format": "gd-explorer-session", "version": 1})),
    ("session/last", "not json"),
    ("window/geometry", "garbage"),
    ("view/arrows", "[[["),
    ("run/speed", "fast"),
])
def test_a_corrupt_settings_file_starts_with_defaults_and_says_so(qapp, qtbot, tmp_path,
                                                                  key, value):
    from gd_explorer.ui.main_window import MainWindow

    s = _settings(tmp_path)
    s.setValue(key, value)
    s.sync()
    w = MainWindow(settings=_settings(tmp_path), restore=True)
    qtbot.addWidget(w)
    w.show()
    assert w.model.objective.name == "rosenbrock"  # the default problem
    if key in ("session/last", "run/speed"):
        qtbot.waitUntil(lambda: "could not restore" in w.statusBar().currentMessage(),
                        timeout=3000)
    w.close()


def test_speed_and_view_toggles_are_remembered(qapp, qtbot, tmp_path):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow(settings=_settings(tmp_path), restore=True)
    qtbot.addWidget(w)
    assert w.model.speed == 50 and w.speed_label.text() == "speed 50/s"  # watchable
    w.actions_by_name["actionArrows"].trigger()
    w.actions_by_name["actionLogColour"].trigger()
    w.speed_slider.setValue(2)  # 5 steps/s
    w.close()
    w2 = MainWindow(settings=_settings(tmp_path), restore=True)
    qtbot.addWidget(w2)
    assert w2.model.speed == 5 and w2.speed_label.text() == "speed 5/s"
    assert w2.action_arrows.isChecked() and not w2.action_log_colour.isChecked()
    assert w2.surface_view._log is False
    w2.close()


# ------------------------------------------------------------------ run states
def test_status_says_ready_running_paused(window, qtbot):
    window.show()
    item = window.runs_panel.run_list.item(0)
    assert "ready" in item.text() and "running" not in item.text()
    assert "[ready]" in window.status_label.text()
    window.model.set_limits(max_steps=10_000_000, tol=0.0)
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.max_rows() > 10, timeout=5000)
    window._refresh_text()
    assert "running, step" in window.runs_panel.run_list.item(0).text()
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    window._refresh_text()
    n = window.model.max_rows() - 1
    assert f"paused at step {n:,}" in window.runs_panel.run_list.item(0).text()
    assert f"[paused at step {n:,}]" in window.status_label.text()
    assert f"status: paused at step {n:,}" in window.step_log.toPlainText()


def test_timeline_label_after_the_start_moves(window, qtbot):
    for _ in range(9):
        window.step_button.click()
    window.timeline.setValue(4)
    assert window.timeline_label.text() == "step 4 / 9"
    _type_into(qtbot, window.problem_panel.start_edits[0], "0.5")
    assert window.model.start[0] == 0.5
    assert window.timeline_label.text() == "step 0"  # was "step 4 / 0"


# ------------------------------------------------------------------ run editing
def test_a_run_label_follows_its_settings(qapp, qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow(PRESETS["rosenbrock-race"].session)
    qtbot.addWidget(w)
    w.runs_panel.run_list.setCurrentRow(0)
    old = w.model.selected_snapshot().label
    _type_into(qtbot, w.runs_panel.lr_edit.edit, "1.5")
    label = w.model.selected_snapshot().label
    assert "lr=1.5" in label and label != old
    assert w.runs_panel.run_list.item(0).text().startswith(label)
    w.close()


def test_changing_the_optimizer_keeps_the_rate_and_says_so(window, qtbot):
    panel = window.runs_panel
    _type_into(qtbot, panel.lr_edit.edit, "0.0005")
    picker = panel.optimizer_picker
    picker.setFocus()
    i = picker.findData("adam")
    picker.setCurrentIndex(i)
    picker.activated.emit(i)
    spec = window.model.run(window.model.selected_run_id).spec
    assert spec.optimizer == "adam" and spec.lr == 0.0005
    assert "lr kept at 0.0005" in panel.error_label.text()


def test_runs_that_differ_only_in_rate_can_be_told_apart(window, qtbot):
    m = window.model
    rid = m.selected_run_id
    from dataclasses import replace

    m.update_run(rid, replace(m.run(rid).spec, lr=0.001, label="SGD momentum=0.9 "
                              "nesterov dampening=0 weight_decay=0.0001 lr=0.001"))
    m.add_run(replace(m.run(rid).spec, lr=0.1, label="SGD momentum=0.9 nesterov "
                      "dampening=0 weight_decay=0.0001 lr=0.1"))
    lst = window.runs_panel.run_list
    assert lst.textElideMode() != Qt.TextElideMode.ElideMiddle and lst.wordWrap()
    assert lst.item(0).text().split("\n")[0].endswith("lr=0.001")
    assert lst.item(lst.count() - 1).text().split("\n")[0].endswith("lr=0.1")


# ------------------------------------------------------------------ fields
@pytest.mark.parametrize("text", ["1,000", "1_5", "0,5", "nan", "inf", "1e400", "0x10", "",
                                  "1.2.3"])
def test_number_fields_refuse_what_is_not_a_plain_number(window, qtbot, text):
    edit = window.problem_panel.start_edits[0]
    before = window.model.start.copy()
    _type_into(qtbot, edit, text)
    assert (window.model.start == before).all()
    assert "#c0392b" in edit.styleSheet() or text == ""


@pytest.mark.parametrize("text, value", [("1e3", 1000.0), ("-2.5", -2.5), (".5", 0.5),
                                         ("+3", 3.0), ("5.", 5.0)])
def test_number_fields_take_plain_numbers(window, qtbot, text, value):
    _type_into(qtbot, window.problem_panel.start_edits[0], text)
    assert window.model.start[0] == value


def test_the_lr_slider_is_fine_grained(window, qtbot):
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    slider = window.runs_panel.lr_edit.slider
    _type_into(qtbot, window.runs_panel.lr_edit.edit, "0.001")
    handle = slider.rect().center()
    x0 = QStyleHandle.handle_x(slider)
    start = QPoint(x0, handle.y())
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(slider, start + QPoint(40, 0))
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 0))
    lr = window.model.run(window.model.selected_run_id).spec.lr
    assert 0.001 < lr < 0.01, lr  # was 0.302: three decades in 40 px


class QStyleHandle:
    @staticmethod
    def handle_x(slider) -> int:
        from PySide6.QtWidgets import QStyle, QStyleOptionSlider

        opt = QStyleOptionSlider()
        slider.initStyleOption(opt)
        r = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                          QStyle.SubControl.SC_SliderHandle, slider)
        return r.center().x()


# ------------------------------------------------------------------ layout
def test_a_preset_lesson_stays_in_view(window, qtbot):
    window.show()
    from PySide6.QtGui import QAction

    window.findChild(QAction, "preset_lr-too-large").trigger()
    assert window.lesson_note.isVisible()
    assert window.model.description in window.lesson_note.text.text()
    window.statusBar().clearMessage()
    assert window.lesson_note.isVisible()  # not a 15-second status message any more
    note = window.lesson_note
    QApplication.processEvents()
    short = note.text.height()
    assert short <= 3 * note.text.fontMetrics().lineSpacing()  # the plots keep their room
    note.more_button.click()
    QApplication.processEvents()
    assert note.text.height() > short and note.more_button.text() == "Less"
    window.lesson_note.close_button.click()
    assert not window.lesson_note.isVisible()
    window.model.set_problem(ProblemSpec(kind="function", function="booth"))
    assert not window.lesson_note.isVisible()


def test_the_window_fits_a_1366x768_screen(qapp, qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow(PRESETS["rosenbrock-race"].session)
    qtbot.addWidget(w)
    hint = w.minimumSizeHint().expandedTo(w.minimumSize())
    assert hint.width() <= 1366 and hint.height() <= 700, hint
    w.resize(1366, 700)
    w.show()
    qtbot.waitExposed(w)
    assert w.width() <= 1366 and w.height() <= 700
    for view in (w.surface_view, w.loss_view, w.step_log):
        assert view.width() >= 300 and view.height() >= 200, (view.objectName(), view.size())
    w.close()


def test_the_step_log_wraps_instead_of_scrolling_sideways(qapp, qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow(Session(problem=ProblemSpec(kind="dataset", dataset="noisy-parabola",
                                               model="quadratic-full")))
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    qtbot.waitExposed(w)
    w.step_button.click()
    QApplication.processEvents()
    assert w.step_log.horizontalScrollBar().maximum() == 0
    w.close()


def test_formulas_read_as_math(window):
    window.model.set_problem(ProblemSpec(kind="function", function="beale"))
    text = window.problem_panel.formula_label.text()
    assert "**" not in text and "∂f/∂x" in text and "∂f/∂y" in text
    assert "(1.5 − x + x·y)²" in text


# ------------------------------------------------------------------ exports
@pytest.fixture
def long_run(qapp, qtbot):
    """A window with one run of 300,000 recorded steps."""
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow(Session(problem=ProblemSpec(kind="function", function="bowl"),
                           runs=(RunSpec(optimizer="sgd", lr=1e-7),), max_steps=300_000,
                           tol=0.0))
    qtbot.addWidget(w)
    w.show()
    w.speed_slider.setValue(w.speed_slider.maximum())
    w.run_button.click()
    qtbot.waitUntil(lambda: not w.model.running, timeout=60_000)
    assert w.model.max_rows() == 300_001
    yield w
    w.close()


def test_a_long_export_runs_off_the_ui_thread_with_progress(long_run, qtbot, tmp_path,
                                                           monkeypatch):
    from PySide6.QtCore import QTimer

    w = long_run
    out = tmp_path / "long.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out), "")))
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(w.export_progress.value()))
    timer.start(10)
    with qtbot.waitSignal(w.model.export_finished, timeout=60_000):
        w.actions_by_name["actionExportCsv"].trigger()
        assert w.export_progress.isVisible() and w.cancel_export.isVisible()
    timer.stop()
    # the event loop ran while the file was written (a synchronous export: no ticks)
    assert len(ticks) > 5 and max(ticks) > 0
    assert not w.export_progress.isVisible()
    with open(out) as fh:
        assert sum(1 for _ in fh) == 300_002
    assert "wrote 300,001 rows" in w.statusBar().currentMessage()


def test_a_cancelled_export_leaves_no_file(long_run, qtbot, tmp_path, monkeypatch):
    w = long_run
    out = tmp_path / "cancelled.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out), "")))
    with qtbot.waitSignal(w.model.exporting_changed, timeout=10_000,
                          check_params_cb=lambda busy: not busy):
        w.actions_by_name["actionExportCsv"].trigger()
        qtbot.mouseClick(w.cancel_export, Qt.MouseButton.LeftButton)
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # no .gdx-*.tmp left behind
    assert "cancelled" in w.statusBar().currentMessage()


def test_hubers_delta_is_set_in_the_problem_panel(window, qtbot):
    panel = window.problem_panel
    qtbot.mouseClick(panel.dataset_radio, Qt.MouseButton.LeftButton)
    assert window.model.problem.kind == "dataset"
    assert not panel.huber_delta.isVisibleTo(panel)
    i = panel.loss_picker.findData("huber")
    panel.loss_picker.setCurrentIndex(i)
    panel.loss_picker.activated.emit(i)
    assert panel.huber_delta.isVisibleTo(panel)
    _type_into(qtbot, panel.huber_delta, "0.5")
    assert window.model.problem.huber_delta == 0.5
    assert "δ = 0.5" in window.model.objective.loss.title
    _type_into(qtbot, panel.huber_delta, "-1")
    assert window.model.problem.huber_delta == 0.5  # refused, unchanged


def test_views_start_as_the_view_menu_says(qapp, qtbot):
    from gd_explorer.core.session.presets import PRESETS
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow(PRESETS["rosenbrock-race"].session)
    qtbot.addWidget(w)
    w.show()
    w.step_button.click()
    assert w.action_log_y.isChecked() and w.loss_view.plot_item.getAxis("left").logMode
    assert w.action_log_colour.isChecked() and w.surface_view._log
    assert not w.action_arrows.isChecked() and not w.surface_view.field.isVisible()
    w.close()
