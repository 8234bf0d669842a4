"""Benchmark one recorded run (the engine's scalar fast path) against hand-written loops.

Run with the project's interpreter::

    python tests/benchmarks/bench_single_run.py [--quick]

Rosenbrock from (-1.5, 2) with SGD (lr 1e-4), SGD with momentum 0.9 (lr 1e-4), RMSprop
(lr 1e-3) and Adam (lr 1e-3), recorded in memory.  "ours" is what a single run of the CLI and the app does:
``Descent(objective, optimizer, start, max_steps=n).run()``.  The baseline is a
hand-written pure-Python loop on floats doing the same arithmetic and recording one
tuple per row (point, loss, gradient, rate); "numba" is the same loop compiled with
numba, shown only when numba is importable (it is not a dependency).  Each time is the
median of several runs; the ratio is baseline time / our time measured in the same
process (>= 0.5 is issue 11's target).

Not a test: no wall-clock assertions, and nothing runs at import time.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from timing import median_time  # the folder of this script is on sys.path

START = (-1.5, 2.0)
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
CASES = (  # (label, optimizer name, hyperparameters)
    ("SGD", "sgd", {"lr": 1e-4}),
    ("SGD momentum 0.9", "sgd", {"lr": 1e-4, "momentum": 0.9}),
    ("RMSprop", "rmsprop", {"lr": 1e-3}),
    ("Adam", "adam", {"lr": 1e-3}),
)
ALPHA = 0.99


def _vg(x, y):
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b


def python_sgd(steps, lr, momentum=0.0):
    """Pure-Python (heavy-ball) SGD on Rosenbrock, one tuple per row."""
    x, y = START
    f, gx, gy = _vg(x, y)
    rows = [(x, y, f, gx, gy, lr)]
    bx = by = 0.0
    for t in range(1, steps + 1):
        if momentum:
            if t == 1:
                bx, by = gx, gy
            else:
                bx = momentum * bx + gx
                by = momentum * by + gy
            x -= lr * bx
            y -= lr * by
        else:
            x -= lr * gx
            y -= lr * gy
        f, gx, gy = _vg(x, y)
        rows.append((x, y, f, gx, gy, lr))
    return rows


def python_adam(steps, lr):
    """Pure-Python Adam on Rosenbrock, one tuple per row."""
    x, y = START
    f, gx, gy = _vg(x, y)
    rows = [(x, y, f, gx, gy, lr)]
    mx = my = vx = vy = 0.0
    for t in range(1, steps + 1):
        mx = BETA1 * mx + (1.0 - BETA1) * gx
        my = BETA1 * my + (1.0 - BETA1) * gy
        vx = BETA2 * vx + (1.0 - BETA2) * gx * gx
        vy = BETA2 * vy + (1.0 - BETA2) * gy * gy
        step = lr / (1.0 - BETA1**t)
        bc2 = math.sqrt(1.0 - BETA2**t)
        x -= step * mx / (math.sqrt(vx) / bc2 + EPS)
        y -= step * my / (math.sqrt(vy) / bc2 + EPS)
        f, gx, gy = _vg(x, y)
        rows.append((x, y, f, gx, gy, lr))
    return rows


def python_rmsprop(steps, lr):
    """Pure-Python RMSprop (alpha 0.99, eps 1e-8 outside the root) on Rosenbrock."""
    x, y = START
    f, gx, gy = _vg(x, y)
    rows = [(x, y, f, gx, gy, lr)]
    vx = vy = 0.0
    for _ in range(steps):
        vx = ALPHA * vx + (1.0 - ALPHA) * gx * gx
        vy = ALPHA * vy + (1.0 - ALPHA) * gy * gy
        x -= lr * gx / (math.sqrt(vx) + EPS)
        y -= lr * gy / (math.sqrt(vy) + EPS)
        f, gx, gy = _vg(x, y)
        rows.append((x, y, f, gx, gy, lr))
    return rows


def _numba_loops():
    """The same loops compiled with numba (None when numba is not installed)."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=False)
    def sgd(steps, lr, momentum):
        out = np.empty((steps + 1, 6))
        x, y = START
        bx = by = 0.0
        for t in range(steps + 1):
            a = 1.0 - x
            b = y - x * x
            f, gx, gy = a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b
            out[t, 0], out[t, 1], out[t, 2], out[t, 3], out[t, 4], out[t, 5] = x, y, f, gx, gy, lr
            if momentum != 0.0:
                if t == 0:
                    bx, by = gx, gy
                else:
                    bx, by = momentum * bx + gx, momentum * by + gy
                gx, gy = bx, by
            x -= lr * gx
            y -= lr * gy
        return out

    @numba.njit(cache=False)
    def adam(steps, lr):
        out = np.empty((steps + 1, 6))
        x, y = START
        mx = my = vx = vy = 0.0
        for t in range(steps + 1):
            a = 1.0 - x
            b = y - x * x
            f, gx, gy = a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b
            out[t, 0], out[t, 1], out[t, 2], out[t, 3], out[t, 4], out[t, 5] = x, y, f, gx, gy, lr
            mx = BETA1 * mx + (1.0 - BETA1) * gx
            my = BETA1 * my + (1.0 - BETA1) * gy
            vx = BETA2 * vx + (1.0 - BETA2) * gx * gx
            vy = BETA2 * vy + (1.0 - BETA2) * gy * gy
            step = lr / (1.0 - BETA1 ** (t + 1))
            bc2 = math.sqrt(1.0 - BETA2 ** (t + 1))
            x -= step * mx / (math.sqrt(vx) / bc2 + EPS)
            y -= step * my / (math.sqrt(vy) / bc2 + EPS)
        return out

    sgd(10, 1e-4, 0.9)  # compile outside the timing
    adam(10, 1e-3)
    return {"sgd": lambda n, h: sgd(n, h["lr"], h.get("momentum", 0.0)),
            "adam": lambda n, h: adam(n, h["lr"])}


def print_table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    args = parser.parse_args(argv)

    from gd_explorer.core.engine.descent import Descent
    from gd_explorer.core.optim.optimizers import make_optimizer
    from gd_explorer.core.problems.functions import get_function

    steps = 20_000 if args.quick else 100_000
    repeats = 5
    objective = get_function("rosenbrock")
    start = np.array(START)
    compiled = _numba_loops()
    rows = [(f"Rosenbrock, {steps:,} steps", "ours", "pure Python", "ratio", "numba")]
    for label, name, hyper in CASES:
        def ours(name=name, hyper=hyper):
            return Descent(objective, make_optimizer(name, **hyper), start,
                           max_steps=steps).run()

        if name == "adam":
            def base(hyper=hyper):
                return python_adam(steps, hyper["lr"])
        elif name == "rmsprop":
            def base(hyper=hyper):
                return python_rmsprop(steps, hyper["lr"])
        else:
            def base(hyper=hyper):
                return python_sgd(steps, hyper["lr"], hyper.get("momentum", 0.0))
        traj = ours()
        ref = np.array(base())
        # the same maths: the loops agree with the engine (to rounding: they are
        # written out by hand, not torch's exact arrangement; RMSprop rattling in the
        # valley parts from it by rounding after ~950 steps)
        assert traj.params.shape == ref[:, :2].shape
        assert np.allclose(traj.params[:500], ref[:500, :2], rtol=1e-6, atol=1e-9), label
        t_ours = median_time(ours, repeats)
        t_py = median_time(base, repeats)
        if compiled is None:
            cell = "n/a (numba not installed)"
        elif name not in compiled:
            cell = "n/a (no compiled loop written)"
        else:
            t_nb = median_time(lambda name=name, hyper=hyper: compiled[name](steps, hyper),
                               repeats)
            cell = f"{steps / t_nb:,.0f} steps/s"
        rows.append((label, f"{steps / t_ours:,.0f} steps/s", f"{steps / t_py:,.0f} steps/s",
                     f"{t_py / t_ours:.2f}x", cell))
    print_table(rows)


if __name__ == "__main__":
    main()
