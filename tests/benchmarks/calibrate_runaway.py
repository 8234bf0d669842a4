"""How far do runs that do not run away stray?  The evidence behind the runaway constants.

Run with the project's interpreter::

    python tests/benchmarks/calibrate_runaway.py [--steps 2000]

For every built-in function x every optimizer at 0.1, 1, 3 and 10 times its default rate,
every dataset x model x loss with SGD, Adam and RMSprop at 0.1, 1 and 3 times theirs, and
a few typed formulas (periodic, bounded, offset, unbounded), it runs the descent twice:
with the engine's runaway rule and with the old rule only (finite and below 1e100).  It
prints

- the largest ``|f_k - f_ref| / spread`` and ``|p_k - centre| / scale`` reached by a run
  the rule let finish, on objectives bounded below (compare RUNAWAY_FACTOR = 1e5 and
  RUNAWAY_WIDTHS = 1e6: the margin);
- every run whose ending changed, old message -> new message (all should be runs that
  really run away: earlier steps for exploding runs, or losses falling to -inf on
  unbounded functions).

Not a test: nothing is asserted and nothing runs at import time.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from gd_explorer.core.engine import descent as engine
from gd_explorer.core.engine.descent import Descent, Runaway
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.problems.datasets import DATASETS, LOSSES, MODELS, dataset_objective
from gd_explorer.core.problems.functions import FUNCTIONS, get_function
from gd_explorer.core.problems.objectives import expression_objective

#: objectives unbounded below (or above, maximized): running away is what they do
UNBOUNDED = {"saddle", "x2siny", "x", "x + y", "x^3", "exp(x)"}
TYPED = ("sin(pi*x)", "sin(3*x)*cos(2*y)", "exp(-x^2-y^2)", "x", "x + y", "tanh(x)", "x^3",
         "exp(x)", "-exp(-x^2)", "sin(x^2)", "1e6 + x^2", "1e-9*x^2")


def configurations():
    """(label, objective name, objective, optimizer, lr) for every case."""
    for name in FUNCTIONS:
        f = get_function(name)
        for opt in OPTIMIZERS:
            for mult in (0.1, 1.0, 3.0, 10.0):
                yield f"{name} {opt} x{mult}", name, f, opt, f.default_lr(opt) * mult
    for ds in DATASETS:
        for model in MODELS:
            for loss in LOSSES:
                f = dataset_objective(ds, model, loss)
                for opt in ("sgd", "adam", "rmsprop"):
                    for mult in (0.1, 1.0, 3.0):
                        yield (f"{ds}/{model}/{loss} {opt} x{mult}", ds, f, opt,
                               f.default_lr(opt) * mult)
    for text in TYPED:
        f = expression_objective(text)
        for opt in ("sgd", "adam"):
            for lr in (0.01, 0.1, 1.0):
                yield f"{text} {opt} lr={lr}", text, f, opt, lr


def run(f, opt, lr, steps, rule: bool) -> Descent:
    saved = engine.RUNAWAY_FACTOR, engine.RUNAWAY_WIDTHS
    if not rule:
        engine.RUNAWAY_FACTOR = engine.RUNAWAY_WIDTHS = math.inf
    try:
        d = Descent(f, make_optimizer(opt, lr=lr, maximize=f.maximize), f.start,
                    max_steps=steps, grad_tol=1e-8)
        d.run()
    finally:
        engine.RUNAWAY_FACTOR, engine.RUNAWAY_WIDTHS = saved
    return d


def excursion(f, d: Descent) -> tuple[float, float]:
    """Largest loss excursion in spreads and parameter excursion in scales of a run."""
    t = d.trajectory()
    start = np.asarray(f.start, dtype=float)
    bounds = Runaway.at_start(f, start[None, :], t.loss[:1])
    spread = (bounds.v_hi[0] - bounds.f_ref[0]) / engine.RUNAWAY_FACTOR
    window = engine._window_of(f, start[None, :])
    centre = window.mean(axis=1)
    scale = np.maximum(window[:, 1] - window[:, 0], np.abs(start - centre))
    with np.errstate(all="ignore"):
        return (float(np.max(np.abs(t.loss - bounds.f_ref[0])) / spread),
                float(np.max(np.abs(t.params - centre) / scale)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    worst_f = worst_p = (0.0, "")
    changed, count = [], 0
    for label, name, f, opt, lr in configurations():
        count += 1
        new = run(f, opt, lr, args.steps, rule=True)
        old = run(f, opt, lr, args.steps, rule=False)
        if old.message(0) != new.message(0):
            changed.append((label, old.message(0), new.message(0)))
        if new.statuses[0] != "diverged" and name not in UNBOUNDED:
            rf, rp = excursion(f, new)
            worst_f = max(worst_f, (rf, label))
            worst_p = max(worst_p, (rp, label))
    print(f"{count} configurations, {args.steps} steps each")
    print(f"largest loss excursion of a finished run: {worst_f[0]:.3g} spreads ({worst_f[1]}); "
          f"RUNAWAY_FACTOR = {engine.RUNAWAY_FACTOR:g}")
    print(f"largest parameter excursion of a finished run: {worst_p[0]:.3g} scales "
          f"({worst_p[1]}); RUNAWAY_WIDTHS = {engine.RUNAWAY_WIDTHS:g}")
    print(f"{len(changed)} runs end differently (old rule -> runaway rule):")
    for label, old, new in changed:
        print(f"  {label:<40} {old:<55} -> {new}")


if __name__ == "__main__":
    main()
