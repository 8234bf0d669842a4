"""The File menu's work: sessions, CSV datasets, CSV and plot exports.

:class:`FileActions` belongs to the window (its QObject parent); the action table names
its methods (``files.open_session``). A failure is reported through the window's
``_on_failed`` (a message box and the status bar) and changes nothing.
"""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6 import QtCore
from PySide6.QtWidgets import QFileDialog, QWidget

from gd_explorer.core.io.export import csv_file_name
from gd_explorer.core.session.specs import SessionError, load_session, save_session

CSV_FILTER = "CSV files (*.csv *.txt *.tsv);;All files (*)"
SESSION_FILTER = "gd-explorer sessions (*.json)"


def write_svg(widget: QWidget, path: str) -> None:
    """Render ``widget`` into an SVG file: lines and text as vectors, images embedded.

    (pyqtgraph's SVGExporter cannot parse the paths this Qt writes and raises.)
    """
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    tmp = f"{path}.part"
    generator = QSvgGenerator()
    generator.setFileName(tmp)
    generator.setSize(widget.size())
    generator.setViewBox(widget.rect())
    generator.setTitle("gd-explorer plot")
    painter = QPainter()
    try:
        if not painter.begin(generator):
            raise OSError(f"could not write {path}")
        try:
            widget.render(painter, QPoint(0, 0))
        finally:
            painter.end()
        os.replace(tmp, path)  # no half-written file under the chosen name
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class FileActions(QtCore.QObject):
    """Open and save sessions, open CSV datasets, export runs and plots.

    Parameters
    ----------
    window
        The :class:`~gd_explorer.ui.main_window.MainWindow` (parent of the dialogs; its
        model, problem panel, views and status bar).

    Attributes
    ----------
    session_path
        The file the session was opened from or last saved to (None: not saved yet).
    scalar_columns
        CSV exports write the scalar columns only (the checkable File ▸ Export scalar
        columns only).
    """

    def __init__(self, window):
        super().__init__(window)
        self.session_path: str | None = None
        self.scalar_columns = False

    @property
    def columns(self) -> str:
        """What CSV exports write: ``"scalar"`` (File ▸ Export scalar columns only) or
        ``"all"``."""
        return "scalar" if self.scalar_columns else "all"

    def set_scalar_columns(self, on: bool) -> None:
        """CSV exports write only step, loss, the norms and lr (on) or every column (off)."""
        self.scalar_columns = bool(on)

    @property
    def window(self):
        return self.parent()

    def _ask_path(self, title: str, filt: str, save: bool, default: str = "") -> str | None:
        if save:
            path, _ = QFileDialog.getSaveFileName(self.window, title, default, filt)
        else:
            path, _ = QFileDialog.getOpenFileName(self.window, title, default, filt)
        return path or None

    def _status(self, text: str, ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, ms)

    # ------------------------------------------------------------------ sessions
    def save_session(self, path: str | None = None) -> bool:
        """Save the session (to its current file, or ask)."""
        path = path or self.session_path
        if path is None:
            return self.save_session_as()
        try:
            save_session(path, self.window.model.session())
        except (OSError, ValueError) as exc:
            self.window._on_failed(f"cannot save the session: {exc}")
            return False
        self.session_path = path
        self._status(f"saved session {path}")
        return True

    def save_session_as(self) -> bool:
        """Save the session to a new file (asks for it)."""
        path = self._ask_path("Save session", SESSION_FILTER, True, "session.json")
        return self.save_session(path) if path else False

    def open_session(self, path: str | None = None) -> bool:
        """Open a session file; a broken or hostile file is refused and changes nothing."""
        if path is None:
            path = self._ask_path("Open session", f"{SESSION_FILTER};;All files (*)", False)
            if path is None:
                return False
        w = self.window
        try:
            session = load_session(path)
            w.model.apply_session(session)
        except (SessionError, ValueError, OSError) as exc:
            w._on_failed(f"cannot open {os.path.basename(path)}: {exc}")
            return False
        self.session_path = path
        w.problem_panel.refresh()
        self._status(f"opened {path}")
        return True

    # ------------------------------------------------------------------ datasets
    def open_csv(self) -> bool:
        """Choose a CSV file, preview it and choose its columns (read once, off the UI
        thread), then fit it."""
        from gd_explorer.ui.csv_dialog import CsvDialog  # only when asked for

        path = self._ask_path("Open CSV dataset", CSV_FILTER, False)
        if path is None:
            return False
        dialog = CsvDialog(self.window, path)
        try:
            if dialog.exec() != CsvDialog.DialogCode.Accepted:
                return False
            return self.load_csv(dialog.path, dialog.x_column, dialog.y_column)
        finally:
            dialog.deleteLater()

    def load_csv(self, path: str, x_column: int | str | None = None,
                 y_column: int | str | None = None) -> bool:
        """Fit the CSV dataset at ``path`` (columns by index or name; default the first
        two); a file that cannot be used is refused with a message and changes nothing."""
        w = self.window
        spec = replace(w.model.problem, kind="dataset", dataset=path, x_column=x_column,
                       y_column=y_column, maximize=None)
        try:
            w.model.set_problem(spec)
        except ValueError as exc:
            w._on_failed(str(exc))
            return False
        w.problem_panel.refresh()
        return True

    # ------------------------------------------------------------------ exports
    def export_csv(self, path: str | None = None) -> bool:
        """Export the selected run's trajectory (asks for a path when none is given).

        The file is written off the UI thread with progress and Cancel in the status bar;
        True when the export started.
        """
        model = self.window.model
        run_id = model.selected_run_id
        if run_id is None:
            return False
        if path is None:
            run = model.run(run_id)
            path = self._ask_path("Export trajectory", "CSV files (*.csv)", True,
                                  csv_file_name(model.runs.index(run) + 1,
                                                run.spec.display_label()))
            if path is None:
                return False
        return self._start_export([(run_id, path)])

    def export_all_csv(self, folder: str | None = None) -> bool:
        """Export every run into a folder (asks for one when none is given)."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.window, "Export all runs into folder")
            if not folder:
                return False
        try:
            files = self.window.model.export_files(folder=folder)
        except ValueError as exc:
            self.window._on_failed(f"cannot export: {exc}")
            return False
        return self._start_export(files)

    def _start_export(self, files) -> bool:
        try:
            self.window.model.export_runs(files, self.columns)
        except ValueError as exc:
            self.window._on_failed(str(exc))
            return False
        return True

    def export_plot(self, path: str | None = None) -> bool:
        """Save the main plot on screen as PNG or SVG."""
        if path is None:
            path = self._ask_path("Export plot", "PNG image (*.png);;SVG image (*.svg)", True,
                                  "plot.png")
            if path is None:
                return False
        views = self.window.views
        key = views.current()
        widget = views.view(key) if key is not None else views.main_tabs.currentWidget()
        try:
            if path.lower().endswith(".svg"):
                if key == "surface3d":
                    raise ValueError("the 3-D view is an OpenGL picture: export it as PNG")
                write_svg(widget, path)
            else:
                if not widget.grab().save(path):
                    raise OSError(f"could not write {path}")
        except (OSError, ValueError) as exc:
            self.window._on_failed(f"cannot export the plot: {exc}")
            return False
        self._status(f"saved {path}")
        return True
