"""Sharpness along the paths: λmax(H(p_k)) against step for every run, with each run's
2/lr line and its optimizer's own edge where known (the edge-of-stability picture of
Cohen et al. 2021: plain GD diverges where the sharpness rises above 2/lr).

The model computes the values (:meth:`~gd_explorer.model.explorer.ExplorerModel.sharpness`:
decimated, extended incrementally); this view only draws them.  The y axis is
logarithmic: the view draws log10 of the values and labels the axis in powers of ten;
steps where λmax ≤ 0 (no positive curvature) leave a gap.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from gd_explorer.ui.views._common import PlotView, RunItems, padded, set_curve_data


def _log10(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v) & (v > 0)
    out[ok] = np.log10(v[ok])
    return out


class _RunLines:
    """One run's items: its sharpness curve, its 2/lr line and its optimizer's edge."""

    def __init__(self, color: str):
        self.label = None  # what the legend holds (see PlotView._legend_entry)
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(color, width=2), connect="finite")
        self.gd_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(
            color, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        self.own_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(
            color, width=1.5, style=QtCore.Qt.PenStyle.DotLine))
        self.own_line.hide()

    def set_color(self, color: str) -> None:
        self.curve.setPen(pg.mkPen(color, width=2))
        self.gd_line.setPen(pg.mkPen(color, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        self.own_line.setPen(pg.mkPen(color, width=1.5, style=QtCore.Qt.PenStyle.DotLine))


class SharpnessView(PlotView):
    """λmax of the Hessian along every run (log y), with 2/lr (dashed) and the optimizer's
    own edge (dotted, where its closed form depends on λmax alone: SGD's momentum)."""

    def __init__(self, parent=None):
        super().__init__("sharpnessPlot", "Sharpness λmax(H)", parent)
        self.plot_widget.setToolTip(
            "The largest eigenvalue of the Hessian at every step of every run (log scale). "
            "Dashed: 2/lr, where plain gradient descent turns unstable (sharpness above the "
            "line: the step overshoots along the sharpest direction). Dotted: the "
            "optimizer's own edge where known (momentum μ: (2 + 2μ)/lr). Adaptive optimizers "
            "(Adam, RMSprop, …) get no line: their edge is on the preconditioned Hessian (the "
            "step log gives it). Gaps: no positive curvature there.")
        self.plot_item.setLabel("bottom", "step")
        self.plot_item.setLabel("left", "λmax")
        self.plot_item.getAxis("left").setLogMode(True)  # the data are log10 already
        self.plot_item.getAxis("bottom").enableAutoSIPrefix(False)
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(
            255, 255, 255, 90, style=QtCore.Qt.PenStyle.DotLine))
        self.plot_item.addItem(self.cursor_line, ignoreBounds=True)
        self.cursor_line.hide()
        self.add_legend()
        self._runs: RunItems[_RunLines] = RunItems(self._add_run, self._remove_run)
        self._rect = None
        self.data: list = []  # the last SharpnessRun list drawn (tests read it)
        # a costly objective (a network by Lanczos) fills in over several calls: pull again
        # soon while rows are missing, even when the runs stand still
        self._pull = None
        self._again = QtCore.QTimer(self)
        self._again.setSingleShot(True)
        self._again.setInterval(60)
        self._again.timeout.connect(self._pull_again)

    def show_frame(self, frame) -> None:
        """Every run's sharpness, from the frame's model (computed there, when asked)."""
        if frame.sharpness is None:
            return
        self._pull = (frame.sharpness, frame.cursor)
        self.set_sharpness(frame.sharpness(), frame.cursor)

    def _pull_again(self) -> None:
        if self._pull is not None and self.isVisible():
            pull, cursor = self._pull
            self.set_sharpness(pull(), cursor)

    def set_sharpness(self, runs, cursor: int | None = None) -> None:
        """Draw ``runs`` (:class:`~gd_explorer.model.curvature.SharpnessRun` each)."""
        if self._defer_while_hidden("set_sharpness", runs, cursor):
            return
        self.data = list(runs)
        if any(not getattr(r, "complete", True) for r in self.data):
            self._again.start()
        ys, last = [], 0
        for run, items in self._runs.sync(runs):
            y = _log10(run.lmax)
            set_curve_data(items.curve, run.steps, y)
            self._legend_entry(items, run.label, items.curve)
            gd = float(_log10(np.array([run.lr_edge]))[0])
            items.gd_line.setVisible(math.isfinite(gd))
            if math.isfinite(gd):
                items.gd_line.setPos(gd)
                ys.append(gd)
            own = None if run.own_edge is None else float(_log10(np.array([run.own_edge]))[0])
            show_own = bool(own is not None and math.isfinite(own)
                            and not (math.isfinite(gd) and abs(own - gd) <= 1e-9))
            items.own_line.setVisible(show_own)
            if show_own:
                items.own_line.setPos(own)
                ys.append(own)
            ys.extend(y[np.isfinite(y)].tolist())
            if len(run.steps):
                last = max(last, int(run.steps[-1]))
        self.cursor_line.setVisible(cursor is not None)
        if cursor is not None:
            self.cursor_line.setPos(cursor)
        if ys:
            self._rect = (*padded((0.0, float(max(last, 1))), 0.02),
                          *padded((min(ys), max(ys)), 0.08))
        else:
            self._rect = None
        self.fit_view()

    def _add_run(self, run) -> _RunLines:
        items = _RunLines(run.color)
        self.plot_item.addItem(items.curve)
        self.plot_item.addItem(items.gd_line, ignoreBounds=True)
        self.plot_item.addItem(items.own_line, ignoreBounds=True)
        return items

    def _remove_run(self, items: _RunLines) -> None:
        self._legend_entry(items, None, items.curve)
        for item in (items.curve, items.gd_line, items.own_line):
            self.plot_item.removeItem(item)

    def _fit_rect(self):
        return self._rect
