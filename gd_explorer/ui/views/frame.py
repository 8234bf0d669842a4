"""What every view draws at one display tick, as one value.

The window builds a :class:`Frame` once per tick (:func:`frame_of`, at most 60 times a
second, pulled by the model's timer) and hands the same frame to every view that is
shown for the problem (``view.show_frame(frame)``); each view takes what it needs.
Nothing in a frame is computed for a view that does not ask: the snapshots are read-only
views of the recording, and derived data (a fitted curve, a slice) comes from callables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gd_explorer.model.snapshot import RunSnapshot


@dataclass(frozen=True)
class Frame:
    """The runs and the state the views show them in, at one display tick.

    Attributes
    ----------
    snapshots
        Every run, in run order (read-only arrays).
    cursor
        Timeline row (None: the latest row of each run).
    selected_id
        ``run_id`` of the selected run (None: none).
    axes
        Parameter columns on the surface's x and y.
    names
        Parameter names.
    dim
        Number of parameters.
    running
        Whether the runs are running (views that cost more follow at a lower rate).
    maximize
        Gradient ascent.
    groups
        The objective's parameter groups (``(title, columns)``: a network's layers), or
        None (:meth:`~gd_explorer.core.problems.objectives.Objective.parameter_groups`).
    selected_status
        How the selected run stands in words ("paused at step 40"); None without one.
    predict
        ``predict(params, xs) -> ys``: the model curve of a problem that fits data, None
        for a plain function.
    slice_along
        ``slice_along(i) -> (xs, values, current)``: the loss along parameter ``i``
        through the selected run's point (computed only when called).
    curvature
        ``curvature() -> Curvature | None``: the Hessian, its eigen-decomposition and the
        optimizer's stability edge at the selected run's row (computed when called).
    sharpness
        ``sharpness() -> [SharpnessRun]``: λmax along every run (computed when called).
    decision
        ``decision() -> DecisionMap | None``: the selected run's decision function at the
        cursor (a classifier; computed when called).
    metrics
        ``metrics() -> Metrics``: train/test measures and layer norms of every run
        (computed when called).
    """

    snapshots: tuple[RunSnapshot, ...]
    cursor: int | None
    selected_id: int | None
    axes: tuple[int, ...]
    names: tuple[str, ...]
    dim: int
    running: bool = False
    maximize: bool = False
    groups: tuple | None = None
    selected_status: str | None = None
    predict: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    slice_along: Callable[[int], tuple] | None = None
    curvature: Callable[[], object] | None = None
    sharpness: Callable[[], list] | None = None
    decision: Callable[[], object] | None = None
    metrics: Callable[[], object] | None = None

    @property
    def selected(self) -> RunSnapshot | None:
        """The selected run's snapshot (None: no run is selected)."""
        return next((s for s in self.snapshots if s.run_id == self.selected_id), None)


def frame_of(model) -> Frame:
    """The frame of an :class:`~gd_explorer.model.explorer.ExplorerModel` as it is now."""
    snaps = tuple(model.snapshots())
    selected_id = model.selected_run_id
    sel = next((s for s in snaps if s.run_id == selected_id), None)
    return Frame(
        snapshots=snaps,
        cursor=model.cursor,
        selected_id=selected_id,
        axes=tuple(model.surface_axes),
        names=tuple(model.names),
        dim=model.dim,
        running=model.running,
        maximize=model.maximize,
        groups=model.objective.parameter_groups(),
        selected_status=model.status_text(sel) if sel is not None else None,
        predict=model.objective.predict if "fit" in model.views else None,
        slice_along=model.slice_along,
        curvature=getattr(model, "curvature", None),
        sharpness=getattr(model, "sharpness", None),
        decision=getattr(model, "decision", None),
        metrics=getattr(model, "metrics", None),
    )
