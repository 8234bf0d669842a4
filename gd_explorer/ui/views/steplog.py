"""The step log: one step of the selected run written out with its numbers.

Up to :data:`~gd_explorer.core.limits.MAX_LISTED_PARAMS` parameters every coordinate is
written out (the update with its numbers); beyond, the log gives the loss, the norms of
the parameters, the gradient and the update, a table of the objective's parameter groups
(a network's layers, :meth:`~gd_explorer.core.problems.objectives.Objective.layers`)
and the optimizer's buffers by norm; a link lists every parameter on request (while the
runs are paused: 10,000 lines rewritten 8 times a second are not read anyway).
"""

from __future__ import annotations

import html
import math
import re

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from gd_explorer.core.limits import MAX_LISTED_PARAMS
from gd_explorer.model.snapshot import RunSnapshot
from gd_explorer.ui.views._common import MIN_SIZE, fmt
from gd_explorer.ui.views.frame import Frame

#: at most this many parameters are listed one per line
MAX_LISTED = 40
_TAG = re.compile(r"(</?b>)")
#: the link that lists every parameter of a large problem (and hides them again)
SHOW_ALL_URL = "#all-parameters"

def _paren(v: float) -> str:
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def _names(names, d: int) -> list[str]:
    names = list(names or ())
    if len(names) >= d:  # the usual case, and quick for a network's 10,000 names
        return names[:d]
    return names + [f"p{i}" for i in range(len(names), d)]


class StepLogView(QtWidgets.QTextBrowser):
    """Read-only text: step ``k`` of a run with parameters, loss, gradient, rate, the update
    rule with its numbers, and the optimizer's state buffers."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("stepLog")
        self.setMinimumSize(*MIN_SIZE)
        self.setReadOnly(True)
        self.setOpenLinks(False)
        # long lines (a 3-parameter update, a Beale gradient) wrap at the widget's width:
        # no horizontal scrolling to read a step
        self.setLineWrapMode(QtWidgets.QTextEdit.LineWrapMode.WidgetWidth)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(font.pointSizeF(), 9.5))
        self.setFont(font)
        self.document().setDefaultFont(font)
        self.setToolTip("The selected step written out: values, the update rule with its "
                        "numbers, and the optimizer's state. Move the timeline to change step.")
        # edits patch lines in place (below): no undo history to pile up
        self.document().setUndoRedoEnabled(False)
        self._last = None
        self._lines: list[str] = []
        self._args: tuple = (None, None, (), False)
        self._kwargs: dict = {}
        self._relayout_pending = False
        self._shown_width = 0
        self.show_all = False
        self.anchorClicked.connect(self._on_anchor_clicked)
        self.set_entry(None, None, (), False)

    def _on_anchor_clicked(self, url: QtCore.QUrl) -> None:
        if url.toString() == SHOW_ALL_URL:
            self.set_show_all(not self.show_all)

    def set_show_all(self, on: bool) -> None:
        """List every parameter of a large problem (the log's "list all" link), or not."""
        self.show_all = bool(on)
        self.set_entry(*self._args, **self._kwargs)

    def show_frame(self, frame: Frame) -> None:
        """Show the selected run's step at the frame's cursor (see :meth:`set_entry`)."""
        curv = frame.curvature() if frame.curvature is not None else None
        self.set_entry(frame.selected, frame.cursor, frame.names, frame.maximize,
                       frame.selected_status, curv, groups=frame.groups,
                       running=frame.running)

    def set_entry(self, snap: RunSnapshot | None, cursor: int | None,
                  names: tuple[str, ...], maximize: bool, status: str | None = None,
                  curvature=None, *, groups=None, running: bool = False) -> None:
        """Show row ``k = snap.index(cursor)`` of ``snap``.

        Parameters
        ----------
        snap
            The selected run, or None (a short hint is shown).
        cursor
            Timeline row (None: the latest).
        names
            Parameter names (missing ones are called ``p0, p1, …``).
        maximize
            Gradient ascent: the plain rule is ``p + lr·g`` instead of ``p − lr·g``.
        status
            How the run stands in words ("paused at step 40"); default its message.
        curvature
            The model's :class:`~gd_explorer.model.curvature.Curvature` at that row, or
            None (no "Curvature" section).
        groups
            The objective's parameter groups (``(title, columns)``, a network's layers) for
            the per-group table of a large problem; None: whole-vector norms only.
        running
            The runs are running: a large problem's full listing (:attr:`show_all`) waits
            until they pause.
        """
        self._args = (snap, cursor, names, maximize, status, curvature)
        self._kwargs = {"groups": groups, "running": running}
        self._shown_width = self._width_chars()
        text = self.entry_text(snap, cursor, names, maximize, status, curvature,
                               groups=groups, show_all=self.show_all, running=running,
                               width=self._shown_width)
        if text == self._last:
            return  # the timer calls this at display rate; keep the scroll position
        self._last = text
        lines = text.split("\n")
        if (len(lines) == len(self._lines) == self.document().blockCount()
                and not any(a != b and ("<a " in a or "<a " in b)
                            for a, b in zip(self._lines, lines))):
            # Same layout, new numbers: rewrite only the lines that changed. A fresh
            # setHtml lays out every line again (font fallback for ∇, √, …): a few ms.
            self._patch(lines)
        else:
            bar = self.verticalScrollBar().value()
            # one paragraph per line (the patch above relies on it), wrapped, spaces kept
            self.setHtml("".join(f"<p style='white-space:pre-wrap; margin:0'>{line or '&nbsp;'}</p>"
                                 for line in lines))
            self.verticalScrollBar().setValue(bar)
        self._lines = lines

    def _width_chars(self) -> int:
        """How many characters of the log's font a line holds without wrapping."""
        em = max(1, self.fontMetrics().horizontalAdvance("0"))
        return max(20, (self.viewport().width() - 2 * int(self.document().documentMargin()))
                   // em)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # a large problem's table takes the new width -- after this event: a layout that
        # shows the scroll bar resizes the viewport from inside set_entry
        if self._kwargs and not self._relayout_pending:
            self._relayout_pending = True
            QtCore.QTimer.singleShot(0, self, self._relayout)

    def _relayout(self) -> None:
        self._relayout_pending = False
        if self._width_chars() != self._shown_width:
            self.set_entry(*self._args, **self._kwargs)

    def _patch(self, lines: list[str]) -> None:
        """Replace the text of each line (one block each) that differs from what is shown."""
        doc = self.document()
        cur = QtGui.QTextCursor(doc)
        cur.beginEditBlock()
        for j, (old, new) in enumerate(zip(self._lines, lines, strict=True)):
            if old == new:
                continue
            block = doc.findBlockByNumber(j)
            cur.setPosition(block.position())
            plain = QtGui.QTextCharFormat(cur.charFormat())
            plain.clearProperty(QtGui.QTextFormat.Property.FontWeight)
            bold = QtGui.QTextCharFormat(plain)
            bold.setFontWeight(QtGui.QFont.Weight.Bold)
            cur.setPosition(block.position() + block.length() - 1,
                            QtGui.QTextCursor.MoveMode.KeepAnchor)
            cur.removeSelectedText()
            for part, is_bold in _segments(new):
                cur.insertText(part, bold if is_bold else plain)
        cur.endEditBlock()

    @staticmethod
    def entry_text(snap: RunSnapshot | None, cursor: int | None, names: tuple[str, ...],
                   maximize: bool, status: str | None = None, curvature=None, *,
                   groups=None, show_all: bool = False, running: bool = False,
                   width: int | None = None) -> str:
        """The log as HTML-escaped text with a few ``<b>`` tags (what :meth:`set_entry` shows).

        More than ``MAX_LISTED_PARAMS`` parameters: the summary (norms, ``groups``' table,
        buffers by norm), with every parameter listed when ``show_all`` and not ``running``;
        ``width`` (characters a line holds, None: any) picks the table's layout.
        """
        if snap is None:
            return "No run selected.\nStart a run or pick one in the run list."
        e = html.escape
        k = snap.index(cursor)
        head = f"<b>{e(snap.label)}</b>  —  {e(snap.optimizer_title or 'optimizer')}"
        status = f"status: {e(status or snap.message or snap.status)}"
        if k < 0:
            return f"{head}\n{status}\n\nNo steps recorded yet."
        d = snap.params.shape[1]
        if d > MAX_LISTED_PARAMS:
            return "\n".join(_large_lines(snap, k, _names(names, d), maximize, head, status,
                                           curvature, groups, show_all, running, width))
        nm = _names(names, d)
        p = np.asarray(snap.params[k], dtype=np.float64)
        g = np.asarray(snap.grad[k], dtype=np.float64)
        f = float(snap.loss[k])
        lr = float(snap.lr[k])
        has_next = k + 1 < snap.n
        nxt = np.asarray(snap.params[k + 1], dtype=np.float64) if has_next else None
        width = max(len(n) for n in nm) if nm else 1
        listed = range(min(d, MAX_LISTED))
        more = f"  … and {d - MAX_LISTED} more\n" if d > MAX_LISTED else ""

        out = [head, status, ""]
        out.append(f"<b>Step k = {k}</b>  (row {k + 1} of {snap.n} recorded; "
                   f"{'gradient ascent' if maximize else 'gradient descent'})")
        out.append("")
        out.append("<b>Parameters</b> p_k")
        out += [f"  {e(nm[i]).ljust(width)} = {fmt(p[i])}" for i in listed]
        out.append(more + f"<b>Loss</b> f(p_k) = {fmt(f)}")
        out.append("<b>Gradient</b>   g_k = ∇f(p_k)")
        out += [f"  ∂f/∂{e(nm[i]).ljust(width)} = {fmt(g[i])}" for i in listed]
        gn = float(np.hypot.reduce(g)) if d else 0.0
        out.append(more + f"  |g_k| = {fmt(gn)}")
        out.append(f"<b>Learning rate</b> lr = {fmt(lr)}")
        out.append("")

        entry = snap.entry  # the optimizer's registry entry: its rule text, its buffers
        hyper = dict(snap.hyper or {})
        plain = entry is not None and entry.plain(hyper)
        sign = "+" if maximize else "−"
        out.append("<b>Update</b>")
        if plain:
            out.append(f"  p_(k+1) = p_k {sign} lr·g_k"
                       + ("   (ascent: step uphill, along +g)" if maximize
                          else "   (step downhill, against g)"))
            with np.errstate(all="ignore"):
                res = p + lr * g if maximize else p - lr * g
            if d == 1:
                out.append(f"  f'({fmt(p[0])}) = {fmt(g[0])}, so the next guess is "
                           f"{fmt(p[0])} {sign} {fmt(lr)}·{_paren(g[0])} = {fmt(res[0])}")
            else:
                out += [f"  {e(nm[i]).ljust(width)}: {fmt(p[i])} {sign} {fmt(lr)}·{_paren(g[i])}"
                        f" = {fmt(res[i])}" for i in listed]
                if more:
                    out.append(more.rstrip("\n"))
            if has_next:
                same = np.allclose(res, nxt, rtol=1e-9, atol=1e-12, equal_nan=True)
                out.append("  recorded p_(k+1): " + ", ".join(
                    f"{e(nm[i])} = {fmt(nxt[i])}" for i in listed)
                    + ("" if same else "   (differs: see the optimizer settings)"))
            else:
                out.append("  (p_(k+1) not recorded yet: this is the latest row)")
        else:
            rule = entry.rule_text if entry is not None else ""
            out.append("  g_k = " + ("−∇f(p_k) (maximize flips the gradient)" if maximize
                                     else "∇f(p_k)") + ";  t = k + 1 (the update's number)")
            if rule:
                out += ["  " + e(line) for line in rule.split("\n")]
            else:
                out.append("  p_(k+1) = p_k + Δp  (the optimizer's own rule)")
            if has_next:
                with np.errstate(all="ignore"):
                    delta = nxt - p
                    eff = np.where(g != 0, -delta / g if not maximize else delta / g, np.nan)
                out.append("  this step (Δp = p_(k+1) − p_k; effective rate = Δp / "
                           + ("g" if maximize else "(−g)") + "):")
                for i in listed:
                    er = "" if not math.isfinite(eff[i]) else f"   effective rate {fmt(eff[i])}"
                    out.append(f"  {e(nm[i]).ljust(width)}: {fmt(p[i])} → {fmt(nxt[i])}"
                               f"   Δ = {fmt(delta[i])}{er}")
                if more:
                    out.append(more.rstrip("\n"))
            else:
                out.append("  (p_(k+1) not recorded yet: this is the latest row)")
        head, state, notes = _state_head(snap, k, hyper, curvature, nm, maximize, entry,
                                            plain)
        out += head
        for key, arr in state.items():
            full = np.asarray(arr, dtype=np.float64)
            a = full.ravel()
            name = e(str(key)) + (f" ({e(notes[key])})" if key in notes else "")
            if a.size == 0:
                out.append(f"  {name}: (unused)")
                continue
            if full.ndim == 2 and full.shape[1] == d:  # points, one a row (trial points)
                out.append(f"  {name}: {full.shape[0]} point(s)")
                out += ["    (" + ", ".join(f"{e(nm[i])} = {fmt(row[i])}" for i in listed) + ")"
                        for row in full[:MAX_LISTED]]
                continue
            if a.size == 1 and d != 1:
                out.append(f"  {name}: {fmt(a[0])}")
                continue
            if a.size == d:
                vals = ", ".join(f"{e(nm[i])} = {fmt(a[i])}" for i in listed)
                out.append(f"  {name}: {vals}" + (" …" if more else ""))
            else:
                vals = ", ".join(fmt(v) for v in a[:MAX_LISTED])
                out.append(f"  {name}: [{vals}{' …' if a.size > MAX_LISTED else ''}]")
        return "\n".join(line for line in out if line is not None)

    def plain_text(self) -> str:
        """The log as plain text (for tests and copying)."""
        return self.toPlainText()


def _norm(v: np.ndarray) -> float:
    """Euclidean norm: a sum of squares (fast), or hypot's scaled sum where the squares
    overflow (a diverging run's 1e200 weights still have a finite norm)."""
    if v.size == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        sq = float(np.sum(v * v))  # no BLAS: its threads stall on a busy machine
        if math.isfinite(sq):
            return math.sqrt(sq)
        return float(np.hypot.reduce(v))


def _largest(v: np.ndarray, nm: list[str]) -> str:
    """``max 0.31 at w1_0_1``: the largest magnitude of ``v`` and whose it is."""
    with np.errstate(invalid="ignore"):
        a = np.abs(v)
    if a.size == 0 or np.isnan(a).all():
        return ""
    i = int(np.nanargmax(a))
    return f"max {fmt(a[i])} at {html.escape(nm[i])}"


def _norm_lines(label: str, v: np.ndarray, nm: list[str], width: int | None) -> list[str]:
    """``|g_k| = 0.41  (max 0.18 at w3_0_4)``, the bracket on a line of its own when the
    log is narrower than both (``width`` characters; None: any)."""
    line = f"  {label} = {fmt(_norm(v))}"
    extra = _largest(v, nm)
    if not extra:
        return [line]
    if width is None or len(html.unescape(line)) + len(extra) + 4 <= width:
        return [f"{line}  ({extra})"]
    return [line, f"      ({extra})"]


def _short(v: float) -> str:
    """4 significant digits: the per-layer table's cells."""
    return "0" if v == 0 else f"{v:.4g}"


#: the per-layer table's cell width (``_short`` of a norm, never negative, is at most 9
#: characters); the full listing's cells hold signed numbers
_CELL = 10
_SIGNED_CELL = 12


def _layer_lines(groups, p, g, delta, width: int | None) -> list[str]:
    """The per-layer table (norms of each group's columns): one row per layer where the
    log is ``width`` characters wide or more (None: always), else a block per layer."""
    e = html.escape
    titles = [e(t) for t, _ in groups]
    title_w = max(max(len(t) for t in titles), len("layer")) + 1
    rows = []
    for title, (_, idx) in zip(titles, groups):
        gi = g[idx]
        with np.errstate(invalid="ignore"):
            gmax = float(np.max(np.abs(gi))) if gi.size else 0.0
        rows.append((title, _short(_norm(p[idx])), _short(_norm(gi)),
                     _short(_norm(delta[idx])) if delta is not None else "—", _short(gmax)))
    out = ["<b>Per layer</b>  (norms of each layer's weights and biases)"]
    if width is None or width >= 2 + title_w + 3 * _CELL + len("max|g_i|"):
        out.append("  " + "layer".ljust(title_w) + "".join(
            c.ljust(_CELL) for c in ("|p|", "|g|", "|Δp|")) + "max|g_i|")
        out += ["  " + t.ljust(title_w) + "".join(c.ljust(_CELL) for c in cells[:3]) + cells[3]
                for t, *cells in rows]
    else:  # a narrow log: the numbers under the layer's title, nothing wraps
        for t, pn, gn, dn, gm in rows:
            out.append(f"  {t}")
            out.append(f"    |p|  {pn.ljust(_CELL + 1)}|g| {gn}")
            out.append(f"    |Δp| {dn.ljust(_CELL + 1)}max|g_i| {gm}")
    return out


def _large_lines(snap: RunSnapshot, k: int, nm: list[str], maximize: bool, head: str,
                 status: str, curvature, groups, show_all: bool, running: bool,
                 width: int | None) -> list[str]:
    """The step log of a problem with more than ``MAX_LISTED_PARAMS`` parameters: norms,
    a table per parameter group, buffers by norm, and (on request) every parameter."""
    e = html.escape
    d = len(nm)
    p = np.asarray(snap.params[k], dtype=np.float64)
    g = np.asarray(snap.grad[k], dtype=np.float64)
    lr = float(snap.lr[k])
    has_next = k + 1 < snap.n
    with np.errstate(all="ignore"):
        delta = np.asarray(snap.params[k + 1], dtype=np.float64) - p if has_next else None
    entry = snap.entry
    hyper = dict(snap.hyper or {})
    plain = entry is not None and entry.plain(hyper)
    link = (f"<a href='{SHOW_ALL_URL}'>" + ("hide the list" if show_all
                                             else f"list all {d:,}") + "</a>")
    gn = _norm(g)
    out = [head, status, ""]
    out.append(f"<b>Step k = {k}</b>  (row {k + 1} of {snap.n} recorded; "
               f"{'gradient ascent' if maximize else 'gradient descent'})")
    out.append(f"{d:,} parameters, summarised by norm  ·  {link}")
    out.append("")
    out.append(f"<b>Loss</b> f(p_k) = {fmt(float(snap.loss[k]))}")
    out.append(f"<b>Learning rate</b> lr = {fmt(lr)}")
    out.append("<b>Norms</b>")
    out += _norm_lines("|p_k|", p, nm, width)
    out += _norm_lines("|g_k|", g, nm, width)
    if delta is not None:
        out += _norm_lines("|Δp| ", delta, nm, width)
        out.append("      (Δp = p_(k+1) − p_k: the update)")
    else:
        out.append("  |Δp|: p_(k+1) not recorded yet (the latest row)")
    out.append(f"  lr·|g_k| = {fmt(lr * gn)}")
    out.append("")
    if groups:
        out += _layer_lines(groups, p, g, delta, width)
        out.append("")

    sign = "+" if maximize else "−"
    out.append("<b>Update</b>")
    if plain:
        out.append(f"  p_(k+1) = p_k {sign} lr·g_k"
                   + ("   (ascent: step uphill, along +g)" if maximize
                      else "   (step downhill, against g)"))
        if delta is not None:
            with np.errstate(all="ignore"):
                same = np.allclose(p + delta, p + lr * g if maximize else p - lr * g,
                                   rtol=1e-9, atol=1e-12, equal_nan=True)
            out.append("  recorded p_(k+1): " + (f"p_k {sign} lr·g_k in every coordinate"
                                               if same else
                                               f"differs from p_k {sign} lr·g_k (see the "
                                               "optimizer settings)"))
    else:
        rule = entry.rule_text if entry is not None else ""
        out.append("  g_k = " + ("−∇f(p_k) (maximize flips the gradient)" if maximize
                                 else "∇f(p_k)") + ";  t = k + 1 (the update's number)")
        if rule:
            out += ["  " + e(line) for line in rule.split("\n")]
        else:
            out.append("  p_(k+1) = p_k + Δp  (the optimizer's own rule)")
        if delta is not None and gn > 0:
            out.append(f"  this step: |Δp| / |g_k| = {fmt(_norm(delta) / gn)}  "
                       f"(plain GD: lr = {fmt(lr)})")
    head, state, notes = _state_head(snap, k, hyper, curvature, nm, maximize, entry,
                                        plain)
    out += head
    for key, arr in state.items():
        full = np.asarray(arr, dtype=np.float64)
        a = full.ravel()
        name = e(str(key)) + (f" ({e(notes[key])})" if key in notes else "")
        if a.size == 0:
            out.append(f"  {name}: (unused)")
        elif a.size == 1:
            out.append(f"  {name}: {fmt(a[0])}")
        elif full.ndim == 2 and full.shape[1] == d:
            out.append(f"  {name}: {full.shape[0]} point(s), |·| = "
                       + ", ".join(fmt(_norm(row)) for row in full[:MAX_LISTED]))
        elif a.size == d:
            out += _norm_lines(f"{name}: |·|", a, nm, width)
        else:
            out.append(f"  {name}: |·| = {fmt(_norm(a))}  ({a.size:,} values)")

    if show_all:
        out.append("")
        out.append(f"<b>All {d:,} parameters</b>  ·  {link}")
        if running:
            out.append("  (listed while the runs are paused: Space pauses them)")
        else:
            name_w = max(len(n) for n in nm) + 2
            out.append("  " + "name".ljust(name_w) + "p_k".ljust(_SIGNED_CELL)
                       + "g_k".ljust(_SIGNED_CELL) + "Δp")
            cells = [list(map(_short, p.tolist())), list(map(_short, g.tolist())),
                     list(map(_short, delta.tolist())) if delta is not None else ["—"] * d]
            out += [f"  {e(n).ljust(name_w)}{a.ljust(_SIGNED_CELL)}{b.ljust(_SIGNED_CELL)}{c}"
                    for n, a, b, c in zip(nm, *cells)]
    return out


def _vector_text(v, nm) -> str:
    return "(" + ", ".join(fmt(x) for x in v[:MAX_LISTED]) + (", …" if len(v) > MAX_LISTED else "") + ")"



def _state_head(snap, k: int, hyper, curvature, nm, maximize: bool, entry,
                plain: bool) -> tuple[list[str], dict, dict]:
    """The lines both logs (small and large d) share after the update: the
    hyperparameters, the curvature at this row, the optimizer state's heading and what
    the optimizer's entry says of its state in words (Newton's shift, LM's λ); with the
    state and the buffers' notes each log then lists in its own way."""
    e = html.escape
    out = []
    if hyper:
        out.append("  hyperparameters: " + ", ".join(
            f"{e(str(key))} = {e(_hyper_text(v))}" for key, v in hyper.items()))
    out.append("")
    if curvature is not None and curvature.row == k and curvature.run_id == snap.run_id:
        out += _curvature_lines(curvature, nm, maximize)
        out.append("")
    out.append("<b>Optimizer state</b>"
               + ("" if k == snap.n - 1 else
                  f"  (after the latest step, row {snap.n - 1}; not stored per step)"))
    state = snap.state or {}
    if not state:
        out.append("  (none: plain gradient descent keeps no state)"
                   if plain else "  (no buffers yet)")
    elif entry is not None:
        out += ["  " + e(line) for line in entry.state_lines(state)]
    return out, state, (entry.buffer_notes if entry is not None else {})

def _curvature_lines(c, nm: list[str], maximize: bool) -> list[str]:
    """The "Curvature" section: H, its eigenvalues and eigenvectors, κ, the edge."""
    e = html.escape
    d = len(c.point)
    of = "−f (ascent minimises −f)" if maximize else "f"
    out = [f"<b>Curvature</b> at p_k  (Hessian H of {of}; local model "
           "f(p_k + δ) ≈ f + gᵀδ + ½δᵀHδ)"]
    if not c.finite:
        out.append("  H is not finite here (the formula has no second derivative at this "
                   "point)")
        out.append("  " + e(c.edge_text()))
        return out
    if c.lanczos is not None:
        return out + _lanczos_lines(c)
    if d <= 3:
        out += ["  H = [" + ", ".join(fmt(x) for x in row) + "]" for row in c.hessian]
    lam = c.eigenvalues
    out.append("  eigenvalues λ = " + ", ".join(fmt(x) for x in lam[:MAX_LISTED])
               + (" …" if d > MAX_LISTED else "") + "   (ascending)")
    if d <= 3:
        out.append("  eigenvectors: " + ", ".join(
            f"v{i + 1} = {_vector_text(c.eigenvectors[:, i], nm)}" for i in range(d))
            + "   (in " + ", ".join(e(n) for n in nm) + ")")
    kind = c.definiteness
    if c.kappa is not None:
        out.append(f"  {kind}; condition number κ = λmax/λmin = {fmt(c.kappa)}")
    elif kind == "indefinite":
        out.append("  indefinite: a saddle of the local model (curving up and down); no κ")
    elif kind == "negative definite":
        out.append("  negative definite: a maximum of the local model; no κ")
    else:
        out.append("  singular: a flat direction (λ ≈ 0); no κ")
    edge = c.edge_text()
    out.append("  " + e(edge))
    if c.from_latest_state and c.uses_state and c.edge is not None and c.edge != math.inf:
        out.append("  (the preconditioner is the optimizer's state after the latest step: "
                   "state is not stored per step)")
    if c.note:
        out.append("  " + e(c.note))
    return [line for line in out if line]


def _lanczos_lines(c) -> list[str]:
    """The curvature of many parameters: λmax and λmin by Lanczos, their error bars."""
    e = html.escape
    r = c.lanczos
    lo, hi = c.eigenvalues
    out = [f"  λmax ≈ {fmt(hi)} (± {fmt(r.residuals[0, -1])}), λmin ≈ {fmt(lo)} "
           f"(± {fmt(r.residuals[0, 0])})",
           f"  by Lanczos: {r.iterations} Hessian-vector products, no {len(c.point):,}×"
           f"{len(c.point):,} Hessian (± the residual ‖Hy − λy‖: an eigenvalue lies that "
           "close)"]
    if lo < 0 < hi:
        out.append(e("  indefinite: negative curvature along some direction (λmin < 0)"))
    else:
        out.append("  λmin is an estimate from above (Lanczos finds the extremes from "
                   "inside the spectrum); no κ")
    out.append("  " + e(c.edge_text()))
    if c.note:
        out.append("  " + e(c.note))
    return out


def _segments(line: str) -> list[tuple[str, bool]]:
    """``(text, bold)`` runs of one line of :meth:`StepLogView.entry_text` (escaped text
    with ``<b>`` tags), unescaped."""
    out = []
    bold = False
    for i, part in enumerate(_TAG.split(line)):
        if i % 2:
            bold = part == "<b>"
        elif part:
            out.append((html.unescape(part), bold))
    return out


def _hyper_text(v) -> str:
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_hyper_text(x) for x in v) + ")"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return fmt(v)
    return str(v)
