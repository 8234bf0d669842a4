"""Trajectory exports off the UI thread, in chunks, with progress and cancel.

The window asks :class:`~gd_explorer.model.explorer.ExplorerModel` to export; the model
hands an :class:`ExportRequest` (read-only views of the recorded rows, never copies: 10
million rows cost one chunk of memory) to an :class:`ExportWorker` on its own QThread.
The worker writes each file with :func:`gd_explorer.core.io.export.write_trajectory_csv`
(atomic: a failed or cancelled file leaves nothing behind), reports progress at most
every few hundred milliseconds, and answers with exactly one of ``finished``,
``cancelled`` or ``failed`` per request, tagged with the request's id.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal, Slot

from gd_explorer.core.engine.descent import Trajectory
from gd_explorer.core.io.export import ExportCancelled, ExportError, write_trajectory_csv

#: at most this often a progress signal (seconds)
PROGRESS_INTERVAL = 0.1


@dataclass(frozen=True)
class ExportRequest:
    """Files to write: ``(path, trajectory)`` pairs, which columns (``"all"`` or
    ``"scalar"``, see :func:`~gd_explorer.core.io.export.csv_header`), and the event that
    cancels them."""

    job: int
    files: tuple[tuple[str, Trajectory], ...]
    columns: str = "all"
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)

    @property
    def rows(self) -> int:
        """Rows to write, over all files."""
        return sum(len(t.loss) for _, t in self.files)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the files, rows over all of them, which columns and the
    bytes written."""

    job: int
    paths: tuple[str, ...]
    rows: int
    columns: str = "all"
    size: int = 0


class ExportWorker(QObject):
    """Writes :class:`ExportRequest` s on the thread it lives on."""

    progress = Signal(int, float)  # job, fraction done
    finished = Signal(object)  # ExportResult
    cancelled = Signal(int, str)  # job, message
    failed = Signal(int, str)  # job, message

    @Slot(object)
    def write(self, request: ExportRequest) -> None:
        total = max(request.rows, 1)
        done_before = 0
        last = [0.0]

        def report(done: int, _file_total: int) -> bool:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL:
                last[0] = now
                self.progress.emit(request.job, (done_before + done) / total)
            return not request.cancel.is_set()

        written: list[str] = []
        try:
            for path, traj in request.files:
                if request.cancel.is_set():
                    raise ExportCancelled("export cancelled")
                write_trajectory_csv(path, traj, progress=report, columns=request.columns)
                written.append(path)
                done_before += len(traj.loss)
        except ExportCancelled:
            kept = f"; {len(written)} file(s) written before" if written else ""
            self.cancelled.emit(request.job, f"export cancelled{kept}")
            return
        except (ExportError, OSError, ValueError) as exc:
            self.failed.emit(request.job, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a dead thread
            self.failed.emit(request.job, f"export failed: {type(exc).__name__}: {exc}")
            return
        self.progress.emit(request.job, 1.0)
        size = 0
        for path in written:
            with contextlib.suppress(OSError):
                size += os.path.getsize(path)
        self.finished.emit(ExportResult(request.job, tuple(written), request.rows,
                                        request.columns, size))
