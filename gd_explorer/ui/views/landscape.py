"""The Landscape tab: the loss of a network through planes and along a line (Li et al. 2018).

The user picks a mode (:data:`~gd_explorer.core.lab.landscape.LANDSCAPE_MODES`: a random
filter-normalised plane, the plane of the selected run's trajectory by PCA, or the 1-D
line from the start to the current point), a seed and a resolution, and presses Compute;
the model's :class:`~gd_explorer.model.landscape_job.LandscapeJob` computes it off the UI
thread (progress and Cancel in the status bar).  This view only draws results: a heat
map of log10 loss with contours, the current point at the centre, the projected path
and its distance from the plane (PCA), or the curve with α = 0 and α = 1 marked.  A
picture is not recomputed as the run moves: the view says when it is stale.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gd_explorer.core.lab.landscape import (
    DEFAULT_RESOLUTION,
    LANDSCAPE_MODES,
    MAX_RESOLUTION,
    MIN_RESOLUTION,
)
from gd_explorer.ui.support import plain_label
from gd_explorer.ui.views._common import COLORMAP_NAME, finite_bounds, padded
from gd_explorer.ui.views.surface import contour_paths

#: contour levels drawn over the heat map (evenly spaced in log10 loss)
N_LEVELS = 14
_EMPTY = np.empty(0)


def log_loss(losses: np.ndarray) -> np.ndarray:
    """log10 of the losses for the colours and contours (NaN where not finite or <= 0)."""
    v = np.asarray(losses, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v) & (v > 0)
    out[ok] = np.log10(v[ok])
    return out


def _plot(name: str, bottom: str, left: str, tip: str) -> pg.PlotWidget:
    w = pg.PlotWidget()
    w.setObjectName(name)
    w.setToolTip(tip)
    pi = w.getPlotItem()
    pi.hideButtons()
    pi.setMenuEnabled(False)
    pi.setLabel("bottom", bottom)
    pi.setLabel("left", left)
    pi.showGrid(x=True, y=True, alpha=0.15)
    return w


class LandscapeView(QtWidgets.QWidget):
    """Controls (mode, seed, resolution, Compute), a status line and the plots."""

    #: mode key, seed, resolution
    compute_requested = QtCore.Signal(str, int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("landscapeView")
        self.result = None  # the LandscapeResult drawn (None: nothing yet)
        self._busy = False
        self._stale_text = ""
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)

        row = QtWidgets.QHBoxLayout()
        row.setSpacing(6)
        self.mode = QtWidgets.QComboBox()
        self.mode.setObjectName("landscapeModePicker")
        for i, m in enumerate(LANDSCAPE_MODES.values()):
            self.mode.addItem(m.title, m.key)
            self.mode.setItemData(i, m.tooltip, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.mode.setToolTip("What to draw: " + "; ".join(
            f"{m.title}: {m.tooltip}" for m in LANDSCAPE_MODES.values()))
        self.seed = QtWidgets.QSpinBox()
        self.seed.setObjectName("landscapeSeed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setMaximumWidth(110)
        self.seed.setToolTip("Seed of the two random directions (the same seed draws the "
                             "same plane)")
        self.resolution = QtWidgets.QSpinBox()
        self.resolution.setObjectName("landscapeResolution")
        self.resolution.setRange(MIN_RESOLUTION, MAX_RESOLUTION)
        self.resolution.setValue(DEFAULT_RESOLUTION)
        self.resolution.setToolTip("Grid points per side of the plane (51 × 51 by default; "
                                   "the time grows with its square)")
        self.compute_button = QtWidgets.QPushButton("Compute")
        self.compute_button.setObjectName("computeLandscapeButton")
        self.compute_button.setToolTip("Compute the landscape around the selected run's point "
                                       "at the timeline position (off the UI thread; Cancel "
                                       "in the status bar)")
        self.compute_button.clicked.connect(self._on_compute_clicked)
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        # two short rows: the tab is ~300 pixels wide in a 960-pixel window
        second = QtWidgets.QHBoxLayout()
        second.setSpacing(6)
        for target, label, w in ((row, "Mode", self.mode), (second, "seed", self.seed),
                                 (second, "grid", self.resolution)):
            lab = plain_label(label)
            lab.setToolTip(w.toolTip() if w is not self.mode else "How to slice the landscape")
            target.addWidget(lab)
            target.addWidget(w)
        self.mode.setMinimumContentsLength(12)
        self.mode.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        row.addWidget(self.compute_button)
        row.addStretch(1)
        second.addStretch(1)
        layout.addLayout(row)
        layout.addLayout(second)

        self.status = plain_label("Press Compute to draw the loss landscape around the "
                                  "selected run's point.")
        self.status.setObjectName("landscapeStatus")
        self.status.setWordWrap(True)
        self.status.setToolTip("What the picture shows, and whether the run has moved since")
        layout.addWidget(self.status)

        # the plane: heat map of log10 loss, contours, the path and the points
        self.plane_plot = _plot("landscapePlanePlot", "a (direction 1)", "b (direction 2)",
                                "log10 of the loss over the plane θ + a·d1 + b·d2 (colour and "
                                "contours); ✚ the point it is centred on; the path projected "
                                "onto the plane (trajectory PCA); ○ where the run is now, if "
                                "it moved")
        pi = self.plane_plot.getPlotItem()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get(COLORMAP_NAME))
        pi.addItem(self.image)
        self.contours = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 110, width=1))
        pi.addItem(self.contours)
        self.path = pg.PlotCurveItem(pen=pg.mkPen("#ff7f0e", width=2))
        pi.addItem(self.path)
        self.start_point = pg.ScatterPlotItem(symbol="o", size=9, brush=pg.mkBrush("#ff7f0e"),
                                              pen=pg.mkPen("w"))
        pi.addItem(self.start_point)
        self.centre_point = pg.ScatterPlotItem(symbol="+", size=16, brush=pg.mkBrush("#ff2d55"),
                                               pen=pg.mkPen("#ff2d55", width=2))
        pi.addItem(self.centre_point)
        self.now_point = pg.ScatterPlotItem(symbol="o", size=12, brush=None,
                                            pen=pg.mkPen("#ff2d55", width=2))
        pi.addItem(self.now_point)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get(COLORMAP_NAME),
                                        interactive=False, label="log10 loss", width=12)
        self.colorbar.setImageItem(self.image, insert_in=pi)

        # the distance of the path from the plane against step (PCA)
        self.distance_plot = _plot("landscapeDistancePlot", "step", "distance",
                                   "Each checkpoint's Euclidean distance from the PCA plane: "
                                   "the path of a network sits off any 2-D plane")
        self.distance_plot.setMaximumHeight(170)
        self.distance_curve = pg.PlotCurveItem(pen=pg.mkPen("#ff7f0e", width=2))
        self.distance_plot.addItem(self.distance_curve)

        # the 1-D interpolation
        self.line_plot = _plot("landscapeLinePlot", "α", "loss",
                               "The loss at (1 − α)·θ_0 + α·θ_T: α = 0 is the start, α = 1 "
                               "the current point")
        self.line_curve = pg.PlotCurveItem(pen=pg.mkPen("#4fc3f7", width=2))
        self.line_plot.addItem(self.line_curve)
        self.alpha_marks, self.alpha_labels = [], []
        for alpha, text in ((0.0, "α = 0 (start)"), (1.0, "α = 1 (now)")):
            # no InfiniteLine label: it keeps a reference cycle with its line
            mark = pg.InfiniteLine(alpha, angle=90, movable=False,
                                   pen=pg.mkPen("#dddddd", style=QtCore.Qt.PenStyle.DashLine))
            self.line_plot.addItem(mark, ignoreBounds=True)
            self.alpha_marks.append(mark)
            label = pg.TextItem(text, color="#dddddd", anchor=(0, 0))
            self.line_plot.addItem(label, ignoreBounds=True)
            self.alpha_labels.append(label)
        self.line_points = pg.ScatterPlotItem(symbol="o", size=9, brush=pg.mkBrush("#ff2d55"))
        self.line_plot.addItem(self.line_points)

        layout.addWidget(self.plane_plot, 3)
        layout.addWidget(self.distance_plot, 1)
        layout.addWidget(self.line_plot, 3)
        self._on_mode_changed()
        self._show_plots(None)

    # ------------------------------------------------------------------ controls
    def mode_key(self) -> str:
        return str(self.mode.currentData())

    def _on_mode_changed(self, *_) -> None:
        self.seed.setEnabled(self.mode_key() == "random")
        self.resolution.setEnabled(self.mode_key() != "line")

    def _on_compute_clicked(self) -> None:
        self.compute_requested.emit(self.mode_key(), self.seed.value(), self.resolution.value())

    def set_busy(self, busy: bool) -> None:
        """While computing, say so (the picture shown stays until the new one is done)."""
        self._busy = bool(busy)
        if busy:
            title = LANDSCAPE_MODES[self.mode_key()].title.lower()
            self.status.setText(f"computing the {title}…")

    # ------------------------------------------------------------------ results
    def show_result(self, result) -> None:
        """Draw a finished :class:`~gd_explorer.model.landscape_job.LandscapeResult`."""
        self.result = result
        self._stale_text = ""
        self._show_plots(result.mode)
        if result.grid is not None:
            self._draw_grid(result)
        else:
            self._draw_line(result)
        self.status.setText(self._result_text(result))

    def _result_text(self, result) -> str:
        req = result.request
        who = f"run {req.label!r}" if req.label else "the run"
        where = "from the start to" if req.mode == "line" else "around"
        text = (f"{LANDSCAPE_MODES[req.mode].title} {where} {who} at step {req.row}: loss "
                f"{result.centre_loss:.6g} there ({result.seconds:.2f} s).")
        if result.plane is not None:
            e1, e2 = (100 * float(v) for v in result.plane.explained)
            text += (f" The plane explains {e1 + e2:.1f} % of the path's variance; the path "
                     f"sits up to {float(result.plane.distance.max()):.3g} off it.")
        elif req.mode == "random":
            text += " Filter-normalised directions, a and b from -1 to 1."
        return text

    def show_cancelled(self, _text: str = "") -> None:
        """The computation was cancelled: the picture shown stays, and the view says so."""
        if self.result is None:
            self.status.setText("Cancelled: nothing drawn yet. Press Compute to draw the "
                                "landscape.")
        else:
            self.status.setText("Cancelled: the picture shown is still the earlier one. "
                                + self._result_text(self.result))

    def show_failed(self, text: str) -> None:
        """Why no landscape could be drawn (the earlier picture, if any, stays)."""
        self.status.setText(text)

    def _show_plots(self, mode) -> None:
        plane = mode in ("random", "pca")
        self.plane_plot.setVisible(plane or mode is None)
        self.distance_plot.setVisible(mode == "pca")
        self.line_plot.setVisible(mode == "line")

    def _draw_grid(self, result) -> None:
        g = result.grid
        c = log_loss(g.losses)
        b = finite_bounds(c)
        lo, hi = b if b is not None else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        self.image.setImage(c, autoLevels=False, levels=(lo, hi))
        self.colorbar.setLevels((lo, hi))
        dx = (g.a[-1] - g.a[0]) / (len(g.a) - 1)
        dy = (g.b[-1] - g.b[0]) / (len(g.b) - 1)
        x0, y0 = g.a[0] - dx / 2, g.b[0] - dy / 2
        w, h = g.a[-1] - g.a[0] + dx, g.b[-1] - g.b[0] + dy
        self.image.setRect(QtCore.QRectF(x0, y0, w, h))
        x, y, conn = contour_paths(g.a, g.b, c, np.linspace(lo, hi, N_LEVELS + 2)[1:-1])
        if x.size:
            self.contours.setData(x, y, connect=conn)
        else:
            self.contours.setData(_EMPTY, _EMPTY)
        self.centre_point.setData([0.0], [0.0])
        self.now_point.setData(_EMPTY, _EMPTY)
        pi = self.plane_plot.getPlotItem()
        plane = result.plane
        if plane is not None:
            coords = plane.coords
            self.path.setData(coords[:, 0], coords[:, 1])
            self.start_point.setData(coords[:1, 0], coords[:1, 1])
            e1, e2 = (100 * float(v) for v in plane.explained)
            # short: a title wider than the plot widens the whole plot past its widget
            pi.setTitle(f"PC1 {e1:.1f} %, PC2 {e2:.1f} %")
            pi.setLabel("bottom", "PC1")
            pi.setLabel("left", "PC2")
            self.distance_curve.setData(plane.steps.astype(np.float64), plane.distance)
            rng = padded(finite_bounds(plane.distance) or (0.0, 1.0))
            self.distance_plot.setRange(xRange=(float(plane.steps[0]), float(plane.steps[-1])),
                                        yRange=(min(0.0, rng[0]), rng[1]), padding=0.02)
        else:
            self.path.setData(_EMPTY, _EMPTY)
            self.start_point.setData(_EMPTY, _EMPTY)
            pi.setTitle(f"random plane, seed {result.request.seed}")
            pi.setLabel("bottom", "a (direction 1)")
            pi.setLabel("left", "b (direction 2)")
        self.plane_plot.setRange(xRange=(x0, x0 + w), yRange=(y0, y0 + h), padding=0)

    def _draw_line(self, result) -> None:
        line = result.line
        self.line_curve.setData(line.alphas, line.losses)
        ends = np.array([0.0, 1.0])
        at = np.interp(ends, line.alphas, line.losses)
        at[1] = result.centre_loss
        self.line_points.setData(ends, at)
        self.line_plot.getPlotItem().setTitle("θ_0 → θ_T")
        yb = padded(finite_bounds(line.losses) or (0.0, 1.0))
        for label, alpha in zip(self.alpha_labels, ends):
            label.setPos(float(alpha), yb[1])
        self.line_plot.setRange(xRange=(float(line.alphas[0]), float(line.alphas[-1])),
                                yRange=yb, padding=0.02)

    # ------------------------------------------------------------------ the runs move on
    def show_frame(self, frame) -> None:
        """Say when the picture no longer shows where the selected run is (and mark the
        run's point projected onto the plane)."""
        r = self.result
        if r is None or self._busy:
            return
        req = r.request
        snap = frame.selected
        if snap is None or snap.n == 0 or snap.params.shape[1] != req.centre.size:
            text = "The picture is stale: the run it was drawn for is gone. Press Compute."
            self.now_point.setData(_EMPTY, _EMPTY)
        else:
            row = snap.index(frame.cursor)
            now = np.asarray(snap.params[row])
            moved = snap.run_id != req.run_id or not np.array_equal(now, req.centre)
            text = ""
            if moved:
                who = "another run is selected" if snap.run_id != req.run_id else \
                    f"the run is at step {row} now"
                text = (f"Stale: drawn at step {req.row}; {who}. Press Compute to redraw "
                        "around it.")
            self._mark_now(now if moved else None)
        if text != self._stale_text:
            self._stale_text = text
            self.status.setText(text or self._result_text(r))

    def _mark_now(self, point) -> None:
        g = None if self.result is None else self.result.grid
        if point is None or g is None:
            self.now_point.setData(_EMPTY, _EMPTY)
            return
        # least-squares coordinates of the point in the plane (the random directions are
        # not orthogonal); the point itself may sit far off the plane
        with np.errstate(all="ignore"):
            ab = np.linalg.lstsq(g.directions.T, point - g.centre, rcond=None)[0]
        if np.isfinite(ab).all():
            self.now_point.setData([float(ab[0])], [float(ab[1])])
