"""Benchmark basins of attraction (``compute_basins``); prints a table.

Run with the project's interpreter::

    python tests/benchmarks/bench_basins.py [--repeats R] [--steps N] [--grids 200,1000]

For each grid (200 x 200 = 40,000 starts and 1000 x 1000 = one million) and optimizer (SGD
lr 0.01, Adam lr 0.05) on Himmelblau's function over its window: the median time of R
full computations (N steps, default 500, tolerance 1e-8, chunks of 65,536 starts), the
starts per second, and the peak memory of one computation (tracemalloc's peak, which
counts numpy's buffers). Also the share of converged starts, so a faster time is seen to
come with the same work.

Not a test: no wall-clock assertions, and nothing runs at import time.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from gd_explorer.core.lab.basins import STATUS_CONVERGED, compute_basins
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function

OPTIMIZERS = (("sgd", 0.01), ("adam", 0.05))


def one(grid: int, name: str, lr: float, steps: int):
    obj = get_function("himmelblau")
    return compute_basins(obj, make_optimizer(name, lr=lr), np.array(obj.start), (0, 1),
                          obj.window, grid=grid, steps=steps, tol=1e-8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--grids", default="200,1000")
    args = ap.parse_args()
    grids = [int(g) for g in args.grids.split(",")]
    print(f"basins of attraction on himmelblau, {args.steps} steps, tol 1e-8, "
          f"median of {args.repeats}")
    print(f"{'grid':>11} {'optimizer':>10} {'time s':>8} {'starts/s':>10} {'peak MB':>8} "
          f"{'converged':>9}")
    for grid in grids:
        for name, lr in OPTIMIZERS:
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                result = one(grid, name, lr, args.steps)
                times.append(time.perf_counter() - t0)
            tracemalloc.start()
            one(grid, name, lr, args.steps)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            t = float(np.median(times))
            conv = 100 * result.fraction(STATUS_CONVERGED)
            print(f"{grid:>5} x {grid:<4} {name + f' {lr:g}':>10} {t:>8.2f} "
                  f"{grid * grid / t:>10,.0f} {peak / 2**20:>8.1f} {conv:>8.1f}%")


if __name__ == "__main__":
    main()
