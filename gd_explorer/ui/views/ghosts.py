"""Ghosts on a plot: frozen paths (Run ▸ Keep as ghost) drawn dashed and dimmed, each
labelled near its end point, under the live runs.

A view hands :meth:`GhostLayer.show` the ghosts' coordinates as it plots them (the surface
its two parameters, the loss pane step and loss, the 1-D curve parameter and loss); the
layer cuts them to the view's clip box (huge coordinates crash Qt's rasteriser: see
``ClipBox``) and redraws only when the ghosts, the axes or the box changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from gd_explorer.ui.views._common import clip_xy, inside, qcolor

#: opacity of a ghost's dashed path (0-255): clearly behind the live runs
GHOST_ALPHA = 130
#: opacity of its label's text
GHOST_LABEL_ALPHA = 235
#: the live runs' paths sit at z 20: ghosts below them, above the contours
GHOST_Z = 15
#: ... their labels over the paths (readable), under the current points (z 30)
GHOST_LABEL_Z = 28
#: a label never takes more than this fraction of the plot's width (elided in the middle)
LABEL_MAX_WIDTH = 0.9

_EMPTY = np.empty(0)


class GhostLayer:
    """The ghosts of one plot: one dashed curve and one label per ghost, made when first
    needed and reused (hidden when there are fewer ghosts)."""

    def __init__(self, plot_item, name: str, below: bool = False):
        #: labels always below their end points (the 1-D curve's tangent labels are above)
        self._below = below
        self._plot = plot_item
        self._name = name
        self._items: list[tuple[pg.PlotCurveItem, pg.TextItem]] = []
        self._key = None
        self._paths: list = []
        self._ends: list = []  # (x, y, full text) of each shown label

    def drawn_for(self, key) -> bool:
        """Whether the last :meth:`show` drew for ``key`` (the caller need not build the
        paths again: views ask at every frame)."""
        return key is not None and key == self._key

    def show(self, paths: Sequence[tuple[np.ndarray, np.ndarray, str, str]], box,
             key=None) -> None:
        """Draw ``paths`` ``[(x, y, label, color), ...]`` (plotted coordinates) cut to
        ``box`` ``(x0, x1, y0, y1)``; nothing is redone when ``key`` (anything that changes
        with what is drawn) equals the last call's."""
        if key is not None and key == self._key:
            return
        self._key = key
        self._paths = list(paths)
        self._ends = []
        while len(self._items) < len(paths):
            i = len(self._items)
            curve = pg.PlotCurveItem(antialias=True, connect="finite")
            curve.setObjectName(f"{self._name}Ghost{i}")
            curve.setZValue(GHOST_Z)
            label = pg.TextItem(anchor=(0, 1), fill=pg.mkBrush(0, 0, 0, 160))
            label.setObjectName(f"{self._name}GhostLabel{i}")
            label.setZValue(GHOST_LABEL_Z)
            self._plot.addItem(curve, ignoreBounds=True)
            self._plot.addItem(label, ignoreBounds=True)
            self._items.append((curve, label))
        for i, (curve, label) in enumerate(self._items):
            if i >= len(paths):
                if curve.isVisible():
                    curve.setData(_EMPTY, _EMPTY)
                    curve.hide()
                    label.hide()
                continue
            x, y, text, color = paths[i]
            x = np.asarray(x, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
            cx, cy, _ = clip_xy(x, y, box)
            curve.setPen(pg.mkPen(qcolor(color, GHOST_ALPHA), width=1.6,
                                  style=QtCore.Qt.PenStyle.DashLine))
            curve.setData(cx, cy)
            curve.show()
            label.setColor(qcolor(color, GHOST_LABEL_ALPHA))
            if len(x) and inside(box, float(x[-1]), float(y[-1])):
                self._ends.append((float(x[-1]), float(y[-1]), text))
                label.show()
            else:  # its end is far off: the label would be too
                self._ends.append(None)
                label.setText(text)
                label.hide()
        self.place_labels()

    def place_labels(self) -> None:
        """Turn each label towards the middle of the view from its end point, so that it
        stays inside the plot (call when the view range changed)."""
        vb = self._plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        px = vb.viewPixelSize()[0]
        room = LABEL_MAX_WIDTH * vb.width()
        for (_, label), end in zip(self._items, self._ends, strict=False):
            if end is None:
                continue
            x, y, text = end
            # (plain text: a TextItem does not read HTML); middle elided keeps "ghost:"
            # and "(before)" in a narrow plot
            metrics = QtGui.QFontMetrics(label.textItem.font())
            shown = metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideMiddle, int(room))
            if label.toPlainText() != shown:
                label.setText(shown)
            w = label.boundingRect().width() * px
            # from the end point towards the middle, then moved to stay inside the plot
            right = x > 0.5 * (x0 + x1)
            left = x - w if right else x
            left = max(x0, min(left, x1 - w))
            under = self._below or y > 0.5 * (y0 + y1)
            label.setAnchor((0.0, 0.0 if under else 1.0))
            label.setPos(left, y)

    def clear(self) -> None:
        """Draw no ghost."""
        self.show([], None, key=())

    def drawn(self) -> list[tuple[np.ndarray, np.ndarray, str, bool]]:
        """``(x, y, label text, label shown)`` of every ghost drawn (tests, automation)."""
        out = []
        for (curve, label), _ in zip(self._items, self._paths, strict=False):
            x, y = curve.getData()
            out.append((np.asarray(x if x is not None else _EMPTY),
                        np.asarray(y if y is not None else _EMPTY),
                        label.toPlainText(), label.isVisible()))
        return out
