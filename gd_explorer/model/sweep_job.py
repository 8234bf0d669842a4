"""Learning-rate sweeps off the UI thread: one sweep at a time, with progress and cancel.

:class:`SweepJob` (owned by :class:`~gd_explorer.model.explorer.ExplorerModel`) turns
the current problem, start and selected run into a :class:`SweepRequest` (frozen: the
objective, the run's optimizer, the start, the settings and the event that cancels it)
and sends it to a :class:`SweepWorker` on the ``sweepThread``; the worker runs
:mod:`gd_explorer.core.lab.sweep` and answers with exactly one of ``finished``,
``cancelled`` or ``failed``, tagged with the request id (a stale answer is dropped).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.core.lab.sweep import (
    SweepCancelled,
    SweepSettings,
    log_rates,
    momentum_grid,
    momentum_name,
    range_test,
    sweep_learning_rates,
    sweep_lr_momentum,
)
from gd_explorer.core.optim.optimizers import Optimizer
from gd_explorer.core.problems.objectives import Objective
from gd_explorer.model.threads import new_thread

#: at most this often a progress signal (seconds)
PROGRESS_INTERVAL = 0.1


@dataclass(frozen=True)
class SweepRequest:
    """One sweep to run: what, from where, how; ``cancel`` stops it."""

    job: int
    objective: Objective
    optimizer: Optimizer
    start: np.ndarray
    settings: SweepSettings
    batch_size: int | None = None
    seed: int = 0
    label: str = ""  # the run it sweeps, for the view's title
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: ``result`` is an LRSweep, a MomentumMap or a RangeTest."""

    job: int
    mode: str
    result: object
    request: SweepRequest
    seconds: float


def run_request(request: SweepRequest, progress=None):
    """Run ``request`` (any thread); returns the core result or raises ``SweepCancelled``."""
    s = request.settings
    cancelled = request.cancel.is_set
    common = dict(batch_size=request.batch_size, seed=request.seed, progress=progress,
                  cancelled=cancelled)
    if s.mode == "lr":
        return sweep_learning_rates(request.objective, request.optimizer, request.start,
                                    log_rates(s.lr_low, s.lr_high, s.count), s.steps, **common)
    if s.mode == "map":
        return sweep_lr_momentum(request.objective, request.optimizer, request.start,
                                 log_rates(s.lr_low, s.lr_high, s.map_count),
                                 momentum_grid(s.momentum_low, s.momentum_high, s.momenta),
                                 s.steps, **common)
    return range_test(request.objective, request.optimizer, request.start, lr_min=s.range_low,
                      lr_max=s.range_high, steps=s.range_steps, **common)


class SweepWorker(QObject):
    """Runs :class:`SweepRequest` s on the thread it lives on."""

    progress = Signal(int, float)  # job, fraction done
    finished = Signal(object)  # SweepResult
    cancelled = Signal(int, str)  # job, message
    failed = Signal(int, str)  # job, message

    @Slot(object)
    def run(self, request: SweepRequest) -> None:
        last = [0.0]

        def report(fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL:
                last[0] = now
                self.progress.emit(request.job, float(fraction))

        t0 = time.perf_counter()
        try:
            result = run_request(request, report)
        except SweepCancelled:
            self.cancelled.emit(request.job, "sweep cancelled")
            return
        except (ValueError, ArithmeticError) as exc:
            self.failed.emit(request.job, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a dead thread
            self.failed.emit(request.job, f"sweep failed: {type(exc).__name__}: {exc}")
            return
        self.progress.emit(request.job, 1.0)
        self.finished.emit(SweepResult(request.job, request.settings.mode, result, request,
                                       time.perf_counter() - t0))


class SweepJob(QObject):
    """Runs sweeps off the UI thread; see the module docstring."""

    running_changed = Signal(bool)
    progress = Signal(float)
    finished = Signal(object)  # SweepResult
    message = Signal(str)  # cancelled
    failed = Signal(str)
    settings_changed = Signal(object)  # SweepSettings
    _run = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._job = 0
        self._request: SweepRequest | None = None
        self._settings = SweepSettings()
        self.last: SweepResult | None = None
        self._worker = SweepWorker()
        self.thread = new_thread("sweepThread")
        self._worker.moveToThread(self.thread)
        self._run.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.failed.connect(self._on_failed)
        self.thread.start()

    @property
    def running(self) -> bool:
        return self._request is not None

    @property
    def settings(self) -> SweepSettings:
        return self._settings

    def set_settings(self, settings: SweepSettings) -> None:
        """Remember the settings (checked: ``ValueError`` for unusable ones)."""
        settings.check()
        if settings != self._settings:
            self._settings = settings
            self.settings_changed.emit(settings)

    def start(self, objective: Objective, optimizer: Optimizer, start, *,
              batch_size: int | None = None, seed: int = 0, label: str = "") -> int:
        """Start a sweep with the current settings (cancels one running); returns its id.

        Raises ``ValueError`` at once for a request that cannot run (the map of an
        optimizer without momentum).
        """
        s = self._settings.check()
        if s.mode == "map" and momentum_name(optimizer) is None:
            raise ValueError(f"{optimizer.name} has neither momentum nor betas: no "
                             "lr × momentum map (choose SGD or an Adam-family optimizer)")
        self.cancel()
        self._job += 1
        request = SweepRequest(self._job, objective, optimizer,
                               np.array(start, dtype=np.float64), s, batch_size, seed, label)
        was = self.running
        self._request = request
        if not was:
            self.running_changed.emit(True)
        self.progress.emit(0.0)
        self._run.emit(request)
        return request.job

    def cancel(self) -> None:
        """Stop the sweep that runs (its result is dropped)."""
        if self._request is not None:
            self._request.cancel.set()

    def stop(self) -> None:
        """Cancel and stop the thread (shutdown)."""
        self.cancel()
        self._request = None

    def _end(self, job: int) -> bool:
        if self._request is None or job != self._request.job:
            return False
        self._request = None
        self.running_changed.emit(False)
        return True

    @Slot(int, float)
    def _on_progress(self, job: int, fraction: float) -> None:
        if self._request is not None and job == self._request.job:
            self.progress.emit(fraction)

    @Slot(object)
    def _on_finished(self, result: SweepResult) -> None:
        if self._end(result.job):
            self.last = result
            self.finished.emit(result)

    @Slot(int, str)
    def _on_cancelled(self, job: int, text: str) -> None:
        if self._end(job):
            self.message.emit(text)

    @Slot(int, str)
    def _on_failed(self, job: int, text: str) -> None:
        if self._end(job):
            self.failed.emit(f"cannot sweep: {text}")
