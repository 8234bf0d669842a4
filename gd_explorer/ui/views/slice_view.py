"""The loss along one parameter through the current point, the others held fixed."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gd_explorer.ui.views._common import (
    LazyPage,
    PlotView,
    finite_bounds,
    fmt,
    padded,
    plain,
    set_curve_data,
)
from gd_explorer.ui.views.frame import Frame

_EMPTY = np.empty(0)


class SliceView(PlotView):
    """A 1-D slice of the loss: ``f`` as one parameter varies, the rest at the current point."""

    def __init__(self, parent=None):
        super().__init__("slicePlot", "Loss along one parameter", parent)
        self.plot_widget.setToolTip(
            "The loss as one parameter varies while the others stay at the current point; "
            "the marker is the current point. Right-click → View All to fit."
        )
        pi = self.plot_item
        self.curve = pg.PlotCurveItem(pen=pg.mkPen("#c8c8c8", width=2), connect="finite",
                                      antialias=True)
        self.curve.setZValue(10)
        self.vline = pg.InfiniteLine(angle=90, movable=False,
                                     pen=pg.mkPen(255, 255, 255, 80,
                                                  style=QtCore.Qt.PenStyle.DotLine))
        self.marker = pg.ScatterPlotItem(size=13, pen=pg.mkPen("w", width=1.5),
                                         brush=pg.mkBrush("w"))
        self.marker.setZValue(20)
        pi.addItem(self.curve)
        pi.addItem(self.vline, ignoreBounds=True)
        pi.addItem(self.marker)
        self.vline.hide()
        self._rect = None

    def set_slice(self, name: str, xs: np.ndarray, values: np.ndarray,
                  current: tuple[float, float] | None, color) -> None:
        """Draw the slice and mark the current point.

        Parameters
        ----------
        name
            The varied parameter.
        xs, values
            Parameter values and the loss there, shapes ``(m,)``; non-finite leave gaps.
        current
            ``(x0, f0)`` of the current point, or None.
        color
            The selected run's colour (the marker's fill).
        """
        xs = np.asarray(xs, dtype=np.float64).ravel()
        values = np.asarray(values, dtype=np.float64).ravel()
        if xs.shape != values.shape:
            raise ValueError(f"xs and values differ in length: {xs.shape} vs {values.shape}")
        name = str(name)
        self.plot_item.setTitle(plain(f"Loss along {name} (others fixed)"))
        self.plot_item.setLabel("bottom", plain(name))
        self.plot_item.setLabel("left", "loss")
        set_curve_data(self.curve, xs, values)
        ok = np.isfinite(xs) & np.isfinite(values)
        xb, yb = finite_bounds(xs[ok]), finite_bounds(values[ok])
        cur_ok = current is not None and all(np.isfinite(current))
        if cur_ok:
            x0, f0 = float(current[0]), float(current[1])
            self.marker.setData(pos=[(x0, f0)], brush=pg.mkBrush(color or "w"))
            self.marker.setToolTip(f"{name} = {fmt(x0)}, loss = {fmt(f0)}")
            self.vline.setPos(x0)
            self.vline.show()
            xb = finite_bounds(xs[ok], [x0])
            yb = finite_bounds(values[ok], [f0])
        else:
            self.marker.setData(pos=np.empty((0, 2)))
            self.vline.hide()
        if xb is None or yb is None:
            self._rect = None
            return
        self._rect = (*padded(xb, 0.02), *padded(yb, 0.08))
        self.fit_view()

    def _fit_rect(self):
        return self._rect


class SlicePage(QtWidgets.QWidget):
    """The slice with its parameter picker ("Loss along [w]"); the plot itself is built
    the first time the page is shown or :attr:`view` is read.

    Attributes
    ----------
    param
        The picker (``sliceParam``): which parameter the slice varies.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("slicePage")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Loss along"))
        self.param = QtWidgets.QComboBox()
        self.param.setObjectName("sliceParam")
        self.param.setToolTip("The parameter to vary; the others stay at the selected "
                              "run's current values")
        row.addWidget(self.param)
        row.addStretch(1)
        layout.addLayout(row)
        self._holder = LazyPage(SliceView, "sliceViewHolder")
        layout.addWidget(self._holder)

    @property
    def view(self) -> SliceView:
        """The slice plot (built when first read)."""
        return self._holder.view

    def set_names(self, names) -> None:
        """The parameters to choose from (the choice is not reported as a change)."""
        self.param.blockSignals(True)
        self.param.clear()
        self.param.addItems([str(n) for n in names])
        self.param.blockSignals(False)

    def show_frame(self, frame: Frame) -> None:
        """Compute and draw the slice through the selected run's point (costly: the window
        calls this at a low rate, and only while the page is shown)."""
        if frame.slice_along is None or frame.dim < 1:
            return
        idx = min(max(self.param.currentIndex(), 0), frame.dim - 1)
        sel = frame.selected
        xs, values, current = frame.slice_along(idx)
        self.view.set_slice(frame.names[idx], xs, values, current,
                            sel.color if sel else "#ffffff")
