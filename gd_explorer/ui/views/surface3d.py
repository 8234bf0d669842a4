"""The loss surface in 3-D (OpenGL), or a clear placeholder where OpenGL is missing."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gd_explorer.model.snapshot import RunSnapshot
from gd_explorer.ui.views._common import (
    COLORMAP_NAME,
    MIN_SIZE,
    RunItems,
    approx,
    clip_polyline,
    finite_bounds,
    stride_indices,
)
from gd_explorer.ui.views.frame import Frame
from gd_explorer.ui.views.surface import apply_transform, surface_transform

PLACEHOLDER_TEXT = (
    "3-D view needs OpenGL, which is not available here (e.g. offscreen or remote "
    "session). The 2-D surface shows the same data."
)
#: the surface is scaled into [-1, 1] × [-1, 1] × [0, Z_HEIGHT]
Z_HEIGHT = 1.2
#: paths float this far above the surface (box units) so they are not hidden in it
PATH_LIFT = 0.015
#: the surface is drawn on at most this many grid points per axis
MAX_GRID = 200
#: paths are cut to this box (in the scene's units): a diverged run leaves it in its own
#: direction instead of being squashed onto its walls
PATH_BOX = ((-3.0, -3.0, -1.0), (3.0, 3.0, 3 * Z_HEIGHT))
#: a runaway's label goes where its path leaves this smaller box, which the camera sees
LABEL_BOX = ((-1.0, -1.0, -0.2), (1.0, 1.0, Z_HEIGHT + 0.3))


def mesh_heights(z: np.ndarray, log: bool):
    """Heights of the mesh for grid values ``z`` and how to map other values the same way.

    Parameters
    ----------
    z
        Loss values on the grid, shape ``(ny, nx)``; non-finite allowed.
    log
        ``log10(z − min + ε)`` as the height (the 2-D view's log colour scale), else ``z``.

    Returns
    -------
    height, u, norm
        ``height`` in ``[0, Z_HEIGHT]`` (non-finite cells at the top), ``u`` the same in
        ``[0, 1]`` (NaN where not finite; the colours), and ``norm = (info, lo, span)`` for
        :func:`path_heights`; None when nothing is finite.
    """
    c, info = surface_transform(z, log)
    cb = finite_bounds(c)
    if cb is None:
        return None
    span = (cb[1] - cb[0]) or 1.0
    u = (c - cb[0]) / span
    height = np.where(np.isfinite(u), u, 1.0) * Z_HEIGHT
    return height, u, (info, cb[0], span)


def path_heights(values: np.ndarray, norm) -> np.ndarray:
    """Heights of loss ``values`` on the scale :func:`mesh_heights` made for the mesh."""
    info, lo, span = norm
    return (apply_transform(values, info) - lo) / span * Z_HEIGHT + PATH_LIFT

_available: bool | None = None


def opengl_available() -> bool:
    """Whether a 3-D view can work here; decided once, never raises.

    False on the ``offscreen`` platform, when no OpenGL context can be created on an
    offscreen surface, or when ``pyqtgraph.opengl`` (PyOpenGL) fails to import.
    """
    global _available
    if _available is not None:
        return _available
    if QtGui.QGuiApplication.instance() is None:
        return False  # cannot tell yet; do not cache
    ok = False
    try:
        if QtGui.QGuiApplication.platformName() != "offscreen":
            from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

            ctx = QOpenGLContext()
            if ctx.create():
                surface = QOffscreenSurface()
                surface.setFormat(ctx.format())
                surface.create()
                ok = surface.isValid() and ctx.makeCurrent(surface)
                if ok:
                    ctx.doneCurrent()
                surface.destroy()
            if ok:
                import pyqtgraph.opengl  # noqa: F401 - needs PyOpenGL
    except Exception:  # any failure means: no 3-D here
        ok = False
    _available = bool(ok)
    return _available


def _opengl_ruled_out() -> bool:
    """True when :func:`opengl_available` is known to be False without probing."""
    if _available is not None:
        return not _available
    return QtGui.QGuiApplication.instance() is None or \
        QtGui.QGuiApplication.platformName() == "offscreen"


class Surface3DView(QtWidgets.QWidget):
    """The loss surface as a 3-D mesh with the runs' paths above it.

    The grid is normalised into a box (x, y to [-1, 1], z to [0, ``Z_HEIGHT``], z on the
    same log scale as the 2-D view when that is on) so any window reads well. Without
    OpenGL the widget is a placeholder label and every method is a no-op.

    Probing OpenGL (a context, PyOpenGL) and building the scene cost a good part of a
    second, so where OpenGL might exist they wait until the view is first shown (or
    ``gl_widget``, ``placeholder`` or ``is_placeholder`` is read); data set before that
    is kept and drawn then. Where OpenGL is ruled out for free (offscreen) the placeholder
    is built at once.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("surface3d")
        self.setMinimumSize(*MIN_SIZE)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._built = False
        self._gl_widget = None
        self._placeholder = None
        self._log = True
        self._grid = None
        self._norm = None  # (x0, x_span, y0, y_span, (info, c_lo, c_span))
        self._names = ("x", "y")
        self._labels = {}  # axis -> GLTextItem
        # per run: its path and the label of where it went when it left the box
        self._paths: RunItems[tuple] = RunItems(self._add_path, self._remove_path)
        self._pending_runs: tuple | None = None  # set_runs arguments before the scene exists
        self._last_runs: tuple | None = None  # ... and after: redrawn with a new surface
        if _opengl_ruled_out():
            self._build()

    def _build(self) -> None:
        """The GL scene, or the placeholder where OpenGL does not work; once."""
        if self._built:
            return
        self._built = True
        layout = self.layout()
        if opengl_available():
            try:
                self._build_gl(layout)
            except Exception:
                self._gl_widget = None
        pending, self._pending_runs = self._pending_runs, None
        if self._gl_widget is None:
            self._grid = None
            label = QtWidgets.QLabel(PLACEHOLDER_TEXT)
            label.setObjectName("surface3dPlaceholder")
            label.setWordWrap(True)
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            label.setMargin(24)
            label.setToolTip("Run the app on a desktop session with OpenGL for 3-D.")
            label.setStyleSheet(
                "QLabel { background: #141418; color: #c8c8c8; font-size: 11pt; }")
            layout.addWidget(label)
            label.setVisible(True)  # shown with this view (at once if it is visible)
            self._placeholder = label
            return
        self._gl_widget.setVisible(True)
        self._redraw_surface()
        if pending is not None:
            self.set_runs(*pending)

    def _build_gl(self, layout) -> None:
        import pyqtgraph.opengl as gl

        w = gl.GLViewWidget()
        w.setObjectName("surface3dWidget")
        w.setToolTip("Drag to rotate, wheel to zoom, middle-drag to pan.")
        w.setBackgroundColor(pg.mkColor(20, 20, 24))
        w.setCameraPosition(distance=3.3, elevation=28, azimuth=-55)
        grid = gl.GLGridItem()
        grid.setSize(2, 2)
        grid.setSpacing(0.25, 0.25)
        grid.setColor((255, 255, 255, 40))
        w.addItem(grid)
        self._surface = gl.GLSurfacePlotItem(computeNormals=False, smooth=False,
                                             glOptions="opaque")
        w.addItem(self._surface)
        # axis names by the middle of the two front edges of the floor and above the front
        # corner (the mesh spans [-1, 1]² × [0, Z_HEIGHT]; the camera looks from -x, -y)
        for key, pos in (("x", (0.0, -1.3, 0.0)), ("y", (-1.3, 0.0, 0.0)),
                         ("f", (-1.0, -1.0, Z_HEIGHT + 0.15))):
            label = gl.GLTextItem(pos=pos, text=key, color=(230, 230, 230, 255),
                                  font=QtGui.QFont("Sans", 11))
            w.addItem(label)
            self._labels[key] = label
        self._gl = gl
        layout.addWidget(w)
        self._gl_widget = w

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 - Qt override
        self._build()  # before the first paint: the view is never shown half-built
        super().showEvent(event)

    @property
    def gl_widget(self):
        """The ``GLViewWidget``, or None where OpenGL is unavailable."""
        self._build()
        return self._gl_widget

    @property
    def placeholder(self) -> QtWidgets.QLabel | None:
        """The label shown instead of the scene where OpenGL is unavailable."""
        self._build()
        return self._placeholder

    @property
    def is_placeholder(self) -> bool:
        """True when OpenGL is unavailable and the placeholder is shown."""
        self._build()
        return self._gl_widget is None

    # ----------------------------------------------------------------- surface
    def set_surface(self, xs: np.ndarray, ys: np.ndarray, z: np.ndarray,
                    names: tuple[str, str] = ("x", "y")) -> None:
        """Show the loss ``z`` (shape ``(ny, nx)``) over ``xs`` × ``ys`` as a mesh; ``names``
        label the two parameter axes (the height is f)."""
        if self._built and self._gl_widget is None:
            return
        self._names = (str(names[0]), str(names[1]))
        self._grid = (np.asarray(xs, dtype=np.float64).ravel(),
                      np.asarray(ys, dtype=np.float64).ravel(),
                      np.asarray(z, dtype=np.float64))
        if self._built:
            self._redraw_surface()

    def set_log_scale(self, on: bool) -> None:
        """Height (and colour) on ``log10(f - min + eps)`` like the 2-D view, or linear."""
        on = bool(on)
        if on != self._log:
            self._log = on
            self._redraw_surface()

    def _redraw_surface(self) -> None:
        if self._gl_widget is None or self._grid is None:
            return
        xs, ys, z = self._grid
        if len(xs) < 2 or len(ys) < 2 or z.shape != (len(ys), len(xs)):
            self._surface.hide()
            self._norm = None
            return
        # thin huge grids: a mesh of 200 × 200 is plenty on screen
        sx = -(-len(xs) // MAX_GRID)
        sy = -(-len(ys) // MAX_GRID)
        xs, ys, z = xs[::sx], ys[::sy], z[::sy, ::sx]
        mesh = mesh_heights(z, self._log)
        xb, yb = finite_bounds(xs), finite_bounds(ys)
        if xb is None or yb is None or mesh is None:
            self._surface.hide()
            self._norm = None
            return
        height, u, norm = mesh
        x_span = (xb[1] - xb[0]) or 1.0
        y_span = (yb[1] - yb[0]) or 1.0
        self._norm = (xb[0], x_span, yb[0], y_span, norm)
        finite = np.isfinite(u)
        cmap = pg.colormap.get(COLORMAP_NAME)
        colors = cmap.map(np.where(finite, u, 0.0).ravel(), mode="float").reshape(*u.shape, 4)
        colors[~finite] = (0.5, 0.5, 0.5, 1.0)
        # GLSurfacePlotItem wants z[i, j] at (x[i], y[j]): transpose the row-major grid
        self._surface.setData(
            x=(xs - xb[0]) / x_span * 2 - 1, y=(ys - yb[0]) / y_span * 2 - 1,
            z=height.T.astype(np.float32),
            colors=np.ascontiguousarray(colors.transpose(1, 0, 2)).reshape(-1, 4),
        )
        self._surface.show()
        texts = {"x": self._names[0], "y": self._names[1],
                 "f": "f (log scale)" if self._log else "f"}
        for key, label in self._labels.items():
            label.setData(text=texts[key])
        if self._last_runs is not None:  # the paths follow the new heights
            self.set_runs(*self._last_runs)

    # ----------------------------------------------------------------- runs
    def set_runs(self, snaps: Sequence[RunSnapshot], cursor: int | None,
                 axes: tuple[int, int] = (0, 1),
                 z_of: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        """Draw each visible run's path (up to the cursor) above the surface.

        Parameters
        ----------
        snaps, cursor, axes
            As for :meth:`SurfaceView.set_runs`.
        z_of
            Loss at points ``(m, 2)`` of the plotted plane; used for runs with more than
            two parameters (their recorded loss is not the surface's height). Runs with two
            parameters use their recorded loss.
        """
        if self._gl_widget is None:
            if not self._built:
                self._pending_runs = (snaps, cursor, axes, z_of)
            return
        self._last_runs = (snaps, cursor, axes, z_of)
        a0, a1 = int(axes[0]), int(axes[1])
        for snap, (item, away) in self._paths.sync(snaps):
            k = snap.index(cursor)
            d = snap.params.shape[1] if snap.params.ndim == 2 else 0
            if not (snap.visible and k >= 0 and max(a0, a1) < d and self._norm is not None):
                item.hide()
                away.hide()
                continue
            idx = stride_indices(k + 1)
            pts = snap.params[idx][:, [a0, a1]]
            if d > 2 and z_of is not None:
                zz = np.asarray(z_of(pts), dtype=np.float64)
            else:
                zz = np.asarray(snap.loss[idx], dtype=np.float64)
            x0, x_span, y0, y_span, norm = self._norm
            with np.errstate(all="ignore"):
                pos = np.column_stack([(pts[:, 0] - x0) / x_span * 2 - 1,
                                       (pts[:, 1] - y0) / y_span * 2 - 1,
                                       path_heights(zz, norm)])
            # cut to a generous box (a diverged run leaves it in its own direction), drawn
            # as separate segments so that the cuts are gaps, not lines
            cut, _ = clip_polyline(pos, *PATH_BOX)
            ok = np.isfinite(cut).all(axis=1)
            pairs = np.flatnonzero(ok[:-1] & ok[1:])
            seg = np.empty((2 * len(pairs), 3), np.float32)
            seg[0::2], seg[1::2] = cut[pairs], cut[pairs + 1]
            col = pg.mkColor(snap.color)
            item.setData(pos=seg, color=(col.redF(), col.greenF(), col.blueF(), 1.0))
            item.show()
            self._mark_runaway(away, pos, cut, pts, col)

    def show_frame(self, frame: Frame) -> None:
        """Draw the runs of a display tick (see :meth:`set_runs`)."""
        if frame.dim >= 2:
            self.set_runs(frame.snapshots, frame.cursor, frame.axes, None)

    def _add_path(self, _snap: RunSnapshot) -> tuple:
        line = self._gl.GLLinePlotItem(width=2.5, antialias=True, mode="lines",
                                       glOptions="translucent")
        # where a run that left the box went, at the point it left
        away = self._gl.GLTextItem(
            pos=(0.0, 0.0, 0.0), text="", font=QtGui.QFont("Sans", 10),
            alignment=QtCore.Qt.AlignmentFlag.AlignHCenter
            | QtCore.Qt.AlignmentFlag.AlignBottom)
        for it in (line, away):
            self._gl_widget.addItem(it)
        return line, away

    def _remove_path(self, items: tuple) -> None:
        for it in items:
            self._gl_widget.removeItem(it)

    def _mark_runaway(self, away, pos, cut, pts, color) -> None:
        """Label where a path whose current point is out of the box went, where it leaves
        the part of the scene the camera shows."""
        lo, hi = (np.asarray(b) for b in PATH_BOX)
        end = pos[-1]
        if len(cut) == 0 or (np.isfinite(end).all() and (end >= lo).all() and (end <= hi).all()):
            away.hide()
            return
        near, _ = clip_polyline(cut, *LABEL_BOX)  # (cut first: no huge values left)
        shown = np.flatnonzero(np.isfinite(near).all(axis=1))
        real = np.flatnonzero(np.isfinite(pts).all(axis=1))
        if shown.size == 0 or real.size == 0:
            away.hide()
            return
        px, py = pts[real[-1]]
        away.setData(pos=tuple(float(v) for v in near[shown[-1]]),
                     text=f"→ {self._names[0]} ≈ {approx(px)}, {self._names[1]} ≈ {approx(py)}",
                     color=color)
        away.show()
