"""The descent worker: advances every run in chunks, from its own QThread.

The runs advance in the engine process (:mod:`gd_explorer.core.engine_process`), on
another core, so the engine and the UI do not fight over the GIL; the worker thread
receives their rows and appends them to the model's descents.  Where that is not possible
(an objective that cannot be pickled, the process busy with another window, or
``GD_EXPLORER_ENGINE=thread`` in the environment) the worker advances them itself.

The worker never emits per step.  After each frame it stores a list of raw snapshots
under a lock and bumps a version number; the model pulls the latest one at display rate
with a QTimer.  Pause and stop are ``threading.Event`` objects checked between chunks;
exceptions become the ``failed`` signal.
"""

from __future__ import annotations

import os
import pickle
import threading
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.core.engine import Descent
from gd_explorer.core.engine_process import (
    EngineProcess,
    EngineProcessError,
    error_text,
    run_rounds,
    shared_engine,
)

#: in-thread runs: wait at most this long after a frame for the UI to say it has drawn it
FRAME_WAIT_SECONDS = 0.03
#: "process" (default) or "thread": where the runs advance
ENGINE_ENV = "GD_EXPLORER_ENGINE"


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


class DescentWorker(QObject):
    """Advances ``(run_id, Descent)`` pairs until paused, stopped or all finished.

    ``speed`` is the number of steps per second per run (0: as fast as possible).
    """

    loop_finished = Signal(int)
    failed = Signal(str)

    def __init__(self):
        super().__init__()
        self.pause_event = threading.Event()
        self.stop_event = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.frame_done = threading.Event()
        self._lock = threading.Lock()
        self._descents: list[tuple[int, Descent]] = []
        self._objective = None
        self._latest: list[RawSnapshot] = []
        self._engine: EngineProcess | None = None  # set while runs advance over there
        self.version = 0
        self.speed = 0.0
        self.used_process = False  # where the last loop ran (for tests and benchmarks)

    # -- called from the UI thread while the worker is idle
    def set_descents(self, descents: list[tuple[int, Descent]], objective=None) -> None:
        """Hand the worker the runs to advance (only while idle); they descend ``objective``."""
        self._descents = list(descents)
        self._objective = objective

    # -- called from the UI thread at any time
    def request_pause(self) -> None:
        """Stop advancing at the next chunk boundary (``idle`` is set once stopped)."""
        self.pause_event.set()
        engine = self._engine
        if engine is not None:
            engine.pause()

    def set_speed(self, speed: float) -> None:
        """Steps per second per run from the next round on (0: as fast as possible)."""
        self.speed = speed
        engine = self._engine
        if engine is not None:
            engine.set_speed(speed)

    def abandon_engine(self) -> None:
        """The engine process did not answer a pause: end it (the loop then returns)."""
        engine = self._engine
        if engine is not None:
            engine.kill()

    def latest(self) -> tuple[int, list[RawSnapshot]]:
        """The newest published snapshots and their version."""
        with self._lock:
            return self.version, self._latest

    def _publish(self) -> None:
        snaps = [raw_snapshot(rid, d) for rid, d in self._descents]
        with self._lock:
            self._latest = snaps
            self.version += 1

    @Slot(int)
    def run_loop(self, generation: int) -> None:
        """Advance all runs until pause/stop or until every run has finished.

        ``generation`` comes back with ``loop_finished`` so the model can ignore the end
        of a loop it has already paused and replaced by a newer one.
        """
        self.idle.clear()
        try:
            if not self._loop_in_process():
                self.used_process = False
                run_rounds([d for _, d in self._descents], halt=self.pause_event,
                           speed=lambda: self.speed, frame=self._frame_in_thread)
        except Exception as exc:  # the UI shows it and recovers; never crash the thread
            self.failed.emit(error_text(exc))
        finally:
            try:
                self._publish()
            except Exception:  # pragma: no cover - publishing must not mask the real error
                pass
            self.idle.set()
            self.loop_finished.emit(generation)

    def _frame_in_thread(self) -> None:
        self._publish()
        # Hand the GIL to the UI while it draws this frame: a Python worker and a Qt UI
        # thread fighting over the GIL make every Python<->C++ crossing in the paint wait
        # for a switch interval, so a 15 ms frame took 150 ms.
        self.frame_done.clear()
        self.frame_done.wait(FRAME_WAIT_SECONDS)

    def _loop_in_process(self) -> bool:
        """Advance the runs in the engine process; False if they must advance here."""
        if engine_mode() != "process" or self._objective is None:
            return False
        engine = shared_engine()
        if not engine.acquire():
            return False  # another window's runs are over there
        try:
            self._engine = engine
            try:
                job = engine.run(self._objective, self._descents, self.speed)
            except (pickle.PicklingError, TypeError, AttributeError):
                return False  # e.g. a scripted objective made of lambdas
            except EngineProcessError:
                return False
            self.used_process = True
            # a pause or a new speed that came before the run reached the process
            if self.pause_event.is_set():
                engine.pause()
            engine.set_speed(self.speed)
            by_id = dict(self._descents)
            while True:
                try:
                    message = engine.receive()
                except EngineProcessError as exc:
                    self.failed.emit(f"{exc}; the runs keep what they had reached")
                    return True
                if message[1] != job:
                    continue  # pragma: no cover - the answer to a run that was abandoned
                for run_id, rows, lrs, live in message[2]:
                    by_id[run_id].absorb(rows, lrs, live)
                if message[0] == "done":
                    if message[3]:
                        self.failed.emit(message[3])
                    return True
                self._publish()
        finally:
            self._engine = None
            engine.release()
