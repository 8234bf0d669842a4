"""The descent worker: advances every run in chunks, from its own QThread.

The runs advance in the engine process (:mod:`gd_explorer.core.engine.process`), on
another core, so the engine and the UI do not fight over the GIL; the worker thread
receives their rows and appends them to the model's descents.  Where that is not possible
(an objective that cannot be pickled, the process busy with another window or unable to
start, or ``GD_EXPLORER_ENGINE=thread`` in the environment) the worker advances them
itself.

Who may touch the model's descents
    Each Run is one :class:`Loop`.  The worker never advances the model's descents
    themselves: it advances *continuations* (copies without rows, made by the UI thread
    when the loop begins), here or in the engine process, and appends what they recorded
    to the model's descents (:meth:`~gd_explorer.core.engine.descent.Descent.absorb`) and
    snapshots them, only while holding :attr:`DescentWorker.ownership` and only while
    the loop has not been revoked.  The UI thread revokes a loop under that same lock
    (:meth:`DescentWorker.revoke`) when it pauses, before it touches the descents again.
    So the descents are only ever touched by one thread at a time: by the worker inside
    the lock while the loop runs, by the UI thread once it has revoked it — and revoking
    waits at most for one absorb (a frame's rows, ~1 ms), never for a step, a chunk or an
    engine process that does not answer.  A revoked loop may go on for a while (a step
    in progress, a late answer); whatever it still computes is dropped, and the descents
    stay exactly as they were after the last absorbed frame, from which the next Run
    continues bit for bit.

The worker never emits per step.  After each frame it stores a list of raw snapshots
under a lock and bumps a version number; the model pulls the latest one at display rate
with a QTimer.  Pause and stop are ``threading.Event`` objects checked between chunks;
exceptions become the ``failed`` signal.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.core.engine import pacing
from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.engine.process import (
    EngineProcess,
    EngineProcessError,
    error_text,
    run_rounds,
    shared_engine,
)
from gd_explorer.core.engine.protocol import Done, Frame, RunRows

#: "process" (default) or "thread": where the runs advance
ENGINE_ENV = "GD_EXPLORER_ENGINE"
KEPT = "the runs keep what they had reached"


def engine_mode() -> str:
    """Where runs advance: ``"process"`` unless ``GD_EXPLORER_ENGINE=thread``."""
    return "thread" if os.environ.get(ENGINE_ENV, "").strip().lower() == "thread" else "process"


@dataclass(frozen=True)
class RawSnapshot:
    """What the worker publishes for one run: row views plus copies of the live state."""

    run_id: int
    params: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    lr: np.ndarray
    status: str
    message: str
    state: dict
    batch: np.ndarray | None


def raw_snapshot(run_id: int, descent: Descent) -> RawSnapshot:
    """Snapshot one descent (call only from the thread that owns it at that moment)."""
    params, loss, grad, lr = descent.views(0)
    state = {name: np.array(buf[0], copy=True) for name, buf in descent.state.buffers().items()}
    batch = None if descent.last_batch is None else descent.last_batch.copy()
    return RawSnapshot(run_id, params, loss, grad, lr, descent.status, descent.message(0),
                       state, batch)


class Loop:
    """One Run: the model's descents lent to the worker until the model revokes them.

    Made by :meth:`DescentWorker.begin` on the UI thread.  ``continuations`` are the
    worker's own copies; ``descents`` belong to the model (see the module docstring).
    """

    def __init__(self, generation: int, descents: list[tuple[int, Descent]], objective):
        self.generation = generation
        self.descents = list(descents)
        self.continuations = [(run_id, d.continuation()) for run_id, d in self.descents]
        self.objective = objective
        self.halt = threading.Event()  # pause (or stop) asked
        self.halted_at = 0.0
        self.stopping = False  # the model is shutting down: report nothing more
        self.revoked = False  # written under DescentWorker.ownership
        self.done = threading.Event()  # the loop has returned; it touches nothing more


class DescentWorker(QObject):
    """Advances the runs of one :class:`Loop` at a time until paused or all finished.

    ``speed`` is the number of steps per second per run (0: as fast as possible).
    """

    loop_finished = Signal(int)
    failed = Signal(str)
    fell_back = Signal(str)  # the runs advance in this process: why (once per reason)
    #: "" while the runs advance in the engine process (or here by choice), else why they
    #: fell back to this process; emitted when that changes
    engine_note_changed = Signal(str)
    _begin = Signal(object)

    def __init__(self):
        super().__init__()
        #: held while the worker touches the model's descents; see the module docstring
        self.ownership = threading.Lock()
        self.frame_done = threading.Event()
        self._lock = threading.Lock()
        self._latest: list[RawSnapshot] = []
        self._loop: Loop | None = None  # the newest loop (the one pause and speed act on)
        self._running_loop: Loop | None = None  # the loop this thread is executing
        self._engine_lock = threading.Lock()
        self._engine: EngineProcess | None = None  # held by a loop while it runs there
        self._fallbacks: set[str] = set()
        self._engine_note = ""
        self.version = 0
        self.speed = 0.0
        self.used_process = False  # where the last loop ran (for tests and benchmarks)
        self._begin.connect(self.run_loop)  # queued: the worker lives in its own thread

    @property
    def busy(self) -> bool:
        """True while this thread is executing a loop (a revoked one included)."""
        return self._running_loop is not None

    # -- called from the UI thread
    def begin(self, generation: int, descents: list[tuple[int, Descent]], objective) -> Loop:
        """Lend ``descents`` (which descend ``objective``) to a new loop and start it.

        Call only while no loop owns them (the previous one finished or was revoked).
        """
        loop = Loop(generation, descents, objective)
        self._loop = loop
        self._begin.emit(loop)
        return loop

    def revoke(self, loop: Loop) -> None:
        """Take the descents back from ``loop``: after this it never touches them again.

        Waits at most for an absorb in progress (``ownership`` is held only for that).
        """
        with self.ownership:
            loop.revoked = True

    def request_pause(self) -> None:
        """Stop advancing at the next chunk boundary (the loop then ends; ``done`` is set)."""
        loop = self._loop
        if loop is not None and not loop.halt.is_set():
            loop.halted_at = time.monotonic()
            loop.halt.set()
        with self._engine_lock:
            engine = self._engine
        if engine is not None:
            engine.pause()  # never blocks

    def stop(self) -> None:
        """Shutting down: pause, and report nothing more (from a revoked loop either)."""
        for loop in (self._loop, self._running_loop):
            if loop is not None:
                loop.stopping = True
        self.request_pause()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the loop this thread executes to end."""
        loop = self._running_loop
        return loop is None or loop.done.wait(timeout)

    def set_speed(self, speed: float) -> None:
        """Steps per second per run from the next round on (0: as fast as possible)."""
        self.speed = speed
        with self._engine_lock:
            engine = self._engine
        if engine is not None:
            engine.set_speed(speed)

    def abandon_engine(self) -> None:
        """End the engine process a loop of this worker is using (it does not answer).

        Only while the loop still holds it: a process that has gone back to the pool may
        already be another window's.
        """
        with self._engine_lock:
            if self._engine is not None:
                self._engine.kill()

    def latest(self) -> tuple[int, list[RawSnapshot]]:
        """The newest published snapshots and their version."""
        with self._lock:
            return self.version, self._latest

    # -- the worker thread
    def _deliver(self, loop: Loop, updates: tuple[RunRows, ...]) -> bool:
        """Absorb ``updates`` into the model's descents and publish them, unless the loop
        has been revoked (then drop them; False)."""
        with self.ownership:
            if loop.revoked:
                return False
            by_id = dict(loop.descents)
            for update in updates:
                update.absorb_into(by_id[update.run_id])
            snaps = [raw_snapshot(run_id, d) for run_id, d in loop.descents]
            with self._lock:  # inside ownership: once revoked, the latest matches the descents
                self._latest = snaps
                self.version += 1
        return True

    @staticmethod
    def _drained(loop: Loop, final: bool = False) -> tuple[RunRows, ...]:
        return tuple(RunRows.drained(run_id, c, final) for run_id, c in loop.continuations)

    @Slot(object)
    def run_loop(self, loop: Loop) -> None:
        """Advance the loop's runs until paused or until every run has finished.

        ``loop.generation`` comes back with ``loop_finished`` so the model can ignore the
        end of a loop it has already paused and replaced by a newer one.
        """
        self._running_loop = loop
        try:
            if loop.halt.is_set():
                return  # paused (or revoked) before it began
            if not self._loop_in_process(loop):
                self.used_process = False
                try:
                    run_rounds([c for _, c in loop.continuations], halt=loop.halt,
                               speed=lambda: self.speed,
                               frame=lambda: self._frame_in_thread(loop))
                finally:  # also after an error: the rows up to it are kept
                    self._deliver(loop, self._drained(loop, final=True))
        except Exception as exc:  # the UI shows it and recovers; never crash the thread
            if not loop.stopping:
                self.failed.emit(error_text(exc))
        finally:
            loop.done.set()
            self._running_loop = None
            self.loop_finished.emit(loop.generation)

    def _frame_in_thread(self, loop: Loop) -> None:
        self._deliver(loop, self._drained(loop))
        # Hand the GIL to the UI while it draws this frame: a Python worker and a Qt UI
        # thread fighting over the GIL make every Python<->C++ crossing in the paint wait
        # for a switch interval, so a 15 ms frame took 150 ms.
        self.frame_done.clear()
        self.frame_done.wait(pacing.PACING.frame_wait_seconds)

    def _fall_back(self, reason: str) -> bool:
        text = f"runs advance in the window's process: {reason}"
        if reason not in self._fallbacks:
            self._fallbacks.add(reason)
            self.fell_back.emit(text)
        self._set_engine_note(text)
        return False

    def _set_engine_note(self, note: str) -> None:
        if note != self._engine_note:
            self._engine_note = note
            self.engine_note_changed.emit(note)

    def _loop_in_process(self, loop: Loop) -> bool:
        """Advance the runs in the engine process; False if they must advance here."""
        if engine_mode() != "process" or loop.objective is None:
            self._set_engine_note("")  # here by choice (or nothing to send): no fallback
            return False
        engine = shared_engine()
        if not engine.acquire():
            return self._fall_back("another window's runs are using the engine process")
        try:
            with self._engine_lock:
                self._engine = engine
            try:
                job = engine.run(loop.objective, loop.continuations, self.speed)
            except (pickle.PicklingError, TypeError, AttributeError):
                # e.g. a scripted objective made of lambdas
                return self._fall_back("this problem cannot be sent to the engine process")
            except EngineProcessError as exc:
                return self._fall_back(str(exc))
            self.used_process = True
            self._set_engine_note("")
            # a pause or a new speed that came before the run reached the process
            if loop.halt.is_set():
                engine.pause()
            engine.set_speed(self.speed)
            self._follow(loop, engine, job)
            return True
        finally:
            with self._engine_lock:
                self._engine = None
            engine.release()

    def _follow(self, loop: Loop, engine: EngineProcess, job: int) -> None:
        """Absorb the engine's frames until its ``Done``, or until it is taken for stuck."""
        pace = pacing.PACING
        while True:
            try:
                message = engine.receive(timeout=pace.receive_tick_seconds)
            except EngineProcessError as exc:  # gone, or silent (then killed)
                if not loop.stopping:
                    self.failed.emit(f"{exc}; {KEPT}")
                return
            match message:
                case None:
                    if loop.halt.is_set() and \
                            time.monotonic() - loop.halted_at > pace.pause_answer_seconds:
                        engine.kill()  # alive (it beats) but does not pause: stuck in a step
                        if not loop.stopping:
                            self.failed.emit(f"the engine process did not pause in time; {KEPT}")
                        return
                case Frame(job=j, runs=runs) if j == job:
                    self._deliver(loop, runs)
                case Done(job=j, runs=runs, error=error) if j == job:
                    self._deliver(loop, runs)
                    if error and not loop.stopping:
                        self.failed.emit(error)
                    return
                case _:  # pragma: no cover - the answer to a run that was abandoned
                    pass
