"""Every QThread the app starts is made here, so tests can check none is left running."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, QThread

_THREADS: weakref.WeakSet = weakref.WeakSet()


def new_thread(name: str, parent: QObject | None = None) -> QThread:
    """A named QThread, registered for :func:`running_threads`."""
    thread = QThread(parent)
    thread.setObjectName(name)
    _THREADS.add(thread)
    return thread


def running_threads() -> list[str]:
    """Names of registered threads that are still running."""
    names = []
    for t in list(_THREADS):
        try:
            if t.isRunning():
                names.append(t.objectName())
        except RuntimeError:  # the C++ object is gone: not running
            continue
    return names
