"""The network page and the start table, used as a user does: pick, type, press Enter,
double-click a cell; the model's problem changes, the runs restart from the new start,
refusals are shown in words."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableView,
)

from gd_explorer.core.problems.nets import make_network
from gd_explorer.core.session.presets import PRESETS
from gd_explorer.ui.panels import NetsPage


def _type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text) if text else qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def _pick(combo: QComboBox, data) -> None:
    i = combo.findData(data)
    assert i >= 0, data
    combo.setCurrentIndex(i)
    combo.activated.emit(i)  # as a user's pick


def _open_nets(qtbot, w):
    radio = w.problem_panel.findChild(QRadioButton, "netsRadio")
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton)
    assert w.model.problem.kind == "nets"
    return w.problem_panel.pages["nets"]


def _step(w) -> None:
    w.findChild(QAction, "actionStep").trigger()


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _info(w) -> str:
    """The page's info line as the user reads it (rich text, tags dropped)."""
    return _plain(w.problem_panel.findChild(QLabel, "netInfo").text())


def _field(w, name) -> QLineEdit:
    return w.problem_panel.findChild(QLineEdit, name)


def test_the_page_shows_the_network_and_every_control_is_named_and_explained(window, qtbot):
    page = _open_nets(qtbot, window)
    assert isinstance(page, NetsPage)
    names = ("netDatasetPicker", "netModelPicker", "layersEdit", "activationPicker",
             "netLossPicker", "net_noise", "net_samples", "net_test_fraction",
             "net_data_seed", "net_init_seed", "net_batch_size")
    for name in names:
        widget = page.findChild(QComboBox, name) or page.findChild(QLineEdit, name)
        assert widget is not None and widget.toolTip(), name
    assert page.net_dataset_picker.currentText() == "moons (classification)"
    assert page.layers_edit.text() == "2-8-8-1" and page.layers_edit.isEnabled()
    assert _field(window, "net_noise").text() == "" and _field(window, "net_samples").text() == "200"
    info = _info(window)
    assert "200 points" in info and "2-D classification" in info and "105 parameters" in info


def test_typed_layers_rebuild_the_network_and_restart_the_runs(window, qtbot):
    _open_nets(qtbot, window)
    m = window.model
    _step(window)
    assert m.selected_snapshot().n == 2
    _type_into(qtbot, window.problem_panel.layers_edit, "2-16-16-1")
    assert m.problem.get("layers") == "2-16-16-1"
    assert m.dim == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337
    assert m.selected_snapshot().n == 1  # restarted at the new start
    np.testing.assert_array_equal(m.start, make_network("mlp", "2-16-16-1").init(0))
    _step(window)
    snap = m.selected_snapshot()
    assert snap.n == 2 and snap.loss[1] < snap.loss[0]


@pytest.mark.parametrize(("text", "words"), [
    ("2-8-x-1", "layers must be sizes joined by '-'"),
    ("2-8-2", "the last layer must have one output"),
    ("3-8-1", "has 2-D inputs; the network takes 3"),
    ("2-200-200-1", "at most 20,000 parameters"),
])
def test_bad_layers_are_refused_in_words_and_nothing_changes(window, qtbot, text, words):
    _open_nets(qtbot, window)
    before = window.model.problem
    _type_into(qtbot, window.problem_panel.layers_edit, text)
    assert window.model.problem == before
    assert words in _info(window)
    assert window.problem_panel.layers_edit.text() == "2-8-8-1"  # the model's value back


@pytest.mark.parametrize(("name", "text", "value", "words"), [
    ("net_samples", "60", 60, None),
    ("net_samples", "1", None, "Samples: must be between 2 and 100,000, got 1"),
    ("net_samples", "2.5", None, "Samples: must be a whole number, got 2.5"),
    ("net_noise", "0.3", 0.3, None),
    ("net_noise", "", None, None),  # blank: the dataset's default
    ("net_noise", "-1", None, "Noise: must be zero or positive, got -1.0"),
    ("net_noise", "lots", None, "Noise: must be a number, got 'lots'"),
    ("net_test_fraction", "0.25", 0.25, None),
    ("net_test_fraction", "1", None, "Test fraction: must be below 1, got 1.0"),
    ("net_data_seed", "7", 7, None),
    ("net_init_seed", "3", 3, None),
    ("net_init_seed", "-3", None, "Init seed: must be between 0"),
    ("net_batch_size", "16", 16, None),
    ("net_batch_size", "0", None, "Batch size: must be between 1"),
])
def test_typed_fields_go_through_the_kinds_checks(window, qtbot, name, text, value, words):
    _open_nets(qtbot, window)
    m = window.model
    field = name.removeprefix("net_") if name != "net_batch_size" else name
    if name == "net_noise" and text == "":
        _type_into(qtbot, _field(window, name), "0.3")
    before = m.problem
    _type_into(qtbot, _field(window, name), text)
    if words is None:
        assert m.problem.get(field) == value
        assert "must" not in _info(window)
    else:
        assert m.problem == before
        assert words in _info(window)
        assert "Traceback" not in _info(window)


def test_a_test_split_and_a_batch_size_reach_the_runs(window, qtbot):
    _open_nets(qtbot, window)
    m = window.model
    _type_into(qtbot, _field(window, "net_test_fraction"), "0.25")
    assert "200 points (150 train, 50 test)" in _info(window)
    _type_into(qtbot, _field(window, "net_batch_size"), "10")
    assert m.objective.samples == 150
    _step(window)
    snap = m.selected_snapshot()
    # a mini-batch step: the same as the core descent with batch size 10
    from gd_explorer.core.engine.descent import run_descent

    ref = run_descent(m.objective, m.runs[0].spec.build(False)[0], m.start, steps=1,
                      batch_size=10, seed=m.problem.seed)
    np.testing.assert_allclose(snap.params[1], ref.params[1], rtol=0, atol=0)


def test_a_regression_dataset_switches_inputs_and_loss_and_says_so(window, qtbot):
    page = _open_nets(qtbot, window)
    m = window.model
    _pick(page.net_dataset_picker, "sine")
    p = m.problem
    assert p.get("net_dataset") == "sine" and p.get("layers") == "1-8-8-1"
    assert p.get("net_loss") == "mse"
    info = _info(window)
    assert "sine has 1-D inputs: layers 1-8-8-1" in info
    assert "cross-entropy needs class labels: loss set to mse" in info
    # cross-entropy on regression targets is refused in words
    _pick(page.net_loss_picker, "cross-entropy")
    assert m.problem.get("net_loss") == "mse"
    assert "cross-entropy needs class labels" in _info(window)
    assert page.net_loss_picker.currentData() == "mse"


def test_logistic_regression_disables_the_layers_and_has_three_parameters(window, qtbot):
    page = _open_nets(qtbot, window)
    m = window.model
    _pick(page.net_model_picker, "logistic")
    assert m.names == ("w1", "w2", "b")
    assert not page.layers_edit.isEnabled() and page.layers_edit.text() == "2-1"
    # three parameters: the start is one field each, as for a function
    assert not window.problem_panel.start_table.isVisibleTo(window.problem_panel)
    assert [e.objectName() for e in window.problem_panel.start_edits] == [
        "start_w1", "start_w2", "start_b"]
    _pick(page.net_dataset_picker, "parabola")  # 1-D: logistic cannot take it
    assert m.problem.get("net_model") == "mlp" and m.problem.get("layers") == "1-8-8-1"
    assert "logistic regression takes 2-D inputs: model set to mlp" in _info(window)


# ------------------------------------------------------------------ the start table
def _table(w) -> QTableView:
    return w.problem_panel.findChild(QTableView, "startTable")


def _cell(table: QTableView, name: str):
    model = table.model()
    for row in range(model.rowCount()):
        if model.index(row, 0).data() == name:
            return model.index(row, 1)
    raise AssertionError(name)


def _edit_cell(qtbot, panel, name: str, text: str) -> None:
    """Filter the table down to ``name``, click its value, press F2, type, press Enter."""
    table = panel.findChild(QTableView, "startTable")
    _type_into(qtbot, panel.findChild(QLineEdit, "startFilter"), name)
    index = _cell(table, name)
    rect = table.visualRect(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(table, Qt.Key.Key_F2)
    def editors():  # a closed editor lingers until its deleteLater runs
        return [e for e in table.viewport().findChildren(QLineEdit) if e.isVisible()]

    qtbot.waitUntil(lambda: len(editors()) == 1)
    editor = editors()[0]
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(50)  # the delegate commits in a queued call


def test_many_parameters_get_a_table_with_filter_summary_and_reset(window, qtbot):
    _open_nets(qtbot, window)
    window.show()
    qtbot.waitExposed(window)
    panel, m = window.problem_panel, window.model
    _type_into(qtbot, panel.layers_edit, "2-16-16-1")
    table = _table(window)
    assert table.isVisible() and table.model().rowCount() == 337
    assert not panel.start_edits  # no field per parameter
    summary = panel.findChild(QLabel, "startSummary").text()
    assert summary == "337 parameters · initialised by seed 0 (Xavier uniform)"
    # filter: layer 3's weights and bias
    _type_into(qtbot, panel.findChild(QLineEdit, "startFilter"), "w3_")
    assert table.model().rowCount() == 16
    _type_into(qtbot, panel.findChild(QLineEdit, "startFilter"), "")
    assert table.model().rowCount() == 337
    # edit one value: the start changes, the runs restart from it
    _step(window)
    i = m.names.index("b2_5")
    _edit_cell(qtbot, panel, "b2_5", "0.75")
    assert m.start[i] == 0.75 and m.selected_snapshot().n == 1
    assert _cell(table, "b2_5").data() == "0.75"
    # bad text is refused in words, nothing changes
    _edit_cell(qtbot, panel, "b2_5", "1,5")
    assert m.start[i] == 0.75
    assert "use a point for decimals" in _plain(panel.findChild(QLabel, "startError").text())
    # reset to the initialisation
    qtbot.mouseClick(panel.findChild(QPushButton, "resetStartButton"), Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(m.start, make_network("mlp", "2-16-16-1").init(0))
    assert _cell(table, "b2_5").data() == "0.0"
    # the summary follows the init seed and the activation's scheme
    _type_into(qtbot, _field(window, "net_init_seed"), "4")
    _pick(panel.pages["nets"].activation_picker, "relu")
    assert panel.findChild(QLabel, "startSummary").text() == (
        "337 parameters · initialised by seed 4 (He normal, output layer Xavier uniform)")
    np.testing.assert_array_equal(m.start, make_network("mlp", "2-16-16-1", "relu").init(4))



# ------------------------------------------------------------------ presets
NET_PRESETS = [k for k, p in PRESETS.items() if p.category == "Networks"]


def test_five_network_presets():
    assert {"nets-logistic-blobs", "nets-xor-hidden", "nets-spiral-depth",
            "nets-adam-sgd-moons", "nets-overfitting"} <= set(NET_PRESETS)


@pytest.mark.parametrize("key", NET_PRESETS)
def test_network_presets_open_from_the_menu_and_save_and_reopen(window, qtbot, monkeypatch,
                                                                tmp_path, key):
    preset = PRESETS[key]
    window.findChild(QAction, f"preset_{key}").trigger()
    m, page = window.model, window.problem_panel.pages["nets"]
    assert m.problem == preset.session.problem and m.title == preset.title
    assert page.net_dataset_picker.currentData() == m.problem.get("net_dataset")
    assert page.layers_edit.text() == (m.problem.get("layers")
                                       if m.problem.get("net_model") == "mlp" else "2-1")
    assert f"{m.dim:,} parameters" in _info(window)
    _step(window)
    snap = m.selected_snapshot()
    assert snap.n == 2 and np.isfinite(snap.loss).all()
    # File > Save session as..., then File > Open session...: the same session back
    path = tmp_path / f"{key}.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.findChild(QAction, "actionSaveSessionAs").trigger()
    assert path.exists()
    saved = m.session()
    other = NET_PRESETS[1] if key == NET_PRESETS[0] else NET_PRESETS[0]
    window.findChild(QAction, f"preset_{other}").trigger()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.findChild(QAction, "actionOpenSession").trigger()
    assert m.session() == saved and m.problem == preset.session.problem
    assert page.net_dataset_picker.currentData() == preset.session.problem.get("net_dataset")


def test_a_networks_surface_is_computed_off_the_windows_thread(window, qtbot):
    """Each grid point is a forward pass over the data: the window does not wait for the
    surface (it used to, 1.4 s for 2-16-16-1 and 5.8 s for 2-32-32-32-1)."""
    m = window.model
    _open_nets(qtbot, window)
    qtbot.waitUntil(lambda: m.surface is not None and m.surface[2] is not None, timeout=30_000)
    _type_into(qtbot, window.problem_panel.layers_edit, "2-16-16-1")
    xs, ys, z, names = m.surface
    assert z is None and names == ("w1_0_0", "w1_0_1")  # computing, the window answers
    qtbot.waitUntil(lambda: m.surface[2] is not None, timeout=30_000)
    assert np.isfinite(m.surface[2]).all()
    # the grid is the objective's loss with the other parameters at the start
    i, j = 7, 11
    p = m.start.copy()
    p[0], p[1] = m.surface[0][j], m.surface[1][i]
    assert m.surface[2][i, j] == pytest.approx(m.objective.values(p[None, :])[0], rel=1e-12)
