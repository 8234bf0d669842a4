"""Helpers shared by the views: decimation, finite ranges, arrows, plot scaffolding.

Nothing here holds state about runs; these are small, fast array functions and the one
place that builds a plot widget the way every view wants it (own range handling, no
autorange button, a corner label, a hover-aware click route).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

#: at most this many points of a parameter path are drawn
MAX_PATH_POINTS = 2_500
#: at most this many points of a loss curve are handed to pyqtgraph (longer curves are
#: pre-decimated to min/max pairs; pyqtgraph then downsamples to the pixels on screen)
MAX_LOSS_POINTS = 50_000
#: the colour map of every surface (colour-blind safe)
COLORMAP_NAME = "viridis"
#: minimum size of every view
MIN_SIZE = (320, 240)
#: below this size the legends are hidden (they would cover the data)
LEGEND_MIN_SIZE = (440, 300)
NUMBER_FORMAT = "{:.6g}"


def fmt(v) -> str:
    """A number with ~6 significant digits (``nan``/``inf`` spelled out)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f == 0:
        return "0"  # no "-0"
    return NUMBER_FORMAT.format(f)


def stride_indices(count: int, max_points: int = MAX_PATH_POINTS) -> np.ndarray:
    """Row indices ``0..count-1`` thinned by a constant stride, always keeping the last.

    Parameters
    ----------
    count
        Number of rows available (the path up to and including the cursor row).
    max_points
        Upper bound on the number of indices returned.
    """
    if count <= 0:
        return np.empty(0, dtype=np.intp)
    if count <= max_points:
        return np.arange(count)
    stride = math.ceil(count / (max_points - 1))
    idx = np.arange(0, count, stride)
    if idx[-1] != count - 1:
        idx = np.append(idx, count - 1)
    return idx


def finite_bounds(*arrays, positive: bool = False) -> tuple[float, float] | None:
    """``(min, max)`` over the finite (and, if asked, positive) entries, or None."""
    lo, hi = math.inf, -math.inf
    for a in arrays:
        if a is None:
            continue
        a = np.asarray(a, dtype=np.float64)
        if a.size == 0:
            continue
        m = np.isfinite(a)
        if positive:
            m &= a > 0
        if not m.all():
            a = a[m]
            if a.size == 0:
                continue
        lo = min(lo, float(a.min()))
        hi = max(hi, float(a.max()))
    if lo > hi:
        return None
    return lo, hi


def padded(bounds: tuple[float, float] | None, frac: float = 0.05,
           fallback: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """Bounds widened by ``frac`` of their span (a zero span gets a unit-ish width)."""
    if bounds is None:
        return fallback
    lo, hi = bounds
    span = hi - lo
    if not math.isfinite(span) or span <= 0:
        w = max(abs(lo) * 0.1, 1e-9) if math.isfinite(lo) else 1.0
        return lo - w, hi + w
    return lo - frac * span, hi + frac * span


def qcolor(color, alpha: int | None = None) -> QtGui.QColor:
    """A QColor from ``"#rrggbb"`` (or anything pyqtgraph understands)."""
    c = pg.mkColor(color)
    if alpha is not None:
        c.setAlpha(alpha)
    return c


def arrow_segments(origins: np.ndarray, vectors: np.ndarray, head: float = 0.3,
                   angle_deg: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """Line segments for arrows, for a PlotCurveItem with ``connect='pairs'``.

    Parameters
    ----------
    origins, vectors
        Arrays ``(m, 2)``: tails and displacement of each arrow (same units).
    head
        Head length as a fraction of the arrow length.
    angle_deg
        Half-angle of the head.

    Returns
    -------
    x, y
        Arrays of ``6 m`` points: shaft, left barb, right barb per arrow.
    """
    o = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
    v = np.asarray(vectors, dtype=np.float64).reshape(-1, 2)
    tip = o + v
    a = math.radians(angle_deg)
    ca, sa = math.cos(a), math.sin(a)
    back = -head * v
    left = np.column_stack([ca * back[:, 0] - sa * back[:, 1], sa * back[:, 0] + ca * back[:, 1]])
    right = np.column_stack([ca * back[:, 0] + sa * back[:, 1], -sa * back[:, 0] + ca * back[:, 1]])
    pts = np.stack([o, tip, tip, tip + left, tip, tip + right], axis=1).reshape(-1, 2)
    return pts[:, 0].copy(), pts[:, 1].copy()


class FitViewBox(pg.ViewBox):
    """A ViewBox whose "View All" fits a rectangle the view computes from finite data.

    pyqtgraph's own autorange looks at item bounds, which a diverged path (1e100) or
    NaNs turn into nonsense; the owner sets ``fit_rect`` to a callable returning
    ``(x0, x1, y0, y1)`` or None.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fit_rect = None

    def autoRange(self, padding=None, items=None, item=None):  # noqa: N802 - Qt/pg override
        """Fit the owner's finite rectangle instead of the raw item bounds."""
        rect = self.fit_rect() if self.fit_rect is not None else None
        if rect is None:
            return
        x0, x1, y0, y1 = rect
        self.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)


class PlotView(QtWidgets.QWidget):
    """Base of the 2-D views: a QWidget holding one pyqtgraph PlotWidget.

    Emits data-coordinate clicks (left button, not drags, not double clicks) through
    :meth:`_on_data_click` and moves through :meth:`_on_data_move`, which subclasses
    override.
    """

    def __init__(self, object_name: str, title: str, parent=None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setMinimumSize(*MIN_SIZE)
        self.view_box = FitViewBox()
        self.view_box.fit_rect = self._fit_rect
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box)
        self.plot_widget.setObjectName(object_name + "Widget")
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot_item.hideButtons()  # the "A" button would use pyqtgraph's raw autorange
        self.plot_item.setTitle(title)
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        self.view_box.disableAutoRange()
        # Axes (with their grid lines) replay a QPicture of text and lines at every paint:
        # ~5 ms each offscreen.  Cache them as pixmaps; they are redrawn only when the
        # range or the size changes, not when a run moves.
        for axis in self.plot_item.axes.values():
            axis["item"].setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        # A label pinned to the top-left corner of the plot area (pixel coordinates of the
        # view box, because it is a child item rather than an added, data-space item).
        self.corner_label = pg.TextItem("", color="#f0f0f0", anchor=(0, 0),
                                        fill=pg.mkBrush(0, 0, 0, 170))
        self.corner_label.setParentItem(self.view_box)
        self.corner_label.setPos(4, 4)
        self.corner_label.setZValue(1000)
        self.corner_label.hide()
        scene = self.plot_widget.scene()
        scene.sigMouseClicked.connect(self._scene_clicked)
        scene.sigMouseMoved.connect(self._scene_moved)
        self.legend = None

    def _legend_entry(self, run, label: str | None, item) -> None:
        """Show ``item`` in the legend as ``label`` (None: not at all); ``run.label`` remembers
        what the legend holds, so unchanged labels cost nothing."""
        if run.label == label:
            return
        if run.label is not None:
            self.legend.removeItem(item)
        if label is not None:
            self.legend.addItem(item, label)
        run.label = label

    def add_legend(self):
        """The plot's legend (top right); hidden while the view is too small for it."""
        self.legend = self.plot_item.addLegend(offset=(-6, 6), labelTextSize="9pt",
                                               labelTextColor="#e6e6e6")
        self.legend.setBrush(pg.mkBrush(0, 0, 0, 150))
        self.legend.setToolTip("Runs by colour (hidden when the plot is small)")
        return self.legend

    def resizeEvent(self, ev):  # noqa: N802 - Qt override
        """Hide the legend when it would cover most of a small plot."""
        super().resizeEvent(ev)
        if self.legend is not None:
            size = ev.size()
            self.legend.setVisible(size.width() >= LEGEND_MIN_SIZE[0]
                                   and size.height() >= LEGEND_MIN_SIZE[1])

    # -- range handling -------------------------------------------------------------
    def _fit_rect(self) -> tuple[float, float, float, float] | None:
        """The rectangle "View All" fits (override)."""
        return None

    def fit_view(self) -> None:
        """Set the view range to the view's finite data rectangle."""
        self.view_box.autoRange()

    # -- mouse ---------------------------------------------------------------------
    def _in_plot(self, scene_pos: QtCore.QPointF) -> bool:
        return self.view_box.sceneBoundingRect().contains(scene_pos)

    def _scene_clicked(self, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or ev.double():
            return
        if ev.modifiers() != QtCore.Qt.KeyboardModifier.NoModifier:
            return
        if not self._in_plot(ev.scenePos()):
            return
        p = self.view_box.mapSceneToView(ev.scenePos())
        self._on_data_click(p.x(), p.y())

    def _scene_moved(self, scene_pos) -> None:
        if not self._in_plot(scene_pos):
            return
        p = self.view_box.mapSceneToView(scene_pos)
        self._on_data_move(p.x(), p.y())

    def _on_data_click(self, x: float, y: float) -> None:
        """A left click at data coordinates (override)."""

    def _on_data_move(self, x: float, y: float) -> None:
        """The mouse moved to data coordinates (override)."""

    # -- corner text -------------------------------------------------------------------
    def set_corner_text(self, text: str) -> None:
        """Show ``text`` in the plot's top-left corner (empty hides it)."""
        if text != self.corner_label.toPlainText():
            self.corner_label.setText(text)
        self.corner_label.setVisible(bool(text))


def set_curve_data(item, x, y, **kw) -> None:
    """``setData`` that tolerates empty arrays (pyqtgraph is picky about shapes)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size == 0 or y.size == 0:
        item.setData(np.empty(0), np.empty(0), **kw)
    else:
        item.setData(x, y, **kw)
