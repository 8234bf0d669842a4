"""Render every view with realistic data to PNGs in a temporary folder (a look-at-it helper, not a test).

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python tests/ui/render_views.py [outdir] [WxH]
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6 import QtWidgets  # noqa: E402

from gd_explorer.core.engine.descent import run_descent  # noqa: E402
from gd_explorer.core.optim.optimizers import make_optimizer  # noqa: E402
from gd_explorer.core.problems.datasets import dataset_objective  # noqa: E402
from gd_explorer.core.problems.functions import get_function  # noqa: E402
from gd_explorer.model.snapshot import RunSnapshot  # noqa: E402
from gd_explorer.ui.views import (  # noqa: E402
    CurveView,
    FitView,
    LossView,
    SliceView,
    StepLogView,
    Surface3DView,
    SurfaceView,
)

COLORS = ["#4cc9f0", "#f72585", "#ffb000", "#80ed99"]


def snapshot(run_id, label, color, objective, opt_name, start, steps, **hyper):
    opt = make_optimizer(opt_name, **hyper)
    tr = run_descent(objective, opt, np.asarray(start, float), steps=steps)
    # the optimizer's state after the run, as the worker would publish it
    state = opt.init_state(np.asarray(tr.params[:1]))
    p = np.asarray(tr.params[:1]).copy()
    for i in range(tr.steps):
        p = opt.step(p, tr.grad[i:i + 1], state, lr=float(tr.lr[i]))
    bufs = {k: np.asarray(v)[0] for k, v in state.buffers().items() if np.size(v)}
    return RunSnapshot.make(run_id, label, color, True, tr.params, tr.loss, tr.grad, tr.lr,
                            status=tr.status, message=tr.message, state=bufs,
                            optimizer_title=opt.title, optimizer=opt.name, hyper={"lr": opt.lr, **hyper})


def grid(obj, nx=200, ny=200):
    (x0, x1), (y0, y1) = obj.window
    xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
    gx, gy = np.meshgrid(xs, ys)
    z = obj.values(np.column_stack([gx.ravel(), gy.ravel()])).reshape(ny, nx)
    return xs, ys, z


def main(outdir=None, size="640x480"):
    if outdir is None:
        import tempfile

        outdir = os.path.join(tempfile.gettempdir(), "gdx-views")
    os.makedirs(outdir, exist_ok=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    size = tuple(int(v) for v in size.split("x"))

    def save(w, name):
        w.resize(*size)
        w.show()
        app.processEvents()
        app.processEvents()
        w.grab().save(os.path.join(outdir, name + ".png"))
        print("wrote", name)

    # ---------------------------------------------------------------- rosenbrock surface
    rb = get_function("rosenbrock")
    xs, ys, z = grid(rb)
    runs = [
        snapshot(1, "SGD lr=0.001", COLORS[0], rb, "sgd", (-1.5, 2.0), 3000, lr=0.001),
        snapshot(2, "SGD+momentum 0.9", COLORS[1], rb, "sgd", (-1.5, 2.0), 3000, lr=0.0005,
                 momentum=0.9),
        snapshot(3, "Adam lr=0.05", COLORS[2], rb, "adam", (-1.5, 2.0), 3000, lr=0.05),
    ]
    sv = SurfaceView()
    sv.set_surface(xs, ys, z, ("x", "y"))
    sv.set_start((-1.5, 2.0))
    sv.set_optima([(1.0, 1.0)])
    cx, cy = np.linspace(-2, 2, 15), np.linspace(-1, 3, 15)
    gx, gy = np.meshgrid(cx, cy)
    g = rb.grad(np.column_stack([gx.ravel(), gy.ravel()]))
    sv.set_arrow_field(cx, cy, -g[:, 0].reshape(gx.shape), -g[:, 1].reshape(gx.shape), True)
    cursor = 60
    sv.set_runs(runs, cursor, (0, 1))
    save(sv, "surface_pre")  # layout first so the pixel size is known for step arrows
    r = runs[1]
    k = r.index(cursor)
    sv.set_step_arrows(tuple(r.params[k]), tuple(r.grad[k]), tuple(r.params[k + 1] - r.params[k]),
                       tuple(0.9 * r.grad[k]), r.color)
    sv.set_hover_text("x = 0.5, y = 1.2, f = 90.25")
    save(sv, "surface")
    sv.set_log_scale(False)
    sv.set_arrow_field(cx, cy, None, None, False)
    save(sv, "surface_linear")

    # NaN surface (ackley has a kink; make some NaNs and infs on purpose)
    z2 = z.copy()
    z2[50:80, 50:90] = np.nan
    z2[120:130, :] = np.inf
    sv2 = SurfaceView()
    sv2.set_surface(xs, ys, z2, ("x", "y"))
    sv2.set_runs(runs, None, (0, 1))
    save(sv2, "surface_nan")

    # ---------------------------------------------------------------- 3-D (placeholder here)
    s3 = Surface3DView()
    s3.set_surface(xs, ys, z)
    s3.set_runs(runs, cursor, (0, 1))
    save(s3, "surface3d")

    # ---------------------------------------------------------------- loss
    lv = LossView()
    lv.set_runs(runs, cursor)
    save(lv, "loss_linear")
    lv.set_log_y(True)
    lv.set_runs(runs, cursor)
    save(lv, "loss_log")

    # ---------------------------------------------------------------- 1-D curve
    fence = get_function("fence-area")
    fr = snapshot(7, "ascent lr=0.1", COLORS[0], fence, "sgd", (57.0,), 40, lr=0.1,
                  maximize=True)
    cv = CurveView()
    fx = np.linspace(0, 100, 400)
    cv.set_curve(fx, fence.values(fx[:, None]), "x")
    cv.set_start(57.0)
    cv.set_optima([50.0])
    cv.set_runs([fr], 2)
    save(cv, "curve_fence")
    dw = get_function("double-well")
    dr = snapshot(8, "SGD lr=0.02", COLORS[1], dw, "sgd", (2.0,), 200, lr=0.02)
    dr2 = snapshot(9, "SGD lr=0.1", COLORS[2], dw, "sgd", (-0.3,), 200, lr=0.1)
    cv2 = CurveView()
    wx = np.linspace(-2.5, 2.5, 400)
    cv2.set_curve(wx, dw.values(wx[:, None]), "x")
    cv2.set_optima([o.point[0] for o in dw.optima])
    cv2.set_start(2.0)
    cv2.set_runs([dr, dr2], 3)
    save(cv2, "curve_well")

    # ---------------------------------------------------------------- fit + slice
    obj = dataset_objective("noisy-line", "linear", "mse")
    fr1 = snapshot(11, "SGD", COLORS[0], obj, "sgd", (0.0, 0.0), 200, lr=obj.lr_sgd)
    fr2 = snapshot(12, "Adam", COLORS[1], obj, "adam", (0.0, 0.0), 200, lr=0.1)
    fv = FitView()
    fv.set_data(obj.x, obj.y, ("x", "y"))
    line = np.linspace(obj.x.min(), obj.x.max(), 50)
    fv.set_fits([(s.run_id, s.color, True, line, obj.predict(s.params[s.index(15)], line))
                 for s in (fr1, fr2)])
    fv.set_batch(np.array([1, 5, 9, 20, 33, 41]))
    save(fv, "fit")
    slv = SliceView()
    p = fr1.params[15]
    ws = np.linspace(-1, 5, 200)
    pts = np.column_stack([ws, np.full_like(ws, p[1])])
    slv.set_slice("w", ws, obj.values(pts), (p[0], fr1.loss[15]), fr1.color)
    save(slv, "slice")
    one = dataset_objective("one-point", "slope", "mae")
    slv2 = SliceView()
    ws = np.linspace(-1, 4, 201)
    slv2.set_slice("w", ws, one.values(ws[:, None]), (0.5, float(one.value(np.array([0.5])))),
                   COLORS[2])
    save(slv2, "slice_mae")

    # ---------------------------------------------------------------- step log
    sl = StepLogView()
    sl.set_entry(fr, 0, ("x",), True)
    save(sl, "steplog_sgd")
    sl2 = StepLogView()
    sl2.set_entry(runs[2], 10, ("x", "y"), False)
    save(sl2, "steplog_adam")
    sl3 = StepLogView()
    sl3.set_entry(None, None, (), False)
    save(sl3, "steplog_empty")


if __name__ == "__main__":
    main(*sys.argv[1:])
