"""Learning-rate sweeps off the UI thread: one sweep at a time, with progress and cancel.

:class:`SweepJob` (owned by :class:`~gd_explorer.model.explorer.ExplorerModel`) turns
the current problem, start and selected run into a :class:`SweepRequest` (frozen: the
objective, the run's optimizer, the start, the settings and the event that cancels it)
and sends it to its worker on the ``sweepThread``, which runs
:mod:`gd_explorer.core.lab.sweep` and answers with exactly one of ``finished``,
``cancelled`` or ``failed``, tagged with the request id (a stale answer is dropped; the
bookkeeping is :class:`~gd_explorer.model.jobs.BackgroundJob`'s).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

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
from gd_explorer.model.jobs import BackgroundJob

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


def run_sweep(request: SweepRequest, report) -> SweepResult:
    """Run ``request`` (any thread) and time it; raises ``SweepCancelled`` or an error."""
    t0 = time.perf_counter()
    result = run_request(request, report)
    return SweepResult(request.job, request.settings.mode, result, request,
                       time.perf_counter() - t0)


class SweepJob(BackgroundJob):
    """Runs sweeps off the UI thread; see the module docstring.

    Signals: ``running_changed(bool)``, ``progress(float)``, ``finished(SweepResult)``,
    ``message(str)`` (a cancel), ``failed(str)``, ``settings_changed(SweepSettings)``;
    :attr:`last` is the latest finished sweep.  A cancel only asks: the sweep is over (and
    ``running`` False) when the worker answers.
    """

    running_changed = Signal(bool)
    message = Signal(str)  # cancelled
    settings_changed = Signal(object)  # SweepSettings

    thread_name = "sweepThread"
    cancelled_error = SweepCancelled
    unexpected_prefix = "sweep failed: "
    failure_prefix = "cannot sweep: "
    cancel_text = "sweep cancelled"
    cancel_waits = True
    progress_interval = PROGRESS_INTERVAL

    def __init__(self, parent: QObject | None = None):
        super().__init__(run_sweep, parent)
        self._settings = SweepSettings()
        self.last: SweepResult | None = None
        self.busy_changed.connect(self.running_changed)
        self.cancelled.connect(self.message)

    @property
    def running(self) -> bool:
        return self.busy

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
        start = np.array(start, dtype=np.float64)
        return self._submit(lambda job: SweepRequest(job, objective, optimizer, start, s,
                                                     batch_size, seed, label))

    def _accept(self, result: SweepResult) -> None:
        self.progress.emit(1.0)
        self.last = result
