"""Desktop-app benchmark: launch time, throughput under the UI, refresh rate, stalls,
and the frame budget of dragging the start ★ (issue 11 §1).

Run from the repository root (offscreen is fine)::

    uv run python tests/benchmarks/bench_app.py [--steps 1000000] [--repeats 3]

Prints a table; medians of the repeats; the headless baseline is measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LAUNCH = (
    "import time, sys; t0 = time.perf_counter()\n"
    "from PySide6.QtWidgets import QApplication\n"
    "app = QApplication(sys.argv)\n"
    "from gd_explorer.ui.main_window import MainWindow\n"
    "w = MainWindow(); w.show(); app.processEvents()\n"
    "print(time.perf_counter() - t0)\n"
    "w.close()\n"
)


def launch_seconds() -> tuple[float, float]:
    """(in-process seconds from first import to window shown, whole process wall time)."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", LAUNCH], capture_output=True, text=True,
                         check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    return float(out.stdout.strip().splitlines()[-1]), time.perf_counter() - t0


def race_specs():
    from gd_explorer.core.session.presets import PRESETS

    return PRESETS["rosenbrock-race"].session


def headless(steps: int) -> float:
    """Steps per second of the three race runs, one after the other, no UI."""
    from dataclasses import replace

    session = replace(race_specs(), max_steps=steps, tol=0.0)  # as the app runs it
    obj = session.problem.build()
    total = 0
    t0 = time.perf_counter()
    for i in range(len(session.runs)):
        d = session.descent(i, obj)
        while d.advance(1 << 16):
            pass
        total += d.t
    return total / (time.perf_counter() - t0)


def _stall_probe():
    """A 5 ms QTimer (not started) and the list it fills with the gaps between its ticks:
    the event loop's stalls, as a user feels them."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    gaps = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def probe():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(probe)
    return timer, gaps


def in_app(steps: int) -> dict:
    """Run the race in the window at max speed; measure throughput, refreshes, stalls."""
    from dataclasses import replace

    from PySide6.QtWidgets import QApplication

    from gd_explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    session = replace(race_specs(), max_steps=steps, tol=0.0)
    w = MainWindow(session)
    w.model.set_speed(0)  # max speed (the app starts at a watchable DEFAULT_SPEED)
    w.resize(1440, 900)
    w.show()
    app.processEvents()
    refreshes = 0
    original = w._on_progressed

    def counting():
        nonlocal refreshes
        refreshes += 1
        original()

    w.model.progressed.disconnect()
    w.model.progressed.connect(counting)
    timer, gaps = _stall_probe()
    timer.start()
    t0 = time.perf_counter()
    w.model.start_running()
    while w.model.running:
        app.processEvents()
        time.sleep(0.001)
    elapsed = time.perf_counter() - t0
    timer.stop()
    total = sum(s.n - 1 for s in w.model.snapshots())
    w.close()
    return {"steps_per_s": total / elapsed, "refresh_hz": refreshes / elapsed,
            "max_stall_ms": max(gaps) if gaps else 0.0, "seconds": elapsed}


def in_app_drag(seconds: float = 3.0) -> dict:
    """Drag the start ★ of the race's Surface view with real mouse events for ``seconds``.

    The cursor circles around the ★ at a move every 10 ms (pyqtgraph's own mouse rate);
    every preview the window draws is 3 runs × DRAG_PREVIEW_STEPS steps recomputed from
    the point under the cursor. Counts previews drawn per second and the longest gap of a
    5 ms event-loop probe, as a user's hand would feel it.
    """
    import math

    from PySide6 import QtCore
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from gd_explorer.core.limits import DRAG_PREVIEW_STEPS
    from gd_explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    w = MainWindow(race_specs())
    w.resize(1440, 900)
    w.show()
    w.views.show_tab("surface")
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    v = w.surface_view
    sx, sy = v.start_marker.getData()
    scene = v.view_box.mapViewToScene(QtCore.QPointF(float(sx[0]), float(sy[0])))
    star = v.plot_widget.mapFromScene(scene)
    vp = v.plot_widget.viewport()
    previews = []
    original = v.show_preview

    def counting(paths, axes=(0, 1)):
        previews.append(sum(len(p) - 1 for p in paths.values()))
        original(paths, axes)

    v.show_preview = counting
    timer, gaps = _stall_probe()
    left = Qt.MouseButton.LeftButton
    QTest.mousePress(vp, left, Qt.KeyboardModifier.NoModifier, star)
    t0 = time.perf_counter()
    timer.start()
    pos = star
    while (t := time.perf_counter() - t0) < seconds:
        a = 2 * math.pi * t / 1.5
        pos = star + QtCore.QPoint(int(20 + 60 * math.cos(a)), int(40 * math.sin(a)))
        QTest.mouseMove(vp, pos)
        stop = time.perf_counter() + 0.010
        while time.perf_counter() < stop:
            app.processEvents()
            time.sleep(0.001)
    elapsed = time.perf_counter() - t0
    timer.stop()
    QTest.mouseRelease(vp, left, Qt.KeyboardModifier.NoModifier, pos)
    app.processEvents()
    w.model.pause()
    w.close()
    return {"previews_hz": len(previews) / elapsed,
            "steps_per_preview": statistics.median(previews) if previews else 0,
            "runs": len(w.model.runs), "per_run": DRAG_PREVIEW_STEPS,
            "max_stall_ms": max(gaps) if gaps else 0.0}


def drag_in_fresh_app(seconds: float) -> dict:
    """:func:`in_app_drag` in a newly launched process, as a user's fresh window (windows
    measured before in this process, closed but not freed, slow its drawing)."""
    import json

    out = subprocess.run([sys.executable, __file__, "--drag-only", "--drag-seconds",
                          str(seconds)], capture_output=True, text=True, check=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def surface_seconds(n: int = 100_000) -> dict:
    import numpy as np

    from gd_explorer.core.problems.datasets import Dataset, DatasetObjective
    from gd_explorer.core.problems.surface import grid_axes, surface_grid

    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, n)
    ds = Dataset("big", x, 2 * x + 1 + rng.normal(0, 1, n))
    out = {}
    for loss in ("mse", "mae", "huber"):
        obj = DatasetObjective(ds, "linear", loss)
        xs, ys = grid_axes(obj.window, (0, 1), 200)
        t0 = time.perf_counter()
        surface_grid(obj, (0, 1), obj.start, xs, ys)
        out[loss] = time.perf_counter() - t0
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1_000_000, help="steps per run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--drag-seconds", type=float, default=3.0,
                    help="how long each drag of the start lasts")
    ap.add_argument("--drag-only", action="store_true",
                    help="one drag of the start, printed as JSON (what the table's drag rows "
                         "run in a fresh process)")
    args = ap.parse_args(argv)
    if args.drag_only:
        import json

        print(json.dumps(in_app_drag(args.drag_seconds)))
        return 0

    launches = [launch_seconds() for _ in range(args.repeats)]
    base = [headless(args.steps) for _ in range(args.repeats)]
    app = [in_app(args.steps) for _ in range(args.repeats)]
    drags = [drag_in_fresh_app(args.drag_seconds) for _ in range(args.repeats)]
    surf = [surface_seconds() for _ in range(args.repeats)]
    med = statistics.median

    rows = [
        ("launch to window shown (in process)", f"{med(a for a, _ in launches):.2f} s",
         "target < 1.5 s"),
        ("launch, whole process incl. interpreter", f"{med(b for _, b in launches):.2f} s", ""),
        ("headless: 3 race runs, steps/s", f"{med(base):,.0f}", "baseline"),
        ("in the app at max speed, steps/s", f"{med(r['steps_per_s'] for r in app):,.0f}",
         f"ratio {med(r['steps_per_s'] for r in app) / med(base):.2f} (target >= 0.5)"),
        ("view refresh rate", f"{med(r['refresh_hz'] for r in app):.1f} Hz", "target >= 30 Hz"),
        ("longest event-loop stall (5 ms probe)",
         f"{med(r['max_stall_ms'] for r in app):.0f} ms", "target < 50 ms"),
        (f"drag the start: previews drawn ({drags[0]['runs']} runs x "
         f"{drags[0]['per_run']:,} steps)",
         f"{med(d['previews_hz'] for d in drags):.1f} Hz", "target >= 30 Hz"),
        ("drag the start: steps per preview drawn",
         f"{med(d['steps_per_preview'] for d in drags):,.0f}", ""),
        ("drag the start: longest event-loop stall",
         f"{med(d['max_stall_ms'] for d in drags):.0f} ms "
         f"(worst {max(d['max_stall_ms'] for d in drags):.0f})", "target < 50 ms"),
        ("surface 200x200, 100k points, MSE", f"{med(s['mse'] for s in surf) * 1000:.1f} ms",
         "target < 200 ms"),
        ("surface 200x200, 100k points, MAE", f"{med(s['mae'] for s in surf) * 1000:.0f} ms",
         "worker thread in the app"),
        ("surface 200x200, 100k points, Huber", f"{med(s['huber'] for s in surf) * 1000:.0f} ms",
         "worker thread in the app"),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'measure':<{w0}}  {'value':>{w1}}  note")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * 30}")
    for name, value, note in rows:
        print(f"{name:<{w0}}  {value:>{w1}}  {note}")
    print(f"\n{args.steps:,} steps per run, {args.repeats} repeats, median shown")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
