"""Plain data the model publishes and the views draw (no Qt here).

The worker records into append-only arrays: rows below ``n`` are never written again, so
a snapshot may hold read-only views of that prefix instead of copying megabytes at
display rate.  Everything else in a snapshot (current state, optimizer buffers) is a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gd_explorer.core.optim.optimizers import OPTIMIZERS


class MomentumRows:
    """The momentum (beta1) a schedule sets for rows ``0..n-1``, kept per run and extended
    as the run grows (the values depend on the step number only, so rows computed once
    stay right while the schedule's settings do)."""

    def __init__(self):
        self._by_run: dict[int, tuple] = {}

    def rows(self, run_id: int, schedule, n: int) -> np.ndarray | None:
        """Read-only ``(n,)`` momenta of ``schedule``, or None if it does not cycle them."""
        if not schedule.cycles_momentum:
            self._by_run.pop(run_id, None)
            return None
        known = self._by_run.get(run_id)
        if known is None or not known[0].same_as(schedule):
            known = (schedule, np.empty(max(16, n)), 0)
        sched, buf, m = known
        if n > len(buf):
            grown = np.empty(max(n, 2 * len(buf)))
            grown[:m] = buf[:m]
            buf = grown
        for t in range(m, n):
            buf[t] = sched.momentum(t)
        m = max(m, n)
        self._by_run[run_id] = (sched, buf, m)
        return _readonly(buf[:n])

    def forget(self, keep) -> None:
        """Drop the runs not in ``keep`` (removed runs)."""
        for rid in [r for r in self._by_run if r not in keep]:
            del self._by_run[rid]


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


@dataclass(frozen=True)
class RunSnapshot:
    """What the views need to draw one run at one moment.

    Attributes
    ----------
    run_id
        Stable identifier of the run (survives reordering and removals of others).
    label, color, visible
        Legend text, ``"#rrggbb"`` colour, and whether the user shows it.
    params, loss, grad, lr
        Recorded rows ``0..n-1`` (read-only): shapes ``(n, d)``, ``(n,)``, ``(n, d)``, ``(n,)``.
    status, message
        Engine status (``running``, ``converged``, ``max_steps``, ``diverged``, ``stopped``)
        and its one-line description (e.g. ``"diverged at step 41"``).
    state
        The optimizer's buffers at the latest step (torch names -> arrays of shape ``(d,)``).
    batch
        Indices of the mini-batch used for the latest update, or None (full batch).
    optimizer_title, hyper
        For the step log: e.g. ``"Adam"`` and ``{"lr": 0.01, "betas": (0.9, 0.999), ...}``.
    momentum, momentum_name
        Where the schedule cycles the momentum (CyclicLR, OneCycleLR): the value used by
        the update leaving each row ``(n,)`` (read-only) and ``"momentum"`` or ``"beta1"``;
        else None and ``""``.
    optimizer
        The optimizer's registry name (``"adam"``); :attr:`entry` is its class, which the
        views ask for the rule text and the buffers' roles.
    """

    run_id: int
    label: str
    color: str
    visible: bool
    params: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    lr: np.ndarray
    status: str = "running"
    message: str = ""
    state: dict[str, np.ndarray] = field(default_factory=dict)
    batch: np.ndarray | None = None
    optimizer_title: str = ""
    hyper: dict = field(default_factory=dict)
    momentum: np.ndarray | None = None
    momentum_name: str = ""
    optimizer: str = ""

    @property
    def entry(self):
        """The optimizer's registry entry (its class), or None for an unknown name."""
        return OPTIMIZERS.get(self.optimizer)

    @property
    def n(self) -> int:
        """Number of recorded rows."""
        return len(self.loss)

    def index(self, cursor: int | None) -> int:
        """The row to show for timeline position ``cursor`` (None: the latest), or -1 if empty."""
        if self.n == 0:
            return -1
        return self.n - 1 if cursor is None else max(0, min(cursor, self.n - 1))

    @staticmethod
    def make(run_id, label, color, visible, params, loss, grad, lr, **kw) -> RunSnapshot:
        """Build a snapshot, turning the row arrays into read-only views."""
        return RunSnapshot(run_id, label, color, visible, _readonly(params), _readonly(loss),
                           _readonly(grad), _readonly(lr), **kw)
