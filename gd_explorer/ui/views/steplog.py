"""The step log: one step of the selected run written out with its numbers."""

from __future__ import annotations

import html
import math
import re

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from gd_explorer.model.snapshot import RunSnapshot
from gd_explorer.ui.views._common import MIN_SIZE, fmt
from gd_explorer.ui.views.frame import Frame

#: at most this many parameters are listed one per line
MAX_LISTED = 40
_TAG = re.compile(r"(</?b>)")

def _paren(v: float) -> str:
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def _names(names, d: int) -> list[str]:
    names = list(names or ())
    return [names[i] if i < len(names) else f"p{i}" for i in range(d)]


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
        self.set_entry(None, None, (), False)

    def show_frame(self, frame: Frame) -> None:
        """Show the selected run's step at the frame's cursor (see :meth:`set_entry`)."""
        curv = frame.curvature() if frame.curvature is not None else None
        self.set_entry(frame.selected, frame.cursor, frame.names, frame.maximize,
                       frame.selected_status, curv)

    def set_entry(self, snap: RunSnapshot | None, cursor: int | None,
                  names: tuple[str, ...], maximize: bool, status: str | None = None,
                  curvature=None) -> None:
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
        """
        text = self.entry_text(snap, cursor, names, maximize, status, curvature)
        if text == self._last:
            return  # the timer calls this at display rate; keep the scroll position
        self._last = text
        lines = text.split("\n")
        if len(lines) == len(self._lines) == self.document().blockCount():
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
                   maximize: bool, status: str | None = None, curvature=None) -> str:
        """The log as HTML-escaped text with a few ``<b>`` tags (what :meth:`set_entry` shows)."""
        if snap is None:
            return "No run selected.\nStart a run or pick one in the run list."
        e = html.escape
        k = snap.index(cursor)
        head = f"<b>{e(snap.label)}</b>  —  {e(snap.optimizer_title or 'optimizer')}"
        status = f"status: {e(status or snap.message or snap.status)}"
        if k < 0:
            return f"{head}\n{status}\n\nNo steps recorded yet."
        d = snap.params.shape[1]
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
        notes = entry.buffer_notes if entry is not None else {}
        if not state:
            out.append("  (none: plain gradient descent keeps no state)"
                       if plain else "  (no buffers yet)")
        elif entry is not None:  # the entry puts its state in words (Newton's shift, LM's λ)
            out += ["  " + e(line) for line in entry.state_lines(state)]
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


def _vector_text(v, nm) -> str:
    return "(" + ", ".join(fmt(x) for x in v[:MAX_LISTED]) + (", …" if len(v) > MAX_LISTED else "") + ")"


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
