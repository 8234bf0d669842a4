"""Widgets and pyqtgraph views. ``MainWindow()`` builds the window without showing it."""


def __getattr__(name):  # lazy, so importing gd_explorer.ui.views stays light
    if name == "MainWindow":
        from gd_explorer.ui.main_window import MainWindow

        return MainWindow
    raise AttributeError(name)
