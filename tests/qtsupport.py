"""Fixtures shared by the Qt test folders (model/ and ui/); core tests never import this."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_thread_left_running(qapp):
    """Fail any test that leaves one of the app's QThreads running."""
    from gd_explorer.model.threads import running_threads

    yield
    qapp.processEvents()
    left = running_threads()
    assert not left, f"QThreads left running: {left}"


@pytest.fixture
def model(qapp):
    """A fresh ExplorerModel on the default session, shut down afterwards."""
    from gd_explorer.model.explorer import ExplorerModel

    m = ExplorerModel()
    yield m
    m.shutdown()


@pytest.fixture
def window(qapp, qtbot):
    """A MainWindow (not shown), closed afterwards."""
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    yield w
    w.close()
