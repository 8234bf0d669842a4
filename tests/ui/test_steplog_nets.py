"""A network's step log and CSV export, used as a student uses them: pick "Neural
network", press Step, read the Step log tab, click its "list all" link, export from the
File menu with and without "Export scalar columns only".

References are independent: layer columns are worked out here from the layer sizes, norms
with ``numpy.linalg.norm`` of the recorded rows."""

import os
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QRadioButton

from gd_explorer.core.io.export import read_trajectory_csv

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|—")


@pytest.fixture
def nets_window(qapp, qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    qtbot.mouseClick(w.problem_panel.findChild(QRadioButton, "netsRadio"),
                     Qt.MouseButton.LeftButton)
    assert w.model.problem.kind == "nets" and w.model.dim > 12
    yield w
    w.close()


def _trigger(w, name: str) -> None:
    w.findChild(QAction, name).trigger()


def _layer_columns(sizes) -> list[range]:
    """Each layer's weights (out × in, row-major) then biases, laid end to end."""
    out, at = [], 0
    for i, o in zip(sizes[:-1], sizes[1:]):
        out.append(range(at, at + o * i + o))
        at += o * i + o
    return out


def _layer_table(text: str) -> dict[str, list[float | None]]:
    """The "Per layer" section as ``{title: [|p|, |g|, |Δp|, max |g_i|]}`` (None for —),
    whichever layout the width gave (one row per layer, or a block under each title)."""
    section = re.split(r"\n\s*\n", text.split("Per layer", 1)[1], maxsplit=1)[0]
    titles = re.findall(r"layer \d+ \(\d+→\d+\)", section)
    parts = re.split(r"layer \d+ \(\d+→\d+\)", section)[1:]
    table = {}
    for title, part in zip(titles, parts):
        nums = NUMBER.findall(part)
        table[title] = [None if t == "—" else float(t) for t in nums]
    return table


def _value_after(text: str, label: str) -> float:
    m = re.search(re.escape(label) + r"\s*=\s*(" + NUMBER.pattern + ")", text)
    assert m, (label, text[:2000])
    return float(m.group(1))


def test_a_network_step_log_gives_norms_and_a_table_per_layer(nets_window, qtbot):
    w = nets_window
    m = w.model
    for _ in range(5):
        _trigger(w, "actionStep")
    w.views.show_tab("steplog")
    w.timeline.setFocus()
    QTest.keyClick(w.timeline, Qt.Key.Key_Left)  # back one row: the update leaving it is known
    log = w.step_log
    qtbot.waitUntil(lambda: "Step k = 4 " in log.plain_text(), timeout=5000)
    text = log.plain_text()
    snap = m.selected_snapshot()
    p, g = snap.params[4], snap.grad[4]
    dp = snap.params[5] - p
    d = m.dim
    # no coordinate by coordinate: a summary fits on a screen or two
    assert "∂f/∂" not in text and len(text.splitlines()) < 70
    assert f"{d} parameters, summarised by norm" in text
    np.testing.assert_allclose(_value_after(text, "f(p_k)"), snap.loss[4], rtol=1e-5)
    np.testing.assert_allclose(_value_after(text, "|p_k|"), np.linalg.norm(p), rtol=1e-5)
    np.testing.assert_allclose(_value_after(text, "|g_k|"), np.linalg.norm(g), rtol=1e-5)
    np.testing.assert_allclose(_value_after(text, "|Δp|"), np.linalg.norm(dp), rtol=1e-5)
    i = int(np.argmax(np.abs(g)))  # the gradient's largest coordinate, named
    largest = text.split("|g_k|", 1)[1].split("|Δp|", 1)[0]
    assert f" at {m.names[i]})" in largest
    np.testing.assert_allclose(float(largest.split("max ")[1].split()[0]), abs(g[i]), rtol=1e-5)
    sizes = m.objective.network.sizes
    table = _layer_table(text)
    assert list(table) == [f"layer {n} ({i}→{o})" for n, (i, o) in
                           enumerate(zip(sizes[:-1], sizes[1:]), 1)]
    for (title, row), cols in zip(table.items(), _layer_columns(sizes)):
        cols = list(cols)
        expected = [np.linalg.norm(p[cols]), np.linalg.norm(g[cols]), np.linalg.norm(dp[cols]),
                    np.max(np.abs(g[cols]))]
        np.testing.assert_allclose(row, expected, rtol=1e-3, err_msg=title)
    # the optimizer's buffers by norm, never a list of numbers
    assert "Optimizer state" in text
    buffers = text.split("Optimizer state", 1)[1]
    assert all(len(NUMBER.findall(line)) <= 4 for line in buffers.splitlines())


def _click_text(view, needle: str, qtbot) -> None:
    """Click the middle of the first occurrence of ``needle`` in a text browser."""
    found = view.document().find(needle)
    assert not found.isNull(), needle
    at = QTextCursor(view.document())
    at.setPosition((found.selectionStart() + found.selectionEnd()) // 2)
    view.setTextCursor(at)
    view.ensureCursorVisible()
    pos = view.cursorRect(at).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_the_list_all_link_lists_every_parameter_and_hides_it_again(nets_window, qtbot):
    w = nets_window
    m = w.model
    for _ in range(3):
        _trigger(w, "actionStep")
    w.views.show_tab("steplog")
    log = w.step_log
    d = m.dim
    qtbot.waitUntil(lambda: f"list all {d}" in log.plain_text(), timeout=5000)
    _click_text(log, f"list all {d}", qtbot)
    qtbot.waitUntil(lambda: f"All {d} parameters" in log.plain_text(), timeout=5000)
    lines = log.plain_text().split(f"All {d} parameters", 1)[1].splitlines()[2:]
    snap = m.selected_snapshot()
    k = snap.n - 1  # the latest row: no update leaves it yet
    rows = {ln.split()[0]: ln.split()[1:] for ln in lines if ln.strip()}
    assert list(rows) == list(m.names)
    listed = np.array([[float(v[0]), float(v[1])] for v in rows.values()])
    np.testing.assert_allclose(listed[:, 0], snap.params[k], rtol=1e-3, atol=1e-12)
    np.testing.assert_allclose(listed[:, 1], snap.grad[k], rtol=1e-3, atol=1e-12)
    assert all(v[2] == "—" for v in rows.values())
    _click_text(log, "hide the list", qtbot)
    qtbot.waitUntil(lambda: f"All {d} parameters" not in log.plain_text(), timeout=5000)
    assert f"list all {d}" in log.plain_text()


def test_file_export_writes_all_parameters_or_the_scalar_columns(nets_window, qtbot, tmp_path,
                                                                  monkeypatch):
    w = nets_window
    m = w.model
    for _ in range(4):
        _trigger(w, "actionStep")
    target = {"path": ""}
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (target["path"], "")))
    snap = m.selected_snapshot()
    n, d = snap.n, m.dim
    said = []  # what the status bar showed (the network's surface may announce itself later)
    w.statusBar().messageChanged.connect(said.append)

    # the default: every parameter and gradient, read back exactly
    target["path"] = str(tmp_path / "all.csv")
    _trigger(w, "actionExportCsv")
    qtbot.waitUntil(lambda: os.path.exists(target["path"]) and not m.exporting, timeout=10_000)
    back = read_trajectory_csv(target["path"])
    np.testing.assert_array_equal(back.params, snap.params)
    np.testing.assert_array_equal(back.grad, snap.grad)
    size_kb = os.path.getsize(target["path"]) / 1e3
    qtbot.waitUntil(lambda: any("all columns" in t for t in said), timeout=5000)
    assert any(f"(all columns, {size_kb:.1f} kB)" in t for t in said), said

    # File ▸ Export scalar columns only: six columns, the norms of the same rows
    scalar = w.findChild(QAction, "actionExportScalar")
    assert scalar.isCheckable() and not scalar.isChecked() and scalar.toolTip()
    scalar.trigger()
    target["path"] = str(tmp_path / "scalar.csv")
    _trigger(w, "actionExportCsv")
    qtbot.waitUntil(lambda: os.path.exists(target["path"]) and not m.exporting, timeout=10_000)
    lines = open(target["path"], encoding="utf-8").read().splitlines()
    assert lines[0] == "step,loss,grad_norm,param_norm,update_norm,lr"
    cells = [ln.split(",") for ln in lines[1:]]
    assert len(cells) == n
    np.testing.assert_array_equal([float(c[1]) for c in cells], snap.loss)
    np.testing.assert_allclose([float(c[2]) for c in cells], np.linalg.norm(snap.grad, axis=1),
                               rtol=1e-14)
    np.testing.assert_allclose([float(c[3]) for c in cells],
                               np.linalg.norm(snap.params, axis=1), rtol=1e-14)
    np.testing.assert_allclose([float(c[4]) for c in cells[:-1]],
                               np.linalg.norm(np.diff(snap.params, axis=0), axis=1), rtol=1e-14)
    assert cells[-1][4] == ""
    assert os.path.getsize(target["path"]) < os.path.getsize(tmp_path / "all.csv") / (d / 10)
    qtbot.waitUntil(lambda: any("scalar columns" in t for t in said), timeout=5000)
    with pytest.raises(ValueError, match="scalar columns only"):
        read_trajectory_csv(target["path"])


def test_while_running_the_full_listing_waits_for_a_pause(nets_window, qtbot):
    """10,000 lines rewritten 8 times a second are not read: the list shows when paused."""
    w = nets_window
    m = w.model
    _trigger(w, "actionStep")
    w.views.show_tab("steplog")
    log = w.step_log
    d = m.dim
    qtbot.waitUntil(lambda: f"list all {d}" in log.plain_text(), timeout=5000)
    _click_text(log, f"list all {d}", qtbot)
    qtbot.waitUntil(lambda: f"All {d} parameters" in log.plain_text(), timeout=5000)
    m.set_limits(max_steps=10_000_000, tol=0.0)
    _trigger(w, "actionRun")
    qtbot.waitUntil(lambda: "listed while the runs are paused" in log.plain_text(),
                    timeout=10_000)
    assert m.names[-1] not in log.plain_text().split(f"All {d} parameters", 1)[1]
    _trigger(w, "actionRun")  # pause
    qtbot.waitUntil(lambda: not m.running, timeout=10_000)
    qtbot.waitUntil(lambda: f"\n  {m.names[-1]} " in log.plain_text(), timeout=10_000)
