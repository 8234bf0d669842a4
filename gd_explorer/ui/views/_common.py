"""Helpers shared by the views: decimation, finite ranges, arrows, plot scaffolding.

Small, fast array functions; the one place that builds a plot widget the way every view
wants it (own range handling, no autorange button, a corner label, a hover-aware click
route); and :class:`RunItems`, the one pool of per-run items every view keeps.
"""

from __future__ import annotations

import html
import inspect
import math
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Generic, TypeVar

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol, renderSymbol
from PySide6 import QtCore, QtGui, QtWidgets

#: at most this many points of a parameter path are drawn
MAX_PATH_POINTS = 2_500
#: at most this many points of a loss curve are handed to pyqtgraph in a zoomed view (longer
#: curves are pre-decimated to min/max pairs; pyqtgraph then downsamples to the pixels on
#: screen); a curve that spans the view gets a few points per pixel column (loss.py)
MAX_LOSS_POINTS = 50_000
#: the colour map of every surface (colour-blind safe)
COLORMAP_NAME = "viridis"
#: minimum size of every view
MIN_SIZE = (320, 240)
#: below this size the legends are hidden (they would cover the data)
LEGEND_MIN_SIZE = (440, 300)
#: where a legend may sit: the plot's corners, as pyqtgraph legend offsets (pixels)
LEGEND_CORNERS = {"top-right": (-6, 6), "top-left": (6, 6), "bottom-right": (-6, -6),
                  "bottom-left": (6, -6)}
NUMBER_FORMAT = "{:.6g}"
#: room (KiB) for the views' cached pixmaps in QPixmapCache
PIXMAP_CACHE_KB = 128 * 1024
#: the live (uncached) tail of a CachedPrefixCurve becomes a cached chunk past this size
TAIL_POINTS = 200
#: Paths are cut where they leave a box around the view: the view range widened by this many
#: of its spans on every side (so a cut is never seen, whatever the user pans within reach)
CLIP_MARGIN_SPANS = 10.0
#: the box stays put while the view keeps this many of its spans inside it on every side ...
CLIP_KEEP_SPANS = 2.0
#: ... and is no wider than this many view spans (zoomed in further: a new, tighter box), so
#: drawn coordinates stay within about a hundred plot widths of the screen
CLIP_MAX_SPANS = 100.0
#: no coordinate beyond this is ever handed to pyqtgraph: squares of larger numbers overflow
#: float64 in its geometry code, and Qt's rasteriser fails long before (segfaults under xcb)
SANE_LIMIT = 1e150
_CACHE = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
_EMPTY = np.empty(0)


def plain(text) -> str:
    """User or file text (a run label, a column name) made safe for pyqtgraph's legends,
    titles and axis labels, which interpret HTML: ``<h1>`` is shown, not obeyed."""
    return html.escape(str(text), quote=False)


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
    return _thinned(count, max_points, lambda: math.ceil(count / (max_points - 1)))


def _thinned(count: int, max_points: int, stride) -> np.ndarray:
    """Rows ``0, s, 2s, …`` plus the last, ``s = stride()``; all rows when few enough."""
    if count <= 0:
        return np.empty(0, dtype=np.intp)
    if count <= max_points:
        return np.arange(count)
    idx = np.arange(0, count, stride())
    if idx[-1] != count - 1:
        idx = np.append(idx, count - 1)
    return idx


def stable_stride(count: int, max_points: int = MAX_PATH_POINTS) -> int:
    """The stride :func:`stable_stride_indices` uses for ``count`` rows.

    Strides come from a fixed ladder 1, 2, 3, …, each at most 25 % above the previous one:
    the smallest that leaves at most ``max_points - 1`` sampled rows. As a path grows its
    stride stays put for a while (its samples stay the same), and between changes it draws
    80–100 % of ``max_points``.
    """
    s = 1
    while (count - 1) // s + 1 > max_points - 1:
        s = max(s + 1, (s * 5) // 4)
    return s


def stable_stride_indices(count: int, max_points: int = MAX_PATH_POINTS) -> np.ndarray:
    """Rows ``0, s, 2s, …`` plus the last of a path of ``count`` rows (at most
    ``max_points``; all rows when there are no more than that).

    Unlike :func:`stride_indices`, the samples of a growing path do not move at every
    frame: they stay the same until the stride steps up (see :func:`stable_stride`), so
    the drawn prefix can be kept (:class:`CachedPrefixCurve`) and only the end redrawn.
    """
    return _thinned(count, max_points, lambda: stable_stride(count, max_points))


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


def common_prefix(x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray) -> int:
    """How many leading points ``(x, y)`` and ``(px, py)`` share, bit for bit (NaN equals
    NaN); 0 unless all four are float64 arrays."""
    m = min(len(x), len(px))
    if m == 0 or not all(isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim == 1
                         for a in (x, y, px, py)):
        return 0
    diff = np.not_equal(x[:m].view(np.int64), px[:m].view(np.int64))
    diff |= np.not_equal(y[:m].view(np.int64), py[:m].view(np.int64))
    first = int(np.argmax(diff))
    return first if diff[first] else m


def clip_polyline(points, lo, hi) -> tuple[np.ndarray, np.ndarray | None]:
    """Cut a polyline where it leaves the box ``lo <= p <= hi``.

    Segments that cross the boundary end (or start) exactly on it, in their own direction;
    what lies beyond is dropped and the line is broken there by a NaN row (draw with
    ``connect="finite"``). Non-finite points break the line too.

    Parameters
    ----------
    points
        Array ``(n, d)`` of vertices.
    lo, hi
        The box's corners, shape ``(d,)``.

    Returns
    -------
    out, src
        The cut polyline ``(m, d)`` and, per row, the input row it is (bit for bit), -1 for
        a point computed on the boundary and -2 for a break. When every point is finite and
        inside, ``out`` is ``points`` itself and ``src`` is None: a path that stays in view
        costs one comparison, and the rows of a cut path that stayed inside are the input's
        own (a growing path keeps its drawn prefix, see :class:`CachedPrefixCurve`).
    """
    p = np.asarray(points, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    n = len(p)
    with np.errstate(invalid="ignore"):
        inside = ((p >= lo) & (p <= hi)).all(axis=1)  # False for NaN
    if inside.all():
        return p, None
    if n < 2:
        return p[inside], np.flatnonzero(inside)
    a, b = p[:-1], p[1:]
    finite = np.isfinite(p).all(axis=1)
    ok = finite[:-1] & finite[1:]
    m = n - 1
    with np.errstate(all="ignore"):
        d = b - a
        t0, t1, ok = _slabs(a, d, lo, hi, ok)  # a + t·d, t in [t0, t1], is in the box
        s0, s1, _ = _slabs(b, -d, lo, hi, ok)  # the same, b - s·d (s = 1 - t)
        shown = ok & (t0 <= t1)
        # Boundary points are measured from the nearer end: from 4.5e47, a + t·d cancels
        # every digit of a point near the box. A vertex inside is kept as it is (t is then
        # exactly 0 or 1); rounding never puts a computed point outside the box.
        from_b = (np.abs(b).max(axis=1) < np.abs(a).max(axis=1))[:, None]
        start = np.where(from_b, b - s1[:, None] * d, a + t0[:, None] * d)
        end = np.where(from_b, b - s0[:, None] * d, a + t1[:, None] * d)
        start = np.where((t0 == 0)[:, None], a, np.clip(start, lo, hi))
        end = np.where((t1 == 1)[:, None], b, np.clip(end, lo, hi))
    shown &= np.isfinite(start).all(axis=1) & np.isfinite(end).all(axis=1)
    idx = np.arange(m)
    # segment i continues segment i-1 when both are drawn and meet at vertex i
    cont = np.zeros(m, dtype=bool)
    cont[1:] = shown[1:] & shown[:-1] & (t0[1:] == 0) & (t1[:-1] == 1)
    brk = np.zeros(m, dtype=bool)
    brk[:-1] = shown[:-1] & ~cont[1:]
    rows = np.stack([start, end, np.full_like(start, np.nan)], axis=1)  # (m, 3, d)
    srcs = np.stack([np.where(t0 == 0, idx, -1), np.where(t1 == 1, idx + 1, -1),
                     np.full(m, -2)], axis=1)
    keep = np.stack([shown & ~cont, shown, brk], axis=1)
    return rows[keep], srcs[keep]


def _slabs(a, d, lo, hi, ok):
    """Liang-Barsky: the interval ``[t0, t1]`` of ``t`` in [0, 1] for which ``a + t·d`` is
    in the box, per row, and ``ok`` cleared where a segment parallel to a side is outside."""
    t0, t1 = np.zeros(len(a)), np.ones(len(a))
    ok = ok.copy()
    for k in range(a.shape[1]):
        dk, ak = d[:, k], a[:, k]
        flat = dk == 0
        ok &= ~(flat & ((ak < lo[k]) | (ak > hi[k])))
        tl, th = (lo[k] - ak) / dk, (hi[k] - ak) / dk
        t0 = np.maximum(t0, np.where(flat, -np.inf, np.minimum(tl, th)))
        t1 = np.minimum(t1, np.where(flat, np.inf, np.maximum(tl, th)))
    return t0, t1, ok


def clip_xy(x, y, box) -> tuple[np.ndarray, np.ndarray, bool]:
    """:func:`clip_polyline` for two coordinate arrays and a box ``(x0, x1, y0, y1)``
    (None: nothing cut). Returns ``(x, y, cut)``; uncut arrays are returned as they are."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if box is None or len(x) == 0:
        return x, y, False
    x0, x1, y0, y1 = box
    with np.errstate(invalid="ignore"):
        if bool(np.all((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))):
            return x, y, False  # the usual case, without building an (n, 2) copy
    out, src = clip_polyline(np.column_stack([x, y]), (x0, y0), (x1, y1))
    if src is None:
        return x, y, False
    return out[:, 0].copy(), out[:, 1].copy(), True


class ClipBox:
    """The box paths are cut to: the view range widened by ``CLIP_MARGIN_SPANS`` spans on
    every side, made again only when the view gets near its edge or zooms in a lot, so that
    what a growing path has drawn stays the same from frame to frame (cached chunks hold).

    ``box`` is ``(x0, x1, y0, y1)``, within ``±SANE_LIMIT``; None before the first update.
    """

    def __init__(self):
        self.box: tuple[float, float, float, float] | None = None

    def update(self, view_range) -> bool:
        """Follow the view ``((x0, x1), (y0, y1))``; True when the box changed."""
        (x0, x1), (y0, y1) = view_range
        if self.box is not None and self._holds(self.box[:2], x0, x1) \
                and self._holds(self.box[2:], y0, y1):
            return False
        box = (*self._around(x0, x1), *self._around(y0, y1))
        if box == self.box:
            return False
        self.box = box
        return True

    @staticmethod
    def _holds(b, v0, v1) -> bool:
        span = v1 - v0
        if not (math.isfinite(span) and span > 0):
            return True  # no usable view yet: keep what there is
        keep = CLIP_KEEP_SPANS * span
        return ((b[0] <= v0 - keep or b[0] <= -SANE_LIMIT)
                and (b[1] >= v1 + keep or b[1] >= SANE_LIMIT)
                and b[1] - b[0] <= CLIP_MAX_SPANS * span)

    @staticmethod
    def _around(v0, v1) -> tuple[float, float]:
        span = v1 - v0
        if not (math.isfinite(span) and span > 0):
            c = v0 if math.isfinite(v0) else 0.0
            span = max(abs(c), 1.0)
        else:
            c = 0.5 * (v0 + v1)
        half = (0.5 + CLIP_MARGIN_SPANS) * span
        return max(c - half, -SANE_LIMIT), min(c + half, SANE_LIMIT)


def inside(box, x: float, y: float) -> bool:
    """Whether the point is finite and in ``box`` ``(x0, x1, y0, y1)`` (None: no box)."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    if box is None:
        return abs(x) <= SANE_LIMIT and abs(y) <= SANE_LIMIT
    return box[0] <= x <= box[1] and box[2] <= y <= box[3]


def approx(v: float) -> str:
    """A far-away coordinate for a label: ``4.5e47``, ``-1.2e9``, ``350``."""
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v != 0 and not 1e-3 <= abs(v) < 1e4:
        mant, exp = f"{v:.1e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{v:.4g}"


def runaway_of(x: np.ndarray, y: np.ndarray, view) -> tuple | None:
    """Where to mark a path whose end is out of sight, or None when its end is in view.

    Parameters
    ----------
    x, y
        The drawn samples of the path, its current point last.
    view
        The visible range ``(x0, x1, y0, y1)``.

    Returns
    -------
    (from_xy, to_xy, end_xy) or None
        ``end_xy`` is the last finite sample (where the run went); the marker goes where
        the line from ``from_xy`` (the last sample in view before it, or the view's centre
        when none is) towards ``to_xy`` (the next finite sample) leaves the view.
    """
    n = len(x)
    if n == 0:
        return None
    vx0, vx1, vy0, vy1 = view
    ex, ey = float(x[-1]), float(y[-1])
    if not (math.isfinite(ex) and math.isfinite(ey)):
        ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if ok.size == 0:
            return None
        ex, ey = float(x[ok[-1]]), float(y[ok[-1]])
        x, y = x[:ok[-1] + 1], y[:ok[-1] + 1]
    if vx0 <= ex <= vx1 and vy0 <= ey <= vy1:
        return None
    with np.errstate(invalid="ignore"):
        seen = np.flatnonzero((x >= vx0) & (x <= vx1) & (y >= vy0) & (y <= vy1))
    if seen.size == 0:
        return (0.5 * (vx0 + vx1), 0.5 * (vy0 + vy1)), (ex, ey), (ex, ey)
    j = int(seen[-1])
    after = np.flatnonzero(np.isfinite(x[j + 1:]) & np.isfinite(y[j + 1:]))
    k = j + 1 + int(after[0]) if after.size else len(x) - 1
    return (float(x[j]), float(y[j])), (float(x[k]), float(y[k])), (ex, ey)


class RunawayMarker:
    """An arrow at the edge of the view, in a run's colour, pointing where its path went off
    screen, with a label saying where it ended up ("→ w ≈ 4.5e47, b ≈ 6.8e45").

    Both items keep their pixel size (they ignore the view's scale) and are added with
    ``ignoreBounds``. :meth:`place` puts them; :meth:`hide` takes them away.
    """

    #: the arrow's tip stays this many pixels inside the view
    INSET_PX = 6.0

    def __init__(self, plot_item, color: str):
        self.arrow = pg.ArrowItem(angle=180, headLen=16, headWidth=12, tailLen=14,
                                  tailWidth=4, pen=pg.mkPen(0, 0, 0, 200, width=1),
                                  brush=pg.mkBrush(color))
        self.label = pg.TextItem("", color=color, anchor=(1, 0.5),
                                 fill=pg.mkBrush(0, 0, 0, 170))
        for z, item in ((60, self.arrow), (61, self.label)):
            item.setZValue(z)
            item.hide()
            plot_item.addItem(item, ignoreBounds=True)
        self.color = color

    def items(self):
        return (self.arrow, self.label)

    def set_color(self, color: str) -> None:
        if color != self.color:
            self.color = color
            self.arrow.setStyle(brush=pg.mkBrush(color))
            self.label.setColor(qcolor(color))

    def hide(self) -> None:
        if self.arrow.isVisible():
            self.arrow.hide()
            self.label.hide()

    def text(self) -> str:
        """The label's text ("" while hidden)."""
        return self.label.toPlainText() if self.arrow.isVisible() else ""

    def place(self, view, pixel, frm, to, text: str) -> None:
        """Point from ``frm`` towards ``to`` (data coordinates) at the view's edge.

        ``view`` is ``(x0, x1, y0, y1)``, ``pixel`` the data size ``(px, py)`` of a pixel.
        """
        x0, x1, y0, y1 = view
        px, py = pixel
        # in pixels from the view's top-left corner (y down), where huge values are harmless
        ax, ay = (frm[0] - x0) / px, (y1 - frm[1]) / py
        with np.errstate(all="ignore"):
            dx, dy = (to[0] - frm[0]) / px, (frm[1] - to[1]) / py
        if not (math.isfinite(dx) and math.isfinite(dy)):  # beyond float range: its signs
            dx, dy = float(np.sign(dx)) if math.isinf(dx) else 0.0, \
                float(np.sign(dy)) if math.isinf(dy) else 0.0
        norm = math.hypot(dx, dy)
        if not norm > 0:
            self.hide()
            return
        ux, uy = dx / norm, dy / norm
        w, h = (x1 - x0) / px, (y1 - y0) / py
        m = self.INSET_PX
        t = math.inf  # where the ray leaves the view shrunk by the inset
        for a, u, lo, hi in ((ax, ux, m, w - m), (ay, uy, m, h - m)):
            if u > 0:
                t = min(t, (hi - a) / u)
            elif u < 0:
                t = min(t, (lo - a) / u)
        t = max(t, 0.0) if math.isfinite(t) else 0.0
        tx = min(max(ax + t * ux, m), w - m)
        ty = min(max(ay + t * uy, m), h - m)
        self.arrow.setStyle(angle=180.0 + math.degrees(math.atan2(uy, ux)))
        self.arrow.setPos(x0 + tx * px, y1 - ty * py)
        # the label sits behind the arrow's tail and reaches into the view: anchored by its
        # right side near the right edge, its left side near the left edge, and so on
        back = 34.0
        lx, ly = tx - back * ux, ty - back * uy
        self.label.setAnchor((min(max(lx / w, 0.0), 1.0), min(max(ly / h, 0.0), 1.0)))
        self.label.setPos(x0 + lx * px, y1 - ly * py)
        if self.label.toPlainText() != text:
            self.label.setText(text)
        self.arrow.show()
        self.label.show()


def unstack(view_box, labels) -> None:
    """Move shown TextItems apart: each one that would cover a label before it moves down
    (up, near the plot's bottom) by half its height until it covers none. Several runs
    leaving the view at one place would otherwise write their labels on top of each other.
    """
    labels = [label for label in labels if label.isVisible()]
    if len(labels) < 2:
        return  # the usual case: nothing to keep apart
    py = pixel_size(view_box)[1]
    plot = view_box.sceneBoundingRect()
    placed: list[QtCore.QRectF] = []
    for label in labels:
        at = view_box.mapViewToScene(label.pos())
        rect = label.boundingRect().translated(at)  # pixels: the label ignores the zoom
        down = 1.0 if rect.bottom() + 3 * rect.height() < plot.bottom() else -1.0
        shift = 0.0
        while any(rect.translated(0, shift).intersects(r) for r in placed) \
                and abs(shift) < 20 * rect.height():
            shift += down * 0.5 * rect.height()
        placed.append(rect.translated(0, shift))
        if shift:
            p = label.pos()
            label.setPos(p.x(), p.y() - shift * py)


def view_rect(view_box) -> tuple[float, float, float, float]:
    """The visible range of a ViewBox as ``(x0, x1, y0, y1)``."""
    (x0, x1), (y0, y1) = view_box.viewRange()
    return x0, x1, y0, y1


def pixel_size(view_box) -> tuple[float, float]:
    """Data size of one screen pixel along x and y (a guess before the first layout)."""
    x0, x1, y0, y1 = view_rect(view_box)
    w, h = view_box.width(), view_box.height()
    if not (w > 1 and h > 1):
        w, h = 400.0, 300.0
    return abs(x1 - x0) / w or 1.0, abs(y1 - y0) / h or 1.0


class CachedPrefixCurve(pg.PlotCurveItem):
    """A PlotCurveItem for curves that grow at their end: a run's path, its loss.

    It holds the whole curve (``getData``, bounds, legend, exports) but draws it through
    children: *chunks* with the leading points that did not change since the previous
    ``setData``, each cached as a pixmap by Qt (``DeviceCoordinateCache``), and a live
    *tail* with the rest. While a curve only grows, a frame redraws its short tail and
    blits the chunks; once the tail passes ``tail_points`` points it becomes one more
    chunk (the newest chunks merge as in a binary counter, so there are few of them).
    When points already drawn change (the stride or the buckets of a decimation step up,
    the cursor moves back) the chunks that still hold are kept and the rest of what did
    not change goes into one chunk. Neighbours share their end point and draw, in order,
    the segments one item would: the split does not show.

    Curves with a shadow pen, a fill, steps or a ``connect`` array are drawn whole by the
    tail.
    """

    def __init__(self, *args, tail_points: int = TAIL_POINTS, max_chunks: int = 8, **kwargs):
        self._tail_points = int(tail_points)
        self._max_chunks = int(max_chunks)
        self._ends: list[int] = []  # chunk i holds points ends[i-1]-1 .. ends[i]-1
        self._churn = 2  # how many trailing points usually change from one setData to the next
        self._prev = (_EMPTY, _EMPTY)  # the curve at the previous setData
        self._style = None  # the style the chunks were drawn with
        super().__init__(*args, **kwargs)
        # the container paints nothing and dirties nothing: its children do
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        self.tail = self._new_part(self._max_chunks, cached=False)
        self.chunks = [self._new_part(0, cached=True)]  # more are made when needed
        self._split()

    @property
    def _parts(self) -> tuple:
        return (*self.chunks, self.tail) if hasattr(self, "tail") else ()

    def _new_part(self, z: int, cached: bool) -> pg.PlotCurveItem:
        part = pg.PlotCurveItem()
        if cached:
            part.setCacheMode(_CACHE)
            part.hide()  # until it holds something (Qt skips hidden items entirely)
        part.setZValue(z)  # chunks in order, the tail last
        part.setParentItem(self)
        part.setSegmentedLineMode(self.opts["segmentedLineMode"])
        if hasattr(self, "tail"):
            part.setPen(self.opts["pen"])
            part.setShadowPen(self.opts["shadowPen"])
        return part

    @property
    def body(self) -> pg.PlotCurveItem:
        """The first chunk (the longest: everything up to the last reset)."""
        return self.chunks[0]

    # -- the container ------------------------------------------------------------------
    def boundingRect(self):  # noqa: N802 - Qt override
        return QtCore.QRectF()

    def prepareGeometryChange(self):  # noqa: N802 - Qt API
        # The (empty) bounding rect never changes. Qt's own version would also mark every
        # child dirty: every cached chunk would be repainted at each setData.
        pass

    def paint(self, p, opt, widget):
        pass  # the children draw (exports walk them too)

    # -- style and data, passed on to the parts -------------------------------------------
    # (PlotDataItem passes its pens at every setData; an unchanged pen must not reach the
    # chunks, whose setPen would throw their cached pixmaps away)
    def setPen(self, *args, **kwargs):  # noqa: N802 - pyqtgraph API
        super().setPen(*args, **kwargs)
        for part in self._parts:
            if part.opts["pen"] != self.opts["pen"]:
                part.setPen(self.opts["pen"])

    def setShadowPen(self, *args, **kwargs):  # noqa: N802 - pyqtgraph API
        super().setShadowPen(*args, **kwargs)
        if self._parts and self.tail.opts["shadowPen"] != self.opts["shadowPen"]:
            for part in self._parts:
                part.setShadowPen(self.opts["shadowPen"])
            self._split()

    def setSegmentedLineMode(self, mode):  # noqa: N802 - pyqtgraph API
        super().setSegmentedLineMode(mode)
        for part in self._parts:
            part.setSegmentedLineMode(mode)

    def updateData(self, *args, **kwargs):  # noqa: N802 - pyqtgraph API
        super().updateData(*args, **kwargs)
        if self._parts:
            self._split()

    def clear(self):
        super().clear()
        for part in self._parts:
            part.clear()
        self._ends = []
        self._prev = (_EMPTY, _EMPTY)

    def _split(self) -> None:
        x, y = self.getData()
        if x is None or y is None:
            x = y = _EMPTY
        o = self.opts
        style = {"pen": o["pen"], "shadowPen": o["shadowPen"], "antialias": o["antialias"],
                 "connect": o["connect"], "skipFiniteCheck": o["skipFiniteCheck"],
                 "fillLevel": o["fillLevel"], "brush": o["brush"], "stepMode": o["stepMode"]}
        whole = (o["shadowPen"] is not None or o["fillLevel"] is not None or o["stepMode"]
                 or not isinstance(o["connect"], str))
        px, py = self._prev
        self._prev = (x, y)
        same = common_prefix(x, y, px, py)
        ends = self._ends
        done = ends[-1] if ends else 0  # points held by the chunks
        if ends and done <= same:
            self._churn = min(len(px) - same, self._tail_points)  # trailing points that move
        if whole or len(x) < 2 or style != self._style:
            new = []
        elif done > same or not ends:
            # keep the chunks that still hold; what else did not change becomes one chunk
            new = [e for e in ends if e <= same]
            if ends and not new:
                # All drawn points changed at once (a stride or bucket size stepped up): the
                # new ones will hold just as well, bar the last few, so draw them into a
                # chunk now rather than twice (live now, cached next time).
                same = max(same, len(x) - max(2, self._churn))
            base = new[-1] if new else 1
            if same > base:
                new.append(same)
        elif len(x) - done > self._tail_points and same > done:
            new = ends + [same]  # the tail so far becomes a chunk, drawn once
            # binary-counter merging: chunk sizes halve towards the end, so there are a
            # few chunks and each point is drawn into one a few times, not at every chunk
            while len(new) >= 2 and new[-1] - new[-2] >= new[-2] - (new[-3] if len(new) > 2
                                                                    else 0):
                del new[-2]
        else:
            new = ends
        while len(new) > self._max_chunks:
            del new[-2]
        if new != ends or style != self._style:
            self._style = style
            while len(self.chunks) < len(new):
                self.chunks.append(self._new_part(len(self.chunks), cached=True))
            for i, part in enumerate(self.chunks):
                if i < len(new):
                    if i >= len(ends) or ends[i] != new[i] or (i and ends[i - 1] != new[i - 1]):
                        lo = new[i - 1] - 1 if i else 0
                        part.setData(x[lo:new[i]], y[lo:new[i]], **style)
                        part.show()
                elif i < len(ends):
                    part.setData(_EMPTY, _EMPTY, **style)
                    part.hide()
            self._ends = ends = new
        done = ends[-1] if ends else 0
        self.tail.setData(x[done - 1:] if done else x, y[done - 1:] if done else y, **style)


class PointMarker(QtWidgets.QGraphicsPixmapItem):
    """One symbol at a data point, drawn from a pixmap rendered once per style.

    A ScatterPlotItem runs a few hundred microseconds of Python to re-lay out and paint
    even a single spot, at every frame a run moves. This marker moves with ``setPos`` and
    Qt blits its pixmap, rendered by pyqtgraph's own ``renderSymbol`` (the one its
    ScatterPlotItem draws from), so it looks the same. Add it to a plot with
    ``ignoreBounds=True``; exports (SVG) get the symbol as vector shapes.
    """

    def __init__(self, size: float, pen, brush, symbol: str = "o"):
        super().__init__()
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setShapeMode(QtWidgets.QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self._size = float(size)
        self._symbol = symbol
        self._pen = pg.mkPen(pen)
        self._brush = pg.mkBrush(brush)
        self._xy: tuple[float, float] | None = None
        self._export = False
        self._render()

    def _render(self) -> None:
        app = QtGui.QGuiApplication.instance()
        dpr = app.devicePixelRatio() if app is not None else 1.0
        img = renderSymbol(self._symbol, self._size, self._pen, self._brush, dpr=dpr)
        self.setPixmap(QtGui.QPixmap.fromImage(img))
        half = img.width() / img.devicePixelRatio() / 2
        self.setOffset(-half, -half)

    def set_brush(self, brush) -> None:
        """Fill colour (re-renders the pixmap only when it changes)."""
        brush = pg.mkBrush(brush)
        if brush != self._brush:
            self._brush = brush
            self._render()

    def set_point(self, x: float | None, y: float | None = None) -> None:
        """Move to ``(x, y)`` and show; None or a non-finite coordinate hides the marker."""
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            self._xy = None
            self.setVisible(False)
            return
        self._xy = (float(x), float(y))
        self.setPos(*self._xy)
        self.setVisible(True)

    def getData(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802 - as pyqtgraph items
        """``(x, y)`` arrays of the point (empty when there is none), like a ScatterPlotItem."""
        if self._xy is None:
            return np.empty(0), np.empty(0)
        return np.array([self._xy[0]]), np.array([self._xy[1]])

    def setExportMode(self, export: bool, opts=None) -> None:  # noqa: N802 - pyqtgraph API
        """pyqtgraph's exporters call this: export as shapes rather than as a bitmap."""
        self._export = bool(export)

    def paint(self, p, option, widget=None):
        """Blit the pixmap; during an export draw the symbol itself."""
        if not self._export:
            super().paint(p, option, widget)
            return
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        drawSymbol(p, self._symbol, self._size, self._pen, self._brush)


def _weak_callable(f):
    """``() -> f`` that does not keep a bound method's object alive (then None once gone)."""
    if inspect.ismethod(f):
        return weakref.WeakMethod(f)
    return lambda: f


class FitViewBox(pg.ViewBox):
    """A ViewBox whose "View All" fits a rectangle the view computes from finite data.

    pyqtgraph's own autorange looks at item bounds, which a diverged path (1e100) or
    NaNs turn into nonsense; the owner sets ``fit_rect`` to a callable returning
    ``(x0, x1, y0, y1)`` or None.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fit_rect = None

    @property
    def fit_rect(self):
        """The owner's callable (None: none). Held weakly: a view box that kept its view's
        bound method would put the view in a reference cycle, freed by the garbage
        collector in whatever order it picks, which segfaults for a plot with a colour
        bar (a dropped SurfaceView)."""
        return None if self._fit_rect is None else self._fit_rect()

    @fit_rect.setter
    def fit_rect(self, method) -> None:
        self._fit_rect = None if method is None else _weak_callable(method)

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
            axis["item"].setCacheMode(_CACHE)
        # Those caches (axes, heat map, contours, chunks of growing curves) are pixmaps
        # of up to a plot's size each, kept in QPixmapCache: Qt's default 10 MB would evict
        # and redraw them in turn at large window sizes.
        if QtGui.QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QtGui.QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
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
        # repainted under moving runs, its text rarely changes: blit it, do not lay it out
        # again (only the text: the box around it is cheap and follows the text's size)
        self.corner_label.textItem.setCacheMode(_CACHE)
        scene = self.plot_widget.scene()
        scene.sigMouseClicked.connect(self._scene_clicked)
        scene.sigMouseMoved.connect(self._scene_moved)
        self.legend = None
        self._pending: dict[str, tuple] = {}  # calls kept while hidden (see below)

    def _legend_entry(self, run, label: str | None, item) -> None:
        """Show ``item`` in the legend as ``label`` (None: not at all); ``run.label`` remembers
        what the legend holds, so unchanged labels cost nothing."""
        if run.label == label:
            return
        if run.label is not None:
            self.legend.removeItem(item)
        if label is not None:
            self.legend.addItem(item, plain(label))
            # the legend sits under the moving runs and is repainted with them: draw its
            # text from a pixmap instead of laying it out again each time
            self.legend.items[-1][1].item.setCacheMode(_CACHE)
        run.label = label
        self._show_legend()

    def _show_legend(self) -> None:
        """The legend is shown when it has entries and the plot is large enough for it
        (an empty one is a small dark square)."""
        size = self.size()
        self.legend.setVisible(bool(self.legend.items) and size.width() >= LEGEND_MIN_SIZE[0]
                               and size.height() >= LEGEND_MIN_SIZE[1])

    def add_legend(self):
        """The plot's legend, in the corner where it covers least (:meth:`place_legend`);
        hidden while the view is too small for it."""
        self.legend = self.plot_item.addLegend(offset=LEGEND_CORNERS["top-right"],
                                               labelTextSize="9pt", labelTextColor="#e6e6e6")
        self.legend.setBrush(pg.mkBrush(0, 0, 0, 150))
        self.legend.setToolTip("Runs by colour (in the corner where it covers least; "
                               "hidden when the plot is small)")
        self.legend_corner = "top-right"
        self._legend_key = None
        self._show_legend()  # hidden until it has entries
        return self.legend

    def place_legend(self, points, key=None) -> str:
        """Move the legend to the corner of the plot where it covers least.

        Parameters
        ----------
        points
            Callable returning ``[(x, y, weight), …]``: arrays of data points (in plotted
            coordinates) and how much covering each costs (the start ★ a lot, a current
            point some, a path sample 1). Only called when ``key`` changed.
        key
            Anything that changes when the answer may (entries, sizes, the view range);
            None: always evaluate.

        Returns
        -------
        str
            The corner, e.g. ``"bottom-left"``; it only changes for a cheaper one.
        """
        legend = self.legend
        if legend is None or not legend.items:
            return getattr(self, "legend_corner", "top-right")
        key = None if key is None else (key, view_rect(self.view_box), len(legend.items))
        if key is not None and key == self._legend_key:
            return self.legend_corner
        self._legend_key = key
        w, h = legend.boundingRect().width(), legend.boundingRect().height()
        width, height = self.view_box.width(), self.view_box.height()
        if not (w > 0 and h > 0 and width > w and height > h):
            return self.legend_corner
        x0, _, _, y1 = view_rect(self.view_box)
        px, py = pixel_size(self.view_box)
        rects = {}  # corner -> (left, top) of the legend there, in view pixels
        for corner, (ox, oy) in LEGEND_CORNERS.items():
            rects[corner] = (ox if ox > 0 else width + ox - w, oy if oy > 0 else height + oy - h)
        totals = dict.fromkeys(rects, 0.0)
        for x, y, weight in points():
            x = np.asarray(x, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
            if x.size == 0:
                continue
            with np.errstate(all="ignore"):
                u, v = (x - x0) / px, (y1 - y) / py
            for corner, (left, top) in rects.items():
                with np.errstate(invalid="ignore"):
                    inside = (u >= left) & (u <= left + w) & (v >= top) & (v <= top + h)
                totals[corner] += weight * int(np.count_nonzero(inside))
        best = min(totals, key=lambda c: (totals[c], list(LEGEND_CORNERS).index(c)))
        if totals[best] < totals[self.legend_corner]:
            self.legend_corner = best
            legend.setOffset(LEGEND_CORNERS[best])
        return self.legend_corner

    # -- hidden views do no work ------------------------------------------------------------
    def _defer_while_hidden(self, name: str, *args) -> bool:
        """While the view sits in a hidden tab of a shown window, keep the latest arguments
        of method ``name`` instead of drawing (True: the caller returns at once);
        :meth:`showEvent` replays them. A view never shown draws at once, as before."""
        if self.isVisible() or not self.window().isVisible():
            return False
        self._pending[name] = args
        return True

    def showEvent(self, ev):  # noqa: N802 - Qt override
        """Catch up on the calls kept while hidden, before the first paint."""
        super().showEvent(ev)
        pending, self._pending = self._pending, {}
        for name, args in pending.items():
            getattr(self, name)(*args)
        self._on_range_changed()  # what moved while hidden (cut box, markers, legend)

    def _on_range_changed(self, *_) -> None:
        """The view range changed (override; views skip the work while hidden)."""

    def resizeEvent(self, ev):  # noqa: N802 - Qt override
        """Hide the legend when it would cover most of a small plot."""
        super().resizeEvent(ev)
        if self.legend is not None:
            self._show_legend()

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


_Items = TypeVar("_Items")


class RunItems(Mapping, Generic[_Items]):
    """A view's items for each run, keyed by ``run_id``: made once when a run appears,
    brought up to date while it stays, taken away when it is gone.

    Every view draws runs this way (pyqtgraph items are created once, then ``setData``);
    this is the one copy of that bookkeeping. Read it as a mapping ``run_id -> items``.

    Parameters
    ----------
    create
        ``create(snap) -> items`` for a run seen for the first time (adds them to the plot).
    remove
        ``remove(items)`` for a run that is no longer among the snapshots (takes its items
        off the plot, out of the legend).
    update
        ``update(items, snap)`` for a run seen before, e.g. a new colour; default: call
        ``items.set_color(snap.color)`` when the items have that method.
    """

    def __init__(self, create: Callable[[object], _Items], remove: Callable[[_Items], None],
                 update: Callable[[_Items, object], None] | None = None):
        # (weakly: a view holding its pool must not be in a cycle with it, see FitViewBox)
        self._create = _weak_callable(create)
        self._remove = _weak_callable(remove)
        self._update = _weak_callable(update if update is not None else _recolor)
        self._items: dict[object, _Items] = {}

    def sync(self, snaps: Sequence) -> list[tuple[object, _Items]]:
        """Match the items to ``snaps``: ``(snap, items)`` per snapshot, in their order.

        Items of a new ``run_id`` are made, those of a known one updated; items of runs
        absent from ``snaps`` are removed before returning.
        """
        pairs = []
        for snap in snaps:
            items = self._items.get(snap.run_id)
            if items is None:
                items = self._items[snap.run_id] = self._create()(snap)
            else:
                self._update()(items, snap)
            pairs.append((snap, items))
        seen = {snap.run_id for snap in snaps}
        for rid in [r for r in self._items if r not in seen]:
            self._remove()(self._items.pop(rid))
        return pairs

    def clear(self) -> None:
        """Remove every run's items."""
        self.sync(())

    def __getitem__(self, run_id) -> _Items:
        return self._items[run_id]

    def __iter__(self) -> Iterator:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def _recolor(items, snap) -> None:
    set_color = getattr(items, "set_color", None)
    if set_color is not None:
        set_color(snap.color)


class LazyPage(QtWidgets.QWidget):
    """Holds a view that is built the first time the page is shown or ``view`` is read.

    For views in tabs that start hidden: the window shows sooner, and a view that is
    never needed is never built.

    Parameters
    ----------
    factory
        Makes the view (called once).
    name
        The page's object name.
    """

    def __init__(self, factory: Callable[[], QtWidgets.QWidget], name: str):
        super().__init__()
        self.setObjectName(name)
        self.setMinimumSize(*MIN_SIZE)  # as the view will have: the layout does not move
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._factory = factory
        self._view = None

    @property
    def built(self) -> bool:
        """Whether the view exists yet."""
        return self._view is not None

    @property
    def view(self) -> QtWidgets.QWidget:
        if self._view is None:
            self._view = self._factory()
            self.layout().addWidget(self._view)
            self._view.setVisible(True)  # with the page (at once if it is visible)
        return self._view

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        _ = self.view  # before the first paint: never shown empty
        super().showEvent(event)
