"""Benchmark: a 2-16-16-1 tanh MLP on 200 moons, full batch, through the engine.

Prints steps/s of plain SGD through :class:`Descent` (recording the path, as the app
and the CLI do) and of a hand-written numpy forward/backward loop doing the same
updates, measured in the same run, and their ratio (median of several runs).
Targets: >= 2,000 steps/s through the engine, within 2x of the hand-written loop.
Then the engine's rate for every activation (gelu's erf is the costly one).

    uv run python tests/benchmarks/bench_nets.py
"""

import statistics
import time

import numpy as np

from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.nets import ACTIVATIONS, net_objective

STEPS, REPEATS, LR = 2000, 5, 0.1


def engine_rate(obj) -> tuple[float, np.ndarray]:
    descent = Descent(obj, make_optimizer("sgd", lr=LR), np.asarray(obj.start),
                      max_steps=STEPS, grad_tol=0.0)
    t = time.perf_counter()
    traj = descent.run()
    return STEPS / (time.perf_counter() - t), traj.params[-1]


def hand_rate(obj) -> tuple[float, np.ndarray]:
    x, y = obj.data.x, obj.data.y
    p = np.asarray(obj.start).copy()
    net = obj.network
    (w1s, b1s), (w2s, b2s), (w3s, b3s) = net.slices
    n = y.size
    t = time.perf_counter()
    for _ in range(STEPS):
        w1, b1 = p[w1s].reshape(16, 2), p[b1s]
        w2, b2 = p[w2s].reshape(16, 16), p[b2s]
        w3, b3 = p[w3s].reshape(1, 16), p[b3s]
        h1 = np.tanh(x @ w1.T + b1)
        h2 = np.tanh(h1 @ w2.T + b2)
        z = (h2 @ w3.T + b3)[:, 0]
        e = np.exp(-np.abs(z))
        s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        dz = ((s - y) / n)[:, None]
        g = np.empty_like(p)
        g[w3s] = (dz.T @ h2).ravel()
        g[b3s] = dz.sum(0)
        d2 = (dz @ w3) * (1 - h2 * h2)
        g[w2s] = (d2.T @ h1).ravel()
        g[b2s] = d2.sum(0)
        d1 = (d2 @ w2) * (1 - h1 * h1)
        g[w1s] = (d1.T @ x).ravel()
        g[b1s] = d1.sum(0)
        p -= LR * g
    return STEPS / (time.perf_counter() - t), p


def main():
    obj = net_objective("moons", "mlp", "2-16-16-1", "tanh", "cross-entropy", samples=200)
    engine, hand = [], []
    for _ in range(REPEATS):
        r, pe = engine_rate(obj)
        engine.append(r)
        r, ph = hand_rate(obj)
        hand.append(r)
    same = np.max(np.abs(pe - ph))
    e, h = statistics.median(engine), statistics.median(hand)
    print(f"2-16-16-1 tanh MLP, {obj.dim} parameters, 200 points, full batch, SGD lr {LR}, "
          f"{STEPS} steps, median of {REPEATS}")
    print(f"{'path':<28}{'steps/s':>10}")
    print(f"{'engine (Descent, recorded)':<28}{e:>10,.0f}")
    print(f"{'hand-written numpy loop':<28}{h:>10,.0f}")
    print(f"{'ratio hand / engine':<28}{h / e:>10.2f}")
    print(f"max |θ_engine − θ_hand| after {STEPS} steps: {same:.2e}")
    print()
    print(f"the same net with each activation through the engine, median of {REPEATS}")
    print(f"{'activation':<28}{'steps/s':>10}{'vs tanh':>10}")
    rates = {}
    for act in ACTIVATIONS:
        o = net_objective("moons", "mlp", "2-16-16-1", act, "cross-entropy", samples=200)
        rates[act] = statistics.median(engine_rate(o)[0] for _ in range(REPEATS))
        print(f"{act:<28}{rates[act]:>10,.0f}{rates[act] / rates['tanh']:>10.2f}")


if __name__ == "__main__":
    main()
