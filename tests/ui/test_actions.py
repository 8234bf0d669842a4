"""Every menu action, reached the way a user reaches it: from its menu and by its shortcut.

One table (``EFFECTS``) says, for each action's object name, how to answer the dialogs it
opens and what the user sees afterwards. A test walks the real menu bar and fails when an
action has no row, so a new action is tested by this file without new test code.
Standard dialogs are answered by monkeypatching ``QFileDialog`` / ``QMessageBox``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QFileDialog

from gd_explorer.core.session.presets import PRESETS
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session, save_session


def menu_actions(window) -> list[QAction]:
    """Every action reachable from the menu bar (sub-menus included), in menu order."""
    out: list[QAction] = []

    def walk(menu):
        for act in menu.actions():
            if act.isSeparator():
                continue
            if act.menu() is not None:
                walk(act.menu())
            else:
                out.append(act)

    for top in window.menuBar().actions():
        walk(top.menu())
    return out


class Dialogs:
    """Answers the standard dialogs an action opens; records the message boxes (through
    the shared ``message_boxes`` fixture)."""

    def __init__(self, monkeypatch, tmp_path, boxes):
        self.tmp = tmp_path
        self.save_path = ""
        self.open_path = ""
        self.folder = ""
        self._boxes = boxes
        mp = monkeypatch
        mp.setattr(QFileDialog, "getSaveFileName",
                   staticmethod(lambda *a, **k: (self.save_path, "")))
        mp.setattr(QFileDialog, "getOpenFileName",
                   staticmethod(lambda *a, **k: (self.open_path, "")))
        mp.setattr(QFileDialog, "getExistingDirectory",
                   staticmethod(lambda *a, **k: self.folder))
        from gd_explorer.ui.csv_dialog import CsvDialog

        mp.setattr(CsvDialog, "exec", self._exec_csv)

    @property
    def boxes(self) -> list[tuple[str, str]]:
        return [(k, t) for k, t, _ in self._boxes]

    def warnings(self) -> list[str]:
        return self._boxes.texts("warning", "critical")

    @staticmethod
    def _exec_csv(dialog):
        """The user waits for the preview, keeps the columns offered and clicks OK."""
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        deadline = time.monotonic() + 10
        while not ok.isEnabled() and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.005)
        QTest.mouseClick(ok, Qt.MouseButton.LeftButton)
        return dialog.result()


@dataclass
class Effect:
    """How to prepare for an action (answer its dialogs) and what it must show."""

    prepare: Callable  # (window, dialogs, qtbot) -> context
    check: Callable  # (window, dialogs, qtbot, context) -> None


def _nothing(w, d, qtbot):
    return None


# ---------------------------------------------------------------- File
def _prep_open_session(w, d, qtbot):
    path = d.tmp / "booth.json"
    save_session(path, Session(problem=ProblemSpec(kind="function", function="booth"),
                               runs=(RunSpec(optimizer="adam", lr=0.05),)))
    d.open_path = str(path)


def _check_open_session(w, d, qtbot, _):
    qtbot.waitUntil(lambda: w.model.objective.name == "booth", timeout=5000)
    assert w.model.runs[0].spec.optimizer == "adam"
    assert not d.warnings()


def _prep_save(w, d, qtbot):
    d.save_path = str(d.tmp / "saved.json")
    w.model.set_problem(ProblemSpec(kind="function", function="himmelblau"))


def _check_save(w, d, qtbot, _):
    qtbot.waitUntil(lambda: (d.tmp / "saved.json").exists(), timeout=5000)
    data = json.loads((d.tmp / "saved.json").read_text())
    assert data["problem"]["function"] == "himmelblau"
    assert not d.warnings()


def _prep_open_csv(w, d, qtbot):
    path = d.tmp / "points.csv"
    path.write_text("length,area\n1,99\n2,196\n3,291\n4,384\n")
    d.open_path = str(path)
    return path


def _check_open_csv(w, d, qtbot, path):
    qtbot.waitUntil(lambda: w.model.problem.kind == "dataset", timeout=5000)
    assert w.model.problem.dataset == str(path)
    assert w.model.objective.n == 4
    assert not d.warnings()


def _prep_export_run(w, d, qtbot):
    d.save_path = str(d.tmp / "run.csv")
    w.model.step()


def _check_export_run(w, d, qtbot, _):
    out = d.tmp / "run.csv"
    qtbot.waitUntil(out.exists, timeout=10_000)
    lines = out.read_text().splitlines()
    names = w.model.names
    assert lines[0] == ",".join(["step", *names, "loss", *(f"grad_{n}" for n in names),
                                 "grad_norm", "lr"])
    assert len(lines) == 1 + w.model.selected_snapshot().n
    assert not d.warnings()


def _prep_export_all(w, d, qtbot):
    folder = d.tmp / "all"
    folder.mkdir()
    d.folder = str(folder)
    w.model.step()
    return folder


def _check_export_all(w, d, qtbot, folder):
    qtbot.waitUntil(lambda: len(list(folder.glob("*.csv"))) == len(w.model.runs),
                    timeout=10_000)
    for f in folder.glob("*.csv"):
        assert f.read_text().startswith("step,")
    assert not d.warnings()


def _prep_export_scalar(w, d, qtbot):
    d.save_path = str(d.tmp / "scalar.csv")
    w.model.step()


def _check_export_scalar(w, d, qtbot, _):
    """The toggle is on: the next export writes the six scalar columns."""
    assert _action(w, "actionExportScalar").isChecked()
    _action(w, "actionExportCsv").trigger()
    out = d.tmp / "scalar.csv"
    qtbot.waitUntil(out.exists, timeout=10_000)
    lines = out.read_text().splitlines()
    assert lines[0] == "step,loss,grad_norm,param_norm,update_norm,lr"
    assert len(lines) == 1 + w.model.selected_snapshot().n
    qtbot.waitUntil(lambda: "scalar columns" in w.statusBar().currentMessage(), timeout=5000)
    assert not d.warnings()


def _prep_export_plot(w, d, qtbot):
    d.save_path = str(d.tmp / "plot.png")


def _check_export_plot(w, d, qtbot, _):
    out = d.tmp / "plot.png"
    qtbot.waitUntil(out.exists, timeout=5000)
    assert out.stat().st_size > 1000
    assert not d.warnings()


def _check_quit(w, d, qtbot, _):
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)


# ---------------------------------------------------------------- Run
def _prep_run(w, d, qtbot):
    w.model.set_limits(max_steps=10_000_000, tol=0.0)


def _check_run(w, d, qtbot, _):
    assert w.model.running
    assert w.run_button.text() == "Pause"
    w.model.pause()


def _prep_step(w, d, qtbot):
    return w.model.max_rows()


def _check_step(w, d, qtbot, rows):
    assert w.model.max_rows() == rows + 1
    assert f"step {rows}" in w.timeline_label.text()


def _prep_reset(w, d, qtbot):
    w.model.step()
    w.model.step()


def _check_reset(w, d, qtbot, _):
    assert w.model.max_rows() == 1


def _prep_count_runs(w, d, qtbot):
    return len(w.model.runs)


def _check_added(w, d, qtbot, n):
    assert len(w.model.runs) == n + 1
    assert w.runs_panel.run_list.count() == n + 1


def _prep_remove(w, d, qtbot):
    w.model.add_run()
    return len(w.model.runs)


def _check_removed(w, d, qtbot, n):
    assert len(w.model.runs) == n - 1
    assert w.runs_panel.run_list.count() == n - 1


def _prep_basins(w, d, qtbot):
    from gd_explorer.core.lab.basins import BasinSettings

    w.model.set_problem(ProblemSpec(kind="function", function="himmelblau"))
    w.model.update_run(w.model.runs[0].run_id, RunSpec("sgd", 0.01))
    w.model.select_run(w.model.runs[0].run_id)
    w.model.set_basin_settings(BasinSettings(grid=40, steps=300))


def _check_basins(w, d, qtbot, _):
    """The dialog asks for grid and steps; OK computes off the UI thread; the overlay and
    its legend appear with the four basins of Himmelblau's function."""
    qtbot.waitUntil(lambda: w.findChild(QDialog, "basinsDialog") is not None
                    and w.findChild(QDialog, "basinsDialog").isVisible(), timeout=5000)
    dialog = w.findChild(QDialog, "basinsDialog")
    assert dialog.grid.value() == 40 and dialog.steps.value() == 300
    assert "(SGD lr=0.01)" in dialog.note.text()  # whose optimizer descends the grid
    dialog.grid.setValue(30)
    QTest.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.model.basins is not None, timeout=20_000)
    assert w.model.basins.result.label.shape == (30, 30)
    assert w.surface_view.basins_visible()
    texts = [label.text for _, label in w.surface_view.basins_legend.items]
    assert sum("minimum (" in t for t in texts) == 4
    assert w.model.session().lab["basins"].grid == 30  # remembered by the session
    assert not d.warnings()


def _prep_basins_shown(w, d, qtbot):
    from gd_explorer.core.lab.basins import BasinSettings

    w.model.compute_basins(BasinSettings(grid=20, steps=50))
    qtbot.waitUntil(lambda: w.model.basins is not None, timeout=20_000)


def _check_basins_shown(w, d, qtbot, _):
    on = w.actions_by_name["actionShowBasins"].isChecked()
    assert w.surface_view.basins_visible() is on
    assert w.surface_view.basins_legend.isVisible() is on


# ---------------------------------------------------------------- View
def _prep_toggle(w, d, qtbot):
    return None


def _check_log_colour(w, d, qtbot, _):
    assert w.surface_view._log is w.action_log_colour.isChecked()


def _check_arrows(w, d, qtbot, _):
    assert w.surface_view.field.isVisible() is w.action_arrows.isChecked()


def _check_curvature(w, d, qtbot, _):
    # the default preset's selected run sits on a surface: the contour follows the toggle
    on = w.action_curvature.isChecked()
    assert w.surface_view._show_curvature is on
    assert (w.surface_view.curvature_kind != "none") is on


def _check_log_y(w, d, qtbot, _):
    assert w.loss_view.plot_item.ctrl.logYCheck.isChecked() is w.action_log_y.isChecked() or \
        w.loss_view._log is w.action_log_y.isChecked()


def _prep_fit_paths(w, d, qtbot):
    w.model.set_problem(ProblemSpec(kind="function", function="bowl"))
    w.model.update_run(w.model.runs[0].run_id, RunSpec("sgd", 0.99))
    for _ in range(20):
        w.model.step()


def _check_fit_paths(w, d, qtbot, _):
    (x0, x1), (y0, y1) = w.model.surface_window
    pts = [s.params for s in w.model.snapshots() if s.visible]
    lo = min(p[:, 0].min() for p in pts), min(p[:, 1].min() for p in pts)
    hi = max(p[:, 0].max() for p in pts), max(p[:, 1].max() for p in pts)
    assert x0 <= lo[0] and x1 >= hi[0] and y0 <= lo[1] and y1 >= hi[1]
    assert w.model.surface_window != w.model.default_surface_window


def _dock_check(name):
    def check(w, d, qtbot, _):
        dock = getattr(w, name)
        assert dock.isVisible() is dock.toggleViewAction().isChecked()
    return check


# ---------------------------------------------------------------- Run: sweeps
def _prep_sweep(w, d, qtbot):
    w.model.set_problem(ProblemSpec(kind="function", function="ill-conditioned"))
    w.model.sweep_job.set_settings(replace(w.model.sweep_job.settings, count=24, steps=200))
    return len(w.model.runs)


def _check_sweep(w, d, qtbot, n):
    assert w.views.current() == "sweep"
    view = w.views.view("sweep")
    qtbot.waitUntil(lambda: view._result is not None, timeout=20000)
    assert "Divergence edge: measured between" in view.note.text()
    assert not w.sweep_progress.isVisible()
    assert len(w.model.runs) == n  # a sweep adds no run by itself


def _prep_cancel_sweep(w, d, qtbot):
    w.model.sweep_job.set_settings(replace(w.model.sweep_job.settings, count=2000,
                                           steps=100_000))
    w.model.start_sweep()
    assert w.model.sweep_job.running


def _check_cancel_sweep(w, d, qtbot, _):
    qtbot.waitUntil(lambda: not w.model.sweep_job.running, timeout=20000)
    qtbot.waitUntil(lambda: "sweep cancelled" in w.statusBar().currentMessage(), timeout=5000)
    assert w.model.sweep_job.last is None


# ---------------------------------------------------------------- Help
def _check_box(kind, needle):
    def check(w, d, qtbot, _):
        assert any(k == kind and needle in t for k, t in d.boxes), d.boxes
    return check


EFFECTS: dict[str, Effect] = {
    "actionOpenSession": Effect(_prep_open_session, _check_open_session),
    "actionSaveSession": Effect(_prep_save, _check_save),
    "actionSaveSessionAs": Effect(_prep_save, _check_save),
    "actionOpenCsv": Effect(_prep_open_csv, _check_open_csv),
    "actionExportCsv": Effect(_prep_export_run, _check_export_run),
    "actionExportAllCsv": Effect(_prep_export_all, _check_export_all),
    "actionExportScalar": Effect(_prep_export_scalar, _check_export_scalar),
    "actionExportPlot": Effect(_prep_export_plot, _check_export_plot),
    "actionQuit": Effect(_nothing, _check_quit),
    "actionRun": Effect(_prep_run, _check_run),
    "actionStep": Effect(_prep_step, _check_step),
    "actionReset": Effect(_prep_reset, _check_reset),
    "actionAddRun": Effect(_prep_count_runs, _check_added),
    "actionRemoveRun": Effect(_prep_remove, _check_removed),
    "actionSweepRates": Effect(_prep_sweep, _check_sweep),
    "actionCancelSweep": Effect(_prep_cancel_sweep, _check_cancel_sweep),
    "actionBasins": Effect(_prep_basins, _check_basins),
    "actionShowBasins": Effect(_prep_basins_shown, _check_basins_shown),
    "actionLogColour": Effect(_prep_toggle, _check_log_colour),
    "actionArrows": Effect(_prep_toggle, _check_arrows),
    "actionCurvature": Effect(_prep_toggle, _check_curvature),
    "actionLogY": Effect(_prep_toggle, _check_log_y),
    "actionFitToPaths": Effect(_prep_fit_paths, _check_fit_paths),
    "actionShowProblemDock": Effect(_prep_toggle, _dock_check("problemDock")),
    "actionShowRunsDock": Effect(_prep_toggle, _dock_check("runsDock")),
    "actionShortcuts": Effect(_nothing, _check_box("information", "Run / pause")),
    "actionAbout": Effect(_nothing, _check_box("about", "gd-explorer")),
}


def _preset_effect(key):
    def check(w, d, qtbot, _):
        assert w.model.session().problem == PRESETS[key].session.problem
        assert not d.warnings()
    return Effect(_nothing, check)


for _key in PRESETS:
    EFFECTS[f"preset_{_key}"] = _preset_effect(_key)


@pytest.fixture
def shown(qapp, qtbot, tmp_path, monkeypatch, message_boxes):
    """A shown, active window with its own settings file; dialogs answered by ``Dialogs``."""
    from gd_explorer.ui.main_window import MainWindow

    dialogs = Dialogs(monkeypatch, tmp_path, message_boxes)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.setFocus()
    QApplication.processEvents()
    yield w, dialogs
    w.close()


def _all_names() -> list[str]:
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    try:
        return [a.objectName() for a in menu_actions(w)]
    finally:
        w.close()
        w.deleteLater()


def test_every_menu_action_is_in_the_table(qapp):
    names = _all_names()
    assert all(names), "every menu action needs an object name"
    missing = [n for n in names if n not in EFFECTS]
    assert not missing, f"menu actions without a row in EFFECTS: {missing}"
    stale = [n for n in EFFECTS if n not in names]
    assert not stale, f"rows for actions that are not in the menus: {stale}"


def _action(w, name) -> QAction:
    acts = [a for a in menu_actions(w) if a.objectName() == name]
    assert len(acts) == 1, name
    return acts[0]


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_action_from_its_menu(shown, qtbot, name):
    w, dialogs = shown
    act = _action(w, name)
    assert act.isEnabled(), f"{name} is disabled"
    effect = EFFECTS[name]
    ctx = effect.prepare(w, dialogs, qtbot)
    act.trigger()
    effect.check(w, dialogs, qtbot, ctx)


SHORTCUT_ACTIONS = sorted(
    n for n in EFFECTS
    if n in {"actionOpenSession", "actionSaveSession", "actionSaveSessionAs", "actionOpenCsv",
             "actionExportCsv", "actionExportAllCsv", "actionExportPlot", "actionQuit",
             "actionRun", "actionStep", "actionReset", "actionAddRun", "actionSweepRates",
             "actionLogColour", "actionArrows", "actionLogY", "actionFitToPaths",
             "actionShortcuts", "actionBasins", "actionShowBasins"}
)


@pytest.mark.parametrize("name", SHORTCUT_ACTIONS)
def test_action_from_its_shortcut(shown, qtbot, name):
    w, dialogs = shown
    act = _action(w, name)
    keys = act.shortcut()
    assert not keys.isEmpty(), f"{name} has no shortcut"
    effect = EFFECTS[name]
    ctx = effect.prepare(w, dialogs, qtbot)
    # the key goes to the window as it would from the keyboard (the central plot has focus)
    w.surface_view.plot_widget.setFocus()
    QTest.keySequence(w.surface_view.plot_widget, keys)
    effect.check(w, dialogs, qtbot, ctx)


def test_every_action_with_a_shortcut_is_tested_by_shortcut(qapp):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    try:
        with_keys = {a.objectName() for a in menu_actions(w) if not a.shortcut().isEmpty()}
    finally:
        w.close()
    assert with_keys == set(SHORTCUT_ACTIONS)


def test_cancelled_dialogs_change_nothing_and_say_nothing(shown, qtbot):
    w, dialogs = shown  # every dialog answers "" (cancelled)
    before = w.model.session()
    for name in ("actionOpenSession", "actionSaveSessionAs", "actionExportCsv",
                 "actionExportAllCsv", "actionExportPlot"):
        _action(w, name).trigger()
    QApplication.processEvents()
    assert w.model.session() == before
    assert not dialogs.boxes
    assert not list(dialogs.tmp.iterdir())


def test_file_action_failure_is_shown_not_raised(shown, qtbot):
    w, dialogs = shown
    dialogs.open_path = str(dialogs.tmp / "no-such.json")
    _action(w, "actionOpenSession").trigger()
    assert dialogs.warnings() and "no-such.json" in dialogs.warnings()[0]
    dialogs.folder = str(dialogs.tmp / "missing-folder")
    _action(w, "actionExportAllCsv").trigger()
    qtbot.waitUntil(lambda: len(dialogs.warnings()) == 2, timeout=5000)
    assert "missing-folder" in dialogs.warnings()[1]


def test_space_on_a_focused_slider_moves_the_slider_not_the_runs(shown, qtbot):
    w, _ = shown
    slider = w.runs_panel.lr_edit.slider
    slider.setFocus()
    rows = w.model.max_rows()
    before = slider.value()
    QTest.keyClick(slider, Qt.Key.Key_Right)
    assert w.model.max_rows() == rows  # the runs did not step
    assert slider.value() != before


def test_the_readme_shortcut_table_is_the_action_table():
    from pathlib import Path

    from gd_explorer.ui.actions import readme_shortcut_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert readme_shortcut_table() in readme
