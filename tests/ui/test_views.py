"""Tests of the plot views: items really updated, edge cases survive, signals in data units."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gd_explorer.core.engine.descent import run_descent  # noqa: E402
from gd_explorer.core.optim.optimizers import make_optimizer  # noqa: E402
from gd_explorer.core.problems.functions import get_function  # noqa: E402
from gd_explorer.model.snapshot import RunSnapshot  # noqa: E402
from gd_explorer.ui.views import (  # noqa: E402
    PLACEHOLDER_TEXT,
    CurveView,
    FitView,
    LossView,
    SliceView,
    StepLogView,
    Surface3DView,
    SurfaceView,
    opengl_available,
)
from gd_explorer.ui.views._common import stride_indices  # noqa: E402
from gd_explorer.ui.views.loss import PeakDecimator  # noqa: E402
from gd_explorer.ui.views.surface import contour_levels, surface_transform  # noqa: E402

# ------------------------------------------------------------------------------ helpers


def snap_of(run_id, objective, opt_name, start, steps, color="#1f77b4", visible=True,
            label=None, state=None, **hyper):
    opt = make_optimizer(opt_name, **hyper)
    tr = run_descent(objective, opt, np.asarray(start, dtype=float), steps=steps)
    return RunSnapshot.make(run_id, label or f"run {run_id}", color, visible, tr.params,
                            tr.loss, tr.grad, tr.lr, status=tr.status, message=tr.message,
                            state=state or {}, optimizer_title=opt.title, optimizer=opt.name,
                            hyper={"lr": opt.lr, **hyper})


def unchecked_run(run_id, objective, start, steps, lr, momentum=0.0, color="#D55E00"):
    """Gradient descent (with torch's heavy-ball momentum) written out in numpy and stopped
    only at non-finite values or 1e100, not by the engine's earlier runaway rule: the
    views must cope with whatever coordinates a run can reach."""
    p = np.array(start, dtype=np.float64)
    buf = None
    ps, fs, gs = [], [], []
    with np.errstate(all="ignore"):
        for _ in range(steps + 1):
            v, g = objective.value_and_grad(p[None, :])
            f, g = float(v[0]), g[0].copy()
            if not (np.isfinite(f) and np.isfinite(g).all() and abs(f) < 1e100
                    and (np.abs(p) < 1e100).all() and (np.abs(g) < 1e100).all()):
                break
            ps.append(p.copy())
            fs.append(f)
            gs.append(g)
            buf = g if buf is None else momentum * buf + g
            p = p - lr * (buf if momentum else g)
    n = len(fs)
    return RunSnapshot.make(run_id, f"run {run_id}", color, True, np.array(ps),
                            np.array(fs), np.array(gs), np.full(n, lr), status="diverged",
                            message=f"diverged at step {n}")


def synthetic(run_id, n, d=2, visible=True, color="#ff7f0e", loss=None, seed=0):
    rng = np.random.default_rng(seed)
    params = np.cumsum(rng.normal(size=(n, d)), axis=0) * 1e-3
    loss = np.abs(rng.normal(size=n)) + 0.1 if loss is None else loss
    return RunSnapshot.make(run_id, f"run {run_id}", color, visible, params, loss,
                            rng.normal(size=(n, d)), np.full(n, 0.01))


def empty_snap(run_id, d=2):
    return RunSnapshot.make(run_id, "empty", "#2ca02c", True, np.empty((0, d)), np.empty(0),
                            np.empty((0, d)), np.empty(0))


def rosenbrock_grid(nx=120, ny=100):
    f = get_function("rosenbrock")
    (x0, x1), (y0, y1) = f.window
    xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
    gx, gy = np.meshgrid(xs, ys)
    z = f.values(np.column_stack([gx.ravel(), gy.ravel()])).reshape(ny, nx)
    return xs, ys, z


@pytest.fixture(scope="module")
def runs():
    f = get_function("rosenbrock")
    return [
        snap_of(1, f, "sgd", (-1.5, 2.0), 500, color="#4cc9f0", lr=0.001),
        snap_of(2, f, "sgd", (-1.5, 2.0), 500, color="#f72585", lr=0.0005, momentum=0.9),
        snap_of(3, f, "adam", (-1.5, 2.0), 500, color="#ffb000", lr=0.05),
    ]


def shown(qtbot, w, size=(640, 480)):
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    return w


def click_at(qtbot, view, x, y, button=QtCore.Qt.MouseButton.LeftButton):
    """A real mouse click through Qt at the data point (x, y) of a PlotView."""
    scene_pt = view.view_box.mapViewToScene(QtCore.QPointF(x, y))
    pos = view.plot_widget.mapFromScene(scene_pt)
    qtbot.mouseClick(view.plot_widget.viewport(), button, pos=pos)
    return pos


# ------------------------------------------------------------------------------ generic


@pytest.mark.parametrize("cls, name", [
    (SurfaceView, "surfacePlot"), (CurveView, "curvePlot"), (LossView, "lossPlot"),
    (FitView, "fitPlot"), (SliceView, "slicePlot"), (Surface3DView, "surface3d"),
    (StepLogView, "stepLog"),
])
def test_views_are_named_sized_and_explained(qtbot, cls, name):
    w = cls()
    qtbot.addWidget(w)
    assert isinstance(w, QtWidgets.QWidget)
    assert w.objectName() == name
    assert w.minimumWidth() >= 320 and w.minimumHeight() >= 240
    tips = [w.toolTip()] + [c.toolTip() for c in w.findChildren(QtWidgets.QWidget)]
    assert any(tips), f"{name} has no tooltip"


def test_stride_indices_bounds_and_keeps_the_last_row():
    assert stride_indices(0).size == 0
    assert list(stride_indices(3)) == [0, 1, 2]
    idx = stride_indices(1_000_000)
    assert len(idx) <= 10_000 and idx[0] == 0 and idx[-1] == 999_999
    assert np.all(np.diff(idx) > 0)


# ------------------------------------------------------------------------------ surface


def test_surface_image_placed_on_grid_and_view_fitted(qtbot):
    v = SurfaceView()
    qtbot.addWidget(v)
    xs, ys, z = rosenbrock_grid()
    v.set_surface(xs, ys, z, ("x", "y"))
    img = v.image.image
    assert img.shape == z.shape  # row-major: rows are y
    rect = v.image.mapRectToParent(v.image.boundingRect())
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    assert rect.left() == pytest.approx(xs[0] - dx / 2)
    assert rect.right() == pytest.approx(xs[-1] + dx / 2)
    assert rect.top() == pytest.approx(ys[0] - dy / 2)
    assert rect.bottom() == pytest.approx(ys[-1] + dy / 2)
    (vx0, vx1), (vy0, vy1) = v.view_box.viewRange()
    assert vx0 == pytest.approx(xs[0] - dx / 2) and vx1 == pytest.approx(xs[-1] + dx / 2)
    assert vy0 == pytest.approx(ys[0] - dy / 2) and vy1 == pytest.approx(ys[-1] + dy / 2)
    # colour scale is log10(z - min + eps) by default
    lo, hi = v.colorbar.levels()
    assert hi == pytest.approx(np.log10(z.max() - z.min() + (z.max() - z.min()) * 1e-6))
    x, y = v.contours.getData()
    assert x is not None and len(x) > 100 and np.isfinite(x).all() and np.isfinite(y).all()
    assert v.plot_item.getAxis("bottom").labelText == "x"


def test_surface_log_toggle_changes_levels(qtbot):
    v = SurfaceView()
    qtbot.addWidget(v)
    xs, ys, z = rosenbrock_grid()
    v.set_surface(xs, ys, z, ("a", "b"))
    log_levels = v.colorbar.levels()
    v.set_log_scale(False)
    assert v.colorbar.levels() == pytest.approx((z.min(), z.max()))
    assert v.colorbar.levels() != pytest.approx(log_levels)
    v.set_log_scale(True)
    assert v.colorbar.levels() == pytest.approx(log_levels)


def test_contour_levels_are_log_spaced_or_quantiles():
    z = np.logspace(-3, 3, 400).reshape(20, 20)
    c, _ = surface_transform(z, log=True)
    lv = contour_levels(c, log=True)
    assert len(lv) == 15 and np.allclose(np.diff(lv), np.diff(lv)[0])
    lq = contour_levels(z, log=False)
    assert 10 <= len(lq) <= 15 and np.all(np.diff(lq) > 0)


@pytest.mark.parametrize("case", ["nan-block", "inf-rows", "all-nan", "constant", "one-cell"])
def test_surface_with_bad_values_does_not_break(qtbot, case):
    v = SurfaceView()
    qtbot.addWidget(v)
    xs, ys, z = rosenbrock_grid(60, 50)
    z = z.copy()
    if case == "nan-block":
        z[10:20, 10:30] = np.nan
    elif case == "inf-rows":
        z[5:8] = np.inf
        z[30] = -np.inf
    elif case == "all-nan":
        z[:] = np.nan
    elif case == "constant":
        z[:] = 3.0
    elif case == "one-cell":
        xs, ys, z = xs[:1], ys[:1], z[:1, :1]
    for log in (True, False):
        v.set_log_scale(log)
        v.set_surface(xs, ys, z, ("x", "y"))
        lo, hi = v.colorbar.levels()
        assert np.isfinite(lo) and np.isfinite(hi) and hi > lo
        x, y = v.contours.getData()
        if x is not None and len(x):
            assert np.isfinite(x).all() and np.isfinite(y).all()
        (vx0, vx1), (vy0, vy1) = v.view_box.viewRange()
        assert all(np.isfinite([vx0, vx1, vy0, vy1]))


def test_surface_runs_path_ends_at_cursor_point(qtbot, runs):
    v = SurfaceView()
    qtbot.addWidget(v)
    v.set_surface(*rosenbrock_grid(), ("x", "y"))
    for cursor in (0, 37, None, 10_000):
        v.set_runs(runs, cursor, (0, 1))
        for snap in runs:
            path, point = v.run_items(snap.run_id)
            k = snap.index(cursor)
            x, y = path.getData()
            assert len(x) == k + 1
            assert (x[-1], y[-1]) == (snap.params[k, 0], snap.params[k, 1])
            px, py = point.getData()
            assert (px[0], py[0]) == (snap.params[k, 0], snap.params[k, 1])
            assert path.isVisible() and point.isVisible()
    # swapped axes
    v.set_runs(runs, 5, (1, 0))
    x, y = v.run_items(1)[0].getData()
    assert (x[-1], y[-1]) == (runs[0].params[5, 1], runs[0].params[5, 0])


def test_surface_runs_created_once_hidden_and_removed(qtbot, runs):
    v = SurfaceView()
    qtbot.addWidget(v)
    v.set_runs(runs, None, (0, 1))
    first = v.run_items(2)
    v.set_runs(runs, 3, (0, 1))
    assert v.run_items(2)[0] is first[0]  # same item, updated in place
    assert len(v.legend.items) == 3
    hidden = RunSnapshot.make(2, "hidden", runs[1].color, False, runs[1].params, runs[1].loss,
                              runs[1].grad, runs[1].lr)
    v.set_runs([runs[0], hidden], None, (0, 1))
    assert not v.run_items(2)[0].isVisible() and not v.run_items(2)[1].isVisible()
    assert v.run_items(3) is None  # absent: removed
    assert first[0].scene() is v.plot_widget.scene()
    assert len(v.legend.items) == 1  # hidden runs leave the legend
    v.set_runs([], None, (0, 1))
    assert v.run_items(1) is None and v.run_items(2) is None
    assert first[0].scene() is None
    assert len(v.legend.items) == 0


def test_surface_runs_edge_cases(qtbot):
    v = SurfaceView()
    qtbot.addWidget(v)
    one = synthetic(1, 1)
    v.set_runs([empty_snap(0), one], 5, (0, 1))
    assert not v.run_items(0)[0].isVisible()
    x, y = v.run_items(1)[0].getData()
    assert len(x) == 1
    # a 1-parameter run cannot be drawn on axes (0, 1): hidden, no error
    v.set_runs([synthetic(2, 10, d=1)], None, (0, 1))
    assert not v.run_items(2)[0].isVisible()
    # NaN / huge values in a path do not raise, and do not move our view range
    rng_before = v.view_box.viewRange()
    bad = synthetic(3, 10)
    params = np.array(bad.params)
    params[4] = np.nan
    params[6] = 1e100
    bad = RunSnapshot.make(3, "bad", "#ff0000", True, params, bad.loss, bad.grad, bad.lr)
    v.set_runs([bad], None, (0, 1))
    v.set_runs([bad], 4, (0, 1))
    assert v.view_box.viewRange() == rng_before


def test_surface_million_rows_decimated_to_10k(qtbot):
    v = SurfaceView()
    qtbot.addWidget(v)
    big = [synthetic(i, 1_000_000, seed=i) for i in range(3)]
    for cursor in (None, 654_321):
        v.set_runs(big, cursor, (0, 1))
        for s in big:
            x, y = v.run_items(s.run_id)[0].getData()
            k = s.index(cursor)
            assert len(x) <= 10_000
            assert (x[-1], y[-1]) == (s.params[k, 0], s.params[k, 1])
            assert (x[0], y[0]) == (s.params[0, 0], s.params[0, 1])


def test_surface_markers_and_arrow_field(qtbot):
    v = SurfaceView()
    qtbot.addWidget(v)
    v.set_start((-1.5, 2.0))
    x, y = v.start_marker.getData()
    assert (x[0], y[0]) == (-1.5, 2.0)
    v.set_optima([(1.0, 1.0), (np.nan, 0.0), (3.0, 2.0)])
    x, y = v.optima_marker.getData()
    assert list(zip(x, y, strict=True)) == [(1.0, 1.0), (3.0, 2.0)]
    xs, ys = np.linspace(-2, 2, 9), np.linspace(-1, 3, 7)
    gx, gy = np.meshgrid(xs, ys)
    U, V = -2 * gx, -2 * gy
    U[0, 0] = np.nan
    v.set_arrow_field(xs, ys, U, V, True)
    assert v.field.isVisible()
    x, y = v.field.getData()
    n_arrows = np.count_nonzero(np.isfinite(U) & (np.hypot(U, V) > 0))
    assert len(x) == 6 * n_arrows  # shaft + two barbs, drawn as pairs in one item
    assert v.field.opts["connect"] == "pairs"
    # each shaft points along (U, V)
    i = 5
    sx, sy = x[6 * i + 1] - x[6 * i], y[6 * i + 1] - y[6 * i]
    ok = np.isfinite(U) & (np.hypot(U, V) > 0)
    u, w = U[ok][i], V[ok][i]
    assert np.sign(sx) == np.sign(u) and np.sign(sy) == np.sign(w)
    v.set_arrow_field(xs, ys, U, V, False)
    assert not v.field.isVisible()


def test_surface_step_arrows(qtbot):
    v = shown(qtbot, SurfaceView())
    v.set_surface(*rosenbrock_grid(), ("x", "y"))
    origin, update = (0.0, 1.0), (0.5, -0.25)  # long enough to be drawn to scale
    v.set_step_arrows(origin, (1.0, 2.0), update, (0.5, 0.5), "#ff0000")
    x, y = v.arrow_update.getData()
    assert (x[0], y[0]) == pytest.approx(origin)
    assert (x[1], y[1]) == pytest.approx((0.5, 0.75))
    gx, gy = v.arrow_grad.getData()
    assert gx[1] - gx[0] < 0 and gy[1] - gy[0] < 0  # drawn as -gradient
    assert v.arrow_mom.isVisible() and v.arrow_labels["mom"].isVisible()
    v.set_step_arrows(origin, None, (1e-4, 0.0), None, "#ff0000")
    assert not v.arrow_grad.isVisible() and not v.arrow_mom.isVisible()
    assert "×" in v.arrow_labels["update"].toPlainText()  # a tiny step is magnified
    v.set_step_arrows(None, (1.0, 1.0), None, None, "#ff0000")
    assert not v.arrow_update.isVisible()


def test_surface_click_emits_data_coordinates(qtbot):
    """Real mouse route: qtbot.mouseClick on the viewport at a mapped scene position."""
    v = shown(qtbot, SurfaceView())
    v.set_surface(*rosenbrock_grid(), ("x", "y"))
    with qtbot.waitSignal(v.start_clicked, timeout=2000) as blocker:
        click_at(qtbot, v, 0.5, 1.5)
    x, y = blocker.args
    (x0, x1), (y0, y1) = v.view_box.viewRange()
    assert x == pytest.approx(0.5, abs=(x1 - x0) / 200)
    assert y == pytest.approx(1.5, abs=(y1 - y0) / 200)
    # right click (menu) does not set the start
    with qtbot.assertNotEmitted(v.start_clicked):
        click_at(qtbot, v, 0.5, 1.5, QtCore.Qt.MouseButton.RightButton)
    for menu in QtWidgets.QApplication.topLevelWidgets():
        if isinstance(menu, QtWidgets.QMenu):
            menu.close()


def test_surface_drag_does_not_emit_click(qtbot):
    v = shown(qtbot, SurfaceView())
    v.set_surface(*rosenbrock_grid(), ("x", "y"))
    vp = v.plot_widget.viewport()
    a = v.plot_widget.mapFromScene(v.view_box.mapViewToScene(QtCore.QPointF(0.0, 1.0)))
    b = a + QtCore.QPoint(60, 40)
    with qtbot.assertNotEmitted(v.start_clicked):
        qtbot.mousePress(vp, QtCore.Qt.MouseButton.LeftButton, pos=a)
        for t in np.linspace(0, 1, 6)[1:]:
            p = QtCore.QPoint(int(a.x() + t * 60), int(a.y() + t * 40))
            qtbot.mouseMove(vp, p, delay=5)
        qtbot.mouseRelease(vp, QtCore.Qt.MouseButton.LeftButton, pos=b)
    # the drag panned the view instead
    assert v.view_box.viewRange()[0][0] != pytest.approx(v._extent[0])


def test_surface_hover_signal_and_text(qtbot):
    v = shown(qtbot, SurfaceView())
    v.set_surface(*rosenbrock_grid(), ("x", "y"))
    # QTest mouse moves are merged/throttled unpredictably offscreen, so this drives the
    # scene's sigMouseMoved (what a real move emits) with a mapped scene position.
    scene_pos = v.view_box.mapViewToScene(QtCore.QPointF(-1.0, 0.0))
    with qtbot.waitSignal(v.hovered, timeout=1000) as blocker:
        v.plot_widget.scene().sigMouseMoved.emit(scene_pos)
    assert blocker.args == pytest.approx([-1.0, 0.0], abs=1e-9)
    outside = v.plot_widget.mapToScene(QtCore.QPoint(2, 2))  # the title area, not the plot
    with qtbot.assertNotEmitted(v.hovered):
        v.plot_widget.scene().sigMouseMoved.emit(outside)
    v.set_hover_text("x = -1, y = 0, f = 104")
    assert v.corner_label.isVisible() and "f = 104" in v.corner_label.toPlainText()
    v.set_hover_text("")
    assert not v.corner_label.isVisible()


# ------------------------------------------------------------------------------ curve


@pytest.fixture(scope="module")
def fence_run():
    f = get_function("fence-area")
    return snap_of(7, f, "sgd", (57.0,), 30, lr=0.1, maximize=True, label="ascent")


def test_curve_tangent_slope_is_the_gradient(qtbot, fence_run):
    v = CurveView()
    qtbot.addWidget(v)
    xs = np.linspace(0, 100, 201)
    v.set_curve(xs, 100 * xs - xs**2, "x")
    for cursor in (0, 4, None, 999):
        v.set_runs([fence_run], cursor)
        path, tangent, point = v.run_items(7)
        k = fence_run.index(cursor)
        tx, ty = tangent.getData()
        assert (ty[1] - ty[0]) / (tx[1] - tx[0]) == pytest.approx(fence_run.grad[k, 0])
        # passes through the current point
        x0, f0 = fence_run.params[k, 0], fence_run.loss[k]
        assert np.interp(x0, tx, ty) == pytest.approx(f0)
        px, py = path.getData()
        assert (px[-1], py[-1]) == (x0, f0) and len(px) == k + 1
        sx, sy = point.getData()
        assert (sx[0], sy[0]) == (x0, f0)
    assert fence_run.grad[0, 0] == pytest.approx(-14.0)  # A'(57) = -14


def test_curve_edge_cases_and_markers(qtbot, fence_run):
    v = CurveView()
    qtbot.addWidget(v)
    xs = np.linspace(-3, 3, 50)
    fs = xs**2
    fs[10] = np.nan
    fs[20] = np.inf
    v.set_curve(xs, fs, "w")
    (x0, x1), (y0, y1) = v.view_box.viewRange()
    assert np.isfinite([x0, x1, y0, y1]).all()
    v.set_start(1.0)
    sx, sy = v.start_marker.getData()
    assert sx[0] == 1.0 and sy[0] == pytest.approx(1.0, abs=0.01)
    v.set_optima([0.0])
    assert v.optima_marker.getData()[0][0] == 0.0
    v.set_runs([empty_snap(1, d=1), synthetic(2, 1, d=1)], None)
    assert not v.run_items(1)[0].isVisible() and v.run_items(2)[0].isVisible()
    v.set_runs([], None)
    assert v.run_items(2) is None
    v.set_curve(xs, np.full_like(xs, np.nan), "w")  # all NaN: no error


def test_curve_click_emits_x(qtbot):
    v = shown(qtbot, CurveView())
    xs = np.linspace(0, 100, 201)
    v.set_curve(xs, 100 * xs - xs**2, "x")
    with qtbot.waitSignal(v.start_clicked, timeout=2000) as blocker:
        click_at(qtbot, v, 30.0, 1000.0)
    assert blocker.args[0] == pytest.approx(30.0, abs=0.5)


# ------------------------------------------------------------------------------ loss


def test_loss_curves_cursor_and_removal(qtbot, runs):
    v = LossView()
    qtbot.addWidget(v)
    v.set_runs(runs, 42)
    for s in runs:
        item = v.run_item(s.run_id)
        x, y = item.getOriginalDataset()
        assert len(x) == s.n and np.array_equal(y, s.loss)
        assert item.opts["downsampleMethod"] == "peak" and item.opts["clipToView"]
    assert v.cursor_line.value() == 42 and v.cursor_line.isVisible()
    px, py = v.points.getOriginalDataset()
    assert list(px) == [42.0] * 3 and list(py) == [s.loss[42] for s in runs]
    v.set_runs(runs, None)
    assert v.cursor_line.value() == max(s.n for s in runs) - 1
    v.set_runs(runs, 10**9)
    assert v.cursor_line.value() == max(s.n for s in runs) - 1
    (x0, x1), (y0, y1) = v.view_box.viewRange()
    assert x0 <= 0 and x1 >= 500 and y1 >= max(s.loss.max() for s in runs)
    hidden = RunSnapshot.make(1, "h", "#000000", False, runs[0].params, runs[0].loss,
                              runs[0].grad, runs[0].lr)
    v.set_runs([hidden, runs[1]], None)
    assert not v.run_item(1).isVisible() and v.run_item(3) is None
    assert len(v.legend.items) == 1
    v.set_runs([], None)
    assert v.run_item(2) is None and not v.cursor_line.isVisible()


def test_loss_million_rows_peak_decimated(qtbot):
    v = LossView()
    qtbot.addWidget(v)
    n = 1_000_000
    rng = np.random.default_rng(5)
    loss = np.exp(-np.arange(n) / 2e5) + 0.01 * rng.random(n)
    loss[777_777] = 50.0  # a spike must survive decimation
    loss[123_457] = 1e-6  # and a dip
    big = RunSnapshot.make(1, "big", "#ff0000", True, np.zeros((n, 1)), loss,
                           np.zeros((n, 1)), np.full(n, 0.1))
    v.set_runs([big], 500_000)
    x, y = v.run_item(1).getOriginalDataset()
    assert len(x) <= 200_000
    assert y.max() == 50.0 and y.min() == 1e-6
    assert x[-1] == n - 1 and v.cursor_line.value() == 500_000
    # the spike is drawn, but a linear axis does not follow a loss 50 times the start's
    # (LossView's runaway rule): it would flatten everything else; a log axis does
    assert 1.0 < v.view_box.viewRange()[1][1] < 50.0
    v.set_log_y(True)
    v.set_runs([big], 500_000)
    assert v.view_box.viewRange()[1][1] >= np.log10(50.0)


def test_loss_growing_and_restarted_run_under_same_id(qtbot):
    v = LossView()
    qtbot.addWidget(v)
    loss = np.linspace(5, 1, 300)
    for n in (10, 11, 200, 300):
        v.set_runs([synthetic(1, n, loss=loss[:n])], None)
        x, y = v.run_item(1).getOriginalDataset()
        assert len(x) == n and y[-1] == loss[n - 1]
    restarted = np.linspace(9, 2, 300)  # same id and length, different series
    v.set_runs([synthetic(1, 300, loss=restarted)], None)
    assert np.array_equal(v.run_item(1).getOriginalDataset()[1], restarted)


def test_peak_decimator_incremental_equals_fresh():
    rng = np.random.default_rng(0)
    y = rng.normal(size=70_001)
    inc = PeakDecimator(max_points=2_000)
    for n in (5, 999, 1000, 1001, 4000, 33_333, 70_001):
        inc.update(y[:n])
        fresh = PeakDecimator(max_points=2_000)
        fresh.update(y[:n])
        xi, yi = inc.points()
        xf, yf = fresh.points()
        assert len(xi) <= 2_000 + 2
        assert np.array_equal(xi, xf) and np.array_equal(yi, yf)
        assert yi.max() == y[:n].max() and yi.min() == y[:n].min()


def test_loss_log_y_and_non_positive_losses(qtbot, runs):
    v = LossView()
    qtbot.addWidget(v)
    v.set_log_y(True)
    v.set_runs(runs, None)
    assert v.plot_item.ctrl.logYCheck.isChecked()
    (_, _), (y0, y1) = v.view_box.viewRange()
    assert np.isfinite([y0, y1]).all() and y0 < np.log10(min(s.loss.min() for s in runs)) + 1
    neg = synthetic(9, 50, loss=np.linspace(-3, 3, 50))
    v.set_runs(runs + [neg], None)  # maximization/negative losses: falls back to linear
    assert not v.plot_item.ctrl.logYCheck.isChecked()
    assert v.corner_label.isVisible() and "run 9" in v.corner_label.toPlainText()
    v.set_runs(runs, None)
    assert v.plot_item.ctrl.logYCheck.isChecked() and not v.corner_label.isVisible()
    v.set_log_y(False)
    assert not v.plot_item.ctrl.logYCheck.isChecked()


def test_loss_edge_cases(qtbot):
    v = LossView()
    qtbot.addWidget(v)
    v.set_runs([empty_snap(1), synthetic(2, 1)], 3)
    assert v.cursor_line.value() == 0
    const = synthetic(3, 20, loss=np.full(20, 2.0))
    v.set_runs([const], None)
    (x0, x1), (y0, y1) = v.view_box.viewRange()
    assert np.isfinite([x0, x1, y0, y1]).all() and y0 < 2.0 < y1


# ------------------------------------------------------------------------------ fit / slice


def test_fit_view_data_fits_and_batch(qtbot):
    v = FitView()
    qtbot.addWidget(v)
    x = np.linspace(0, 10, 50)
    y = 2 * x + 1
    v.set_data(x, y, ("x", "y"))
    sx, sy = v.scatter.getData()
    assert np.array_equal(sx, x) and np.array_equal(sy, y)
    line = np.array([0.0, 10.0])
    v.set_fits([(1, "#ff0000", True, line, 2 * line), (2, "#00ff00", False, line, line)])
    fx, fy = v.fit_item(1).getData()
    assert list(fy) == [0.0, 20.0]
    assert not v.fit_item(2).isVisible()
    v.set_batch(np.array([3, 7, 99]))  # out-of-range index ignored
    bx, by = v.batch.getData()
    assert list(bx) == [x[3], x[7]]
    v.set_batch(None)
    assert len(v.batch.getData()[0]) == 0
    v.set_fits([(2, "#00ff00", True, line, line)])
    assert v.fit_item(1) is None
    v.set_data(np.array([np.nan]), np.array([1.0]), ("x", "y"))  # nothing finite


def test_slice_view_marks_current_point(qtbot):
    v = SliceView()
    qtbot.addWidget(v)
    ws = np.linspace(-1, 4, 101)
    v.set_slice("w", ws, np.abs(2 * ws - 3), (0.5, 2.0), "#ff0000")  # seed 001's V
    mx, my = v.marker.getData()
    assert (mx[0], my[0]) == (0.5, 2.0)
    assert v.vline.value() == 0.5
    assert "w" in v.plot_item.titleLabel.text
    v.set_slice("w", ws, np.full_like(ws, np.nan), None, "#ff0000")
    assert len(v.marker.getData()[0]) == 0


# ------------------------------------------------------------------------------ 3-D


def test_surface3d_shows_placeholder_offscreen(qtbot, runs):
    assert QtWidgets.QApplication.platformName() == "offscreen"
    assert opengl_available() is False
    v = Surface3DView()
    qtbot.addWidget(v)
    assert v.is_placeholder
    label = v.findChild(QtWidgets.QLabel, "surface3dPlaceholder")
    assert label is not None and label.text() == PLACEHOLDER_TEXT
    # every method is a safe no-op
    v.set_surface(*rosenbrock_grid(), )
    v.set_log_scale(False)
    v.set_runs(runs, 3, (0, 1), None)


def test_surface3d_waits_for_its_first_show_where_opengl_might_exist(qtbot, runs,
                                                                     monkeypatch):
    # on a desktop, probing OpenGL and building the scene wait until the tab is shown;
    # here the probe answers "no", so the first show builds the placeholder
    import gd_explorer.ui.views.surface3d as s3d

    probes = []
    monkeypatch.setattr(s3d, "_opengl_ruled_out", lambda: False)
    monkeypatch.setattr(s3d, "opengl_available", lambda: probes.append(1) or False)
    v = Surface3DView()
    qtbot.addWidget(v)
    v.set_surface(*rosenbrock_grid())
    v.set_runs(runs, 3, (0, 1), None)
    assert probes == [] and v.findChild(QtWidgets.QLabel, "surface3dPlaceholder") is None
    v.show()
    qtbot.waitExposed(v)
    label = v.findChild(QtWidgets.QLabel, "surface3dPlaceholder")
    assert probes == [1] and label is not None and label.isVisible()
    assert v.is_placeholder and probes == [1]


# ------------------------------------------------------------------------------ step log


def test_step_log_writes_out_the_fence_area_step(qtbot, fence_run):
    v = StepLogView()
    qtbot.addWidget(v)
    v.set_entry(fence_run, 0, ("x",), True)
    text = v.toPlainText()
    # A(x) = 100x - x², A'(57) = -14; ascent with lr 0.1: 57 + 0.1·(-14) = 55.6
    assert "f'(57) = -14" in text
    assert "57 + 0.1·(-14) = 55.6" in text
    assert "recorded p_(k+1): x = 55.6" in text
    assert "f(p_k) = 2451" in text
    assert "Step k = 0" in text
    v.set_entry(fence_run, 1, ("x",), True)
    assert "f'(55.6) = -11.2" in v.toPlainText()


def test_step_log_descent_and_adam(qtbot, runs):
    v = StepLogView()
    qtbot.addWidget(v)
    sgd = runs[0]
    v.set_entry(sgd, 3, ("x", "y"), False)
    text = v.toPlainText()
    p, g, lr = sgd.params[3], sgd.grad[3], sgd.lr[3]
    nxt = p - lr * g
    assert f"x: {p[0]:.6g} − {lr:.6g}·" in text and f"= {nxt[0]:.6g}" in text
    state = {"exp_avg": np.array([0.25, -0.5]), "exp_avg_sq": np.array([1e-3, 2e-3])}
    adam = RunSnapshot.make(3, "adam", "#ffb000", True, runs[2].params, runs[2].loss,
                            runs[2].grad, runs[2].lr, state=state, optimizer_title="Adam", optimizer="adam",
                            hyper={"lr": 0.05, "betas": (0.9, 0.999)})
    v.set_entry(adam, 10, ("x", "y"), False)
    text = v.toPlainText()
    assert "m ← β1·m + (1 − β1)·g" in text and "exp_avg: x = 0.25, y = -0.5" in text
    assert "not stored per step" in text  # the state is the latest one
    delta = adam.params[11] - adam.params[10]
    assert f"Δ = {delta[0]:.6g}" in text
    assert "betas = (0.9, 0.999)" in text


def _live_snap(name, steps, **hyper):
    """A snapshot as the model makes it: the descent's own state buffers, row 0."""
    from gd_explorer.core.engine.descent import Descent

    opt = make_optimizer(name, **hyper)
    desc = Descent(get_function("rosenbrock"), opt, np.array([-1.5, 2.0]), max_steps=steps)
    tr = desc.run()
    state = {k: np.array(b[0]) for k, b in desc.state.buffers().items()}
    return RunSnapshot.make(1, name, "#ffb000", True, tr.params, tr.loss, tr.grad, tr.lr,
                            state=state, optimizer_title=opt.title, optimizer=name,
                            hyper=opt.hyperparameters())


def test_step_log_shows_asgd_averaged_point_and_lbfgs_evaluations(qtbot):
    v = StepLogView()
    qtbot.addWidget(v)
    asgd = _live_snap("asgd", 20, lr=1e-3, t0=5.0)
    v.set_entry(asgd, None, ("x", "y"), False)
    text = v.toPlainText()
    ax = asgd.state["ax"]
    assert f"ax (the averaged point (ASGD's answer)): x = {ax[0]:.6g}" in text
    assert "ax ← ax + μ·(p − ax)" in text
    lbfgs = _live_snap("lbfgs", 3, line_search_fn="strong_wolfe", max_iter=4)
    v.set_entry(lbfgs, 1, ("x", "y"), False)
    text = v.toPlainText()
    n = int(lbfgs.state["evaluations"][0])
    assert n > 1 and f"evaluations (objective evaluations, last step): {n}" in text
    assert "trial_points (points the last step evaluated): " in text
    assert "strong_wolfe: a line search" in text


def test_step_log_edge_cases(qtbot):
    v = StepLogView()
    qtbot.addWidget(v)
    v.set_entry(None, None, (), False)
    assert "No run selected" in v.toPlainText()
    v.set_entry(empty_snap(1), None, ("x", "y"), False)
    assert "No steps recorded" in v.toPlainText()
    one = synthetic(2, 1)
    v.set_entry(one, 50, (), False)  # cursor beyond n, names missing
    text = v.toPlainText()
    assert "p0 = " in text and "not recorded yet" in text
    nan = RunSnapshot.make(3, "nan", "#000000", True, np.array([[np.nan, np.inf]]),
                           np.array([np.nan]), np.array([[np.nan, 1.0]]), np.array([0.1]),
                           optimizer_title="SGD (momentum, Nesterov)", optimizer="sgd")
    v.set_entry(nan, None, ("x", "y"), False)
    assert "nan" in v.toPlainText()


# ------------------------------------------------------------------------------ runaway paths


def image_of(widget) -> np.ndarray:
    """The widget rendered (grab) as an (h, w, 3) RGB array."""
    img = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    a = np.array(img.constBits(), dtype=np.uint8).reshape(img.height(), img.width(), 4)
    return a[..., 2::-1].astype(int)


def largest_blob(img: np.ndarray, color: str, tol: int = 12, size: int = 15) -> int:
    """How many ``size`` x ``size`` squares of the image are filled with ``color``: 0 for
    lines a few pixels wide (and the 12-pixel head of a runaway arrow), thousands for a
    filled area."""
    c = QtGui.QColor(color)
    mask = (np.abs(img - (c.red(), c.green(), c.blue())) <= tol).all(axis=2).astype(int)
    s = np.pad(mask.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    box = s[size:, size:] - s[:-size, size:] - s[size:, :-size] + s[:-size, :-size]
    return int((box == size * size).sum())


def bowl_grid(n=120):
    f = get_function("bowl")
    (x0, x1), (y0, y1) = f.window
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, f.values(np.column_stack([gx.ravel(), gy.ravel()])).reshape(n, n)


@pytest.fixture(scope="module")
def runaway():
    """The bug report's run: the bowl, SGD with momentum 0.9 and lr 2.5, to ~6e49."""
    return unchecked_run(1, get_function("bowl"), (2.5, -2.0), 300, lr=2.5, momentum=0.9)


def grown_to(snap, n, visible=True):
    return RunSnapshot.make(snap.run_id, snap.label, snap.color, visible, snap.params[:n],
                            snap.loss[:n], snap.grad[:n], snap.lr[:n], status=snap.status)


def drawn_points(path):
    """Every point the parts of a CachedPrefixCurve hand to Qt."""
    pts = [np.column_stack(part.getData()) for part in (*path.chunks, path.tail)
           if part.getData()[0] is not None and len(part.getData()[0])]
    return np.concatenate(pts) if pts else np.empty((0, 2))


def test_clip_polyline_cuts_at_the_box_in_the_segments_direction():
    from gd_explorer.ui.views._common import clip_polyline

    box_lo, box_hi = (-1.0, -1.0), (1.0, 1.0)
    inside = np.array([[0.0, 0.0], [0.5, 0.25], [-0.5, 0.9]])
    out, src = clip_polyline(inside, box_lo, box_hi)
    assert out is inside and src is None  # nothing to cut: the same array, no copy
    p = np.array([[0.0, 0.0], [0.5, 0.5], [4.5e47, 6.8e45], [0.2, 0.1], [np.nan, 1.0],
                  [0.3, 0.3], [-3.0, 0.3]])
    out, src = clip_polyline(p, box_lo, box_hi)
    # the vertices that stay are the input's own, bit for bit
    assert list(src[:2]) == [0, 1] and np.array_equal(out[:2], p[:2])
    # the segment towards 4.5e47 ends on the box edge x = 1, pointing the way it went
    exit_pt = out[2]
    assert src[2] == -1 and exit_pt[0] == 1.0
    d_true = p[2] - p[1]
    d_cut = exit_pt - p[1]
    assert d_cut[1] / d_cut[0] == pytest.approx(d_true[1] / d_true[0])
    assert np.isnan(out[3]).all() and src[3] == -2  # broken there
    # the way back enters through the edge and reaches 0.2, 0.1; the NaN breaks the line
    assert src[4] == -1 and out[4][0] == 1.0 and src[5] == 3
    assert np.isnan(out[6]).all()
    assert list(src[7:]) == [5, -1] and out[8][0] == -1.0 and out[8][1] == pytest.approx(0.3)
    assert np.abs(out[np.isfinite(out).all(axis=1)]).max() <= 1.0
    # a segment from outside to outside that crosses the box is drawn between its walls
    out, src = clip_polyline(np.array([[-5.0, 0.0], [5.0, 0.1]]), box_lo, box_hi)
    assert out[:, 0].tolist() == [-1.0, 1.0] and list(src) == [-1, -1]
    assert clip_polyline(np.array([[5.0, 5.0]]), box_lo, box_hi)[0].shape == (0, 2)


def test_clip_box_changes_rarely_and_stays_sane():
    from gd_explorer.ui.views._common import CLIP_MAX_SPANS, ClipBox

    box = ClipBox()
    assert box.update(((0.0, 1.0), (0.0, 1.0)))
    x0, x1, y0, y1 = box.box
    assert x0 <= -9 and x1 >= 10  # ten view spans on every side
    assert not box.update(((0.5, 1.5), (0.2, 1.2)))  # a small pan keeps it
    assert not box.update(((-1.0, 2.0), (-1.0, 2.0)))  # zoomed out 3x: still enough margin
    assert box.update(((0.0, 0.01), (0.0, 0.01)))  # zoomed in 100x: a tighter box
    assert box.box[1] - box.box[0] <= CLIP_MAX_SPANS * 0.01
    box.update(((-1e300, 1e300), (0.0, 1.0)))
    assert box.box[0] >= -1e150 and box.box[1] <= 1e150


def test_surface_runaway_path_is_cut_near_the_view_and_marked(qtbot, runaway):
    """Task 1: no coordinate far outside the view reaches pyqtgraph; an arrow says where."""
    v = shown(qtbot, SurfaceView())
    v.set_surface(*bowl_grid(), ("w", "b"))
    assert abs(runaway.params[-1]).max() > 1e49  # the run went far away
    for n in (5, 20, 60, 112):  # as it grows
        v.set_runs([grown_to(runaway, n)], None, (0, 1))
        (vx0, vx1), (vy0, vy1) = v.view_box.viewRange()
        span = max(vx1 - vx0, vy1 - vy0)
        path, point = v.run_items(1)
        pts = drawn_points(path)
        pts = pts[np.isfinite(pts).all(axis=1)]
        assert len(pts) and np.abs(pts).max() <= 12 * span, n
        for item in (path, *path.chunks, path.tail):
            r = item.boundingRect()
            assert max(abs(r.left()), abs(r.right()), abs(r.top()), abs(r.bottom())) < 1e3
    assert not point.isVisible()  # the current point is at 6e49: not drawn ...
    marker = v._runs[1].runaway
    assert marker.arrow.isVisible()  # ... an arrow at the edge says where it went
    text = marker.text()
    k = runaway.n - 1
    assert text.startswith("→ w ≈ ") and f"{runaway.params[k, 0]:.1e}".split("e")[0] in text
    ax, ay = marker.arrow.pos().x(), marker.arrow.pos().y()
    assert vx0 <= ax <= vx1 and vy0 <= ay <= vy1
    # a run that stays in view has neither cut nor marker
    calm = snap_of(2, get_function("bowl"), "sgd", (2.5, -2.0), 50, lr=0.1)
    v.set_runs([calm], None, (0, 1))
    assert not v._runs[2].runaway.arrow.isVisible()
    x, y = v.run_items(2)[0].getData()
    assert np.array_equal(x, calm.params[:, 0]) and np.array_equal(y, calm.params[:, 1])
    # step arrows at a point far away are not drawn either
    v.set_step_arrows(tuple(runaway.params[k]), tuple(runaway.grad[k]), None, None, "#D55E00")
    assert not v.arrow_grad.isVisible()


def test_surface_runaway_paints_no_filled_area_and_leaves_none_behind(qtbot, runaway):
    """Task 2: a diverging path painted a filled rectangle of its colour (offscreen too:
    Qt's antialiased stroke of a 1e49-pixel segment), or vanished once cached; hidden or
    reset, nothing may remain."""
    v = shown(qtbot, SurfaceView(), size=(640, 520))
    v.set_surface(*bowl_grid(), ("x", "y"))
    for n in range(2, runaway.n + 1, 3):
        v.set_runs([grown_to(runaway, n)], None, (0, 1))
    assert largest_blob(image_of(v), "#D55E00") == 0
    path = v.run_items(1)[0]
    assert len(drawn_points(path)) > 10 and path.isVisible()  # drawn, not vanished
    v.set_runs([grown_to(runaway, runaway.n, visible=False)], None, (0, 1))  # hidden
    assert largest_blob(image_of(v), "#D55E00") == 0 and not path.isVisible()
    v.set_runs([grown_to(runaway, 1)], None, (0, 1))  # Reset: the start only
    assert largest_blob(image_of(v), "#D55E00") == 0
    pts = drawn_points(path)
    assert len(pts) == 1 and tuple(pts[0]) == (2.5, -2.0)


def test_surface_growing_paths_keep_their_chunks_with_the_clip_box(qtbot, runaway):
    """Cutting must not cost the prefix cache: a normal run's frame redraws its tail only,
    and so does a run whose path has been cut."""
    v = shown(qtbot, SurfaceView())
    v.set_surface(*rosenbrock_grid(), ("x", "y"))
    f = get_function("rosenbrock")
    calm = snap_of(1, f, "adam", (-1.5, 2.0), 3000, lr=0.05)
    k = np.arange(3000.0)
    spiral = np.column_stack([np.cos(k / 10), np.sin(k / 10)]) * 1.005 ** k[:, None]
    wild = RunSnapshot.make(2, "spiral", "#56B4E9", True, spiral, 1.005 ** k, spiral,
                            np.full(3000, 0.1))  # leaves the clip box at about step 750
    redrawn = []
    for n in range(100, 3000, 50):
        v.set_runs([grown_to(calm, n), grown_to(wild, n)], None, (0, 1))
        if n == 1500:  # from here on, count what the chunks redraw
            for rid in (1, 2):
                for part in v.run_items(rid)[0].chunks:
                    part.sigPlotChanged.connect(lambda item, r=rid: redrawn.append(r))
        if n == 2000:
            v.view_box.translateBy(x=0.05)  # a small pan: the box holds
    body = v.run_items(1)[0].body
    assert len(body.getData()[0]) > 1000  # most of the calm path sits in a cached chunk
    assert len(v.run_items(2)[0].body.getData()[0]) > 100  # and of the cut one
    # of 30 frames, chunks are drawn into now and then (a new chunk, a merge), as without
    # cutting (10 for the calm run), never at every frame
    assert redrawn.count(1) <= 12 and redrawn.count(2) <= 12


def test_curve_view_cuts_runaway_iterates_and_tangent(qtbot):
    f = get_function("parabola")
    run = unchecked_run(1, f, (1.5,), 200, lr=1.5)  # |x| doubles every step
    assert abs(run.params[-1, 0]) > 1e40
    v = shown(qtbot, CurveView())
    xs = np.linspace(-3, 3, 200)
    v.set_curve(xs, xs**2, "w")
    v.set_runs([run], None)
    (x0, x1), (y0, y1) = v.view_box.viewRange()
    px, py = v.run_items(1)[0].getData()
    ok = np.isfinite(px) & np.isfinite(py)
    assert np.abs(px[ok]).max() <= 12 * (x1 - x0) and np.abs(py[ok]).max() <= 12 * (y1 - y0)
    tx, _ = v.run_items(1)[1].getData()
    assert tx is None or len(tx) == 0 or np.abs(tx).max() < 1e3
    assert v._runs[1].runaway.text().startswith("→ w ≈ ")


def test_fit_view_with_1e308_data_and_infinite_fits_draws_without_tracebacks(qtbot,
                                                                             monkeypatch):
    """Task 3: finite, sane data is drawn and sets the range; nothing warns or raises
    (pyqtgraph reported "Not setting range to [nan, nan]" through sys.excepthook)."""
    import sys
    import warnings

    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: hooked.append(a))
    v = shown(qtbot, FitView())
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.0, 1e308, 3.0, -1e308, 5.0, np.inf])
    line = np.linspace(0, 5, 60)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v.set_data(x, y, ("x", "y"))
        v.set_fits([(1, "#D55E00", True, line, 1e300 * line),
                    (2, "#56B4E9", True, line, np.where(line > 2, np.inf, line)),
                    (3, "#E69F00", True, line, np.full_like(line, 4.5e47))])
        v.set_batch(np.arange(6))
        image_of(v)
        QtWidgets.QApplication.processEvents()
    assert not hooked and not [str(w.message) for w in caught]
    (vx0, vx1), (vy0, vy1) = v.view_box.viewRange()
    assert vx0 < 0 and vx1 > 4 and vy0 < 1 and 5 < vy1 < 10  # from 1, 3, 5 only
    sx, sy = v.scatter.getData()
    assert sorted(sy) == [1.0, 3.0, 5.0]
    assert "3 non-finite or beyond" in v.plot_item.titleLabel.text
    bx, by = v.batch.getData()
    assert sorted(by) == [1.0, 3.0, 5.0]
    for rid in (1, 2, 3):
        fx, fy = v.fit_item(rid).getData()
        ok = np.isfinite(fy)
        assert not ok.any() or np.abs(fy[ok]).max() <= 12 * (vy1 - vy0)
    assert v.fit_item(2).getData()[1][0] == 0.0  # the finite part is drawn as it is
    assert v.runaway_marker(3).text() == "→ y ≈ 4.5e47"  # all of it far above: an arrow
    assert not v.runaway_marker(2).arrow.isVisible()


def test_loss_axis_ignores_runaways_and_never_shows_si_multipliers(qtbot, runaway):
    """Task 7: a divergence to 1e99 gave ticks 1e-27 .. 1e73 and "(x1e+27)"."""
    f = get_function("bowl")
    calm = snap_of(2, f, "adam", (2.5, -2.0), 300, color="#56B4E9", lr=0.05)
    v = shown(qtbot, LossView())
    v.set_log_y(True)
    v.set_runs([runaway, calm], None)
    (_, _), (y0, y1) = v.view_box.viewRange()
    assert y1 <= np.log10(runaway.loss[0]) + 4 + 1  # 3 decades above the start, rounded
    assert y0 <= np.log10(calm.loss.min()) + 0.5  # and down to the best loss
    left = v.plot_item.getAxis("left")
    assert left.autoSIPrefix is False and left.labelString().count("x1e") == 0
    marker = v._runs[1].runaway
    assert marker.text().startswith("→ loss ≈ ") and "e99" in marker.text()
    # the drawn curve stops near the view instead of reaching 1e99
    cy = v.run_item(1).curve.getData()[1]
    assert np.nanmax(cy) < 1e10
    # linear axis: no multiplier text either
    v.set_log_y(False)
    v.set_runs([runaway, calm], None)
    assert "x1e" not in left.labelString()
    (_, _), (y0, y1) = v.view_box.viewRange()
    assert y1 <= 12 * runaway.loss[0]


def test_loss_saddle_plateau_is_visible_on_a_linear_axis(qtbot):
    """x² − y² from (−2.5, 0.001): SGD slows near the saddle (f ≈ 0), then escapes to −∞;
    the axis must keep the values around the plateau, not ±1e100."""
    f = get_function("saddle")
    sgd = snap_of(1, f, "sgd", (-2.5, 0.001), 1000, lr=0.1)
    adam = snap_of(2, f, "adam", (-2.5, 0.001), 1000, color="#56B4E9", lr=0.05)
    assert sgd.status == "diverged" or sgd.loss[np.isfinite(sgd.loss)].min() < -1e50
    v = shown(qtbot, LossView())
    v.set_log_y(True)  # loss <= 0: falls back to linear
    v.set_runs([sgd, adam], None)
    (_, _), (y0, y1) = v.view_box.viewRange()
    assert y1 >= 6.25 and -100 < y0 < 0  # the start (6.25), the plateau at ~0, and below
    # the plateau takes a visible share of the height: at least 5 %
    assert (6.25 - 0.0) / (y1 - y0) > 0.05


# ------------------------------------------------------------------------------ 3-D without GL


class _FakeGLItem:
    def __init__(self, **kwargs):
        self.kwargs = dict(kwargs)
        self.data = {}
        self.shown = True

    def setData(self, **kwargs):  # noqa: N802 - as pyqtgraph
        self.data.update(kwargs)

    def setSize(self, *a):  # noqa: N802
        pass

    def setSpacing(self, *a):  # noqa: N802
        pass

    def setColor(self, *a):  # noqa: N802
        pass

    def show(self):
        self.shown = True

    def hide(self):
        self.shown = False


class _FakeGLView(QtWidgets.QWidget):
    def __init__(self):
        super().__init__()
        self.items = []

    def addItem(self, item):  # noqa: N802
        self.items.append(item)

    def removeItem(self, item):  # noqa: N802
        self.items.remove(item)

    def setBackgroundColor(self, *a):  # noqa: N802
        pass

    def setCameraPosition(self, **kw):  # noqa: N802
        pass


@pytest.fixture
def fake_gl(monkeypatch):
    """pyqtgraph.opengl stand-ins that record what the 3-D view hands them (no OpenGL
    offscreen); the view itself is the real one."""
    import sys
    import types

    import pyqtgraph

    import gd_explorer.ui.views.surface3d as s3d

    gl = types.ModuleType("pyqtgraph.opengl")
    gl.GLViewWidget = _FakeGLView
    for name in ("GLGridItem", "GLSurfacePlotItem", "GLLinePlotItem", "GLTextItem"):
        setattr(gl, name, type(name, (_FakeGLItem,), {}))
    monkeypatch.setitem(sys.modules, "pyqtgraph.opengl", gl)
    monkeypatch.setattr(pyqtgraph, "opengl", gl, raising=False)
    monkeypatch.setattr(s3d, "_opengl_ruled_out", lambda: False)
    monkeypatch.setattr(s3d, "opengl_available", lambda: True)
    return gl


def test_surface3d_height_follows_the_log_toggle_and_axes_are_named(qtbot, fake_gl, runaway):
    """Task 6: the 3-D height was always log10(f − min + ε) (the bowl drawn as a spike)."""
    from gd_explorer.ui.views.surface3d import Z_HEIGHT

    v = Surface3DView()
    qtbot.addWidget(v)
    xs, ys, z = bowl_grid(61)
    v.set_surface(xs, ys, z, ("w", "b"))
    assert not v.is_placeholder
    mesh = v._surface
    v.set_log_scale(False)
    h = mesh.data["z"].T  # GLSurfacePlotItem gets z[i, j] at (x[i], y[j])
    # linear: height proportional to f, from 0 at the minimum to Z_HEIGHT at the corners
    np.testing.assert_allclose(h, (z - z.min()) / (z.max() - z.min()) * Z_HEIGHT, rtol=1e-5,
                               atol=1e-6)
    mid = h[30, 15]  # halfway to the edge: f is a quarter of the edge's f
    assert mid == pytest.approx(h[30, 0] / 4, rel=0.02)
    labels = {item.kwargs["text"]: item for item in v.gl_widget.items
              if isinstance(item, fake_gl.GLTextItem)}
    texts = sorted(item.data.get("text", key) for key, item in labels.items())
    assert texts == ["b", "f", "w"]
    v.set_log_scale(True)
    hl = mesh.data["z"].T
    assert hl[30, 15] > 0.8 * Z_HEIGHT  # the log scale lifts the flanks (the "spike")
    assert "f (log scale)" in [item.data.get("text") for item in labels.values()]
    # paths: cut to a box, drawn as segments; a diverged run leaves in its own direction
    v.set_runs([runaway], None, (0, 1))
    line = [item for item in v.gl_widget.items if isinstance(item, fake_gl.GLLinePlotItem)][0]
    pos = line.data["pos"]
    assert line.kwargs["mode"] == "lines" and len(pos) % 2 == 0 and len(pos) > 4
    assert np.isfinite(pos).all() and np.abs(pos).max() <= 3 * Z_HEIGHT
    in_box = [(2.5 - xs[0]) / (xs[-1] - xs[0]) * 2 - 1, (-2 - ys[0]) / (ys[-1] - ys[0]) * 2 - 1]
    assert pos[0][:2] == pytest.approx(in_box, abs=1e-6)  # from the start, (2.5, -2)
    end = pos[-1]  # ... and out of the box, cut on its wall
    assert np.isclose(np.abs(end[:2]).max(), 3.0) or np.isclose(end[2], 3 * Z_HEIGHT)
    away = [item for item in v.gl_widget.items if isinstance(item, fake_gl.GLTextItem)
            and item.kwargs.get("text") == ""][0]  # a run's label, not an axis name
    assert away.shown and away.data["text"].startswith("→ w ≈ -6.2e49, b ≈ 4.9e49")
    lo, hi = np.array([-1.0, -1.0, -0.2]), np.array([1.0, 1.0, Z_HEIGHT + 0.3])
    at = np.array(away.data["pos"])  # where it leaves the part the camera sees
    assert (at >= lo - 1e-6).all() and (at <= hi + 1e-6).all()
    assert np.isclose(at, lo).any() or np.isclose(at, hi).any()


def test_window_log_colour_toggle_reaches_the_3d_view(qtbot, fake_gl):
    """View ▸ Log colour scale (L) changed the 2-D colours only; the 3-D stayed a log spike."""
    from gd_explorer.core.session.specs import ProblemSpec
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    try:
        w.model.set_problem(ProblemSpec(kind="function", function="bowl"))
        mesh = w.surface3d.gl_widget and w.surface3d._surface
        xs, ys, z, _ = w.model.surface
        assert w.action_log_colour.isChecked()
        w.action_log_colour.trigger()  # off: linear colours and linear height
        assert not w.action_log_colour.isChecked()
        h = mesh.data["z"].T
        sx, sy = -(-len(xs) // 200), -(-len(ys) // 200)
        zz = z[::sy, ::sx]
        np.testing.assert_allclose(h / h.max(), (zz - zz.min()) / (zz.max() - zz.min()),
                                   atol=1e-5)
        w.action_log_colour.trigger()
        assert mesh.data["z"].T[len(h) // 2, len(h) // 4] > 0.6 * h.max()  # log again
    finally:
        w.close()


# ------------------------------------------------------------------------------ user text


HOSTILE = "<h1>X</h1><a href='http://e'>l</a>"


def test_user_text_is_shown_as_plain_text_in_legends_titles_and_axes(qtbot, runs):
    """Run labels, dataset/column names, parameter names from a shared session or a CSV
    reached pyqtgraph's HTML labels: a heading and a live link instead of the text."""
    hostile = RunSnapshot.make(1, HOSTILE, "#D55E00", True, runs[0].params, runs[0].loss,
                               runs[0].grad, runs[0].lr)
    surface, loss, curve, fit, slice_ = (SurfaceView(), LossView(), CurveView(), FitView(),
                                        SliceView())
    for v in (surface, loss, curve, fit, slice_):
        qtbot.addWidget(v)
    surface.set_surface(*rosenbrock_grid(), (HOSTILE, "b"))
    surface.set_runs([hostile], None, (0, 1))
    loss.set_runs([hostile], None)
    one_d = RunSnapshot.make(1, HOSTILE, "#D55E00", True, runs[0].params[:, :1],
                             runs[0].loss, runs[0].grad[:, :1], runs[0].lr)
    xs = np.linspace(-2, 2, 50)
    curve.set_curve(xs, xs**2, HOSTILE)
    curve.set_runs([one_d], None)
    fit.set_data(xs, xs, (HOSTILE, HOSTILE))
    slice_.set_slice(HOSTILE, xs, xs**2, (0.0, 0.0), "#D55E00")
    labels = [surface.legend.items[0][1], loss.legend.items[0][1], curve.legend.items[0][1],
              surface.plot_item.getAxis("bottom").label, curve.plot_item.getAxis("bottom").label,
              curve.plot_item.titleLabel, fit.plot_item.getAxis("bottom").label,
              fit.plot_item.getAxis("left").label, slice_.plot_item.titleLabel,
              slice_.plot_item.getAxis("bottom").label]
    for label in labels:
        shown = label.item.toPlainText() if hasattr(label, "item") else label.toPlainText()
        assert "<h1>X</h1>" in shown, shown  # the tags are shown, not obeyed
        html = label.item.toHtml() if hasattr(label, "item") else label.toHtml()
        assert "<a " not in html and "<h1" not in html  # no link, no heading
    assert "&lt;h1&gt;" in surface.legend.items[0][1].text


# ------------------------------------------------------------------------------ in the window


@pytest.fixture
def shown_window(qtbot):
    from gd_explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.speed_slider.setValue(w.speed_slider.maximum())  # the app starts at 50 steps/s
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def wheel(qtbot, view, steps: int, at=None):
    """Real mouse-wheel events on a PlotView's viewport (negative: zoom out)."""
    vp = view.plot_widget.viewport()
    pos = QtCore.QPointF(vp.rect().center()) if at is None else QtCore.QPointF(at)
    for _ in range(abs(steps)):
        ev = QtGui.QWheelEvent(pos, QtCore.QPointF(vp.mapToGlobal(pos.toPoint())),
                               QtCore.QPoint(0, 0), QtCore.QPoint(0, 120 if steps > 0 else -120),
                               QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                               QtCore.Qt.ScrollPhase.NoScrollPhase, False)
        QtWidgets.QApplication.sendEvent(vp, ev)


def grid_covers(model, view) -> bool:
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    xs, ys, z, _ = model.surface
    return z is not None and xs[0] <= x0 and xs[-1] >= x1 and ys[0] <= y0 and ys[-1] >= y1


def test_surface_axes_are_equal_for_functions_and_free_for_datasets(shown_window, qtbot):
    """Task 4: x² + y² was drawn as tall ellipses."""
    from gd_explorer.core.session.specs import ProblemSpec

    w, m = shown_window, shown_window.model
    m.set_problem(ProblemSpec(kind="function", function="bowl"))
    px, py = w.surface_view.view_box.viewPixelSize()
    assert px == pytest.approx(py, rel=1e-6)  # one unit is as long across as up
    assert m.equal_aspect  # the model says so, the view does not guess
    qtbot.waitUntil(lambda: grid_covers(m, w.surface_view), timeout=3000)
    QtWidgets.QApplication.processEvents()
    # a contour of x² + y² is round on screen: as wide as high in pixels
    cx, cy = w.surface_view.contours.getData()
    ring = np.hypot(cx, cy)
    r = np.median(ring)
    near = np.abs(ring - r) < 0.02 * r
    assert (cx[near].max() - cx[near].min()) / px == pytest.approx(
        (cy[near].max() - cy[near].min()) / py, rel=0.03)
    qtbot.mouseClick(w.problem_panel.dataset_radio, QtCore.Qt.MouseButton.LeftButton)
    assert m.problem.kind == "dataset" and not m.equal_aspect
    assert w.surface_view.view_box.state["aspectLocked"] is False
    (x0, x1), (y0, y1) = w.surface_view.view_box.viewRange()
    xs, ys, _, _ = m.surface
    assert x0 == pytest.approx(xs[0], abs=0.02 * (xs[-1] - xs[0]))  # the grid fills it
    assert y1 == pytest.approx(ys[-1], abs=0.02 * (ys[-1] - ys[0]))


def test_zooming_out_and_panning_recompute_the_surface_where_the_view_is(shown_window, qtbot):
    """Task 5: zooming out showed black around the grid; runs that left it vanished."""
    from gd_explorer.core.session.specs import ProblemSpec

    w, m = shown_window, shown_window.model
    m.set_problem(ProblemSpec(kind="function", function="rosenbrock"))
    view = w.surface_view
    qtbot.waitUntil(lambda: grid_covers(m, view), timeout=3000)
    first = m.surface_window
    wheel(qtbot, view, -6)  # real wheel events: zoom out
    (x0, x1), _ = view.view_box.viewRange()
    assert x1 - x0 > 1.5 * (first[0][1] - first[0][0])  # zoomed out
    qtbot.waitUntil(lambda: grid_covers(m, view), timeout=3000)  # after the debounce
    assert m.surface[0].size == 200  # as fine as before, over the larger range
    # the image covers the view: no black margin
    rect = view.image.mapRectToParent(view.image.boundingRect())
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    assert rect.left() <= x0 and rect.right() >= x1 and rect.top() <= y0 and rect.bottom() >= y1
    # a drag pans: the surface follows again
    vp = view.plot_widget.viewport()
    a = vp.rect().center()
    qtbot.mousePress(vp, QtCore.Qt.MouseButton.LeftButton, pos=a)
    for t in range(1, 7):
        qtbot.mouseMove(vp, a + QtCore.QPoint(40 * t, 25 * t), delay=5)
    qtbot.mouseRelease(vp, QtCore.Qt.MouseButton.LeftButton, pos=a + QtCore.QPoint(240, 150))
    assert view.view_box.viewRange()[0][0] < x0  # panned left-wards (dragged right)
    qtbot.waitUntil(lambda: grid_covers(m, view), timeout=3000)
    # right-click → View All goes back to the problem's own window
    view.view_box.autoRange()
    (x0, x1), _ = view.view_box.viewRange()
    d = m.default_surface_window
    assert x0 <= d[0][0] + 1e-9 and x1 >= d[0][1] - 1e-9 and x1 - x0 < 1.5 * (d[0][1] - d[0][0])


def test_fit_to_paths_shows_the_runs_and_the_start(shown_window, qtbot):
    """Task 5: View ▸ Fit surface to paths (F) sets the model's surface window."""
    from PySide6.QtGui import QAction

    from gd_explorer.core.session.specs import ProblemSpec, RunSpec

    w, m = shown_window, shown_window.model
    m.set_problem(ProblemSpec(kind="function", function="bowl"))
    m.update_run(m.runs[0].run_id, RunSpec("sgd", 0.99, hyper={"momentum": 0.5}))
    m.set_limits(max_steps=60)
    qtbot.mouseClick(w.run_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not m.running, timeout=10_000)
    act = w.findChild(QAction, "actionFitToPaths")
    assert act.shortcut().toString() == "F" and act in w.findChild(QtWidgets.QMenuBar)\
        .actions()[2].menu().actions()
    act.trigger()
    (x0, x1), (y0, y1) = m.surface_window
    pts = np.concatenate([s.params for s in m.snapshots()])
    assert x0 <= pts[:, 0].min() and x1 >= pts[:, 0].max()
    assert y0 <= pts[:, 1].min() and y1 >= pts[:, 1].max()
    assert x1 - x0 < 1.3 * (pts[:, 0].max() - pts[:, 0].min()) + 0.2
    (vx0, vx1), (vy0, vy1) = w.surface_view.view_box.viewRange()
    assert vx0 <= pts[:, 0].min() and vx1 >= pts[:, 0].max()  # the view shows them
    assert vy0 <= pts[:, 1].min() and vy1 >= pts[:, 1].max()


def test_hidden_selected_run_draws_no_step_arrows(shown_window, qtbot):
    w, m = shown_window, shown_window.model
    qtbot.mouseClick(w.step_button, QtCore.Qt.MouseButton.LeftButton)
    sel = m.selected_run_id
    assert w.surface_view.arrow_grad.isVisible()  # the selected run's −∇f
    row = [r.run_id for r in m.runs].index(sel)
    w.runs_panel.run_list.item(row).setCheckState(QtCore.Qt.CheckState.Unchecked)  # hide it
    assert m.selected_run_id == sel and not m.selected_snapshot().visible
    arrows = (w.surface_view.arrow_grad, w.surface_view.arrow_update, w.surface_view.arrow_mom)
    assert not any(a.isVisible() for a in arrows)
    assert not any(label.isVisible() for label in w.surface_view.arrow_labels.values())
    qtbot.mouseClick(w.step_button, QtCore.Qt.MouseButton.LeftButton)
    assert not any(a.isVisible() for a in arrows)  # and stays hidden while it moves on
    w.runs_panel.run_list.item(row).setCheckState(QtCore.Qt.CheckState.Checked)
    assert w.surface_view.arrow_grad.isVisible()


@pytest.mark.parametrize(("name", "hyper"), [("sgd", {"momentum": 0.9}), ("lion", {}),
                                           ("nadam", {}), ("rprop", {}), ("asgd", {})])
def test_momentum_arrow_is_the_buffer_the_entry_names(shown_window, qtbot, name, hyper):
    from dataclasses import replace

    from gd_explorer.core.optim.optimizers import OPTIMIZERS

    w, m = shown_window, shown_window.model
    rid = m.selected_run_id
    m.update_run(rid, replace(m.run(rid).spec, optimizer=name, hyper=hyper))
    for _ in range(3):
        qtbot.mouseClick(w.step_button, QtCore.Qt.MouseButton.LeftButton)
    key = OPTIMIZERS[name].momentum_buffer
    assert w.surface_view.arrow_mom.isVisible() == (key is not None)
    if key is not None:  # the arrow starts at the current point
        assert np.any(m.selected_snapshot().state[key])
        xs, ys = w.surface_view.arrow_mom.getData()
        p = m.selected_snapshot().params[-1]
        assert np.isclose(xs[0], p[0]) and np.isclose(ys[0], p[1])


def test_hover_text_does_not_outlive_the_function(shown_window, qtbot):
    """The corner kept the old function's f after switching functions."""
    from gd_explorer.core.session.specs import ProblemSpec

    w, m = shown_window, shown_window.model
    view = w.surface_view
    scene_pos = view.view_box.mapViewToScene(QtCore.QPointF(0.5, 0.5))
    view.plot_widget.scene().sigMouseMoved.emit(scene_pos)  # what a mouse move emits
    text = view.corner_label.toPlainText()
    assert view.corner_label.isVisible() and f"f = {(1 - 0.5)**2 + 100 * 0.25**2:.6g}" in text
    i = w.problem_panel.function_picker.findData("bowl")
    w.problem_panel.function_picker.setCurrentIndex(i)
    w.problem_panel.function_picker.activated.emit(i)  # as a user's pick
    assert m.objective.name == "bowl"
    assert not view.corner_label.isVisible() or "f = 0.5" in view.corner_label.toPlainText()
    m.set_problem(ProblemSpec(kind="function", function="rosenbrock"))
    assert not view.corner_label.isVisible()


def test_curve_tangent_labels_of_several_runs_do_not_overlap(qtbot):
    """Runs from one start share their first tangent: the labels were drawn on top of each
    other."""
    f = get_function("fence-area")
    runs3 = [snap_of(i, f, "sgd", (57.0,), 30, color=c, lr=lr, maximize=True)
             for i, (lr, c) in enumerate(((0.1, "#D55E00"), (0.3, "#56B4E9"),
                                          (0.05, "#E69F00")), 1)]
    v = shown(qtbot, CurveView())
    xs = np.linspace(0, 100, 201)
    v.set_curve(xs, 100 * xs - xs**2, "x")
    for cursor in (0, 1, 5):
        v.set_runs(runs3, cursor)
        QtWidgets.QApplication.processEvents()
        rects = [v._runs[i].slope_label.sceneBoundingRect() for i in (1, 2, 3)]
        assert all(r.width() > 10 for r in rects)
        for a in range(3):
            for b in range(a + 1, 3):
                assert not rects[a].intersects(rects[b]), (cursor, a, b)
    # each still starts at its own tangent's end: the first label did not move
    k = runs3[0].index(5)
    lx = v._runs[1].slope_label.pos().x()
    x0 = runs3[0].params[k, 0]
    assert abs(lx - x0) == pytest.approx(0.12 * (v._rect[1] - v._rect[0]))


def test_legends_go_where_they_cover_neither_the_start_nor_the_runs(qtbot):
    """The legend sat in the top-right corner whatever was there: over the start ★ and
    the paths of a run that started there, over a loss curve that rose."""
    f = get_function("bowl")
    runs2 = [snap_of(1, f, "sgd", (2.6, 2.6), 60, color="#D55E00", lr=0.05, label="SGD"),
             snap_of(2, f, "adam", (2.6, 2.6), 60, color="#56B4E9", lr=0.05, label="Adam")]
    v = shown(qtbot, SurfaceView(), size=(640, 520))
    v.set_surface(*bowl_grid(), ("x", "y"))
    v.set_start((2.6, 2.6))  # in the top-right corner
    v.set_runs(runs2, None, (0, 1))
    QtWidgets.QApplication.processEvents()
    box = v.legend.sceneBoundingRect()
    star = v.view_box.mapViewToScene(QtCore.QPointF(2.6, 2.6))
    assert not box.contains(star)
    for s in runs2:
        for x, y in s.params[::3]:
            assert not box.contains(v.view_box.mapViewToScene(QtCore.QPointF(x, y)))
    # the loss: a run that climbs to the top-right corner
    up = synthetic(3, 300, loss=np.linspace(1.0, 50.0, 300))
    down = synthetic(4, 300, loss=np.linspace(1.0, 0.5, 300))
    lv = shown(qtbot, LossView(), size=(640, 400))
    lv.set_runs([up, down], None)
    QtWidgets.QApplication.processEvents()
    box = lv.legend.sceneBoundingRect()
    for y_data, s in ((up.loss, up), (down.loss, down)):
        for k in range(0, 300, 10):
            p = lv.view_box.mapViewToScene(QtCore.QPointF(k, y_data[k]))
            assert not box.contains(p), (s.label, k)


@pytest.mark.parametrize("log", [False, True])
def test_colour_bar_shows_numbers(qtbot, log):
    """With f up to 2.6e7 (the fence fit, linear colours) the bar showed no number at all:
    pyqtgraph dropped every label wider than the bar's axis."""
    xs, ys = np.linspace(-1, 3, 50), np.linspace(-800, 4000, 60)
    z = 1e6 + (xs[None, :] * 1000) ** 2 + ys[:, None] ** 2
    v = shown(qtbot, SurfaceView(), size=(500, 400))
    v.set_log_scale(log)
    v.set_surface(xs, ys, z, ("w", "b"))
    QtWidgets.QApplication.processEvents()
    axis = v.colorbar.axis
    img = image_of(v)
    bar = axis.sceneBoundingRect().toRect()
    region = img[bar.top():bar.bottom(), bar.left() + 8:bar.right()]  # right of the ticks
    assert (region.max(axis=2) > 120).sum() > 50  # light text on the dark background
    ticks = axis._tickLevels[0]
    assert len(ticks) >= 3
    metrics = QtGui.QFontMetrics(axis.style["tickFont"] or QtGui.QFont())
    assert all(metrics.horizontalAdvance(text) + 8 < axis.width() for _, text in ticks)
    title = v.colorbar.getAxis("left").labelText
    if log:
        assert title.startswith("f − min") and "1e6" in title  # the minimum is 1e6
        assert [text for _, text in ticks][:2] == ["1", "10"] or len(ticks) >= 4
    else:
        assert title == "f" and {text for _, text in ticks} >= {"1e7", "2e7"}
    from gd_explorer.ui.views.surface import colorbar_ticks, short_number

    assert [short_number(v) for v in (0.25, 1500, 2.5e7, 1e-4, 1000)] == \
        ["0.25", "1500", "2.5e7", "1e-4", "1000"]
    assert colorbar_ticks(0.0, 1.0, {"log": False})[0][0] == (0.0, "0")


def test_loss_log_axis_over_hundreds_of_decades(qtbot):
    v = shown(qtbot, LossView())
    v.set_log_y(True)
    tiny = synthetic(1, 400, loss=np.logspace(0, -300, 400))  # the box spans ±3000 decades
    v.set_runs([tiny], None)
    x, y = v.run_item(1).getOriginalDataset()
    assert np.array_equal(y, tiny.loss)
    (_, _), (y0, y1) = v.view_box.viewRange()
    assert y0 <= -300 and y1 >= 0


def test_window_fits_a_csv_with_1e308_without_warnings(shown_window, qtbot, tmp_path,
                                                       monkeypatch, message_boxes):
    """Task 3 through the window. A CSV with ±1e308 cannot be fitted (the loss overflows
    at every point): it is refused in one line and changes nothing. One with ±1e40
    outliers is fitted, run and shown on the Fit tab without a warning or traceback."""
    import sys
    import warnings

    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: hooked.append(a))
    w = shown_window
    body = "x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(20))
    huge = tmp_path / "huge.csv"
    huge.write_text(body + "20,1e308\n21,-1e308\n")
    big = tmp_path / "big.csv"
    big.write_text(body + "20,1e40\n21,-1e40\n")
    before = w.model.session()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not w.load_csv(str(huge))
        assert w.model.session() == before
        text = message_boxes.texts("warning")[-1]
        assert "at the start" in text and "\n" not in text, text
        assert w.load_csv(str(big)), message_boxes.texts("warning")
        qtbot.mouseClick(w.run_button, QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not w.model.running, timeout=10_000)
        w.main_tabs.setCurrentWidget(w.fit_view)
        for view in (w.fit_view, w.surface_view, w.loss_view):
            image_of(view)
        QtWidgets.QApplication.processEvents()
    assert not hooked and not [str(c.message) for c in caught]
    sx, sy = w.fit_view.scatter.getData()
    assert len(sy) == 22
    (x0, x1), (y0, y1) = w.fit_view.view_box.viewRange()
    assert all(np.isfinite(v) for v in (x0, x1, y0, y1)) and y0 < -1e39 and y1 > 1e39
