"""Problem kinds: one registry entry per kind of problem ("function", "dataset", ...).

A :class:`~gd_explorer.core.session.specs.ProblemSpec` names its kind; everything that
depends on the kind asks the kind's entry here instead of testing ``kind == ...``:

* which spec fields the kind owns (saved in the session file in this order),
* how those fields are read and checked from a session file (messages name the key
  path, e.g. ``problem.model: unknown model 'cubic'; ...``),
* its builder (spec -> objective) and its parameter names (without building),
* its command-line flags (``gd-explorer run --function ...``),
* which views apply (view keys: ``"surface"``, ``"curve"``, ``"surface3d"``, ``"fit"``,
  ``"steplog"``, ``"slice"``, ``"loss"``, ``"lr"``, ``"sweep"``; a network's ``"decision"``,
  ``"landscape"``, ``"metrics"``),
* whether its runs take mini-batches (the spec's batch size).

What the built objective can do (its number of samples, a fast surface, a fitted
curve, its evaluation cost, equal aspect) is asked of the objective itself: see
:class:`~gd_explorer.core.problems.objectives.Objective`.  The UI maps a kind's name to
its panel page in one dict (``gd_explorer.ui.panels.PROBLEM_PAGES``).

Adding a kind is one :class:`ProblemKind` subclass and one :func:`register_kind` call
(the test ``tests/core/test_kinds.py`` registers a third kind that way).  The fields
of a kind added later than version 1 of the session file live in
``ProblemSpec.extra`` and must have defaults, so that older files read unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from gd_explorer.core.io import fields as F
from gd_explorer.core.limits import MAX_COUNT
from gd_explorer.core.problems.datasets import (
    DATASETS,
    HUBER_DELTA,
    LOSSES,
    MODELS,
    check_huber_delta,
    dataset_objective,
)
from gd_explorer.core.problems.functions import FUNCTIONS, get_function
from gd_explorer.core.problems.objectives import Objective, SymbolicObjective

__all__ = ["ALL_VIEWS", "KINDS", "DatasetKind", "FunctionKind", "ProblemKind", "get_kind",
           "register_kind", "unregister_kind"]

#: every view key a kind may declare
ALL_VIEWS = frozenset({"surface", "curve", "surface3d", "fit", "steplog", "slice", "loss", "lr",
                       "sharpness", "sweep", "decision", "landscape", "metrics"})
#: the views every kind of objective has
COMMON_VIEWS = frozenset({"surface", "curve", "surface3d", "steplog", "slice", "loss", "lr",
                          "sharpness", "sweep"})


class ProblemKind:
    """One kind of problem: its fields, builder, session reader, CLI flags and views.

    Subclasses set the class attributes and implement :meth:`build`,
    :meth:`param_names` and :meth:`read_fields`; the rest has working defaults.

    Attributes
    ----------
    name : str
        The ``kind`` written in session files.
    title, tooltip : str
        What the problem picker shows.
    fields : tuple of str
        The :class:`ProblemSpec` fields the kind owns, in file order.
    defaults : mapping
        Values of fields a session file may lack (what such a file meant).
    views : frozenset of str
        The view keys that apply to its problems (the 2-D/1-D choice is the model's).
    cli_flag : str
        The flag that selects the kind on ``gd-explorer run`` (``"--function"``).
    cli_only : tuple of (flag, dest)
        Flags that apply to this kind only: given with another kind, they are refused.
    """

    name: str = ""
    title: str = ""
    tooltip: str = ""
    fields: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = {}
    views: frozenset[str] = COMMON_VIEWS
    cli_flag: str = ""
    cli_metavar: str = "NAME"
    cli_help: str = ""
    cli_only: tuple[tuple[str, str], ...] = ()

    # ------------------------------------------------------------------ the problem
    def build(self, spec) -> Objective:
        """The objective of ``spec`` (raises ValueError with a readable message)."""
        raise NotImplementedError

    def param_names(self, spec) -> tuple[str, ...]:
        """The parameter names without building (cheap: no file read, nothing compiled)."""
        raise NotImplementedError

    def batch_size(self, spec) -> int | None:
        """The mini-batch size of the runs (None: every update sees the whole objective)."""
        return None

    # ------------------------------------------------------------------ session files
    def read_fields(self, path: str, d: Mapping[str, Any], active: bool) -> dict[str, Any]:
        """Check the kind's fields in the problem object ``d`` and return their values.

        Every registered kind reads its fields, active or not (they are kept, so that
        switching back restores them, and nothing unchecked is kept); ``active`` is True
        when ``d`` is of this kind, for checks that apply only then.

        Raises
        ------
        SessionError
            With the key path, e.g. ``problem.function: must not be empty``.
        """
        raise NotImplementedError

    def write_fields(self, spec) -> dict[str, Any]:
        """The kind's fields of ``spec`` as JSON-ready values (plain floats, lists)."""
        return {name: spec.get(name) for name in self.fields}

    # ------------------------------------------------------------------ command line
    def add_cli_choice(self, group) -> None:
        """Add the flag selecting this kind to the run parser's either-or ``group``."""
        if self.cli_flag:
            group.add_argument(self.cli_flag, metavar=self.cli_metavar, help=self.cli_help)

    def add_cli_flags(self, parser) -> None:
        """Add the kind's own flags (``--model``, ``--loss``, ...) to the run parser."""

    def claims_cli(self, args) -> bool:
        """Whether the parsed run ``args`` describe a problem of this kind (later kinds are
        asked first: they may share an earlier kind's flag, as ``nets`` shares
        ``--dataset``)."""
        return bool(self.cli_flag) and getattr(args, self.cli_dest, None) is not None

    @property
    def cli_scope(self) -> str:
        """What the kind's own flags apply to, for "--x applies to ... only"."""
        return self.cli_flag

    @property
    def cli_dest(self) -> str:
        return self.cli_flag.lstrip("-").replace("-", "_")

    def objective_from_cli(self, args) -> Objective:
        """The objective the parsed ``args`` describe (raises ValueError)."""
        raise NotImplementedError

    def cli_listing(self) -> list[str]:
        """Lines ``gd-explorer list`` prints for this kind (its built-ins); [] for none."""
        return []


#: the registry: kind name -> entry, in picker order
KINDS: dict[str, ProblemKind] = {}
#: the kinds of session version 1, whose fields are ProblemSpec attributes
_BUILT_IN = frozenset({"function", "dataset"})


def register_kind(kind: ProblemKind) -> ProblemKind:
    """Add ``kind`` to :data:`KINDS` (an existing name is refused); returns it."""
    if not kind.name or kind.name in KINDS:
        raise ValueError(f"a problem kind needs a new name, got {kind.name!r}")
    if not kind.views <= ALL_VIEWS:
        raise ValueError(f"unknown views {sorted(kind.views - ALL_VIEWS)}; "
                         f"views are {sorted(ALL_VIEWS)}")
    taken = {"kind", "maximize", "extra"} | {f for k in KINDS.values() for f in k.fields}
    if taken & set(kind.fields):
        raise ValueError(f"fields {sorted(taken & set(kind.fields))} belong to another kind")
    missing = set(kind.fields) - set(kind.defaults)
    if _BUILT_IN <= set(KINDS) and missing:  # a later kind: its fields live in ProblemSpec.extra
        raise ValueError(f"fields {sorted(missing)} need defaults: older session files "
                         "lack them")
    KINDS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    """Remove a kind registered later (tests); the built-in kinds stay."""
    if name in _BUILT_IN:
        raise ValueError(f"{name!r} is a built-in kind")
    KINDS.pop(name, None)


def get_kind(name: str) -> ProblemKind:
    """The entry of kind ``name`` (ValueError naming the kinds otherwise)."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"problem kind must be one of {tuple(KINDS)}, got {name!r}") from None


def kind_choices() -> str:
    """``'function' or 'dataset'`` (for messages)."""
    names = [repr(k) for k in KINDS]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# ============================================================================ function
def _checked_formula(text: str):
    """Parse a typed function; an unknown bare name gets the built-ins listed."""
    from gd_explorer.core.problems.expressions import parse_expression  # sympy: only when needed

    try:
        return parse_expression(text)
    except ValueError:
        if re.fullmatch(r"[A-Za-z_][\w-]*", text.strip()):
            raise ValueError(f"unknown function {text.strip()!r}; built-ins are: "
                             f"{', '.join(FUNCTIONS)} (or type a formula in x and y)") from None
        raise


def _function_names(function: str) -> tuple[str, ...]:
    name = function.strip()
    if name in FUNCTIONS:  # a built-in's names are known: no need to import sympy
        return FUNCTIONS[name].names
    return _checked_formula(name).variables


class FunctionKind(ProblemKind):
    """A built-in function or a formula typed in ``x`` and ``y``."""

    name = "function"
    title = "Function"
    tooltip = "Descend a function of x (and y)"
    fields = ("function",)
    cli_flag = "--function"
    cli_metavar = "NAME|FORMULA"
    cli_help = "a built-in function (see 'list') or a formula in x and y"

    def build(self, spec) -> Objective:
        name = spec.function.strip()
        if name in FUNCTIONS:
            return get_function(name)
        return SymbolicObjective(_checked_formula(name))

    def param_names(self, spec) -> tuple[str, ...]:
        return _function_names(spec.function)

    def read_fields(self, path, d, active):
        function = F.text(F.join(path, "function"), d["function"], empty=False)
        # Formulas are always checked, even for a dataset session: nothing hostile is kept.
        try:
            _function_names(function)
        except (ValueError, RecursionError) as exc:
            raise F.fail(F.join(path, "function"), str(exc)) from None
        return {"function": function}

    def cli_listing(self) -> list[str]:
        lines = ["Functions (--function NAME, or type a formula in x and y):"]
        for s in FUNCTIONS.values():
            direction = "maximize" if s.maximize else "minimize"
            lines.append(f"  {s.name:<16} {s.dim}-D  {direction}  {s.formula}")
        return lines

    def objective_from_cli(self, args) -> Objective:
        from gd_explorer.core.problems.objectives import expression_objective

        name = args.function.strip()
        return get_function(name) if name in FUNCTIONS else expression_objective(name)


# ============================================================================ dataset
class DatasetKind(ProblemKind):
    """A model fitted to a dataset (built-in or CSV) under a loss, maybe in mini-batches."""

    name = "dataset"
    title = "Dataset fit"
    tooltip = "Fit a model to data: descend the loss over the model's parameters"
    fields = ("dataset", "x_column", "y_column", "model", "loss", "huber_delta",
              "batch_size", "seed")
    #: huber_delta came later within version 1: a file without it meant δ = 1
    defaults = {"huber_delta": HUBER_DELTA}
    views = COMMON_VIEWS | {"fit"}
    cli_flag = "--dataset"
    cli_metavar = "NAME|CSV"
    cli_help = "a built-in dataset (see 'list') or a CSV file to fit"
    cli_only = (("--batch-size", "batch_size"), ("--x-column", "x_column"),
                ("--y-column", "y_column"), ("--delta", "delta"))

    def build(self, spec) -> Objective:
        delta = spec.huber_delta if spec.loss == "huber" else None
        return dataset_objective(spec.dataset, spec.model, spec.loss,
                                 spec.x_column, spec.y_column, huber_delta=delta)

    def param_names(self, spec) -> tuple[str, ...]:
        if spec.model not in MODELS:
            raise ValueError(f"unknown model {spec.model!r}; choose one of: "
                             f"{', '.join(MODELS)}")
        return MODELS[spec.model].params

    def batch_size(self, spec) -> int | None:
        return spec.batch_size

    def read_fields(self, path, d, active):
        dataset = F.text(F.join(path, "dataset"), d["dataset"], empty=False)
        columns = []
        for key in ("x_column", "y_column"):
            v = d[key]
            if v is None:
                columns.append(None)
            elif isinstance(v, str):
                columns.append(F.text(F.join(path, key), v, empty=False))
            elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
                columns.append(F.whole(F.join(path, key), v, 0, MAX_COUNT))
            else:
                raise F.fail(F.join(path, key), "must be a column name, a 0-based column "
                                                f"index or null, got {F.describe(v)}")
        if active and dataset in DATASETS:
            for key, column in zip(("x_column", "y_column"), columns):
                if column is not None:
                    raise F.fail(F.join(path, key), f"applies to a CSV file; {dataset!r} is "
                                                    "a built-in dataset (use null)")
        model = F.choice(F.join(path, "model"), d["model"], MODELS, "model")
        loss = F.choice(F.join(path, "loss"), d["loss"], LOSSES, "loss")
        try:
            huber_delta = check_huber_delta(F.real(F.join(path, "huber_delta"),
                                                   d["huber_delta"]))
        except F.SessionError:
            raise
        except ValueError as exc:
            raise F.fail(F.join(path, "huber_delta"), str(exc)) from None
        batch = d["batch_size"]
        batch = None if batch is None else F.whole(F.join(path, "batch_size"), batch, 1,
                                                   MAX_COUNT)
        seed = F.whole(F.join(path, "seed"), d["seed"], 0, 2**63 - 1)
        return {"dataset": dataset, "x_column": columns[0], "y_column": columns[1],
                "model": model, "loss": loss, "huber_delta": huber_delta,
                "batch_size": batch, "seed": seed}

    def write_fields(self, spec):
        return {
            "dataset": spec.dataset,
            "x_column": F.plain_int(spec.x_column),
            "y_column": F.plain_int(spec.y_column),
            "model": spec.model,
            "loss": spec.loss,
            "huber_delta": F.plain_float(spec.huber_delta),
            "batch_size": F.plain_int(spec.batch_size),
            "seed": F.plain_int(spec.seed),
        }

    def add_cli_flags(self, parser) -> None:
        parser.add_argument("--model", help="model for --dataset (default linear)")
        parser.add_argument("--loss", help="loss for --dataset (default mse)")
        parser.add_argument("--delta", type=float, metavar="D",
                            help="Huber's delta for --loss huber (default 1, "
                                 "torch.nn.HuberLoss)")
        parser.add_argument("--x-column", help="CSV column (name or 0-based index) for x")
        parser.add_argument("--y-column", help="CSV column (name or 0-based index) for y")

    def cli_listing(self) -> list[str]:
        lines = ["Datasets (--dataset NAME, or a CSV file):"]
        for name, make in DATASETS.items():
            ds = make()
            lines.append(f"  {name:<16} {ds.x.size:>4} points  {ds.description.split('. ')[0]}")
        lines += ["", "Models (--model):"]
        for m in MODELS.values():
            lines.append(f"  {m.name:<16} {m.formula:<20} parameters {', '.join(m.params)}")
        lines += ["", "Losses (--loss):"]
        for loss in LOSSES.values():
            lines.append(f"  {loss.name:<16} {loss.title}")
        return lines

    def objective_from_cli(self, args) -> Objective:
        if args.dataset in DATASETS:
            for flag, value in (("--x-column", args.x_column), ("--y-column", args.y_column)):
                if value is not None:
                    raise ValueError(f"{flag} applies to a CSV file; {args.dataset!r} is a "
                                     "built-in dataset")
        model, loss = args.model or "linear", args.loss or "mse"
        if args.delta is not None and loss != "huber":
            raise ValueError(f"--delta applies to --loss huber only, not --loss {loss}")
        return dataset_objective(args.dataset, model, loss,
                                 _column(args.x_column), _column(args.y_column),
                                 huber_delta=args.delta)


def _column(value: str | None):
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


register_kind(FunctionKind())
register_kind(DatasetKind())

from gd_explorer.core.problems import nets_kind  # noqa: E402  (registers "nets"; needs the base)

register_kind(nets_kind.NetKind())
