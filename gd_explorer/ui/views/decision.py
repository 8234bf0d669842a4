"""A binary classifier's decision function: the selected run's P(class 1) = sigmoid(z) over
the input plane at the timeline cursor as a heat map, its 0.5 contour and the data (train
filled, test hollow; class 0 blue circles, class 1 orange triangles), live while the run
trains.

The model computes the grid and the contour
(:meth:`~gd_explorer.model.explorer.ExplorerModel.decision`, kept for the run and row);
this view only draws them, and asks nothing while its tab is hidden.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from gd_explorer.ui.views._common import PlotView, plain, set_curve_data
from gd_explorer.ui.views.frame import Frame

#: colour-blind-safe diverging map (CET-CBD1: blue, grey, yellow; for deuteranopes and
#: protanopes as for everyone), P = 0 blue, 0.5 grey, 1 yellow
DECISION_COLORMAP = "CET-CBD1"
#: the classes by colour (navy and Okabe–Ito's vermilion: each stands out on the map's
#: blue and yellow) and by marker shape
CLASS_STYLE = (("#0B2E6B", "o", "class 0"), ("#D55E00", "t1", "class 1"))
POINT_SIZE = 9
#: a plot narrower than this (pixels) shows no colour bar: the map would be cut instead
COLORBAR_MIN_WIDTH = 420

#: while the runs run, a new map at most this often (seconds): one costs ~5-15 ms (a pass
#: of the network over the grid); paused, every change of row draws at once
RUNNING_INTERVAL_S = 0.2

_NO_POINTS = np.empty((0, 2))


def _accuracy(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{100 * v:.1f} %"


def title_of(dmap) -> str:
    """The title's text: the accuracy (train, and test where there is a split); short, as
    a title's width is the plot's least width."""
    text = f"Accuracy: train {_accuracy(dmap.train_accuracy)}"
    if len(dmap.data.y_test):
        text += f", test {_accuracy(dmap.test_accuracy)}"
    return text


def corner_of(dmap) -> str:
    """Which run and step the map shows (the plot's corner)."""
    return f"{dmap.label} · step {dmap.row:,}"


class DecisionView(PlotView):
    """P(class 1) of the selected run over the input plane, the 0.5 contour and the data."""

    def __init__(self, parent=None):
        super().__init__("decisionPlot", "Decision function", parent)
        self.plot_widget.setToolTip(
            "The selected run's network at the timeline's step: the probability it gives "
            "class 1, sigmoid(output), at every point of the input plane (blue: class 0, "
            "yellow: class 1, grey: undecided), the 0.5 boundary (white), and the data: "
            "training points filled, test points hollow, class 0 circles, class 1 "
            "triangles. Drag to pan, wheel to zoom, right-click → View All to fit.")
        pi = self.plot_item
        pi.setLabel("bottom", "x1")
        pi.setLabel("left", "x2")
        self.colormap = pg.colormap.get(DECISION_COLORMAP)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(self.colormap.getLookupTable(0.0, 1.0, 256))
        self.image.setZValue(-10)
        pi.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.colormap,
                                        label="P(class 1)", interactive=False, width=14)
        self.colorbar.setImageItem(self.image, insert_in=pi)
        self.colorbar.setToolTip("The probability of class 1 the network gives: "
                                 "sigmoid of its output")
        self.contour = pg.PlotCurveItem(pen=pg.mkPen("#ffffff", width=2.5), connect="finite",
                                        antialias=True)
        self.contour.setZValue(5)
        pi.addItem(self.contour)
        self.add_legend()
        self.legend.setToolTip("The classes by colour and shape; hollow: the test split")
        # train (filled) and test (hollow) points of each class
        self.points: dict[tuple[str, int], pg.ScatterPlotItem] = {}
        for part in ("train", "test"):
            for cls, (color, symbol, _) in enumerate(CLASS_STYLE):
                filled = part == "train"
                item = pg.ScatterPlotItem(
                    size=POINT_SIZE if filled else POINT_SIZE + 1, symbol=symbol,
                    pen=pg.mkPen("#f0f0f0" if filled else color, width=1.0 if filled else 2.2),
                    brush=pg.mkBrush(color) if filled else pg.mkBrush(0, 0, 0, 0))
                item.setZValue(10)
                pi.addItem(item)
                self.points[part, cls] = item
        self._legend_items = []
        self._data = None  # the DecisionData drawn
        self._rect = None
        self.map = None  # the DecisionMap drawn last (tests read it)
        self._drawn_at = -math.inf

    # ------------------------------------------------------------------ feeding
    def show_frame(self, frame: Frame) -> None:
        """The selected run's decision function, asked of the frame's model only while the
        tab is shown (a hidden tab catches up when it is shown)."""
        if frame.decision is None or self._defer_while_hidden("show_frame", frame):
            return
        now = time.monotonic()
        if frame.running and now - self._drawn_at < RUNNING_INTERVAL_S:
            return  # the next paced tick, or the end of the run, draws it
        self._drawn_at = now
        self.set_map(frame.decision())

    def set_map(self, dmap) -> None:
        """Draw a :class:`~gd_explorer.model.net_metrics.DecisionMap` (None: nothing)."""
        self.map = dmap
        if dmap is None:
            self.image.clear()
            set_curve_data(self.contour, [], [])
            self.plot_item.setTitle("Decision function (select a run)")
            self.set_corner_text("")
            return
        if dmap.data is not self._data:
            self._set_data(dmap.data)
        xs, ys = dmap.xs, dmap.ys
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        self.image.setImage(dmap.probability, levels=(0.0, 1.0), autoLevels=False)
        # pixel centres on the grid points
        self.image.setRect(QtCore.QRectF(xs[0] - dx / 2, ys[0] - dy / 2,
                                         xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy))
        c = dmap.contour
        set_curve_data(self.contour, c[:, 0], c[:, 1])
        self.plot_item.setTitle(plain(title_of(dmap)), size="10pt")
        self.set_corner_text(corner_of(dmap))  # plain text item: no HTML
        rect = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))
        if rect != self._rect:
            self._rect = rect
            self.fit_view()

    def _set_data(self, data) -> None:
        self._data = data
        for part, x, y in (("train", data.x, data.y), ("test", data.x_test, data.y_test)):
            for cls in (0, 1):
                sel = (y > 0.5) == bool(cls)
                pts = np.asarray(x, dtype=np.float64)[sel] if len(y) else _NO_POINTS
                self.points[part, cls].setData(pos=pts)
        for item in self._legend_items:
            self.legend.removeItem(item)
        self._legend_items = []
        for cls, (_, _, name) in enumerate(CLASS_STYLE):
            self._add_legend(self.points["train", cls], f"{name} (train)")
        if len(data.y_test):
            for cls, (_, _, name) in enumerate(CLASS_STYLE):
                self._add_legend(self.points["test", cls], f"{name} (test)")
        self._add_legend(self.contour, "P = 0.5")
        self._show_legend()

    def _add_legend(self, item, text: str) -> None:
        self.legend.addItem(item, plain(text))
        self._legend_items.append(item)

    def resizeEvent(self, ev):  # noqa: N802 - Qt override
        super().resizeEvent(ev)
        wide = self.width() >= COLORBAR_MIN_WIDTH
        if wide != self.colorbar.isVisible():
            self.colorbar.setVisible(wide)
            # a hidden item keeps its column in the plot's layout: give the column up
            self.colorbar.setMaximumWidth(10_000 if wide else 0)
            self.colorbar.setMinimumWidth(0)

    def _fit_rect(self):
        return self._rect
