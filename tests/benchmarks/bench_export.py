"""Benchmark the trajectory CSV export; prints a table.

Run with the project's interpreter::

    python tests/benchmarks/bench_export.py [--rows N] [--repeats R]

- write: ``write_trajectory_csv`` of an N-row 2-D trajectory (Adam on Rosenbrock, default
  1,000,000 rows) into a temporary folder, median of R runs, as rows per second.
- text: ``trajectory_csv_text`` of the same trajectory (the whole file as one string).
- peak: the extra memory (tracemalloc peak, which counts numpy's buffers) of one write,
  for a copied trajectory and, where the engine offers it, a trajectory of views.
- network: a 2-16-16-1 MLP (337 parameters) trained by Adam on moons for ``--net-steps``
  steps (default 2,000), written with all columns and with the scalar columns only: rows
  per second and file size of each, and the ratio (``--net-only`` runs this part alone).

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
from gd_explorer.core.problems.nets import net_objective


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


def network_table(steps: int, repeats: int) -> None:
    """All columns against scalar columns for a 2-16-16-1 network's run."""
    obj = net_objective("moons", "mlp", "2-16-16-1", "tanh")
    d = Descent(obj, make_optimizer("adam", lr=0.01), list(obj.start), max_steps=steps)
    d.run()
    traj = d.trajectory(copy=False)
    n = len(traj.loss)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for columns in ("all", "scalar"):
            path = os.path.join(folder, f"{columns}.csv")
            t = median_time(lambda path=path, columns=columns: write_trajectory_csv(
                path, traj, columns=columns), repeats)
            rows.append((columns, t, os.path.getsize(path)))
    print(f"\n2-16-16-1 network ({obj.dim} parameters), Adam, {n:,} rows, median of {repeats}")
    print(f"{'columns':<10} {'time':>9} {'rows/s':>12} {'file':>12}")
    for columns, t, size in rows:
        print(f"{columns:<10} {t:>8.3f}s {n / t:>12,.0f} {size / 1e6:>10.2f} MB")
    (_, t_all, s_all), (_, t_sc, s_sc) = rows
    print(f"scalar / all: {t_sc / t_all:.3f} of the time, {s_sc / s_all:.4f} of the size")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--net-steps", type=int, default=2000)
    parser.add_argument("--net-only", action="store_true")
    args = parser.parse_args()
    network_table(args.net_steps, max(args.repeats, 3))
    if args.net_only:
        return
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
