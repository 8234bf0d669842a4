"""Benchmark the live preview of a dragged start (issue 11 §1); prints a table.

Run with the project's interpreter::

    python tests/benchmarks/bench_drag.py [--repeats R]

The Rosenbrock race's 3 runs, each recomputed for DRAG_PREVIEW_STEPS steps from a start
point that moves a little at every call (as a drag does), with
``core.session.preview.preview_paths`` (what the window calls once per display tick), and
the same through the model (``ExplorerModel.preview_start_2d``). Median milliseconds over R
calls, the frame rate that leaves, and the ratio against the 33 ms of a 30 Hz frame.

Not a test: no wall-clock assertions, and nothing runs at import time.
"""

from __future__ import annotations

import argparse
import statistics
import time


def _median_ms(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()

    from gd_explorer.core.limits import DRAG_PREVIEW_STEPS
    from gd_explorer.core.session.presets import PRESETS
    from gd_explorer.core.session.preview import preview_paths

    session = PRESETS["rosenbrock-race"].session
    objective = session.problem.build()
    specs = list(session.runs)
    start = session.start_for(objective)

    def core(i):
        p = start + 1e-3 * i
        preview_paths(objective, session.problem, specs, p, steps=DRAG_PREVIEW_STEPS,
                      max_steps=max(session.max_steps, DRAG_PREVIEW_STEPS),
                      tol=session.tol, loss_tol=session.loss_tol)

    from PySide6.QtCore import QCoreApplication

    from gd_explorer.model.explorer import ExplorerModel

    app = QCoreApplication.instance() or QCoreApplication([])  # noqa: F841 - QObjects need it
    model = ExplorerModel(session)
    model.set_limits(max_steps=max(model.max_steps, DRAG_PREVIEW_STEPS))

    def via_model(i):
        model.preview_start_2d(float(start[0] + 1e-3 * i), float(start[1] - 1e-3 * i))

    core(0)
    via_model(0)
    rows = [("core preview_paths", _median_ms(core, args.repeats)),
            ("model preview_start_2d", _median_ms(via_model, args.repeats))]
    print(f"{len(specs)} runs × {DRAG_PREVIEW_STEPS} steps on Rosenbrock, median of "
          f"{args.repeats}")
    print(f"{'path':<26}{'ms/preview':>12}{'previews/s':>12}{'÷ 33.3 ms':>11}")
    for name, ms in rows:
        print(f"{name:<26}{ms:>12.2f}{1e3 / ms:>12.1f}{ms / (1e3 / 30):>11.2f}")
    model.shutdown()


if __name__ == "__main__":
    main()
