"""The Sweep view: learning-rate sweeps, the lr × momentum map and the LR range test.

Three modes, one set of controls (the view's own "dialog": rates, count, steps,
momenta), run off the UI thread by the model's sweep job (the window connects the
signals: :attr:`SweepView.run_requested`, :attr:`SweepView.cancel_requested`,
:attr:`SweepView.settings_edited`, :attr:`SweepView.rate_clicked`):

* **LR sweep**: final and best loss against the rate, log–log, diverged runs marked
  (red crosses at their last loss before running away), the measured edge and the edge
  the Hessian at the start predicts drawn as labelled vertical lines;
* **lr × momentum**: the final loss as a heat map over log10 lr × momentum (blank where
  a run diverged), the predicted edge per momentum as a line;
* **LR range test**: the smoothed (and raw) loss of one run with an exponentially
  growing rate, with fastai's suggestions as vertical lines and a note on how they
  mislead.

A left click on a plot adds a run at the rate under the mouse (snapped to the nearest
rate swept; in the map, with that row's momentum).  Plot items are made once and fed
with ``setData``/``setImage``; the ranges are set from finite data.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gd_explorer.core.lab.sweep import MODES, LRSweep, MomentumMap, RangeTest, SweepSettings
from gd_explorer.core.limits import MAX_STEPS, MAX_SWEEP_RUNS
from gd_explorer.ui.support import plain_label
from gd_explorer.ui.views._common import plain

MODE_TITLES = {"lr": "LR sweep", "map": "lr × momentum map", "range": "LR range test"}
MODE_TIPS = {
    "lr": "Run the selected run's optimizer at K log-spaced learning rates for N steps "
          "(one batched descent) and plot the final and best loss per rate",
    "map": "Sweep the learning rate and the momentum (beta1 for the Adam family): the "
           "final loss as a heat map (Distill's momentum phase diagram)",
    "range": "The LR range test (fastai / Lightning lr_find): one run whose rate grows "
             "exponentially; made for datasets (training a model)",
}
RANGE_NOTE = (
    "How the suggestions mislead: the loss at each rate is measured after all the "
    "smaller rates have already moved the parameters, so the curve is one path, not a "
    "sweep; an early spike (or a lucky batch) can make the valley or the steepest point "
    "land on noise; the steepest slope depends on plotting against log lr (against a "
    "linear lr it lands elsewhere); and smoothing lags, so the minimum sits past the "
    "rate that caused it (hence minimum / 10). Compare with an LR sweep.")
#: decades of loss the map's colours span (lower losses take the lowest colour)
MAP_DECADES = 16.0
COLORS = {"final": "#56B4E9", "best": "#E69F00", "diverged": "#D55E00",
          "predicted": "#F0E442", "measured": "#CC79A7", "raw": (200, 200, 200, 90),
          "valley": "#009E73", "steepest": "#F0E442", "minimum/10": "#CC79A7"}


def _log10(a) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.log10(np.asarray(a, dtype=np.float64))


class EdgeMarker:
    """A labelled vertical line at a rate: an InfiniteLine and a TextItem kept apart (an
    InfiniteLine's own label points back at its line, a cycle only the collector frees),
    the text ``height`` (a fraction from the top) of the way down the plot."""

    def __init__(self, plot_item: pg.PlotItem, color: str, height: float):
        self.height = height
        self.line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(
            color, width=2, style=QtCore.Qt.PenStyle.DashLine))
        self.label = pg.TextItem("", color=color, anchor=(0, 0), fill=pg.mkBrush(0, 0, 0, 170))
        plot_item.addItem(self.line, ignoreBounds=True)
        plot_item.addItem(self.label, ignoreBounds=True)
        self.hide()

    def place(self, lr: float | None, text: str) -> None:
        """Show at rate ``lr`` (hidden for None or a rate that is not positive)."""
        if lr is None or not math.isfinite(lr) or lr <= 0:
            self.hide()
            return
        self.line.setValue(math.log10(lr))
        self.label.setText(text)
        self.line.show()
        self.label.show()

    def hide(self) -> None:
        self.line.hide()
        self.label.hide()

    def isVisible(self) -> bool:  # noqa: N802 - reads like the items' own
        return self.line.isVisible()

    def value(self) -> float:
        return float(self.line.value())

    def follow(self, y_range) -> None:
        """Put the text at its height within ``y_range`` (the plot's y range)."""
        y0, y1 = y_range
        self.label.setPos(self.line.value(), y1 - self.height * (y1 - y0))


def _real_edit(name: str, tip: str) -> QtWidgets.QLineEdit:
    edit = QtWidgets.QLineEdit()
    edit.setObjectName(name)
    edit.setToolTip(tip)
    edit.setMinimumWidth(56)
    edit.setMaximumWidth(80)
    return edit


def _spin(name: str, tip: str, lo: int, hi: int) -> QtWidgets.QSpinBox:
    spin = QtWidgets.QSpinBox()
    spin.setObjectName(name)
    spin.setToolTip(tip)
    spin.setRange(lo, hi)
    spin.setGroupSeparatorShown(True)
    spin.setMaximumWidth(90)
    return spin


class SweepView(QtWidgets.QWidget):
    """The Sweep tab; see the module docstring."""

    run_requested = QtCore.Signal()
    cancel_requested = QtCore.Signal()
    settings_edited = QtCore.Signal(object)  # SweepSettings
    rate_clicked = QtCore.Signal(float, object)  # lr, momentum (None outside the map)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sweepView")
        self._result = None  # what is drawn: LRSweep, MomentumMap or RangeTest
        self._result_mode = None  # its mode ("lr", "map", "range")
        self._settings = SweepSettings()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._build_controls())
        self._build_plots(layout)
        self.note = plain_label()
        self.note.setObjectName("sweepNote")
        self.note.setWordWrap(True)
        self.note.setToolTip("What the plot shows and how to read it")
        layout.addWidget(self.note)
        self.set_settings(self._settings)
        self.set_running(False)
        self._show_mode()

    # ------------------------------------------------------------------ building
    def _build_controls(self) -> QtWidgets.QLayout:
        # short rows: the view keeps its fields in sight in a 960-pixel window
        rows = QtWidgets.QVBoxLayout()
        top, rates, sizes, momenta = (QtWidgets.QHBoxLayout() for _ in range(4))
        for r in (top, rates, sizes, momenta):
            rows.addLayout(r)
        self.mode = QtWidgets.QComboBox()
        self.mode.setObjectName("sweepMode")
        for key in MODES:
            self.mode.addItem(MODE_TITLES[key], key)
            self.mode.setItemData(self.mode.count() - 1, MODE_TIPS[key],
                                  QtCore.Qt.ItemDataRole.ToolTipRole)
        self.mode.setToolTip("What to sweep: learning rates, rates × momenta, or the LR "
                             "range test")
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.low = _real_edit("sweepLow", "The smallest learning rate")
        self.high = _real_edit("sweepHigh", "The largest learning rate")
        self.count = _spin("sweepCount", "How many learning rates (log-spaced)", 2,
                           MAX_SWEEP_RUNS)
        self.steps = _spin("sweepSteps", "Updates per run (the range test: its length)",
                           2, MAX_STEPS)
        self.mlow = _real_edit("sweepMomentumLow", "The smallest momentum (beta1 for Adam)")
        self.mhigh = _real_edit("sweepMomentumHigh", "The largest momentum (below 1)")
        self.mcount = _spin("sweepMomenta", "How many momenta (evenly spaced)", 2, 1000)
        self.run_button = QtWidgets.QPushButton("Sweep")
        self.run_button.setObjectName("sweepRunButton")
        self.run_button.setToolTip("Run the sweep for the selected run's optimizer from the "
                                   "start (off the window's thread; Ctrl+L)")
        self.run_button.clicked.connect(self._on_run_clicked)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setObjectName("sweepCancelButton")
        self.cancel_button.setToolTip("Stop the sweep (nothing is drawn)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("sweepViewProgress")
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(120)
        self.progress.setToolTip("How much of the sweep is done")
        self._momentum_widgets = []
        top.addWidget(self.mode)
        top.addStretch(1)
        top.addWidget(self.progress)
        top.addWidget(self.run_button)
        top.addWidget(self.cancel_button)
        fields = ((rates, "lr from", self.low), (rates, "to", self.high),
                  (sizes, "K", self.count), (sizes, "N", self.steps),
                  (momenta, "μ from", self.mlow), (momenta, "to", self.mhigh),
                  (momenta, "M", self.mcount))
        for row, text, w in fields:
            label = plain_label(text)
            label.setToolTip(w.toolTip())
            row.addWidget(label)
            row.addWidget(w)
            if row is momenta:
                self._momentum_widgets += [label, w]
        for row in (rates, sizes, momenta):
            row.addStretch(1)
        for w in (self.low, self.high, self.mlow, self.mhigh):
            w.editingFinished.connect(self._on_edited)
        for w in (self.count, self.steps, self.mcount):
            w.editingFinished.connect(self._on_edited)
        return rows

    def _plot(self, name: str, bottom: str, left: str) -> pg.PlotWidget:
        w = pg.PlotWidget()
        w.setObjectName(name)
        item = w.getPlotItem()
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("bottom", bottom)
        item.setLabel("left", left)
        item.getViewBox().disableAutoRange()
        item.getViewBox().setMouseEnabled(x=True, y=True)
        for side in ("bottom", "left"):  # log10 values and momenta, not "x1e+09"
            item.getAxis(side).enableAutoSIPrefix(False)
        w.scene().sigMouseClicked.connect(self._on_scene_clicked)
        return w

    def _build_plots(self, layout: QtWidgets.QVBoxLayout) -> None:
        self.stack = QtWidgets.QStackedWidget()
        # the LR sweep and the range test: log10 lr on x, log10 loss on y
        self.line_plot = self._plot("sweepPlot", "learning rate", "loss")
        self.line_plot.setToolTip("Final and best loss per learning rate (log–log); red "
                                  "crosses: diverged runs. Click a point to add that rate "
                                  "as a run.")
        pi = self.line_plot.getPlotItem()
        for side in ("bottom", "left"):
            pi.getAxis(side).setLogMode(True)  # the data are log10 values: 10^x ticks
        self.legend = pi.addLegend(offset=(10, -10))  # bottom left: the curves keep clear
        self.legend.setLabelTextColor("#f0f0f0")
        self.final_curve = pg.PlotDataItem(pen=pg.mkPen(COLORS["final"], width=2),
                                           symbol="o", symbolSize=4,
                                           symbolBrush=COLORS["final"], symbolPen=None,
                                           connect="finite", name="final loss")
        self.best_curve = pg.PlotDataItem(pen=pg.mkPen(COLORS["best"], width=1.5),
                                          connect="finite", name="best loss")
        self.raw_curve = pg.PlotDataItem(pen=pg.mkPen(COLORS["raw"], width=1),
                                         connect="finite", name="raw loss")
        self.diverged_points = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen(
            COLORS["diverged"], width=2), brush=None, name="diverged")
        for item in (self.raw_curve, self.best_curve, self.final_curve, self.diverged_points):
            pi.addItem(item)
        self.legend.clear()
        self.predicted_line = EdgeMarker(pi, COLORS["predicted"], 0.04)
        self.measured_line = EdgeMarker(pi, COLORS["measured"], 0.12)
        self.suggestion_lines = {k: EdgeMarker(pi, COLORS[k], pos) for k, pos in
                                 (("valley", 0.04), ("steepest", 0.12), ("minimum/10", 0.20))}
        pi.getViewBox().sigRangeChanged.connect(self._follow_range)
        self.stack.addWidget(self.line_plot)
        # the map: log10 lr × momentum, coloured by log10 final loss
        self.map_plot = self._plot("sweepMapPlot", "learning rate", "momentum")
        self.map_plot.setToolTip("Final loss over learning rate × momentum (colour: log10 "
                                 "loss; blank: diverged); dashed: the predicted edge. Click "
                                 "a cell to add that run.")
        mi = self.map_plot.getPlotItem()
        mi.getAxis("bottom").setLogMode(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        mi.addItem(self.image)
        self.map_edge = pg.PlotDataItem(pen=pg.mkPen(COLORS["predicted"], width=2,
                                                     style=QtCore.Qt.PenStyle.DashLine),
                                        connect="finite")
        mi.addItem(self.map_edge)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False,
                                        label="log10 final loss", width=12)
        self.colorbar.setImageItem(self.image, insert_in=mi)
        self.stack.addWidget(self.map_plot)
        self.stack.setMinimumHeight(220)
        layout.addWidget(self.stack, 1)

    # ------------------------------------------------------------------ settings
    def set_settings(self, s: SweepSettings) -> None:
        """Show ``s`` in the controls (no signal)."""
        self._settings = s
        widgets = (self.mode, self.low, self.high, self.count, self.steps, self.mlow,
                   self.mhigh, self.mcount)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.mode.setCurrentIndex(MODES.index(s.mode))
            self._fill_mode_fields(s)
            self.mlow.setText(f"{s.momentum_low:g}")
            self.mhigh.setText(f"{s.momentum_high:g}")
            self.mcount.setValue(s.momenta)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._show_mode()

    def _fill_mode_fields(self, s: SweepSettings) -> None:
        if s.mode == "range":
            lo, hi, count, steps = s.range_low, s.range_high, None, s.range_steps
        else:
            lo, hi, steps = s.lr_low, s.lr_high, s.steps
            count = s.count if s.mode == "lr" else s.map_count
        self.low.setText(f"{lo:g}")
        self.high.setText(f"{hi:g}")
        if count is not None:
            self.count.setValue(count)
        self.steps.setValue(steps)

    def settings(self) -> SweepSettings:
        """The settings the controls show (``ValueError`` with one line if unusable)."""
        s = self._settings
        mode = self.mode.currentData()
        try:
            lo, hi = float(self.low.text()), float(self.high.text())
            mlo, mhi = float(self.mlow.text()), float(self.mhigh.text())
        except ValueError:
            raise ValueError("the rates and momenta must be numbers") from None
        k, n = self.count.value(), self.steps.value()
        kw = dict(mode=mode, momentum_low=mlo, momentum_high=mhi, momenta=self.mcount.value())
        if mode == "range":
            kw.update(range_low=lo, range_high=hi, range_steps=n)
        elif mode == "map":
            kw.update(lr_low=lo, lr_high=hi, map_count=k, steps=n)
        else:
            kw.update(lr_low=lo, lr_high=hi, count=k, steps=n)
        return SweepSettings(**{**vars(s), **kw}).check()

    def _on_edited(self) -> bool:
        """Take the typed settings (False, and the reason in the note, if refused)."""
        try:
            s = self.settings()
        except ValueError as exc:
            self.note.setText(str(exc))
            return False
        if s != self._settings:
            self._settings = s
            self.settings_edited.emit(s)
        return True

    def _on_mode_changed(self, _index: int) -> None:
        s = SweepSettings(**{**vars(self._settings), "mode": self.mode.currentData()})
        self._settings = s
        self.blockSignals(True)
        self._fill_mode_fields(s)
        self.blockSignals(False)
        self._show_mode()
        self.settings_edited.emit(s)

    def _show_mode(self) -> None:
        mode = self.mode.currentData()
        for w in self._momentum_widgets:
            w.setVisible(mode == "map")
        self.count.setEnabled(mode != "range")
        self.stack.setCurrentWidget(self.map_plot if mode == "map" else self.line_plot)
        if mode == "range":
            self.note.setText(RANGE_NOTE)
        elif self._result is None:
            self.note.setText(MODE_TIPS[mode] + ". Click a point of the result to add that "
                              "rate as a run.")

    def _on_run_clicked(self) -> None:
        if self._on_edited():
            self.run_requested.emit()

    # ------------------------------------------------------------------ running
    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setValue(0)

    def set_progress(self, fraction: float) -> None:
        self.progress.setValue(int(round(100 * fraction)))

    def show_frame(self, _frame) -> None:
        """The sweep draws results, not the runs: nothing to do per frame."""

    # ------------------------------------------------------------------ results
    def show_result(self, result) -> None:
        """Draw a finished sweep (a :class:`~gd_explorer.model.sweep_job.SweepResult`)."""
        r = result.result
        self._result, self._result_mode = r, result.mode
        title = f"{plain(result.request.label)}  ({result.seconds:.2f} s)"
        mode = result.mode
        if self.mode.currentData() != mode:
            self.mode.blockSignals(True)
            self.mode.setCurrentIndex(MODES.index(mode))
            self.mode.blockSignals(False)
            self._show_mode()
        {"lr": self._draw_sweep, "map": self._draw_map, "range": self._draw_range}[mode](
            r, title)

    def _set_range(self, plot: pg.PlotWidget, x, y) -> None:
        x, y = np.asarray(x, float), np.asarray(y, float)
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        if not x.size or not y.size:
            return
        pad_x = max(0.02 * (x.max() - x.min()), 1e-3)
        pad_y = max(0.05 * (y.max() - y.min()), 1e-3)
        plot.getPlotItem().getViewBox().setRange(
            xRange=(x.min() - pad_x, x.max() + pad_x), yRange=(y.min() - pad_y, y.max() + pad_y),
            padding=0)

    def _markers(self):
        return (self.predicted_line, self.measured_line, *self.suggestion_lines.values())

    def _follow_range(self, *_args) -> None:
        y_range = self.line_plot.getPlotItem().getViewBox().viewRange()[1]
        for marker in self._markers():
            marker.follow(y_range)

    def _legend(self, *entries) -> None:
        """Only the entries this mode draws: ``(item, name)`` pairs."""
        self.legend.clear()
        for item, name in entries:
            self.legend.addItem(item, name)

    def _draw_sweep(self, s: LRSweep, title: str) -> None:
        pi = self.line_plot.getPlotItem()
        self._legend((self.final_curve, "final loss"), (self.best_curve, "best loss"),
                     (self.diverged_points, "diverged (last loss kept)"))
        pi.setTitle(title)
        pi.setLabel("left", "loss" if not s.optimizer else "loss (final, best)")
        x = _log10(s.lrs)
        ok = ~s.diverged
        # a loss <= 0 has no log: drawn as a gap, the ranges from what is drawn
        yf = np.where(ok & (s.final_loss > 0), _log10(s.final_loss), np.nan)
        yb = np.where(s.best_loss > 0, _log10(s.best_loss), np.nan)
        self.final_curve.setData(x, yf)
        self.best_curve.setData(x, yb)
        self.raw_curve.setData([], [])
        bad = s.diverged & (s.final_loss > 0)
        yd = _log10(s.final_loss[bad])
        self.diverged_points.setData(x[bad], yd)
        for line in self.suggestion_lines.values():
            line.hide()
        self.predicted_line.place(s.predicted_edge,
                    "" if s.predicted_edge is None else f"predicted {s.predicted_edge:.3g}")
        edge = s.measured_edge_value
        self.measured_line.place(edge, "" if edge is None else
                    f"measured {s.measured_edge[0]:.3g}–{s.measured_edge[1]:.3g}")
        ys = np.concatenate([yf[np.isfinite(yf)], yb[np.isfinite(yb)], yd[np.isfinite(yd)]])
        self._set_range(self.line_plot, x, ys if ys.size else [0, 1])
        self._follow_range()
        n_bad = int(s.diverged.sum())
        if s.predicted_edge is None:
            pred = "unknown (no rule for this optimizer)"
        elif not math.isfinite(s.predicted_edge):
            pred = "none (the Hessian there has no positive eigenvalue)"
        else:
            pred = f"{s.predicted_edge:.4g}"
        meas = "no rate diverged" if s.measured_edge is None else \
            f"between {s.measured_edge[0]:.4g} and {s.measured_edge[1]:.4g}"
        self.note.setText(f"{len(s.lrs)} rates, {s.steps} steps each; {n_bad} diverged. "
                          f"Divergence edge: measured {meas}; predicted from the Hessian at "
                          f"the start {pred}. Click a point to add that rate as a run.")

    def _draw_map(self, m: MomentumMap, title: str) -> None:
        mi = self.map_plot.getPlotItem()
        mi.setTitle(title)
        mi.setLabel("left", "momentum" if m.parameter == "momentum" else "beta1")
        with np.errstate(all="ignore"):
            z = np.where(m.final_loss > 0, np.log10(m.final_loss), np.nan)
        x = _log10(m.lrs)
        dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
        dy = (m.momenta[-1] - m.momenta[0]) / max(len(m.momenta) - 1, 1)
        finite = z[np.isfinite(z)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        # below 16 decades under the worst loss the colours would only tell rounding apart
        lo = max(lo, hi - MAP_DECADES)
        if hi <= lo:
            hi = lo + 1.0
        self.image.setImage(z, levels=(lo, hi), autoLevels=False)
        self.image.setRect(QtCore.QRectF(x[0] - dx / 2, m.momenta[0] - dy / 2,
                                         x[-1] - x[0] + dx, m.momenta[-1] - m.momenta[0] + dy))
        self.colorbar.setLevels((lo, hi))
        edges = np.where(np.isfinite(m.predicted_edges) & (m.predicted_edges > 0),
                         m.predicted_edges, np.nan)
        ex = _log10(edges)
        ex = np.where((ex >= x[0] - dx) & (ex <= x[-1] + dx), ex, np.nan)
        self.map_edge.setData(ex, m.momenta)
        self._set_range(self.map_plot, [x[0] - dx / 2, x[-1] + dx / 2],
                        [m.momenta[0] - dy / 2, m.momenta[-1] + dy / 2])
        n_bad = int(m.diverged.sum())
        self.note.setText(f"{len(m.momenta)} momenta × {len(m.lrs)} rates; {n_bad} runs "
                          "diverged (blank). Colour: log10 of the final loss (at most "
                          f"{MAP_DECADES:g} decades; lower ones share the darkest); dashed: the "
                          "edge the Hessian at the start predicts per momentum. Click a cell "
                          "to add that rate and momentum as a run.")

    def _draw_range(self, r: RangeTest, title: str) -> None:
        pi = self.line_plot.getPlotItem()
        self._legend((self.final_curve, "smoothed loss"), (self.raw_curve, "loss"))
        pi.setTitle(title)
        pi.setLabel("left", "loss (smoothed, raw)")
        x = _log10(r.lrs)
        ys = np.where(r.smoothed > 0, _log10(r.smoothed), np.nan)
        yr = np.where(r.losses > 0, _log10(r.losses), np.nan)
        self.final_curve.setData(x, ys)
        self.raw_curve.setData(x, yr)
        self.best_curve.setData([], [])
        self.diverged_points.setData([], [])
        self.predicted_line.hide()
        self.measured_line.hide()
        for key, line in self.suggestion_lines.items():
            lr = r.suggestions.get(key)
            line.place(lr, "" if lr is None else f"{key} {lr:.2g}")
        self._set_range(self.line_plot, x, np.concatenate([ys, yr]))
        self._follow_range()
        sug = ", ".join(f"{k} {v:.3g}" for k, v in r.suggestions.items()) or "none (too few points)"
        stop = f" Stopped early: {r.stop_reason}." if r.stopped_early else ""
        self.note.setText(f"{len(r.lrs)} updates, lr from {r.lrs[0]:.2g} to {r.lrs[-1]:.2g}."
                          f"{stop} Suggestions: {sug}. {RANGE_NOTE}")

    # ------------------------------------------------------------------ clicks
    def _on_scene_clicked(self, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or ev.double():
            return
        if self._result is None:
            return
        plot = self.stack.currentWidget()
        vb = plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        self.click_at(p.x(), p.y())

    def click_at(self, x: float, y: float) -> None:
        """A click at plot coordinates (log10 lr, ...): the nearest rate (and momentum)."""
        r = self._result
        if r is None:
            return
        if self._result_mode == "map":
            j = int(np.argmin(np.abs(_log10(r.lrs) - x)))
            i = int(np.argmin(np.abs(r.momenta - y)))
            self.rate_clicked.emit(float(r.lrs[j]), float(r.momenta[i]))
        else:
            j = int(np.argmin(np.abs(_log10(r.lrs) - x)))
            self.rate_clicked.emit(float(r.lrs[j]), None)
