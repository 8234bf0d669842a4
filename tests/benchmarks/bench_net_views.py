"""Cost of the network views per display tick: the Decision map (100 × 100 grid and its 0.5
contour; cached when the row stays), the Metrics tracker (a tick adding 20 rows to 3 runs;
the first fill of 2000 rows, in budgeted updates) and the views' redraws — against one full
batch gradient of the same network, measured in the same run.  Prints a table of medians.

    QT_QPA_PLATFORM=offscreen uv run python tests/benchmarks/bench_net_views.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_time  # noqa: E402

from gd_explorer.core.problems.nets import net_objective  # noqa: E402
from gd_explorer.model.net_metrics import (  # noqa: E402
    DecisionCache,
    MetricsTracker,
    decision_map,
)
from gd_explorer.model.snapshot import RunSnapshot  # noqa: E402


def _snap(run_id, params):
    n = len(params)
    return RunSnapshot.make(run_id, f"r{run_id}", "#ffffff", True, params, np.zeros(n),
                            np.zeros_like(params), np.full(n, 1e-2), optimizer="adam")


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    obj = net_objective("moons", layers="2-16-16-1", test_fraction=0.25)
    rng = np.random.default_rng(0)
    p0 = np.asarray(obj.start)
    params = p0 + np.cumsum(rng.normal(0, 0.01, (2000, obj.dim)), axis=0)
    snaps = [_snap(i, params + i) for i in range(1, 4)]
    rows = []
    base = median_time(lambda: obj.value_and_grad(p0[None, :]), 21)
    rows.append(("baseline: one full-batch gradient (150 points)", base))
    rows.append(("decision map, new row (grid 100², contour, accuracy)",
                 median_time(lambda: decision_map(obj, snaps[0], 1999), 11)))
    cache = DecisionCache()
    cache.get(obj, snaps[0], 1999)
    rows.append(("decision map, same row (cached)",
                 median_time(lambda: cache.get(obj, snaps[0], 1999), 101)))

    def tick():  # 3 runs at 1980 rows, then 20 more each
        t = MetricsTracker()
        t.update(obj, [_snap(s.run_id, s.params[:1980]) for s in snaps])
        return t

    def grow(t=None):
        t = tick()
        return lambda: t.update(obj, snaps)

    grown = [grow() for _ in range(7)]
    rows.append(("metrics tick: +20 rows × 3 runs", median_time(lambda: grown.pop()(), 7)))

    def first_fill():
        t, calls = MetricsTracker(), 0
        while True:
            calls += 1
            if t.update(obj, snaps).complete:
                return calls

    calls = first_fill()
    fill = median_time(first_fill, 3)
    rows.append((f"metrics first fill: 3 × 2000 rows ({calls} updates)", fill))
    rows.append(("  per update", fill / calls))

    from gd_explorer.ui.views.decision import DecisionView
    from gd_explorer.ui.views.metrics import MetricsView

    dv, mv = DecisionView(), MetricsView()
    for v in (dv, mv):
        v.resize(600, 500)
        v.show()
    app.processEvents()
    dmaps = [decision_map(obj, snaps[0], r) for r in (1000, 1999)]
    i = iter(range(10**6))

    def draw_map():
        dv.set_map(dmaps[next(i) % 2])
        dv.grab()

    rows.append(("Decision view: set_map + paint", median_time(draw_map, 11)))
    t = MetricsTracker()
    while not t.update(obj, snaps).complete:
        pass
    full = t.update(obj, snaps, selected_id=1)

    def draw_metrics():
        mv.set_metrics(full)
        mv.grab()

    rows.append(("Metrics view: set_metrics + paint (3 runs × 2000 rows)",
                 median_time(draw_metrics, 11)))
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'median ms':>10}  {'× gradient':>10}")
    for name, sec in rows:
        print(f"{name:<{width}}  {1e3 * sec:>10.2f}  {sec / base:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
