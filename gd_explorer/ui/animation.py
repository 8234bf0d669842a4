"""File ▸ Export animation: the runs replayed step by step into a GIF or an MP4.

:class:`AnimationExport` moves the timeline to steps 0, k, 2k, … up to the end of the
longest run, lets the views draw each step (synchronously: setting the cursor feeds them
a frame), grabs the chosen view or the whole window and hands the RGB picture to an
encoder thread (:class:`~gd_explorer.core.io.animation.AnimationWriter`).  Frames are
made a few at a time from a zero timer, so the window stays responsive; the encoder
works through a bounded queue (the producer waits for it by skipping ticks, never by
blocking).  Progress and Cancel sit in the status bar; a cancel leaves no file.  When it
ends, the timeline, the tabs, the trail and the window size are as they were.

The trail (only the last N steps of each path) is drawn by the surface view; the other
views draw their whole curves up to the step.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from gd_explorer.core.io.animation import (
    MAX_FRAMES,
    MAX_GIF_FPS,
    MAX_SIDE,
    MP4_MISSING,
    AnimationCancelled,
    AnimationError,
    AnimationWriter,
    check_fps,
    check_size,
    format_of,
    mp4_available,
)
from gd_explorer.core.limits import MAX_STEPS
from gd_explorer.model.threads import new_thread
from gd_explorer.ui.views.frame import frame_of

#: the ``view`` option for the whole window
WHOLE_WINDOW = "window"
ANIMATION_FILTERS = "GIF animation (*.gif);;MP4 video (*.mp4)"
#: how long one timer tick may spend making frames before the window's events run again
TICK_BUDGET_S = 0.04
QUEUE_FRAMES = 8
#: share of the progress bar the frames take (the rest: a GIF's palette mapping)
FRAMES_SHARE = 0.85
#: window resizes tried to give the widget the asked frame size
FIT_TRIES = 6


@dataclass(frozen=True)
class AnimationOptions:
    """What an animation shows and how.

    Attributes
    ----------
    path
        Target ``.gif`` or ``.mp4`` file.
    view
        A view key ("surface", "loss" …) or :data:`WHOLE_WINDOW`.
    every
        A frame every ``every`` steps (the last step always ends it).
    fps
        Frames per second.
    size
        ``(width, height)`` of the frames; None: the widget's size (rounded down to even).
    trail
        Draw only the last ``trail`` steps of each path on the surface (0: whole paths).
    max_steps
        Stop at this step (None: the end of the longest run).
    """

    path: str
    view: str = "surface"
    every: int = 10
    fps: float = 30.0
    size: tuple[int, int] | None = None
    trail: int = 0
    max_steps: int | None = None


def frame_steps(rows: int, every: int, max_steps: int | None = None) -> list[int]:
    """Steps ``0, every, 2·every, …`` and the last one (of ``rows`` recorded rows)."""
    last = rows - 1 if max_steps is None else min(rows - 1, max_steps)
    if last < 0:
        return []
    steps = list(range(0, last + 1, every))
    if steps[-1] != last:
        steps.append(last)
    return steps


def check_options(opts: AnimationOptions, views: frozenset[str], rows: int) -> str:
    """The format of ``opts`` ("gif"/"mp4"), checked; AnimationError with a clear reason."""
    fmt = format_of(opts.path)
    if fmt == "mp4" and not mp4_available():
        raise AnimationError(MP4_MISSING)
    if opts.view != WHOLE_WINDOW and opts.view not in views:
        shown = ", ".join(sorted(views | {WHOLE_WINDOW}))
        raise AnimationError(f"no view {opts.view!r} for this problem; one of {shown}")
    for name, v, lo in (("every", opts.every, 1), ("trail", opts.trail, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise AnimationError(f"{name} must be a whole number ≥ {lo}, got {v}")
    if opts.max_steps is not None and (isinstance(opts.max_steps, bool) or opts.max_steps < 0):
        raise AnimationError(f"steps must be zero or more, got {opts.max_steps}")
    check_fps(opts.fps, fmt)
    if opts.size is not None:
        check_size(*opts.size, fmt)
    if rows == 0:
        raise AnimationError("there is no run to animate")
    n = len(frame_steps(rows, opts.every, opts.max_steps))
    if n > MAX_FRAMES:
        raise AnimationError(f"{n:,} frames is more than {MAX_FRAMES:,}: take a frame every "
                             f"{-(-rows // MAX_FRAMES)} steps or more")
    return fmt


def even_size(size: QSize) -> tuple[int, int]:
    return max(16, size.width() // 2 * 2), max(16, size.height() // 2 * 2)


def grab_rgb(widget: QWidget, size: tuple[int, int]) -> np.ndarray:
    """The widget as drawn now, as a ``(height, width, 3)`` uint8 array of ``size``: scaled
    (smoothly, keeping its aspect) and centred on the window colour when it differs."""
    w, h = size
    image = widget.grab().toImage()
    if (image.width(), image.height()) != (w, h):
        scaled = image.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatio,
                              Qt.TransformationMode.SmoothTransformation)
        canvas = QImage(w, h, QImage.Format.Format_RGB32)
        canvas.fill(QColor(image.pixel(0, 0)))  # the picture's own edge colour
        painter = QPainter(canvas)
        painter.drawImage((w - scaled.width()) // 2, (h - scaled.height()) // 2, scaled)
        painter.end()
        image = canvas
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    bpl = image.bytesPerLine()
    a = np.frombuffer(image.constBits(), dtype=np.uint8, count=bpl * h).reshape(h, bpl)
    return a[:, :w * 3].reshape(h, w, 3).copy()


class _Encoder(QObject):
    """Feeds the writer from the queue in its own thread until the end (None) or a cancel."""

    progress = Signal(float)  # of the closing (a GIF's palette mapping), 0..1
    done = Signal(int)  # frames written
    failed = Signal(str)

    def __init__(self, writer: AnimationWriter, frames: queue.Queue, cancel: threading.Event):
        super().__init__()
        self.writer = writer
        self.frames = frames
        self.cancel = cancel

    @Slot()
    def run(self) -> None:
        w = self.writer
        try:
            while True:
                if self.cancel.is_set():
                    raise AnimationCancelled()
                try:
                    item = self.frames.get(timeout=0.05)
                except queue.Empty:
                    continue
                if item is None:
                    break
                w.add(item)
            w.close(progress=self._closing)
        except AnimationCancelled:
            w.abort()
            self.failed.emit("")
            return
        except Exception as exc:  # noqa: BLE001 - reported, never a crash in a thread
            w.abort()
            self.failed.emit(str(exc))
            return
        self.done.emit(w.frames)

    def _closing(self, done: int, total: int) -> bool:
        self.progress.emit(done / total)
        return not self.cancel.is_set()


class AnimationExport(QObject):
    """Writes animations of the window's runs, one at a time.

    Signals
    -------
    busy_changed(bool)
        An animation started or ended.
    progress(float)
        0..1.
    finished(str, int)
        The file written and its number of frames.
    failed(str)
        Why it stopped ("" : cancelled).
    """

    busy_changed = Signal(bool)
    progress = Signal(float)
    finished = Signal(str, int)
    failed = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        self._job = None

    @property
    def window(self):
        return self.parent()

    @property
    def busy(self) -> bool:
        return self._job is not None

    # ------------------------------------------------------------------ the menu action
    def export_animation(self) -> bool:
        """Ask for the options and the file, then write the animation (True: it started)."""
        w = self.window
        if self.busy:
            w.statusBar().showMessage("an animation is being written: wait or cancel it", 5000)
            return False
        dialog = AnimationDialog(w, self._view_choices(), w.views.current())
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            values = dialog.values()
        finally:
            dialog.deleteLater()
        path, chosen = QFileDialog.getSaveFileName(w, "Export animation", "animation.gif",
                                                   ANIMATION_FILTERS)
        if not path:
            return False
        if os.path.splitext(path)[1].lower() not in (".gif", ".mp4"):
            path += ".mp4" if "mp4" in chosen.lower() else ".gif"
        try:
            return self.start(AnimationOptions(path=path, **values))
        except AnimationError as exc:
            w._on_failed(f"cannot export the animation: {exc}")
            return False

    def _view_choices(self) -> list[tuple[str, str]]:
        host = self.window.views
        keys = [k for k in host.specs if k in host.active and k != "sweep"]
        return [(k, host.specs[k].title) for k in keys] + [(WHOLE_WINDOW, "Whole window")]

    # ------------------------------------------------------------------ the job
    def start(self, opts: AnimationOptions) -> bool:
        """Start writing (AnimationError, before anything changes, for bad options)."""
        if self.busy:
            raise AnimationError("an animation is being written")
        w = self.window
        m = w.model
        was_running = m.running
        m.pause()  # the frames replay the rows recorded until now
        try:
            rows = m.max_rows()
            check_options(opts, frozenset(w.views.active), rows)
            writer = AnimationWriter(opts.path, opts.fps)  # checks the folder now
        except AnimationError:
            if was_running:  # refused: the runs go on as they were
                m.start_running()
            raise
        steps = frame_steps(rows, opts.every, opts.max_steps)
        saved = {"cursor": m.cursor, "main": w.views.current(),
                 "side": w.views.current("side"), "size": w.size(),
                 "trail": w.surface_view.trail, "running": was_running}
        if opts.view == WHOLE_WINDOW:
            widget = w
        else:
            w.views.show_tab(opts.view)
            widget = w.views.view(opts.view)
        size = opts.size or even_size(widget.size())
        frames: queue.Queue = queue.Queue(QUEUE_FRAMES)
        cancel = threading.Event()
        encoder = _Encoder(writer, frames, cancel)
        thread: QThread = new_thread("animationThread")
        encoder.moveToThread(thread)
        thread.started.connect(encoder.run)
        encoder.done.connect(self._on_done)
        encoder.failed.connect(self._on_encoder_failed)
        encoder.progress.connect(self._on_closing_progress)
        self._job = {"opts": opts, "steps": steps, "next": 0, "widget": widget,
                     "size": size, "frames": frames, "cancel": cancel, "encoder": encoder,
                     "thread": thread, "saved": saved, "queued_end": False}
        job = self._job
        job["fit"] = FIT_TRIES if opts.size is not None else 0
        job["ratio"] = [1.0, 1.0]
        job["last"] = None
        w.surface_view.trail = opts.trail or None
        thread.start()
        self.busy_changed.emit(True)
        self.progress.emit(0.0)
        QTimer.singleShot(0, self._timer.start)
        return True

    def cancel(self) -> None:
        """Stop: no file is written (the timeline and views go back as they were)."""
        job = self._job
        if job is not None:
            self._timer.stop()
            job["cancel"].set()

    def stop(self) -> None:
        """Cancel and join the encoder thread (the window is closing)."""
        job = self._job
        if job is None:
            return
        job["saved"]["running"] = False  # nothing goes on in a closing window
        self.cancel()
        job["thread"].quit()
        job["thread"].wait(5000)
        self._end()

    def _tick(self) -> None:
        job = self._job
        if job is None:
            self._timer.stop()
            return
        w = self.window
        if w.model.running:
            self.cancel()
            job["why"] = "the animation stopped: the runs were started"
            return
        if job["fit"] and self._fit_widget(job):
            return  # the layout settles in the event loop before the next tick
        steps, frames = job["steps"], job["frames"]
        t0 = time.monotonic()
        while job["next"] < len(steps) and not frames.full() \
                and time.monotonic() - t0 < TICK_BUDGET_S:
            self._draw(steps[job["next"]])
            frames.put(grab_rgb(job["widget"], job["size"]))
            job["next"] += 1
        self.progress.emit(FRAMES_SHARE * job["next"] / len(steps))
        if job["next"] == len(steps) and not job["queued_end"] and not frames.full():
            frames.put(None)  # the end: the encoder closes the file
            job["queued_end"] = True
            self._timer.stop()

    def _fit_widget(self, job) -> bool:
        """Resize the window so that the widget gets the asked size (its splitters share
        the change: each try scales by the share seen, a secant step); True while trying.
        What the screen does not allow is scaled when grabbed."""
        w, widget = self.window, job["widget"]
        want, have = job["size"], (widget.width(), widget.height())
        last = job["last"]
        if last is not None:  # how much of the window's change reached the widget
            for i in (0, 1):
                dw, dv = w.size().toTuple()[i] - last[0][i], have[i] - last[1][i]
                if dw and dv:
                    job["ratio"][i] = min(max(dv / dw, 0.1), 1.0)
        if have == tuple(want) or job["fit"] <= 0:
            job["fit"] = 0
            return False
        job["fit"] -= 1
        job["last"] = (w.size().toTuple(), have)
        grow = [round((want[i] - have[i]) / job["ratio"][i]) for i in (0, 1)]
        if widget is w:
            grow = [want[0] - have[0], want[1] - have[1]]
        w.resize(w.width() + grow[0], w.height() + grow[1])
        return True

    def _draw(self, step: int) -> None:
        """The views at ``step``: the cursor feeds them a frame; the derived views (the
        slice, the sharpness) of the tabs shown follow at once too."""
        w = self.window
        w.model.set_cursor(step)
        if w.model.cursor != step:  # the last row (the cursor follows the latest)
            w._on_progressed()
        w.views.show_slow(frame_of(w.model))

    def _on_closing_progress(self, fraction: float) -> None:
        self.progress.emit(FRAMES_SHARE + (1 - FRAMES_SHARE) * fraction)

    def _on_done(self, n: int) -> None:
        path = self._job["opts"].path
        self._end()
        self.finished.emit(path, n)

    def _on_encoder_failed(self, text: str) -> None:
        why = self._job.get("why", "") if self._job else ""
        self._end()
        self.failed.emit(why or text)

    def _end(self) -> None:
        job, self._job = self._job, None
        if job is None:
            return
        self._timer.stop()
        job["thread"].quit()
        job["thread"].wait(5000)
        job["encoder"].deleteLater()
        w = self.window
        s = job["saved"]
        w.surface_view.trail = s["trail"]
        if w.size() != s["size"]:
            w.resize(s["size"])
        for key in (s["main"], s["side"]):
            if key is not None and key in w.views.active:
                w.views.show_tab(key)
        w.model.set_cursor(s["cursor"])
        w._on_progressed()  # the whole paths again
        self.busy_changed.emit(False)
        if s["running"]:  # paused for the export: the runs go on
            w.model.start_running()


class AnimationDialog(QDialog):
    """The options of File ▸ Export animation (the file is asked for next)."""

    def __init__(self, parent, views: list[tuple[str, str]], current: str | None):
        super().__init__(parent)
        self.setObjectName("animationDialog")
        self.setWindowTitle("Export animation")
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        note = QLabel("Replays the runs from step 0: one frame every few steps, as the "
                      "timeline would show them. GIF or MP4 is chosen with the file name.")
        note.setWordWrap(True)
        form.addRow(note)
        self.view = QComboBox()
        self.view.setObjectName("animationView")
        self.view.setToolTip("What each frame shows: one view, or the whole window")
        for key, title in views:
            self.view.addItem(title, key)
        i = self.view.findData(current)
        self.view.setCurrentIndex(max(i, 0))
        self.every = QSpinBox()
        self.every.setObjectName("animationEvery")
        self.every.setRange(1, 1_000_000)
        self.every.setValue(10)
        self.every.setPrefix("every ")
        self.every.setSuffix(" steps")
        self.every.setToolTip("A frame every k steps (the run's last step ends the animation)")
        self.fps = QDoubleSpinBox()
        self.fps.setObjectName("animationFps")
        self.fps.setRange(1, MAX_GIF_FPS)
        self.fps.setDecimals(0)
        self.fps.setValue(30)
        self.fps.setSuffix(" frames/s")
        self.fps.setToolTip(f"Playback speed (at most {MAX_GIF_FPS} for GIF: browsers play "
                            "faster GIF frames slowly)")
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, name, what in ((self.width_box, "animationWidth", "Width"),
                                (self.height_box, "animationHeight", "Height")):
            box.setObjectName(name)
            box.setRange(0, MAX_SIDE)
            box.setSingleStep(2)
            box.setSpecialValueText("as shown")
            box.setSuffix(" px")
            box.setToolTip(f"{what} of the frames in pixels (even for MP4); 'as shown': "
                           "the view's size on screen")
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_box)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_box)
        self.trail = QSpinBox()
        self.trail.setObjectName("animationTrail")
        self.trail.setRange(0, MAX_STEPS)
        self.trail.setSingleStep(50)
        self.trail.setSpecialValueText("whole path")
        self.trail.setSuffix(" steps")
        self.trail.setToolTip("Draw only the last N steps of each path on the surface "
                              "(0: the whole path)")
        form.addRow("View", self.view)
        form.addRow("Frames", self.every)
        form.addRow("Speed", self.fps)
        form.addRow("Size", size_row)
        form.addRow("Trail", self.trail)
        if not mp4_available():
            form.addRow(QLabel(MP4_MISSING))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.setObjectName("animationButtons")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def values(self) -> dict:
        """The options chosen (keyword arguments of :class:`AnimationOptions`)."""
        w, h = self.width_box.value(), self.height_box.value()
        return {"view": str(self.view.currentData()), "every": self.every.value(),
                "fps": float(self.fps.value()), "size": (w, h) if w and h else None,
                "trail": self.trail.value()}


def animate_headless(session, opts: AnimationOptions, *, window_size=None,
                     out=None) -> int:
    """``gd-explorer animate``: open the window for ``session`` (offscreen unless the
    caller chose a platform), run every run to its end, write the animation; returns the
    number of frames (AnimationError when it cannot be written)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from gd_explorer.ui.main_window import DEFAULT_WINDOW, MainWindow

    app = QApplication.instance() or QApplication(["gd-explorer"])
    w = MainWindow(session)
    result: dict = {}
    try:
        w.resize(*(window_size or DEFAULT_WINDOW))
        w.show()
        m = w.model
        check_options(opts, frozenset(w.views.active), 1)  # a view the problem has
        m.set_speed(0)  # as fast as the engine goes
        loop = QEventLoop()
        m.running_changed.connect(lambda running: running or loop.quit())
        m.start_running()
        if m.running:
            loop.exec()
        if out is not None:
            out(f"ran {m.max_rows() - 1:,} steps; drawing the frames")
        done = QEventLoop()

        def finished(path, n):
            result["frames"] = n
            done.quit()

        def failed(text):
            result["error"] = text or "cancelled"
            done.quit()

        w.animator.finished.connect(finished)
        w.animator.failed.connect(failed)
        QTimer.singleShot(0, lambda: _start_or_fail(w, opts, failed))
        done.exec()
    finally:
        w.close()
        app.processEvents()
    if "error" in result:
        raise AnimationError(result["error"])
    return result["frames"]


def _start_or_fail(window, opts, failed) -> None:
    try:
        window.animator.start(opts)
    except AnimationError as exc:
        failed(str(exc))
