"""Building a problem for the model: everything checked before anything changes.

The model's setters build the new objective here first; only when the objective, its
start and every run are acceptable does the model switch to it (a refused problem
changes nothing and the message says why).
"""

from __future__ import annotations

from collections.abc import Iterable

from gd_explorer.core.engine.descent import check_optimizer_fits, check_start
from gd_explorer.core.problems.objectives import Objective
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session


def build_problem(spec: ProblemSpec, runs: Iterable[RunSpec]) -> Objective:
    """The objective of ``spec``, where a descent can begin at its default start and every
    run in ``runs`` can be built.

    Raises
    ------
    ValueError
        From the kind's builder (a refused formula, an unusable CSV file), the start
        check or a run's hyperparameters.
    """
    objective = spec.build()
    check_start(objective, objective.start)
    maximize = spec.maximize_for(objective)
    batch = spec.kind_entry.batch_size(spec)
    for run in runs:
        check_optimizer_fits(objective, run.build(maximize)[0], batch)
    return objective


def build_session(session: Session) -> Objective:
    """The objective of ``session``, its start and every run checked.

    Raises
    ------
    ValueError
        As :func:`build_problem`; a run's message starts with ``run <i>:``.
    """
    objective = session.problem.build()
    session.start_for(objective)  # the right number of finite values
    maximize = session.problem.maximize_for(objective)
    batch = session.problem.kind_entry.batch_size(session.problem)
    for i, spec in enumerate(session.runs):
        try:
            check_optimizer_fits(objective, spec.build(maximize)[0], batch)
        except ValueError as exc:
            raise ValueError(f"run {i + 1}: {exc}") from None
    return objective
