"""Benchmark loss-surface evaluation (core.surface); prints a table.

Run with the project's interpreter::

    python tests/benchmarks/bench_surface.py [--quick] [--n 100000] [--res 200]

A seeded dataset of ``n`` points (default 100,000) around a line is fitted with the
``linear`` model; each row times one ``surface_grid`` call on a ``res`` x ``res`` grid
(default 200 x 200), median of several repeats:

- mse, first call: closed form including the one-off sufficient statistics (O(n));
- mse, cached: closed form only (O(res²)); the target is < 0.2 s for both;
- mae, huber: the piecewise path (kinks binned per grid row, O(res · n));
- mae, huber through the generic chunked path (a copy without ``pieces``), and
  ``objective.values`` on all grid points ("direct"): measured on a smaller grid and
  scaled by the number of grid points, i.e. what the surface costs without the above;
- function: Rosenbrock, one vectorized call.

Not a test: no wall-clock assertions, and nothing runs at import time.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
from timing import median_time  # the folder of this script is on sys.path


def main(argv=None):
    from gd_explorer.core.problems.datasets import LOSSES, Dataset, DatasetObjective
    from gd_explorer.core.problems.functions import get_function
    from gd_explorer.core.problems.surface import grid_axes, surface_grid

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, skip slow rows")
    ap.add_argument("--n", type=int, default=100_000, help="data points (default 100000)")
    ap.add_argument("--res", type=int, default=200, help="grid points per axis (default 200)")
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else 3

    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 10.0, args.n)
    data = Dataset("bench", x, 2.0 * x + 1.0 + rng.normal(0.0, 1.0, args.n))

    def objective(loss):
        return DatasetObjective(data, "linear", loss)

    mse, mae, huber = objective("mse"), objective("mae"), objective("huber")
    xs, ys = grid_axes(mse.window, (0, 1), args.res)
    fixed = mse.start

    rows = []

    def first_mse():
        obj = objective("mse")
        surface_grid(obj, (0, 1), fixed, xs, ys)

    rows.append(("mse, first call (stats + grid)", median_time(first_mse, repeats)))
    surface_grid(mse, (0, 1), fixed, xs, ys)
    rows.append(("mse, cached statistics", median_time(
        lambda: surface_grid(mse, (0, 1), fixed, xs, ys), max(repeats, 5))))
    rows.append(("mae (piecewise)", median_time(
        lambda: surface_grid(mae, (0, 1), fixed, xs, ys), repeats)))
    rows.append(("huber (piecewise)", median_time(
        lambda: surface_grid(huber, (0, 1), fixed, xs, ys), repeats)))

    # slow paths: time a smaller grid and scale by the number of grid points
    small = max(2, args.res // (16 if args.quick else 8))
    sx, sy = grid_axes(mse.window, (0, 1), small)
    scale = (args.res / small) ** 2
    for name in ("mae", "huber"):
        # a loss that does not declare its pieces takes the generic chunked path
        generic = objective(dataclasses.replace(LOSSES[name], pieces=None))
        t = median_time(lambda g=generic: surface_grid(g, (0, 1), fixed, sx, sy), 1)
        rows.append((f"{name}, generic chunked (from {small}x{small}, scaled)", t * scale))
    pts = np.array([(a, b) for b in sy for a in sx])
    t_small = median_time(lambda: mse.values(pts), 1)
    rows.append((f"direct objective.values (from {small}x{small}, scaled)", t_small * scale))
    rosen = get_function("rosenbrock")
    rx, ry = grid_axes(rosen.window, (0, 1), args.res)
    rows.append(("function: rosenbrock", median_time(
        lambda: surface_grid(rosen, (0, 1), rosen.start, rx, ry), max(repeats, 5))))

    print(f"surface_grid on a {args.res}x{args.res} grid, {args.n:,} data points "
          f"(linear model), median of {repeats}")
    print(f"{'case':<48} {'seconds':>10}")
    for name, t in rows:
        print(f"{name:<48} {t:>10.4f}")


if __name__ == "__main__":
    main()
