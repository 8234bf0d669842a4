"""Threads: garbage is collected in the GUI thread only (a collection in a worker thread
that frees Qt objects deadlocked the app during an export)."""

import threading

from PySide6.QtCore import QObject, Signal, Slot


class _Allocator(QObject):
    go = Signal()

    def __init__(self):
        super().__init__()
        self.done = threading.Event()
        self.go.connect(self.allocate)

    @Slot()
    def allocate(self):
        junk = [[i] for i in range(300_000)]  # containers: they fill generation 0 many times
        del junk
        self.done.set()


def test_garbage_is_collected_in_the_gui_thread_only(qapp, qtbot):
    from gd_explorer.model.threads import new_thread

    freed_in = []

    class Cycle:
        def __init__(self):
            self.me = self  # only the cyclic collector can free it

        def __del__(self):
            freed_in.append(threading.current_thread() is threading.main_thread())

    thread = new_thread("allocatorThread")
    worker = _Allocator()
    worker.moveToThread(thread)
    thread.start()
    try:
        for _ in range(2000):  # more than generation 0 holds: a collection is due
            Cycle()
        worker.go.emit()
        assert worker.done.wait(20)
        assert all(freed_in), "collected in the worker thread"
        qtbot.waitUntil(lambda: len(freed_in) == 2000, timeout=5000)  # the GUI thread's timer
        assert all(freed_in)
    finally:
        thread.quit()
        thread.wait(5000)
