"""The 1-D view: f(x), the iterates on it, and the tangent whose slope guides the next guess."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from gd_explorer.model.snapshot import RunSnapshot
from gd_explorer.ui.views._common import (
    ClipBox,
    PlotView,
    RunawayMarker,
    RunItems,
    approx,
    clip_xy,
    finite_bounds,
    fmt,
    inside,
    padded,
    pixel_size,
    plain,
    runaway_of,
    set_curve_data,
    stride_indices,
    unstack,
    view_rect,
)
from gd_explorer.ui.views.frame import Frame
from gd_explorer.ui.views.ghosts import GhostLayer

#: half-width of the tangent segment as a fraction of the curve's x-range
TANGENT_HALF_SPAN = 0.12
#: iterates get symbols only up to this many drawn points (a line beyond)
MAX_SYMBOL_POINTS = 400
#: tangent labels of different runs are kept this many pixels apart
LABEL_GAP_PX = 2.0

_EMPTY = np.empty(0)


class _CurveRunItems:
    def __init__(self, color: str, plot_item):
        self.color = color
        self.runaway = RunawayMarker(plot_item, color)
        self.raw = (_EMPTY, _EMPTY)  # drawn iterates (x, f) before cutting, current last
        self.label_at = None  # (x, y) where the slope label belongs, before stacking
        self.path = pg.PlotDataItem(pen=pg.mkPen(color, width=1.2), connect="finite",
                                    symbol="o", symbolSize=6, symbolPen=None,
                                    symbolBrush=pg.mkBrush(color))
        self.tangent = pg.PlotCurveItem(
            pen=pg.mkPen(color, width=2, style=QtCore.Qt.PenStyle.DashLine), antialias=True)
        self.point = pg.ScatterPlotItem(size=14, pen=pg.mkPen("w", width=1.5),
                                        brush=pg.mkBrush(color))
        self.slope_label = pg.TextItem("", color=color, anchor=(0, 1))
        self.path.setZValue(20)
        self.tangent.setZValue(25)
        self.point.setZValue(30)
        self.slope_label.setZValue(31)
        self.label = None

    def items(self):
        return (self.path, self.tangent, self.point, self.slope_label)

    def set_color(self, color: str) -> None:
        if color == self.color:
            return
        self.color = color
        self.path.setPen(pg.mkPen(color, width=1.2))
        self.path.setSymbolBrush(pg.mkBrush(color))
        self.tangent.setPen(pg.mkPen(color, width=2, style=QtCore.Qt.PenStyle.DashLine))
        self.point.setBrush(pg.mkBrush(color))
        self.slope_label.setColor(color)
        self.runaway.set_color(color)


class CurveView(PlotView):
    """A function of one parameter with the runs' iterates and tangent lines.

    Signals
    -------
    start_clicked(float)
        A plain left click in the plot: the x coordinate (data units).
    """

    start_clicked = QtCore.Signal(float)

    def __init__(self, parent=None):
        super().__init__("curvePlot", "f(x)", parent)
        self.plot_widget.setToolTip(
            "The function, the iterates on it and the tangent at the current point (its "
            "slope is the derivative that sets the next step). Click to set the start x; "
            "drag to pan, wheel to zoom, right-click → View All to fit."
        )
        pi = self.plot_item
        self.curve = pg.PlotCurveItem(pen=pg.mkPen("#c8c8c8", width=2), connect="finite",
                                      antialias=True)
        self.curve.setZValue(10)
        pi.addItem(self.curve)
        self.start_marker = pg.ScatterPlotItem(size=20, symbol="star",
                                               pen=pg.mkPen("w", width=1.5),
                                               brush=pg.mkBrush("#f5c400"))
        self.start_marker.setZValue(40)
        self.optima_marker = pg.ScatterPlotItem(size=12, symbol="x",
                                                pen=pg.mkPen(0, 0, 0, 220, width=0.8),
                                                brush=pg.mkBrush("w"))
        self.optima_marker.setZValue(35)
        pi.addItem(self.start_marker)
        pi.addItem(self.optima_marker)
        self.add_legend()
        self._runs: RunItems[_CurveRunItems] = RunItems(self._add_run, self._remove_run)
        self._xs = _EMPTY
        self._fs = _EMPTY
        self._rect = None
        self._name = "x"
        self._clip = ClipBox()
        # frozen paths (Run ▸ Keep as ghost); labelled below, clear of the tangents' labels
        self.ghosts = GhostLayer(pi, "curve", below=True)
        self._ghost_list = ()
        self.view_box.sigRangeChanged.connect(self._on_range_changed)

    # ----------------------------------------------------------------- curve
    def set_curve(self, xs: np.ndarray, fs: np.ndarray, name: str) -> None:
        """Draw ``f(xs)`` and fit the view to its finite part.

        Parameters
        ----------
        xs, fs
            Sample points and values, shapes ``(m,)``; non-finite values leave gaps.
        name
            The parameter's name, for the axis label and title.
        """
        xs = np.asarray(xs, dtype=np.float64).ravel()
        fs = np.asarray(fs, dtype=np.float64).ravel()
        if xs.shape != fs.shape:
            raise ValueError(f"xs and fs differ in length: {xs.shape} vs {fs.shape}")
        self._xs, self._fs = xs, fs
        name = str(name)
        self._name = name
        self.plot_item.setLabel("bottom", plain(name))
        self.plot_item.setLabel("left", plain(f"f({name})"))
        self.plot_item.setTitle(plain(f"f({name})"))
        set_curve_data(self.curve, xs, fs)
        ok = np.isfinite(xs) & np.isfinite(fs)
        xb = finite_bounds(xs[ok])
        yb = finite_bounds(fs[ok])
        if xb is None or yb is None:
            self._rect = None
            return
        x0, x1 = padded(xb, 0.02)
        y0, y1 = padded(yb, 0.08)
        self._rect = (x0, x1, y0, y1)
        self.fit_view()

    def _fit_rect(self):
        return self._rect

    def _value_at(self, x: np.ndarray) -> np.ndarray:
        if self._xs.size < 2:
            return np.full(np.shape(x), np.nan)
        ok = np.isfinite(self._xs) & np.isfinite(self._fs)
        if ok.sum() < 2:
            return np.full(np.shape(x), np.nan)
        order = np.argsort(self._xs[ok])
        return np.interp(x, self._xs[ok][order], self._fs[ok][order], left=np.nan,
                         right=np.nan)

    # ----------------------------------------------------------------- runs
    def set_runs(self, snaps: Sequence[RunSnapshot], cursor: int | None) -> None:
        """Draw each visible run's iterates (``params[:, 0]`` vs loss) up to the cursor row,
        its current point and the tangent line there (slope ``grad[k, 0]``).

        Parameters
        ----------
        snaps
            The runs; items are created once per ``run_id``.
        cursor
            Timeline row (None: the latest), clamped per run.
        """
        if self._defer_while_hidden("set_runs", snaps, cursor):
            return
        span = (self._rect[1] - self._rect[0]) if self._rect else 2.0
        half = TANGENT_HALF_SPAN * span
        self._clip.update(self.view_box.viewRange())
        box = self._clip.box
        for snap, items in self._runs.sync(snaps):
            k = snap.index(cursor)
            d = snap.params.shape[1] if snap.params.ndim == 2 else 0
            show = snap.visible and k >= 0 and d >= 1
            for it in items.items():
                it.setVisible(show)
            self._legend_entry(items, snap.label if show else None, items.path)
            items.label_at = None
            if not show:
                items.raw = (_EMPTY, _EMPTY)
                items.runaway.hide()
                continue
            idx = stride_indices(k + 1)
            items.raw = (np.asarray(snap.params[idx, 0], dtype=np.float64),
                         np.asarray(snap.loss[idx], dtype=np.float64))
            symbol = "o" if len(idx) <= MAX_SYMBOL_POINTS else None
            if items.path.opts["symbol"] != symbol:
                items.path.setSymbol(symbol)
            self._draw_path(items)
            x0, f0, g0 = float(snap.params[k, 0]), float(snap.loss[k]), float(snap.grad[k, 0])
            near = inside(box, x0, f0)
            if near:
                items.point.setData(pos=[(x0, f0)])
            else:  # far away (or not finite): the runaway marker says where
                items.point.setData(pos=np.empty((0, 2)))
            if near and np.isfinite(g0):
                tx = np.array([x0 - half, x0 + half])
                cx, cy, _ = clip_xy(tx, f0 + g0 * (tx - x0), box)  # a steep one is cut
                set_curve_data(items.tangent, cx, cy)
                items.slope_label.setText(f"f'({fmt(x0)}) = {fmt(g0)}")
                # label the tangent's end nearer the middle of the view, so it stays inside
                mid = 0.5 * (self._rect[0] + self._rect[1]) if self._rect else x0
                end = -half if x0 > mid else half
                items.slope_label.setAnchor((1, 1) if end < 0 else (0, 1))
                if inside(box, x0 + end, f0 + g0 * end):
                    items.label_at = (x0 + end, f0 + g0 * end)
                else:
                    items.label_at = (x0, f0)
            else:
                items.tangent.setData(_EMPTY, _EMPTY)
                items.slope_label.setText("")
        self._stack_labels()
        self._place_runaways()
        self._update_legend()

    def show_frame(self, frame: Frame) -> None:
        """Draw the runs of a display tick (see :meth:`set_runs`)."""
        self.set_runs(frame.snapshots, frame.cursor)
        self.set_ghosts(frame.ghosts)

    def set_ghosts(self, ghosts: Sequence) -> None:
        """Draw the ghosts' iterates (parameter against loss), dashed and dimmed, each
        labelled at its end point."""
        if self._defer_while_hidden("set_ghosts", ghosts):
            return
        self._ghost_list = ghosts
        key = (ghosts, self._clip.box)
        if self.ghosts.drawn_for(key):
            return
        paths = []
        for g in ghosts:
            _, params, loss = g.arrays()
            paths.append((params[:, 0], loss, g.label, g.color))
        self.ghosts.show(paths, self._clip.box, key=key)

    def _add_run(self, snap: RunSnapshot) -> _CurveRunItems:
        items = _CurveRunItems(snap.color, self.plot_item)
        for it in items.items():
            self.plot_item.addItem(it)
        return items

    def _remove_run(self, items: _CurveRunItems) -> None:
        self._legend_entry(items, None, items.path)
        for it in (*items.items(), *items.runaway.items()):
            self.plot_item.removeItem(it)

    def _update_legend(self) -> None:
        """The legend to the corner that covers least of the curve, start and iterates."""
        key = (tuple((rid, items.path.isVisible(), int(8 * math.log2(len(items.raw[0]) + 1)))
                     for rid, items in self._runs.items()), self._xs.size)

        def points():
            pts = [(self._xs, self._fs, 1.0), (*self.start_marker.getData(), 1000.0)]
            for items in self._runs.values():
                x, y = items.raw
                if items.path.isVisible() and len(x):
                    pts += [(x, y, 3.0), (x[-1:], y[-1:], 50.0)]
            return pts

        self.place_legend(points, key)

    def _draw_path(self, items: _CurveRunItems) -> None:
        x, y, _ = clip_xy(*items.raw, self._clip.box)
        set_curve_data(items.path, x, y)

    def _stack_labels(self) -> None:
        """Put the slope labels where they belong, moved down past any label of another
        run they would cover: runs from one start share a tangent at first."""
        py = pixel_size(self.view_box)[1]
        top = self.view_box.sceneBoundingRect().top()
        placed: list[QtCore.QRectF] = []
        for items in self._runs.values():
            if items.label_at is None:
                continue
            lx, ly = items.label_at
            label = items.slope_label
            # in scene pixels: the label keeps its pixel size whatever the zoom (its own
            # rectangle is in pixels, anchored at its position)
            at = self.view_box.mapViewToScene(QtCore.QPointF(lx, ly))
            rect = label.boundingRect().translated(at).adjusted(0, -LABEL_GAP_PX, 0,
                                                               LABEL_GAP_PX)
            shift = max(0.0, top - rect.top())  # not above the plot (a tangent near its top)
            while any(rect.translated(0, shift).intersects(r) for r in placed):
                shift += 0.5 * rect.height()  # a few steps at most: 8 runs at most
            placed.append(rect.translated(0, shift))
            label.setPos(lx, ly - shift * py)

    def _place_runaways(self) -> None:
        view = view_rect(self.view_box)
        for items in self._runs.values():
            x, y = items.raw
            where = runaway_of(x, y, view) if len(x) else None
            if where is None:
                items.runaway.hide()
                continue
            frm, to, (ex, ey) = where
            items.runaway.place(view, pixel_size(self.view_box), frm, to,
                                f"→ {self._name} ≈ {approx(ex)}, f ≈ {approx(ey)}")
        unstack(self.view_box, [r.runaway.label for r in self._runs.values()])

    def _on_range_changed(self, *_) -> None:
        if not self.isVisible():  # hidden (or being torn down): showEvent catches up
            return
        if self._clip.update(self.view_box.viewRange()):
            for items in self._runs.values():
                if items.path.isVisible():
                    self._draw_path(items)
            self.set_ghosts(self._ghost_list)
        self.ghosts.place_labels()
        self._stack_labels()
        self._place_runaways()
        self._update_legend()

    def run_items(self, run_id: int):
        """``(path, tangent, point)`` items of a run (None if absent), for tests."""
        items = self._runs.get(run_id)
        return None if items is None else (items.path, items.tangent, items.point)

    # ----------------------------------------------------------------- markers
    def set_start(self, x: float | None) -> None:
        """Mark the start ``x`` with a star on the curve (None hides it)."""
        if x is None or not np.isfinite(x):
            self.start_marker.setData(pos=np.empty((0, 2)))
            return
        y = float(self._value_at(np.array([float(x)]))[0])
        if not np.isfinite(y):
            y = self._rect[2] if self._rect else 0.0
        self.start_marker.setData(pos=[(float(x), y)])

    def set_optima(self, xs: Sequence[float]) -> None:
        """Mark known optima with crosses on the curve."""
        x = np.asarray(xs, dtype=np.float64).ravel()
        x = x[np.isfinite(x)]
        y = self._value_at(x)
        ok = np.isfinite(y)
        self.optima_marker.setData(x=x[ok], y=y[ok])

    def _on_data_click(self, x: float, y: float) -> None:
        self.start_clicked.emit(float(x))
