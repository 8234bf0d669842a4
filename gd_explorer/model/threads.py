"""Every QThread the app starts is made here, so tests can check none is left running, and
so that, once Python runs in other threads, garbage is collected in the GUI thread only.

Why the second: Python's cyclic garbage collector runs in whichever thread happens to
allocate when a generation fills up. The export and descent threads allocate a lot; a
collection there that frees a closed window's Qt objects destroys QObjects outside their
thread, where the destructor waits for the GIL while the GUI thread, holding the GIL,
waits for a lock that destructor holds: the app froze (seen here, in an export). So the
automatic collector is switched off and a timer in the GUI thread collects instead, with
the same generation thresholds (pyqtgraph's ``GarbageCollector`` does the same).
"""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

_THREADS: weakref.WeakSet = weakref.WeakSet()
#: how often the GUI thread looks at the collector's counts (milliseconds)
GC_INTERVAL_MS = 250


class _GuiThreadCollector(QObject):
    """Collects garbage from a timer in the GUI thread, generation by generation, when the
    allocation counts pass the thresholds the automatic collector would use."""

    def __init__(self):
        super().__init__()
        self.threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(GC_INTERVAL_MS)
        self.timer.timeout.connect(self.check)
        gc.disable()
        self.timer.start()

    def check(self) -> None:
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self.threshold
        if c0 > t0:
            gc.collect(2 if c2 > t2 else 1 if c1 > t1 else 0)


_COLLECTOR: _GuiThreadCollector | None = None


def collect_garbage_in_gui_thread() -> None:
    """Switch Python's automatic collector to a timer in the GUI thread (once; from the
    GUI thread, with a Qt application running)."""
    global _COLLECTOR
    app = QCoreApplication.instance()
    if _COLLECTOR is not None or app is None:
        return
    if threading.current_thread() is not threading.main_thread():
        return
    _COLLECTOR = _GuiThreadCollector()
    _COLLECTOR.setParent(app)


def new_thread(name: str, parent: QObject | None = None) -> QThread:
    """A named QThread, registered for :func:`running_threads`."""
    collect_garbage_in_gui_thread()
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
