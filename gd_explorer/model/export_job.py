"""The model's side of exports: one export at a time, on the ``exportThread``.

:class:`ExportJob` is owned by :class:`~gd_explorer.model.explorer.ExplorerModel`, which
checks the request (its runs exist, no export is being written), pauses the runs and
hands the trajectories here; the job sends an :class:`~gd_explorer.model.exporter.
ExportRequest` to the :class:`~gd_explorer.model.exporter.ExportWorker` and turns the
worker's answers (tagged with the request id: a stale answer is dropped) into the
model's signals.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.model.exporter import ExportRequest, ExportResult, ExportWorker
from gd_explorer.model.threads import new_thread


class ExportJob(QObject):
    """Writes trajectory CSVs off the UI thread; see the module docstring."""

    exporting_changed = Signal(bool)
    progress = Signal(float)
    finished = Signal(object)  # ExportResult
    message = Signal(str)  # cancelled
    failed = Signal(str)
    _write = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._job = 0
        self._export: ExportRequest | None = None  # the export being written
        self._worker = ExportWorker()
        self.thread = new_thread("exportThread")
        self._worker.moveToThread(self.thread)
        self._write.connect(self._worker.write)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.failed.connect(self._on_failed)
        self.thread.start()

    @property
    def exporting(self) -> bool:
        """True while an export is being written."""
        return self._export is not None

    def start(self, files, columns: str = "all") -> int:
        """Write ``(path, trajectory)`` pairs (views of recorded rows) with ``columns``
        (``"all"`` or ``"scalar"``); returns the job id."""
        self._job += 1
        request = ExportRequest(self._job, tuple((str(path), traj) for path, traj in files),
                                columns)
        self._export = request
        self.exporting_changed.emit(True)
        self.progress.emit(0.0)
        self._write.emit(request)
        return request.job

    def cancel(self) -> None:
        """Stop the export being written (its file is not kept)."""
        if self._export is not None:
            self._export.cancel.set()

    def _end(self, job: int) -> bool:
        if self._export is None or job != self._export.job:
            return False
        self._export = None
        self.exporting_changed.emit(False)
        return True

    @Slot(int, float)
    def _on_progress(self, job: int, fraction: float) -> None:
        if self._export is not None and job == self._export.job:
            self.progress.emit(fraction)

    @Slot(object)
    def _on_finished(self, result: ExportResult) -> None:
        if self._end(result.job):
            self.finished.emit(result)

    @Slot(int, str)
    def _on_cancelled(self, job: int, text: str) -> None:
        if self._end(job):
            self.message.emit(text)

    @Slot(int, str)
    def _on_failed(self, job: int, text: str) -> None:
        if self._end(job):
            self.failed.emit(f"cannot export: {text}")
