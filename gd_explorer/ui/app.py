"""Start the desktop application."""

from __future__ import annotations

import sys


def run_app(argv: list[str] | None = None) -> int:
    """Create the QApplication and the main window, restore the last session, run."""
    import pyqtgraph as pg
    from PySide6.QtCore import QSettings
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
    window.show()
    return app.exec()
