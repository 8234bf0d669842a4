"""The "what-if" preview: editing the paused selected run recomputes its whole path.

A user pauses after N steps, changes the learning rate in the run editor, and sees the
path the run would have taken with that rate from the start; a long run, or a running
one, takes the edit from its next step (as before). References: plain gradient descent
on Rosenbrock written out here with numpy, and the engine's own run from the start.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLineEdit, QSlider

import gd_explorer.model.explorer as explorer
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session

START = (-1.5, 2.0)


def _session(lr: float = 1e-3) -> Session:
    return Session(problem=ProblemSpec(kind="function", function="rosenbrock"),
                   runs=(RunSpec(optimizer="sgd", lr=lr),),
                   start=START, max_steps=10_000_000, tol=0.0)


def _gd(lr: float, steps: int, start=START) -> np.ndarray:
    """Plain gradient descent on Rosenbrock, by hand: rows 0..steps."""
    p = np.array(start, dtype=float)
    rows = [p.copy()]
    for _ in range(steps):
        x, y = p
        g = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        p = p - lr * g
        rows.append(p.copy())
    return np.array(rows)


def _path(window) -> np.ndarray:
    m = window.model
    return m.run(m.selected_run_id).descent.trajectory(copy=True).params


def _steps(window, n: int) -> None:
    step = window.findChild(QAction, "actionStep")
    for _ in range(n):
        step.trigger()


def _type_lr(qtbot, window, text: str) -> None:
    edit = window.findChild(QLineEdit, "learningRate")
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_typing_lr_while_paused_recomputes_the_whole_path(window, qtbot):
    window.model.apply_session(_session(1e-3))
    _steps(window, 40)
    np.testing.assert_allclose(_path(window), _gd(1e-3, 40), rtol=1e-12, atol=1e-12)
    _type_lr(qtbot, window, "0.0002")
    assert window.model.run(window.model.selected_run_id).spec.lr == pytest.approx(2e-4)
    path = _path(window)
    assert path.shape == (41, 2)  # the same number of steps as before the edit
    np.testing.assert_allclose(path, _gd(2e-4, 40), rtol=1e-12, atol=1e-12)
    assert "what-if" in window.statusBar().currentMessage()
    # the next Step continues from the recomputed path
    _steps(window, 1)
    np.testing.assert_allclose(_path(window), _gd(2e-4, 41), rtol=1e-12, atol=1e-12)


def test_moving_the_lr_slider_while_paused_matches_an_engine_run_from_the_start(window, qtbot):
    from gd_explorer.core.session.specs import make_descent

    m = window.model
    m.apply_session(_session(1e-3))
    _steps(window, 25)
    slider = window.findChild(QSlider, "learningRateSlider")
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_PageDown)  # a user's key on the slider: lr / 1.78
    spec = m.run(m.selected_run_id).spec
    assert spec.lr < 1e-3
    ref = make_descent(m.objective, m.problem, spec, np.array(START), max_steps=m.max_steps,
                       tol=m.tol, loss_tol=m.loss_tol)
    ref.advance(25)
    np.testing.assert_array_equal(_path(window), ref.trajectory(copy=True).params)
    np.testing.assert_allclose(_path(window), _gd(spec.lr, 25), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("limit", ["WHATIF_MAX_STEPS", "WHATIF_MAX_WORK"])
def test_a_long_run_keeps_its_rows_and_applies_from_the_next_step(window, qtbot, monkeypatch,
                                                                   limit):
    window.model.apply_session(_session(1e-3))
    cost = window.model.objective.evaluation_cost if limit == "WHATIF_MAX_WORK" else 1
    monkeypatch.setattr(explorer, limit, 20 * cost)  # 30 steps are "long"
    _steps(window, 30)
    _type_lr(qtbot, window, "0.0002")
    old = _gd(1e-3, 30)
    np.testing.assert_allclose(_path(window), old, rtol=1e-12, atol=1e-12)
    assert "apply from step 31" in window.statusBar().currentMessage()
    _steps(window, 1)
    then = np.vstack([old, _gd(2e-4, 1, start=old[-1])[1:]])  # new rate from step 31 only
    np.testing.assert_allclose(_path(window), then, rtol=1e-12, atol=1e-12)


def test_a_running_run_keeps_todays_behaviour(window, qtbot):
    m = window.model
    m.apply_session(_session(1e-3))
    _steps(window, 30)
    window.findChild(QAction, "actionRun").trigger()
    assert m.running
    _type_lr(qtbot, window, "0.0002")  # the edit reaches a running run
    assert "running" in window.statusBar().currentMessage()
    assert m.running
    m.pause()
    path = _path(window)
    np.testing.assert_allclose(path[:31], _gd(1e-3, 30), rtol=1e-12, atol=1e-12)
