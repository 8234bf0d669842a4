"""The main window: panels, views, controls, menus; bound to one ExplorerModel."""

from __future__ import annotations

import json
import os

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gd_explorer import __version__
from gd_explorer.core.session.presets import PRESETS
from gd_explorer.core.session.specs import Session, session_from_dict, session_to_dict
from gd_explorer.model.explorer import ExplorerModel
from gd_explorer.ui.actions import ACTIONS, MENUS, shortcuts_text
from gd_explorer.ui.animation import AnimationExport
from gd_explorer.ui.basins_dialog import BasinsDialog
from gd_explorer.ui.file_actions import FileActions
from gd_explorer.ui.lesson_note import LessonNote
from gd_explorer.ui.panels import ProblemPanel, RunsPanel
from gd_explorer.ui.support import (
    install_edit_keys_filter,
    plain_label,
    show_message,
    weak_slot,
)
from gd_explorer.ui.views import (
    CurveView,
    FitView,
    LossView,
    SliceView,
    StepLogView,
    Surface3DView,
    SurfaceView,
)
from gd_explorer.ui.views.frame import Frame, frame_of
from gd_explorer.ui.views.registry import ViewHost, views_for

ACTION_SPECS = {a.name: a for a in ACTIONS}

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 0)  # 0 = max
#: steps per second per run until the user picks another speed (remembered then): fast
#: enough to reach a lesson's point, slow enough to watch it happen
DEFAULT_SPEED = 50
DEFAULT_WINDOW = (1440, 900)
#: fits a 1366×768 laptop screen with a task bar and a title bar
MIN_WINDOW = (960, 600)
REFRESH_SLOW_MS = 200  # slice and arrows: derived data refreshed at most 5 times a second
#: text widgets are read at human speed: refreshed at most 8 times a second while running
REFRESH_TEXT_MS = 125


def _speed_text(v: float) -> str:
    return "max" if v == 0 else f"{v:g}/s"


def _file_size(size: int) -> str:
    """``"12.3 MB"``, ``"4.1 kB"``, ``"310 bytes"`` (what an export wrote)."""
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e3:.1f} kB" if size >= 1000 else f"{size} bytes"


class MainWindow(QMainWindow):
    """The gd-explorer window.  ``MainWindow()`` builds it without showing it."""

    closed = Signal()

    def __init__(self, session: Session | None = None, *, settings: QSettings | None = None,
                 restore: bool = False):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("gd-explorer")
        self.settings = settings
        # the model is the window's child: it goes when the window goes
        self.model = ExplorerModel(session, parent=self)
        self._drag_was_running = False  # the runs were running as the ★ drag began
        install_edit_keys_filter()
        self.files = FileActions(self)  # File menu: sessions, datasets, exports
        self.animator = AnimationExport(self)  # File ▸ Export animation (GIF/MP4)
        self._closing = False
        self._problem_shown = False

        self._restore_problems: list[str] = []

        self._build_views()
        self._build_panels()
        self._build_controls()
        self._build_menus()
        self._build_status_bar()
        self._bind_model()
        self.setMinimumSize(*MIN_WINDOW)
        self._fit_to_screen()
        self.model.set_speed(DEFAULT_SPEED)
        if restore and settings is not None:
            self._restore_settings()
        if not self._problem_shown:  # a restored session has drawn everything already
            self._on_problem_changed()  # (ends with _on_progressed: runs drawn too)
        self._refresh_lesson()
        if self._restore_problems:
            QTimer.singleShot(0, self._report_restore_problems)

    def _fit_to_screen(self) -> None:
        """1440×900, or less on a smaller screen (a 1366×768 laptop shows all of it)."""
        screen = self.screen()
        avail = screen.availableGeometry() if screen is not None else None
        w, h = DEFAULT_WINDOW
        if avail is not None and avail.width() > 0 and avail.height() > 0:
            w = max(MIN_WINDOW[0], min(w, avail.width() - 16))
            h = max(MIN_WINDOW[1], min(h, avail.height() - 40))
        self.resize(w, h)

    # ================================================================== construction
    # The views, by key (gd_explorer.ui.views.registry); the 1-D curve and the slice start
    # hidden and are built when first shown or used.
    @property
    def surface_view(self) -> SurfaceView:
        return self.views.view("surface")

    @property
    def curve_view(self) -> CurveView:
        return self.views.view("curve")

    @property
    def surface3d(self) -> Surface3DView:
        return self.views.view("surface3d")

    @property
    def fit_view(self) -> FitView:
        return self.views.view("fit")

    @property
    def loss_view(self) -> LossView:
        return self.views.view("loss")

    @property
    def step_log(self) -> StepLogView:
        return self.views.view("steplog")

    @property
    def lr_view(self):
        """The LR tab (the selected run's rate and cycled momentum)."""
        return self.views.view("lr")

    @property
    def slice_view(self) -> SliceView:
        return self.views.view("slice").view

    @property
    def slice_param(self):
        """The slice's parameter picker."""
        return self.views.view("slice").param

    @property
    def main_tabs(self):
        return self.views.main_tabs

    @property
    def side_tabs(self):
        return self.views.side_tabs

    def _on_view_built(self, key: str, view: QWidget) -> None:
        """Connect a view's signals once it exists."""
        if key == "surface":
            view.start_clicked.connect(self._on_surface_clicked)
            view.start_dragged.connect(self._on_start_dragged)
            view.start_dropped.connect(self._on_start_dropped)
            view.hovered.connect(self._on_hover)
        elif key == "curve":
            view.start_clicked.connect(self._on_curve_clicked)
        elif key == "slice":
            view.param.currentIndexChanged.connect(self._refresh_slow)
        elif key == "sweep":
            job = self.model.sweep_job
            view.set_settings(job.settings)
            view.set_running(job.running)
            view.run_requested.connect(self.sweep_learning_rates)
            view.cancel_requested.connect(job.cancel)
            view.settings_edited.connect(self._on_sweep_settings_edited)
            view.rate_clicked.connect(self._on_sweep_rate_clicked)
            job.settings_changed.connect(view.set_settings)
            job.running_changed.connect(view.set_running)
            job.progress.connect(view.set_progress)
            job.finished.connect(view.show_result)
            if job.last is not None:
                view.show_result(job.last)
        elif key == "landscape":
            job = self.model.landscape_job
            view.compute_requested.connect(self._on_landscape_compute)
            job.busy_changed.connect(view.set_busy)
            job.finished.connect(view.show_result)
            job.cancelled.connect(view.show_cancelled)
            job.failed.connect(view.show_failed)
            if job.last is not None:
                view.show_result(job.last)

    def _build_views(self) -> None:
        self.views = ViewHost(on_built=weak_slot(self._on_view_built, pass_signal_args=True),
                              parent=self)
        right = QSplitter(Qt.Orientation.Vertical)
        for widget in self.views.pane:
            right.addWidget(widget)
        right.addWidget(self.views.side_tabs)
        right.setSizes([380, 420])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("centralSplitter")
        split.addWidget(self.views.main_tabs)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([560, 500])
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(2)
        self.lesson_note = LessonNote()
        cl.addWidget(self.lesson_note)
        cl.addWidget(split, 1)
        self.setCentralWidget(central)
        self._splitters = (split, right)

    def _build_panels(self) -> None:
        self.problem_panel = ProblemPanel(self.model)
        self.runs_panel = RunsPanel(self.model)
        for title, panel, name in (("Problem", self.problem_panel, "problemDock"),
                                   ("Runs", self.runs_panel, "runsDock")):
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(panel)
            scroll.setMinimumWidth(330)
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(scroll)
            # closable: View ▸ Problem / Runs hides and shows it again
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable)
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            setattr(self, name, dock)
        self.problem_panel.open_csv_requested.connect(self.files.open_csv)

    def _build_controls(self) -> None:
        bar = QToolBar("Control")
        bar.setObjectName("controlBar")
        bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)
        self.step_button = QPushButton("Step ▸")
        self.step_button.setObjectName("stepButton")
        self.step_button.setToolTip("One update of every run (→)")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setToolTip("Run or pause every run (Space)")
        self.run_button.setCheckable(True)
        self.run_button.setMinimumWidth(80)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName("resetButton")
        self.reset_button.setToolTip("Every run back to the start (R)")
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setObjectName("speedSlider")
        self.speed_slider.setRange(0, len(SPEEDS) - 1)
        self.speed_slider.setValue(len(SPEEDS) - 1)
        self.speed_slider.setFixedWidth(140)
        self.speed_slider.setToolTip("Steps per second per run, from 1 to max")
        self.speed_label = QLabel("speed max")
        self.speed_label.setMinimumWidth(90)
        self.timeline = QSlider(Qt.Orientation.Horizontal)
        self.timeline.setObjectName("timelineSlider")
        self.timeline.setToolTip("Scrub through the recorded steps: every view shows step k. "
                                 "At the right end the views follow the latest step.")
        self.timeline.setMinimumWidth(200)
        self.timeline_label = QLabel("step 0")
        self.timeline_label.setObjectName("timelineLabel")
        self.timeline_label.setMinimumWidth(110)
        for w in (self.step_button, self.run_button, self.reset_button):
            bar.addWidget(w)
        bar.addSeparator()
        bar.addWidget(QLabel(" Speed "))
        bar.addWidget(self.speed_slider)
        bar.addWidget(self.speed_label)
        bar.addSeparator()
        bar.addWidget(QLabel(" Timeline "))
        bar.addWidget(self.timeline)
        bar.addWidget(self.timeline_label)

        self.step_button.clicked.connect(self.model.step)
        self.run_button.clicked.connect(self._on_run_clicked)
        self.reset_button.clicked.connect(self.model.reset)
        self.speed_slider.valueChanged.connect(self._on_speed_slider)
        self.timeline.valueChanged.connect(self._on_timeline)

    def _build_menus(self) -> None:
        """Menus from :data:`~gd_explorer.ui.actions.ACTIONS`, then the presets and docks."""
        mb = self.menuBar()
        menus = {title: mb.addMenu(f"&{title}") for title in MENUS}
        self.actions_by_name: dict[str, QAction] = {}
        last_group: dict[str, int] = {}
        for spec in ACTIONS:
            menu = menus[spec.menu]
            if spec.menu in last_group and last_group[spec.menu] != spec.group:
                menu.addSeparator()
            last_group[spec.menu] = spec.group
            act = QAction(spec.text, self)
            act.setObjectName(spec.name)
            if spec.shortcut:
                act.setShortcut(QKeySequence(spec.shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            tip = spec.tip or spec.title
            act.setToolTip(tip)
            act.setStatusTip(tip)
            if spec.checkable:
                act.setCheckable(True)
                act.setChecked(spec.default)
                act.toggled.connect(self._on_action_toggled)
            else:
                # (bound method: it drops Qt's ``checked`` and keeps no reference alive)
                act.triggered.connect(self._on_action_triggered)
            menu.addAction(act)
            self.addAction(act)  # shortcuts work while the menu bar is hidden too
            self.actions_by_name[spec.name] = act
        # the views take their toggles' initial states from the table, not their own
        self._syncing_toggles = True
        for spec in ACTIONS:
            if spec.checkable:
                self._handler(spec)(spec.default)
        self._syncing_toggles = False
        self.action_run = self.actions_by_name["actionRun"]
        self.action_log_colour = self.actions_by_name["actionLogColour"]
        self.action_arrows = self.actions_by_name["actionArrows"]
        self.action_curvature = self.actions_by_name["actionCurvature"]
        self.action_log_y = self.actions_by_name["actionLogY"]

        v = menus["View"]
        v.addSeparator()
        for dock, name in ((self.problemDock, "actionShowProblemDock"),
                           (self.runsDock, "actionShowRunsDock")):
            toggle = dock.toggleViewAction()
            toggle.setObjectName(name)
            toggle.setToolTip(f"Show or hide the {dock.windowTitle()} panel")
            v.addAction(toggle)

        p = menus["Presets"]
        p.setObjectName("presetsMenu")
        by_cat: dict[str, list] = {}
        for preset in PRESETS.values():
            by_cat.setdefault(preset.category, []).append(preset)
        for cat, items in by_cat.items():
            sub = p.addMenu(cat)
            for preset in items:
                act = QAction(preset.title, self)
                act.setObjectName(f"preset_{preset.key}")
                act.setData(preset.key)
                act.setToolTip(preset.description)
                act.setStatusTip(preset.description)
                act.triggered.connect(self._on_preset_triggered)
                sub.addAction(act)
            sub.setToolTipsVisible(True)

    def _handler(self, spec):
        """The method an action calls: ``spec.handler`` names it, on the window or on one
        of its parts (``files.open_session``)."""
        target = self
        for name in spec.handler.split("."):
            target = getattr(target, name)
        return target

    def _on_action_triggered(self) -> None:
        self._handler(ACTION_SPECS[self.sender().objectName()])()

    def _on_action_toggled(self, checked: bool) -> None:
        self._handler(ACTION_SPECS[self.sender().objectName()])(bool(checked))

    def _on_preset_triggered(self) -> None:
        self.load_preset(str(self.sender().data()))

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.status_label = plain_label()
        self.status_label.setObjectName("statusLabel")
        sb.addWidget(self.status_label, 1)
        self.surface_progress, self.cancel_surface = self._job_progress(
            "surface", "", "Computing the loss surface", "Cancel", "cancelSurfaceButton",
            "Stop computing the surface (the runs are not affected)", self.model.cancel_surface)
        # a fallback from the engine process stays in sight, not only as a passing message
        self.engine_label = plain_label()
        self.engine_label.setObjectName("engineLabel")
        self.engine_label.hide()
        sb.addPermanentWidget(self.engine_label)
        self.export_progress, self.cancel_export = self._job_progress(
            "export", "export %p%", "Writing the CSV file(s)", "Cancel export",
            "cancelExportButton", "Stop writing; a file not finished is not kept",
            self.model.cancel_export)
        self.sweep_progress, self.cancel_sweep_button = self._job_progress(
            "sweep", "sweep %p%", "Running the learning-rate sweep", "Cancel sweep",
            "cancelSweepButton", "Stop the sweep (nothing is drawn)", self.model.sweep_job.cancel)
        self.basins_progress, self.cancel_basins = self._job_progress(
            "basins", "basins %p%", "Computing the basins of attraction", "Cancel basins",
            "cancelBasinsButton", "Stop computing the basins (the map shown stays)",
            self.model.cancel_basins)
        self.landscape_progress, self.cancel_landscape = self._job_progress(
            "landscape", "landscape %p%", "Computing the loss landscape", "Cancel landscape",
            "cancelLandscapeButton", "Stop computing the landscape (the picture shown stays)",
            self.model.landscape_job.cancel)
        self.animation_progress, self.cancel_animation = self._job_progress(
            "animation", "animation %p%", "Writing the animation", "Cancel animation",
            "cancelAnimationButton", "Stop writing the animation (no file is kept)",
            self.animator.cancel)
        self.animator.busy_changed.connect(self._on_animation_busy_changed)
        self.animator.progress.connect(self._on_animation_progress)
        self.animator.finished.connect(self._on_animation_finished)
        self.animator.failed.connect(self._on_animation_failed)

    def _on_animation_busy_changed(self, busy: bool) -> None:
        self._show_job(self.animation_progress, self.cancel_animation, busy)

    def _on_animation_progress(self, fraction: float) -> None:
        self.animation_progress.setValue(int(fraction * 100))

    def _on_animation_finished(self, path: str, frames: int) -> None:
        self.statusBar().showMessage(f"wrote {frames:,} frames to {path}", 8000)

    def _on_animation_failed(self, text: str) -> None:
        if text:
            self._on_failed(f"cannot export the animation: {text}")
        else:
            self.statusBar().showMessage("animation cancelled: no file written", 5000)

    def _job_progress(self, key: str, fmt: str, tip: str, cancel_text: str, cancel_name: str,
                      cancel_tip: str, cancel) -> tuple[QProgressBar, QPushButton]:
        """A background job's progress bar and Cancel button in the status bar (hidden
        until the job runs: see :meth:`_show_job`)."""
        bar = QProgressBar()
        bar.setObjectName(f"{key}Progress")
        bar.setRange(0, 100)
        bar.setMaximumWidth(160)
        if fmt:
            bar.setFormat(fmt)
        bar.setToolTip(tip)
        button = QPushButton(cancel_text)
        button.setObjectName(cancel_name)
        button.setToolTip(cancel_tip)
        button.clicked.connect(cancel)
        for w in (bar, button):
            self.statusBar().addPermanentWidget(w)
            w.hide()
        return bar, button

    @staticmethod
    def _show_job(bar: QProgressBar, button: QPushButton, busy: bool) -> None:
        bar.setVisible(busy)
        button.setVisible(busy)

    def _bind_model(self) -> None:
        m = self.model
        m.problem_changed.connect(self._on_problem_changed)
        m.runs_changed.connect(self._on_runs_changed)
        m.progressed.connect(self._on_progressed)
        m.running_changed.connect(self._on_running_changed)
        m.surface_changed.connect(self._on_surface_changed)
        m.surface_progress.connect(self._on_surface_progress)
        m.start_changed.connect(self._on_start_changed)
        m.speed_changed.connect(self._on_speed_changed)
        m.cursor_changed.connect(self._on_cursor_changed)
        m.selected_run_changed.connect(self._refresh_slow)
        m.surface_axes_changed.connect(self._refresh_slow)
        m.failed.connect(self._on_failed)
        m.exporting_changed.connect(self._on_exporting_changed)
        m.export_progress.connect(self._on_export_progress)
        m.export_finished.connect(self._on_export_finished)
        m.sweep_job.running_changed.connect(self._on_sweeping_changed)
        m.sweep_job.progress.connect(self._on_sweep_progress)
        m.sweep_job.finished.connect(self._on_sweep_finished)
        m.message.connect(self._on_message)
        m.basins_changed.connect(self._on_basins_changed)
        m.ghosts_changed.connect(self._on_progressed)
        m.basins_busy_changed.connect(self._on_basins_busy_changed)
        m.basins_progress.connect(self._on_basins_progress)
        m.engine_note_changed.connect(self._on_engine_note_changed)
        m.landscape_job.busy_changed.connect(self._on_landscape_busy_changed)
        m.landscape_job.progress.connect(self._on_landscape_progress)
        m.landscape_job.cancelled.connect(self._on_message)
        m.landscape_job.failed.connect(self._on_message)
        self._slow_timer = QTimer(self)
        self._slow_timer.setSingleShot(True)
        self._slow_timer.setInterval(REFRESH_SLOW_MS)
        self._slow_timer.timeout.connect(self._refresh_slow)
        self.side_tabs.currentChanged.connect(self._refresh_slow)
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(REFRESH_TEXT_MS)
        self._text_timer.timeout.connect(self._refresh_text)
        m.problem_changed.connect(self._refresh_lesson)

    # ================================================================== model -> views
    def _on_problem_changed(self) -> None:
        self._problem_shown = True
        m = self.model
        one_d = m.dim == 1
        dataset = "fit" in m.views
        views = self.views
        # (read before: hiding the current tab moves Qt to a neighbour, e.g. Fit to 3-D)
        was = views.current()
        views.set_active(views_for(m))
        if one_d:
            xs, fs = m.curve()
            self.curve_view.set_curve(xs, fs, m.names[0])
            views.show_tab("curve")
        elif was in ("curve", "fit") or \
                not self.main_tabs.isTabVisible(self.main_tabs.currentIndex()):
            views.show_tab("surface")
        views.view("slice").set_names(m.names)
        if dataset:
            x, y, labels = m.objective.fit_data()
            self.fit_view.set_data(x, y, labels)
        self._set_optima()
        self._on_start_changed()
        # a function's x and y share a unit: one scale for both (circles look round);
        # zooming or panning asks the model for the surface there
        self.surface_view.set_equal_aspect(m.equal_aspect)
        self.surface_view.window_requested.connect(m.set_surface_window,
                                                   Qt.ConnectionType.UniqueConnection)
        self.surface_view.set_hover_text("")  # the f under the mouse was the old problem's
        self._on_surface_changed()
        self.setWindowTitle(f"gd-explorer — {m.objective.name}")
        self._on_progressed()

    def _set_optima(self) -> None:
        m = self.model
        pts = [o.point for o in m.objective.optima]
        if m.dim == 1:
            self.curve_view.set_optima([p[0] for p in pts])
        elif m.dim >= 2:
            a = m.surface_axes
            self.surface_view.set_optima([(p[a[0]], p[a[1]]) for p in pts])

    def _on_start_changed(self) -> None:
        m = self.model
        s = m.start
        if m.dim == 1:
            self.curve_view.set_start(float(s[0]))
        else:
            a = m.surface_axes
            self.surface_view.set_start((float(s[a[0]]), float(s[a[1]])))

    def _on_surface_changed(self) -> None:
        surf = self.model.surface
        if surf is None or surf[2] is None:
            return
        xs, ys, z, names = surf
        self.surface_view.set_surface(xs, ys, z, names, home=self.model.default_surface_window)
        self.surface3d.set_surface(xs, ys, z, names)
        self._set_optima()
        self._on_start_changed()
        if self.action_arrows.isChecked():
            self._on_arrows(True)

    def _on_surface_progress(self, fraction: float) -> None:
        self._show_job(self.surface_progress, self.cancel_surface, fraction < 1.0)
        self.surface_progress.setValue(int(fraction * 100))

    def _on_runs_changed(self) -> None:
        self._on_progressed()

    def _on_progressed(self) -> None:
        """A display tick (or a change of runs, problem or state): one frame for every
        view the problem shows; the text and the derived data follow at their rates."""
        m = self.model
        frame = frame_of(m)
        self.views.show_frame(frame)
        if m.running:
            # text widgets are read at human speed: refresh them at <= 8 Hz while running
            if not self._text_timer.isActive():
                self._text_timer.start()
        else:
            self._refresh_text(frame)
        if not self._slow_timer.isActive():
            self._slow_timer.start()

    def _refresh_text(self, frame: Frame | None = None) -> None:
        """The step log, run list, timeline and status bar (of ``frame``, default: the
        model as it is now)."""
        if not isinstance(frame, Frame):  # (a timer's call)
            frame = frame_of(self.model)
        self.views.show_text(frame)
        self.runs_panel.refresh_statuses()
        self.runs_panel.show_curvature(frame.curvature() if frame.curvature else None)
        self._update_timeline()
        self._update_status(frame)

    def _refresh_slow(self, *_ignored) -> None:
        """Derived data that costs more than a redraw: the slice and the arrow field."""
        m = self.model
        if self._closing:
            return
        big = m.objective.evaluation_cost > 10_000
        if not (big and m.running):
            self.views.show_slow(frame_of(m))
        if self.action_arrows.isChecked() and m.dim >= 2 and not m.running:
            self._on_arrows(True)

    def _update_timeline(self) -> None:
        rows = self.model.max_rows()
        self.timeline.blockSignals(True)
        self.timeline.setRange(0, max(rows - 1, 0))
        cursor = self.model.cursor
        self.timeline.setValue(rows - 1 if cursor is None else cursor)
        self.timeline.blockSignals(False)
        shown = rows - 1 if cursor is None else cursor
        self.timeline_label.setText(f"step {max(shown, 0):,}" + ("" if cursor is None else
                                                                 f" / {rows - 1:,}"))

    def _update_status(self, frame: Frame) -> None:
        sel = frame.selected
        if sel is None or sel.n == 0:
            self.status_label.setText(sel.message if sel else "")
            return
        k = sel.index(frame.cursor)
        gn = float(np.linalg.norm(sel.grad[k])) if np.all(np.isfinite(sel.grad[k])) else \
            float("nan")
        state = frame.selected_status
        self.status_label.setText(
            f"{sel.label}   step {k:,}   f = {float(sel.loss[k]):.6g}   |∇f| = {gn:.3g}   "
            f"[{state}]")

    def _on_running_changed(self, running: bool) -> None:
        self.run_button.blockSignals(True)
        self.run_button.setChecked(running)
        self.run_button.setText("Pause" if running else "Run")
        self.run_button.blockSignals(False)
        self._on_progressed()

    def _on_speed_changed(self, v: float) -> None:
        self.speed_label.setText(f"speed {_speed_text(v)}")
        i = SPEEDS.index(v) if v in SPEEDS else len(SPEEDS) - 1
        if self.speed_slider.value() != i:
            self.speed_slider.blockSignals(True)
            self.speed_slider.setValue(i)
            self.speed_slider.blockSignals(False)

    def _on_cursor_changed(self, _cursor) -> None:
        self._update_timeline()

    def _on_failed(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)
        show_message(self, "warning", "gd-explorer", text)

    def _on_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 5000)

    def _on_engine_note_changed(self, note: str) -> None:
        self.engine_label.setText("runs advance in this window" if note else "")
        self.engine_label.setToolTip(
            f"{note} (slower than in the engine process, and the window may lag)" if note else "")
        self.engine_label.setVisible(bool(note))

    # ================================================================== user actions
    # (the actions' handlers: see gd_explorer.ui.actions)
    def _on_run_clicked(self, _checked: bool) -> None:
        self.model.toggle_running()

    def toggle_run(self) -> None:
        """Run every run, or pause them."""
        self.model.toggle_running()

    def step(self) -> None:
        """One update of every run."""
        self.model.step()

    def reset(self) -> None:
        """Every run back to the start."""
        self.model.reset()

    def rewind_run(self) -> None:
        """Restart the selected run from its start with the same mini-batch order."""
        self.model.rewind_run()

    def add_run(self) -> None:
        """Add a run with the next optimizer."""
        self.runs_panel.add_run()

    def remove_run(self) -> None:
        """Remove the selected run."""
        self.runs_panel.remove_selected()

    def set_log_colour(self, on: bool) -> None:
        """Log (on) or linear colour scale of the surface."""
        self._on_log_colour(on)
        self._remember_toggle("actionLogColour", on)

    def set_arrow_field(self, on: bool) -> None:
        """Show or hide the −∇f arrow field."""
        self._on_arrows(on)
        self._remember_toggle("actionArrows", on)

    def set_curvature_ellipse(self, on: bool) -> None:
        """Show or hide the local quadratic model's contour on the surface."""
        self.surface_view.set_curvature_visible(on)
        self._remember_toggle("actionCurvature", on)
        if not self._syncing_toggles:
            self._on_progressed()  # drawn now, not at the next step

    def set_log_loss(self, on: bool) -> None:
        """Log or linear loss axis."""
        self.loss_view.set_log_y(on)
        self._remember_toggle("actionLogY", on)

    def fit_surface_to_paths(self) -> None:
        """Show the surface around the visible runs' paths and the start."""
        self.model.fit_surface_to_paths()

    def keep_ghost(self) -> None:
        """Freeze the selected run's path as a ghost (a clear message when it cannot)."""
        try:
            self.model.keep_ghost()
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 5000)

    def clear_ghosts(self) -> None:
        """Remove every ghost."""
        self.model.clear_ghosts()

    # ------------------------------------------------------------------ basins
    def compute_basins(self) -> None:
        """Ask for the grid and steps, then compute the basins of attraction."""
        if self.model.dim < 2:
            self.statusBar().showMessage("basins of attraction need a surface (two "
                                         "parameters or more)", 5000)
            return
        dialog = getattr(self, "basins_dialog", None)
        if dialog is None:
            dialog = self.basins_dialog = BasinsDialog(self)
            dialog.accepted.connect(self._on_basins_dialog_accepted)
        dialog.set_settings(self.model.basin_settings)
        sel = self.model.selected_snapshot()
        dialog.set_run_label(sel.label if sel is not None else "")
        dialog.open()  # window-modal, not blocking: the runs and the views go on

    def _on_basins_dialog_accepted(self) -> None:
        try:
            self.model.compute_basins(self.basins_dialog.settings())
        except ValueError as exc:
            self._on_failed(str(exc))

    def set_basins_shown(self, on: bool) -> None:
        """Show or hide the basins-of-attraction map."""
        self.surface_view.show_basins(on)
        self._remember_toggle("actionShowBasins", on)

    def _on_basins_changed(self) -> None:
        basin_map = self.model.basins
        if basin_map is None:
            self.surface_view.set_basins(None)
            return
        r = basin_map.result
        self.surface_view.set_basins(basin_map.rgba, r.xs, r.ys, r.legend(),
                                     stale=self.model.basins_stale)
        action = self.actions_by_name["actionShowBasins"]
        if not self.model.basins_stale and not action.isChecked():
            action.setChecked(True)  # a map just asked for is shown

    def _on_basins_busy_changed(self, busy: bool) -> None:
        self._show_job(self.basins_progress, self.cancel_basins, busy)

    def _on_basins_progress(self, fraction: float) -> None:
        self.basins_progress.setValue(int(fraction * 100))

    # ------------------------------------------------------------------ landscape
    def _on_landscape_compute(self, mode: str, seed: int, resolution: int) -> None:
        try:
            self.model.start_landscape(mode, seed, resolution)
        except ValueError as exc:
            text = f"cannot draw the landscape: {exc}"
            self.views.view("landscape").show_failed(text)
            self._on_message(text)

    def _on_landscape_busy_changed(self, busy: bool) -> None:
        self._show_job(self.landscape_progress, self.cancel_landscape, busy)

    def _on_landscape_progress(self, fraction: float) -> None:
        self.landscape_progress.setValue(int(fraction * 100))

    def _on_speed_slider(self, index: int) -> None:
        self.model.set_speed(SPEEDS[index])

    def _on_curve_clicked(self, x: float) -> None:
        self._on_surface_clicked(x, None)

    def _on_timeline(self, value: int) -> None:
        rows = self.model.max_rows()
        self.model.set_cursor(None if value >= rows - 1 else value)

    def _on_surface_clicked(self, x: float, y: float | None) -> None:
        try:
            self.model.set_start_2d(x, y)
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 5000)

    def _on_start_dragged(self, x: float, y: float) -> None:
        """The ★ is dragged: pause the runs and draw each one's first steps from there."""
        m = self.model
        if m.running:
            self._drag_was_running = True  # the release goes on running
            m.pause()
        try:
            paths = m.preview_start_2d(x, y)
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 5000)
            return
        self.surface_view.show_preview(paths, m.surface_axes)

    def _on_start_dropped(self, x: float, y: float) -> None:
        """The ★ is released: every run restarts from there (see the model's
        ``drop_start_2d`` for when they go on running)."""
        was_running, self._drag_was_running = self._drag_was_running, False
        try:
            self.model.drop_start_2d(x, y, was_running=was_running)
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 5000)
            self._on_start_changed()  # the ★ back where the start is
            self._on_progressed()
            if was_running:
                self.model.start_running()

    def _on_hover(self, x: float, y: float) -> None:
        m = self.model
        if m.dim < 2:
            return
        names = (m.names[m.surface_axes[0]], m.names[m.surface_axes[1]])
        z = m.value_at(x, y)
        ztext = "" if z is None else f"   f = {z:.6g}"
        self.surface_view.set_hover_text(f"{names[0]} = {x:.4g}   {names[1]} = {y:.4g}{ztext}")

    def _on_log_colour(self, on: bool) -> None:
        self.surface_view.set_log_scale(on)
        self.surface3d.set_log_scale(on)  # the 3-D height follows the same scale

    def _on_arrows(self, on: bool) -> None:
        field = self.model.arrow_field() if on else None
        if field is None:
            self.surface_view.set_arrow_field(np.zeros(1), np.zeros(1), np.zeros((1, 1)),
                                              np.zeros((1, 1)), False)
            return
        xs, ys, u, v = field
        self.surface_view.set_arrow_field(xs, ys, u, v, True)

    def _refresh_lesson(self) -> None:
        self.lesson_note.set_lesson(self.model.title, self.model.description)

    def load_preset(self, key: str) -> None:
        """Replace the configuration by a preset."""
        preset = PRESETS[key]
        try:
            self.model.apply_session(preset.session)
        except ValueError as exc:
            self._on_failed(f"preset {preset.title}: {exc}")
            return
        self.files.session_path = None
        self.statusBar().showMessage(f"preset {preset.title}", 5000)
        self.problem_panel.refresh()

    # ------------------------------------------------------------------ files
    # (the work is in self.files, gd_explorer.ui.file_actions; these are the window's API)
    def open_session(self, path: str | None = None) -> bool:
        """Open a session file; a broken or hostile file is refused and changes nothing."""
        return self.files.open_session(path)

    def save_session(self, path: str | None = None) -> bool:
        """Save the session (to its current file, or ask)."""
        return self.files.save_session(path)

    def save_session_as(self) -> bool:
        """Save the session to a new file (asks for it)."""
        return self.files.save_session_as()

    def open_csv(self) -> bool:
        """Choose a CSV dataset, preview it, pick its columns and fit it."""
        return self.files.open_csv()

    def load_csv(self, path: str, x_column: int | str | None = None,
                 y_column: int | str | None = None) -> bool:
        """Fit the CSV dataset at ``path`` (see :meth:`FileActions.load_csv`)."""
        return self.files.load_csv(path, x_column, y_column)

    def export_csv(self, path: str | None = None) -> bool:
        """Export the selected run's trajectory (asks for a path when none is given)."""
        return self.files.export_csv(path)

    def export_all_csv(self, folder: str | None = None) -> bool:
        """Export every run into a folder (asks for one when none is given)."""
        return self.files.export_all_csv(folder)

    def export_plot(self, path: str | None = None) -> bool:
        """Save the visible main plot as PNG or SVG."""
        return self.files.export_plot(path)

    def _on_exporting_changed(self, busy: bool) -> None:
        self._show_job(self.export_progress, self.cancel_export, busy)

    def _on_export_progress(self, fraction: float) -> None:
        self.export_progress.setValue(int(fraction * 100))

    def _on_export_finished(self, result) -> None:
        where = result.paths[0] if len(result.paths) == 1 else \
            f"{len(result.paths)} files in {os.path.dirname(result.paths[0])}"
        what = "scalar columns" if result.columns == "scalar" else "all columns"
        self.statusBar().showMessage(f"wrote {result.rows:,} rows ({what}, "
                                     f"{_file_size(result.size)}) to {where}", 8000)

    # ------------------------------------------------------------------ sweeps
    def sweep_learning_rates(self) -> bool:
        """Show the Sweep tab and run its sweep for the selected run; True when it started."""
        view = self.views.view("sweep")
        self.views.show_tab("sweep")
        try:
            view.settings()  # the controls' values, checked (a bad one is said there)
            self.model.sweep_job.set_settings(view.settings())
            self.model.start_sweep()
        except ValueError as exc:
            self._on_failed(f"cannot sweep: {exc}")
            return False
        return True

    def cancel_sweep(self) -> None:
        """Stop the sweep that runs."""
        self.model.sweep_job.cancel()

    def _on_sweep_settings_edited(self, settings) -> None:
        try:
            self.model.sweep_job.set_settings(settings)
        except ValueError as exc:
            self._on_failed(f"cannot sweep: {exc}")

    def _on_sweep_rate_clicked(self, lr: float, momentum) -> None:
        try:
            self.model.add_run_at_rate(lr, momentum)
        except ValueError as exc:
            self._on_failed(f"cannot add a run: {exc}")
            return
        extra = "" if momentum is None else f", momentum {momentum:.3g}"
        self.statusBar().showMessage(f"added a run at lr {lr:.3g}{extra}", 5000)

    def _on_sweeping_changed(self, busy: bool) -> None:
        self._show_job(self.sweep_progress, self.cancel_sweep_button, busy)

    def _on_sweep_progress(self, fraction: float) -> None:
        self.sweep_progress.setValue(int(fraction * 100))

    def _on_sweep_finished(self, result) -> None:
        self.statusBar().showMessage(f"sweep done in {result.seconds:.2f} s", 5000)

    # ------------------------------------------------------------------ help
    def show_shortcuts(self) -> None:
        """The list of keyboard shortcuts (F1)."""
        show_message(self, "information", "Keyboard shortcuts", shortcuts_text())

    def show_about(self) -> None:
        QMessageBox.about(self, "About gd-explorer",
                          f"<b>gd-explorer {__version__}</b><br>See how optimizers move: "
                          "functions, datasets, torch.optim's optimizers, CSV export.")

    # ================================================================== settings, closing
    def _restore_settings(self) -> None:
        """Geometry, view toggles, speed and the last session; anything that cannot be
        restored (a corrupt or hostile settings file) falls back to its default, and the
        status bar says so once the window is up."""
        s = self.settings
        for what, restore in (("window layout", self._restore_layout),
                              ("view options", self._restore_view),
                              ("last session", self._restore_session)):
            try:
                restore(s)
            except Exception as exc:  # noqa: BLE001 - any failure: defaults, never a crash
                self._restore_problems.append(f"{what} ({type(exc).__name__})")

    def _restore_layout(self, s: QSettings) -> None:
        geom = s.value("window/geometry")
        if isinstance(geom, QByteArray):
            self.restoreGeometry(geom)
        state = s.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def _restore_view(self, s: QSettings) -> None:
        for spec in ACTIONS:
            if not spec.setting:
                continue
            v = s.value(spec.setting)
            if v is None:
                continue
            on = v if isinstance(v, bool) else str(v).lower() in ("true", "1")
            self.actions_by_name[spec.name].setChecked(on)
        speed = s.value("run/speed")
        if speed is not None:
            v = float(speed)
            if v in SPEEDS:
                self.model.set_speed(v)

    def _restore_session(self, s: QSettings) -> None:
        text = s.value("session/last")
        if isinstance(text, str) and text:
            self.model.apply_session(session_from_dict(json.loads(text)))
            self.problem_panel.refresh()

    def _report_restore_problems(self) -> None:
        self.statusBar().showMessage(
            "could not restore the " + ", ".join(self._restore_problems)
            + " from the settings; started with the defaults", 15000)

    def _remember_toggle(self, name: str, on: bool) -> None:
        spec = ACTION_SPECS[name]
        if self.settings is not None and spec.setting and not self._syncing_toggles:
            self.settings.setValue(spec.setting, bool(on))

    def _save_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("run/speed", float(self.model.speed))
        for spec in ACTIONS:
            if spec.setting:
                s.setValue(spec.setting, self.actions_by_name[spec.name].isChecked())
        try:
            s.setValue("session/last", json.dumps(session_to_dict(self.model.session())))
        except (ValueError, TypeError):
            pass
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self._closing = True
        self.views.closing = True
        self._slow_timer.stop()
        self.animator.stop()
        self._save_settings()
        self.model.shutdown()
        self.closed.emit()
        super().closeEvent(event)
