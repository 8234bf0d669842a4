"""Dataset mode: the data as a scatter, each run's fitted curve, the current mini-batch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from gd_explorer.ui.views._common import PlotView, finite_bounds, padded, set_curve_data

#: at most this many data points are drawn (evenly strided beyond)
MAX_SCATTER_POINTS = 50_000

_EMPTY = np.empty(0)


class FitView(PlotView):
    """The dataset ``(x, y)`` with the model curve of every visible run at the cursor."""

    def __init__(self, parent=None):
        super().__init__("fitPlot", "Data and fitted model", parent)
        self.plot_widget.setToolTip(
            "The dataset (grey points), each run's fitted curve at the cursor (run colours) "
            "and the current mini-batch (ringed). Drag to pan, wheel to zoom, "
            "right-click → View All to fit."
        )
        pi = self.plot_item
        self.scatter = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(200, 200, 200, 150))
        self.scatter.setZValue(10)
        self.batch = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#f5c400", width=1.8), brush=None)
        self.batch.setZValue(15)
        pi.addItem(self.scatter)
        pi.addItem(self.batch)
        self._x = _EMPTY
        self._y = _EMPTY
        self._rect = None
        self._fits: dict[object, pg.PlotCurveItem] = {}

    def set_data(self, x: np.ndarray, y: np.ndarray, names: tuple[str, str]) -> None:
        """Show the dataset and fit the view to its finite points.

        Parameters
        ----------
        x, y
            Inputs and targets, shapes ``(m,)``.
        names
            Axis labels ``(x name, y name)``.
        """
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"x and y differ in length: {x.shape} vs {y.shape}")
        self._x, self._y = x, y
        self.plot_item.setLabel("bottom", str(names[0]))
        self.plot_item.setLabel("left", str(names[1]))
        ok = np.isfinite(x) & np.isfinite(y)
        xs, ys = x[ok], y[ok]
        if len(xs) > MAX_SCATTER_POINTS:
            step = -(-len(xs) // MAX_SCATTER_POINTS)
            xs, ys = xs[::step], ys[::step]
            self.plot_item.setTitle(f"Data ({len(xs)} of {ok.sum()} points shown) and fits")
        else:
            self.plot_item.setTitle("Data and fitted model")
        self.scatter.setData(x=xs, y=ys)
        xb, yb = finite_bounds(xs), finite_bounds(ys)
        if xb is None or yb is None:
            self._rect = None
        else:
            self._rect = (*padded(xb), *padded(yb, 0.08))
            self.fit_view()
        self.batch.setData(pos=np.empty((0, 2)))

    def _fit_rect(self):
        return self._rect

    def set_fits(self, curves: Sequence[tuple]) -> None:
        """Draw the fitted curve of each run.

        Parameters
        ----------
        curves
            Tuples ``(run_id, color, visible, xs, ys)``; one PlotCurveItem per run_id,
            created once, removed when the run_id is absent.
        """
        if self._defer_while_hidden("set_fits", curves):
            return
        seen = set()
        for run_id, color, visible, xs, ys in curves:
            seen.add(run_id)
            item = self._fits.get(run_id)
            if item is None:
                item = pg.PlotCurveItem(pen=pg.mkPen(color, width=2.5), connect="finite",
                                        antialias=True)
                item.setZValue(20)
                item.color = color
                self.plot_item.addItem(item)
                self._fits[run_id] = item
            elif item.color != color:
                item.setPen(pg.mkPen(color, width=2.5))
                item.color = color
            item.setVisible(bool(visible))
            if visible:
                set_curve_data(item, xs, ys)
        for rid in [r for r in self._fits if r not in seen]:
            self.plot_item.removeItem(self._fits.pop(rid))

    def fit_item(self, run_id) -> pg.PlotCurveItem | None:
        """The curve item of a run (None if absent), for tests."""
        return self._fits.get(run_id)

    def set_batch(self, indices: np.ndarray | None) -> None:
        """Ring the points of the current mini-batch (None: full batch, nothing ringed)."""
        if self._defer_while_hidden("set_batch", indices):
            return
        if indices is None or len(self._x) == 0:
            self.batch.setData(pos=np.empty((0, 2)))
            return
        idx = np.asarray(indices, dtype=np.intp).ravel()
        idx = idx[(idx >= 0) & (idx < len(self._x))]
        self.batch.setData(x=self._x[idx], y=self._y[idx])
