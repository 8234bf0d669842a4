"""Benchmark the step log (fed at TEXT rate, at most 8 times a second); prints a table.

Run with the project's interpreter::

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_steplog.py [--repeats R]

- text: ``StepLogView.entry_text`` for one row of an Adam run: a 2-parameter function (the
  per-coordinate log, the baseline) and networks of 105, 337 and ~10,300 parameters (the
  summary: norms and a table per layer), and the summary with every parameter listed.
- widget: ``set_entry`` on a shown view, alternating two rows (the patch of the changed
  lines, what a running log costs per tick), and switching the full listing on (a fresh
  layout of every line).

Each figure is the median of R runs; "× base" divides by the 2-parameter text in the same run.
Not a test: no wall-clock assertions, and nothing runs at import time.
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import median_time  # the folder of this script is on sys.path

from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.nets import net_objective
from gd_explorer.model.snapshot import RunSnapshot

CASES = (("rosenbrock (d = 2)", None), ("2-8-8-1", "2-8-8-1"), ("2-16-16-1", "2-16-16-1"),
         ("2-100-98-1", "2-100-98-1"))


def snapshot(layers: str | None, steps: int = 20):
    """An Adam run's snapshot, the objective's groups and the parameter names."""
    obj = get_function("rosenbrock") if layers is None else net_objective(
        "moons", "mlp", layers, "tanh", samples=100)
    opt = make_optimizer("adam", lr=0.01)
    d = Descent(obj, opt, np.asarray(obj.start, dtype=float), max_steps=steps)
    t = d.run()
    rng = np.random.default_rng(0)
    state = {"step": np.array([float(steps)]), "exp_avg": rng.normal(size=obj.dim),
             "exp_avg_sq": rng.random(obj.dim)}
    snap = RunSnapshot.make(1, "Adam lr=0.01", "#0072b2", True, t.params, t.loss, t.grad, t.lr,
                            status="running", message="paused", state=state,
                            optimizer_title="Adam", hyper={"lr": 0.01, "betas": (0.9, 0.999)},
                            optimizer="adam")
    return snap, obj.parameter_groups(), tuple(obj.names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from gd_explorer.ui.views.steplog import StepLogView

    app = QApplication.instance() or QApplication([])
    rows = []
    base = None
    for title, layers in CASES:
        snap, groups, names = snapshot(layers)
        d = len(names)

        def text(show_all=False, snap=snap, groups=groups, names=names):
            return StepLogView.entry_text(snap, 10, names, False, groups=groups,
                                          show_all=show_all, width=60)

        t = median_time(text, args.repeats)
        base = base or t
        rows.append((title, d, "text", t, len(text().splitlines())))
        if layers is not None:
            t = median_time(lambda: text(True), max(3, args.repeats // 3))
            rows.append((title, d, "text, all listed", t, len(text(True).splitlines())))
        view = StepLogView()
        view.resize(450, 600)
        view.show()
        flip = [10]

        def tick(view=view, snap=snap, groups=groups, names=names, flip=flip):
            flip[0] = 21 - flip[0]  # rows 10 and 11 in turn: a running log's new numbers
            view.set_entry(snap, flip[0], names, False, groups=groups)
            app.processEvents()

        tick()
        rows.append((title, d, "widget tick (patch)", median_time(tick, args.repeats),
                     view.document().blockCount()))
        if layers is not None:
            def listing(view=view):
                view.set_show_all(not view.show_all)
                app.processEvents()
            rows.append((title, d, "widget: list all on/off", median_time(
                listing, max(3, args.repeats // 3)), view.document().blockCount()))
        view.close()
        view.deleteLater()
    print(f"{'problem':<20} {'d':>7}  {'what':<26} {'median ms':>10} {'× base':>8} {'lines':>7}")
    for title, d, what, t, n in rows:
        print(f"{title:<20} {d:>7,}  {what:<26} {t * 1e3:>10.2f} {t / base:>8.1f} {n:>7,}")


if __name__ == "__main__":
    main()
