"""The descent worker: advances every run in chunks on its own QThread.

The worker never emits per step.  After each round of chunks it stores a list of raw
snapshots under a lock and bumps a version number; the model pulls the latest one at
display rate with a QTimer.  Pause and stop are ``threading.Event`` objects checked
between chunks; exceptions become the ``failed`` signal.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.core.engine import Descent

#: seconds one round of chunks should take at full speed (keeps pause responsive)
ROUND_SECONDS = 0.01
#: compute this long between two published frames at full speed
FRAME_SECONDS = 0.022
#: then wait at most this long for the UI to say it has drawn the frame
FRAME_WAIT_SECONDS = 0.03


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
    """Advances ``(run_id, Descent)`` pairs in rounds until paused, stopped or all finished.

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
        self._latest: list[RawSnapshot] = []
        self.version = 0
        self.speed = 0.0

    # -- called from the UI thread while the worker is idle
    def set_descents(self, descents: list[tuple[int, Descent]]) -> None:
        """Hand the worker the runs to advance (only while idle)."""
        self._descents = list(descents)

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
            self._loop()
        except Exception as exc:  # the UI shows it and recovers; never crash the thread
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.failed.emit(f"the descent stopped with an error: {detail}")
        finally:
            try:
                self._publish()
            except Exception:  # pragma: no cover - publishing must not mask the real error
                pass
            self.idle.set()
            self.loop_finished.emit(generation)

    def _loop(self) -> None:
        chunk = 64
        t0 = time.perf_counter()
        done_at_start = {rid: d.t for rid, d in self._descents}
        last_publish = 0.0
        while not (self.pause_event.is_set() or self.stop_event.is_set()):
            active = [(rid, d) for rid, d in self._descents if not d.finished]
            if not active:
                break
            if self.speed > 0:
                # pace: each run should have taken speed * elapsed steps by now
                elapsed = time.perf_counter() - t0
                for rid, d in active:
                    due = int(self.speed * elapsed) + 1 - (d.t - done_at_start[rid])
                    if due > 0:
                        d.advance(due)
                now = time.perf_counter()
                if now - last_publish >= 1 / 60:
                    self._publish()
                    last_publish = now
                # sleep until the next step is due (or an event wakes us)
                wait = max(0.0, min(0.05, 1.0 / self.speed))
                self.pause_event.wait(wait)
                continue
            start = time.perf_counter()
            for _rid, d in active:
                d.advance(chunk)
                if self.pause_event.is_set() or self.stop_event.is_set():
                    break
            took = time.perf_counter() - start
            # adapt the chunk so a round takes about ROUND_SECONDS
            if took < ROUND_SECONDS / 2:
                chunk = min(chunk * 2, 1 << 20)
            elif took > ROUND_SECONDS * 2 and chunk > 1:
                chunk = max(1, chunk // 2)
            now = time.perf_counter()
            if now - last_publish >= FRAME_SECONDS:
                self._publish()
                last_publish = now
                # Hand the GIL to the UI while it draws this frame: a Python worker and a
                # Qt UI thread fighting over the GIL make every Python<->C++ crossing in
                # the paint wait for a switch interval, so a 15 ms frame took 150 ms.
                self.frame_done.clear()
                self.frame_done.wait(FRAME_WAIT_SECONDS)
                last_publish = time.perf_counter()
