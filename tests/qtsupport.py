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


class MessageBoxes(list):
    """The message boxes a test saw, as ``(kind, text, text_format)``; each is answered OK."""

    def texts(self, *kinds: str) -> list[str]:
        return [t for k, t, _ in self if not kinds or k in kinds]


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch):
    """Answer every QMessageBox the app opens (``exec`` and the static helpers) and record
    it: a test never hangs on a modal box, and can assert what the user was told."""
    from PySide6.QtWidgets import QMessageBox

    seen = MessageBoxes()
    kinds = {QMessageBox.Icon.Warning: "warning", QMessageBox.Icon.Critical: "critical",
             QMessageBox.Icon.Information: "information", QMessageBox.Icon.Question: "question"}

    def exec_(box):
        seen.append((kinds.get(box.icon(), "other"), box.text(), box.textFormat()))
        return QMessageBox.StandardButton.Ok

    def static(kind):
        def box(parent, title, text, *rest, **kw):
            seen.append((kind, text, None))
            return QMessageBox.StandardButton.Ok
        return staticmethod(box)

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    for kind in ("information", "warning", "critical", "about", "question"):
        monkeypatch.setattr(QMessageBox, kind, static(kind))
    return seen


@pytest.fixture
def model(qapp):
    """A fresh ExplorerModel on the default session, shut down afterwards."""
    from gd_explorer.model.explorer import ExplorerModel

    m = ExplorerModel()
    yield m
    m.shutdown()


@pytest.fixture
def window(qapp, qtbot):
    """A MainWindow (not shown) at full speed, closed afterwards."""
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    # the app starts at a watchable speed; these tests run at "max", as a user can pick
    w.speed_slider.setValue(w.speed_slider.maximum())
    yield w
    w.close()


def race_session(max_steps: int):
    """Three optimizers racing on Rosenbrock for ``max_steps`` (no stop on tolerance)."""
    from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session

    return Session(problem=ProblemSpec(kind="function", function="rosenbrock"),
                   runs=(RunSpec(optimizer="sgd", lr=1e-3, hyper={"momentum": 0.9}),
                         RunSpec(optimizer="adam", lr=0.01),
                         RunSpec(optimizer="rmsprop", lr=1e-3)),
                   start=(-1.5, 2.0), max_steps=max_steps, tol=0.0)


@pytest.fixture
def stop_engine():
    """``stop()`` SIGSTOPs the engine process and returns its pid; it is continued and
    killed at the end whatever happens, or after 20 s (a test of code that waits for it
    fails instead of hanging)."""
    from gd_explorer.core.engine.process import shared_engine
    from tests.processes import stopping

    with stopping(20.0) as stop:
        yield lambda: stop(shared_engine().pid)
