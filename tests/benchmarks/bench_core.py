"""Benchmark the core engine against hand-written baselines; prints a table.

Run with the project's interpreter (torch is optional and only used as a reference)::

    python tests/benchmarks/bench_core.py [--quick]

Each timing is the median of several runs; every ratio is against a baseline measured in
the same process, so the numbers compare across machines only as ratios.

- single: one 2-D trajectory, Adam (lr 1e-3) on Rosenbrock from (-1.5, 2), recorded in
  memory. Ours is ``run_descent``; the baseline is a pure-Python loop with floats and
  ``math.sqrt`` that appends one tuple per step; torch (if installed) is
  ``torch.optim.Adam`` fed the same hand-written gradient.
- batched: Adam on Rosenbrock from 250,000 seeded starts, 100 steps. The baseline is a
  vectorized numpy loop doing the same arithmetic (gradient, loss, Adam update).
- memory: bytes per recorded step against the budget ``(2*d + 4) * 8``.

Not a test: no wall-clock assertions, and nothing runs at import time.
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np
from timing import median_time  # the folder of this script is on sys.path

LR = 1e-3
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
START = (-1.5, 2.0)


def rosenbrock_value_grad(x, y):
    """Rosenbrock value and gradient, written out by hand (works on floats and arrays)."""
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b


def python_adam(steps):
    """Pure-Python Adam on Rosenbrock, recording (x, y, loss, gx, gy, lr) per row."""
    x, y = START
    mx = my = vx = vy = 0.0
    rows = []
    for t in range(1, steps + 1):
        f, gx, gy = rosenbrock_value_grad(x, y)
        rows.append((x, y, f, gx, gy, LR))
        mx = BETA1 * mx + (1.0 - BETA1) * gx
        my = BETA1 * my + (1.0 - BETA1) * gy
        vx = BETA2 * vx + (1.0 - BETA2) * gx * gx
        vy = BETA2 * vy + (1.0 - BETA2) * gy * gy
        bc1 = 1.0 - BETA1**t
        bc2_sqrt = math.sqrt(1.0 - BETA2**t)
        x -= LR / bc1 * mx / (math.sqrt(vx) / bc2_sqrt + EPS)
        y -= LR / bc1 * my / (math.sqrt(vy) / bc2_sqrt + EPS)
    f, gx, gy = rosenbrock_value_grad(x, y)
    rows.append((x, y, f, gx, gy, LR))
    return rows


def torch_adam(torch, steps):
    """torch.optim.Adam fed the hand-written gradient."""
    p = torch.tensor(START, dtype=torch.float64)
    opt = torch.optim.Adam([p], lr=LR, betas=(BETA1, BETA2), eps=EPS, foreach=False)
    for _ in range(steps):
        x, y = p.tolist()
        _, gx, gy = rosenbrock_value_grad(x, y)
        p.grad = torch.tensor((gx, gy), dtype=torch.float64)
        opt.step()
    return p


def numpy_adam(starts, steps):
    """Vectorized numpy Adam on Rosenbrock keeping only the final state."""
    p = starts.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    g = np.empty_like(p)
    x, y = p[:, 0], p[:, 1]
    for t in range(1, steps + 1):
        loss, g[:, 0], g[:, 1] = rosenbrock_value_grad(x, y)
        m *= BETA1
        m += (1.0 - BETA1) * g
        v *= BETA2
        v += (1.0 - BETA2) * g * g
        denom = np.sqrt(v)
        denom /= math.sqrt(1.0 - BETA2**t)
        denom += EPS
        p -= (LR / (1.0 - BETA1**t)) * m / denom
    loss, g[:, 0], g[:, 1] = rosenbrock_value_grad(x, y)
    return p, loss, g


def recorded_bytes_per_step(traj):
    """Bytes per recorded row: (as exposed, as allocated including growth headroom)."""
    rows = traj.params.shape[0]
    arrays = [traj.params, traj.loss, traj.grad, traj.lr]
    exposed = sum(a.nbytes for a in arrays) / rows
    buffers = {}
    for a in arrays:
        base = a.base if isinstance(a.base, np.ndarray) else a
        buffers[id(base)] = base.nbytes
    allocated = sum(buffers.values()) / rows
    reported = getattr(traj, "nbytes_per_step", None)
    return exposed, allocated, reported


def available_memory_bytes():
    """Available physical memory, or None where the platform does not say."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def print_table(rows):
    """Print rows of strings with aligned columns (first column left, others right)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        rest = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in rest]
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    args = parser.parse_args(argv)

    from gd_explorer.core.engine.descent import run_descent
    from gd_explorer.core.optim.optimizers import make_optimizer
    from gd_explorer.core.problems.functions import get_function

    repeats = 3 if args.quick else 5
    single_steps = 10_000 if args.quick else 100_000
    torch_steps = 2_000 if args.quick else 20_000
    n_starts = 25_000 if args.quick else 250_000
    batch_steps = 100

    objective = get_function("rosenbrock")

    def adam():
        return make_optimizer("adam", lr=LR, betas=(BETA1, BETA2), eps=EPS)

    start = np.array(START)
    rows = [("benchmark", "ours", "baseline", "ratio", "torch", "note")]

    # single trajectory
    t_ours = median_time(lambda: run_descent(objective, adam(), start, steps=single_steps),
                         repeats)
    t_py = median_time(lambda: python_adam(single_steps), repeats)
    try:
        import torch
    except ImportError:
        torch_cell = "n/a (torch not installed)"
    else:
        torch.set_num_threads(1)
        t_torch = median_time(lambda: torch_adam(torch, torch_steps), repeats)
        torch_cell = f"{torch_steps / t_torch:,.0f} steps/s"
    rows.append((
        f"single Adam, {single_steps:,} steps",
        f"{single_steps / t_ours:,.0f} steps/s",
        f"{single_steps / t_py:,.0f} steps/s",
        f"{t_py / t_ours:.2f}x",
        torch_cell,
        "baseline: pure Python",
    ))

    # batched, final state only
    rng = np.random.default_rng(0)
    starts = rng.uniform((-2.0, -1.0), (2.0, 3.0), size=(n_starts, 2))
    t_np = median_time(lambda: numpy_adam(starts, batch_steps), repeats)
    t_ours = median_time(lambda: run_descent(objective, adam(), starts, steps=batch_steps,
                                             record=False), repeats)
    rows.append((
        f"batched Adam, {n_starts:,} x {batch_steps} steps, record=False",
        f"{t_ours * 1e3:,.0f} ms",
        f"{t_np * 1e3:,.0f} ms",
        f"{t_np / t_ours:.2f}",
        "",
        "baseline: numpy; target ratio >= 0.7",
    ))

    need = n_starts * (batch_steps + 1) * 6 * 8
    avail = available_memory_bytes()
    if avail is None or avail > 3 * need:
        t_rec = median_time(lambda: run_descent(objective, adam(), starts, steps=batch_steps,
                                                record=True), max(1, repeats - 2))
        rows.append((
            f"batched Adam, {n_starts:,} x {batch_steps} steps, record=True",
            f"{t_rec * 1e3:,.0f} ms",
            f"{t_np * 1e3:,.0f} ms",
            f"{t_np / t_rec:.2f}",
            "",
            f"records {need / 1e9:.2f} GB",
        ))
    else:
        rows.append((f"batched record=True ({need / 1e9:.2f} GB)", "skipped", "", "", "",
                     "not enough free memory"))

    # memory per recorded step
    traj = run_descent(objective, adam(), start, steps=single_steps)
    exposed, allocated, reported = recorded_bytes_per_step(traj)
    d = traj.params.shape[1]
    budget = (2 * d + 4) * 8
    note = f"nbytes_per_step={reported:g}" if reported is not None else "no nbytes_per_step"
    rows.append((
        "memory per recorded step (arrays / buffers)",
        f"{exposed:.1f} / {allocated:.1f} B",
        f"{budget} B budget",
        f"{allocated / budget:.2f}",
        "",
        note,
    ))

    print_table(rows)


if __name__ == "__main__":
    main()
