"""Open a CSV dataset: read it off the UI thread, preview it, choose the x and y columns."""

from __future__ import annotations

import html
import os

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from gd_explorer.core.io.tabular import DataError, Table, read_table
from gd_explorer.model.threads import new_thread
from gd_explorer.ui.support import error_html

PREVIEW_ROWS = 50


class _Reader(QObject):
    done = Signal(object)
    failed = Signal(str)

    @Slot(str)
    def read(self, path: str) -> None:
        try:
            self.done.emit(read_table(path))
        except DataError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # never a traceback in the UI
            self.failed.emit(f"{path}: {exc}")


class CsvDialog(QDialog):
    """Pick a CSV file, see its first rows, choose the columns; read in a thread."""

    _read = Signal(str)

    def __init__(self, parent=None, path: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Open CSV dataset")
        self.setObjectName("csvDialog")
        self.setMinimumSize(560, 420)
        self.table: Table | None = None
        self.error: str | None = None
        self.path = path or ""
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.path_edit = QLineEdit(self.path)
        self.path_edit.setObjectName("csvPath")
        self.path_edit.setToolTip("The CSV file: header optional; , ; or tab separated")
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose a CSV file")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator while the thread reads
        self.progress.hide()
        lay.addWidget(self.progress)
        self.info = QLabel("Choose a file.")
        self.info.setObjectName("csvInfo")
        self.info.setTextFormat(Qt.TextFormat.RichText)  # always escaped text
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.preview = QTableWidget()
        self.preview.setObjectName("csvPreview")
        self.preview.setToolTip(f"The first {PREVIEW_ROWS} rows")
        lay.addWidget(self.preview, 1)
        form = QFormLayout()
        self.x_combo = QComboBox()
        self.x_combo.setObjectName("csvX")
        self.x_combo.setToolTip("Column of the inputs x")
        self.y_combo = QComboBox()
        self.y_combo.setObjectName("csvY")
        self.y_combo.setToolTip("Column of the targets y")
        form.addRow("x column", self.x_combo)
        form.addRow("y column", self.y_combo)
        lay.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._ok().setEnabled(False)
        self.path_edit.returnPressed.connect(self._on_path_entered)

        self._thread = new_thread("csvReader", self)
        self._reader = _Reader()
        self._reader.moveToThread(self._thread)
        self._read.connect(self._reader.read)
        self._reader.done.connect(self._on_table)
        self._reader.failed.connect(self._on_error)
        self._thread.start()
        self.finished.connect(self._stop_thread)
        if self.path:
            self.load(self.path)

    def _on_path_entered(self) -> None:
        self.load(self.path_edit.text())

    def _ok(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _stop_thread(self, *_args) -> None:
        self._thread.quit()
        self._thread.wait(5000)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open CSV", os.path.dirname(self.path),
                                              "CSV files (*.csv *.txt *.tsv);;All files (*)")
        if path:
            self.path_edit.setText(path)
            self.load(path)

    def load(self, path: str) -> None:
        """Start reading ``path`` in the background."""
        self.path = path
        self.table = None
        self._ok().setEnabled(False)
        self.progress.show()
        self.info.setText(html.escape(f"reading {os.path.basename(path)}…"))
        self._read.emit(path)

    def _on_table(self, table: Table) -> None:
        if table.path != self.path:
            return  # an older request
        self.progress.hide()
        self._show(table)

    def _on_error(self, text: str) -> None:
        self.progress.hide()
        self.error = text
        self.info.setText(error_html(text))
        self.preview.clear()
        self.preview.setRowCount(0)
        self.x_combo.clear()
        self.y_combo.clear()

    def _show(self, table: Table) -> None:
        self.table = table
        self.error = None
        n, m = table.data.shape
        sep = {",": "comma", ";": "semicolon", "\t": "tab", " ": "spaces"}.get(
            table.delimiter, table.delimiter)
        self.info.setText(f"{n:,} rows × {m} columns, {sep}-separated, "
                          f"{'with' if table.has_header else 'no'} header")
        self.preview.setColumnCount(m)
        self.preview.setHorizontalHeaderLabels(list(table.columns))
        rows = min(n, PREVIEW_ROWS)
        self.preview.setRowCount(rows)
        for i in range(rows):
            for j in range(m):
                self.preview.setItem(i, j, QTableWidgetItem(repr(float(table.data[i, j]))))
        for combo, default in ((self.x_combo, 0), (self.y_combo, 1)):
            combo.clear()
            combo.addItems(list(table.columns))
            combo.setCurrentIndex(default)
        self._ok().setEnabled(True)

    @property
    def x_column(self) -> int | None:
        return self.x_combo.currentIndex() if self.table is not None else None

    @property
    def y_column(self) -> int | None:
        return self.y_combo.currentIndex() if self.table is not None else None

    def _on_ok(self) -> None:
        if self.table is None:
            return
        if self.x_column == self.y_column:
            self.info.setText(error_html("choose two different columns"))
            return
        self.accept()
