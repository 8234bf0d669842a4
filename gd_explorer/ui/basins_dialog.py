"""The small dialog that asks for a basin map's grid and steps (Run ▸ Basins of attraction)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox

from gd_explorer.core.lab.basins import BasinSettings
from gd_explorer.core.limits import MAX_BASIN_GRID, MAX_STEPS


class BasinsDialog(QDialog):
    """Grid points per axis and steps per start; OK computes (the window connects
    ``accepted``), the values are the session's from then on."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("basinsDialog")
        self.setWindowTitle("Basins of attraction")
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        self.note = QLabel()
        self.note.setObjectName("basinsNote")
        self.note.setTextFormat(Qt.TextFormat.PlainText)  # a run label is user text
        self.note.setWordWrap(True)
        self.set_run_label("")
        form.addRow(self.note)
        self.grid = QSpinBox()
        self.grid.setObjectName("basinsGrid")
        self.grid.setRange(2, MAX_BASIN_GRID)
        self.grid.setSuffix(" per axis")
        self.grid.setToolTip(f"Starts along each axis of the surface window (2 to "
                             f"{MAX_BASIN_GRID:,}; 200 × 200 takes about a second)")
        self.steps = QSpinBox()
        self.steps.setObjectName("basinsSteps")
        self.steps.setRange(1, MAX_STEPS)
        self.steps.setGroupSeparatorShown(True)
        self.steps.setToolTip("Most updates per start; a start whose gradient norm falls "
                              "below the tolerance has converged")
        form.addRow("Grid", self.grid)
        form.addRow("Steps", self.steps)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.setObjectName("basinsButtons")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def set_run_label(self, label: str) -> None:
        """Name the selected run whose optimizer descends the grid."""
        run = f" ({label})" if label else ""
        self.note.setText("Descend a grid of starts over the surface window with the "
                          f"selected run's optimizer{run}, and colour each start by the "
                          "minimum it reaches (paler: more steps).")

    def set_settings(self, settings: BasinSettings) -> None:
        self.grid.setValue(settings.grid)
        self.steps.setValue(settings.steps)

    def settings(self) -> BasinSettings:
        return BasinSettings(self.grid.value(), self.steps.value())

    @property
    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)
