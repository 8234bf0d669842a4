"""The 2-D loss surface: heat map, contour lines, run paths, markers and arrows."""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence

import contourpy
import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore
from PySide6.QtWidgets import QGraphicsItem

from gd_explorer.model.snapshot import RunSnapshot
from gd_explorer.ui.views._common import (
    COLORMAP_NAME,
    CachedPrefixCurve,
    ClipBox,
    PlotView,
    PointMarker,
    RunawayMarker,
    RunItems,
    approx,
    arrow_segments,
    clip_xy,
    common_prefix,
    finite_bounds,
    fmt,
    inside,
    pixel_size,
    plain,
    qcolor,
    runaway_of,
    stable_stride_indices,
    unstack,
    view_rect,
)
from gd_explorer.ui.views.frame import Frame
from gd_explorer.ui.views.ghosts import GhostLayer

#: number of contour levels drawn
N_CONTOURS = 15
#: eps of the log colour scale, relative to the finite value span of the grid
LOG_EPS_REL = 1e-6
#: length in pixels of the longer of the -gradient / -momentum step arrows
STEP_ARROW_PX = 70.0
#: the update arrow is drawn to scale unless shorter than this (then it is magnified)
MIN_UPDATE_PX = 14.0

#: paths with at most this many drawn points get a dark outline
SHADOW_MAX_POINTS = 500
#: the visible range is asked for this long after it last changed (a drag or wheel settles)
SETTLE_MS = 150
#: ... when the grid does not cover it, or covers it this much more coarsely than it could
#: (its span exceeds the view's by more than 1 / REGRID_ZOOM along an axis)
REGRID_ZOOM = 0.6
#: a requested window reaches this fraction of the view's span beyond it on every side
REQUEST_PAD = 0.05
#: width of the colour bar's tick-label column
COLORBAR_AXIS_PX = 48
#: opacity of the basins-of-attraction overlay (the contours stay drawn on top of it)
BASINS_OPACITY = 0.9
#: a press this close to the start ★ (screen pixels, from its centre) drags the start
START_GRAB_PX = 14.0
#: while the ★ is dragged, the latest cursor position is handed on at most this often
#: (about the display rate): mouse moves in between are coalesced
DRAG_TICK_MS = 16


def short_number(v: float) -> str:
    """A tick label of at most ~6 characters: ``0.25``, ``1500``, ``2.5e7``, ``1e-4``."""
    v = float(v)
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    mant, exp = f"{v:.1e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def colorbar_ticks(lo: float, hi: float, info: dict) -> tuple[list, str]:
    """Ticks ``[(position, label), …]`` and the title of the colour bar.

    On the linear scale the positions are round values of f; on the log scale they are
    whole decades of ``f − min`` (the colour is ``log10(f − min + ε)``), labelled with
    that difference (``1e-3``, ``0.1``, ``10``), and the title gives the minimum when it
    is not negligible.
    """
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        return [], "f"
    if not info["log"]:
        raw = (hi - lo) / 5
        mag = 10.0 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
        first = math.ceil(lo / step) * step
        vals = [first + i * step for i in range(int((hi - first) / step) + 1)]
        return [(v, short_number(v)) for v in vals if lo <= v <= hi], "f"
    span = hi - lo
    every = max(1, math.ceil(span / 7))  # at most ~7 labelled decades
    ks = [k for k in range(math.ceil(lo), math.floor(hi) + 1) if k % every == 0]
    if len(ks) < 3:  # a narrow range: thirds of decades too
        ks = sorted(set(ks) | {k + d for k in range(math.floor(lo) - 1, math.ceil(hi) + 1)
                               for d in (math.log10(2), math.log10(5))})
        ks = [k for k in ks if lo <= k <= hi]
    ticks = [(k, short_number(10.0 ** k)) for k in ks]
    zmin = info["zmin"]
    if zmin == 0 or abs(zmin) < 10.0 ** lo:
        return ticks, "f  (log scale)"
    return ticks, f"f − min  (log scale; min = {short_number(zmin)})"

_EMPTY = np.empty(0)


def surface_transform(z: np.ndarray, log: bool) -> tuple[np.ndarray, dict]:
    """Colour values of a grid: ``log10(z - min + eps)`` or ``z``; non-finite -> NaN.

    Parameters
    ----------
    z
        Values on the grid, any shape.
    log
        Log scale (``eps`` = ``LOG_EPS_REL`` times the finite span, 1 for a flat grid).

    Returns
    -------
    c, info
        The transformed array (float64, NaN where ``z`` was not finite) and
        ``{"log", "zmin", "eps"}`` to map other values (paths) the same way.
    """
    z = np.asarray(z, dtype=np.float64)
    finite = np.isfinite(z)
    b = finite_bounds(z)
    info = {"log": log, "zmin": 0.0, "eps": 1.0}
    if b is None:
        return np.full(z.shape, np.nan), info
    zmin, zmax = b
    if not log:
        c = np.where(finite, z, np.nan)
        return c, info
    span = zmax - zmin
    eps = span * LOG_EPS_REL if span > 0 and math.isfinite(span) else 1.0
    eps = max(eps, 1e-300)
    info.update(zmin=zmin, eps=eps)
    with np.errstate(all="ignore"):
        c = np.log10(np.where(finite, z - zmin + eps, np.nan))
    return c, info


def apply_transform(v: np.ndarray, info: dict) -> np.ndarray:
    """Map values ``v`` with the transform :func:`surface_transform` used for a grid."""
    v = np.asarray(v, dtype=np.float64)
    if not info["log"]:
        return np.where(np.isfinite(v), v, np.nan)
    with np.errstate(all="ignore"):
        # values below the grid's minimum (a run finds a lower point than the grid
        # sampled) sit on the floor of the scale instead of vanishing
        shifted = np.maximum(v - info["zmin"] + info["eps"], info["eps"])
        return np.where(np.isfinite(shifted), np.log10(shifted), np.nan)


def contour_levels(c: np.ndarray, log: bool, count: int = N_CONTOURS) -> np.ndarray:
    """Contour levels of transformed grid values ``c`` (NaN ignored).

    On the log scale levels are evenly spaced in ``log10(z - min + eps)``, i.e.
    log-spaced in the loss; on the linear scale they are quantiles of the finite values,
    so they follow the data instead of bunching where a few huge values dominate.
    """
    vals = c[np.isfinite(c)]
    if vals.size < 4:
        return _EMPTY
    lo, hi = float(vals.min()), float(vals.max())
    if not hi > lo:
        return _EMPTY
    if log:
        return np.linspace(lo, hi, count + 2)[1:-1]
    levels = np.unique(np.quantile(vals, np.linspace(0.0, 1.0, count + 2)[1:-1]))
    return levels[(levels > lo) & (levels < hi)]


def contour_paths(xs: np.ndarray, ys: np.ndarray, c: np.ndarray,
                  levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All contour lines of ``c`` at ``levels`` as one polyline with a ``connect`` array.

    Returns
    -------
    x, y, connect
        Points of every line, one after another; ``connect[i]`` is False at the last
        point of each line, so a single PlotCurveItem draws them all.
    """
    if len(levels) == 0 or c.shape[0] < 2 or c.shape[1] < 2:
        return _EMPTY, _EMPTY, np.empty(0, dtype=bool)
    gen = contourpy.contour_generator(
        xs, ys, np.ma.masked_invalid(c), line_type=contourpy.LineType.ChunkCombinedOffset
    )
    pts_all, conn_all = [], []
    for level in levels:
        points, offsets = gen.lines(float(level))
        for pts, offs in zip(points, offsets, strict=True):
            if pts is None or len(pts) == 0:
                continue
            conn = np.ones(len(pts), dtype=bool)
            conn[np.asarray(offs[1:]) - 1] = False
            pts_all.append(pts)
            conn_all.append(conn)
    if not pts_all:
        return _EMPTY, _EMPTY, np.empty(0, dtype=bool)
    pts = np.concatenate(pts_all)
    return pts[:, 0].copy(), pts[:, 1].copy(), np.concatenate(conn_all)


def _same_window(a, b) -> bool:
    """Two windows ``(x0, x1, y0, y1)`` equal up to rounding (None never equals)."""
    if a is None or b is None:
        return False
    tol = 1e-9 * max(abs(a[1] - a[0]), abs(a[3] - a[2]), 1e-300)
    return all(abs(p - q) <= tol for p, q in zip(a, b, strict=True))


class _RunItems:
    """The items of one run (created once per run_id)."""

    def __init__(self, color: str, plot_item):
        self.color = color
        # the path's leading points stay put while a run grows (stable_stride_indices):
        # drawn as cached chunks plus a short live tail
        self.path = CachedPrefixCurve(pen=pg.mkPen(color, width=2), connect="finite",
                                      antialias=True)
        # drawLines is several times faster than stroking one long QPainterPath
        self.path.setSegmentedLineMode("on")
        self.shadow = False
        self.point = PointMarker(13, pg.mkPen("w", width=1.5), pg.mkBrush(color))
        self.path.setZValue(20)
        self.point.setZValue(30)
        self.label = None  # text currently in the legend, None: not in it
        self.raw = (_EMPTY, _EMPTY)  # the drawn samples before cutting, current point last
        self.runaway = RunawayMarker(plot_item, color)

    def set_color(self, color: str) -> None:
        if color != self.color:
            self.color = color
            self.path.setPen(pg.mkPen(color, width=2))
            self.point.set_brush(pg.mkBrush(color))
            self.runaway.set_color(color)


#: marker symbol and size for each kind of point an optimizer keeps (in its entry's order)
STATE_POINT_SYMBOLS = (("d", 12), ("o", 7))


class _StartMarker(pg.ScatterPlotItem):
    """The start ★: a left-button drag that begins on it moves the start (handed to the
    view's ``on_drag(phase, x, y)``); a drag that begins elsewhere is left to the view box,
    which pans."""

    def __init__(self, on_drag, **kwargs):
        super().__init__(**kwargs)
        # held weakly: the view owns this marker, and a cycle through a bound method is
        # freed by the garbage collector in any order, which segfaults (see FitViewBox)
        self._on_drag = weakref.WeakMethod(on_drag)
        self._grabbed = False
        self._hovered = False

    def _near(self, scene_pos) -> bool:
        x, y = self.getData()
        if x is None or not len(x):
            return False
        vb = self.getViewBox()
        if vb is None:
            return False
        c = vb.mapViewToScene(QtCore.QPointF(float(x[0]), float(y[0])))
        return math.hypot(scene_pos.x() - c.x(), scene_pos.y() - c.y()) <= START_GRAB_PX

    def hoverEvent(self, ev):  # noqa: N802 - pyqtgraph override
        # claim the left-button drag before the view box does (it claims every drag)
        near = not ev.isExit() and self._near(ev.scenePos())
        if near:
            ev.acceptDrags(QtCore.Qt.MouseButton.LeftButton)
        if near != self._hovered:
            self._hovered = near
            if near:
                self.setCursor(QtCore.Qt.CursorShape.OpenHandCursor)
            else:
                self.unsetCursor()

    def mouseDragEvent(self, ev):  # noqa: N802 - pyqtgraph override
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._grabbed = self._near(ev.buttonDownScenePos())
        if not self._grabbed:
            ev.ignore()  # the view box pans
            return
        ev.accept()
        p = self.getViewBox().mapSceneToView(ev.scenePos())
        phase = "end" if ev.isFinish() else "move"
        if ev.isFinish():
            self._grabbed = False
        on_drag = self._on_drag()
        if on_drag is not None:
            on_drag(phase, p.x(), p.y())


class SurfaceView(PlotView):
    """The loss over two parameters as a heat map with contours, runs drawn on top.

    Signals
    -------
    start_clicked(float, float)
        A plain left click in the plot, in data coordinates (not on drags or pans).
    start_dragged(float, float)
        The start ★ is being dragged to this point (data coordinates): at most once per
        ``DRAG_TICK_MS``, the latest position only. Whoever owns the runs computes their
        preview there and calls :meth:`show_preview`.
    start_dropped(float, float)
        The ★ was released there: the start moves for good.
    hovered(float, float)
        The mouse moved over the plot, in data coordinates.
    window_requested(object)
        ``((x0, x1), (y0, y1))``: the range the user panned or zoomed to, once it has
        settled (``SETTLE_MS``), when the grid shown does not cover it or is too coarse
        for it. Whoever owns the surface computes it there and calls :meth:`set_surface`;
        a grid for the requested window does not move the view.
    """

    start_clicked = QtCore.Signal(float, float)
    start_dragged = QtCore.Signal(float, float)
    start_dropped = QtCore.Signal(float, float)
    hovered = QtCore.Signal(float, float)
    window_requested = QtCore.Signal(object)

    def __init__(self, parent=None):
        super().__init__("surfacePlot", "Loss surface", parent)
        #: draw only the last ``trail`` rows of each path (None: all; an animation sets it)
        self.trail: int | None = None
        self.plot_widget.setToolTip(
            "Loss surface (colour and contour lines). Click to set the start point, "
            "or drag the start ★ to see every path follow; drag elsewhere to pan, wheel to "
            "zoom, right-click → View All to fit the grid."
        )
        pi = self.plot_item
        pi.setLabel("bottom", "x")
        pi.setLabel("left", "y")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(0)
        pi.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            colorMap=COLORMAP_NAME, interactive=False, colorMapMenu=False, width=14,
            label="f  (log scale)",
        )
        self.colorbar.setToolTip("Colour scale of the loss surface")
        self.colorbar.setImageItem(self.image, insert_in=pi)
        # our own short tick labels (values of f, or of f − min in decades): pyqtgraph's
        # own drop every label wider than the bar's axis ("10000000") and show no number
        self.colorbar.axis.enableAutoSIPrefix(False)
        self.colorbar.axis.setWidth(COLORBAR_AXIS_PX)
        # basins of attraction over the heat map, under the contours and paths: made once,
        # filled by set_basins (hidden until there is a map)
        self.basins = pg.ImageItem(axisOrder="row-major")
        self.basins.setObjectName("basinsOverlay")
        self.basins.setZValue(2)
        self.basins.setOpacity(BASINS_OPACITY)
        self.basins.hide()
        pi.addItem(self.basins, ignoreBounds=True)
        self.basins_legend = pg.LegendItem(offset=(10, -10), labelTextSize="8pt",
                                           labelTextColor="#e6e6e6")
        self.basins_legend.setParentItem(self.view_box)
        self.basins_legend.anchor((0, 1), (0, 1), offset=(10, -10))
        self.basins_legend.setBrush(pg.mkBrush(0, 0, 0, 170))
        self.basins_legend.setZValue(900)
        self.basins_legend.hide()
        self._basin_samples: list = []  # the legend's colour squares, kept alive
        self._basins_shown = True
        self._basins_rows: tuple = ()
        self.contours = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 110, width=1),
                                         antialias=True)
        self.contours.setZValue(5)
        pi.addItem(self.contours)
        self.field = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 150, width=1),
                                      connect="pairs", antialias=True)
        self.field.setZValue(8)
        self.field.hide()
        pi.addItem(self.field)
        # the heat map, contours and field stay put while runs move: repaint them from a
        # pixmap cache instead of redrawing thousands of segments at every frame
        for item in (self.image, self.basins, self.contours, self.field):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.start_marker = _StartMarker(
            self._on_start_drag, size=20, symbol="star", pen=pg.mkPen("w", width=1.5),
            brush=pg.mkBrush("#f5c400"),
        )
        self.start_marker.setZValue(40)
        pi.addItem(self.start_marker)
        self.optima_marker = pg.ScatterPlotItem(
            size=12, symbol="x", pen=pg.mkPen(0, 0, 0, 220, width=0.8),
            brush=pg.mkBrush("#ffffff"),
        )
        self.optima_marker.setZValue(35)
        pi.addItem(self.optima_marker)
        # points the selected run's optimizer keeps in its state (ASGD's averaged point,
        # L-BFGS's line-search trials): one marker set and label per kind of point
        self.state_points = []
        for symbol, size in STATE_POINT_SYMBOLS:
            marker = pg.ScatterPlotItem(size=size, symbol=symbol, pen=pg.mkPen("w", width=1.2))
            marker.setZValue(38)
            marker.hide()
            label = pg.TextItem(fill=pg.mkBrush(0, 0, 0, 150))
            label.setZValue(39)
            label.hide()
            pi.addItem(marker, ignoreBounds=True)
            pi.addItem(label, ignoreBounds=True)
            self.state_points.append((marker, label))
        # both markers stay put while runs move: paint them once into a pixmap
        for item in (self.start_marker, self.optima_marker):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # step arrows at the current point: -gradient, update, -momentum
        self.arrow_grad = pg.PlotCurveItem(
            pen=pg.mkPen("w", width=2, style=QtCore.Qt.PenStyle.DashLine),
            connect="pairs", antialias=True)
        self.arrow_update = pg.PlotCurveItem(pen=pg.mkPen("w", width=3), connect="pairs",
                                             antialias=True)
        self.arrow_mom = pg.PlotCurveItem(
            pen=pg.mkPen("#ffb000", width=2, style=QtCore.Qt.PenStyle.DotLine),
            connect="pairs", antialias=True)
        self.arrow_labels = {}
        for key, item, text, color in (
            ("grad", self.arrow_grad, "−∇f", "#ffffff"),
            ("update", self.arrow_update, "Δp", "#ffffff"),
            ("mom", self.arrow_mom, "−m", "#ffb000"),
        ):
            item.setZValue(45)
            pi.addItem(item)
            label = pg.TextItem(text, color=color, anchor=(0.5, 0.5),
                                fill=pg.mkBrush(0, 0, 0, 150))
            label.setZValue(46)
            label.hide()
            # labels move with the point but their text rarely changes: blit, not re-layout
            label.textItem.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            pi.addItem(label)
            self.arrow_labels[key] = label
        self._arrow_color = None
        # the local quadratic model's level curve at the selected run's point (View menu
        # "Curvature ellipse"): an ellipse, a hyperbola at a saddle, nothing when singular
        self.curvature_curve = pg.PlotCurveItem(
            pen=pg.mkPen("#00e5ff", width=2, style=QtCore.Qt.PenStyle.DashLine),
            antialias=True, connect="finite")
        self.curvature_curve.setZValue(44)
        self.curvature_label = pg.TextItem(color="#00e5ff", anchor=(0.5, 1.0),
                                           fill=pg.mkBrush(0, 0, 0, 150))
        self.curvature_label.setZValue(46)
        for item in (self.curvature_curve, self.curvature_label):
            item.hide()
            pi.addItem(item, ignoreBounds=True)
        self._show_curvature = False
        self.curvature_kind = "none"  # what is drawn: "ellipse", "hyperbola" or "none"
        self.add_legend()
        self._runs: RunItems[_RunItems] = RunItems(self._add_run, self._remove_run)
        self._grid = None  # (xs, ys, z)
        self._extent = None  # (x0, x1, y0, y1) of the heat map
        self._log = True
        self._names = ("x", "y")
        self._labelled = False
        self._bar = None  # (ticks, title) of the colour bar
        # paths are cut to a box around the view (huge coordinates crash Qt's rasteriser)
        self._clip = ClipBox()
        # frozen paths (Run ▸ Keep as ghost), dashed under the runs
        self.ghosts = GhostLayer(pi, "surface")
        self._ghost_args = ((), (0, 1))  # (ghosts, axes) last shown
        self.view_box.sigRangeChanged.connect(self._on_range_changed)
        self._grid_window = None  # (x0, x1, y0, y1) of the grid points shown
        self._requested = None  # the last window asked for
        self._home = None  # where View All goes: (x0, x1, y0, y1)
        self._settle = QtCore.QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_range_settled)
        # dragging the ★: the latest cursor point, handed on once per tick
        self.dragging = False
        self._drag_point = None
        self._drag_timer = QtCore.QTimer(self)
        self._drag_timer.setSingleShot(True)
        self._drag_timer.setInterval(DRAG_TICK_MS)
        self._drag_timer.timeout.connect(self._emit_drag)

    # ----------------------------------------------------------------- surface
    def set_surface(self, xs: np.ndarray, ys: np.ndarray, z: np.ndarray,
                    names: tuple[str, str], home=None) -> None:
        """Show the loss ``z`` on the grid ``xs`` × ``ys``; fit the view to it unless it is
        the grid shown before (new values) or the one :attr:`window_requested` asked for.

        Parameters
        ----------
        xs, ys
            Evenly spaced grid coordinates, shapes ``(nx,)`` and ``(ny,)``.
        z
            Loss values, shape ``(ny, nx)`` (row ``j`` is ``y = ys[j]``); NaN/inf allowed.
        names
            The two parameter names, for the axis labels.
        home
            ``((x0, x1), (y0, y1))`` that View All (right-click) shows, e.g. the problem's
            own window; None: the grid.
        """
        xs = np.asarray(xs, dtype=np.float64).ravel()
        ys = np.asarray(ys, dtype=np.float64).ravel()
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (len(ys), len(xs)):
            raise ValueError(f"z must have shape (len(ys), len(xs)) = ({len(ys)}, {len(xs)}), "
                             f"got {z.shape}")
        names = (str(names[0]), str(names[1]))
        if names != self._names or not self._labelled:
            # (only when they change: a label re-lays out its axis, a costly repaint)
            self._names, self._labelled = names, True
            self.plot_item.setLabel("bottom", plain(names[0]))
            self.plot_item.setLabel("left", plain(names[1]))
        self._grid = (xs, ys, z)
        self._redraw_surface()
        window = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])) if len(xs) and \
            len(ys) else None
        follow = window is not None and (_same_window(window, self._grid_window)
                                         or _same_window(window, self._requested))
        self._grid_window = window
        self._home = None if home is None else (*map(float, home[0]), *map(float, home[1]))
        if self._extent is not None and not follow:
            self.fit_view()

    def _redraw_surface(self) -> None:
        if self._grid is None:
            return
        xs, ys, z = self._grid
        if len(xs) == 0 or len(ys) == 0:
            self.image.clear()
            self.contours.setData(_EMPTY, _EMPTY)
            self._extent = None
            return
        c, info = surface_transform(z, self._log)
        b = finite_bounds(c)
        lo, hi = b if b is not None else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        self.image.setImage(c, autoLevels=False, levels=(lo, hi))
        self.colorbar.setLevels((lo, hi))
        # pixel centres on the grid points
        xb = finite_bounds(xs) or (0.0, 1.0)
        yb = finite_bounds(ys) or (0.0, 1.0)
        dx = (xb[1] - xb[0]) / (len(xs) - 1) if len(xs) > 1 else 1.0
        dy = (yb[1] - yb[0]) / (len(ys) - 1) if len(ys) > 1 else 1.0
        x0, y0 = xb[0] - dx / 2, yb[0] - dy / 2
        w, h = xb[1] - xb[0] + dx, yb[1] - yb[0] + dy
        self.image.setRect(QtCore.QRectF(x0, y0, w, h))
        self._extent = (x0, x0 + w, y0, y0 + h)
        bar = colorbar_ticks(lo, hi, info)
        if bar != self._bar:
            self._bar = bar
            self.colorbar.axis.setTicks([bar[0]])
            self.colorbar.getAxis("left").setLabel(bar[1])
        x, y, conn = contour_paths(xs, ys, c, contour_levels(c, self._log))
        if x.size:
            self.contours.setData(x, y, connect=conn)
        else:
            self.contours.setData(_EMPTY, _EMPTY)

    # ----------------------------------------------------------------- basins
    def set_basins(self, rgba: np.ndarray | None, xs=None, ys=None,
                   legend: Sequence[tuple[str, str]] = (), stale: bool = False) -> None:
        """Show a basin map over the heat map (None: no map).

        Parameters
        ----------
        rgba
            Colours ``(ny, nx, 4)`` uint8, row ``i`` at ``ys[i]``.
        xs, ys
            The starts' grid coordinates (pixel centres on them).
        legend
            ``(colour, text)`` rows of the legend (bottom left).
        stale
            The map was computed for other settings: the legend says so.
        """
        if rgba is None:
            self.basins.clear()
            self.basins.hide()
            self._set_basins_legend(())
            return
        self.basins.setImage(rgba, autoLevels=False)
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        dx = (xs[-1] - xs[0]) / (len(xs) - 1)
        dy = (ys[-1] - ys[0]) / (len(ys) - 1)
        self.basins.setRect(QtCore.QRectF(xs[0] - dx / 2, ys[0] - dy / 2,
                                          xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy))
        rows = tuple(legend)
        if stale:
            rows = (("", "stale: Run ▸ Basins of attraction (B) recomputes"), *rows)
        self._set_basins_legend(rows)
        self.basins.setVisible(self._basins_shown)

    def show_basins(self, on: bool) -> None:
        """Show or hide the basin map and its legend (kept while hidden)."""
        self._basins_shown = bool(on)
        has = self.basins.image is not None
        self.basins.setVisible(self._basins_shown and has)
        self.basins_legend.setVisible(self._basins_shown and has and bool(self._basins_rows))

    def basins_visible(self) -> bool:
        """Whether a basin map is drawn now (for tests and automation)."""
        return self.basins.isVisible() and self.basins.image is not None

    def _set_basins_legend(self, rows) -> None:
        if rows == self._basins_rows:
            return
        self._basins_rows = rows
        self.basins_legend.clear()
        self._basin_samples = []
        for colour, text in rows:
            sample = pg.ScatterPlotItem(symbol="s", size=10,
                                        pen=pg.mkPen("w", width=0.5) if colour else None,
                                        brush=pg.mkBrush(colour) if colour else None)
            self._basin_samples.append(sample)
            self.basins_legend.addItem(sample, plain(text))
        self.basins_legend.setVisible(bool(rows) and self._basins_shown)

    def set_log_scale(self, on: bool) -> None:
        """Colour and contour levels on ``log10(f - min + eps)`` (on, default) or linearly."""
        on = bool(on)
        if on != self._log:
            self._log = on
            self._redraw_surface()

    def _fit_rect(self):
        return self._home or self._extent

    def set_equal_aspect(self, on: bool) -> None:
        """Draw both axes to one scale (for parameters in the same unit, e.g. a function's
        x and y) or let each fill the plot (a weight and a bias)."""
        on = bool(on)
        locked = self.view_box.state["aspectLocked"] is not False
        if on != locked:
            self.view_box.setAspectLocked(on, ratio=1.0)
            if self._extent is not None:
                self.fit_view()

    def _on_range_settled(self) -> None:
        """Ask for a grid over the visible range if the one shown does not do for it."""
        if self._extent is None:
            return
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        e0, e1, f0, f1 = self._extent
        covered = e0 <= x0 and x1 <= e1 and f0 <= y0 and y1 <= f1
        fine = (x1 - x0) >= REGRID_ZOOM * (e1 - e0) and (y1 - y0) >= REGRID_ZOOM * (f1 - f0)
        if covered and fine:
            return
        px, py = REQUEST_PAD * (x1 - x0), REQUEST_PAD * (y1 - y0)
        window = ((x0 - px, x1 + px), (y0 - py, y1 + py))
        if not all(math.isfinite(v) for pair in window for v in pair):
            return
        self._requested = (*window[0], *window[1])
        self.window_requested.emit(window)

    # ----------------------------------------------------------------- runs
    def set_runs(self, snaps: Sequence[RunSnapshot], cursor: int | None,
                 axes: tuple[int, int] = (0, 1)) -> None:
        """Draw each visible run's path up to the cursor row and its current point.

        Parameters
        ----------
        snaps
            The runs; items are created once per ``run_id`` and removed when it is absent.
        cursor
            Timeline row (None: the latest); clamped per run with ``snap.index``.
        axes
            Which two parameter columns are the plot's x and y.
        """
        if self._defer_while_hidden("set_runs", snaps, cursor, axes):
            return
        if self.dragging:  # the preview under the cursor is drawn instead
            return
        a0, a1 = int(axes[0]), int(axes[1])
        self._clip.update(self.view_box.viewRange())
        for snap, items in self._runs.sync(snaps):
            k = snap.index(cursor)
            d = snap.params.shape[1] if snap.params.ndim == 2 else 0
            show = snap.visible and k >= 0 and max(a0, a1) < d
            items.path.setVisible(show)
            self._legend_entry(items, snap.label if show else None, items.path)
            if not show:
                items.point.setVisible(False)
                items.raw = (_EMPTY, _EMPTY)
                items.runaway.hide()
                continue
            lo = 0 if self.trail is None else max(0, k + 1 - self.trail)
            idx = lo + stable_stride_indices(k + 1 - lo)  # (a trail: the last steps only)
            # a dark outline keeps short paths readable on bright colours; long ones would
            # cost too much to stroke twice
            shadow = len(idx) <= SHADOW_MAX_POINTS
            if shadow != items.shadow:
                items.path.setShadowPen(pg.mkPen(0, 0, 0, 150, width=4) if shadow else None)
                items.shadow = shadow
            items.raw = (np.asarray(snap.params[idx, a0], dtype=np.float64),
                         np.asarray(snap.params[idx, a1], dtype=np.float64))
            self._draw_path(items)
            px, py = float(snap.params[k, a0]), float(snap.params[k, a1])
            if inside(self._clip.box, px, py):
                items.point.set_point(px, py)
            else:  # far away: the runaway marker says where
                items.point.set_point(None)
        self._place_runaways()
        self._update_legend()

    def show_preview(self, paths: dict, axes: tuple[int, int] = (0, 1)) -> None:
        """Draw each run's previewed path (``{run_id: params (n, d)}``, from the dragged
        start) instead of its recorded one; runs absent from ``paths`` are hidden."""
        a0, a1 = int(axes[0]), int(axes[1])
        # the arrows and state points belong to the recorded run's point
        self.set_step_arrows(None, None, None, None, None)
        self.set_state_points((), None)
        for run_id, items in self._runs.items():
            rows = paths.get(run_id)
            if rows is None or len(rows) == 0 or rows.ndim != 2 or max(a0, a1) >= rows.shape[1]:
                items.path.setVisible(False)
                items.point.setVisible(False)
                items.raw = (_EMPTY, _EMPTY)
                continue
            idx = stable_stride_indices(len(rows))
            items.raw = (np.asarray(rows[idx, a0], dtype=np.float64),
                         np.asarray(rows[idx, a1], dtype=np.float64))
            items.path.setVisible(True)
            self._draw_path(items)
            px, py = float(rows[-1, a0]), float(rows[-1, a1])
            if inside(self._clip.box, px, py):
                items.point.set_point(px, py)
            else:
                items.point.set_point(None)
        self._place_runaways()

    def _on_start_drag(self, phase: str, x: float, y: float) -> None:
        """The ★ follows the cursor (finite points only); the runs' preview is asked for
        at the display rate, and the start itself moves on release."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        self.dragging = phase != "end"
        self.start_marker.setData(pos=[(x, y)])
        if phase == "end":
            self._drag_timer.stop()
            self._drag_point = None
            self.start_dropped.emit(float(x), float(y))
            return
        self._drag_point = (float(x), float(y))
        if not self._drag_timer.isActive():
            self._drag_timer.start()

    def _emit_drag(self) -> None:
        if self.dragging and self._drag_point is not None:
            self.start_dragged.emit(*self._drag_point)

    def show_frame(self, frame: Frame) -> None:
        """Draw the runs of a display tick on the surface's two axes, and the selected
        run's step arrows (see :meth:`set_runs`, :meth:`set_step_arrows`)."""
        if frame.dim < 2:
            return
        self.set_runs(frame.snapshots, frame.cursor, frame.axes)
        self.set_ghosts(frame.ghosts, frame.axes)
        self._show_step_arrows(frame.selected, frame.cursor, frame.axes)
        self._show_state_points(frame.selected, frame.cursor, frame.axes)
        sel = frame.selected
        curv = None
        if self._show_curvature and frame.curvature is not None and sel is not None \
                and sel.visible:
            curv = frame.curvature()
        self.set_curvature(curv)

    def set_ghosts(self, ghosts: Sequence, axes: tuple[int, ...] = (0, 1)) -> None:
        """Draw the ghosts' paths (:class:`~gd_explorer.core.session.specs.GhostSpec`) on
        the parameters ``axes``, dashed and dimmed, each labelled at its end point."""
        if self._defer_while_hidden("set_ghosts", ghosts, axes):
            return
        self._ghost_args = (ghosts, tuple(axes))
        a0, a1 = (int(axes[0]), int(axes[1])) if len(axes) >= 2 else (0, 1)
        key = (ghosts, a0, a1, self._clip.box)
        if self.ghosts.drawn_for(key):
            return
        paths = []
        for g in ghosts:
            if max(a0, a1) >= g.dim:
                continue
            _, params, _ = g.arrays()
            paths.append((params[:, a0], params[:, a1], g.label, g.color))
        self.ghosts.show(paths, self._clip.box, key=key)

    # ----------------------------------------------------------------- curvature
    def set_curvature_visible(self, on: bool) -> None:
        """Show or hide the local quadratic model's contour (drawn from the next frame)."""
        self._show_curvature = bool(on)
        if not on:
            self.set_curvature(None)

    def set_curvature(self, curv) -> None:
        """Draw the level curve of ``curv``'s local quadratic model (a
        :class:`~gd_explorer.model.curvature.Curvature`) around its point, its longest
        half-axis a sixth of the view's shorter side; None hides it."""
        if self._defer_while_hidden("set_curvature", curv):
            return
        kind, xy = "none", None
        if curv is not None:
            (x0, x1), (y0, y1) = self.view_box.viewRange()
            kind, xy = curv.contour(min(x1 - x0, y1 - y0) / 6.0)
            a = curv.axes[:2]
            px, py = float(curv.point[a[0]]), float(curv.point[a[1]])
            if not inside(self._clip.box, px, py):
                kind, xy = "none", None  # a runaway point: nothing sensible to draw
        self.curvature_kind = kind if curv is not None else "none"
        if xy is None:
            if self.curvature_curve.isVisible():
                self.curvature_curve.setData([], [])
                self.curvature_curve.hide()
            if curv is None or not curv.finite:
                self.curvature_label.hide()
                return
        else:
            self.curvature_curve.setData(xy[:, 0], xy[:, 1])
            self.curvature_curve.show()
        self.curvature_label.setText(_curvature_caption(curv, kind))
        a = curv.axes[:2]
        px, py = float(curv.point[a[0]]), float(curv.point[a[1]])
        if kind == "ellipse":  # above the ellipse, clear of the point and its arrows
            py = float(np.nanmax(xy[:, 1]))
        self.curvature_label.setPos(px, py)
        self.curvature_label.show()

    def _show_state_points(self, sel: RunSnapshot | None, cursor: int | None, axes) -> None:
        """The points the selected run's optimizer keeps (its entry's ``point_buffers``),
        at the latest row only: the state is not stored per step."""
        groups = []
        entry = sel.entry if sel is not None else None
        if entry is not None and sel.visible and cursor is None:
            for key, text in entry.point_buffers.items():
                pts = np.asarray(sel.state.get(key, _EMPTY), dtype=np.float64)
                if pts.size:
                    pts = pts.reshape(-1, pts.shape[-1])[:, list(axes)]
                    groups.append((pts[:, 0], pts[:, 1], text))
        self.set_state_points(groups, sel.color if sel is not None else "#ffffff")

    def set_state_points(self, groups, color) -> None:
        """Markers for ``groups`` of points ``[(xs, ys, label text), ...]`` (at most
        :data:`STATE_POINT_SYMBOLS` groups; points outside the drawing box are left out)."""
        if self._defer_while_hidden("set_state_points", groups, color):
            return
        box = self._clip.box
        for i, (marker, label) in enumerate(self.state_points):
            xs = ys = _EMPTY
            text = ""
            if i < len(groups):
                gx, gy, text = groups[i]
                keep = np.array([inside(box, float(x), float(y)) for x, y in zip(gx, gy)],
                                dtype=bool)
                xs, ys = np.asarray(gx)[keep], np.asarray(gy)[keep]
            if xs.size == 0:
                if marker.isVisible():
                    marker.setData([], [])
                    marker.hide()
                    label.hide()
                continue
            marker.setData(xs, ys, brush=pg.mkBrush(color))
            marker.show()
            label.setText(f"{text} ({xs.size})" if xs.size > 1 else text)
            label.setColor(qcolor(color))
            label.setPos(float(xs[-1]), float(ys[-1]))
            label.show()

    def _show_step_arrows(self, sel: RunSnapshot | None, cursor: int | None, axes) -> None:
        """−∇f, the update and the momentum of the selected run at the cursor row."""
        if sel is None or sel.n == 0 or not sel.visible:  # hidden: no arrows
            self.set_step_arrows(None, None, None, None, "#ffffff")
            return
        a = axes
        k = sel.index(cursor)
        p = sel.params[k]
        g = sel.grad[k]
        upd = None
        if k + 1 < sel.n:
            d = sel.params[k + 1] - p
            upd = (float(d[a[0]]), float(d[a[1]]))
        mom = None
        key = sel.entry.momentum_buffer if sel.entry is not None else None
        buf = sel.state.get(key) if key is not None else None
        if buf is not None and cursor is None and np.any(buf):
            mom = (float(buf[a[0]]), float(buf[a[1]]))
        self.set_step_arrows((float(p[a[0]]), float(p[a[1]])),
                             (float(g[a[0]]), float(g[a[1]])), upd, mom, sel.color)

    def _add_run(self, snap: RunSnapshot) -> _RunItems:
        items = _RunItems(snap.color, self.plot_item)
        self.plot_item.addItem(items.path)
        self.plot_item.addItem(items.point, ignoreBounds=True)
        return items

    def _remove_run(self, items: _RunItems) -> None:
        self._legend_entry(items, None, items.path)
        self.plot_item.removeItem(items.path)
        self.plot_item.removeItem(items.point)
        for item in items.runaway.items():
            self.plot_item.removeItem(item)

    def _update_legend(self) -> None:
        """The legend to the corner that covers least of the start, paths and points."""
        # looked at again when a path has grown by a tenth or so, not at every frame
        key = (tuple((rid, items.path.isVisible(), int(8 * math.log2(len(items.raw[0]) + 1)))
                     for rid, items in self._runs.items()), self.start_marker.data.size)

        def points():
            pts = [(*self.start_marker.getData(), 1000.0),
                   (*self.optima_marker.getData(), 200.0)]
            for items in self._runs.values():
                x, y = items.raw
                if items.path.isVisible() and len(x):
                    pts += [(x, y, 1.0), (x[-1:], y[-1:], 50.0)]
            return pts

        self.place_legend(points, key)

    def _draw_path(self, items: _RunItems) -> None:
        """Hand the run's samples, cut to the clip box, to its path item (if they changed)."""
        x, y, _ = clip_xy(*items.raw, self._clip.box)
        ox, oy = items.path.getData()
        # (a paused or finished run has the same points: nothing to redraw)
        if ox is None or len(ox) != len(x) or common_prefix(x, y, ox, oy) != len(x):
            items.path.setData(x, y)

    def _place_runaways(self) -> None:
        """Arrows at the view's edge for runs whose current point is out of sight."""
        view, pixel = view_rect(self.view_box), None
        for items in self._runs.values():
            x, y = items.raw
            where = runaway_of(x, y, view) if len(x) else None
            if where is None:
                items.runaway.hide()
                continue
            pixel = pixel or pixel_size(self.view_box)
            frm, to, (ex, ey) = where
            n0, n1 = self._names
            items.runaway.place(view, pixel, frm, to, f"→ {n0} ≈ {approx(ex)}, "
                                f"{n1} ≈ {approx(ey)}")
        unstack(self.view_box, [r.runaway.label for r in self._runs.values()])

    def _on_range_changed(self, *_) -> None:
        """Panned or zoomed: cut the paths to a new box if needed, move the markers, and
        once the range settles ask for a surface there."""
        if not self.isVisible():  # hidden (or being torn down): showEvent catches up
            return
        if self._grid is not None:
            self._settle.start()
        if self._clip.update(self.view_box.viewRange()):
            for items in self._runs.values():
                if items.path.isVisible():
                    self._draw_path(items)
            self.set_ghosts(*self._ghost_args)
        self.ghosts.place_labels()
        self._place_runaways()
        self._update_legend()

    def run_items(self, run_id: int) -> tuple[CachedPrefixCurve, PointMarker] | None:
        """The (path, current point) items of a run, for tests and automation."""
        items = self._runs.get(run_id)
        return None if items is None else (items.path, items.point)

    # ----------------------------------------------------------------- markers
    def set_start(self, point: tuple[float, float] | None) -> None:
        """Mark the start point with a star (None or a non-finite point hides it)."""
        if point is None or not all(np.isfinite(point)):
            self.start_marker.setData(pos=np.empty((0, 2)))
            return
        if self.dragging:  # the ★ is under the user's hand
            return
        x, y = self.start_marker.getData()
        if len(x) == 1 and (x[0], y[0]) == (float(point[0]), float(point[1])):
            return  # unchanged (the window re-sends it with every new surface)
        self.start_marker.setData(pos=[(float(point[0]), float(point[1]))])
        self.start_marker.setToolTip(f"start ({fmt(point[0])}, {fmt(point[1])}): "
                                     "drag it and every path follows")
        self._legend_key = None  # the start moved: look again
        self._update_legend()

    def set_optima(self, points: Sequence[tuple[float, float]]) -> None:
        """Mark known optima with small crosses."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        x, y = self.optima_marker.getData()
        if len(x) == len(pts) and np.array_equal(np.column_stack([x, y]), pts):
            return  # unchanged
        self.optima_marker.setData(pos=pts)
        self.optima_marker.setToolTip(
            "known optima: " + "; ".join(f"({fmt(a)}, {fmt(b)})" for a, b in pts[:6])
            if len(pts) else ""
        )

    # ----------------------------------------------------------------- arrows
    def set_arrow_field(self, xs: np.ndarray, ys: np.ndarray, U: np.ndarray, V: np.ndarray,
                        on: bool) -> None:
        """Arrows of the vector field ``(U, V)`` (normally −∇f) on a coarse grid.

        Parameters
        ----------
        xs, ys
            Coarse grid coordinates, shapes ``(mx,)``, ``(my,)``.
        U, V
            Components, shape ``(my, mx)``. Lengths are normalised: direction exact, the
            length grows with the square root of the magnitude, at most ~0.9 grid cells.
        on
            Show (True) or hide the field.
        """
        if not on:
            self.field.hide()
            return
        xs = np.asarray(xs, dtype=np.float64).ravel()
        ys = np.asarray(ys, dtype=np.float64).ravel()
        U = np.asarray(U, dtype=np.float64)
        V = np.asarray(V, dtype=np.float64)
        if len(xs) == 0 or len(ys) == 0 or U.shape != (len(ys), len(xs)) or U.shape != V.shape:
            self.field.setData(_EMPTY, _EMPTY)
            self.field.show()
            return
        dx = (xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else 1.0
        dy = (ys[-1] - ys[0]) / (len(ys) - 1) if len(ys) > 1 else 1.0
        dx = abs(dx) or 1.0
        dy = abs(dy) or 1.0
        gx, gy = np.meshgrid(xs, ys)
        # in grid-cell units so arrows read the same whatever the axes' scales
        with np.errstate(all="ignore"):
            u, v = U / dx, V / dy
            mag = np.hypot(u, v)
        ok = np.isfinite(mag) & (mag > 0)
        if not ok.any():
            self.field.setData(_EMPTY, _EMPTY)
            self.field.show()
            return
        mmax = float(mag[ok].max())
        with np.errstate(all="ignore"):
            length = 0.9 * np.sqrt(mag[ok] / mmax)
            length = np.maximum(length, 0.2)
            vec = np.column_stack([u[ok], v[ok]]) * (length / mag[ok])[:, None]
        # centre each arrow on its grid point
        org = np.column_stack([gx[ok] / dx, gy[ok] / dy]) - vec / 2
        x, y = arrow_segments(org, vec, head=0.3)
        self.field.setData(x * dx, y * dy)
        self.field.show()

    def _pixel_size(self) -> tuple[float, float]:
        try:
            px, py = self.view_box.viewPixelSize()
        except Exception:  # no geometry yet
            px = py = 0.0
        if not (math.isfinite(px) and px > 0 and math.isfinite(py) and py > 0):
            (x0, x1), (y0, y1) = self.view_box.viewRange()
            px, py = (x1 - x0) / 400.0 or 1.0, (y1 - y0) / 300.0 or 1.0
        return abs(px), abs(py)

    def set_step_arrows(self, origin: tuple[float, float] | None,
                        gradient: tuple[float, float] | None,
                        update: tuple[float, float] | None,
                        momentum: tuple[float, float] | None, color) -> None:
        """Arrows at the selected run's current point.

        Parameters
        ----------
        origin
            The current point (None hides all arrows).
        gradient
            ∇f there; drawn as −∇f, dashed white. −∇f and −m share one scale so their
            lengths compare; the longer is ``STEP_ARROW_PX`` pixels.
        update
            The actual step ``p_{k+1} − p_k``, drawn to scale in the run's colour (magnified,
            with the factor in its label, when it would be shorter than a few pixels).
        momentum
            The momentum buffer / first moment m; drawn as −m, dotted amber.
        color
            The run's colour.
        """
        if self._defer_while_hidden("set_step_arrows", origin, gradient, update, momentum,
                                    color):
            return
        items = {"grad": self.arrow_grad, "update": self.arrow_update, "mom": self.arrow_mom}
        vecs = {"grad": gradient, "update": update, "mom": momentum}
        want = {}  # key -> (x, y, label text, label position), all in data coordinates
        px, py = self._pixel_size()
        if origin is not None and inside(self._clip.box, float(origin[0]), float(origin[1])):
            color = color or "w"
            if color != self._arrow_color:
                self._arrow_color = color
                self.arrow_update.setPen(pg.mkPen(color, width=3))
                self.arrow_labels["update"].setColor(qcolor(color))
            want = self._step_arrow_shapes(origin, vecs, px, py)
        for key, item in items.items():
            label = self.arrow_labels[key]
            shape = want.get(key)
            if shape is None:
                if item.isVisible():
                    item.setData(_EMPTY, _EMPTY)
                    item.hide()
                label.hide()
                continue
            x, y, text, (lx, ly) = shape
            # the point hardly moves once a run settles: leave items alone unless something
            # moved by a visible amount (a twentieth of a pixel)
            ox, oy = item.getData()
            if not (item.isVisible() and ox is not None and len(ox) == len(x)
                    and max(abs(a - b) for a, b in zip(ox, x)) <= 0.05 * px
                    and max(abs(a - b) for a, b in zip(oy, y)) <= 0.05 * py):
                item.setData(np.array(x), np.array(y))
                item.show()
            if label.toPlainText() != text:
                label.setText(text)
            q = label.pos()
            if abs(q.x() - lx) > 0.05 * px or abs(q.y() - ly) > 0.05 * py:
                label.setPos(lx, ly)
            label.show()

    @staticmethod
    def _step_arrow_shapes(origin, vecs: dict, px: float, py: float) -> dict:
        """Segments (as :func:`arrow_segments` draws them) and label (text, position) of
        each drawable step arrow at ``origin``. Plain floats: numpy costs more than it
        saves on a handful of numbers, at every frame."""
        ox, oy = float(origin[0]), float(origin[1])
        pix = {}
        for key, vec in vecs.items():
            if vec is None:
                continue
            vx, vy = float(vec[0]), float(vec[1])
            if key != "update":
                vx, vy = -vx, -vy
            vx, vy = vx / px, vy / py
            n = math.hypot(vx, vy)
            if math.isfinite(n) and n > 0:
                pix[key] = (vx, vy, n)
        shared = max((pix[k][2] for k in ("grad", "mom") if k in pix), default=0.0)
        ca, sa = math.cos(math.radians(25.0)), math.sin(math.radians(25.0))
        placed = []  # label positions in pixels relative to the origin
        shapes = {}
        for key, (vx, vy, n) in pix.items():
            text = {"grad": "−∇f", "update": "Δp", "mom": "−m"}[key]
            if key == "update":
                scale = 1.0 if n >= MIN_UPDATE_PX else MIN_UPDATE_PX / n
                if scale > 1.0:
                    text = f"Δp ×{scale:.3g}" if scale < 1e6 else "Δp (tiny)"
            else:
                scale = STEP_ARROW_PX / shared
            sx, sy = vx * scale, vy * scale
            length = math.hypot(sx, sy) or 1.0
            head = min(0.35, 12.0 / length)
            bx, by = -head * sx, -head * sy  # shaft, then the two barbs from the tip
            lx, ly = ca * bx - sa * by, sa * bx + ca * by
            rx, ry = ca * bx + sa * by, -sa * bx + ca * by
            xs = (0.0, sx, sx, sx + lx, sx, sx + rx)
            ys = (0.0, sy, sy, sy + ly, sy, sy + ry)
            tx, ty = sx * 1.18 + sx / length * 8.0, sy * 1.18 + sy / length * 8.0
            while any(math.hypot(tx - qx, ty - qy) < 16.0 for qx, qy in placed):
                ty -= 16.0  # parallel arrows: stack their labels
            placed.append((tx, ty))
            shapes[key] = ([ox + a * px for a in xs], [oy + b * py for b in ys], text,
                           (ox + tx * px, oy + ty * py))
        return shapes

    # ----------------------------------------------------------------- mouse
    def set_hover_text(self, text: str) -> None:
        """Show ``text`` (e.g. ``"x = …, y = …, f = …"``) in the top-left corner."""
        self.set_corner_text(text)

    def _on_data_click(self, x: float, y: float) -> None:
        self.start_clicked.emit(float(x), float(y))

    def _on_data_move(self, x: float, y: float) -> None:
        self.hovered.emit(float(x), float(y))


def _curvature_caption(curv, kind: str) -> str:
    """The few words beside the curvature contour."""
    if getattr(curv, "lanczos", None) is not None:  # many parameters: no d×d Hessian
        return f"λmax ≈ {curv.eigenvalues[-1]:.4g} (Lanczos); no contour"
    if kind == "ellipse":
        if curv.kappa is not None:
            return f"local model: ellipse, κ = {curv.kappa:.3g}"
        return "local model: ellipse (a maximum: negative definite)"
    if kind == "hyperbola":
        return "hyperbola: a saddle, not positive definite"
    return "local model: no contour (flat direction: singular)"
