"""Benchmark File ▸ Export animation in the window (offscreen); prints a table.

Run with the project's interpreter::

    python tests/benchmarks/bench_animation.py [--repeats R] [--every K]

The Rosenbrock race (3,000 steps, a frame every K = 10 steps: 301 frames) exported from
the surface view (its on-screen size in a 1440×900 window) and from the whole window, as
GIF and (with PyAV) MP4.  For each, the median over R exports of:

- total: seconds from start to the file written;
- per frame: milliseconds of the window's thread per frame (drawing the views at the step
  and grabbing them);
- stall: the longest gap between two beats of a 5 ms timer while exporting (how long the
  window's events waited at worst), and the same for the window idle (the baseline, in the
  same run);
- size: the file's size.

Not a test: no wall-clock assertions, and nothing runs at import time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from gd_explorer.core.io.animation import mp4_available
    from gd_explorer.core.session.presets import PRESETS
    from gd_explorer.ui.animation import AnimationOptions
    from gd_explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    w = MainWindow(PRESETS["rosenbrock-race"].session)
    w.resize(1440, 900)
    w.show()
    m = w.model
    m.set_speed(0)
    loop = QEventLoop()
    m.running_changed.connect(lambda running: running or loop.quit())
    m.start_running()
    loop.exec()

    gaps: list[float] = []
    clock = QElapsedTimer()
    beat = QTimer()
    beat.setInterval(5)

    def on_beat():
        gaps.append(clock.restart())

    beat.timeout.connect(on_beat)

    def stall_idle() -> float:
        gaps.clear()
        clock.start()
        beat.start()
        idle = QEventLoop()
        QTimer.singleShot(1000, idle.quit)
        idle.exec()
        beat.stop()
        return max(gaps)

    def export(path, view):
        done = QEventLoop()
        w.animator.finished.connect(done.quit)
        w.animator.failed.connect(done.quit)
        gaps.clear()
        t0 = time.perf_counter()
        clock.start()
        beat.start()
        w.animator.start(AnimationOptions(path, view, every=args.every, fps=30))
        done.exec()
        beat.stop()
        total = time.perf_counter() - t0
        w.animator.finished.disconnect(done.quit)
        w.animator.failed.disconnect(done.quit)
        return total, max(gaps), os.path.getsize(path)

    frames = len(range(0, m.max_rows(), args.every)) + (m.max_rows() - 1) % args.every
    formats = ["gif"] + (["mp4"] if mp4_available() else [])
    print(f"Rosenbrock race, {m.max_rows() - 1:,} steps, every {args.every}: "
          f"{frames} frames; median of {args.repeats}")
    print(f"{'view':8} {'fmt':4} {'total s':>8} {'ms/frame':>9} {'stall ms':>9} "
          f"{'idle stall ms':>14} {'size MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for view in ("surface", "window"):
            for fmt in formats:
                rows = []
                for r in range(args.repeats):
                    idle = stall_idle()
                    total, stall, size = export(os.path.join(tmp, f"a{r}.{fmt}"), view)
                    rows.append((total, stall, idle, size))
                total, stall, idle, size = (statistics.median(c) for c in zip(*rows))
                print(f"{view:8} {fmt:4} {total:8.2f} {1000 * total / frames:9.1f} "
                      f"{stall:9.0f} {idle:14.0f} {size / 1e6:8.2f}")
    w.close()
    app.processEvents()


if __name__ == "__main__":
    main()
