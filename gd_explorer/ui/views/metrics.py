"""Train and test measures against step for every run, and the selected run's per-layer
weight and gradient norms, in stacked plots sharing the step axis:

* loss (log y): the training loss on all the data (solid; for mini-batch runs too) and the
  test loss (dashed) where there is a test split;
* accuracy (classifiers): train solid, test dashed;
* norms (log y) of the selected run: each layer's weights (solid) and gradient (dashed).

The model computes the values (:meth:`~gd_explorer.model.explorer.ExplorerModel.metrics`:
decimated, extended incrementally); this view draws them, and asks nothing while hidden.
Log axes draw log10 of the values with the axis labelled in powers of ten; values ≤ 0 or
not finite leave a gap.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gd_explorer.ui.views._common import finite_bounds, padded, plain, set_curve_data
from gd_explorer.ui.views.frame import Frame

#: the layers' colours in the norms plot (Okabe–Ito; a run's colour means a run elsewhere)
LAYER_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#CC79A7", "#0072B2", "#D55E00",
                "#FFFFFF")
_DASH = QtCore.Qt.PenStyle.DashLine
_CACHE = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
_GREY = "#bbbbbb"
#: a plot smaller than this (pixels) shows no legend and no title: they would cover it
LEGEND_MIN = (380, 110)
#: while rows are missing, the next update follows this soon (milliseconds)
MORE_MS = 30


def log10(v) -> np.ndarray:
    """log10 where positive and finite, NaN elsewhere."""
    v = np.asarray(v, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v) & (v > 0)
    out[ok] = np.log10(v[ok])
    return out


def log_ticks(lo: float, hi: float, most: int = 6) -> list[tuple[float, str]]:
    """Ticks of a log10 axis from ``lo`` to ``hi`` (log10 units): the powers of ten, with
    2 and 5 between them when fewer than two powers are in range, thinned to at most six
    (pyqtgraph's own minor log labels overlap on a short plot): at most ``most``."""
    decades = list(range(math.ceil(lo), math.floor(hi) + 1))
    values = [float(d) for d in decades]
    if len(decades) < 2:
        values = sorted(d + math.log10(m) for d in range(math.floor(lo), math.ceil(hi) + 1)
                        for m in (1, 2, 5) if lo <= d + math.log10(m) <= hi)
    if not values:  # less than a factor of 2: one label in the middle
        mid = 0.5 * (lo + hi)
        return [(mid, f"{10 ** mid:.3g}")]
    step = max(1, -(-len(values) // max(1, most)))
    return [(v, f"{10 ** v:g}") for v in values[::step]]


class _Plot:
    """One of the stacked plots: its widget, items by key, cursor line and data range."""

    def __init__(self, name: str, title: str, ylabel: str, tooltip: str, log: bool,
                 corner=(-6, 6), columns: int = 1):
        self.widget = pg.PlotWidget()
        self.widget.setObjectName(name)
        self.widget.setToolTip(tooltip)
        self.item: pg.PlotItem = self.widget.getPlotItem()
        self.item.hideButtons()
        self.item.showGrid(x=True, y=True, alpha=0.15)
        self.title = title
        if title:
            self.item.setTitle(title, size="9pt")
        else:
            self.item.setTitle(None)
        self.item.setLabel("left", ylabel)
        self.item.getViewBox().disableAutoRange()
        self.item.getAxis("bottom").enableAutoSIPrefix(False)
        self.item.getAxis("left").enableAutoSIPrefix(False)
        for axis in self.item.axes.values():  # repainted from a pixmap until the range moves
            axis["item"].setCacheMode(_CACHE)
        if log:
            self.item.getAxis("left").setLogMode(True)  # the data are log10 already
        self.log = log
        self.legend = self.item.addLegend(offset=corner, labelTextSize="8pt",
                                          labelTextColor="#e6e6e6", colCount=columns)
        self.legend.setBrush(pg.mkBrush(0, 0, 0, 150))
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(
            255, 255, 255, 90, style=QtCore.Qt.PenStyle.DotLine))
        self.item.addItem(self.cursor_line, ignoreBounds=True)
        self.cursor_line.hide()
        self.curves: dict[object, pg.PlotCurveItem] = {}
        self._legend: dict[object, str] = {}

    def curve(self, key, color: str, dashed: bool = False) -> pg.PlotCurveItem:
        item = self.curves.get(key)
        pen = pg.mkPen(color, width=2, style=_DASH if dashed else QtCore.Qt.PenStyle.SolidLine)
        if item is None:
            item = self.curves[key] = pg.PlotCurveItem(pen=pen, connect="finite")
            self.item.addItem(item)
        else:
            item.setPen(pen)
        return item

    def set_legend(self, key, text: str | None) -> None:
        """Show curve ``key`` in the legend as ``text`` (None: not at all)."""
        if self._legend.get(key) == text:
            return
        item = self.curves[key]
        if key in self._legend:
            self.legend.removeItem(item)
            del self._legend[key]
        if text is not None:
            self.legend.addItem(item, plain(text))
            self._legend[key] = text

    def keep(self, keys) -> None:
        """Remove the curves not in ``keys``."""
        for key in [k for k in self.curves if k not in keys]:
            self.set_legend(key, None)
            self.item.removeItem(self.curves.pop(key))

    def fit(self, last_step: int, ys: list, y_range=None) -> None:
        yb = y_range if y_range is not None else (finite_bounds(*ys) if ys else None)
        if yb is None:
            return
        y_range = padded(yb, 0.08)
        self.item.getViewBox().setRange(xRange=padded((0.0, float(max(last_step, 1))), 0.02),
                                        yRange=y_range, padding=0)
        if self.log:
            # a label per ~24 pixels of height at most: a short plot keeps a few
            most = max(2, min(6, int(self.item.getViewBox().height() // 24)))
            self.item.getAxis("left").setTicks([log_ticks(*y_range, most)])

    def fit_size(self) -> None:
        """Legend and title only where the plot is large enough for them."""
        size = self.widget.size()
        big = size.width() >= LEGEND_MIN[0] and size.height() >= LEGEND_MIN[1]
        self.legend.setVisible(big and bool(self.legend.items))
        titled = big and bool(self.title)
        if titled != self.item.titleLabel.isVisible():
            if titled:
                self.item.setTitle(self.title, size="9pt")
            else:
                self.item.setTitle(None)

    def set_title(self, text: str) -> None:
        self.title = text
        if self.item.titleLabel.isVisible():
            self.item.setTitle(text, size="9pt")

    def set_cursor(self, cursor) -> None:
        self.cursor_line.setVisible(cursor is not None)
        if cursor is not None:
            self.cursor_line.setPos(cursor)


class MetricsView(QtWidgets.QWidget):
    """Loss, accuracy and per-layer norms against step (see the module docstring)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("metricsView")
        self.setMinimumSize(320, 240)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.loss = _Plot(
            "metricsLossPlot", "", "loss",
            "Every run's loss on all the training data (solid; for mini-batch runs too) and "
            "on the test split (dashed), log scale",
            log=True)
        self.accuracy = _Plot(
            "metricsAccuracyPlot", "", "accuracy",
            "Every run's share of points classified right (probability above 0.5 for class "
            "1): training data solid, test split dashed", log=False, corner=(-6, -6))
        self.norms = _Plot(
            "metricsNormsPlot", "Layer norms", "norm",
            "The selected run's per-layer Euclidean norms, log scale: each layer's weights "
            "and biases (solid) and of its recorded gradient (dashed)", log=True, columns=2)
        for plot in (self.accuracy, self.norms):
            plot.item.setXLink(self.loss.item)
        self.norms.item.setLabel("bottom", "step")
        for plot in (self.loss, self.accuracy, self.norms):
            layout.addWidget(plot.widget, 1)
        self.data = None  # the Metrics drawn last (tests read it)
        self._pending = None
        self._frame = None
        # a long run's rows fill in over several updates: ask again soon, not at the next
        # tick (a finished run has none)
        self._more = QtCore.QTimer(self)
        self._more.setSingleShot(True)
        self._more.setInterval(MORE_MS)
        self._more.timeout.connect(self._on_more)

    @property
    def plots(self) -> tuple[_Plot, ...]:
        return self.loss, self.accuracy, self.norms

    # ------------------------------------------------------------------ feeding
    def show_frame(self, frame: Frame) -> None:
        """Every run's metrics, asked of the frame's model only while the tab is shown."""
        if frame.metrics is None:
            return
        if not self.isVisible() and self.window().isVisible():
            self._pending = frame  # drawn when the tab is shown
            return
        self._frame = frame
        metrics = frame.metrics()
        self.set_metrics(metrics)
        if not metrics.complete and not self._more.isActive():
            self._more.start()

    def _on_more(self) -> None:
        if self._frame is not None:
            self.show_frame(self._frame)

    def resizeEvent(self, ev):  # noqa: N802 - Qt override
        super().resizeEvent(ev)
        for plot in self.plots:
            plot.fit_size()

    def showEvent(self, ev):  # noqa: N802 - Qt override
        super().showEvent(ev)
        frame, self._pending = self._pending, None
        if frame is not None:
            self.show_frame(frame)

    def set_metrics(self, metrics) -> None:
        """Draw a :class:`~gd_explorer.model.net_metrics.Metrics`."""
        self.data = metrics
        runs = [r for r in metrics.runs if r.visible]
        names = metrics.names
        test = "test loss" in names
        classifier = "train accuracy" in names
        self.accuracy.widget.setVisible(classifier)
        last = max((r.rows - 1 for r in runs), default=1)
        # loss and accuracy: every visible run, train solid, test dashed
        for plot, part, log in ((self.loss, "loss", True), (self.accuracy, "accuracy", False)):
            keys, ys = set(), []
            for r in runs:
                for split, dashed in (("train", False), ("test", True)):
                    name = f"{split} {part}"
                    if name not in r.values:
                        continue
                    y = log10(r.values[name]) if log else np.asarray(r.values[name])
                    item = plot.curve((r.run_id, split), r.color, dashed)
                    set_curve_data(item, r.steps, y)
                    plot.set_legend((r.run_id, split), r.label if split == "train" else None)
                    keys.add((r.run_id, split))
                    ys.append(y)
            if test and runs:  # one legend entry says what dashed means
                item = plot.curve("test-key", _GREY, dashed=True)
                set_curve_data(item, [], [])
                plot.set_legend("test-key", "test split (dashed)")
                keys.add("test-key")
            plot.keep(keys)
            plot.fit(last, ys, (0.0, 1.0) if not log else None)
        # the selected run's layer norms
        sel = metrics.selected or (runs[0] if runs else None)
        keys, ys = set(), []
        titles = metrics.layer_titles
        if sel is not None and sel.weight_norms.shape[1]:
            self.norms.set_title(plain(f"Layer norms — {sel.label}"))
            for layer, title in enumerate(titles):
                color = LAYER_COLORS[layer % len(LAYER_COLORS)]
                for kind, arr, dashed in (("w", sel.weight_norms, False),
                                          ("g", sel.grad_norms, True)):
                    y = log10(arr[:, layer])
                    set_curve_data(self.norms.curve((kind, layer), color, dashed), sel.steps, y)
                    self.norms.set_legend((kind, layer), title if kind == "w" else None)
                    keys.add((kind, layer))
                    ys.append(y)
            item = self.norms.curve("grad-key", _GREY, dashed=True)
            set_curve_data(item, [], [])
            self.norms.set_legend("grad-key", "gradient (dashed)")
            keys.add("grad-key")
        else:
            self.norms.set_title("Layer norms")
        self.norms.keep(keys)
        self.norms.fit(last, ys)
        for plot in self.plots:
            plot.set_cursor(metrics.cursor)
            plot.fit_size()
