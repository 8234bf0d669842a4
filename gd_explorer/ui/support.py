"""Small Qt helpers every widget module uses: weak slots, plain-text messages, key focus.

Why they exist:

- A lambda or ``functools.partial`` that captures a widget, connected to a signal, keeps
  that widget alive after its window closes: PySide keeps the callable until the sender
  dies, and the sender is owned by the window (a cycle Python's GC cannot see through
  Qt).  Bound methods and :func:`weak_slot` do not.
- ``QLabel``, ``QMessageBox`` and tool tips render text that looks like HTML as HTML; a run
  label or a path from a shared file would become a heading and a live link.  Everything
  that comes from a user or a file goes through :func:`show_message`, :func:`plain_tip`
  or a label set to plain text.
- Single-key shortcuts (Space, →, R, L, A, Y) must not steal the keys a focused slider,
  spin box, text field or list uses: :class:`EditKeysFirst`.
"""

from __future__ import annotations

import html
import weakref
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)


def weak_slot(method, *args, pass_signal_args: bool = False) -> Callable:
    """A callable for ``signal.connect`` that calls ``method(*args)`` without keeping the
    method's object alive (it does nothing once that object is gone).

    Parameters
    ----------
    method
        A bound method.
    args
        Arguments bound in front.
    pass_signal_args
        Append the signal's own arguments (default: drop them, e.g. ``checked``).
    """
    ref = weakref.WeakMethod(method)

    def call(*signal_args):
        m = ref()
        if m is None:
            return None
        return m(*args, *signal_args) if pass_signal_args else m(*args)

    return call


def plain_tip(text: str) -> str:
    """``text`` as a tool tip that shows it literally (escaped inside a rich-text tip)."""
    return "<qt>" + html.escape(str(text)).replace("\n", "<br>") + "</qt>"


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that never interprets its text as HTML."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def error_html(text: str) -> str:
    """Escaped ``text`` in red, for rich-text status labels."""
    return f"<span style='color:#c0392b'>{html.escape(str(text))}</span>"


_ICONS = {
    "information": QMessageBox.Icon.Information,
    "warning": QMessageBox.Icon.Warning,
    "critical": QMessageBox.Icon.Critical,
}


def show_message(parent: QWidget | None, kind: str, title: str, text: str,
                 details: str = "") -> None:
    """A modal message box showing ``text`` as plain text (``kind``: information, warning,
    critical)."""
    box = QMessageBox(_ICONS[kind], title, str(text), QMessageBox.StandardButton.Ok, parent)
    box.setObjectName(f"{kind}Box")
    box.setTextFormat(Qt.TextFormat.PlainText)
    if details:
        box.setDetailedText(details)
    box.exec()


#: navigation keys a focused slider, combo box or list keeps even when a window
#: shortcut uses them (→ moves the slider instead of stepping the runs)
_NAV_KEYS = frozenset({
    Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home,
    Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
})
_NAVIGATORS = (QAbstractSlider, QComboBox, QAbstractItemView)
_TYPING = (QLineEdit, QAbstractSpinBox, QPlainTextEdit)


def _keeps_key(obj, event) -> bool:
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
        return False  # Ctrl+E and friends always reach their action
    key = event.key()
    if isinstance(obj, _TYPING) or (isinstance(obj, QTextEdit) and not obj.isReadOnly()):
        return key in _NAV_KEYS or bool(event.text()) or key == Qt.Key.Key_Space
    if isinstance(obj, _NAVIGATORS) and not isinstance(obj, QTextEdit):
        return key in _NAV_KEYS
    return False


class EditKeysFirst(QObject):
    """Application event filter: a focused text field or spin box keeps the keys it types
    and moves with, a focused slider, combo box or list its navigation keys; so → on the
    learning-rate slider moves the slider, R in a formula types an R, while Space still
    runs and pauses from the run list. With Ctrl (or Alt) shortcuts win as usual."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(obj, QWidget) \
                and _keeps_key(obj, event):
            event.accept()  # accepted: Qt delivers the key to the widget, not the shortcut
        return False


_FILTER: EditKeysFirst | None = None
_GUARDED = "gdxEditKeysFirst"  # dynamic property: the filter is installed on this widget


def _on_focus_changed(_old, new) -> None:
    # Install the filter on a widget when it first takes the focus: only the focused
    # widget receives ShortcutOverride, and an application-wide filter would run Python
    # for every event of every object.
    if _FILTER is not None and isinstance(new, _NAVIGATORS + _TYPING + (QTextEdit,)) \
            and not new.property(_GUARDED):
        new.setProperty(_GUARDED, True)
        new.installEventFilter(_FILTER)


def install_edit_keys_filter() -> None:
    """Let focused editing widgets keep their keys (see :class:`EditKeysFirst`); once per
    application."""
    global _FILTER
    app = QApplication.instance()
    if app is None or _FILTER is not None:
        return
    _FILTER = EditKeysFirst(app)
    app.focusChanged.connect(_on_focus_changed)
