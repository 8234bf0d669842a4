"""Cost of the curvature lab: exact vs finite-difference Hessians, the curvature at one
point, and the sharpness view's rows (first fill of 3 runs × 100k rows, then a tick that
adds 1000 rows a run).  Prints a table of medians.

    uv run python tests/benchmarks/bench_curvature.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_time  # noqa: E402

from gd_explorer.core.problems.datasets import dataset_objective  # noqa: E402
from gd_explorer.core.problems.functions import get_function  # noqa: E402
from gd_explorer.core.problems.objectives import expression_objective, fd_hessian  # noqa: E402
from gd_explorer.model.curvature import SharpnessTracker, curvature_at  # noqa: E402
from gd_explorer.model.snapshot import RunSnapshot  # noqa: E402


def _snap(run_id, params):
    n = len(params)
    return RunSnapshot.make(run_id, f"r{run_id}", "#ffffff", True, params, np.zeros(n),
                            np.zeros_like(params), np.full(n, 1e-3), optimizer="sgd")


def main() -> int:
    rng = np.random.default_rng(0)
    rows = []
    pts = rng.uniform(-2, 2, size=(2000, 2))
    for name, f in (("rosenbrock (generated)", get_function("rosenbrock")),
                    ("ackley (generated)", get_function("ackley")),
                    ("typed x^3*y + exp(x*y)", expression_objective("x^3*y + exp(x*y)")),
                    ("huber, noisy-line", dataset_objective("noisy-line", "linear", "huber"))):
        f.hessian(pts[:1])  # compile
        rows.append((f"hessian, 2000 points: {name}", median_time(lambda f=f: f.hessian(pts), 7)))
        rows.append(("  finite differences instead", median_time(lambda f=f: fd_hessian(f, pts), 7)))
    f = get_function("rosenbrock")
    one = _snap(1, pts[:10])
    rows.append(("curvature_at one point (eigh + edge)",
                 median_time(lambda: curvature_at(f, one, 5), 51)))
    path = [rng.uniform(-2, 2, size=(101_000, 2)) for _ in range(3)]

    first = [_snap(i, p[:100_000]) for i, p in enumerate(path)]
    grown = [_snap(i, p) for i, p in enumerate(path)]

    def fill():
        t = SharpnessTracker()
        t.update(f, first)
        return t

    rows.append(("sharpness, first fill, 3 runs x 100k rows", median_time(fill, 5)))
    trackers = iter([fill() for _ in range(5)])
    rows.append(("sharpness, a tick adding 1000 rows a run",
                 median_time(lambda: next(trackers).update(f, grown), 5)))
    same = fill()
    rows.append(("sharpness, a tick with no new rows",
                 median_time(lambda: same.update(f, first), 21)))
    width = max(len(r[0]) for r in rows)
    print(f"{'what'.ljust(width)}   median")
    for what, t in rows:
        print(f"{what.ljust(width)}   {t * 1e3:8.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
