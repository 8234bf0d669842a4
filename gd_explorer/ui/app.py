"""Start the desktop application.

Signals
    SIGINT (Ctrl+C in the terminal) and SIGTERM ask the window to close, exactly as
    Ctrl+Q does: it saves its settings (geometry, the session) and the app exits with
    status 0, since nothing failed.  A second signal while closing ends the process at
    once with status 128 + signal.  Python runs its signal handlers only when the
    interpreter has control, never while Qt's C++ event loop waits, so the signals wake
    the event loop through :func:`signal.set_wakeup_fd` and a :class:`QSocketNotifier`.

``GD_EXPLORER_READY_FILE``
    When set, the app creates that file once its window is shown and the event loop
    runs (for scripts and tests that must wait until it is up).
"""

from __future__ import annotations

import os
import signal
import socket
import sys

#: environment variable: a file to create once the window is up
READY_FILE_ENV = "GD_EXPLORER_READY_FILE"
#: signals that close the window (those this platform has)
CLOSING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM")
                        if hasattr(signal, name))


class SignalBridge:
    """Turns SIGINT/SIGTERM into ``on_signal(signum)`` calls on the Qt event loop.

    Install from the main thread (:func:`signal.set_wakeup_fd` requires it) with the
    QApplication created; :meth:`uninstall` restores what was there before.
    """

    def __init__(self, on_signal):
        from PySide6.QtCore import QSocketNotifier

        self._on_signal = on_signal
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        # the C-level handler writes each signal's number here, which wakes the loop
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno())
        self._previous = {sig: signal.signal(sig, _note_only) for sig in CLOSING_SIGNALS}
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._on_wakeup)

    def _on_wakeup(self, *_args) -> None:
        try:
            data = self._read.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        for signum in data:
            if signum in CLOSING_SIGNALS:
                self._on_signal(signum)

    def uninstall(self) -> None:
        """Put back the previous handlers and wakeup fd; close the sockets."""
        self._notifier.setEnabled(False)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._read.close()
        self._write.close()


def _note_only(signum, frame) -> None:
    """The Python-level handler: the work happens on the event loop (SignalBridge)."""


def run_app(argv: list[str] | None = None) -> int:
    """Create the QApplication and the main window, restore the last session, run."""
    import pyqtgraph as pg
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gd_explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("gd-explorer")
    app.setOrganizationName("gd-explorer")
    # no global antialiasing: long loss curves and paths redraw at display rate, and the
    # views antialias the few items where it shows (contours, arrows, fitted curves)
    pg.setConfigOptions(antialias=False)
    settings = QSettings("gd-explorer", "gd-explorer")
    window = MainWindow(settings=settings, restore=True)
    received = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        if len(received) > 1:  # asked twice: the close is taking too long for them
            sys.stderr.flush()
            os._exit(128 + signum)
        # closing every window (a message box too) ends the loop; the main window's
        # closeEvent saves the settings and stops the engine
        app.closeAllWindows()

    bridge = None
    try:
        bridge = SignalBridge(on_signal)
    except ValueError:  # pragma: no cover - not the main thread: keep the defaults
        pass
    window.show()
    ready = os.environ.get(READY_FILE_ENV)
    if ready:
        QTimer.singleShot(0, lambda: _touch(ready))
    try:
        return app.exec()
    finally:
        if bridge is not None:
            bridge.uninstall()


def _touch(path: str) -> None:
    try:
        with open(path, "a"):
            pass
    except OSError as exc:  # a bad path must not stop the app
        print(f"gd-explorer: cannot create {READY_FILE_ENV} {path}: {exc}", file=sys.stderr)
