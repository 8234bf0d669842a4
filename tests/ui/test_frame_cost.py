"""What keeps a frame cheap: stable path samples, cached curve prefixes, pixmap markers,
step-log patches, coarse loss curves and hidden views that wait. Each must draw what the
plain way drew."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
import pytest  # noqa: E402
from PySide6 import QtGui, QtWidgets  # noqa: E402

from gd_explorer.core.engine.descent import run_descent  # noqa: E402
from gd_explorer.core.optim.optimizers import make_optimizer  # noqa: E402
from gd_explorer.core.problems.functions import get_function  # noqa: E402
from gd_explorer.model.snapshot import RunSnapshot  # noqa: E402
from gd_explorer.ui.views import FitView, LossView, StepLogView, SurfaceView  # noqa: E402
from gd_explorer.ui.views._common import (  # noqa: E402
    MAX_PATH_POINTS,
    TAIL_POINTS,
    CachedPrefixCurve,
    PointMarker,
    common_prefix,
    stable_stride,
    stable_stride_indices,
    stride_indices,
)


def walk(run_id, n, seed=0, color="#ff7f0e"):
    rng = np.random.default_rng(seed)
    params = np.cumsum(rng.normal(size=(n, 2)), axis=0) * 1e-2
    loss = np.exp(-np.arange(n) / (n / 5 + 1)) + 0.01 * rng.random(n)
    return RunSnapshot.make(run_id, f"run {run_id}", color, True, params, loss,
                            rng.normal(size=(n, 2)), np.full(n, 0.01))


def grown(snap, n):
    """The first ``n`` rows of ``snap``: the same run, earlier."""
    return RunSnapshot.make(snap.run_id, snap.label, snap.color, True, snap.params[:n],
                            snap.loss[:n], snap.grad[:n], snap.lr[:n])


def parts_xy(curve: CachedPrefixCurve):
    """The points the chunks and the tail draw, joined (shared end points once)."""
    xs, ys = [], []
    for part in (*curve.chunks, curve.tail):
        px, py = part.getData()
        if px is None or len(px) == 0:
            continue
        if xs:
            assert (px[0], py[0]) == (xs[-1][-1], ys[-1][-1])  # neighbours share a point
            px, py = px[1:], py[1:]
        xs.append(px)
        ys.append(py)
    return np.concatenate(xs), np.concatenate(ys)


def render(view, size=(420, 360)) -> np.ndarray:
    view.resize(*size)
    img = QtGui.QImage(*size, QtGui.QImage.Format.Format_ARGB32)
    img.fill(0)
    painter = QtGui.QPainter(img)
    view.plot_widget.render(painter)
    painter.end()
    return np.array(img.constBits(), dtype=np.uint8).reshape(size[1], size[0], 4).copy()


# ------------------------------------------------------------------------------ strides


def test_stable_stride_indices_bounds_last_row_and_stay_put_while_growing():
    assert stable_stride_indices(0).size == 0
    assert list(stable_stride_indices(3)) == [0, 1, 2]
    assert len(stable_stride_indices(MAX_PATH_POINTS)) == MAX_PATH_POINTS
    for count in (MAX_PATH_POINTS + 1, 10_000, 123_457, 1_000_000, 7_654_321):
        idx = stable_stride_indices(count)
        assert len(idx) <= MAX_PATH_POINTS
        assert len(idx) >= 0.8 * len(stride_indices(count)) - 1  # as dense as before, nearly
        assert idx[0] == 0 and idx[-1] == count - 1 and np.all(np.diff(idx) > 0)
    # a growing path keeps its samples until the stride steps up (then by at most 25 %)
    before, after = stable_stride_indices(200_000), stable_stride_indices(203_000)
    assert stable_stride(200_000) == stable_stride(203_000)
    np.testing.assert_array_equal(before[:-1], after[:len(before) - 1])
    steps = sorted({stable_stride(n) for n in range(2_500, 2_000_000, 997)})
    assert all(b <= max(a + 1, a * 1.25) for a, b in zip(steps, steps[1:], strict=False))


def test_common_prefix_is_bitwise_and_nan_aware():
    a = np.array([1.0, np.nan, 3.0, 4.0])
    assert common_prefix(a, a, a.copy(), a.copy()) == 4
    b = a.copy()
    b[2] = 3.5
    assert common_prefix(a, a, b, a) == 2
    assert common_prefix(a[:2], a[:2], a, a) == 2
    assert common_prefix(a, a, np.empty(0), np.empty(0)) == 0
    assert common_prefix(a, a, [1.0], [1.0]) == 0  # not arrays: nothing assumed shared


# ------------------------------------------------------------------------------ cached curve


def test_cached_prefix_curve_keeps_its_body_while_the_curve_grows(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    curve = CachedPrefixCurve(pen=pg.mkPen("r", width=2), connect="finite")
    plot.addItem(curve)
    rng = np.random.default_rng(1)
    x, y = np.arange(5_000.0), rng.normal(size=5_000)
    drawn = []  # (chunk, points) each time a chunk is (re)drawn
    for part in curve.chunks:
        part.sigPlotChanged.connect(lambda item: drawn.append(len(item.getData()[0])))
    for n in range(100, 5_000, 37):
        curve.setData(x[:n], y[:n])
        gx, gy = curve.getData()
        assert np.array_equal(gx, x[:n]) and np.array_equal(gy, y[:n])
        px, py = parts_xy(curve)
        assert np.array_equal(px, x[:n]) and np.array_equal(py, y[:n])  # nothing lost
        assert len(curve.tail.getData()[0]) <= TAIL_POINTS + 37 + 1
    # each point is drawn into a chunk a few times (chunks merge like a binary counter),
    # not at every frame nor at every new chunk
    assert len(drawn) < 60 and sum(drawn) < 5_000 * (1 + np.log2(5_000 / TAIL_POINTS))
    assert sum(len(c.getData()[0]) > 0 for c in curve.chunks) <= 1 + np.log2(
        5_000 / TAIL_POINTS)
    # a different curve: everything redrawn, still exact
    curve.setData(x[:300], -y[:300])
    px, py = parts_xy(curve)
    assert np.array_equal(py, -y[:300])
    # an outline must pass under every segment: the tail then draws the whole curve
    curve.setShadowPen(pg.mkPen("k", width=4))
    curve.setData(x[:400], -y[:400])
    assert len(curve.body.getData()[0]) == 0 and len(curve.tail.getData()[0]) == 400
    assert curve.tail.opts["shadowPen"] is not None
    curve.setPen(pg.mkPen("b", width=2))
    assert curve.tail.opts["pen"].color() == pg.mkColor("b")
    assert curve.boundingRect().isEmpty()  # the children draw; the container dirties nothing


def test_surface_paths_draw_as_before_when_split(qtbot):
    """A path shown as body + tail renders the same pixels as one plain item."""
    big = walk(1, 40_000, seed=3)
    split, plain, empty = SurfaceView(), SurfaceView(), SurfaceView()
    for v in (split, plain, empty):
        qtbot.addWidget(v)
        v.view_box.setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)
    for n in range(30_000, 40_001, 1_000):
        split.set_runs([grown(big, n)], None, (0, 1))
    path = split.run_items(1)[0]
    assert len(path.body.getData()[0]) > 1_000 and len(path.tail.getData()[0]) < 1_000
    plain.set_runs([big], None, (0, 1))
    item = plain.run_items(1)[0]
    x, y = item.getData()
    # all in one (cached) part, nothing in the tail
    item.body.setData(x, y, pen=item.opts["pen"], antialias=True, connect="finite")
    item.body.show()
    item.tail.setData(np.empty(0), np.empty(0))
    a, b = render(split), render(plain)
    diff = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
    drawn = np.count_nonzero(np.abs(a.astype(int) - render(empty).astype(int)).max(axis=2))
    # the same segments in the same order; only the rounding of anti-aliased edges where
    # the tail crosses the cached body may differ, by a few levels on a few pixels
    assert np.count_nonzero(diff > 8) < 0.01 * drawn and diff.max() < 64


# ------------------------------------------------------------------------------ markers


def test_point_marker_moves_hides_and_exports(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    m = PointMarker(13, pg.mkPen("w", width=1.5), pg.mkBrush("#ff0000"))
    plot.addItem(m, ignoreBounds=True)
    m.set_point(0.5, -2.0)
    x, y = m.getData()
    assert (x[0], y[0]) == (0.5, -2.0) and m.isVisible()
    assert (m.pos().x(), m.pos().y()) == (0.5, -2.0)
    m.set_point(np.nan, 1.0)
    assert not m.isVisible() and len(m.getData()[0]) == 0
    m.set_point(1.0, 1.0)
    assert m.isVisible()
    before = m.pixmap().toImage()
    m.set_brush("#00ff00")
    assert m.pixmap().toImage() != before
    # the pixmap is centred on the point, at the symbol's size
    assert m.offset().x() == pytest.approx(-m.pixmap().width() / m.pixmap().devicePixelRatio() / 2)
    m.setExportMode(True)
    img = QtGui.QImage(40, 40, QtGui.QImage.Format.Format_ARGB32)
    img.fill(0)
    p = QtGui.QPainter(img)
    p.translate(20, 20)
    m.paint(p, QtWidgets.QStyleOptionGraphicsItem())
    p.end()
    m.setExportMode(False)
    assert QtGui.QColor(img.pixel(20, 20)).green() > 200  # drawn as a shape, filled green


# ------------------------------------------------------------------------------ step log


def test_step_log_patches_lines_and_shows_what_a_fresh_log_shows(qtbot):
    f = get_function("rosenbrock")
    opt = make_optimizer("adam", lr=0.05)
    tr = run_descent(f, opt, np.array([-1.5, 2.0]), steps=300)
    snap = RunSnapshot.make(1, "adam", "#ffb000", True, tr.params, tr.loss, tr.grad, tr.lr,
                            state={"exp_avg": np.array([0.1, 0.2])}, optimizer_title=opt.title,
                            optimizer=opt.name,
                            hyper={"lr": 0.05})
    live, fresh = StepLogView(), StepLogView()
    qtbot.addWidget(live)
    qtbot.addWidget(fresh)
    patched = []
    original = live._patch
    live._patch = lambda lines: (patched.append(1), original(lines))
    for cursor in (None, 5, 6, 100, 299, None, 0, 1, 150):
        live.set_entry(snap, cursor, ("x", "y"), False)
        fresh._lines, fresh._last = [], None
        fresh.set_entry(snap, cursor, ("x", "y"), False)
        assert live.toHtml() == fresh.toHtml()  # same text, same bold runs
    assert len(patched) >= 5
    assert live.document().isUndoRedoEnabled() is False  # patches leave no history behind


# ------------------------------------------------------------------------------ loss


def test_loss_curve_in_view_is_coarse_and_keeps_the_peaks(qtbot):
    v = LossView()
    qtbot.addWidget(v)
    v.resize(500, 300)
    n = 400_000
    loss = np.exp(-np.arange(n) / 1e5) + 0.01 * np.random.default_rng(2).random(n)
    loss[234_567] = 40.0
    loss[345_678] = 1e-5
    big = RunSnapshot.make(1, "big", "#ff0000", True, np.zeros((n, 1)), loss,
                           np.zeros((n, 1)), np.full(n, 0.1))
    v.set_runs([big], None)
    x, y = v.run_item(1).getOriginalDataset()
    assert len(x) <= v._coarse_points() and len(x) <= 16 * max(v.view_box.width(), 100)
    assert y.max() == 40.0 and y.min() == 1e-5 and x[-1] == n - 1
    # zoomed in by hand: the finer summary, for pyqtgraph to clip and downsample
    v._on_manual_range()
    fx, fy = v.run_item(1).getOriginalDataset()
    assert len(fx) > 4 * len(x) and fy.max() == 40.0
    v.fit_view()  # back to following the run: coarse again
    assert len(v.run_item(1).getOriginalDataset()[0]) == len(x)


def test_loss_points_follow_log_mode(qtbot):
    v = LossView()
    qtbot.addWidget(v)
    a = walk(1, 200, seed=1)
    v.set_log_y(True)
    v.set_runs([a], 50)
    marker = v.points._markers[0]
    assert marker.isVisible()
    assert marker.pos().y() == pytest.approx(np.log10(a.loss[50]))
    px, py = v.points.getOriginalDataset()
    assert list(px) == [50.0] and list(py) == [a.loss[50]]
    v.set_runs([], None)
    assert not marker.isVisible()


# ------------------------------------------------------------------------------ hidden views


def test_views_in_hidden_tabs_wait_until_shown(qtbot):
    tabs = QtWidgets.QTabWidget()
    qtbot.addWidget(tabs)
    surface, fit = SurfaceView(), FitView()
    tabs.addTab(surface, "surface")
    tabs.addTab(fit, "fit")
    tabs.resize(640, 480)
    tabs.show()
    qtbot.waitExposed(tabs)
    a = walk(1, 500)
    surface.set_runs([a], None, (0, 1))
    assert surface.run_items(1) is not None
    line = np.linspace(0, 1, 20)
    fit.set_fits([(1, "#ff0000", True, line, 2 * line)])  # hidden tab: kept for later
    assert fit.fit_item(1) is None
    tabs.setCurrentWidget(fit)
    assert fit.fit_item(1) is not None  # caught up when shown
    surface.set_runs([grown(a, 100)], None, (0, 1))  # now surface is the hidden one
    assert len(surface.run_items(1)[0].getData()[0]) == 500
    tabs.setCurrentWidget(surface)
    assert len(surface.run_items(1)[0].getData()[0]) == 100
