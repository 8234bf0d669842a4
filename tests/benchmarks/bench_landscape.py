"""Benchmark: a 51 × 51 loss landscape of a 2-16-16-1 tanh MLP on 200 moons.

Prints the median time (several runs) of each mode computed in core
(:func:`~gd_explorer.model.landscape_job.compute_landscape`), of the same random plane
through the :class:`LandscapeJob` on its thread (request to ``finished``, as the window
waits for it), and of a baseline measured in the same run: the grid evaluated one point
at a time with ``objective.value`` (what a plain loop over the grid does).
Target: <= 1 s for 51 × 51, off the UI thread.

    uv run python tests/benchmarks/bench_landscape.py
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from timing import median_time  # noqa: E402

from gd_explorer.core.engine.descent import Descent  # noqa: E402
from gd_explorer.core.lab.landscape import random_plane  # noqa: E402
from gd_explorer.core.optim.optimizers import make_optimizer  # noqa: E402
from gd_explorer.core.problems.nets import net_objective  # noqa: E402
from gd_explorer.model.landscape_job import LandscapeRequest, compute_landscape  # noqa: E402

N, REPEATS = 51, 5


def main() -> None:
    obj = net_objective("moons", "mlp", "2-16-16-1", samples=200)
    path = Descent(obj, make_optimizer("adam", lr=0.01), np.asarray(obj.start),
                   max_steps=500, grad_tol=0.0).run().params
    rows = []
    for mode in ("random", "pca", "line"):
        req = LandscapeRequest(0, obj, mode, path, seed=0, resolution=N)
        rows.append((f"core {mode}", median_time(lambda r=req: compute_landscape(r), REPEATS)))

    from PySide6.QtCore import QCoreApplication, QEventLoop

    from gd_explorer.model.landscape_job import LandscapeJob

    app = QCoreApplication.instance() or QCoreApplication([])
    job = LandscapeJob()
    loop = QEventLoop()
    job.finished.connect(lambda _r: loop.quit())

    def through_job():
        job.start(obj, "random", path, resolution=N)
        loop.exec()

    rows.append(("job random (thread)", median_time(through_job, REPEATS)))
    job.stop()
    job.thread.quit()
    job.thread.wait()

    centre = path[-1]
    d1, d2 = random_plane(obj, centre, 0)
    axis = np.linspace(-1, 1, N)

    def one_by_one():
        for b in axis:
            for a in axis:
                obj.value(centre + a * d1 + b * d2)

    base = median_time(one_by_one, 3)
    rows.append(("baseline: point by point", base))
    print(f"51 x 51 landscape, 2-16-16-1 tanh MLP, 200 samples, d = {obj.dim}; "
          f"median of {REPEATS}")
    print(f"{'what':<28}{'seconds':>10}{'vs baseline':>14}")
    for name, t in rows:
        print(f"{name:<28}{t:>10.3f}{base / t:>13.1f}x")
    del app


if __name__ == "__main__":
    main()
