"""LR-sweep benchmark: K rates × N steps batched (one Descent with per-run rates, best-loss
tracking) against K sequential single runs (each on the engine's scalar fast path, as
``gd-explorer run`` would do them one after the other).

Run from the repository root::

    uv run python tests/benchmarks/bench_sweep.py [--rates 200] [--steps 500] [--repeats 5]

Prints a table of medians over the repeats.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from timing import median_time  # noqa: E402

from gd_explorer.core.engine.descent import Descent  # noqa: E402
from gd_explorer.core.lab.sweep import log_rates, sweep_learning_rates  # noqa: E402
from gd_explorer.core.optim.optimizers import make_optimizer  # noqa: E402
from gd_explorer.core.problems.functions import get_function  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", type=int, default=200)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    f = get_function("rosenbrock")
    start = np.array([-1.2, 1.0])
    lrs = log_rates(1e-5, 10.0, args.rates)
    print(f"rosenbrock, {args.rates} rates 1e-5..10, {args.steps} steps, "
          f"median of {args.repeats}")
    print(f"{'optimizer':10} {'batched s':>10} {'sequential s':>13} {'speed-up':>9} "
          f"{'diverged':>9}")
    for name in ("sgd", "adam"):
        opt = make_optimizer(name, lr=1e-3)
        result = []

        def batched(opt=opt, result=result):
            result[:] = [sweep_learning_rates(f, opt, start, lrs, args.steps)]

        def sequential(name=name):
            for lr in lrs:
                Descent(f, make_optimizer(name, lr=float(lr)), start, max_steps=args.steps,
                        record=False).run()

        tb = median_time(batched, args.repeats)
        ts = median_time(sequential, args.repeats)
        print(f"{name:10} {tb:10.3f} {ts:13.3f} {ts / tb:8.1f}x "
              f"{int(result[0].diverged.sum()):9d}")


if __name__ == "__main__":
    main()
