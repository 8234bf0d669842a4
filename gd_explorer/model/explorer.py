"""ExplorerModel: the single source of truth the window binds to.

It owns the problem (an objective built from a :class:`ProblemSpec`), the start point,
the runs (one :class:`Descent` each, configured by a :class:`RunSpec`), the stop rules,
the speed and the timeline cursor.  Setters validate, change nothing on error (they raise
``ValueError`` with a readable message), do nothing when the value is unchanged, and emit
``<field>_changed``.  Descents advance on a worker thread; the model polls the worker's
latest snapshot at display rate and emits ``progressed`` (never once per step).
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import weakref
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from gd_explorer.core.engine.descent import Descent, check_optimizer_fits, check_start
from gd_explorer.core.engine.process import EngineProcessError, shared_engine
from gd_explorer.core.io.export import COLUMNS, csv_file_name, write_trajectory_csv
from gd_explorer.core.lab.basins import BasinSettings
from gd_explorer.core.lab.sweep import SweepSettings, momentum_name
from gd_explorer.core.limits import (
    DRAG_PREVIEW_STEPS,
    DRAG_PREVIEW_WORK,
    MAX_GHOSTS,
    MAX_RUNS,
    MAX_STEPS,
    WHATIF_MAX_STEPS,
    WHATIF_MAX_WORK,
    steps_within,
)
from gd_explorer.core.optim.optimizers import OPTIMIZERS
from gd_explorer.core.problems.objectives import Objective
from gd_explorer.core.problems.surface import curve_1d, gradient_field
from gd_explorer.core.session.preview import preview_paths
from gd_explorer.core.session.specs import (
    GhostSpec,
    ProblemSpec,
    RunSpec,
    Session,
    freeze_ghost,
    make_descent,
)
from gd_explorer.model.basins_job import BasinMap, BasinsJob
from gd_explorer.model.curvature import Curvature, SharpnessRun, SharpnessTracker, curvature_at
from gd_explorer.model.export_job import ExportJob
from gd_explorer.model.exporter import ExportResult  # noqa: F401 - importable from here
from gd_explorer.model.landscape_job import LandscapeJob
from gd_explorer.model.net_metrics import DecisionCache, DecisionMap, Metrics, MetricsTracker
from gd_explorer.model.problem_build import build_problem, build_session
from gd_explorer.model.snapshot import MomentumRows, RunSnapshot
from gd_explorer.model.surface_job import (  # noqa: F401 - the constants stay importable here
    HOVER_EXACT_MAX_POINTS,
    MAX_WINDOW_SPANS,
    PATHS_WINDOW_SPANS,
    SLOW_SURFACE,
    SURFACE_RESOLUTION,
    SurfaceJob,
    default_window,
    hover_value,
    paths_window,
    sane_window,
)
from gd_explorer.model.sweep_job import SweepJob
from gd_explorer.model.threads import new_thread
from gd_explorer.model.worker import DescentWorker, Loop, RawSnapshot, engine_mode, raw_snapshot

#: Run colours: Okabe–Ito's, told apart with colour-vision deficiencies, except its white
#: and yellow, which vanished on viridis' bright high values where paths start (Paul Tol's
#: rose and a violet instead); each differs in lightness from both ends of viridis
#: (in this order: the first three runs, the usual race, differ in hue, not only in shade)
PALETTE = ("#D55E00", "#56B4E9", "#CC79A7", "#E69F00", "#009E73", "#7733FF", "#EE6677",
           "#0072B2")
SWITCH_INTERVAL = 0.0005
POLL_MS = 5  # a cheap version check; frames follow the worker's pace (<= ~45 Hz)
#: Pause waits this long for the worker to stop, then takes the descents back anyway
HALT_WAIT_SECONDS = 0.1
#: closing waits this long for the runs to pause before it ends the engine process
SHUTDOWN_WAIT_SECONDS = 0.05
#: then this long for each thread to return (milliseconds); never QThread.terminate()
THREAD_JOIN_MS = 2000


_LIVE_MODELS: weakref.WeakSet = weakref.WeakSet()


def _default_axes(objective: Objective) -> tuple[int, ...]:
    return (0, 1) if objective.dim >= 2 else (0,)


@atexit.register
def _shutdown_live_models() -> None:
    # a script that never closes its window must not die in Qt's "QThread destroyed
    # while running" abort at interpreter exit
    for model in list(_LIVE_MODELS):
        try:
            model.shutdown()
        except RuntimeError:  # the Qt objects are already gone
            pass


def _start_engine() -> None:
    try:
        shared_engine().start()
    except EngineProcessError:  # the runs then advance in the worker thread
        pass


#: a basin map still serves a surface window it covers, unless that is this much narrower
#: (zoomed in so far that the map's cells are coarse)
BASINS_ZOOM = 0.5


def _map_serves(map_window, window) -> bool:
    """Does a basin map over ``map_window`` still answer for the surface ``window``?"""
    (a0, a1), (b0, b1) = map_window
    (x0, x1), (y0, y1) = window
    sx, sy = 0.01 * (a1 - a0), 0.01 * (b1 - b0)  # (rounding of the view's range)
    covers = a0 - sx <= x0 and x1 <= a1 + sx and b0 - sy <= y0 and y1 <= b1 + sy
    return covers and (x1 - x0) >= BASINS_ZOOM * (a1 - a0) and \
        (y1 - y0) >= BASINS_ZOOM * (b1 - b0)


class RunEntry:
    """One run as the model keeps it: its spec, colour and descent."""

    __slots__ = ("run_id", "spec", "color", "descent")

    def __init__(self, run_id: int, spec: RunSpec, color: str, descent: Descent):
        self.run_id, self.spec, self.color, self.descent = run_id, spec, color, descent


class ExplorerModel(QObject):
    """Application state and control; see the module docstring."""

    problem_changed = Signal()
    start_changed = Signal()
    runs_changed = Signal()
    selected_run_changed = Signal(int)
    limits_changed = Signal()
    running_changed = Signal(bool)
    speed_changed = Signal(float)
    cursor_changed = Signal(object)
    surface_axes_changed = Signal()
    surface_changed = Signal()
    surface_progress = Signal(float)
    progressed = Signal()
    failed = Signal(str)
    message = Signal(str)
    engine_note_changed = Signal(str)  # DescentWorker.engine_note_changed, for the status bar
    #: an export started (True) or ended (False)
    exporting_changed = Signal(bool)
    #: fraction of the running export written
    export_progress = Signal(float)
    #: an export ended well: what it wrote (an :class:`ExportResult`)
    export_finished = Signal(object)
    #: the basin map was set, cleared or went stale (:attr:`basins`, :attr:`basins_stale`)
    basins_changed = Signal()
    #: a basin map is being computed (True) or not any more (False)
    basins_busy_changed = Signal(bool)
    #: fraction of the basin map computed
    basins_progress = Signal(float)
    #: a ghost was kept, or ghosts were cleared or dropped (:attr:`ghosts`)
    ghosts_changed = Signal()

    def __init__(self, session: Session | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._shut_down = False
        self._next_id = 1
        self._runs: list[RunEntry] = []
        self._raw: dict[int, RawSnapshot] = {}
        self._momenta = MomentumRows()  # what cycling schedules set, per run
        self._seen_version = -1
        self._running = False
        self._loop: Loop | None = None  # the loop the descents are lent to while running
        self._generation = 0
        self._speed = 0.0
        self._cursor: int | None = None
        self._selected: int | None = None
        self._surface_window = None  # ((x0, x1), (y0, y1)); None: the objective's window
        self._sharpness = SharpnessTracker()  # λmax along the paths, extended as they grow
        self._sharpness_of = None  # (objective, maximize) the tracker's rows belong to
        self._curvature_key = None
        self._curvature: Curvature | None = None
        self._decision = DecisionCache()  # the Decision view's map of the selected run
        self._metrics = MetricsTracker()  # train/test metrics and layer norms per run
        self._ghosts: tuple[GhostSpec, ...] = ()  # frozen paths kept for comparison

        self._worker = DescentWorker()
        self._thread = new_thread("descentThread")
        self._worker.moveToThread(self._thread)
        self._worker.loop_finished.connect(self._on_loop_finished)
        self._worker.failed.connect(self.failed)  # signal to signal, across threads
        self._worker.fell_back.connect(self.message)
        self._worker.engine_note_changed.connect(self.engine_note_changed)
        self._thread.start()

        self._surface_job = SurfaceJob(self)
        self._surface_job.changed.connect(self.surface_changed)  # signal to signal
        self._surface_job.shown_progress.connect(self.surface_progress)
        self._surface_job.failed.connect(self.failed)
        self._surface_job.message.connect(self.message)

        self._export_job = ExportJob(self)
        self._export_job.exporting_changed.connect(self.exporting_changed)  # signal to signal
        self._export_job.progress.connect(self.export_progress)
        self._export_job.finished.connect(self.export_finished)
        self._export_job.message.connect(self.message)
        self._export_job.failed.connect(self.failed)

        self.sweep_job = SweepJob(self)  # the Sweep view's learning-rate sweeps
        self.sweep_job.failed.connect(self.failed)
        self.sweep_job.message.connect(self.message)
        self._basins: BasinMap | None = None
        self._basins_stale = False
        self._basins_pending_stale = False  # something changed while a map was computed
        self._basin_settings = BasinSettings()
        self._basins_job = BasinsJob(self)
        self._basins_job.busy_changed.connect(self.basins_busy_changed)  # signal to signal
        self._basins_job.progress.connect(self.basins_progress)
        self._basins_job.finished.connect(self._on_basins_finished)
        self._basins_job.message.connect(self.message)
        self._basins_job.failed.connect(self.failed)
        self.landscape_job = LandscapeJob(self)  # the Landscape view's planes and line

        _LIVE_MODELS.add(self)
        # The worker is pure Python and holds the GIL; every return of the UI thread from
        # Qt's C++ into a Python slot waits up to one switch interval for it.  At the
        # default 5 ms the event loop stalls for hundreds of ms; 0.5 ms keeps it fluid.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        if engine_mode() == "process":
            # the engine process loads numpy on the other core while the window comes up
            QTimer.singleShot(0, _start_engine)

        if session is None:
            from gd_explorer.core.session.presets import DEFAULT_PRESET, PRESETS

            session = PRESETS[DEFAULT_PRESET].session
        self._problem = session.problem
        self.objective: Objective = session.problem.build()
        self._apply_session_unchecked(session, self.objective)

    # ================================================================== lifetime
    def shutdown(self) -> None:
        """Stop the worker threads and join them (call from closeEvent); idempotent.

        Takes milliseconds even with a stopped engine process: the runs get
        SHUTDOWN_WAIT_SECONDS to pause, then the engine process they use is killed (it
        holds nothing the window needs), which ends the worker's loop at once.
        """
        if self._shut_down:
            return
        self._shut_down = True
        _LIVE_MODELS.discard(self)
        self._timer.stop()
        self._worker.stop()
        if not self._worker.wait_idle(SHUTDOWN_WAIT_SECONDS):
            self._worker.abandon_engine()
        if self._loop is not None:
            self._worker.revoke(self._loop)
            self._loop = None
        self._running = False
        self._surface_job.stop()
        self._export_job.cancel()  # the file being written is removed, never left half
        self.sweep_job.stop()
        self._basins_job.stop()
        self.landscape_job.stop()
        for thread in (self._thread, self._surface_job.thread, self._export_job.thread,
                       self.sweep_job.thread, self._basins_job.thread,
                       self.landscape_job.thread):
            thread.quit()
            if not thread.wait(THREAD_JOIN_MS):  # pragma: no cover - a step of seconds
                # never terminate(): a thread killed inside Python or Qt code can take
                # the process down with it; a step in the window's own process ends
                sys.stderr.write(f"gd-explorer: waiting for {thread.objectName()} to "
                                 "finish a step in progress\n")
                thread.wait()

    # ================================================================== properties
    @property
    def problem(self) -> ProblemSpec:
        return self._problem

    @property
    def views(self) -> frozenset[str]:
        """The view keys that apply to the problem (its kind's, "surface"/"surface3d" from
        2 parameters, "curve" with 1)."""
        views = set(self._problem.views)
        views -= {"curve"} if self.dim >= 2 else {"surface", "surface3d"}
        if self.objective.fit_data() is None:  # nothing to draw a fitted curve over
            views.discard("fit")
        if self.objective.decision_data() is None:  # not a classifier of 2-D inputs
            views.discard("decision")
        if not self.objective.metric_names and self.objective.layers() is None:
            views.discard("metrics")
        return frozenset(views)

    @property
    def surface(self) -> tuple | None:
        """The surface grid ``(xs, ys, z, names)`` (``z`` None while it is computed)."""
        return self._surface_job.surface

    @property
    def start(self) -> np.ndarray:
        return self._start.copy()

    @property
    def names(self) -> tuple[str, ...]:
        return self.objective.names

    @property
    def dim(self) -> int:
        return self.objective.dim

    @property
    def maximize(self) -> bool:
        return self._problem.maximize_for(self.objective)

    @property
    def title(self) -> str:
        """The session's title (a preset's name; empty once the problem changes)."""
        return self._title

    @property
    def description(self) -> str:
        """The session's description (a preset's lesson)."""
        return self._description

    @property
    def runs(self) -> list[RunEntry]:
        return list(self._runs)

    @property
    def running(self) -> bool:
        return self._running

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def cursor(self) -> int | None:
        return self._cursor

    @property
    def selected_run_id(self) -> int | None:
        return self._selected

    @property
    def surface_axes(self) -> tuple[int, ...]:
        return self._surface_axes

    @property
    def equal_aspect(self) -> bool:
        """Whether the surface's two axes share one unit and should be drawn to the same
        scale (a bowl round, −∇f at right angles to the contours): the parameters of a
        function do; a model's weight and bias (or a, b, c) do not."""
        return self.objective.equal_aspect

    @property
    def default_surface_window(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The objective's own window of the two surface parameters (None below 2-D)."""
        return default_window(self.objective, self._surface_axes)

    @property
    def surface_window(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The ranges of the two surface parameters the surface grid covers."""
        return self._surface_window or self.default_surface_window

    def run(self, run_id: int) -> RunEntry:
        """The run with ``run_id`` (KeyError if absent)."""
        for r in self._runs:
            if r.run_id == run_id:
                return r
        raise KeyError(run_id)

    # ================================================================== session
    def session(self) -> Session:
        """The whole configuration as a core Session (for saving)."""
        runs = tuple(replace(r.spec, color=r.color) for r in self._runs)
        lab = {}  # each feature's settings where they differ from its defaults
        if self.sweep_job.settings != SweepSettings():
            lab["sweep"] = self.sweep_job.settings
        if self._basin_settings != BasinSettings():
            lab["basins"] = self._basin_settings
        return Session(problem=self._problem, runs=runs,
                       start=tuple(float(v) for v in self._start), max_steps=self.max_steps,
                       tol=self.tol, loss_tol=self.loss_tol,
                       surface_axes=tuple(self._surface_axes) if self.dim >= 2 else (0, 1),
                       title=self._title, description=self._description, lab=lab,
                       ghosts=self._ghosts)

    def apply_session(self, session: Session) -> None:
        """Replace everything by ``session``; validated first, nothing changes on error."""
        objective = build_session(session)
        self._halt()
        self._apply_session_unchecked(session, objective)
        self.problem_changed.emit()
        self.start_changed.emit()
        self.limits_changed.emit()
        self.surface_axes_changed.emit()
        self.runs_changed.emit()
        self.ghosts_changed.emit()
        self._emit_progress()

    def _apply_session_unchecked(self, session: Session, objective: Objective) -> None:
        self._problem = session.problem
        self.objective = objective
        self._title, self._description = session.title, session.description
        # (a session's ghosts were checked against its problem when it was read)
        self._ghosts = tuple(g for g in session.ghosts if g.dim == objective.dim)
        if "sweep" in session.lab:
            self.sweep_job.set_settings(session.lab["sweep"])
        self._start = session.start_for(objective)
        self.max_steps, self.tol, self.loss_tol = session.max_steps, session.tol, session.loss_tol
        axes = tuple(session.surface_axes)
        if objective.dim >= 2 and len(set(axes)) == 2 and all(0 <= a < objective.dim for a in axes):
            self._surface_axes = axes
        else:
            self._surface_axes = _default_axes(objective)
        self._surface_window = None
        self._basin_settings = session.lab.get("basins", BasinSettings())
        self._clear_basins()
        self._runs = []
        for spec in session.runs:
            self._runs.append(self._make_entry(spec, spec.color or None))
        self._selected = self._runs[0].run_id if self._runs else None
        self._cursor = None
        self._refresh_raw()
        self._recompute_surface()

    # ================================================================== problem
    def set_problem(self, spec: ProblemSpec) -> None:
        """Build the objective for ``spec``; on success reset start, runs and surface."""
        if spec == self._problem:
            return
        # raises ValueError with a message; nothing changed yet
        objective = build_problem(spec, (entry.spec for entry in self._runs))
        self._halt()
        self._problem = spec
        self.objective = objective
        self._title = self._description = ""  # a preset's text no longer applies
        self._start = np.array(objective.start, dtype=np.float64)
        self._surface_axes = _default_axes(objective)
        self._surface_window = None
        self._clear_basins()
        self._rebuild_descents()
        self._recompute_surface()
        dropped = self._drop_ghosts_of_other_dim()
        self.problem_changed.emit()
        self.start_changed.emit()
        self.surface_axes_changed.emit()
        self.runs_changed.emit()
        if dropped:
            self.ghosts_changed.emit()
            self.message.emit(dropped)
        self._emit_progress()

    def set_maximize(self, maximize: bool | None) -> None:
        """Gradient ascent on/off (None: the objective's default)."""
        if maximize == self._problem.maximize:
            return
        self.set_problem(replace(self._problem, maximize=maximize))

    def set_surface_axes(self, axes: tuple[int, int]) -> None:
        """Choose which two parameters the surface shows (3-parameter models)."""
        axes = tuple(int(a) for a in axes)
        if axes == self._surface_axes:
            return
        if len(axes) != 2 or axes[0] == axes[1] or not all(0 <= a < self.dim for a in axes):
            raise ValueError(f"choose two different parameters out of {', '.join(self.names)}")
        self._surface_axes = axes
        self._surface_window = None
        self._clear_basins()
        self._recompute_surface()
        self.surface_axes_changed.emit()

    # ================================================================== start
    def set_start(self, point) -> None:
        """Set the start point; every run restarts from there."""
        p = np.asarray(point, dtype=np.float64).reshape(-1)
        if p.size != self.dim:
            raise ValueError(f"the start needs {self.dim} values ({', '.join(self.names)})")
        if not np.all(np.isfinite(p)):
            raise ValueError("the start must be finite")
        if np.array_equal(p, self._start):
            return
        check_start(self.objective, p)  # refused before anything changes
        self._halt()
        self._start = p
        self._rebuild_descents()
        if self.dim > 2:  # the other parameters of every start of a basin map changed
            self._stale_basins()
            self._recompute_surface()
        self.start_changed.emit()
        self._emit_progress()

    def _start_at(self, x: float, y: float | None = None) -> np.ndarray:
        """The start moved to ``(x, y)`` on the surface's axes (other parameters kept)."""
        p = self._start.copy()
        axes = self._surface_axes
        p[axes[0]] = x
        if len(axes) > 1 and y is not None:
            p[axes[1]] = y
        return p

    def set_start_2d(self, x: float, y: float | None = None) -> None:
        """Set the start from a click on the surface (other parameters unchanged)."""
        self.set_start(self._start_at(x, y))

    def drop_start_2d(self, x: float, y: float | None = None, was_running: bool = False) -> None:
        """The dragged ★ is let go at ``(x, y)``: the start moves there and every run
        restarts from it, advanced at once to the steps the drag previewed (so the path
        drawn does not jump back to the start). Then the runs go on to the end when they
        were running as the drag began (``was_running``), or had all finished or not
        moved: a run paused part-way stays paused at the previewed step, and the next Run
        continues from there. Raises ValueError for a start the engine refuses."""
        before = [(r.descent.t, r.descent.finished) for r in self._runs]
        p = self._start_at(x, y)
        if np.array_equal(p, self._start):
            self.reset()  # let go where it was: set_start would keep the runs as they are
        else:
            self.set_start(p)
        n = self.drag_preview_steps(sum(r.spec.visible for r in self._runs))
        for r in self._runs:
            r.descent.advance(n)
        self._refresh_raw()
        self._refresh_slice_surface()
        self._emit_progress()
        if was_running or all(done for _, done in before) or all(t == 0 for t, _ in before):
            self.start_running()
        elif self._runs:
            self.message.emit(f"start moved; the runs are paused at step {n:,}: "
                              "Run continues from there")

    def drag_preview_steps(self, runs: int) -> int:
        """Steps a drag previews per run: ``DRAG_PREVIEW_STEPS``, fewer where the objective's
        evaluations cost more than ``DRAG_PREVIEW_WORK`` allows per tick, at least 1."""
        cost = max(1, runs) * max(1, self.objective.evaluation_cost)
        return max(1, min(DRAG_PREVIEW_STEPS, self.max_steps,
                          steps_within(DRAG_PREVIEW_WORK, cost)))

    def preview_start_2d(self, x: float, y: float | None = None) -> dict[int, np.ndarray]:
        """Each visible run's first ``DRAG_PREVIEW_STEPS`` rows from the start moved to
        ``(x, y)`` on the surface's axes, computed now with the engine; the model's start
        and runs do not change (:meth:`set_start_2d` on release does that).

        Returns ``{run_id: params (n, d)}``; raises ValueError for a start the engine
        refuses (non-finite, beyond the divergence limit).
        """
        p = self._start_at(x, y)
        if not np.all(np.isfinite(p)):
            raise ValueError("the start must be finite")
        check_start(self.objective, p)
        shown = [r for r in self._runs if r.spec.visible]
        paths = preview_paths(self.objective, self._problem, [r.spec for r in shown], p,
                              steps=self.drag_preview_steps(len(shown)),
                              max_steps=self.max_steps, tol=self.tol, loss_tol=self.loss_tol)
        return {r.run_id: path for r, path in zip(shown, paths)}

    # ================================================================== runs
    def _make_entry(self, spec: RunSpec, color: str | None) -> RunEntry:
        used = {r.color for r in self._runs}
        if not color:
            color = next((c for c in PALETTE if c not in used), PALETTE[len(self._runs) % 8])
        entry = RunEntry(self._next_id, spec, color, self._new_descent(spec))
        self._next_id += 1
        return entry

    def _new_descent(self, spec: RunSpec) -> Descent:
        return make_descent(self.objective, self._problem, spec, self._start,
                            max_steps=self.max_steps, tol=self.tol, loss_tol=self.loss_tol)

    def add_run(self, spec: RunSpec | None = None) -> int:
        """Add a run (default: the next optimizer at its default rate); returns its id."""
        if len(self._runs) >= MAX_RUNS:
            raise ValueError(f"at most {MAX_RUNS} runs")
        if spec is None:
            used = {r.spec.optimizer for r in self._runs}
            name = next((n for n in OPTIMIZERS if n not in used), "sgd")  # registry order
            spec = RunSpec(optimizer=name, lr=self.objective.default_lr(name))
        check_optimizer_fits(self.objective, spec.build(self.maximize)[0],
                             self._problem.kind_entry.batch_size(self._problem))
        self._halt()
        entry = self._make_entry(spec, spec.color or None)
        self._runs.append(entry)
        self._selected = entry.run_id
        self._refresh_raw()
        self.runs_changed.emit()
        self.selected_run_changed.emit(entry.run_id)
        self._emit_progress()
        return entry.run_id

    # ================================================================== ghosts
    @property
    def ghosts(self) -> tuple[GhostSpec, ...]:
        """The frozen paths kept for comparison, oldest first (the same tuple until
        ``ghosts_changed``)."""
        return self._ghosts

    def keep_ghost(self, run_id: int | None = None) -> GhostSpec:
        """Freeze a run's recorded path (default: the selected run's), its loss and its
        label, so that the views keep drawing it, dimmed, after the problem or the run
        changes.  With :data:`MAX_GHOSTS` ghosts already, the oldest is dropped.

        Raises
        ------
        ValueError
            Without a run, or when the run has no finite row yet.
        """
        run_id = self._selected if run_id is None else run_id
        if run_id is None:
            raise ValueError("select a run to keep as a ghost")
        self.run(run_id)
        self._halt()  # its rows as they are now
        snap = next(s for s in self.snapshots() if s.run_id == run_id)
        if snap.n == 0:
            raise ValueError("the run has no step yet to keep as a ghost")
        label = f"ghost: {snap.label} (before)"
        taken = {g.label for g in self._ghosts}
        k = 2
        while label in taken:
            label = f"ghost: {snap.label} (before, {k})"
            k += 1
        ghost = freeze_ghost(label, snap.color, snap.params, snap.loss)
        ghosts = self._ghosts + (ghost,)
        dropped = ghosts[:-MAX_GHOSTS]
        self._ghosts = ghosts[-MAX_GHOSTS:]
        self.ghosts_changed.emit()
        text = f"kept {ghost.label} ({len(ghost.steps):,} points)"
        if dropped:
            text += f"; dropped the oldest, {dropped[0].label} (at most {MAX_GHOSTS} ghosts)"
        self.message.emit(text)
        self._emit_progress()
        return ghost

    def clear_ghosts(self) -> None:
        """Forget every ghost."""
        if not self._ghosts:
            return
        self._ghosts = ()
        self.ghosts_changed.emit()
        self._emit_progress()

    def _drop_ghosts_of_other_dim(self) -> str:
        """Drop the ghosts whose rows do not have the problem's parameter count; returns
        the status message ("" when none was dropped)."""
        keep = tuple(g for g in self._ghosts if g.dim == self.dim)
        gone = len(self._ghosts) - len(keep)
        if not gone:
            return ""
        dims = sorted({g.dim for g in self._ghosts if g.dim != self.dim})
        self._ghosts = keep
        had = " or ".join(str(d) for d in dims)
        return (f"{gone} ghost{'s' * (gone != 1)} dropped: {'they' if gone != 1 else 'it'} "
                f"had {had} parameter{'s' * (dims != [1])}, this problem has {self.dim}")

    # ================================================================== sweeps
    def start_sweep(self) -> int:
        """Sweep the selected run's optimizer (its hyperparameters, the rate swept) from the
        start, with the sweep job's settings, off the UI thread; returns the job id.

        Raises ``ValueError`` (one line) when there is no run or the sweep cannot run.
        """
        if self._selected is None:
            raise ValueError("select a run to sweep")
        entry = self.run(self._selected)
        optimizer, _schedule = entry.spec.build(self.maximize)
        return self.sweep_job.start(self.objective, optimizer, self._start,
                                    batch_size=self._problem.kind_entry.batch_size(self._problem),
                                    seed=self._problem.seed, label=entry.spec.display_label())

    def start_landscape(self, mode: str, seed: int = 0, resolution: int = 51) -> int:
        """The loss landscape (a mode of :data:`~gd_explorer.core.lab.landscape.LANDSCAPE_MODES`)
        around the selected run's point at the timeline cursor, with its path up to there,
        off the UI thread; returns the job id.  ``ValueError`` without a run."""
        snap = self.selected_snapshot()
        if snap is None or snap.n == 0:
            raise ValueError("select a run: the landscape is drawn around its point")
        row = snap.index(self._cursor)
        return self.landscape_job.start(self.objective, mode, snap.params[:row + 1],
                                        seed=seed, resolution=resolution, run_id=snap.run_id,
                                        label=snap.label)

    def add_run_at_rate(self, lr: float, momentum: float | None = None) -> int:
        """Add a copy of the swept run (the last sweep's optimizer and hyperparameters) at
        rate ``lr`` (and ``momentum``, beta1 for the Adam family); returns its id."""
        last = self.sweep_job.last
        if last is None:
            raise ValueError("no sweep to take a rate from")
        opt = last.request.optimizer
        hyper = {k: v for k, v in vars(opt.hyper).items()}
        if momentum is not None:
            name = momentum_name(opt)
            if name == "betas":
                hyper["betas"] = (float(momentum), *hyper["betas"][1:])
            elif name == "momentum":
                hyper["momentum"] = float(momentum)
        return self.add_run(RunSpec(optimizer=opt.name, lr=float(lr), hyper=hyper))

    def remove_run(self, run_id: int) -> None:
        """Remove a run (the last one cannot be removed)."""
        if len(self._runs) <= 1:
            raise ValueError("keep at least one run")
        entry = self.run(run_id)
        self._halt()
        self._runs.remove(entry)
        self._raw.pop(run_id, None)
        if self._selected == run_id:
            self._selected = self._runs[0].run_id
            self._stale_basins()
            self.selected_run_changed.emit(self._selected)
        self.runs_changed.emit()
        self._emit_progress()

    def update_run(self, run_id: int, spec: RunSpec) -> None:
        """Change a run's optimizer settings.

        A run that has not moved yet simply restarts with the new settings; so does the
        paused selected run of at most ``WHATIF_MAX_STEPS`` steps (fewer where its
        objective costs more, ``WHATIF_MAX_WORK``), advanced at once to the
        step it had reached (a what-if of its whole path). Otherwise the settings apply
        from the next step. Either way the status bar says which.
        """
        entry = self.run(run_id)
        if spec == entry.spec:
            return
        optimizer, schedule = spec.build(self.maximize)  # validate before touching anything
        # the new optimizer must suit the problem too (Gauss–Newton needs a fit)
        check_optimizer_fits(self.objective, optimizer, self._problem.kind_entry.batch_size(
            self._problem))
        was_running = self._running
        self._halt()
        entry.spec = spec
        if run_id == self._selected:  # the basin map was the selected run's optimizer's
            self._stale_basins()
        steps = entry.descent.t
        whatif_steps = min(WHATIF_MAX_STEPS,
                           steps_within(WHATIF_MAX_WORK, self.objective.evaluation_cost))
        if steps == 0:
            entry.descent = self._new_descent(spec)
        elif not was_running and run_id == self._selected and steps <= whatif_steps:
            # what-if: the paused selected run, rebuilt from its start with the new
            # settings and advanced as far as it had gone (the next Run continues)
            entry.descent = self._new_descent(spec)
            entry.descent.advance(steps)
            if self._cursor is not None:  # the rows it pointed at changed
                self._cursor = None
                self.cursor_changed.emit(None)
            self._refresh_slice_surface()
            self.message.emit(f"what-if: {spec.display_label()} recomputed from step 0 "
                              f"for {steps:,} steps")
        else:
            entry.descent.replace_optimizer(optimizer, schedule)
            why = "running" if was_running else (
                "not the selected run" if run_id != self._selected
                else f"longer than {whatif_steps:,} steps")
            self.message.emit(f"{spec.display_label()}: new settings apply from step "
                              f"{steps + 1:,} ({why})")
        self._refresh_raw()
        self.runs_changed.emit()
        self._emit_progress()
        if was_running:
            self.start_running()

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        """Show or hide a run in every view."""
        entry = self.run(run_id)
        if entry.spec.visible == bool(visible):
            return
        entry.spec = replace(entry.spec, visible=bool(visible))
        self.runs_changed.emit()
        self._emit_progress()

    def select_run(self, run_id: int) -> None:
        """Make ``run_id`` the selected run (step log, slice, arrows)."""
        self.run(run_id)
        if run_id == self._selected:
            return
        self._selected = run_id
        self._stale_basins()
        self.selected_run_changed.emit(run_id)
        if not self._running:
            self._refresh_slice_surface()
        self._emit_progress()

    # ================================================================== limits
    def set_limits(self, max_steps: int | None = None, tol: float | None = None,
                   loss_tol: float | None = None) -> None:
        """Change the stop rules (max steps, gradient-norm and loss-change tolerances)."""
        m = self.max_steps if max_steps is None else max_steps
        t = self.tol if tol is None else tol
        lt = self.loss_tol if loss_tol is None else loss_tol
        if isinstance(m, bool) or int(m) != m or not 0 <= m <= MAX_STEPS:
            raise ValueError(f"max steps must be a whole number from 0 to {MAX_STEPS:,}, got {m}")
        for name, v in (("tolerance", t), ("loss tolerance", lt)):
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be zero or positive, got {v}")
        if (int(m), float(t), float(lt)) == (self.max_steps, self.tol, self.loss_tol):
            return
        was_running = self._running
        self._halt()
        if float(t) != self.tol:  # the basin map's stop rule
            self._stale_basins()
        self.max_steps, self.tol, self.loss_tol = int(m), float(t), float(lt)
        for r in self._runs:
            r.descent.set_max_steps(self.max_steps)
            r.descent.set_tolerances(self.tol, self.loss_tol)
        self._refresh_raw()
        self.limits_changed.emit()
        self._emit_progress()
        if was_running:
            self.start_running()

    # ================================================================== control
    def step(self) -> int:
        """One update of every active run (pauses first if running). Returns runs advanced."""
        self._halt()
        moved = 0
        try:
            for r in self._runs:
                moved += r.descent.advance(1)
        except Exception as exc:  # an objective raising is a bug, but must not kill the UI
            self.failed.emit(f"step failed: {exc}")
        self._cursor = None
        self._refresh_raw()
        self._refresh_slice_surface()
        self.cursor_changed.emit(None)
        self._emit_progress()
        if moved == 0:
            self.message.emit("every run has stopped: reset, or raise max steps")
        return moved

    def start_running(self) -> None:
        """Run/resume every active run on the worker thread."""
        if self._running:
            return
        if all(r.descent.finished for r in self._runs):
            self.message.emit("every run has stopped: reset, or raise max steps")
            return
        self._worker.speed = self._speed
        self._generation += 1
        # the descents are the loop's until _halt (or the loop's end) revokes it
        self._loop = self._worker.begin(self._generation,
                                        [(r.run_id, r.descent) for r in self._runs],
                                        self.objective)
        self._running = True
        self._cursor = None
        self.cursor_changed.emit(None)
        self._timer.start()
        self.running_changed.emit(True)

    def pause(self) -> None:
        """Pause the runs; returns within ~0.1 s whatever the worker is doing."""
        if not self._running:
            return
        self._halt()

    def toggle_running(self) -> None:
        """Run if paused, pause if running."""
        if self._running:
            self.pause()
        else:
            self.start_running()

    def reset(self) -> None:
        """Every run back to the start, keeping its settings."""
        self._halt()
        self._rebuild_descents()
        self._refresh_slice_surface()
        self._cursor = None
        self.cursor_changed.emit(None)
        self._emit_progress()

    def rewind_run(self, run_id: int | None = None) -> None:
        """Restart one run (default: the selected one) from the start with its settings
        and the problem's shuffling seed: a mini-batch run draws the same batches in the
        same order, so its path repeats bit for bit; the other runs stay where they are.
        A run that was running goes on running."""
        run_id = self._selected if run_id is None else run_id
        if run_id is None:
            raise ValueError("select a run to rewind")
        entry = self.run(run_id)
        was_running = self._running
        self._halt()
        entry.descent = self._new_descent(entry.spec)
        self._refresh_raw()
        if self._cursor is not None:  # the rows it pointed at are gone
            self._cursor = None
            self.cursor_changed.emit(None)
        self._refresh_slice_surface()
        batch = self._problem.kind_entry.batch_size(self._problem)
        order = f" (the same mini-batches of {batch}, seed {self._problem.seed})" \
            if batch else ""
        self.message.emit(f"rewound {entry.spec.display_label()} to its start{order}")
        self._emit_progress()
        if was_running:
            self.start_running()

    def set_speed(self, steps_per_second: float) -> None:
        """Steps per second per run; 0 means as fast as possible."""
        v = float(steps_per_second)
        if not (math.isfinite(v) and v >= 0):
            raise ValueError("speed must be zero (max) or positive")
        if v == self._speed:
            return
        self._speed = v
        self._worker.set_speed(v)  # read by the worker between rounds
        self.speed_changed.emit(v)

    def set_cursor(self, cursor: int | None) -> None:
        """Show step ``cursor`` in every view (None: follow the latest step)."""
        if cursor is not None:
            cursor = max(0, int(cursor))
            if cursor >= self.max_rows() - 1:
                cursor = None
        if cursor == self._cursor:
            return
        self._cursor = cursor
        self.cursor_changed.emit(cursor)
        self.progressed.emit()

    def max_rows(self) -> int:
        """The longest run's number of recorded rows."""
        return max((raw.loss.size for raw in self._raw.values()), default=0)

    # ================================================================== worker plumbing
    def _halt(self) -> None:
        """Pause the runs and take the descents back; returns within HALT_WAIT_SECONDS.

        A pause normally ends the loop within a chunk (~10 ms, or a round trip to the
        engine process) and its last rows are kept.  If it has not ended by then (a
        stopped engine process, a step that takes seconds) it is revoked all the same:
        it drops whatever it still computes, so the descents are this thread's at once
        and stay as they were after the last absorbed frame (the worker's docstring has
        the whole rule).  A stuck engine process is then found by the worker (silence,
        or no answer to the pause) and reported through ``failed``.
        """
        if not self._running:
            return
        loop = self._loop
        self._worker.request_pause()
        loop.done.wait(HALT_WAIT_SECONDS)
        self._worker.revoke(loop)  # from here on the worker never touches the descents
        self._loop = None
        self._running = False
        self._timer.stop()
        self._poll()
        self._refresh_slice_surface()
        self.running_changed.emit(False)

    @Slot(int)
    def _on_loop_finished(self, generation: int) -> None:
        if self._running and generation == self._generation:
            self._worker.revoke(self._loop)  # it has ended; the descents are ours again
            self._loop = None
            self._running = False
            self._timer.stop()
            self._poll()
            self._refresh_slice_surface()
            self.running_changed.emit(False)
            stopped = [r for r in self._runs if r.descent.finished]
            if len(stopped) == len(self._runs):
                self.message.emit("all runs finished")

    @Slot()
    def _poll(self) -> None:
        version, snaps = self._worker.latest()
        if version == self._seen_version:
            return
        self._seen_version = version
        ids = {r.run_id for r in self._runs}
        for raw in snaps:
            if raw.run_id in ids:
                self._raw[raw.run_id] = raw
        self.progressed.emit()
        if not self._worker.used_process:
            # a worker advancing runs itself waits for this frame to be drawn: the zero
            # timer fires once the paint events this frame posted are handled
            QTimer.singleShot(0, self._worker.frame_done.set)

    def _refresh_slice_surface(self) -> None:
        """With 3+ parameters the surface is a slice through the selected run's point:
        redraw it whenever the runs stop moving (not at every frame: it may be costly)."""
        if self.dim > 2:
            self._recompute_surface()

    def _refresh_raw(self) -> None:
        self._raw = {r.run_id: raw_snapshot(r.run_id, r.descent) for r in self._runs}
        self._momenta.forget(self._raw)

    def _emit_progress(self) -> None:
        self.progressed.emit()

    def _rebuild_descents(self) -> None:
        for r in self._runs:
            r.descent = self._new_descent(r.spec)
        self._refresh_raw()
        if self._cursor is not None:  # the rows it pointed at are gone
            self._cursor = None
            self.cursor_changed.emit(None)

    # ================================================================== snapshots
    def _snapshot(self, r: RunEntry) -> RunSnapshot | None:
        raw = self._raw.get(r.run_id)
        if raw is None:
            return None
        opt = r.descent.optimizer
        hyper = opt.hyperparameters()
        momentum = self._momenta.rows(r.run_id, r.descent.schedule, len(raw.lr))
        name = ""
        if momentum is not None:  # the step log shows what the next update uses
            name = "beta1" if opt.momentum_hyper() == "betas" else "momentum"
            if len(momentum):
                m = float(momentum[-1])
                if name == "beta1":
                    hyper["betas"] = (m, *hyper["betas"][1:])
                else:
                    hyper["momentum"] = m
        return RunSnapshot(
            r.run_id, r.spec.display_label(), r.color, r.spec.visible,
            raw.params, raw.loss, raw.grad, raw.lr, raw.status, raw.message, raw.state,
            raw.batch, opt.title, hyper, momentum, name, optimizer=opt.name,
        )

    def snapshots(self) -> list[RunSnapshot]:
        """The runs as the views draw them, in run order."""
        snaps = (self._snapshot(r) for r in self._runs)
        return [s for s in snaps if s is not None]

    def status_text(self, snap: RunSnapshot) -> str:
        """How a run stands, in words: "ready", "running", "paused at step 40", or how it
        ended ("converged after 2331 steps", "diverged at step 31")."""
        if snap.status != "running":
            return snap.message
        steps = max(snap.n - 1, 0)
        if self._running:
            return f"running, step {steps:,}"
        return "ready" if steps == 0 else f"paused at step {steps:,}"

    def selected_snapshot(self) -> RunSnapshot | None:
        """The selected run's snapshot."""
        for r in self._runs:
            if r.run_id == self._selected:
                return self._snapshot(r)
        return None

    # ================================================================== curvature
    def curvature(self) -> Curvature | None:
        """The curvature at the selected run's point at the timeline cursor (eigenvalues,
        eigenvectors, κ, its optimizer's stability edge), or None without a row.  Cached
        for the row: the step log and the surface ask in the same tick."""
        snap = self.selected_snapshot()
        if snap is None or snap.n == 0:
            return None
        row = snap.index(self._cursor)
        key = (id(self.objective), snap.run_id, row, snap.n, tuple(self._surface_axes),
               self.maximize, snap.optimizer, repr(snap.hyper), float(snap.lr[row]))
        if key != self._curvature_key:
            self._curvature = curvature_at(self.objective, snap, row, self._surface_axes,
                                           self.maximize)
            self._curvature_key = key
        return self._curvature

    def sharpness(self) -> list[SharpnessRun]:
        """λmax(H(p_k)) against step for every run (decimated; only new rows computed)."""
        owner = (self.objective, self.maximize)
        if self._sharpness_of is None or owner[0] is not self._sharpness_of[0] \
                or owner[1] != self._sharpness_of[1]:
            self._sharpness.reset()
            self._sharpness_of = owner
        return self._sharpness.update(self.objective, self.snapshots(), self.maximize)

    def decision(self) -> DecisionMap | None:
        """The selected run's decision function at the timeline cursor (a classifier of
        2-D inputs; None otherwise or without a row); kept for that run and row."""
        snap = self.selected_snapshot()
        if snap is None:
            return None
        return self._decision.get(self.objective, snap, snap.index(self._cursor))

    def metrics(self) -> Metrics:
        """Train/test loss and accuracy and per-layer norms along every run (decimated;
        only new rows computed)."""
        return self._metrics.update(self.objective, self.snapshots(), self._selected,
                                    self._cursor)

    # ================================================================== derived data
    def fixed_point(self) -> np.ndarray:
        """Values of the parameters the surface does not show: the selected run's current
        point when it has moved, else the start."""
        snap = self.selected_snapshot()
        if snap is not None and snap.n > 0:
            return np.array(snap.params[snap.index(self._cursor)], dtype=np.float64)
        return self._start.copy()

    def set_surface_window(self, window) -> None:
        """Compute the surface over ``window = ((x0, x1), (y0, y1))`` of the two surface
        parameters (None: the objective's own window), e.g. the range the user zoomed or
        panned to. A window beyond ``MAX_WINDOW_SPANS`` default spans is cut to that.
        Fast surfaces are computed at once, slow ones on the surface thread."""
        if self.dim < 2:
            return
        if window is not None:
            window = self._sane_window(window)
            if window == self.default_surface_window:
                window = None
        if window == self._surface_window:
            return
        self._surface_window = window
        if self._basins is not None and not _map_serves(self._basins.result.window,
                                                        self.surface_window):
            self._stale_basins()
        elif self._basins_job.busy:
            self._basins_pending_stale = True
        self._recompute_surface()

    def _sane_window(self, window) -> tuple[tuple[float, float], tuple[float, float]]:
        return sane_window(window, self.default_surface_window)

    def paths_window(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """A window around the visible runs' finite paths and the start, on the surface
        parameters; points beyond ``PATHS_WINDOW_SPANS`` default spans (a runaway) are
        left out. None below 2-D."""
        if self.dim < 2:
            return None
        a, b = self._surface_axes
        pts = [self._start[[a, b]][None, :]]
        for snap in self.snapshots():
            if snap.visible and snap.n:
                pts.append(np.asarray(snap.params[:, [a, b]], dtype=np.float64))
        return paths_window(self.default_surface_window, pts)

    def fit_surface_to_paths(self) -> None:
        """Show the surface around the visible runs' paths (:meth:`paths_window`)."""
        window = self.paths_window()
        if window is not None:
            self.set_surface_window(window)

    def _recompute_surface(self) -> None:
        fixed = self.fixed_point() if self._raw else self._start.copy()
        self._surface_job.compute(self.objective, self._surface_axes, self.surface_window,
                                  fixed)

    def cancel_surface(self) -> None:
        """Stop a slow surface computation."""
        self._surface_job.cancel()

    def curve(self, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
        """For 1-parameter problems: xs over the window and f(xs)."""
        lo, hi = self.objective.window[0]
        xs = np.linspace(lo, hi, n)
        return xs, curve_1d(self.objective, 0, self._start, xs)

    def slice_along(self, index: int, n: int = 200) -> tuple[np.ndarray, np.ndarray, tuple]:
        """Loss along parameter ``index`` through the selected run's point at the cursor."""
        point = self.fixed_point()
        lo, hi = self.objective.window[index]
        span = hi - lo
        lo, hi = min(lo, point[index] - 0.1 * span), max(hi, point[index] + 0.1 * span)
        xs = np.linspace(lo, hi, n)
        values = curve_1d(self.objective, index, point, xs)
        f0 = float(self.objective.value(point))
        return xs, values, (float(point[index]), f0)

    def arrow_field(self, n: int = 18):
        """−∇f on a coarse grid over the surface window (what the surface shows): xs, ys, U, V."""
        if self.dim < 2:
            return None
        (x0, x1), (y0, y1) = self.surface_window
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        gx, gy = gradient_field(self.objective, self._surface_axes, self.fixed_point(), xs, ys)
        sign = 1.0 if self.maximize else -1.0
        return xs, ys, sign * gx, sign * gy

    def value_at(self, x: float, y: float | None = None) -> float | None:
        """f at a point of the surface (other parameters at the fixed point).

        When one evaluation is a pass over many samples, too slow for mouse moves, the
        nearest value of the computed surface grid is returned (None while it is being
        computed): :func:`~gd_explorer.model.surface_job.hover_value`.
        """
        return hover_value(self.objective, self._surface_job, self.fixed_point(),
                           self._surface_axes, x, y)

    # ================================================================== export
    def export_run_csv(self, run_id: int, path: str, columns: str = "all") -> int:
        """Write one run's trajectory CSV now, on this thread (scripts); returns the rows.

        The window exports with :meth:`export_runs` instead (off the UI thread).
        """
        self._halt()
        return write_trajectory_csv(path, self.run(run_id).descent.trajectory(copy=False),
                                    columns=columns)

    def export_files(self, run_ids=None, folder: str | None = None) -> list[tuple[int, str]]:
        """``(run_id, path)`` for "Export all": every run (or ``run_ids``) into ``folder``
        as ``run<n>-<label>.csv`` (n: its place in the run list)."""
        if folder is None or not os.path.isdir(folder):
            raise ValueError(f"{folder} is not a folder")
        wanted = None if run_ids is None else set(run_ids)
        return [(r.run_id, os.path.join(folder, csv_file_name(i, r.spec.display_label())))
                for i, r in enumerate(self._runs, 1) if wanted is None or r.run_id in wanted]

    def export_all_csv(self, folder: str, columns: str = "all") -> list[str]:
        """Write every run's trajectory into ``folder`` now, on this thread (scripts)."""
        files = self.export_files(folder=folder)
        self._halt()
        for run_id, path in files:
            write_trajectory_csv(path, self.run(run_id).descent.trajectory(copy=False),
                                 columns=columns)
        return [path for _, path in files]

    @property
    def exporting(self) -> bool:
        """True while an export is being written."""
        return self._export_job.exporting

    def export_runs(self, files: list[tuple[int, str]], columns: str = "all") -> int:
        """Write ``(run_id, path)`` trajectory CSVs off the UI thread; returns the job id.

        ``columns``: ``"all"`` (parameters and gradients) or ``"scalar"`` (step, loss and
        norms, lr: see :func:`~gd_explorer.core.io.export.csv_header`).

        Pauses the runs first (the file holds what the runs reached). Progress arrives as
        ``export_progress``; the end as ``export_finished`` (an :class:`ExportResult`),
        ``message`` (cancelled) or ``failed``; ``exporting_changed`` brackets it all.

        Raises
        ------
        ValueError
            While another export is being written, or for an unknown run or columns.
        """
        if columns not in COLUMNS:
            raise ValueError(f"columns must be one of {', '.join(COLUMNS)}, got {columns!r}")
        if self._export_job.exporting:
            raise ValueError("an export is being written: wait for it or cancel it")
        try:
            trajs = [(path, self.run(run_id)) for run_id, path in files]
        except KeyError as exc:
            raise ValueError(f"there is no run {exc.args[0]}") from None
        self._halt()
        # views of the recorded rows: recording only appends, so they stay as they are
        # while the runs go on; nothing is copied
        return self._export_job.start(
            ((path, entry.descent.trajectory(copy=False)) for path, entry in trajs), columns)

    def cancel_export(self) -> None:
        """Stop the export being written (its file is not kept)."""
        self._export_job.cancel()

    # ================================================================== basins
    @property
    def basins(self) -> BasinMap | None:
        """The last basin map computed (its result and colours), None when there is none
        for this problem and these surface axes."""
        return self._basins

    @property
    def basins_stale(self) -> bool:
        """The map was computed with another optimizer, window, tolerance or start."""
        return self._basins_stale

    @property
    def basins_busy(self) -> bool:
        """True while a basin map is being computed."""
        return self._basins_job.busy

    @property
    def basin_settings(self) -> BasinSettings:
        """Grid points per axis and steps per start (remembered by the session)."""
        return self._basin_settings

    def set_basin_settings(self, settings: BasinSettings) -> None:
        """The grid and steps the next basin map uses (saved with the session)."""
        if not isinstance(settings, BasinSettings):
            raise ValueError(f"basin settings are a BasinSettings, got {settings!r}")
        self._basin_settings = settings

    def compute_basins(self, settings: BasinSettings | None = None) -> int:
        """Compute the basins of attraction over the surface window off the UI thread, with
        the selected run's optimizer, hyperparameters and schedule, the session's tolerance
        and ``settings`` (default: the current ones, which it replaces).  Returns the job id;
        progress as ``basins_progress``, the end as ``basins_changed``, ``message``
        (cancelled) or ``failed``.

        Raises
        ------
        ValueError
            Below two parameters, or for a schedule that follows one run's loss.
        """
        settings = self._basin_settings if settings is None else settings
        if self.dim < 2:
            raise ValueError("basins of attraction need a surface (two parameters or more)")
        entry = self.run(self._selected)
        optimizer, schedule = entry.spec.build(self.maximize)
        if schedule.follows_loss:
            raise ValueError(f"schedule {schedule.name!r} follows one run's loss: it cannot "
                             "drive a grid of starts (choose another for the selected run)")
        self._basin_settings = settings
        self._basins_pending_stale = False
        kind = self._problem.kind_entry
        return self._basins_job.start(
            objective=self.objective, optimizer=optimizer, schedule=schedule,
            fixed=self._start.copy(), axes=tuple(self._surface_axes),
            window=self.surface_window, grid=settings.grid, steps=settings.steps,
            tol=self.tol, batch_size=kind.batch_size(self._problem), seed=self._problem.seed)

    def cancel_basins(self) -> None:
        """Stop the basin map being computed (the map shown stays as it was)."""
        self._basins_job.cancel()

    def _clear_basins(self) -> None:
        """A new problem or new axes: no map applies; one being computed is dropped."""
        self._basins_job.cancel(text="")
        if self._basins is not None:
            self._basins = None
            self._basins_stale = False
            self.basins_changed.emit()

    def _stale_basins(self) -> None:
        if self._basins_job.busy:
            self._basins_pending_stale = True
        if self._basins is not None and not self._basins_stale:
            self._basins_stale = True
            self.basins_changed.emit()

    @Slot(object)
    def _on_basins_finished(self, basin_map: BasinMap) -> None:
        self._basins = basin_map
        self._basins_stale = self._basins_pending_stale
        self._basins_pending_stale = False
        self.basins_changed.emit()
        r = basin_map.result
        self.message.emit(f"basins of attraction: {len(r.minima)} basin"
                          f"{'s' * (len(r.minima) != 1)} over {r.label.size:,} starts")
