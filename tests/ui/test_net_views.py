"""The network views as a user meets them: open a network session through File ▸ Open, step,
click the Decision or Metrics tab, and read what is drawn — against the objective evaluated
directly at the recorded rows (P(class 1) as the sigmoid of the network's output, accuracy
and test loss by numpy)."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session, save_session

MOONS = {"net_dataset": "moons", "net_model": "mlp", "layers": "2-5-4-1", "activation": "tanh",
         "net_loss": "cross-entropy", "samples": 80, "test_fraction": 0.25}
SINE = {"net_dataset": "sine", "net_model": "mlp", "layers": "1-8-1", "activation": "tanh",
        "net_loss": "mse", "samples": 60}


@pytest.fixture
def shown_window(qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.speed_slider.setValue(w.speed_slider.maximum())
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _action(w, name) -> QAction:
    return next(a for a in w.findChildren(QAction) if a.objectName() == name)


ADAM = (RunSpec("adam", 0.05),)


def _open(w, qtbot, monkeypatch, tmp_path, extra, runs=ADAM, max_steps=1000):
    path = tmp_path / "net.json"
    save_session(path, Session(problem=ProblemSpec(kind="nets", extra=extra), runs=runs,
                               max_steps=max_steps, tol=0.0, loss_tol=0.0))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    _action(w, "actionOpenSession").trigger()
    assert w.model.problem.kind == "nets" and w.model.problem.get("net_dataset") == \
        extra["net_dataset"]


def _step(w, qtbot, times):
    m = w.model
    before = m.selected_snapshot().n
    for _ in range(times):
        _action(w, "actionStep").trigger()
    qtbot.waitUntil(lambda: m.selected_snapshot().n >= before + times, timeout=10_000)


def _run(w, qtbot):
    """Run to the session's max steps (the Run action), and wait for the end."""
    _action(w, "actionRun").trigger()
    qtbot.waitUntil(lambda: not w.model.running, timeout=20_000)
    qtbot.wait(50)  # the end of the run's frame


def _click_tab(qtbot, tabs, title):
    bar = tabs.tabBar()
    i = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    assert tabs.isTabVisible(i), f"no {title} tab"
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(i).center())
    assert tabs.currentIndex() == i
    qtbot.wait(50)


def _visible_titles(tabs):
    return {tabs.tabText(i) for i in range(tabs.count()) if tabs.isTabVisible(i)}


def test_a_classifier_shows_its_decision_function_with_the_accuracy(
        shown_window, qtbot, monkeypatch, tmp_path):
    w = shown_window
    _open(w, qtbot, monkeypatch, tmp_path, MOONS)
    assert "Decision" in _visible_titles(w.main_tabs) and "Fit" not in _visible_titles(w.main_tabs)
    _step(w, qtbot, 3)
    _click_tab(qtbot, w.main_tabs, "Decision")
    view = w.views.view("decision")
    snap = w.model.selected_snapshot()
    dmap = view.map
    assert dmap is not None and dmap.row == snap.n - 1 == 3
    obj = w.model.objective
    p = np.asarray(snap.params[-1])
    # the heat map is sigmoid(predict) at the grid's points (row-major: rows are x2)
    img = view.image.image
    j, i = 20, 70
    z = obj.predict(p, np.array([[dmap.xs[i], dmap.ys[j]]]))[0]
    assert img[j, i] == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-12)
    # the title's accuracy, recomputed here with numpy
    d = obj.data
    train = np.mean((obj.predict(p, d.x) > 0) == (d.y == 1))
    test = np.mean((obj.predict(p, d.x_test) > 0) == (d.y_test == 1))
    title = view.plot_item.titleLabel.text
    assert f"train {100 * train:.1f} %" in title and f"test {100 * test:.1f} %" in title
    assert view.corner_label.toPlainText() == f"{snap.label} · step 3"
    # the drawn boundary: where the network says 0.5
    xs, ys = view.contour.getData()
    ok = np.isfinite(xs) & np.isfinite(ys)
    assert ok.sum() > 20
    prob = 1 / (1 + np.exp(-obj.predict(p, np.column_stack([xs[ok], ys[ok]]))))
    assert np.max(np.abs(prob - 0.5)) < 0.05
    # the data: train filled, test hollow, both classes, every point once
    counts = {k: len(item.data) for k, item in view.points.items()}
    assert counts["train", 0] + counts["train", 1] == len(d.y) == 60
    assert counts["test", 0] + counts["test", 1] == len(d.y_test) == 20
    assert counts["train", 1] == int(d.y.sum())


def test_the_decision_follows_the_timeline_cursor(shown_window, qtbot, monkeypatch, tmp_path):
    w = shown_window
    _open(w, qtbot, monkeypatch, tmp_path, MOONS, max_steps=12)
    _click_tab(qtbot, w.main_tabs, "Decision")
    _run(w, qtbot)
    assert w.views.view("decision").map.row == 12
    w.timeline.setValue(4)  # as the user drags the timeline
    qtbot.waitUntil(lambda: w.views.view("decision").map.row == 4, timeout=5000)
    assert "step 4" in w.views.view("decision").corner_label.toPlainText()


def test_metrics_tab_draws_train_and_test_loss_accuracy_and_layer_norms(
        shown_window, qtbot, monkeypatch, tmp_path):
    w = shown_window
    _open(w, qtbot, monkeypatch, tmp_path, MOONS,
          runs=(RunSpec("adam", 0.05), RunSpec("sgd", 0.5)), max_steps=20)
    _run(w, qtbot)
    _click_tab(qtbot, w.side_tabs, "Metrics")
    view = w.views.view("metrics")
    qtbot.waitUntil(lambda: view.data is not None and view.data.complete, timeout=5000)
    obj = w.model.objective
    d = obj.data
    for snap in w.model.snapshots():
        rows = np.arange(snap.n)
        xs, ys = view.loss.curves[snap.run_id, "test"].getData()
        np.testing.assert_array_equal(xs, rows)
        for k in (0, 7, 20):  # the test loss, by numpy at recorded rows
            z = obj.predict(np.asarray(snap.params[k]), d.x_test)
            bce = np.mean(np.log1p(np.exp(z)) - d.y_test * z)
            assert ys[k] == pytest.approx(np.log10(bce), rel=1e-10)  # a log axis
        xs, ys = view.accuracy.curves[snap.run_id, "train"].getData()
        acc = np.mean((obj.predict(np.asarray(snap.params[11]), d.x) > 0) == (d.y == 1))
        assert ys[11] == pytest.approx(acc)
    # the selected run's layer norms: weights solid, gradient dashed, one pair per layer
    sel = w.model.selected_snapshot()
    _, ys = view.norms.curves["w", 0].getData()
    assert ys[5] == pytest.approx(np.log10(np.linalg.norm(np.asarray(sel.params[5])[:15])))
    _, ys = view.norms.curves["g", 2].getData()
    assert ys[5] == pytest.approx(np.log10(np.linalg.norm(np.asarray(sel.grad[5])[-5:])))
    assert {k for k in view.norms.curves if isinstance(k, tuple)} == {
        (kind, layer) for kind in "wg" for layer in range(3)}
    # the cursor line follows the timeline
    w.timeline.setValue(9)
    qtbot.waitUntil(lambda: view.loss.cursor_line.isVisible(), timeout=5000)
    assert view.loss.cursor_line.value() == 9 and view.norms.cursor_line.value() == 9


def test_a_regression_network_shows_its_fit_not_a_decision(
        shown_window, qtbot, monkeypatch, tmp_path):
    w = shown_window
    _open(w, qtbot, monkeypatch, tmp_path, SINE)
    titles = _visible_titles(w.main_tabs)
    assert "Fit" in titles and "Decision" not in titles
    _step(w, qtbot, 2)
    _click_tab(qtbot, w.main_tabs, "Fit")
    fit = w.views.view("fit")
    snap = w.model.selected_snapshot()
    xs, ys = fit.fit_item(snap.run_id).getData()
    obj = w.model.objective
    np.testing.assert_allclose(ys, obj.predict(np.asarray(snap.params[-1]), xs[:, None]),
                               rtol=1e-12)
    sx, sy = fit.scatter.getData()
    np.testing.assert_array_equal(np.sort(sx), np.sort(obj.data.x[:, 0]))
    # no accuracy for a regression: the Metrics tab has the loss and the norms
    _click_tab(qtbot, w.side_tabs, "Metrics")
    view = w.views.view("metrics")
    qtbot.waitUntil(lambda: view.data is not None, timeout=5000)
    assert not view.accuracy.widget.isVisible() and view.data.names == ("train loss",)


def test_log_axis_ticks_are_powers_of_ten_or_1_2_5_within_a_decade():
    from gd_explorer.ui.views.metrics import log_ticks

    assert [t for _, t in log_ticks(-2.2, -0.2)] == ["0.01", "0.1"]
    assert [t for _, t in log_ticks(-1.5, -0.9)] == ["0.05", "0.1"]
    assert [t for _, t in log_ticks(-12, 2.5)] == ["1e-12", "1e-09", "1e-06", "0.001", "1"]
    assert len(log_ticks(-0.3, -0.25)) == 1


def test_a_mini_batch_runs_train_loss_and_gradient_norms_are_on_all_the_data(
        shown_window, qtbot, monkeypatch, tmp_path):
    w = shown_window
    _open(w, qtbot, monkeypatch, tmp_path, {**MOONS, "net_batch_size": 8}, max_steps=10)
    _run(w, qtbot)
    _click_tab(qtbot, w.side_tabs, "Metrics")
    view = w.views.view("metrics")
    qtbot.waitUntil(lambda: view.data is not None and view.data.complete, timeout=5000)
    snap = w.model.selected_snapshot()
    assert snap.batch is not None and len(snap.batch) == 8
    _, ys = view.loss.curves[snap.run_id, "train"].getData()
    full = w.model.objective.values(np.asarray(snap.params))
    np.testing.assert_allclose(ys, np.log10(full), rtol=1e-12)
    # the gradient norms are of the full-data gradient there, as recorded
    g = w.model.objective.grad(np.asarray(snap.params[4]))
    _, ys = view.norms.curves["g", 0].getData()
    assert ys[4] == pytest.approx(np.log10(np.linalg.norm(g[:15])))


def test_the_decision_is_live_while_the_run_trains(shown_window, qtbot, monkeypatch, tmp_path):
    from gd_explorer.ui.main_window import SPEEDS

    w = shown_window
    _open(w, qtbot, monkeypatch, tmp_path, MOONS, max_steps=300)
    w.speed_slider.setValue(SPEEDS.index(200))  # 200 steps/s: 1.5 s of training
    _click_tab(qtbot, w.main_tabs, "Decision")
    view = w.views.view("decision")
    seen = set()

    def done():
        if view.map is not None:
            seen.add(view.map.row)
        return not w.model.running

    _action(w, "actionRun").trigger()
    qtbot.waitUntil(lambda: w.model.running, timeout=5000)
    qtbot.waitUntil(done, timeout=20_000)
    qtbot.waitUntil(lambda: view.map.row == 300, timeout=5000)  # and the end is drawn
    assert len({r for r in seen if 0 < r < 300}) >= 3, seen
