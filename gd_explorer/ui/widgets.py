"""Small reusable input widgets: exact number fields and a log-scale learning-rate editor."""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QSlider, QStyle, QStyleOptionSlider, QWidget

_ERROR_STYLE = "QLineEdit { border: 1px solid #c0392b; background: #fdecea; }"
#: what a number field accepts: a decimal number with an optional exponent. Python's
#: float() also takes "1_5" (15), " inf", "nan" and "infinity"; a comma is a thousands
#: separator in some locales and a decimal point in others ("1,000"): all refused.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: the same pattern for other fields that take a number typed exactly
NUMBER = _NUMBER


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
        return None if self.problem(text) else float(text.strip())

    def problem(self, text: str) -> str | None:
        """Why ``text`` is not acceptable, or None."""
        t = text.strip()
        if "," in t:
            return (f"{text!r}: use a point for decimals and no thousands separator "
                    "(1000 or 1e3, 0.5)")
        if not _NUMBER.fullmatch(t):
            return f"{text!r} is not a number (examples: 0.01, -2.5, 1e-3)"
        v = float(t)
        if not math.isfinite(v):
            return "must be finite (at most about 1.8e308)"
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


class EdgeSlider(QSlider):
    """A slider with an optional mark at one value: the selected run's stability edge."""

    EDGE_COLOR = "#d62728"

    def __init__(self, orientation, parent=None):
        super().__init__(orientation, parent)
        self._mark: int | None = None

    def set_mark(self, pos: int | None) -> None:
        """Mark slider value ``pos`` (None, or outside the range: no mark)."""
        if pos is not None and not self.minimum() <= pos <= self.maximum():
            pos = None
        if pos != self._mark:
            self._mark = pos
            self.update()

    def mark(self) -> int | None:
        return self._mark

    def mark_x(self) -> int | None:
        """The mark's x in widget pixels (where the handle's centre is at that value)."""
        if self._mark is None:
            return None
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                      QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                      QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        offset = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), self._mark,
                                                span, opt.upsideDown)
        return groove.x() + handle.width() // 2 + offset

    def paintEvent(self, ev):  # noqa: N802 - Qt override
        super().paintEvent(ev)
        x = self.mark_x()
        if x is None:
            return
        painter = QPainter(self)
        painter.setPen(QPen(QColor(self.EDGE_COLOR), 2))
        painter.drawLine(x, 1, x, self.height() - 2)
        painter.fillRect(QRect(x - 3, 0, 7, 3), QColor(self.EDGE_COLOR))
        painter.end()


class LearningRateEdit(QWidget):
    """Exact learning-rate field plus a log-scale slider.

    The slider spans two decades centred on the current rate (within 1e-6 … 10) and
    re-centres when a drag ends or a rate is typed: a 40-pixel drag changes the rate by
    a fraction of a decade, not by three decades.
    """

    value_edited = Signal(float)
    LOG_MIN, LOG_MAX, TICKS_PER_DECADE = -6, 1, 100
    #: decades either side of the current value that the slider covers
    SPAN = 1.0

    def __init__(self, value: float = 0.01, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = NumberEdit(value, positive=True)
        self.edit.setObjectName("learningRate")
        self.edit.setToolTip("Learning rate: type any positive value exactly (e.g. 2e-6), "
                             "or drag the slider.")
        self.slider = EdgeSlider(Qt.Orientation.Horizontal)
        self._edge: float | None = None
        self._edge_text = ""
        self.slider.setObjectName("learningRateSlider")
        self.slider.setMinimumWidth(120)
        self.slider.setSingleStep(2)  # arrow keys: ×1.05
        self.slider.setPageStep(25)  # page up/down: ×1.78
        lay.addWidget(self.edit, 2)
        lay.addWidget(self.slider, 3)
        self._sync_slider(value)
        self.edit.value_edited.connect(self._on_edit)
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderReleased.connect(self._recentre)

    def value(self) -> float:
        return self.edit.value()

    def set_value(self, v: float) -> None:
        """Show ``v`` without emitting."""
        self.edit.set_value(v)
        if not self.slider.isSliderDown():
            self._sync_slider(v)

    def _sync_slider(self, v: float) -> None:
        """Centre the slider's two decades on ``v`` and put the handle there."""
        t = self.TICKS_PER_DECADE
        pos = round(math.log10(v) * t) if v > 0 and math.isfinite(v) else 0
        lo = max(self.LOG_MIN * t, min(pos - round(self.SPAN * t), self.LOG_MAX * t - 2 * t))
        hi = min(self.LOG_MAX * t, lo + round(2 * self.SPAN * t))
        self.slider.blockSignals(True)
        self.slider.setRange(lo, hi)
        self.slider.setValue(pos)
        self.slider.blockSignals(False)
        self._place_edge()

    def set_edge(self, edge: float | None, text: str = "") -> None:
        """Mark the stability edge ``edge`` on the slider (None or inf: no mark) and say
        ``text`` ("stable here for lr < 0.0198") in its tool tip."""
        if edge is not None and not (math.isfinite(edge) and edge > 0):
            edge = None
        if (edge, text) == (self._edge, self._edge_text):
            return
        self._edge, self._edge_text = edge, text
        self._place_edge()

    def edge(self) -> float | None:
        return self._edge

    def _place_edge(self) -> None:
        lo, hi = self.slider.minimum(), self.slider.maximum()
        pos = None
        if self._edge is not None:
            pos = round(math.log10(self._edge) * self.TICKS_PER_DECADE)
        self.slider.set_mark(pos)
        tip = (f"Learning rate on a log scale, {self._at(lo):g} to {self._at(hi):g} "
               f"(re-centred on the rate after each drag; arrow keys: ×1.05)")
        if self._edge_text:
            where = ("the red mark" if self.slider.mark() is not None
                     else "off this slider's range")
            tip += f"\nCurvature at the selected step: {self._edge_text} ({where})"
        self.slider.setToolTip(tip)

    def _at(self, pos: int) -> float:
        return float(f"{10 ** (pos / self.TICKS_PER_DECADE):.3g}")

    def _recentre(self) -> None:
        self._sync_slider(self.edit.value())

    def _on_edit(self, v: float) -> None:
        self._sync_slider(v)
        self.value_edited.emit(v)

    def _on_slider(self, pos: int) -> None:
        v = self._at(pos)
        self.edit.set_value(v)
        self.value_edited.emit(v)
        if not self.slider.isSliderDown():  # keys, wheel, clicks on the groove
            self._sync_slider(v)
