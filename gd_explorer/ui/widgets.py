"""Small reusable input widgets: exact number fields and a log-scale learning-rate editor."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QSlider, QWidget

_ERROR_STYLE = "QLineEdit { border: 1px solid #c0392b; background: #fdecea; }"


def format_number(v: float) -> str:
    """Shortest text that reads back to the same float (``repr``), without ``np.`` noise."""
    v = float(v)
    return repr(v) if math.isfinite(v) else str(v)


class NumberEdit(QLineEdit):
    """A line edit for one float, typed exactly; emits ``value_edited`` on Enter/focus-out.

    Invalid text is marked red with the reason as tooltip and changes nothing.
    """

    value_edited = Signal(float)

    def __init__(self, value: float = 0.0, *, minimum: float = -math.inf,
                 maximum: float = math.inf, positive: bool = False, parent=None):
        super().__init__(parent)
        self._min, self._max, self._positive = minimum, maximum, positive
        self._value = float(value)
        self._help = ""
        self.setText(format_number(value))
        self.editingFinished.connect(self._commit)
        self.textEdited.connect(self._check)
        self.setMinimumWidth(90)

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt override
        self._help = text
        super().setToolTip(text)

    def value(self) -> float:
        """The last valid value."""
        return self._value

    def set_value(self, v: float) -> None:
        """Show ``v`` (no signal)."""
        self._value = float(v)
        if self.parse(self.text()) != self._value:
            self.setText(format_number(v))
        self._mark(None)

    def parse(self, text: str) -> float | None:
        """The value of ``text`` or None if it is not acceptable."""
        return None if self.problem(text) else float(text.strip().replace(",", "."))

    def problem(self, text: str) -> str | None:
        """Why ``text`` is not acceptable, or None."""
        try:
            v = float(text.strip().replace(",", "."))
        except ValueError:
            return f"{text!r} is not a number"
        if not math.isfinite(v):
            return "must be finite"
        if self._positive and v <= 0:
            return "must be positive"
        if v < self._min:
            return f"must be at least {self._min:g}"
        if v > self._max:
            return f"must be at most {self._max:g}"
        return None

    def _mark(self, problem: str | None) -> None:
        self.setStyleSheet(_ERROR_STYLE if problem else "")
        super().setToolTip(f"{problem}\n\n{self._help}" if problem else self._help)

    def _check(self, text: str) -> None:
        self._mark(self.problem(text))

    def _commit(self) -> None:
        v = self.parse(self.text())
        if v is None:
            return
        self._mark(None)
        if v != self._value:
            self._value = v
            self.value_edited.emit(v)


class LearningRateEdit(QWidget):
    """Exact learning-rate field plus a log-scale slider from 1e-6 to 10."""

    value_edited = Signal(float)
    LOG_MIN, LOG_MAX, TICKS_PER_DECADE = -6, 1, 100

    def __init__(self, value: float = 0.01, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = NumberEdit(value, positive=True)
        self.edit.setObjectName("learningRate")
        self.edit.setToolTip("Learning rate: type any positive value exactly (e.g. 2e-6), "
                             "or drag the log-scale slider.")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("learningRateSlider")
        self.slider.setRange(self.LOG_MIN * self.TICKS_PER_DECADE,
                             self.LOG_MAX * self.TICKS_PER_DECADE)
        self.slider.setToolTip("Learning rate on a log scale, 1e-6 to 10")
        self.slider.setMinimumWidth(100)
        lay.addWidget(self.edit, 2)
        lay.addWidget(self.slider, 3)
        self._sync_slider(value)
        self.edit.value_edited.connect(self._on_edit)
        self.slider.valueChanged.connect(self._on_slider)

    def value(self) -> float:
        return self.edit.value()

    def set_value(self, v: float) -> None:
        """Show ``v`` without emitting."""
        self.edit.set_value(v)
        self._sync_slider(v)

    def _sync_slider(self, v: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(math.log10(v) * self.TICKS_PER_DECADE))
        self.slider.blockSignals(False)

    def _on_edit(self, v: float) -> None:
        self._sync_slider(v)
        self.value_edited.emit(v)

    def _on_slider(self, pos: int) -> None:
        v = float(f"{10 ** (pos / self.TICKS_PER_DECADE):.3g}")
        self.edit.set_value(v)
        self.value_edited.emit(v)
