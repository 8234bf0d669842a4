"""When the runs cannot advance in the engine process, the window says so in its status
bar, in plain words, where the user looks: not only for a moment."""

import pytest
from PySide6.QtCore import Qt

from gd_explorer.core.engine.process import shared_engine
from gd_explorer.core.session.specs import ProblemSpec
from tests.qtsupport import race_session

FALLBACK = "runs advance in the window's process"


@pytest.fixture
def busy_engine():
    """The engine process held by another window's runs, for the length of a test."""
    engine = shared_engine()
    assert engine.acquire()
    yield engine
    engine.release()


def _click(window, qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_busy_engine_is_shown_in_the_status_bar_while_the_runs_go(window, qtbot, busy_engine):
    window.model.apply_session(race_session(50_000_000))
    _click(window, qtbot, window.run_button)
    qtbot.waitUntil(lambda: FALLBACK in window.statusBar().currentMessage(), timeout=10_000)
    assert "another window's runs are using the engine process" in \
        window.statusBar().currentMessage()
    _click(window, qtbot, window.run_button)  # pause
    assert not window.model.running


def _engine_label(window):
    from PySide6.QtWidgets import QLabel

    label = window.statusBar().findChild(QLabel, "engineLabel")
    assert label is not None
    return label


def _shown(label) -> str:
    """What the user reads in the label: its text if it is in sight, else nothing."""
    return label.text() if label.isVisibleTo(label.window()) else ""


def test_a_fallback_stays_in_sight_after_short_runs_finish(window, qtbot, busy_engine):
    window.model.set_problem(ProblemSpec(kind="function", function="bowl"))
    window.model.set_limits(max_steps=300, tol=0.0)
    label = _engine_label(window)
    assert _shown(label) == ""  # nothing to say before a run
    for _ in range(2):  # the passing message comes once; the label every time
        _click(window, qtbot, window.run_button)
        qtbot.waitUntil(lambda: not window.model.running, timeout=15_000)
        qtbot.waitUntil(lambda: _shown(label) != "", timeout=5000)
        # before: "all runs finished" replaced the fallback at once, and nothing was left
        assert window.statusBar().currentMessage() == "all runs finished"
        assert _shown(label) == "runs advance in this window"
        assert label.textFormat() == Qt.TextFormat.PlainText
        assert "another window's runs are using the engine process" in label.toolTip()
        window.model.reset()


def test_the_note_goes_when_the_engine_process_takes_the_runs_again(window, qtbot):
    engine = shared_engine()
    assert engine.acquire()
    window.model.set_problem(ProblemSpec(kind="function", function="bowl"))
    window.model.set_limits(max_steps=300, tol=0.0)
    label = _engine_label(window)
    try:
        _click(window, qtbot, window.run_button)
        qtbot.waitUntil(lambda: not window.model.running, timeout=15_000)
        qtbot.waitUntil(lambda: _shown(label) != "", timeout=5000)
    finally:
        engine.release()  # the other window is done
    window.model.reset()
    _click(window, qtbot, window.run_button)
    qtbot.waitUntil(lambda: not window.model.running, timeout=15_000)
    qtbot.waitUntil(lambda: _shown(label) == "", timeout=5000)
    assert label.toolTip() == ""


def test_an_engine_that_cannot_start_is_named_in_the_status_bar(window, qtbot, monkeypatch):
    import gd_explorer.core.engine.process as ep

    engine = ep.shared_engine()
    engine.kill()
    qtbot.waitUntil(lambda: not engine.alive, timeout=5000)
    monkeypatch.setattr(ep.sys, "executable", "/nonexistent/python")
    window.model.apply_session(race_session(50_000_000))
    _click(window, qtbot, window.run_button)
    qtbot.waitUntil(lambda: "cannot start the engine process" in
                    window.statusBar().currentMessage(), timeout=10_000)
    _click(window, qtbot, window.run_button)  # pause
    label = _engine_label(window)
    assert _shown(label) == "runs advance in this window"
    assert "cannot start the engine process" in label.toolTip()
