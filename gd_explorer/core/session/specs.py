"""Sessions: everything a user set up, as versioned, validated JSON.

A :class:`Session` is the problem (a built-in function, a typed formula or a dataset fit),
up to :data:`~gd_explorer.core.limits.MAX_RUNS` (8) optimizer runs sharing one start point,
the stopping rules and a few display settings.  The desktop app saves and opens sessions,
the presets are sessions, and the CLI runs them (``gd-explorer run --session FILE``).

Session files are shared between people, so :func:`load_session` treats them as hostile:
size, encoding, JSON syntax, nesting depth, every key, type and range are checked before
anything is built.  Typed formulas go through the allowlisting parser
(:func:`gd_explorer.core.problems.expressions.parse_expression`), never ``eval``; hyperparameters are
checked by building the optimizer they belong to.  A dataset given as a CSV path is
stored as given and only read when the problem is built.  Every refusal is a
:class:`SessionError` (a ``ValueError``) whose message names the offending key path, e.g.
``runs[1].hyper.betas: betas[0] must be in [0, 1), got 1.5``.

File format (``version`` 1)::

    {"format": "gd-explorer-session", "version": 1, "title": "", "description": "",
     "problem": {"kind": "function", "function": "rosenbrock", "dataset": "fence",
                 "x_column": null, "y_column": null, "model": "linear", "loss": "mse",
                 "huber_delta": 1.0, "batch_size": null, "seed": 0, "maximize": null},
     "runs": [{"optimizer": "adam", "lr": 0.01, "hyper": {"betas": [0.9, 0.99]},
               "schedule": "constant", "schedule_params": {}, "label": "",
               "color": "", "visible": true}],
     "start": [-1.5, 2.0], "max_steps": 1000, "tol": 1e-08, "loss_tol": 0.0,
     "surface_axes": [0, 1]}

Every key is required and no other key is accepted, with one exception:
``problem.huber_delta`` (Huber's δ) came later within version 1, so a file without it
reads as δ = 1 (what those files meant); it is always written.  Likewise a run's
``warmup`` (linear warm-up updates before its schedule): a run without it has none, and
it is written only when it is not 0 (so such files still read in older versions).  Floats are written with
``repr`` and read back bit for bit.

The curvature lab's settings live in an optional top-level ``"lab"`` object, one sub-key
per feature (:data:`LAB_SECTIONS`), each optional and each read by its feature:
``"lab": {"basins": {"grid": 200, "steps": 500}}``.  A file without it reads with the
defaults; it is written only when a feature's settings were set.

Ghosts (Run ▸ Keep as ghost: frozen paths drawn dimmed to compare before and after) live
in an optional top-level ``"ghosts"`` list, written only when there are some; a file
without it has none::

    "ghosts": [{"label": "ghost: Adam lr=0.05 (before)", "color": "#D55E00",
                "steps": [0, 1, 5], "params": [[-1.5, 2.0], [-1.4, 1.9], [-1.0, 1.0]],
                "loss": [12.5, 10.1, 4.0]}]

At most :data:`~gd_explorer.core.limits.MAX_GHOSTS` ghosts, each of at most
:data:`~gd_explorer.core.limits.MAX_GHOST_ROWS` rows and
:data:`~gd_explorer.core.limits.MAX_GHOST_VALUES` numbers; every row has one value per
parameter of the problem, every number is finite.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gd_explorer.core.engine.descent import Descent, check_start
from gd_explorer.core.io.export import atomic_write_text
from gd_explorer.core.io.fields import (  # noqa: F401 - the readers, shared with the kinds
    SessionError,
    _choice,
    _describe,
    _fail,
    _flag,
    _join,
    _key_text,
    _non_negative,
    _object,
    _real,
    _text,
    _whole,
    plain_float,
    plain_int,
)
from gd_explorer.core.lab.basins import BasinSettings
from gd_explorer.core.lab.sweep import SweepSettings
from gd_explorer.core.limits import (  # re-exported: session.MAX_RUNS etc. stay importable
    DIVERGENCE_LIMIT,
    MAX_COUNT,
    MAX_DIM,
    MAX_GHOST_ROWS,
    MAX_GHOST_VALUES,
    MAX_GHOSTS,
    MAX_RUNS,
    MAX_SESSION_BYTES,
    MAX_STEPS,
    MAX_TEXT_LENGTH,
)
from gd_explorer.core.optim.optimizers import OPTIMIZERS, Optimizer, make_optimizer
from gd_explorer.core.optim.schedules import SCHEDULES, Schedule, make_schedule
from gd_explorer.core.problems.datasets import HUBER_DELTA
from gd_explorer.core.problems.kinds import (  # noqa: F401 - _checked_formula: importable here
    KINDS,
    ProblemKind,
    _checked_formula,
    _function_names,
    get_kind,
    kind_choices,
)
from gd_explorer.core.problems.objectives import Objective

__all__ = [
    "MAX_COUNT",
    "MAX_DIM",
    "MAX_RUNS",
    "MAX_SESSION_BYTES",
    "MAX_STEPS",
    "MAX_TEXT_LENGTH",
    "SESSION_FORMAT",
    "SESSION_VERSION",
    "GhostSpec",
    "ProblemSpec",
    "RunSpec",
    "Session",
    "SessionError",
    "freeze_ghost",
    "load_session",
    "save_session",
    "session_from_dict",
    "session_to_dict",
]

SESSION_FORMAT = "gd-explorer-session"
SESSION_VERSION = 1

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


# ============================================================================ dataclasses
@dataclass(frozen=True)
class RunSpec:
    """One optimizer run: optimizer, learning rate, hyperparameters, schedule, looks.

    Attributes
    ----------
    optimizer : str
        Key of :data:`gd_explorer.core.optim.optimizers.OPTIMIZERS`.
    lr : float
        The (base) learning rate.
    hyper : dict
        torch keyword -> value, e.g. ``{"momentum": 0.9}`` or ``{"betas": (0.9, 0.99)}``;
        omitted hyperparameters take torch's defaults.  ``lr`` and ``maximize`` are not
        allowed here (they come from ``lr`` and the problem).
    schedule, schedule_params
        Key of :data:`gd_explorer.core.optim.schedules.SCHEDULES` and its keyword arguments.
    warmup : int
        Updates of linear warm-up before the schedule (torch's ``SequentialLR`` of a
        ``LinearLR`` and the schedule); 0: none.
    label : str
        Legend text; ``""`` derives one (:meth:`display_label`).
    color : str
        ``"#rrggbb"``, or ``""`` to let the app assign one.
    visible : bool
        Whether the app draws the run.
    """

    optimizer: str = "sgd"
    lr: float = 0.01
    hyper: dict = field(default_factory=dict)
    schedule: str = "constant"
    schedule_params: dict = field(default_factory=dict)
    label: str = ""
    color: str = ""
    visible: bool = True
    warmup: int = 0

    def build(self, maximize: bool) -> tuple[Optimizer, Schedule]:
        """The optimizer (ascending if ``maximize``) and the learning-rate schedule.

        Raises
        ------
        ValueError
            For an unknown optimizer or schedule or an invalid value; the message says
            which.
        """
        if "lr" in self.hyper or "maximize" in self.hyper:
            raise ValueError("hyper must not contain 'lr' or 'maximize' (they are set apart)")
        optimizer = make_optimizer(self.optimizer, lr=self.lr, maximize=maximize, **self.hyper)
        schedule = make_schedule(self.schedule, self.lr, warmup=self.warmup,
                                 **self.schedule_params)
        schedule.bind(optimizer)  # refuses an optimizer the schedule cannot cycle
        return optimizer, schedule

    def display_label(self) -> str:
        """The legend text: ``label``, or one derived from the settings.

        The derived label names the optimizer, the hyperparameters that differ from
        torch's defaults, the learning rate and a non-constant schedule, e.g.
        ``"Adam lr=0.01"`` or ``"SGD momentum=0.9 lr=0.001 cosine"``.
        """
        if self.label:
            return self.label
        cls = OPTIMIZERS.get(self.optimizer)
        if cls is None:
            return f"{self.optimizer} lr={_fmt_number(self.lr)}"
        parts = [cls.title.split(" (")[0]]
        defaults = {p.name: p.default for p in cls.params}
        for key, value in self.hyper.items():
            if key in defaults and _same_value(value, defaults[key]):
                continue
            if value is True:
                parts.append(key)
            else:
                parts.append(f"{key}={_fmt_value(value)}")
        parts.append(f"lr={_fmt_number(self.lr)}")
        if self.warmup:
            parts.append(f"warmup={self.warmup}")
        if self.schedule != "constant":
            parts.append(self.schedule)
        return " ".join(parts)


@dataclass(frozen=True)
class ProblemSpec:
    """What is descended: a function (built-in or typed) or a model fitted to a dataset.

    Attributes
    ----------
    kind : str
        A key of :data:`gd_explorer.core.problems.kinds.KINDS` (``"function"``,
        ``"dataset"``); its entry owns the fields it uses, builds the objective and reads
        those fields from session files.  The fields of the other kinds are kept (so that
        switching back restores them) but not used.
    function : str
        A built-in name (:data:`gd_explorer.core.problems.functions.FUNCTIONS`) or a formula in
        ``x`` and ``y``.
    dataset : str
        A built-in name (:data:`gd_explorer.core.problems.datasets.DATASETS`) or a CSV path, stored
        as given and read by :meth:`build`.
    x_column, y_column : str, int or None
        CSV columns by name or 0-based index (``None``: the first two).
    model, loss : str
        Keys of ``MODELS`` and ``LOSSES``.
    huber_delta : float
        Huber's δ (positive, default 1), used when ``loss`` is ``"huber"``; kept otherwise.
    batch_size : int or None
        Mini-batch size for dataset fits (``None``: full batch); ignored for functions.
    seed : int
        Seed of the mini-batch order.
    maximize : bool or None
        Ascend instead of descend; ``None`` takes the objective's own direction.
    extra : dict
        The fields of kinds registered later than the built-ins (field -> value; a field
        not set takes its kind's default): :meth:`get` and :meth:`with_fields` read and
        set every field alike.
    """

    kind: str = "function"
    function: str = "rosenbrock"
    dataset: str = "fence"
    x_column: str | int | None = None
    y_column: str | int | None = None
    model: str = "linear"
    loss: str = "mse"
    huber_delta: float = HUBER_DELTA
    batch_size: int | None = None
    seed: int = 0
    maximize: bool | None = None

    extra: dict = field(default_factory=dict)

    def __hash__(self) -> int:
        # hashable as before ``extra`` came (its items hashed in key order)
        own = tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra")
        return hash((own, tuple(sorted(self.extra.items()))))

    @property
    def kind_entry(self) -> ProblemKind:
        """The kind's registry entry (:data:`gd_explorer.core.problems.kinds.KINDS`).

        Raises
        ------
        ValueError
            For an unknown kind.
        """
        return get_kind(self.kind)

    @property
    def views(self) -> frozenset[str]:
        """The view keys that apply to this kind of problem (``"fit"``, ``"surface"``...)."""
        return self.kind_entry.views

    def get(self, name: str) -> Any:
        """The value of field ``name``: an attribute, or a later kind's field in ``extra``
        (its default when not set)."""
        if name in _SPEC_FIELDS:
            return getattr(self, name)
        if name in self.extra:
            return self.extra[name]
        for kind in KINDS.values():
            if name in kind.fields:
                return kind.defaults[name]
        raise KeyError(name)

    def with_fields(self, **values: Any) -> ProblemSpec:
        """A copy with fields changed (attributes or later kinds' fields in ``extra``)."""
        own = {k: v for k, v in values.items() if k in _SPEC_FIELDS}
        extra = {k: v for k, v in values.items() if k not in _SPEC_FIELDS}
        if extra:
            own["extra"] = {**self.extra, **extra}
        return replace(self, **own)

    def build(self) -> Objective:
        """Build the objective (the kind's builder).

        Raises
        ------
        ValueError
            ``ExpressionError`` for a formula that is refused, ``DataError`` for an
            unusable CSV file, ``ValueError`` for an unknown name; the message says why.
        """
        return self.kind_entry.build(self)

    def param_names(self) -> tuple[str, ...]:
        """The parameter names (``("x", "y")``, ``("w", "b")`` ...) without building.

        Cheap: no CSV file is read and nothing is compiled.

        Raises
        ------
        ValueError
            As :meth:`build`, for an unknown name or a refused formula.
        """
        return self.kind_entry.param_names(self)

    def maximize_for(self, objective: Objective) -> bool:
        """The direction used: ``maximize``, or the objective's own when it is None."""
        return bool(objective.maximize) if self.maximize is None else bool(self.maximize)


#: the ProblemSpec attributes (fields of later kinds live in ProblemSpec.extra)
_SPEC_FIELDS = frozenset(f.name for f in dataclasses.fields(ProblemSpec)) - {"extra"}


@dataclass(frozen=True)
class GhostSpec:
    """A frozen copy of a run's path, drawn dimmed to compare before and after a change.

    Attributes
    ----------
    label : str
        What the views write next to it, e.g. ``"ghost: Adam lr=0.05 (before)"``.
    color : str
        ``"#rrggbb"`` (its run's colour).
    steps : tuple of int
        The step of each kept row, strictly increasing (rows are thinned to at most
        :data:`MAX_GHOST_ROWS`).
    params : tuple of tuple of float
        The parameters at each kept row (one tuple of ``dim`` values per row).
    loss : tuple of float
        The loss at each kept row.
    """

    label: str
    color: str
    steps: tuple[int, ...]
    params: tuple[tuple[float, ...], ...]
    loss: tuple[float, ...]

    @property
    def dim(self) -> int:
        """Number of parameters of each row."""
        return len(self.params[0]) if self.params else 0

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps, params, loss)`` as float64 arrays of shapes ``(n,)``, ``(n, dim)``,
        ``(n,)``."""
        n = len(self.steps)
        return (np.asarray(self.steps, dtype=np.float64),
                np.asarray(self.params, dtype=np.float64).reshape(n, self.dim),
                np.asarray(self.loss, dtype=np.float64))


def ghost_rows(n: int, dim: int) -> np.ndarray:
    """The rows of an ``n``-row path of ``dim`` parameters a ghost keeps: all of them, or
    evenly spaced ones (the first and the last included) within :data:`MAX_GHOST_ROWS` and
    :data:`MAX_GHOST_VALUES`."""
    keep = max(2, min(MAX_GHOST_ROWS, MAX_GHOST_VALUES // (dim + 1)))
    if n <= keep:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, keep)).astype(np.int64))


def freeze_ghost(label: str, color: str, params, loss) -> GhostSpec:
    """A :class:`GhostSpec` of a recorded path (``params`` of shape ``(n, d)``, ``loss``
    of shape ``(n,)``): its rows up to the first non-finite one, thinned with
    :func:`ghost_rows`.

    Raises
    ------
    ValueError
        When the path has no finite row (nothing to keep).
    """
    p = np.asarray(params, dtype=np.float64)
    f = np.asarray(loss, dtype=np.float64).reshape(-1)
    if p.ndim != 2 or p.shape[0] != f.size:
        raise ValueError("a ghost needs one row of parameters per loss value")
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(f) & np.all(np.isfinite(p), axis=1) & \
            np.all(np.abs(p) < DIVERGENCE_LIMIT, axis=1) & (np.abs(f) < DIVERGENCE_LIMIT)
    bad = np.flatnonzero(~ok)
    n = int(bad[0]) if bad.size else f.size
    if n == 0:
        raise ValueError("the run has no finite step to keep as a ghost")
    rows = ghost_rows(n, p.shape[1])
    return GhostSpec(label=label[:MAX_TEXT_LENGTH], color=color,
                     steps=tuple(int(i) for i in rows),
                     params=tuple(tuple(float(v) for v in p[i]) for i in rows),
                     loss=tuple(float(f[i]) for i in rows))


def _default_runs() -> tuple[RunSpec, ...]:
    return (RunSpec(),)


@dataclass(frozen=True)
class Session:
    """The whole configuration: problem, runs, start, stopping rules and display.

    Attributes
    ----------
    problem : ProblemSpec
        What is descended.
    runs : tuple of RunSpec
        At most :data:`MAX_RUNS` runs, all from the same start.
    start : tuple of float or None
        The start point; ``None`` takes the objective's default.
    max_steps : int
        Updates per run (0 to :data:`MAX_STEPS`).
    tol, loss_tol : float
        Stop when the gradient norm is <= ``tol`` or the loss changes by <= ``loss_tol``
        in one update; 0 disables a rule.
    surface_axes : (int, int)
        The two parameters the surface shows (for 3-parameter models); ignored for
        1-parameter problems.
    title, description : str
        Shown by the app (presets fill them).
    lab : dict
        The curvature lab's settings by feature (:data:`LAB_SECTIONS`, file key ``"lab"``,
        optional), e.g. ``{"basins": BasinSettings(grid=300), "sweep": SweepSettings(...)}``;
        features not in it use their defaults.
    ghosts : tuple of GhostSpec
        Frozen paths kept for comparison (file key ``"ghosts"``, optional), at most
        :data:`MAX_GHOSTS`, each with one value per parameter of the problem.
    """

    problem: ProblemSpec = ProblemSpec()
    runs: tuple[RunSpec, ...] = field(default_factory=_default_runs)
    start: tuple[float, ...] | None = None
    max_steps: int = 1000
    tol: float = 1e-8
    loss_tol: float = 0.0
    surface_axes: tuple[int, int] = (0, 1)
    title: str = ""
    description: str = ""
    lab: dict = field(default_factory=dict, hash=False)
    ghosts: tuple[GhostSpec, ...] = field(default=(), hash=False)

    def start_for(self, objective: Objective) -> np.ndarray:
        """The start point for ``objective`` as a float64 array of shape ``(d,)``.

        Raises
        ------
        ValueError
            When ``start`` has the wrong number of coordinates or is not finite, or the
            objective's loss or gradient is not finite there (a descent could not begin:
            :func:`~gd_explorer.core.engine.descent.check_start` says why in one line).
        """
        return check_start(objective, objective.start if self.start is None else self.start)

    def descent(self, index: int, objective: Objective | None = None) -> Descent:
        """A ready :class:`~gd_explorer.core.engine.descent.Descent` for run ``index``.

        Parameters
        ----------
        index : int
            Which run.
        objective : Objective, optional
            The built problem, to share one build between runs (default: build it).

        Raises
        ------
        ValueError
            When the problem or the run cannot be built.
        """
        obj = self.problem.build() if objective is None else objective
        return make_descent(obj, self.problem, self.runs[index], self.start_for(obj),
                            max_steps=self.max_steps, tol=self.tol, loss_tol=self.loss_tol)


def make_descent(objective: Objective, problem: ProblemSpec, run: RunSpec, start, *,
                 max_steps: int, tol: float, loss_tol: float) -> Descent:
    """The :class:`Descent` of one run on a built problem (shared by sessions and the app).

    Raises
    ------
    ValueError
        When the run's hyperparameters or the start are not acceptable.
    """
    optimizer, schedule = run.build(problem.maximize_for(objective))
    batch = problem.kind_entry.batch_size(problem)
    return Descent(objective, optimizer, start, schedule=schedule, max_steps=max_steps,
                   grad_tol=tol, loss_tol=loss_tol, batch_size=batch, seed=problem.seed)


# ============================================================================ to dict
def _hyper_value(v: Any) -> Any:
    if isinstance(v, (tuple, list, np.ndarray)):
        return [plain_float(c) for c in v]
    return plain_float(v)


def _hyper_json(optimizer: str, key: str, v: Any) -> Any:
    cls = OPTIMIZERS.get(optimizer)
    kinds = {p.name: p.kind for p in cls.params} if cls is not None else {}
    if kinds.get(key) == "int" and isinstance(v, (int, float, np.integer, np.floating)):
        return int(v)  # max_iter: 20, not 20.0
    return _hyper_value(v)


def _schedule_value(v: Any) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, (tuple, list)):
        return [int(c) for c in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    return plain_float(v)


def _problem_to_dict(p: ProblemSpec) -> dict:
    out: dict[str, Any] = {"kind": p.kind}
    for kind in KINDS.values():
        # a later kind's fields are written once they are set (older files stay as they were)
        if kind.name == p.kind or not set(kind.fields) - _SPEC_FIELDS \
                or any(f in p.extra for f in kind.fields):
            out.update(kind.write_fields(p))
    out["maximize"] = None if p.maximize is None else plain_int(p.maximize)
    return out


def session_to_dict(s: Session) -> dict:
    """The JSON-ready dictionary of a session (lists, not tuples; plain floats).

    Floats are Python floats, so ``json.dumps`` writes them with ``repr`` and they read
    back exactly.  The result is not validated here; :func:`save_session` validates.
    """
    p = s.problem
    return {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "title": s.title,
        "description": s.description,
        "problem": _problem_to_dict(p),
        "runs": [
            {
                "optimizer": r.optimizer,
                "lr": plain_float(r.lr),
                "hyper": {k: _hyper_json(r.optimizer, k, v) for k, v in r.hyper.items()},
                "schedule": r.schedule,
                "schedule_params": {k: _schedule_value(v) for k, v in r.schedule_params.items()},
                **({"warmup": plain_int(r.warmup)} if r.warmup else {}),
                "label": r.label,
                "color": r.color,
                "visible": plain_int(r.visible),
            }
            for r in s.runs
        ],
        "start": None if s.start is None else [plain_float(v) for v in s.start],
        "max_steps": plain_int(s.max_steps),
        "tol": plain_float(s.tol),
        "loss_tol": plain_float(s.loss_tol),
        "surface_axes": [plain_int(a) for a in s.surface_axes],
        **({"lab": {k: v.to_dict() for k, v in s.lab.items()}} if s.lab else {}),
        **({"ghosts": [_ghost_to_dict(g) for g in s.ghosts]} if s.ghosts else {}),
    }


def _ghost_to_dict(g: GhostSpec) -> dict:
    return {"label": g.label, "color": g.color, "steps": [plain_int(i) for i in g.steps],
            "params": [[plain_float(v) for v in row] for row in g.params],
            "loss": [plain_float(v) for v in g.loss]}


# ============================================================================ validation
_TOP_KEYS = ("format", "version", "title", "description", "problem", "runs", "start",
             "max_steps", "tol", "loss_tol", "surface_axes", "lab", "ghosts")
#: keys a session may lack (they came later within version 1), with what such a file meant
_TOP_OPTIONAL = {"lab": {}, "ghosts": []}
_GHOST_KEYS = ("label", "color", "steps", "params", "loss")
#: the lab's features: sub-key of "lab" -> reader ``(key path, value) -> settings`` (the
#: settings have ``to_dict()``)
LAB_SECTIONS = {"sweep": SweepSettings.from_dict, "basins": BasinSettings.from_dict}


def _lab_from(path: str, value: Any) -> dict:
    d = _object(path, value, tuple(LAB_SECTIONS), dict.fromkeys(LAB_SECTIONS))
    return {k: LAB_SECTIONS[k](_join(path, k), v) for k, v in d.items() if v is not None}


def _list(path: str, value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise _fail(path, f"must be a list of {what} [...], got {_describe(value)}")
    return value


def _ghost_from(path: str, value: Any, dim: int, names: tuple[str, ...]) -> GhostSpec:
    d = _object(path, value, _GHOST_KEYS)
    label = _text(_join(path, "label"), d["label"])
    color = _text(_join(path, "color"), d["color"])
    if not _COLOR.fullmatch(color):
        raise _fail(_join(path, "color"), f"must be \"#rrggbb\" (six hex digits), "
                                          f"got {_describe(color)}")
    steps_v = _list(_join(path, "steps"), d["steps"], "step numbers")
    n = len(steps_v)
    if not 1 <= n <= MAX_GHOST_ROWS:
        raise _fail(_join(path, "steps"), f"must hold 1 to {MAX_GHOST_ROWS:,} rows, got {n:,}")
    if n * (dim + 1) > MAX_GHOST_VALUES:
        raise _fail(path, f"at most {MAX_GHOST_VALUES:,} numbers (rows × (parameters + 1)), "
                          f"got {n:,} rows of {dim} parameters")
    for key in ("params", "loss"):
        got = len(_list(_join(path, key), d[key], "rows" if key == "params" else "numbers"))
        if got != n:
            raise _fail(_join(path, key), f"needs one entry per step ({n:,}), got {got:,}")
    steps = []
    for i, v in enumerate(steps_v):
        step = _whole(f"{path}.steps[{i}]", v, 0, MAX_STEPS)
        if steps and step <= steps[-1]:
            raise _fail(f"{path}.steps[{i}]", f"steps must increase, got {step:,} after "
                                              f"{steps[-1]:,}")
        steps.append(step)

    def number(p: str, v: Any) -> float:
        x = _real(p, v)
        if abs(x) >= DIVERGENCE_LIMIT:
            raise _fail(p, f"must be between -1e100 and 1e100, got {x!r}")
        return x

    params = []
    for i, row in enumerate(d["params"]):
        p = f"{path}.params[{i}]"
        _list(p, row, "numbers")
        if len(row) != dim:
            raise _fail(p, f"needs {dim} value{'s' if dim != 1 else ''} "
                           f"({', '.join(names)}), got {len(row):,}")
        params.append(tuple(number(f"{p}[{j}]", v) for j, v in enumerate(row)))
    loss = tuple(number(f"{path}.loss[{i}]", v) for i, v in enumerate(d["loss"]))
    return GhostSpec(label=label, color=color, steps=tuple(steps), params=tuple(params),
                     loss=loss)


def _ghosts_from(path: str, value: Any, dim: int, names: tuple[str, ...]) -> tuple:
    _list(path, value, "ghosts")
    if len(value) > MAX_GHOSTS:  # checked before looking at any ghost
        raise _fail(path, f"at most {MAX_GHOSTS} ghosts, got {len(value):,}")
    return tuple(_ghost_from(f"{path}[{i}]", g, dim, names) for i, g in enumerate(value))


def _problem_keys() -> tuple[str, ...]:
    """kind, every kind's fields (registry order), maximize."""
    return ("kind", *(f for kind in KINDS.values() for f in kind.fields), "maximize")


def _problem_optional() -> dict[str, Any]:
    """Keys a version-1 file may lack, with the value such a file meant (huber_delta came
    later within version 1; a later kind's fields)."""
    return {k: v for kind in KINDS.values() for k, v in kind.defaults.items()}


_RUN_KEYS = ("optimizer", "lr", "hyper", "schedule", "schedule_params", "warmup", "label",
             "color", "visible")
#: keys a run may lack (they came later within version 1), with what such a file meant
_RUN_OPTIONAL = {"warmup": 0}


def _problem_from(path: str, value: Any) -> tuple[ProblemSpec, tuple[str, ...]]:
    d = _object(path, value, _problem_keys(), _problem_optional())
    kind = _text(_join(path, "kind"), d["kind"])
    if kind not in KINDS:
        raise _fail(_join(path, "kind"), f"must be {kind_choices()}, got {_describe(kind)}")
    values: dict[str, Any] = {}
    for entry in KINDS.values():  # every kind's fields are kept, so every kind checks its own
        values.update(entry.read_fields(path, d, entry.name == kind))
    own = KINDS[kind].fields
    # a later kind's fields missing from the file stay unset: the file saves back as it was
    values = {k: v for k, v in values.items() if k in _SPEC_FIELDS or k in value or k in own}
    maximize = d["maximize"]
    maximize = None if maximize is None else _flag(_join(path, "maximize"), maximize)
    spec = ProblemSpec(kind=kind, maximize=maximize).with_fields(**values)
    try:
        names = spec.param_names()
    except (ValueError, RecursionError) as exc:  # read_fields checked what it can
        raise _fail(path, str(exc)) from None
    return spec, names


def _blame(path: str, message: str, values: dict) -> str:
    """The key path of the value an optimizer's or schedule's message is about.

    Their messages start with the hyperparameter's name ("momentum must be ...",
    "betas[0] must be ...", "nesterov momentum requires ..."), so the longest key the
    message starts with is the one to name; otherwise the whole mapping is.
    """
    for key in sorted(values, key=len, reverse=True):
        if message.startswith((key + " ", key + "[")):
            return _join(path, key)
    return path


def _hyper_json_value(path: str, param, v: Any) -> Any:
    """A JSON value in the form ``param`` checks (a pair as a tuple); JSON type errors are
    named here, with JSON's spelling (``true``, ``null``)."""
    if v is None and (param.none_ok or param.kind == "choice"):
        return None
    if param.kind == "bool":
        return _flag(path, v)
    if param.kind == "choice":
        if not isinstance(v, str):
            raise _fail(path, f"must be {param.range_text()}, got {_describe(v)}")
        return v
    if param.kind == "pair":
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise _fail(path, f"must be a pair of numbers [a, b], got {_describe(v)}")
        return tuple(None if x is None and param.none_ok else _real(f"{path}[{i}]", x)
                     for i, x in enumerate(v))
    if param.kind == "int":
        return _whole(path, v, -MAX_COUNT, MAX_COUNT)
    return _real(path, v)


def _hyper_from(path: str, value: Any, optimizer: str, lr: float) -> dict:
    """A run's ``hyper`` mapping, checked by the optimizer's own declarations."""
    if not isinstance(value, dict):
        raise _fail(path, f"must be an object {{...}}, got {_describe(value)}")
    cls = OPTIMIZERS[optimizer]
    params = {p.name: p for p in cls.params}
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key in ("lr", "maximize"):
            where = "lr of the run" if key == "lr" else "problem.maximize"
            raise _fail(path, f"{key!r} does not belong here; it is set by {where}")
        if not isinstance(key, str) or key not in params:
            raise _fail(path, f"{optimizer} has no hyperparameter {_key_text(key)}; "
                              f"it takes: {', '.join(params)}")
        kpath = _join(path, key)
        try:
            out[key] = params[key].check(_hyper_json_value(kpath, params[key], v))
        except SessionError:
            raise
        except ValueError as exc:  # out of the declared range
            raise _fail(kpath, str(exc)) from None
    try:  # all together: some rules combine keys (nesterov needs momentum)
        make_optimizer(optimizer, lr=lr, **out)
    except (ValueError, TypeError) as exc:
        raise _fail(_blame(path, str(exc), out), str(exc)) from None
    return out


def _declared_value(path: str, p, v: Any) -> Any:
    """A JSON value of the type a hyperparameter declaration asks for, checked by it."""
    if p.kind == "int":
        v = _whole(path, v, -(2**62), 2**62)
    elif p.kind == "ints":
        if not isinstance(v, list):
            raise _fail(path, f"must be a list of whole numbers [a, b, ...], got {_describe(v)}")
        v = tuple(_whole(f"{path}[{i}]", c, -(2**62), 2**62) for i, c in enumerate(v))
    elif p.kind == "bool":
        v = _flag(path, v)
    elif p.kind == "choice":
        v = _text(path, v)
    elif p.kind == "pair":
        if not isinstance(v, list) or len(v) != 2:
            raise _fail(path, f"must be a pair of numbers [a, b], got {_describe(v)}")
        v = (_real(f"{path}[0]", v[0]), _real(f"{path}[1]", v[1]))
    else:
        v = _real(path, v)
    try:
        return p.check(v, p.name)
    except ValueError as exc:
        raise _fail(path, str(exc)) from None


def _schedule_params_from(path: str, value: Any, schedule: str, lr: float,
                          warmup: int = 0) -> dict:
    if not isinstance(value, dict):
        raise _fail(path, f"must be an object {{...}}, got {_describe(value)}")
    params = {p.name: p for p in SCHEDULES[schedule].params}
    out: dict[str, Any] = {}
    for key, v in value.items():
        if not isinstance(key, str) or key not in params:
            takes = ", ".join(params) or "nothing"
            raise _fail(path, f"schedule {schedule!r} has no parameter {_key_text(key)}; "
                              f"it takes: {takes}")
        out[key] = _declared_value(_join(path, key), params[key], v)
    try:
        make_schedule(schedule, lr, warmup=warmup, **out)
    except (ValueError, TypeError) as exc:
        raise _fail(_blame(path, str(exc), out), str(exc)) from None
    return out


def _run_from(path: str, value: Any) -> RunSpec:
    d = _object(path, value, _RUN_KEYS, _RUN_OPTIONAL)
    optimizer = _choice(_join(path, "optimizer"), d["optimizer"], OPTIMIZERS, "optimizer")
    lr = _real(_join(path, "lr"), d["lr"])
    if lr <= 0:
        raise _fail(_join(path, "lr"), f"learning rate must be positive, got {lr!r}")
    hyper = _hyper_from(_join(path, "hyper"), d["hyper"], optimizer, lr)
    schedule = _choice(_join(path, "schedule"), d["schedule"], SCHEDULES, "schedule")
    warmup = _whole(_join(path, "warmup"), d["warmup"], 0, MAX_COUNT)
    if warmup and not SCHEDULES[schedule].allows_warmup:
        raise _fail(_join(path, "warmup"), f"schedule {schedule!r} cannot follow a warm-up "
                                           "(it sets the rate itself); use 0")
    sparams = _schedule_params_from(_join(path, "schedule_params"), d["schedule_params"],
                                    schedule, lr, warmup)
    label = _text(_join(path, "label"), d["label"])
    color = _text(_join(path, "color"), d["color"])
    if color and not _COLOR.fullmatch(color):
        raise _fail(_join(path, "color"),
                    f"must be \"#rrggbb\" (six hex digits) or \"\", got {_describe(color)}")
    visible = _flag(_join(path, "visible"), d["visible"])
    spec = RunSpec(optimizer=optimizer, lr=lr, hyper=hyper, schedule=schedule,
                   schedule_params=sparams, warmup=warmup, label=label, color=color,
                   visible=visible)
    try:  # the pair (a schedule that cycles momentum needs an optimizer that has it)
        spec.build(False)
    except ValueError as exc:
        raise _fail(_join(path, "schedule_params"), str(exc)) from None
    return spec


def _check_header(d: dict) -> None:
    if "format" not in d:
        raise SessionError("not a gd-explorer session (no \"format\" key)")
    if d["format"] != SESSION_FORMAT:
        raise SessionError(f"not a gd-explorer session (format is {_describe(d['format'])}, "
                           f"expected {SESSION_FORMAT!r})")
    if "version" not in d:
        raise SessionError("version: missing key 'version'")
    version = d["version"]
    if isinstance(version, (bool, np.bool_)) or not isinstance(version, (int, np.integer)):
        raise SessionError(f"version: must be a whole number, got {_describe(version)}")
    if version > SESSION_VERSION:
        raise SessionError(
            f"this session was made by a newer gd-explorer (version {_describe(version)}); "
            f"this one reads version {SESSION_VERSION}: please update gd-explorer"
        )
    if version < 1:
        raise SessionError(f"version: unknown session version {_describe(version)}")


def session_from_dict(d: object) -> Session:
    """Validate a decoded session and build it.

    Parameters
    ----------
    d : object
        What ``json.load`` returned (or :func:`session_to_dict` made).

    Returns
    -------
    Session
        With tuples for sequences and floats for real numbers.

    Raises
    ------
    SessionError
        For anything but a valid session: unknown or missing keys, wrong types (``true``
        where a number belongs and ``1`` where ``true`` does), NaN or infinity, values out
        of range, unknown optimizer, hyperparameter, schedule, model or loss names,
        refused formulas, a wrong ``format`` or a newer ``version``.  The message starts
        with the key path, e.g. ``runs[1].hyper.betas[0]: ...``.
    """
    if not isinstance(d, dict):
        raise SessionError(f"a session must be a JSON object {{...}}, got {_describe(d)}")
    _check_header(d)
    d = _object("", d, _TOP_KEYS, _TOP_OPTIONAL)
    title = _text("title", d["title"])
    description = _text("description", d["description"])
    problem, names = _problem_from("problem", d["problem"])
    dim = len(names)

    runs_value = d["runs"]
    if not isinstance(runs_value, list):
        raise _fail("runs", f"must be a list [...], got {_describe(runs_value)}")
    if len(runs_value) > MAX_RUNS:  # checked before looking at any run
        raise _fail("runs", f"at most {MAX_RUNS} runs, got {len(runs_value):,}")
    runs = tuple(_run_from(f"runs[{i}]", r) for i, r in enumerate(runs_value))

    start_value = d["start"]
    start = None
    if start_value is not None:
        if not isinstance(start_value, list):
            raise _fail("start", f"must be a list of numbers or null, got {_describe(start_value)}")
        if len(start_value) != dim:
            raise _fail("start", f"needs {dim} value{'s' if dim != 1 else ''} "
                                 f"({', '.join(names)}), got {len(start_value):,}")
        start = tuple(_real(f"start[{i}]", v) for i, v in enumerate(start_value))
        for i, v in enumerate(start):
            if abs(v) >= DIVERGENCE_LIMIT:
                limit = f"{DIVERGENCE_LIMIT:.0e}".replace("e+", "e")  # "1e100"
                raise _fail(f"start[{i}]", f"must be between -{limit} and {limit}, got {v!r}")

    max_steps = _whole("max_steps", d["max_steps"], 0, MAX_STEPS)
    tol = _non_negative("tol", d["tol"])
    loss_tol = _non_negative("loss_tol", d["loss_tol"])

    axes_value = d["surface_axes"]
    if not isinstance(axes_value, list) or len(axes_value) != 2:
        raise _fail("surface_axes", f"must be a pair of parameter indices [i, j], "
                                    f"got {_describe(axes_value)}")
    axes = tuple(_whole(f"surface_axes[{i}]", a, 0, MAX_DIM - 1) for i, a in enumerate(axes_value))
    if axes[0] == axes[1]:
        raise _fail("surface_axes", f"must name two different parameters, got {list(axes)}")
    if dim >= 2 and max(axes) >= dim:
        raise _fail("surface_axes", f"this problem has {dim} parameters ({', '.join(names)}): "
                                    f"indices must be 0 to {dim - 1}, got {list(axes)}")
    lab = _lab_from("lab", d["lab"])
    ghosts = _ghosts_from("ghosts", d["ghosts"], dim, names)
    return Session(problem=problem, runs=runs, start=start, max_steps=max_steps, tol=tol,
                   loss_tol=loss_tol, surface_axes=axes, title=title, description=description,
                   lab=lab, ghosts=ghosts)


# ============================================================================ files
def session_json(s: Session) -> str:
    """The file text of a session (validated; JSON, indent 2, newline at the end).

    Raises
    ------
    SessionError
        When the session would not load back.
    """
    d = session_to_dict(s)
    session_from_dict(d)  # never write what load_session would refuse
    return json.dumps(d, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"


def save_session(path: str | os.PathLike, s: Session) -> None:
    """Write a session file atomically (an older file survives any failure).

    Raises
    ------
    SessionError
        When the session is invalid (nothing is written).
    gd_explorer.core.io.export.ExportError
        When the file cannot be written (an ``OSError``; the message names the file).
    """
    atomic_write_text(path, session_json(s))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    d: dict[str, Any] = {}
    for key, value in pairs:
        if key in d:
            raise SessionError(f"duplicate key {_describe(key)} in one object")
        d[key] = value
    return d


def load_session(path: str | os.PathLike) -> Session:
    """Read, parse and validate a session file.

    Raises
    ------
    SessionError
        The only exception: for a missing or unreadable file, a directory, a file over
        :data:`MAX_SESSION_BYTES`, text that is not UTF-8, JSON syntax errors (with line
        and column), JSON nested too deeply, duplicate keys, and anything
        :func:`session_from_dict` refuses.  The message starts with the path.
    """
    try:
        name = os.fsdecode(os.fspath(path))
    except TypeError:
        raise SessionError(f"not a file path: {_describe(path)}") from None

    def fail(message: str) -> SessionError:
        return SessionError(f"{name}: {message}")

    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise fail("no such file") from None
    except PermissionError:
        raise fail("permission denied") from None
    except (OSError, ValueError) as exc:  # ValueError: NUL in the path
        raise fail(f"cannot access the file ({exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail("is a directory, not a session file")
    if not stat.S_ISREG(info.st_mode):
        raise fail("is not a regular file")
    limit = MAX_SESSION_BYTES
    if info.st_size > limit:
        raise fail(f"file is {info.st_size / 1024:,.0f} KiB; a session file is at most "
                   f"{limit // 1024:,} KiB")
    try:
        with open(name, "rb") as fh:
            raw = fh.read(limit + 1)  # one byte more: the file may have grown since stat()
    except PermissionError:
        raise fail("permission denied") from None
    except OSError as exc:
        raise fail(f"cannot read the file ({exc.strerror or exc})") from None
    if len(raw) > limit:
        raise fail(f"file is larger than {limit // 1024:,} KiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise fail(f"not UTF-8 text (invalid byte at offset {exc.start}, line {line})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise fail(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise fail("JSON nested too deeply to be a session") from None
    except SessionError as exc:
        raise fail(str(exc)) from None
    except ValueError as exc:  # e.g. an integer with more than 4300 digits
        raise fail(f"not valid JSON: {exc}") from None
    try:
        return session_from_dict(data)
    except SessionError as exc:
        raise fail(str(exc)) from None
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        # defence in depth: a validator deeper down raised something unexpected
        raise fail(f"invalid session ({type(exc).__name__}: {exc})") from None


# ============================================================================ helpers
def _fmt_number(v: Any) -> str:
    try:
        return f"{float(v):g}"
    except (TypeError, ValueError, OverflowError):
        return str(v)


def _fmt_value(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_fmt_number(c) for c in v) + ")"
    return _fmt_number(v)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return isinstance(a, (bool, np.bool_)) and isinstance(b, (bool, np.bool_)) and a == b
    try:
        return float(a) == float(b)
    except (TypeError, ValueError, OverflowError):
        return False
