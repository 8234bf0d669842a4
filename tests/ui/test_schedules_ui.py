"""The run editor's schedule picker and form, and the LR tab, used as a person does:
keys on the picker, typed values + Enter, clicks on check boxes and tabs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStyle,
    QStyleOptionButton,
    QTabBar,
)

from gd_explorer.core.optim.schedules import SCHEDULES, make_schedule
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session
from gd_explorer.ui.widgets import NumberEdit

WIDGET = {"int": QSpinBox, "float": NumberEdit, "bool": QCheckBox, "choice": QComboBox,
          "ints": QLineEdit}


def _session(optimizer="sgd", hyper=None):
    return Session(problem=ProblemSpec(kind="function", function="rosenbrock"),
                   runs=(RunSpec(optimizer=optimizer, lr=1e-3, hyper=hyper or {}),),
                   start=(-1.5, 2.0), max_steps=100_000, tol=0.0)


def _picker(window) -> QComboBox:
    return window.findChild(QComboBox, "schedulePicker")


def _pick(qtbot, window, name: str) -> None:
    """Choose ``name`` with the keyboard: Home, then Down to it (each key activates)."""
    picker = _picker(window)
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Home)
    for _ in range(picker.findData(name)):
        qtbot.keyClick(picker, Qt.Key.Key_Down)
    assert picker.currentData() == name


def _steps(window, n: int) -> None:
    step = window.findChild(QAction, "actionStep")
    for _ in range(n):
        step.trigger()


def _spec(window):
    m = window.model
    return m.run(m.selected_run_id).spec


def _click_box(qtbot, box: QCheckBox) -> None:
    """Click the check box's indicator (an empty label leaves nothing else to hit)."""
    opt = QStyleOptionButton()
    box.initStyleOption(opt)
    rect = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, opt, box)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=rect.center())


def _type(qtbot, widget, text: str) -> None:
    edit = widget.lineEdit() if isinstance(widget, QSpinBox) else widget
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_every_schedule_can_be_picked_edited_and_run(window, qtbot, name):
    window.model.apply_session(_session("sgd", {"momentum": 0.5}))
    _pick(qtbot, window, name)
    spec = _spec(window)
    assert spec.schedule == name
    cls = SCHEDULES[name]
    for hp in cls.params:  # a widget of the declared kind, its help as tooltip
        w = window.findChild(WIDGET[hp.kind], f"schedule_{hp.name}")
        assert w is not None, hp.name
        assert hp.help.split(" (")[0][:30] in w.toolTip().replace("&#x27;", "'")
    warm = window.findChild(QSpinBox, "schedule_warmup")
    assert (warm is not None) == cls.allows_warmup
    _steps(window, 12)
    snap = window.model.selected_snapshot()
    assert snap.n == 13 and snap.status == "running"
    if not cls.follows_loss:
        ref = make_schedule(name, spec.lr, **spec.schedule_params)
        assert snap.lr.tolist() == [ref.lr(t) for t in range(13)]
    else:  # the loss fell all along: no reduction yet
        assert snap.lr.tolist() == [spec.lr] * 13
    assert (snap.momentum is not None) == ref_cycles(name)
    # the LR tab shows that rate (a click on its tab)
    bar = window.side_tabs.findChild(QTabBar)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(2).center())
    assert window.side_tabs.currentWidget() is window.lr_view
    window._refresh_text()
    x, y = window.lr_view.rate.item.getData()
    assert len(x) > 0 and np.nanmax(y) == pytest.approx(np.max(snap.lr))
    assert window.lr_view.momentum_widget.isVisibleTo(window) == ref_cycles(name)


def ref_cycles(name):
    return name in ("cyclic", "onecycle")


def test_the_picker_lists_every_schedule_in_registry_order_with_its_rule(window):
    picker = _picker(window)
    assert [picker.itemData(i) for i in range(picker.count())] == list(SCHEDULES)
    for i, cls in enumerate(SCHEDULES.values()):
        assert picker.itemText(i) == cls.title
        assert cls.rule_text in picker.itemData(i, Qt.ItemDataRole.ToolTipRole)


def test_typed_values_reach_the_run_and_bad_ones_are_explained(window, qtbot):
    window.model.apply_session(_session("adam"))
    _pick(qtbot, window, "multistep")
    milestones = window.findChild(QLineEdit, "schedule_milestones")
    _type(qtbot, milestones, "5,9")
    assert _spec(window).schedule_params["milestones"] == (5, 9)
    _type(qtbot, milestones, "9,5")
    error = window.findChild(QLabel, "runError")
    assert "increasing order" in error.text()
    assert _spec(window).schedule_params["milestones"] == (5, 9)  # unchanged
    _pick(qtbot, window, "cosine")
    warm = window.findChild(QSpinBox, "schedule_warmup")
    _type(qtbot, warm, "7")
    assert _spec(window).warmup == 7
    t_max = window.findChild(QSpinBox, "schedule_t_max")
    _type(qtbot, t_max, "40")
    assert _spec(window).schedule_params["t_max"] == 40
    assert t_max.maximum() == SCHEDULES["cosine"].params[0].high  # the declared range
    _steps(window, 10)
    lr = window.model.selected_snapshot().lr
    ref = make_schedule("cosine", 1e-3, warmup=7, t_max=40)
    assert lr.tolist() == [ref.lr(t) for t in range(11)]
    _pick(qtbot, window, "onecycle")  # a warm-up cannot precede a one-cycle schedule
    assert _spec(window).warmup == 0
    assert window.findChild(QSpinBox, "schedule_warmup") is None


def test_choices_and_flags_by_keys_and_clicks(window, qtbot):
    window.model.apply_session(_session("sgd", {"momentum": 0.9}))
    _pick(qtbot, window, "cyclic")
    mode = window.findChild(QComboBox, "schedule_mode")
    mode.setFocus()
    qtbot.keyClick(mode, Qt.Key.Key_Down)
    assert _spec(window).schedule_params["mode"] == "triangular2"
    box = window.findChild(QCheckBox, "schedule_cycle_momentum")
    assert box.isChecked()
    _click_box(qtbot, box)
    assert _spec(window).schedule_params["cycle_momentum"] is False
    _steps(window, 3)
    assert window.model.selected_snapshot().momentum is None


def test_cycling_a_momentum_adagrad_lacks_is_switched_off_with_a_note(window, qtbot):
    window.model.apply_session(_session("adagrad"))
    _pick(qtbot, window, "onecycle")
    spec = _spec(window)
    assert spec.schedule == "onecycle" and spec.schedule_params == {"cycle_momentum": False}
    note = window.findChild(QLabel, "runError").text()
    assert "adagrad has no momentum or betas" in note
    box = window.findChild(QCheckBox, "schedule_cycle_momentum")
    assert not box.isChecked()
    _click_box(qtbot, box)
    assert "cycle_momentum needs an optimizer with momentum or betas" in \
        window.findChild(QLabel, "runError").text()
    assert _spec(window).schedule_params == {"cycle_momentum": False}


def test_adam_beta1_is_plotted_under_the_rate(window, qtbot):
    window.model.apply_session(_session("adam"))
    _pick(qtbot, window, "onecycle")
    _steps(window, 20)
    snap = window.model.selected_snapshot()
    assert snap.momentum_name == "beta1"
    ref = make_schedule("onecycle", 1e-3)
    assert snap.momentum.tolist() == [ref.momentum(t) for t in range(21)]
    assert snap.hyper["betas"] == (ref.momentum(20), 0.999)  # what the next update uses
    window.side_tabs.setCurrentWidget(window.lr_view)
    window._refresh_text()
    _, y = window.lr_view.momentum.item.getData()
    assert np.nanmax(y) == pytest.approx(0.95) and len(y) > 0
    assert window.lr_view.momentum_item.getAxis("left").labelText == "beta1"


def test_lr_view_keeps_its_items_and_finite_ranges(qtbot):
    from gd_explorer.model.snapshot import RunSnapshot
    from gd_explorer.ui.views.lr import LRView

    view = LRView()
    qtbot.addWidget(view)
    item = view.rate.item

    def snap(run_id, lr, momentum=None):
        n = len(lr)
        return RunSnapshot.make(run_id, "<b>run</b>", "#1f77b4", True, np.zeros((n, 2)),
                                np.zeros(n), np.zeros((n, 2)), np.asarray(lr, dtype=float),
                                momentum=momentum, momentum_name="momentum" if momentum
                                is not None else "")

    view.set_runs([snap(1, [0.1, np.nan, np.inf, 1e-3])], None, 1)
    x0, x1, y0, y1 = view._fit_rect()
    assert all(np.isfinite([x0, x1, y0, y1])) and y0 < 1e-3 and 0.1 < y1 < 0.2
    assert "&lt;b&gt;" in view.plot_item.titleLabel.text  # a label is text, not markup
    assert not view.momentum_widget.isVisibleTo(view)
    view.set_runs([snap(1, [0.1, 0.2]), snap(2, [0.5, 0.4, 0.3], np.array([0.9, 0.8, 0.85]))],
                  2, 2)
    assert view.rate.item is item  # made once
    assert view.momentum_widget.isVisibleTo(view)
    assert view.cursor_line.isVisible() and view.cursor_line.value() == 2
    assert view._fit_rect()[3] < 0.6
    view.set_runs([], None, None)
    assert view._fit_rect() is None and len(item.getData()[0] if item.getData()[0] is not None
                                             else []) == 0
