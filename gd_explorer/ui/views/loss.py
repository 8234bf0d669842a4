"""Loss against step for every visible run, with the timeline cursor."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from gd_explorer.model.snapshot import RunSnapshot
from gd_explorer.ui.views._common import (
    MAX_LOSS_POINTS,
    CachedPrefixCurve,
    ClipBox,
    PlotView,
    PointMarker,
    RunawayMarker,
    RunItems,
    approx,
    clip_polyline,
    inside,
    padded,
    pixel_size,
    unstack,
    view_rect,
)
from gd_explorer.ui.views.frame import Frame
from gd_explorer.ui.views.ghosts import GhostLayer

_EMPTY = np.empty(0)
#: curves that fit the view are drawn from this many points per pixel column (min/max pairs)
LOSS_POINTS_PER_PIXEL = 4
#: step numbers 0..MAX_LOSS_POINTS-1, shared read-only by every undecimated curve
_STEPS = np.arange(MAX_LOSS_POINTS, dtype=np.float64)
_STEPS.flags.writeable = False
#: the followed range reaches at most this many decades above the highest start loss (log y)
RUNAWAY_DECADES = 3.0
#: ... or, on a linear axis, this many times the largest |start loss| beyond the starts
RUNAWAY_FACTOR = 10.0


class PeakDecimator:
    """Min/max per bucket of an append-only series, updated incrementally.

    Buckets have a power-of-two size ``b`` chosen so that at most ``max_points / 2``
    buckets cover the series; when the series outgrows that, adjacent buckets merge
    pairwise. Rows already summarised are never read again, so a growing run costs only
    its new rows per update. Each bucket yields two points ``(start, min), (start, max)``,
    the picture pyqtgraph's own ``'peak'`` downsampling draws.
    """

    def __init__(self, max_points: int = MAX_LOSS_POINTS):
        self.max_points = max_points
        self.max_buckets = max(1, max_points // 2)
        self.reset()

    def reset(self) -> None:
        """Forget everything (the series was replaced)."""
        self.b = 1
        self.n = 0
        self.mins = np.empty(0)
        self.maxs = np.empty(0)
        self.lo = math.inf  # finite min / max of everything seen
        self.hi = -math.inf
        self._tail = np.empty(0)
        self._first = self._last = math.nan

    def _stats(self, mins: np.ndarray, maxs: np.ndarray) -> None:
        # from bucket extremes, not raw rows: a million rows cost nothing extra
        lo = mins[np.isfinite(mins)]
        hi = maxs[np.isfinite(maxs)]
        if lo.size:
            self.lo = min(self.lo, float(lo.min()))
        if hi.size:
            self.hi = max(self.hi, float(hi.max()))

    def _same_prefix(self, y: np.ndarray) -> bool:
        # O(1) guard against a different series under the same run_id (a restarted run):
        # the first and last rows seen must still be there, bit for bit
        if self.n == 0:
            return True
        if len(y) < self.n:
            return False
        seen = np.array([self._first, self._last])
        now = np.array([y[0], y[self.n - 1]], dtype=np.float64)
        return bool(np.array_equal(seen.view(np.int64), now.view(np.int64)))

    def update(self, y: np.ndarray) -> bool:
        """Take in the series ``y``; returns whether anything changed.

        Rows ``0..self.n-1`` are assumed unchanged (append-only recording); if the first
        or last of them differ, the series is treated as new and summarised afresh.
        """
        n = len(y)
        if not self._same_prefix(y):
            self.reset()
        if n == self.n:
            return False
        b = self.b
        while math.ceil(n / b) > self.max_buckets:
            b *= 2
        full_old = len(self.mins)
        while self.b < b:  # merge pairs of complete buckets
            m = len(self.mins) // 2
            self.mins = np.fmin(self.mins[0:2 * m:2], self.mins[1:2 * m:2])
            self.maxs = np.fmax(self.maxs[0:2 * m:2], self.maxs[1:2 * m:2])
            self.b *= 2
            full_old = m
        start = full_old * self.b
        full_new = n // self.b
        if full_new > full_old:
            block = y[start:full_new * self.b].reshape(-1, self.b)
            # fmin/fmax skip NaN, so a NaN row does not blank its bucket
            new_min = np.fmin.reduce(block, axis=1)
            new_max = np.fmax.reduce(block, axis=1)
            self._stats(new_min, new_max)
            self.mins = np.concatenate([self.mins, new_min])
            self.maxs = np.concatenate([self.maxs, new_max])
        self.n = n
        self._first = float(y[0])
        self._last = float(y[n - 1])
        self._tail = y[full_new * self.b:n]
        if len(self._tail):
            self._stats(self._tail, self._tail)
        return True

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The decimated ``(x, y)`` (x = step index of each bucket's first row)."""
        m = len(self.mins)
        mins, maxs = self.mins, self.maxs
        if len(self._tail):
            mins = np.append(mins, np.fmin.reduce(self._tail))
            maxs = np.append(maxs, np.fmax.reduce(self._tail))
            m += 1
        x = np.repeat(np.arange(m, dtype=np.float64) * self.b, 2)
        y = np.empty(2 * m)
        y[0::2] = mins
        y[1::2] = maxs
        if self.n:  # end exactly on the last row
            x[-1] = self.n - 1
        return x, y


def _extent(ghosts) -> tuple[float, float, float, float] | None:
    """``(last step, lowest loss, lowest positive loss, highest loss)`` of ``ghosts``."""
    if not ghosts:
        return None
    last = max(g.steps[-1] for g in ghosts)
    losses = np.concatenate([np.asarray(g.loss, dtype=np.float64) for g in ghosts])
    pos = losses[losses > 0]
    lo = float(losses.min())
    return (float(last), lo, float(pos.min()) if pos.size else math.inf, float(losses.max()))


def _nice_ceil(v: float) -> float:
    """The smallest "round" value m × 10^k >= ``v`` (m from a 25 %-step ladder, v > 0)."""
    if not (v > 0 and math.isfinite(v)):
        return v
    k = math.floor(math.log10(v))
    for m in (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if m * 10.0**k >= v:
            return m * 10.0**k
    return 10.0 ** (k + 1)


class _LossCurve(pg.PlotDataItem):
    """A PlotDataItem whose curve is a :class:`CachedPrefixCurve`: a growing loss curve
    redraws only its newest buckets, the rest is blitted from a cache."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # swap the plain curve pyqtgraph made for the cached one, wired the same way
        plain = self.curve
        plain.sigClicked.disconnect(self.sigClicked)
        plain.setParentItem(None)
        self.curve = CachedPrefixCurve()
        self.curve.setParentItem(self)
        self.curve.sigClicked.connect(self.sigClicked)
        self.updateItems()


class _LossRun:
    def __init__(self, color: str, plot_item):
        self.color = color
        self.runaway = RunawayMarker(plot_item, color)
        self.current = None  # (step, loss) of the current point
        self.item = _LossCurve(pen=pg.mkPen(color, width=1), connect="finite")
        # a few buckets per pixel column, for the whole run in view (sized by LossView);
        # its finite min/max set the range
        self.dec = PeakDecimator(256)
        self.fine = PeakDecimator()  # for zoomed views; brought up to date only then
        self.loss = _EMPTY  # the latest series (read-only rows of the snapshot)
        self.shown = None  # what the item holds: (rows, how decimated); None: stale
        self.label = None

    def set_color(self, color: str) -> None:
        if color != self.color:
            self.color = color
            self.item.setPen(pg.mkPen(color, width=1))
            self.runaway.set_color(color)


class _CurrentPoints:
    """The runs' current points on the loss plot, one :class:`PointMarker` each.

    Markers move without re-running pyqtgraph's scatter layout at every frame. They are
    not data items, so the plot's log mode does not reach them: ``set_points`` maps y.
    """

    def __init__(self, plot_item):
        self._plot = plot_item
        self._markers: list[PointMarker] = []
        self._x = self._y = _EMPTY

    def set_points(self, xs, ys, colors, log: bool, box=None) -> None:
        """Markers at ``(xs[i], ys[i])`` in ``colors[i]`` (y drawn as log10 when ``log``);
        points outside ``box`` (plotted coordinates) are not drawn."""
        while len(self._markers) < len(xs):
            marker = PointMarker(9, pg.mkPen("w", width=1), pg.mkBrush("w"))
            marker.setZValue(60)
            self._plot.addItem(marker, ignoreBounds=True)
            self._markers.append(marker)
        for i, marker in enumerate(self._markers):
            if i < len(xs):
                marker.set_brush(colors[i])
                y = math.log10(ys[i]) if log else ys[i]
                if inside(box, xs[i], y):
                    marker.set_point(xs[i], y)
                else:  # far off: the run's runaway marker says where
                    marker.set_point(None)
            else:
                marker.set_point(None)
        self._x = np.array(xs, dtype=np.float64)
        self._y = np.array(ys, dtype=np.float64)

    def getOriginalDataset(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802 - as pyqtgraph
        """``(steps, losses)`` of the points shown (losses before any log mapping)."""
        return self._x, self._y


class LossView(PlotView):
    """Loss against step for every visible run, a cursor line and a log-y option.

    With log y on, a run that has a loss <= 0 (maximization, a negative objective, an
    exact zero) cannot be drawn on a log axis: the view then falls back to a linear axis
    and says so in the corner, rather than plotting |loss| and inventing a curve.

    The followed y range covers the finite losses of the visible runs, except a runaway:
    on a log axis it reaches at most ``RUNAWAY_DECADES`` decades above the highest start
    loss (and down to the lowest loss, however many decades that is); on a linear axis at
    most ``RUNAWAY_FACTOR`` times the largest |start loss| beyond the range of the start
    losses, on either side. A diverging run (1e99 before it is flagged) or one escaping
    down an unbounded function (the saddle) then leaves the top or bottom of the plot, cut
    there, with an arrow at the edge saying where it went ("→ loss ≈ 1.2e99"), while the
    values that matter (a plateau, the descent of the others) keep the axis. Tick labels
    never carry an SI multiplier ("(x1e+27)").
    """

    def __init__(self, parent=None):
        super().__init__("lossPlot", "Loss", parent)
        # no grid here: a log axis's grid is many full-height lines redrawn whenever the
        # range moves, ~9 ms a frame while runs grow; the ticks carry the scale
        self.plot_item.showGrid(x=False, y=False)
        self.plot_widget.setToolTip(
            "Loss per step for every visible run; the dashed line is the timeline cursor. "
            "Drag to pan, wheel to zoom, double-click (or right-click → View All) to fit."
        )
        pi = self.plot_item
        pi.setLabel("bottom", "step")
        pi.setLabel("left", "loss")
        for side in ("left", "bottom"):  # no "(x1e+27)" next to the axis label
            pi.getAxis(side).enableAutoSIPrefix(False)
        self.cursor_line = pg.InfiniteLine(
            angle=90, movable=False,
            pen=pg.mkPen("#f5c400", width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        self.cursor_line.setZValue(50)
        self.cursor_line.hide()
        pi.addItem(self.cursor_line, ignoreBounds=True)
        self.points = _CurrentPoints(pi)
        self.add_legend()
        self._runs: RunItems[_LossRun] = RunItems(self._add_run, self._remove_run)
        self._log = False
        self._log_active = False
        self._rect = None
        self._follow = True
        self._points_key = None
        self._cursor_at = None
        self._clip = ClipBox()  # in plotted coordinates (log10 of the loss on a log axis)
        self.ghosts = GhostLayer(pi, "loss")  # frozen paths (Run ▸ Keep as ghost)
        self._ghost_list = ()
        self._ghost_extent = None  # (last step, lowest loss, lowest positive, highest)
        self.view_box.sigRangeChangedManually.connect(self._on_manual_range)
        self.view_box.sigRangeChanged.connect(self._on_range_changed)

    # ----------------------------------------------------------------- public
    def set_log_y(self, on: bool) -> None:
        """Logarithmic loss axis (falls back to linear, with a note, if a loss is <= 0)."""
        on = bool(on)
        if on != self._log:
            self._log = on
            self._follow = True
            self._apply_log(self._log_active and on)

    def set_runs(self, snaps: Sequence[RunSnapshot], cursor: int | None) -> None:
        """Draw the loss of each visible run, the cursor line and the current points.

        Parameters
        ----------
        snaps
            The runs (items created once per ``run_id``; absent ones removed).
        cursor
            Timeline step (None: the latest row of the longest visible run).
        """
        if self._defer_while_hidden("set_runs", snaps, cursor):
            return
        visible = []
        coarse = self._coarse_points()
        for snap, run in self._runs.sync(snaps):
            show = snap.visible and snap.n > 0
            run.item.setVisible(show)
            self._legend_entry(run, snap.label if show else None, run.item)
            run.current = None
            if not show:
                run.runaway.hide()
            else:
                run.loss = np.asarray(snap.loss)
                if run.dec.max_points != coarse:  # resized: summarise afresh
                    run.dec = PeakDecimator(coarse)
                    run.shown = None
                if run.dec.update(run.loss):
                    run.shown = None
                visible.append((snap, run))

        bad = [s.label for s, r in visible if r.dec.lo <= 0]
        use_log = self._log and not bad
        if self._log and bad:
            self.set_corner_text("log y off: loss ≤ 0 in " + ", ".join(bad[:3])
                                 + (" …" if len(bad) > 3 else ""))
        else:
            self.set_corner_text("")
        if use_log != self._log_active:
            self._apply_log(use_log)

        # our own, finite range, without runaways (see the class docstring)
        self._rect = self._followed_rect(visible, use_log)
        if self._follow and self._rect is not None:
            self._apply_rect()
        self._clip.update(self.view_box.viewRange())

        for _, run in visible:
            self._show_curve(run)

        # current points and cursor line
        n_max = max((s.n for s, _ in visible), default=0)
        if n_max == 0:
            self.cursor_line.hide()
            self.points.set_points([], [], [], False)
            self._points_key = None
        else:
            c = n_max - 1 if cursor is None else max(0, min(int(cursor), n_max - 1))
            self.cursor_line.setPos(c)
            self.cursor_line.show()
            xs, ys, colors = [], [], []
            for snap, run in visible:
                k = snap.index(cursor)
                v = float(snap.loss[k])
                if math.isfinite(v) and (not use_log or v > 0):
                    xs.append(float(k))
                    ys.append(v)
                    colors.append(snap.color)
                    run.current = (float(k), math.log10(v) if use_log else v, v)
                elif not math.isfinite(v):  # where it was last seen, for the marker
                    ok = np.flatnonzero(np.isfinite(snap.loss[:k + 1]))
                    if ok.size:
                        j = int(ok[-1])
                        w = float(snap.loss[j])
                        if not use_log or w > 0:
                            run.current = (float(j), math.log10(w) if use_log else w, w)
            key = (tuple(xs), tuple(ys), tuple(colors), use_log, self._clip.box)
            if key != self._points_key:
                self._points_key = key
                self.points.set_points(xs, ys, colors, use_log, self._clip.box)
            if c != self._cursor_at:
                self._cursor_at = c
                self.cursor_line.setToolTip(f"cursor at step {c}")
        self._place_runaways()
        self._update_legend()

    def show_frame(self, frame: Frame) -> None:
        """Draw the runs of a display tick (see :meth:`set_runs`) and the ghosts."""
        if frame.ghosts is not self._ghost_list:  # the followed range covers them too
            self._ghost_extent = _extent(frame.ghosts)
        self.set_runs(frame.snapshots, frame.cursor)
        self.set_ghosts(frame.ghosts)

    def set_ghosts(self, ghosts: Sequence) -> None:
        """Draw the ghosts' loss against step, dashed and dimmed, each labelled at its last
        step (on a log axis their losses <= 0 are left out)."""
        if self._defer_while_hidden("set_ghosts", ghosts):
            return
        if ghosts is not self._ghost_list:
            self._ghost_extent = _extent(ghosts)
        self._ghost_list = ghosts
        log = self._log_active
        key = (ghosts, log, self._clip.box)
        if self.ghosts.drawn_for(key):
            return
        paths = []
        for g in ghosts:
            steps, _, loss = g.arrays()
            if log:
                keep = loss > 0
                steps, loss = steps[keep], np.log10(loss[keep])
            paths.append((steps, loss, g.label, g.color))
        self.ghosts.show(paths, self._clip.box, key=key)

    def _add_run(self, snap: RunSnapshot) -> _LossRun:
        run = _LossRun(snap.color, self.plot_item)
        self.plot_item.addItem(run.item)
        # after addItem: clipToView needs the item's view box
        run.item.setDownsampling(auto=True, method="peak")
        run.item.setClipToView(True)
        return run

    def _remove_run(self, run: _LossRun) -> None:
        self._legend_entry(run, None, run.item)
        self.plot_item.removeItem(run.item)
        for item in run.runaway.items():
            self.plot_item.removeItem(item)

    def _update_legend(self) -> None:
        """The legend to the corner that covers least of the curves and current points."""
        runs = [r for r in self._runs.values() if r.item.isVisible()]
        # looked at again when a run has grown by a fifth or so (not at every frame), the
        # axis changed or the range moved (place_legend adds the range)
        key = (tuple((id(r), int(8 * math.log2(r.dec.n + 1))) for r in runs), self._log_active)

        def points():
            pts = []
            for r in runs:
                x, y = r.item.curve.getData()  # as plotted (log10 on a log axis)
                if x is not None:
                    pts.append((x, y, 1.0))
                if r.current is not None:
                    pts.append(([r.current[0]], [r.current[1]], 50.0))
            return pts

        self.place_legend(points, key)

    def _followed_rect(self, visible, use_log: bool):
        """``(x0, x1, y0, y1)`` the view follows: the finite losses, runaways left out."""
        runs = [r for _, r in visible]
        lo = min((r.dec.lo for r in runs), default=math.inf)
        hi = max((r.dec.hi for r in runs), default=-math.inf)
        if not lo <= hi:
            return None
        ghost = self._ghost_extent
        if ghost is not None:  # a ghost of the run before is compared over its whole length
            lo = min(lo, ghost[2] if use_log else ghost[1])
            hi = max(hi, ghost[3])
        starts = [float(s.loss[0]) for s, _ in visible if math.isfinite(float(s.loss[0]))]
        if use_log:
            lo, hi = math.log10(lo), math.log10(hi)
            top = max((math.log10(v) for v in starts if v > 0), default=hi)
            hi = max(lo, min(hi, top + RUNAWAY_DECADES))
        elif starts:
            scale = max(abs(v) for v in starts) or max(abs(lo), abs(hi), 1.0)
            lo = max(lo, min(starts) - RUNAWAY_FACTOR * scale)
            hi = min(hi, max(starts) + RUNAWAY_FACTOR * scale)
        yb = padded((lo, hi), 0.05)
        n_max = max((s.n for s, _ in visible), default=0)
        if ghost is not None:
            n_max = max(n_max, int(ghost[0]) + 1)
        return (0.0, float(max(n_max - 1, 1)), yb[0], yb[1])

    def _place_runaways(self) -> None:
        """An arrow at the top or bottom edge for each current point out of sight."""
        view = view_rect(self.view_box)
        pixel = None
        for run in self._runs.values():
            cur = run.current
            if cur is None or not run.item.isVisible() or (
                    view[0] <= cur[0] <= view[1] and view[2] <= cur[1] <= view[3]):
                run.runaway.hide()
                continue
            pixel = pixel or pixel_size(self.view_box)
            x = min(max(cur[0], view[0]), view[1])
            # straight up or down from the middle of the view, above the point's step
            run.runaway.place(view, pixel, (x, 0.5 * (view[2] + view[3])), cur[:2],
                              f"→ loss ≈ {approx(cur[2])}")
        unstack(self.view_box, [r.runaway.label for r in self._runs.values()])

    def _on_range_changed(self, *_) -> None:
        if not self.isVisible():  # hidden (or being torn down): showEvent catches up
            return
        if self._clip.update(self.view_box.viewRange()):
            for run in self._runs.values():
                run.shown = None
            self._refresh_curves()
            self._points_key = None
            self.set_ghosts(self._ghost_list)
        self.ghosts.place_labels()
        self._place_runaways()
        self._update_legend()

    def _coarse_points(self) -> int:
        """Points of a curve that spans the view: a power of two >= LOSS_POINTS_PER_PIXEL
        per pixel column (powers of two: resizing rarely starts the summaries afresh)."""
        want = LOSS_POINTS_PER_PIXEL * max(self.view_box.width(), 100.0)
        return 1 << max(8, math.ceil(math.log2(want)))

    def _show_curve(self, run: _LossRun) -> None:
        """Hand the run's curve to its item, decimated for the current view (no-op when
        the item holds that already)."""
        n = run.dec.n
        if self._follow:
            # The whole run is in view: min/max pairs for one to four buckets per pixel
            # column are all the screen can show. pyqtgraph's own peak downsampling (on
            # for zoomed views) has nothing left to do, rather than re-reducing tens of
            # thousands of points at every frame.
            mode = "raw" if n <= run.dec.max_points else "coarse"
        else:  # zoomed in: the finer decimation, clipped and downsampled by pyqtgraph
            mode = "raw" if n <= MAX_LOSS_POINTS else "fine"
        key = (n, mode, self._clip.box)
        if key == run.shown:
            return
        if mode == "raw":
            y = np.asarray(run.loss[:n], dtype=np.float64)
            x = _STEPS[:n] if n <= MAX_LOSS_POINTS else np.arange(n, dtype=np.float64)
        elif mode == "coarse":
            x, y = run.dec.points()
        else:
            run.fine.update(run.loss)
            x, y = run.fine.points()
        x, y = self._cut(x, y)
        run.item.setData(x, y)
        run.shown = key

    def _cut(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The curve cut to the clip box, which lives in plotted coordinates (log10 y on
        a log axis): rows that stay are the input's own, bit for bit (cached prefixes hold),
        boundary points are mapped back to losses."""
        box = self._clip.box
        if box is None or len(x) == 0:
            return x, y
        with np.errstate(all="ignore"):
            # the usual case, without a log10 of every point: the box in losses
            y0, y1 = np.power(10.0, box[2:]) if self._log_active else box[2:]  # inf, no raise
            if bool(np.all((y >= y0) & (y <= y1) & (x >= box[0]) & (x <= box[1]))):
                return x, y
            yp = np.log10(y) if self._log_active else y
            out, src = clip_polyline(np.column_stack([x, yp]), (box[0], box[2]),
                                     (box[1], box[3]))
            if src is None:
                return x, y
            exact = src >= 0
            cx = np.where(exact, x[np.maximum(src, 0)], out[:, 0])
            boundary = 10.0 ** out[:, 1] if self._log_active else out[:, 1]
            cy = np.where(exact, y[np.maximum(src, 0)], boundary)
        return cx, cy

    def _refresh_curves(self) -> None:
        for run in self._runs.values():
            if run.item.isVisible() and run.dec.n:
                self._show_curve(run)

    def _apply_log(self, on: bool) -> None:
        self._log_active = on
        self.plot_item.setLogMode(x=False, y=on)
        self.plot_item.setLabel("left", "loss (log scale)" if on else "loss")
        for run in self._runs.values():
            run.shown = None

    def _apply_rect(self) -> None:
        x0, x1, y0, y1 = self._rect
        # Round the range outwards to "nice" values (steps of at most 25 % for the step axis, whole
        # decades in log y) so that a growing run changes the axes only now and then:
        # every range change re-lays out the tick text, the costliest part of a frame.
        x1 = _nice_ceil(x1)
        if self._log_active:
            y0, y1 = math.floor(y0), math.ceil(y1)
        pad = 0.01 * (x1 - x0)
        x0, x1 = x0 - pad, x1 + pad
        (cx0, cx1), (cy0, cy1) = self.view_box.viewRange()
        # a growing run moves the range a hair every frame; each range change makes
        # pyqtgraph re-clip and re-downsample every curve, so skip sub-pixel changes
        tx, ty = 0.002 * (x1 - x0), 0.002 * (y1 - y0)
        if (abs(cx0 - x0) <= tx and abs(cx1 - x1) <= tx
                and abs(cy0 - y0) <= ty and abs(cy1 - y1) <= ty):
            return
        self.view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def _fit_rect(self):
        if not self._follow:
            self._follow = True
            self._refresh_curves()
        if self._rect is None:
            return None
        x0, x1, y0, y1 = self._rect
        pad = 0.01 * (x1 - x0)
        return (x0 - pad, x1 + pad, y0, y1)

    def _on_manual_range(self, *_):
        if self._follow:
            self._follow = False
            self._refresh_curves()  # finer curves for the zoomed view

    def _scene_clicked(self, ev) -> None:
        if ev.double() and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self.fit_view()

    def run_item(self, run_id: int) -> pg.PlotDataItem | None:
        """The PlotDataItem of a run (None if absent), for tests."""
        run = self._runs.get(run_id)
        return None if run is None else run.item
