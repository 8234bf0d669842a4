"""Second-order and line-search entries side by side: steps and objective evaluations to
|∇f| <= 1e-6, the distance to the known minimum, and the time per run (median of repeats).

Run from the repository root::

    uv run python tests/benchmarks/bench_second_order.py [--repeats 3]

"evals" counts the evaluations the step made itself (its ``evaluations`` buffer: line
searches, LM's trials) plus the engine's one per step; a Hessian by differences of the
gradient (fits) costs 2d gradient evaluations more, not counted here.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.problems.datasets import dataset_objective
from gd_explorer.core.problems.functions import get_function

METHODS = [("gd (sgd)", "sgd", None, {}), ("gd_armijo", "gd_armijo", 1.0, {}),
           ("gd_wolfe", "gd_wolfe", 1.0, {}), ("cg pr+", "cg", 1.0, {}),
           ("cg fr", "cg", 1.0, {"beta_rule": "fletcher_reeves"}),
           ("newton", "newton", 1.0, {}), ("gauss_newton", "gauss_newton", 1.0, {}),
           ("levenberg_marquardt", "levenberg_marquardt", 1.0, {})]


def problems():
    fit = dataset_objective("noisy-parabola", "quadratic-full", "mse")
    return [("rosenbrock", get_function("rosenbrock"), [-1.5, 2.0], [1.0, 1.0]),
            ("ill-conditioned", get_function("ill-conditioned"), [-4.0, 1.5], [0.0, 0.0]),
            ("noisy-parabola fit", fit, [0.0, 0.0, 0.0], list(fit.optima[0].point))]


def measure(objective, name, lr, kw, start, steps=20_000):
    opt = make_optimizer(name, lr=objective.default_lr(name) if lr is None else lr, **kw)
    descent = Descent(objective, opt, start, max_steps=steps, grad_tol=1e-6)
    evals = 0
    t0 = time.perf_counter()
    while not descent.finished:
        descent.advance(1)
        own = descent.state.buffers().get("evaluations")
        evals += 1 + (int(own[0, 0]) if own is not None else 0)
    return time.perf_counter() - t0, descent.t, evals, descent.p[0], descent.status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"{'problem':<20} {'method':<20} {'steps':>6} {'evals':>7} {'|p - p*|':>9} "
          f"{'ms/run':>8}  status")
    for pname, obj, start, best in problems():
        for label, name, lr, kw in METHODS:
            if OPTIMIZERS[name].unmet_needs(obj.least_squares() is not None, True):
                continue
            times = []
            for _ in range(args.repeats):
                dt, n, evals, p, status = measure(obj, name, lr, kw, start)
                times.append(dt)
            err = float(np.linalg.norm(p - np.asarray(best)))
            print(f"{pname:<20} {label:<20} {n:>6} {evals:>7} {err:>9.1e} "
                  f"{1e3 * statistics.median(times):>8.2f}  {status}")


if __name__ == "__main__":
    main()
