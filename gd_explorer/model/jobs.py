"""One background computation at a time, on a thread of its own: the bookkeeping every job shares.

A :class:`BackgroundJob` (owned by :class:`~gd_explorer.model.explorer.ExplorerModel`)
numbers its requests, sends each one (a frozen dataclass with a ``job`` id and a
``cancel`` :class:`threading.Event`) to a :class:`JobWorker` on its thread, and turns the
worker's answers into its own signals. The worker runs a plain function
``compute(request, report)`` of the core (no Qt in it) and answers with exactly one of
``done``, ``cancelled`` or ``failed``, tagged with the request id: an answer to a request
that is no longer the current one (a newer one was made, it was cancelled, the job was
stopped) is dropped, so a stale, cancelled or failed computation never replaces what is
shown (napari's async slicing does the same with its request ids).

``report(fraction)`` is what ``compute`` hands to the core as its progress callback: it
sends at most one ``progress`` signal per :attr:`BackgroundJob.progress_step` of the work
and per :attr:`BackgroundJob.progress_interval` seconds (never one signal per step), and
returns False once the request's ``cancel`` event is set, which the core answers by
raising its "cancelled" exception (:attr:`BackgroundJob.cancelled_error`).

What differs between jobs is a class attribute of the subclass:

``thread_name``
    the QThread's object name (``basinsThread``...; tests and shutdown find it by it);
``cancelled_error``
    the core's exception (or tuple of them) meaning "stopped because asked to";
``plain_errors``
    exceptions whose message is shown as it is (a person's mistake: ``ValueError``);
    anything else is a bug, shown as ``"<unexpected_prefix><Type>: <message>"``;
``failure_prefix``
    put before every failure text (``"cannot draw the landscape: "``);
``cancel_text``
    what a cancel says, on ``cancelled(str)``;
``cancel_waits``
    False: :meth:`~BackgroundJob.cancel` ends the job at once (busy False, the text said,
    any later answer dropped); True: it only sets the event and the worker's answer ends
    the job (a sweep that finishes as it is cancelled is still shown);
``progress_step``, ``progress_interval``
    the throttling of ``progress`` described above.

The subclass gives the compute function to ``__init__``, builds its request in its own
``start`` (checks first, then :meth:`~BackgroundJob._submit`) and may keep a finished
result in :meth:`~BackgroundJob._accept` (``LandscapeJob.last``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.model.threads import new_thread

#: ``compute(request, report)``: the result, or the core's cancelled error, or any error
Compute = Callable[[Any, Callable[[float], bool]], Any]


class JobWorker(QObject):
    """Runs ``compute`` on each request it is sent, on the thread it lives on."""

    progress = Signal(int, float)  # job, fraction done
    done = Signal(int, object)  # job, result
    cancelled = Signal(int)  # job
    failed = Signal(int, str)  # job, text (without the job's failure prefix)

    def __init__(self, compute: Compute, *, cancelled_error=(), plain_errors=(),
                 unexpected_prefix: str = "", progress_step: float = 0.0,
                 progress_interval: float = 0.0):
        super().__init__()
        self._compute = compute
        self._cancelled_error = cancelled_error
        self._plain_errors = plain_errors
        self._unexpected_prefix = unexpected_prefix
        self._step = progress_step
        self._interval = progress_interval

    def reporter(self, request) -> Callable[[float], bool]:
        """The throttled ``report(fraction) -> go on`` for ``request`` (the first call
        always reports)."""
        last = [-math.inf, -math.inf]  # fraction, monotonic time of the last signal

        def report(fraction: float) -> bool:
            fraction = float(fraction)
            now = time.monotonic()
            if fraction - last[0] >= self._step and now - last[1] >= self._interval:
                last[0], last[1] = fraction, now
                self.progress.emit(request.job, fraction)
            return not request.cancel.is_set()

        return report

    @Slot(object)
    def run(self, request) -> None:
        job = request.job
        try:
            if request.cancel.is_set():  # cancelled while queued: nothing to compute
                self.cancelled.emit(job)
                return
            result = self._compute(request, self.reporter(request))
        except self._cancelled_error:
            self.cancelled.emit(job)
            return
        except self._plain_errors as exc:
            self.failed.emit(job, str(exc) or type(exc).__name__)
            return
        except Exception as exc:  # noqa: BLE001 - shown in plain text; the thread goes on
            self.failed.emit(job, f"{self._unexpected_prefix}{type(exc).__name__}: {exc}")
            return
        self.done.emit(job, result)


class BackgroundJob(QObject):
    """Runs one request at a time on its own thread; see the module docstring."""

    busy_changed = Signal(bool)
    progress = Signal(float)
    finished = Signal(object)  # the compute function's result
    cancelled = Signal(str)  # cancel_text
    failed = Signal(str)  # failure_prefix + what went wrong
    _run = Signal(object)

    thread_name: ClassVar[str] = "jobThread"
    cancelled_error: ClassVar[type[BaseException] | tuple] = ()
    plain_errors: ClassVar[type[BaseException] | tuple] = (ValueError, ArithmeticError)
    unexpected_prefix: ClassVar[str] = ""
    failure_prefix: ClassVar[str] = ""
    cancel_text: ClassVar[str] = "cancelled"
    cancel_waits: ClassVar[bool] = False
    progress_step: ClassVar[float] = 0.0
    progress_interval: ClassVar[float] = 0.0

    def __init__(self, compute: Compute, parent: QObject | None = None):
        super().__init__(parent)
        self._job = 0
        self._request = None  # the request whose answer is awaited
        self._worker = JobWorker(compute, cancelled_error=self.cancelled_error,
                                 plain_errors=self.plain_errors,
                                 unexpected_prefix=self.unexpected_prefix,
                                 progress_step=self.progress_step,
                                 progress_interval=self.progress_interval)
        self.thread = new_thread(self.thread_name)
        self._worker.moveToThread(self.thread)
        self._run.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.failed.connect(self._on_failed)
        self.thread.start()

    @property
    def busy(self) -> bool:
        """True while a request's answer is awaited."""
        return self._request is not None

    def _submit(self, build: Callable[[int], Any]) -> int:
        """Send ``build(job_id)`` (a request) to the worker; the request before it is
        cancelled and its answer dropped.  Returns the job id."""
        self._job += 1
        request = build(self._job)
        previous, self._request = self._request, request
        if previous is not None:
            previous.cancel.set()
        else:
            self.busy_changed.emit(True)
        self.progress.emit(0.0)
        self._run.emit(request)
        return request.job

    def cancel(self) -> None:
        """Stop the request being computed; its result is never shown."""
        self._cancel(self.cancel_text)

    def _cancel(self, text: str) -> None:
        if self._request is None:
            return
        self._request.cancel.set()
        if self.cancel_waits:
            return  # the worker's answer ends the job
        self._end()
        if text:
            self.cancelled.emit(text)

    def stop(self) -> None:
        """Drop any computation, silently (shutdown); the thread is the owner's to join."""
        if self._request is not None:
            self._request.cancel.set()
        self._request = None

    def _accept(self, result) -> None:
        """Keep ``result`` (the current request's), before ``busy_changed(False)`` and
        ``finished``; nothing by default."""

    def _current(self, job: int) -> bool:
        return self._request is not None and job == self._request.job

    def _end(self) -> None:
        self._request = None
        self.busy_changed.emit(False)

    @Slot(int, float)
    def _on_progress(self, job: int, fraction: float) -> None:
        if self._current(job):
            self.progress.emit(fraction)

    @Slot(int, object)
    def _on_done(self, job: int, result) -> None:
        if self._current(job):
            self._accept(result)
            self._end()
            self.finished.emit(result)

    @Slot(int)
    def _on_cancelled(self, job: int) -> None:
        if self._current(job):  # from inside, or cancel_waits (else cancel() ended it)
            self._end()
            self.cancelled.emit(self.cancel_text)

    @Slot(int, str)
    def _on_failed(self, job: int, text: str) -> None:
        if self._current(job):
            self._end()
            self.failed.emit(f"{self.failure_prefix}{text}")
