"""The selected run's learning rate against step, and the momentum (beta1) its schedule
cycles, if it does (CyclicLR, OneCycleLR), on a second plot sharing the step axis."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from gd_explorer.model.snapshot import RunSnapshot
from gd_explorer.ui.views._common import PlotView, finite_bounds, padded, plain, set_curve_data
from gd_explorer.ui.views.loss import PeakDecimator

#: points drawn per curve (min/max pairs of buckets): a schedule has no detail finer
MAX_LR_POINTS = 4096


class _Series:
    """One decimated, append-only series of the selected run (rate or momentum)."""

    def __init__(self, plot_item, color: str):
        self.item = pg.PlotCurveItem(pen=pg.mkPen(color, width=2), connect="finite")
        plot_item.addItem(self.item)
        self.dec = PeakDecimator(MAX_LR_POINTS)

    def update(self, y: np.ndarray | None) -> tuple[float, float] | None:
        """Draw ``y`` (None: nothing); returns its finite ``(min, max)``."""
        if y is None or len(y) == 0:
            self.dec.reset()
            set_curve_data(self.item, [], [])
            return None
        if self.dec.update(y):
            set_curve_data(self.item, *self.dec.points())
        return finite_bounds([self.dec.lo, self.dec.hi])

    def set_color(self, color: str) -> None:
        self.item.setPen(pg.mkPen(color, width=2))


class LRView(PlotView):
    """Learning rate (and cycled momentum) of the selected run against step.

    Items are made once; :meth:`set_runs` feeds them the recorded rows of the run's
    snapshot (``lr``: the rate of the update leaving each row; ``momentum`` when the
    schedule cycles it) and sets finite ranges itself.
    """

    def __init__(self, parent=None):
        super().__init__("lrPlot", "Learning rate", parent)
        self.plot_widget.setToolTip(
            "The selected run's learning rate at every step (the rate of the update that "
            "leaves the step), as its schedule sets it; below, the momentum or beta1 when "
            "the schedule cycles it. Right-click → View All to fit.")
        self.plot_item.setLabel("bottom", "step")
        self.plot_item.setLabel("left", "lr")
        self.rate = _Series(self.plot_item, "#ffffff")
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(
            255, 255, 255, 90, style=QtCore.Qt.PenStyle.DotLine))
        self.plot_item.addItem(self.cursor_line, ignoreBounds=True)
        self.cursor_line.hide()
        # the momentum: a second plot under the first, same steps, own axis
        self.momentum_widget = pg.PlotWidget()
        self.momentum_widget.setObjectName("lrMomentumPlot")
        self.momentum_widget.setToolTip("The momentum (SGD, RMSprop) or beta1 (Adam) the "
                                        "schedule sets for each update")
        self.momentum_item = self.momentum_widget.getPlotItem()
        self.momentum_item.hideButtons()
        self.momentum_item.showGrid(x=True, y=True, alpha=0.15)
        self.momentum_item.setLabel("bottom", "step")
        self.momentum_item.getViewBox().disableAutoRange()
        self.momentum_item.setXLink(self.plot_item)
        self.momentum = _Series(self.momentum_item, "#ffffff")
        self.momentum_widget.setMaximumHeight(170)
        self.momentum_widget.setMinimumHeight(110)  # room for its axis and label
        for item in (self.plot_item, self.momentum_item):  # 0.9, not "900 (x0.001)"
            for side in ("left", "bottom"):
                item.getAxis(side).enableAutoSIPrefix(False)
        self.momentum_widget.hide()
        self.layout().addWidget(self.momentum_widget)
        self._run_id: int | None = None
        self._rect = None

    def show_frame(self, frame) -> None:
        """The selected run of a display tick's frame."""
        self.set_runs(frame.snapshots, frame.cursor, frame.selected_id)

    def set_runs(self, snaps: Sequence[RunSnapshot], cursor: int | None,
                 selected: int | None = None) -> None:
        """Draw run ``selected`` (a run_id; None: the first visible run) of ``snaps``.

        Parameters
        ----------
        snaps
            The runs' snapshots.
        cursor
            Timeline step (None: the latest row).
        selected
            Which run to show.
        """
        if self._defer_while_hidden("set_runs", snaps, cursor, selected):
            return
        snap = next((s for s in snaps if s.run_id == selected), None)
        if snap is None:
            snap = next((s for s in snaps if s.visible), None)
        if snap is None or snap.run_id != self._run_id:
            self.rate.dec.reset()
            self.momentum.dec.reset()
            self._run_id = None if snap is None else snap.run_id
        if snap is None:
            self.rate.update(None)
            self.momentum.update(None)
            self.momentum_widget.hide()
            self.cursor_line.hide()
            self.plot_item.setTitle("Learning rate")
            self._rect = None
            return
        self.plot_item.setTitle(plain(f"Learning rate — {snap.label}"))
        self.rate.set_color(snap.color)
        self.momentum.set_color(snap.color)
        yb = self.rate.update(snap.lr)
        mb = self.momentum.update(snap.momentum)
        self.momentum_widget.setVisible(mb is not None)
        if mb is not None:
            self.momentum_item.setLabel("left", snap.momentum_name)
            self.momentum_item.getViewBox().setYRange(*padded(mb, 0.08), padding=0)
        k = snap.index(cursor)
        if k >= 0:
            self.cursor_line.setPos(k)
            self.cursor_line.setVisible(cursor is not None)
        n = max(snap.n - 1, 1)
        self._rect = None if yb is None else (*padded((0.0, float(n)), 0.02), *padded(yb, 0.08))
        self.fit_view()

    def _fit_rect(self):
        return self._rect
