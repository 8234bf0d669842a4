"""Dataset mode: the data as a scatter, each run's fitted curve, the current mini-batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg

from gd_explorer.ui.views._common import (
    SANE_LIMIT,  # ±1e150
    ClipBox,
    PlotView,
    RunawayMarker,
    RunItems,
    approx,
    clip_xy,
    finite_bounds,
    padded,
    pixel_size,
    plain,
    set_curve_data,
    unstack,
    view_rect,
)
from gd_explorer.ui.views.frame import Frame

#: at most this many data points are drawn (evenly strided beyond)
MAX_SCATTER_POINTS = 50_000
#: fitted curves are drawn at this many x values across the data (and a margin)
FIT_POINTS = 200

_EMPTY = np.empty(0)


class _FitCurve(NamedTuple):
    """One entry of :meth:`FitView.set_fits`."""

    run_id: object
    color: str
    visible: bool
    xs: np.ndarray
    ys: np.ndarray


class _Fit:
    """The items of one run's fitted curve."""

    def __init__(self, plot_item, color: str):
        self.item = pg.PlotCurveItem(pen=pg.mkPen(color, width=2.5), connect="finite",
                                     antialias=True)
        self.item.setZValue(20)
        plot_item.addItem(self.item)
        self.runaway = RunawayMarker(plot_item, color)
        self.color = color
        self.raw = (_EMPTY, _EMPTY)  # the curve before cutting

    def set_color(self, color: str) -> None:
        if color != self.color:
            self.item.setPen(pg.mkPen(color, width=2.5))
            self.runaway.set_color(color)
            self.color = color

    def items(self):
        return (self.item, *self.runaway.items())


class FitView(PlotView):
    """The dataset ``(x, y)`` with the model curve of every visible run at the cursor.

    Only finite data within ``±SANE_LIMIT`` is drawn and sets the range (the title says
    how many points were left out); fitted curves are cut to a box around the view, and a
    curve entirely out of sight gets an arrow at the edge saying where it is.
    """

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
        self._sane = np.empty(0, dtype=bool)
        self._rect = None
        self._fits: RunItems[_Fit] = RunItems(self._add_fit, self._remove_fit)
        self.fit_xs = _EMPTY  # where fitted curves are evaluated (set_data)
        self._y_name = "y"
        self._clip = ClipBox()
        self.view_box.sigRangeChanged.connect(self._on_range_changed)

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
        if len(x):
            lo, hi = float(np.min(x)), float(np.max(x))
            pad = 0.05 * (hi - lo or 1.0)
            self.fit_xs = np.linspace(lo - pad, hi + pad, FIT_POINTS)
        else:
            self.fit_xs = _EMPTY
        self._y_name = str(names[1])
        self.plot_item.setLabel("bottom", plain(names[0]))
        self.plot_item.setLabel("left", plain(names[1]))
        with np.errstate(invalid="ignore"):
            ok = (np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= SANE_LIMIT)
                  & (np.abs(y) <= SANE_LIMIT))
        self._sane = ok
        xs, ys = x[ok], y[ok]
        left_out = len(x) - len(xs)
        note = f" ({left_out} non-finite or beyond ±1e150 not shown)" if left_out else ""
        if len(xs) > MAX_SCATTER_POINTS:
            step = -(-len(xs) // MAX_SCATTER_POINTS)
            xs, ys = xs[::step], ys[::step]
            self.plot_item.setTitle(f"Data ({len(xs)} of {ok.sum()} points shown) and fits"
                                    + note)
        else:
            self.plot_item.setTitle("Data and fitted model" + note)
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
        self._clip.update(self.view_box.viewRange())
        for (_, _, visible, xs, ys), fit in self._fits.sync([_FitCurve(*c) for c in curves]):
            fit.item.setVisible(bool(visible))
            if visible:
                fit.raw = (np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
                self._draw_fit(fit)
            else:
                fit.raw = (_EMPTY, _EMPTY)
        self._place_runaways()

    def show_frame(self, frame: Frame) -> None:
        """Each run's model curve at the cursor, and the current mini-batch (latest row
        only: a scrubbed step's batch is not recorded)."""
        if frame.predict is None:
            return
        xs, predict, cursor = self.fit_xs, frame.predict, frame.cursor
        curves = []
        for s in frame.snapshots:
            k = s.index(cursor)
            if k >= 0:
                curves.append((s.run_id, s.color, s.visible, xs, predict(s.params[k], xs)))
        self.set_fits(curves)
        sel = frame.selected
        self.set_batch(sel.batch if sel is not None and cursor is None else None)

    def _add_fit(self, curve: _FitCurve) -> _Fit:
        return _Fit(self.plot_item, curve.color)

    def _remove_fit(self, fit: _Fit) -> None:
        for item in fit.items():
            self.plot_item.removeItem(item)

    def _draw_fit(self, fit: _Fit) -> None:
        with np.errstate(all="ignore"):
            x, y, _ = clip_xy(*fit.raw, self._clip.box)
        set_curve_data(fit.item, x, y)

    def _place_runaways(self) -> None:
        """An arrow towards each visible fitted curve that has no point in view."""
        view = view_rect(self.view_box)
        x0, x1, y0, y1 = view
        for fit in self._fits.values():
            x, y = fit.raw
            with np.errstate(invalid="ignore"):
                ok = np.isfinite(x) & np.isfinite(y)
                seen = ok & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
            if not fit.item.isVisible() or seen.any() or not ok.any():
                fit.runaway.hide()
                continue
            j = np.flatnonzero(ok)[ok.sum() // 2]  # the middle of what is finite
            mid = (0.5 * (x0 + x1), 0.5 * (y0 + y1))
            fit.runaway.place(view, pixel_size(self.view_box), mid,
                              (float(x[j]), float(y[j])),
                              f"→ {self._y_name} ≈ {approx(y[j])}")
        unstack(self.view_box, [r.runaway.label for r in self._fits.values()])

    def _on_range_changed(self, *_) -> None:
        if not self.isVisible():  # hidden (or being torn down): showEvent catches up
            return
        if self._clip.update(self.view_box.viewRange()):
            for fit in self._fits.values():
                if fit.item.isVisible():
                    self._draw_fit(fit)
        self._place_runaways()

    def fit_item(self, run_id) -> pg.PlotCurveItem | None:
        """The curve item of a run (None if absent), for tests."""
        fit = self._fits.get(run_id)
        return None if fit is None else fit.item

    def runaway_marker(self, run_id) -> RunawayMarker | None:
        """The marker pointing to a run's fitted curve when it is out of sight (tests)."""
        fit = self._fits.get(run_id)
        return None if fit is None else fit.runaway

    def set_batch(self, indices: np.ndarray | None) -> None:
        """Ring the points of the current mini-batch (None: full batch, nothing ringed)."""
        if self._defer_while_hidden("set_batch", indices):
            return
        if indices is None or len(self._x) == 0:
            self.batch.setData(pos=np.empty((0, 2)))
            return
        idx = np.asarray(indices, dtype=np.intp).ravel()
        idx = idx[(idx >= 0) & (idx < len(self._x))]
        idx = idx[self._sane[idx]]
        self.batch.setData(x=self._x[idx], y=self._y[idx])
