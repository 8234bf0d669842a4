"""A problem kind registered from outside the package shows up in the problem panel
(a radio button from the registry; an empty page: it has no settings of its own) and
works in the window without any edit of the UI."""

import os

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QRadioButton

from gd_explorer.core.problems.kinds import COMMON_VIEWS, register_kind, unregister_kind
from gd_explorer.ui.panels import PROBLEM_PAGES, DatasetPage, FunctionPage, NetsPage, ProblemPage
from tests.core.hessian_kind import DEFAULT_HESSIAN, HessianKind


def test_each_built_in_kind_has_its_page(window):
    assert PROBLEM_PAGES == {"function": FunctionPage, "dataset": DatasetPage, "nets": NetsPage}
    panel = window.problem_panel
    assert [type(p) for p in panel.pages.values()][:2] == [FunctionPage, DatasetPage]
    assert panel.function_picker is panel.pages["function"].function_picker
    for name in ("function", "dataset"):
        radio = panel.findChild(QRadioButton, f"{name}Radio")
        assert radio is not None and radio.toolTip()


def test_a_registered_kind_gets_a_radio_and_runs_in_the_window(qapp, qtbot):
    from gd_explorer.ui.main_window import MainWindow

    register_kind(HessianKind())
    try:
        w = MainWindow()
        qtbot.addWidget(w)
        panel = w.problem_panel
        radio = panel.findChild(QRadioButton, "quadraticRadio")
        assert radio is not None and radio.text() == "Quadratic" and radio.toolTip()
        assert type(panel.pages["quadratic"]) is ProblemPage
        qtbot.mouseClick(radio, Qt.MouseButton.LeftButton)
        m = w.model
        assert m.problem.kind == "quadratic"
        assert m.problem.get("hessian") == DEFAULT_HESSIAN
        assert m.views == COMMON_VIEWS - {"curve"}
        assert m.equal_aspect
        assert not w.main_tabs.isTabVisible(3)  # no Fit tab
        xs, ys, z, names = m.surface
        assert names == ("x", "y") and np.isfinite(z).all()
        w.findChild(QAction, "actionStep").trigger()
        snap = m.selected_snapshot()
        assert snap.n == 2 and snap.loss[1] < snap.loss[0]
        w.close()
    finally:
        unregister_kind("quadratic")


def test_the_nets_kind_opens_and_runs_in_the_window(qapp, qtbot, tmp_path):
    """Its own page (tests/ui/test_nets_page.py); picking it must work, the surface shows
    two of its parameters, a step descends."""
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    radio = w.problem_panel.findChild(QRadioButton, "netsRadio")
    assert radio is not None and radio.text() == "Neural network" and radio.toolTip()
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton)
    m = w.model
    assert m.problem.kind == "nets"
    assert type(w.problem_panel.pages["nets"]) is NetsPage
    qtbot.waitUntil(lambda: m.surface is not None and m.surface[3][0] == "w1_0_0"
                    and m.surface[2] is not None, timeout=20_000)  # computed on a thread
    xs, ys, z, names = m.surface
    assert names == ("w1_0_0", "w1_0_1") and np.isfinite(z).all()
    w.findChild(QAction, "actionStep").trigger()
    snap = m.selected_snapshot()
    assert snap.n == 2 and snap.loss[1] < snap.loss[0]
    if os.environ.get("GD_SHOT"):  # look at it: GD_SHOT=1 pytest ... -k nets
        w.resize(1400, 900)
        w.show()
        qtbot.wait(500)
        w.grab().save(str(tmp_path.parent / "nets_window.png"))
    w.close()


def test_a_network_surface_follows_the_run_without_blanking_or_messages(qapp, qtbot):
    """A network's surface is slow (off the window's thread) and its fixed point moves at
    every step: the grid drawn stays until the new one is in, and neither the progress bar
    nor "computing…"/"ready" messages come back at every step (they hid other messages)."""
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    qtbot.mouseClick(w.problem_panel.findChild(QRadioButton, "netsRadio"),
                     Qt.MouseButton.LeftButton)
    m = w.model
    qtbot.waitUntil(lambda: m.surface is not None and m.surface[2] is not None, timeout=20_000)
    first = m.surface[2]
    grids, messages, progress = [], [], []
    m.surface_changed.connect(lambda: grids.append(m.surface[2]))
    m.message.connect(messages.append)
    m.surface_progress.connect(progress.append)
    for _ in range(3):
        w.findChild(QAction, "actionStep").trigger()
        assert m.surface[2] is not None  # the old grid stays drawn meanwhile
    qtbot.waitUntil(lambda: any(g is not None and g is not first for g in grids),
                    timeout=20_000)
    assert all(g is not None for g in grids)
    assert not [t for t in messages if "surface" in t], messages
    assert all(v >= 1.0 for v in progress) and not w.surface_progress.isVisibleTo(w)
    w.close()

