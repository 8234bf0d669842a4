"""Every limit gd-explorer enforces on what people give it, defined once.

The CLI, session files, the app's model and its widgets all read these, so a limit
changed here changes everywhere and the messages quote the same numbers.  Limits that
only one parser knows about (the expression parser's node and depth bounds in
:mod:`gd_explorer.core.problems.expressions`, the CSV reader's size and row bounds in
:mod:`gd_explorer.core.io.tabular`, the surface resolution in :mod:`gd_explorer.core.problems.surface`)
stay next to that parser.
"""

from __future__ import annotations

__all__ = [
    "DIVERGENCE_LIMIT",
    "MAX_BASIN_GRID",
    "MAX_COUNT",
    "MAX_DIM",
    "MAX_GHOSTS",
    "MAX_GHOST_ROWS",
    "MAX_GHOST_VALUES",
    "MAX_LISTED_PARAMS",
    "MAX_RUNS",
    "MAX_SESSION_BYTES",
    "MAX_STEPS",
    "MAX_SWEEP_RUNS",
    "MAX_TEXT_LENGTH",
    "WHATIF_MAX_STEPS",
    "WHATIF_MAX_WORK",
    "steps_within",
]

#: Most runs in one session or window: the app's palette has 8 colour-blind-safe colours
#: (Okabe–Ito), and more paths than that on one surface are not readable anyway.
MAX_RUNS = 8

#: Largest step limit (``max_steps``, ``--steps``): 10 million recorded steps of a 2-D run
#: are 400 MB of float64 rows, about what a laptop can hold next to the app.
MAX_STEPS = 10_000_000

#: Most runs one learning-rate sweep batches (rates, or rates × momenta): 100,000 runs of
#: a 3-parameter model are a few MB of state per step.
MAX_SWEEP_RUNS = 100_000

#: Largest mini-batch size, CSV column index and schedule period (``step_size``,
#: ``t_max``) accepted: far beyond any real dataset (the CSV reader takes 2 million rows),
#: small enough that no arithmetic on it overflows.
MAX_COUNT = 10_000_000

#: Largest session file read (1 MiB; a real session is a few KiB).
MAX_SESSION_BYTES = 1024 * 1024

#: Longest accepted string: titles, descriptions, formulas, paths, labels.
MAX_TEXT_LENGTH = 2000

#: Most parameters any problem has (the 3-parameter dataset models).
MAX_DIM = 3

#: Most parameters the step log and ``gd-explorer run``'s summary write out one by one;
#: beyond, they give the loss, the norms (parameters, gradient, update) and per-layer
#: statistics instead (a 2-8-8-1 network has 105 parameters, three lines each).
MAX_LISTED_PARAMS = 12

#: A value, gradient or parameter beyond this magnitude counts as divergence, and a
#: start point beyond it is refused.
DIVERGENCE_LIMIT = 1e100

#: Largest basin-of-attraction grid per axis (``--grid``, the app's dialog, a session's
#: ``lab.basins.grid``): 1000 x 1000 = one million starts, descended in chunks of
#: 65,536, take a few hundred MB at most and a minute or so at 500 steps.
MAX_BASIN_GRID = 1000

#: Most ghosts (frozen paths kept for comparison, Run ▸ Keep as ghost) in one window or
#: session: more dashed paths than that over the runs are not readable.
MAX_GHOSTS = 4

#: A ghost keeps at most this many rows of its run's path (evenly spaced, first and last
#: included): a thousand points draw the path's shape at any zoom the window offers.
MAX_GHOST_ROWS = 1000

#: ... and at most this many numbers (rows × (parameters + 1)): a network's ghost keeps
#: fewer rows, so that MAX_GHOSTS ghosts stay well within MAX_SESSION_BYTES (a number is
#: about 30 bytes of indented JSON: 4 × 4000 of them are about 500 KB).
MAX_GHOST_VALUES = 4000

#: Steps per run recomputed live while the start ★ is dragged on the surface (the rest
#: of each run follows on release): 3 runs × 1,000 steps fit in a display frame.
DRAG_PREVIEW_STEPS = 1000
#: ... and at most this much work (steps × runs × the objective's evaluation cost, in
#: residuals) per drag tick: a network on 200 points previews tens of steps, not 1,000
#: (which would freeze the window for half a second at every mouse move)
DRAG_PREVIEW_WORK = 300_000

#: Most recorded steps a paused selected run may have for an edit of its settings to
#: recompute its whole path from step 0 at once (the "what-if" preview); a longer run,
#: or a running one, takes the edit from its next step
WHATIF_MAX_STEPS = 2_000
#: ... and at most this much work (steps × the objective's evaluation cost): the default
#: network's 2,000 steps are ~0.3 s, so a bigger network previews fewer steps
WHATIF_MAX_WORK = 10_000_000


def steps_within(work: int, cost_per_step: int) -> int:
    """How many steps of ``cost_per_step`` (an objective's evaluation cost times the
    runs) a budget of ``work`` residuals allows: the drag preview and the what-if
    bound their synchronous steps by it."""
    return work // max(1, cost_per_step)
