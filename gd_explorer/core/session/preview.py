"""Headless "what-if" paths: every run's first steps from another start point.

Used while the start is dragged on the surface: the same engine (:func:`make_descent`,
:meth:`Descent.advance`) as a real run, stopped after ``steps`` updates, so a preview is
the exact prefix of the run that starts there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gd_explorer.core.limits import DRAG_PREVIEW_STEPS
from gd_explorer.core.problems.objectives import Objective
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, make_descent


def preview_paths(objective: Objective, problem: ProblemSpec, runs: Sequence[RunSpec],
                  start, *, steps: int = DRAG_PREVIEW_STEPS, max_steps: int,
                  tol: float, loss_tol: float) -> list[np.ndarray]:
    """The parameter rows of each run's first ``steps`` updates from ``start``.

    Parameters
    ----------
    objective, problem
        The built problem the runs descend.
    runs
        The runs' settings, in order.
    start
        The start point, shape ``(d,)``.
    steps
        Updates per run at most (fewer when a run stops earlier: converged, diverged,
        or its own ``max_steps``).
    max_steps, tol, loss_tol
        The runs' stopping settings (as for a real run).

    Returns
    -------
    list of ndarray
        One ``(n, d)`` array per run, ``n <= steps + 1`` (row 0 is the start).

    Raises
    ------
    ValueError
        When the start or a run's settings are not acceptable.
    """
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"preview steps must be zero or positive, got {steps}")
    out = []
    for spec in runs:
        descent = make_descent(objective, problem, spec, start, max_steps=max_steps,
                               tol=tol, loss_tol=loss_tol)
        descent.advance(steps)
        out.append(descent.trajectory(copy=True).params)
    return out
