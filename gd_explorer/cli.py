"""Command-line front door.

``gd-explorer`` opens the desktop app; ``gd-explorer run ...`` descends headless and
can write the trajectory CSV; ``gd-explorer list`` shows the built-ins.  Every bad input
exits with status 2 and one line on stderr, before anything runs or is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import numpy as np

from gd_explorer import __version__
from gd_explorer.core.datasets import DATASETS, LOSSES, MODELS, dataset_objective
from gd_explorer.core.engine import Descent
from gd_explorer.core.export import ExportError, write_trajectory_csv
from gd_explorer.core.functions import FUNCTIONS, get_function
from gd_explorer.core.limits import MAX_COUNT, MAX_STEPS
from gd_explorer.core.objectives import expression_objective
from gd_explorer.core.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.schedules import SCHEDULES, make_schedule

EXIT_USAGE = 2

# optimizer flags: torch keyword -> (flag, argparse kwargs)
_OPT_FLAGS = {
    "momentum": dict(type=float, metavar="M", help="momentum factor (sgd, rmsprop)"),
    "dampening": dict(type=float, metavar="D", help="dampening for momentum (sgd)"),
    "nesterov": dict(action="store_true", default=None, help="Nesterov momentum (sgd)"),
    "betas": dict(type=float, nargs=2, metavar=("B1", "B2"), help="moment decays (adam, adamw)"),
    "eps": dict(type=float, metavar="EPS", help="denominator term (adagrad, rmsprop, adam, adamw)"),
    "alpha": dict(type=float, metavar="A", help="squared-gradient smoothing (rmsprop)"),
    "centered": dict(action="store_true", default=None, help="centered RMSprop"),
    "amsgrad": dict(action="store_true", default=None, help="AMSGrad variant (adam, adamw)"),
    "weight_decay": dict(type=float, metavar="WD", help="weight decay (all optimizers)"),
    "lr_decay": dict(type=float, metavar="LD", help="learning-rate decay (adagrad)"),
    "initial_accumulator_value": dict(type=float, metavar="V", help="initial sum (adagrad)"),
}
_SCHEDULE_FLAGS = {
    "step_size": dict(type=int, metavar="N", help="updates between decays (step)"),
    "gamma": dict(type=float, metavar="G", help="decay factor (step, exponential)"),
    "t_max": dict(type=int, metavar="T", help="half period in updates (cosine)"),
    "eta_min": dict(type=float, metavar="LR", help="smallest rate (cosine)"),
}


class UsageError(Exception):
    """A bad command line: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, no usage dump
        raise UsageError(message)


def _kebab(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs and tests)."""
    parser = _Parser(prog="gd-explorer", description="Explore gradient descent.")
    parser.add_argument("--version", action="version", version=f"gd-explorer {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="descend headless and optionally write the trajectory CSV")
    what = run.add_mutually_exclusive_group(required=True)
    what.add_argument("--function", metavar="NAME|FORMULA",
                      help="a built-in function (see 'list') or a formula in x and y")
    what.add_argument("--dataset", metavar="NAME|CSV",
                      help="a built-in dataset (see 'list') or a CSV file to fit")
    run.add_argument("--model", default="linear", help="model for --dataset (default linear)")
    run.add_argument("--loss", default="mse", help="loss for --dataset (default mse)")
    run.add_argument("--delta", type=float, metavar="D",
                     help="Huber's delta for --loss huber (default 1, torch.nn.HuberLoss)")
    run.add_argument("--x-column", help="CSV column (name or 0-based index) for x")
    run.add_argument("--y-column", help="CSV column (name or 0-based index) for y")
    run.add_argument("--optimizer", default="sgd", help="optimizer (default sgd)")
    run.add_argument("--lr", type=float, help="learning rate (default: the objective's)")
    for name, kw in _OPT_FLAGS.items():
        run.add_argument(_kebab(name), dest=name, **kw)
    run.add_argument("--maximize", action=argparse.BooleanOptionalAction, default=None,
                     help="gradient ascent (default: the function's own direction)")
    run.add_argument("--schedule", default="constant",
                     help=f"learning-rate schedule: {', '.join(SCHEDULES)}")
    for name, kw in _SCHEDULE_FLAGS.items():
        run.add_argument(_kebab(name), dest=name, **kw)
    run.add_argument("--steps", type=int, default=1000,
                     help=f"maximum updates (default 1000, at most {MAX_STEPS:,})")
    run.add_argument("--tol", type=float, default=1e-8,
                     help="stop when the gradient norm is <= TOL (default 1e-8; 0: never)")
    run.add_argument("--loss-tol", type=float, default=0.0,
                     help="stop when the loss changes by <= LOSS_TOL (default 0: never)")
    run.add_argument("--batch-size", type=int, help="mini-batch size (default: full batch)")
    run.add_argument("--seed", type=int, default=0, help="mini-batch shuffling seed")
    run.add_argument("--start", metavar="X[,Y]", help="start point, comma-separated")
    run.add_argument("--out", metavar="CSV", help="write the trajectory CSV here")

    sub.add_parser("list", help="show the built-in functions, datasets, models, losses, "
                   "optimizers and schedules")
    return parser


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    # "--start -1.5,2" would read "-1.5,2" as an option; glue such values to their flag
    out: list[str] = []
    it = iter(argv)
    for tok in it:
        if tok in ("--start", "--lr", "--eta-min", "--gamma", "--momentum", "--weight-decay",
                   "--delta"):
            nxt = next(it, None)
            if nxt is None:
                out.append(tok)
            else:
                out.append(f"{tok}={nxt}")
        else:
            out.append(tok)
    return out


def _parse_start(text: str, dim: int) -> np.ndarray:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--start must be numbers separated by commas, got {text!r}") from None
    if len(values) != dim:
        raise UsageError(f"--start needs {dim} value(s), got {len(values)}")
    if not all(np.isfinite(values)):
        raise UsageError(f"--start must be finite, got {text!r}")
    return np.array(values)


def _column(value: str | None):
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def _check_out(path: str) -> None:
    if os.path.isdir(path):
        raise UsageError(f"--out {path}: is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--out {path}: folder {folder} is not writable")


def _build_run(args):
    """Objective, optimizer, schedule and start from parsed arguments (may raise ValueError)."""
    if args.function is not None:
        for flag, value in (("--batch-size", args.batch_size), ("--x-column", args.x_column),
                            ("--y-column", args.y_column), ("--delta", args.delta)):
            if value is not None:
                raise UsageError(f"{flag} applies to --dataset only")
        name = args.function.strip()
        objective = get_function(name) if name in FUNCTIONS else expression_objective(name)
    else:
        if args.dataset in DATASETS:
            for flag, value in (("--x-column", args.x_column), ("--y-column", args.y_column)):
                if value is not None:
                    raise UsageError(f"{flag} applies to a CSV file; {args.dataset!r} is a "
                                     "built-in dataset")
        if args.delta is not None and args.loss != "huber":
            raise UsageError(f"--delta applies to --loss huber only, not --loss {args.loss}")
        objective = dataset_objective(args.dataset, args.model, args.loss,
                                      _column(args.x_column), _column(args.y_column),
                                      huber_delta=args.delta)
    if args.optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {args.optimizer!r}; choose one of: "
                         f"{', '.join(OPTIMIZERS)}")
    maximize = objective.maximize if args.maximize is None else args.maximize
    lr = args.lr if args.lr is not None else objective.default_lr(args.optimizer)
    kwargs = {n: getattr(args, n) for n in _OPT_FLAGS if getattr(args, n) is not None}
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    optimizer = make_optimizer(args.optimizer, lr=lr, maximize=maximize, **kwargs)
    skw = {n: getattr(args, n) for n in _SCHEDULE_FLAGS if getattr(args, n) is not None}
    schedule = make_schedule(args.schedule, base_lr=lr, **skw)
    start = (_parse_start(args.start, objective.dim) if args.start is not None
             else np.array(objective.start, dtype=float))
    return objective, optimizer, schedule, start


def _fmt_point(names, values) -> str:
    return ", ".join(f"{n} = {float(v):.10g}" for n, v in zip(names, values))


def cmd_run(args) -> int:
    """Run headless, print a summary, write --out if given."""
    if args.steps < 0:
        raise UsageError(f"--steps must be zero or positive, got {args.steps}")
    if args.steps > MAX_STEPS:
        raise UsageError(f"--steps must be at most {MAX_STEPS:,}, got {args.steps:,}")
    for flag, value in (("--batch-size", args.batch_size), ("--step-size", args.step_size),
                        ("--t-max", args.t_max)):
        if value is not None and value > MAX_COUNT:
            raise UsageError(f"{flag} must be at most {MAX_COUNT:,}, got {value:,}")
    if not np.isfinite(args.tol) or args.tol < 0:
        raise UsageError(f"--tol must be zero or positive, got {args.tol}")
    if args.out is not None:
        _check_out(args.out)
    objective, optimizer, schedule, start = _build_run(args)
    descent = Descent(objective, optimizer, start, schedule=schedule, max_steps=args.steps,
                      grad_tol=args.tol, loss_tol=args.loss_tol, batch_size=args.batch_size,
                      seed=args.seed)
    t0 = time.perf_counter()
    traj = descent.run(copy=False)  # views: --out streams them, 10 M rows copy nothing
    elapsed = time.perf_counter() - t0
    direction = "ascent" if optimizer.maximize else "descent"
    print(f"objective: {objective.name}  [{objective.formula}]")
    print(f"optimizer: {optimizer!r}  ({direction}, schedule {schedule.name})")
    print(f"status:    {traj.message}")
    print(f"steps:     {traj.steps}")
    print(f"final:     {_fmt_point(objective.names, traj.final)}")
    print(f"loss:      {float(traj.loss[-1]):.10g}   |grad|: {float(traj.grad_norm[-1]):.4g}")
    rate = traj.steps / elapsed if elapsed > 0 else float("inf")
    print(f"time:      {elapsed:.3f} s ({rate:,.0f} steps/s)")
    if args.out is not None:
        write_trajectory_csv(args.out, traj)
        print(f"wrote {len(traj.loss)} rows to {args.out}")
    return 0


def cmd_list() -> int:
    """Print the registries."""
    print("Functions (--function NAME, or type a formula in x and y):")
    for s in FUNCTIONS.values():
        direction = "maximize" if s.maximize else "minimize"
        print(f"  {s.name:<16} {s.dim}-D  {direction}  {s.formula}")
    print("\nDatasets (--dataset NAME, or a CSV file):")
    for name, make in DATASETS.items():
        ds = make()
        print(f"  {name:<16} {ds.x.size:>4} points  {ds.description.split('. ')[0]}")
    print("\nModels (--model):")
    for m in MODELS.values():
        print(f"  {m.name:<16} {m.formula:<20} parameters {', '.join(m.params)}")
    print("\nLosses (--loss):")
    for loss in LOSSES.values():
        print(f"  {loss.name:<16} {loss.title}")
    print("\nOptimizers (--optimizer), with torch's hyperparameters and defaults:")
    for cls in OPTIMIZERS.values():
        hp = ", ".join(f"{p.name}={p.default}" for p in cls.params)
        print(f"  {cls.name:<16} {hp}, maximize=False")
    print("\nSchedules (--schedule):")
    for cls in SCHEDULES.values():
        sp = ", ".join(f"{n}={d}" for n, d, _ in cls.params) or "-"
        print(f"  {cls.name:<16} {sp}")
    return 0


def launch_app() -> int:
    """Open the desktop app (once it exists)."""
    try:
        from gd_explorer.ui.app import run_app  # noqa: PLC0415 - Qt only when needed
    except ImportError:
        print("gd-explorer: the desktop app is not available in this version yet; "
              "use 'gd-explorer run' (see 'gd-explorer --help')", file=sys.stderr)
        return 1
    return run_app()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gd-explorer`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return launch_app()
    parser = build_parser()
    try:
        args = parser.parse_args(_join_negative_values(argv))
        if args.command == "run":
            return cmd_run(args)
        if args.command == "list":
            return cmd_list()
        parser.print_help()
        return EXIT_USAGE
    except UsageError as exc:
        print(f"gd-explorer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExportError as exc:
        print(f"gd-explorer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # bad hyperparameter, formula, dataset: all ValueErrors
        print(f"gd-explorer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("gd-explorer: interrupted; nothing written", file=sys.stderr)
        return 130
