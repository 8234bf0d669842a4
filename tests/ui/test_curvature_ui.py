"""The curvature lab as a user meets it: the step log's Curvature section, the ellipse on
the surface, the edge on the lr slider and the Sharpness tab."""

import html
import math

import numpy as np
import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLineEdit

from gd_explorer.core.optim.optimizers import OPTIMIZERS


@pytest.fixture
def shown_window(qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.speed_slider.setValue(w.speed_slider.maximum())
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _action(w, name) -> QAction:
    return next(a for a in w.findChildren(QAction) if a.objectName() == name)


def _pick_function(w, name):
    picker = w.problem_panel.function_picker
    i = picker.findData(name)
    picker.setCurrentIndex(i)
    picker.activated.emit(i)  # as a user's pick
    assert w.model.objective.name == name


def _plain_gd(w, qtbot, lr):
    """Make the selected run plain SGD at ``lr`` through the run editor."""
    panel = w.runs_panel
    i = panel.optimizer_picker.findData("sgd")
    panel.optimizer_picker.setCurrentIndex(i)
    panel.optimizer_picker.activated.emit(i)
    edit = panel.lr_edit.findChild(QLineEdit, "learningRate")
    edit.setText(repr(lr))
    edit.editingFinished.emit()
    mom = panel.findChild(QLineEdit, "hyper_momentum")
    if mom is not None:
        mom.setText("0")
        mom.editingFinished.emit()
    spec = w.model.run(w.model.selected_run_id).spec
    assert spec.optimizer == "sgd" and spec.lr == lr and not spec.hyper.get("momentum"), spec


def _step(w, qtbot, times=1):
    m = w.model
    before = m.selected_snapshot().n
    for _ in range(times):
        _action(w, "actionStep").trigger()
    qtbot.waitUntil(lambda: m.selected_snapshot().n >= before + times, timeout=10_000)
    w._refresh_text()


def test_step_log_shows_the_curvature_and_the_edge(shown_window, qtbot):
    w = shown_window
    _pick_function(w, "ill-conditioned")
    _plain_gd(w, qtbot, 0.09)
    _step(w, qtbot)
    text = w.step_log.toPlainText()
    assert "Curvature at p_k" in text
    assert "eigenvalues λ = 2, 20" in text
    assert "positive definite; condition number κ = λmax/λmin = 10" in text
    assert "stable here for lr < 0.1 (lr = 0.09: stable)" in text
    # a saddle: the rate is bounded along the curving-up direction only, said so
    _pick_function(w, "saddle")
    _step(w, qtbot)
    text = w.step_log.toPlainText()
    assert "eigenvalues λ = -2, 2" in text and "indefinite: a saddle" in text
    assert ("stable here for lr < 1 (lr = 0.09: stable); not positive definite: along "
            "negative curvature no rate is stable") in text


def test_dataset_step_log_says_what_the_hessian_is(shown_window, qtbot):
    from gd_explorer.core.session.specs import ProblemSpec

    w = shown_window
    w.model.set_problem(ProblemSpec(kind="dataset", dataset="noisy-line", loss="mae"))
    _step(w, qtbot)
    text = w.step_log.toPlainText()
    assert "Hessian zero almost everywhere" in text and "singular" in text


def test_curvature_ellipse_axes_on_the_ill_conditioned_bowl(shown_window, qtbot):
    w = shown_window
    _pick_function(w, "ill-conditioned")
    _plain_gd(w, qtbot, 0.09)
    _step(w, qtbot)
    view = w.surface_view
    assert not view.curvature_curve.isVisible()
    _action(w, "actionCurvature").trigger()
    assert w.action_curvature.isChecked() and view.curvature_kind == "ellipse"
    x, y = view.curvature_curve.getData()
    p = w.model.selected_snapshot().params[-1]
    half_x = np.max(np.abs(x - p[0]))
    half_y = np.max(np.abs(y - p[1]))
    assert half_x / half_y == pytest.approx(math.sqrt(10), rel=1e-3)  # ∝ 1/√λ: √(20/2)
    assert (x.max() + x.min()) / 2 == pytest.approx(p[0], abs=1e-9)  # centred on the point
    assert (y.max() + y.min()) / 2 == pytest.approx(p[1], abs=1e-9)
    assert "κ = 10" in view.curvature_label.toPlainText()
    _pick_function(w, "saddle")
    _step(w, qtbot)
    w._on_progressed()
    assert view.curvature_kind == "hyperbola"
    assert "not positive definite" in view.curvature_label.toPlainText()
    _action(w, "actionCurvature").trigger()
    assert not view.curvature_curve.isVisible() and not view.curvature_label.isVisible()


def test_lr_slider_marks_the_selected_runs_edge(shown_window, qtbot):
    w = shown_window
    _pick_function(w, "ill-conditioned")
    _plain_gd(w, qtbot, 0.09)
    _step(w, qtbot)
    lr_edit = w.runs_panel.lr_edit
    slider = lr_edit.slider
    assert lr_edit.edge() == pytest.approx(0.1)
    assert slider.mark() == round(math.log10(0.1) * lr_edit.TICKS_PER_DECADE)
    # the mark sits where the handle would be at that value: between the handle at
    # 0.09 (now) and the slider's right end, at the fraction of the range 0.1 is at
    frac = (slider.mark() - slider.minimum()) / (slider.maximum() - slider.minimum())
    x = slider.mark_x()
    assert 0 < x < slider.width()
    assert abs(x / slider.width() - frac) < 0.1
    assert "stable here for lr < 0.1" in slider.toolTip() and "red mark" in slider.toolTip()
    # an optimizer without a known edge: no mark
    panel = w.runs_panel
    i = panel.optimizer_picker.findData("lion")
    panel.optimizer_picker.setCurrentIndex(i)
    panel.optimizer_picker.activated.emit(i)
    _step(w, qtbot)
    assert slider.mark() is None and "unknown" in slider.toolTip()
    assert OPTIMIZERS["lion"].stability_edge({}, np.eye(2), {"step": 1}) is None


def test_sharpness_tab_shows_lambda_max_20_and_2_over_lr(shown_window, qtbot):
    w = shown_window
    _pick_function(w, "ill-conditioned")
    _plain_gd(w, qtbot, 0.09)
    _step(w, qtbot, 5)
    w.views.show_tab("sharpness")
    w._refresh_slow()
    view = w.views.view("sharpness")
    sel = next(r for r in view.data if r.run_id == w.model.selected_run_id)
    assert len(sel.steps) == w.model.selected_snapshot().n
    np.testing.assert_allclose(sel.lmax, 20.0)
    assert sel.lr_edge == pytest.approx(2 / 0.09)
    items = view._runs[sel.run_id]
    assert items.gd_line.value() == pytest.approx(math.log10(2 / 0.09))  # log-y axis
    xs, ys = items.curve.getData()
    np.testing.assert_allclose(ys, math.log10(20.0))


def test_step_log_lists_eigenvalues_for_more_than_two_parameters():
    from gd_explorer.core.engine.descent import run_descent
    from gd_explorer.core.optim.optimizers import make_optimizer
    from gd_explorer.model.curvature import curvature_at
    from gd_explorer.model.snapshot import RunSnapshot
    from gd_explorer.ui.views.steplog import StepLogView
    from tests.core.hessian_kind import HessianBowl

    f = HessianBowl(np.diag([1.0, 2.0, 4.0, 8.0, 16.0]))
    r = run_descent(f, make_optimizer("sgd", lr=0.1), np.ones(5), steps=3)
    snap = RunSnapshot.make(1, "five", "#ffffff", True, r.params, r.loss, r.grad,
                            np.full(len(r.loss), 0.1), optimizer="sgd", optimizer_title="SGD",
                            hyper={"momentum": 0.0})
    text = html.unescape(StepLogView.entry_text(snap, None, f.names, False, None,
                                                curvature_at(f, snap, 3)))
    assert "eigenvalues λ = 1, 2, 4, 8, 16" in text
    assert "H = [" not in text  # the matrix itself only up to 3 parameters
    assert "condition number κ = λmax/λmin = 16" in text
    assert "stable here for lr < 0.125 (lr = 0.1: stable)" in text


def test_curvature_toggle_is_remembered(qapp, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gd_explorer.ui.main_window import MainWindow

    def settings():
        return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)

    w = MainWindow(settings=settings(), restore=True)
    qtbot.addWidget(w)
    assert not w.action_curvature.isChecked()
    w.actions_by_name["actionCurvature"].trigger()
    w.close()
    w2 = MainWindow(settings=settings(), restore=True)
    qtbot.addWidget(w2)
    w2.show()
    qtbot.waitExposed(w2)
    w2._on_progressed()
    assert w2.action_curvature.isChecked() and w2.surface_view._show_curvature
    assert w2.surface_view.curvature_kind != "none"
    w2.close()


def test_edge_of_stability_preset_hovers_at_2_over_lr_in_the_sharpness_tab(shown_window,
                                                                            qtbot):
    """The preset from the Presets menu, run to the end: the Sharpness tab (Lanczos on a
    321-parameter net) shows λmax rising to the dashed 2/lr = 40 and staying there; the
    step log gives λmax and λmin by Lanczos instead of 321 eigenvalues."""
    w = shown_window
    w.findChild(QAction, "preset_edge-of-stability").trigger()
    assert w.model.objective.dim == 321
    w.views.show_tab("sharpness")
    m = w.model
    with qtbot.waitSignal(m.running_changed, timeout=60_000,
                          check_params_cb=lambda running: running is False):
        _action(w, "actionRun").trigger()
    assert m.selected_snapshot().n == 4001
    view = w.views.view("sharpness")
    # the view fills in over several refreshes (a budget of Lanczos rows a call)
    qtbot.waitUntil(lambda: len(view.data) == 1 and view.data[0].complete
                    and view.data[0].steps[-1] == 4000, timeout=60_000)
    (run,) = view.data
    assert len(run.steps) <= 401
    assert run.lr_edge == pytest.approx(40.0)
    assert run.lmax[0] == pytest.approx(22.0, abs=0.5)
    late = run.lmax[run.steps >= 2000]
    np.testing.assert_allclose(late, 40.0, rtol=0.01)
    items = view._runs[run.run_id]
    assert items.gd_line.isVisible() and items.gd_line.value() == pytest.approx(math.log10(40))
    xs, ys = items.curve.getData()
    np.testing.assert_allclose(10 ** ys[xs >= 2000], late)
    qtbot.waitUntil(lambda: "by Lanczos" in w.step_log.toPlainText(), timeout=10_000)
    text = w.step_log.toPlainText()
    assert "λmax ≈ 40" in text and "λmin ≈" in text and "eigenvalues λ =" not in text
    assert "by Lanczos: 20 Hessian-vector products, no 321×321 Hessian" in text
    assert "negative curvature along some direction (λmin < 0)" in text
    # at the edge: λmax a hair above 2/lr, so the edge is a hair below lr = 0.05
    assert "stable here for lr < 0.049" in text and "unstable: above the edge" in text
