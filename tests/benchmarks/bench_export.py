"""Benchmark the trajectory CSV export; prints a table.

Run with the project's interpreter::

    python tests/benchmarks/bench_export.py [--rows N] [--repeats R]

- write: ``write_trajectory_csv`` of an N-row 2-D trajectory (Adam on Rosenbrock, default
  1,000,000 rows) into a temporary folder, median of R runs, as rows per second.
- text: ``trajectory_csv_text`` of the same trajectory (the whole file as one string).
- peak: the extra memory (tracemalloc peak, which counts numpy's buffers) of one write,
  for a copied trajectory and, where the engine offers it, a trajectory of views.

Not a test: no wall-clock assertions, and nothing runs at import time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import tracemalloc

from timing import median_time  # the folder of this script is on sys.path

from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.io.export import trajectory_csv_text, write_trajectory_csv
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function


def descent(rows: int) -> Descent:
    """A finished 2-D descent with ``rows`` recorded rows (tol 0: every step runs)."""
    d = Descent(get_function("rosenbrock"), make_optimizer("adam", lr=1e-4), [-1.5, 2.0],
                max_steps=rows - 1)
    d.run()
    return d


def view_trajectory(d: Descent):
    """A trajectory of views if the engine offers it, else None."""
    try:
        return d.trajectory(copy=False)
    except TypeError:
        return None


def peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    d = descent(args.rows)
    traj = d.trajectory()
    views = view_trajectory(d)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "t.csv")
        t_write = median_time(lambda: write_trajectory_csv(path, traj), args.repeats)
        size = os.path.getsize(path)
        t_text = median_time(lambda: trajectory_csv_text(traj), args.repeats)
        peak_copy = peak_bytes(lambda: write_trajectory_csv(path, traj))
        peak_view = None if views is None else peak_bytes(lambda: write_trajectory_csv(path, views))
    n = len(traj.loss)
    print(f"{n:,} rows, 2-D, {size / 2**20:.0f} MiB of CSV, median of {args.repeats}")
    print(f"{'what':<36} {'time':>9} {'rows/s':>12}")
    print(f"{'write_trajectory_csv':<36} {t_write:>8.2f}s {n / t_write:>12,.0f}")
    print(f"{'trajectory_csv_text':<36} {t_text:>8.2f}s {n / t_text:>12,.0f}")
    print(f"peak extra memory of one write (copied trajectory): {peak_copy / 2**20:,.1f} MiB")
    if peak_view is not None:
        print(f"peak extra memory of one write (trajectory of views): {peak_view / 2**20:,.1f} MiB")
    own = traj.params.nbytes + traj.loss.nbytes + traj.grad.nbytes + traj.lr.nbytes
    print(f"(the trajectory's own arrays: {own / 2**20:,.1f} MiB)")


if __name__ == "__main__":
    main()
