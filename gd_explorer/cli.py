"""Command-line front door.

``gd-explorer`` opens the desktop app; ``gd-explorer run ...`` descends headless and
can write the trajectory CSV; ``gd-explorer run --session FILE`` runs every run of a
saved session (the app's trajectories, bit for bit) and can write one CSV per run;
``gd-explorer list`` shows the built-ins.  Every bad input exits with status 2 and one
line on stderr, before anything runs or is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence

import numpy as np

from gd_explorer import __version__
from gd_explorer.cli_animate import add_animate_parser, cmd_animate
from gd_explorer.cli_sweep import add_sweep_parser, cmd_sweep
from gd_explorer.core.engine.descent import Descent, grad_norms
from gd_explorer.core.io.export import (
    COLUMNS,
    ExportError,
    csv_file_name,
    write_trajectory_csv,
)
from gd_explorer.core.lab.basins import (
    DEFAULT_GRID,
    DEFAULT_STEPS,
    STATUS_CONVERGED,
    STATUS_DIVERGED,
    STATUS_MAX_STEPS,
    check_grid,
    compute_basins,
    write_basins_csv,
    write_basins_png,
)
from gd_explorer.core.limits import MAX_BASIN_GRID, MAX_COUNT, MAX_LISTED_PARAMS, MAX_STEPS
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.optim.schedules import SCHEDULES, make_schedule
from gd_explorer.core.problems.kinds import KINDS
from gd_explorer.core.session.presets import CATEGORIES, PRESETS, get_preset
from gd_explorer.core.session.specs import load_session

EXIT_USAGE = 2
#: defaults of flags that a session sets itself (None in the parser, to see what was given)
#: (--model and --loss default per kind: linear/mse for a dataset fit, mlp/by task for nets)
_DEFAULTS = {"optimizer": "sgd", "schedule": "constant",
             "steps": 1000, "tol": 1e-8, "loss_tol": 0.0, "seed": 0}
#: flags a session may override: its stop rules (and where to write the files)
_SESSION_OVERRIDES = ("steps", "tol", "loss_tol", "out_dir", "columns")



def _optimizer_flags() -> dict[str, dict]:
    """One flag per distinct hyperparameter name across the optimizer registry.

    The flag is torch's keyword in kebab case (``--momentum-decay``); argparse keeps the
    text, and the chosen optimizer's declaration parses it (``HyperParameter.parse``):
    ``--eps`` is a number for Adam and a pair for Adafactor.
    """
    by_name: dict[str, list] = {}
    for cls in OPTIMIZERS.values():
        for p in cls.params:
            by_name.setdefault(p.name, []).append((cls.name, p))
    flags = {}
    for name, entries in by_name.items():
        kinds = {p.kind for _, p in entries}
        first = entries[0][1]
        owners = ", ".join(n for n, _ in entries)
        if kinds == {"bool"}:
            kw = dict(nargs="?", const="true", metavar="true|false")
        elif kinds == {"pair"}:
            kw = dict(nargs="+", metavar="A,B")
        elif "pair" in kinds:  # --eps: a number for most, a pair for Adafactor
            pairs = ", ".join(n for n, p in entries if p.kind == "pair")
            kw = dict(nargs="+", metavar="X", help_extra=f"; A,B for {pairs}")
        elif kinds == {"choice"}:
            kw = dict(metavar="{" + ",".join(first.choices) + "}")
        else:
            kw = dict(metavar="N" if kinds == {"int"} else "X")
        extra = kw.pop("help_extra", "")
        flags[name] = dict(kw, help=f"{first.help} ({owners}{extra})")
    return flags


_OPT_FLAGS = _optimizer_flags()
#: optimizer flags whose value may be a negative number ("--beta2-decay -0.5")
_OPT_VALUE_FLAGS = {"--" + n.replace("_", "-") for n, kw in _OPT_FLAGS.items()
                    if kw.get("nargs") != "?"}


def _schedule_flags() -> dict[str, str]:
    """Schedule parameter name -> its dest, from the declarations: the flag is the torch
    keyword in kebab case (``--step-size``, ``--t-0``), ``--schedule-<name>`` where that
    would clash with another run flag (``--schedule-eps``: ``--eps`` is the optimizer's)."""
    taken = set(_OPT_FLAGS) | {"function", "dataset", "session", "model", "loss", "delta",
                               "x_column", "y_column", "optimizer", "lr", "maximize",
                               "schedule", "warmup", "steps", "tol", "loss_tol", "batch_size",
                               "seed", "start", "out", "out_dir"}
    out: dict[str, str] = {}
    for cls in SCHEDULES.values():
        for p in cls.params:
            out.setdefault(p.name, f"schedule_{p.name}" if p.name in taken else p.name)
    return out


#: schedule parameter -> argparse dest (the flag is the dest in kebab case)
_SCHEDULE_FLAGS = _schedule_flags()


class UsageError(Exception):
    """A bad command line: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, no usage dump
        raise UsageError(message)


def _kebab(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_descent_flags(parser: argparse.ArgumentParser) -> None:
    """The problem kinds', optimizer and schedule flags (``run``, ``sweep`` and ``basins`` share them)."""
    for kind in KINDS.values():
        kind.add_cli_flags(parser)
    parser.add_argument("--optimizer", help="optimizer (default sgd)")
    parser.add_argument("--lr", type=float, help="learning rate (default: the objective's)")
    for name, kw in _OPT_FLAGS.items():
        parser.add_argument(_kebab(name), dest=name, **kw)
    parser.add_argument("--maximize", action=argparse.BooleanOptionalAction, default=None,
                        help="gradient ascent (default: the function's own direction)")
    parser.add_argument("--schedule",
                        help=f"learning-rate schedule: {', '.join(SCHEDULES)} (default "
                             "constant)")
    parser.add_argument("--warmup", type=int, metavar="N",
                        help="linear warm-up over N updates before the schedule (torch's "
                             "SequentialLR of LinearLR(start_factor=1/3) and the schedule)")
    for name, dest in _SCHEDULE_FLAGS.items():
        decl = [(c.name, q) for c in SCHEDULES.values() for q in c.params if q.name == name]
        p = decl[0][1]
        extra = dict(nargs="?", const="true", metavar="BOOL") if p.kind == "bool" else \
            dict(metavar=name.upper())
        if len(decl) == 1:
            text = f"{p.help} ({decl[0][0]}; default {p.format(p.default)})"
        else:  # the same torch keyword in several schedules: each with its own default
            text = f"{name}: " + "; ".join(f"{owner}: {q.help}, default {q.format(q.default)}"
                                           for owner, q in decl)
        parser.add_argument(_kebab(dest), dest=dest, **extra, help=text.replace("%", "%%"))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs and tests)."""
    parser = _Parser(prog="gd-explorer", description="Explore gradient descent.")
    parser.add_argument("--version", action="version", version=f"gd-explorer {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="descend headless and optionally write the trajectory CSV")
    what = run.add_mutually_exclusive_group(required=True)
    for kind in KINDS.values():  # --function, --dataset: the problem kinds' own flags
        kind.add_cli_choice(what)
    what.add_argument("--session", metavar="FILE",
                      help="run every run of a saved session (as the app does); with "
                           "--out-dir, one CSV per run")
    what.add_argument("--preset", metavar="KEY",
                      help="run every run of a preset as --session does (keys: 'list')")
    _add_descent_flags(run)
    run.add_argument("--steps", type=int,
                     help=f"maximum updates (default 1000, at most {MAX_STEPS:,}; with "
                          "--session: instead of the session's)")
    run.add_argument("--tol", type=float,
                     help="stop when the gradient norm is <= TOL (default 1e-8; 0: never; "
                          "with --session: instead of the session's)")
    run.add_argument("--loss-tol", type=float,
                     help="stop when the loss changes by <= LOSS_TOL (default 0: never; "
                          "with --session: instead of the session's)")
    run.add_argument("--batch-size", type=int, help="mini-batch size (default: full batch)")
    run.add_argument("--seed", type=int, help="mini-batch shuffling seed (default 0)")
    run.add_argument("--start", metavar="X[,Y]", help="start point, comma-separated")
    run.add_argument("--out", metavar="CSV", help="write the trajectory CSV here")
    run.add_argument("--out-dir", metavar="DIR",
                     help="with --session: write run<i>-<label>.csv per run into DIR "
                          "(the app's 'Export all' names)")
    run.add_argument("--columns", choices=COLUMNS,
                     help="what --out / --out-dir write: all (every parameter and gradient; "
                          "the default) or scalar (step, loss, grad_norm, param_norm, "
                          "update_norm, lr: six columns however many parameters)")

    add_sweep_parser(sub)
    add_animate_parser(sub)
    basins = sub.add_parser("basins", help="basins of attraction: descend a grid of starts "
                            "batched and write which minimum each reaches (CSV, PNG)")
    what = basins.add_mutually_exclusive_group(required=True)
    for kind in KINDS.values():
        kind.add_cli_choice(what)
    _add_descent_flags(basins)
    basins.add_argument("--grid", type=int, metavar="N",
                        help=f"N x N starts over the window (default {DEFAULT_GRID}, at most "
                             f"{MAX_BASIN_GRID:,})")
    basins.add_argument("--steps", type=int,
                        help=f"maximum updates per start (default {DEFAULT_STEPS:,})")
    basins.add_argument("--tol", type=float,
                        help="a start has converged when its gradient norm is <= TOL "
                             "(default 1e-8)")
    basins.add_argument("--window", metavar="X0,X1,Y0,Y1",
                        help="the ranges of the first two parameters (default: the "
                             "problem's own window)")
    basins.add_argument("--batch-size", type=int, help="mini-batch size (default: full batch)")
    basins.add_argument("--seed", type=int, help="mini-batch shuffling seed (default 0)")
    basins.add_argument("--start", metavar="X[,Y,...]",
                        help="the other parameters of every start (default: the problem's "
                             "start)")
    basins.add_argument("--out", metavar="CSV",
                        help="write x,y,basin,steps,status per start here")
    basins.add_argument("--png", metavar="PNG", help="write the basin map as a PNG here")

    sub.add_parser("list", help="show the built-in functions, datasets, models, losses, "
                   "optimizers and schedules")
    return parser


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    # "--start -1.5,2" would read "-1.5,2" as an option; glue such values to their flag
    out: list[str] = []
    it = iter(argv)
    for tok in it:
        if tok in _OPT_VALUE_FLAGS:  # glue only a value that would read as an option
            nxt = next(it, None)
            if nxt is None:
                out.append(tok)
            elif nxt.startswith("-") and len(nxt) > 1 and (nxt[1].isdigit() or nxt[1] == "."):
                out.append(f"{tok}={nxt}")
            else:
                out += [tok, nxt]
        elif tok in ("--start", "--lr", "--eta-min", "--gamma", "--delta"):
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


def _check_out(path: str) -> None:
    if os.path.isdir(path):
        raise UsageError(f"--out {path}: is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--out {path}: folder {folder} is not writable")


def _check_out_dir(folder: str) -> None:
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "folder does not exist"
        raise UsageError(f"--out-dir {folder}: {what}")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--out-dir {folder}: folder is not writable")


def _check_common(args) -> None:
    """Checks of the flags both kinds of run share (given ones only, with --session)."""
    if args.steps is not None:
        if args.steps < 0:
            raise UsageError(f"--steps must be zero or positive, got {args.steps}")
        if args.steps > MAX_STEPS:
            raise UsageError(f"--steps must be at most {MAX_STEPS:,}, got {args.steps:,}")
    for flag, value in (("--batch-size", args.batch_size), ("--warmup", args.warmup)):
        if value is not None and value > MAX_COUNT:
            raise UsageError(f"{flag} must be at most {MAX_COUNT:,}, got {value:,}")
    for flag, value in (("--tol", args.tol), ("--loss-tol", args.loss_tol)):
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise UsageError(f"{flag} must be zero or positive, got {value}")


def _schedule_kwargs(args) -> dict:
    """The given schedule flags, parsed by the chosen schedule's declarations."""
    if args.schedule not in SCHEDULES:
        raise UsageError(f"unknown schedule {args.schedule!r}; choose one of: "
                         f"{', '.join(SCHEDULES)}")
    params = {p.name: p for p in SCHEDULES[args.schedule].params}
    out = {}
    for name, dest in _SCHEDULE_FLAGS.items():
        text = getattr(args, dest)
        if text is None:
            continue
        if name not in params:
            takes = ", ".join(_kebab(_SCHEDULE_FLAGS[n]) for n in params) or "no flags"
            raise UsageError(f"schedule {args.schedule!r} takes no {_kebab(dest)}; "
                             f"it takes: {takes}")
        p = params[name]
        if p.kind == "int" and p.high is not None:
            try:
                big = float(text) > p.high
            except ValueError:
                big = False
            if big:
                raise UsageError(f"{_kebab(dest)} must be at most {int(p.high):,}, "
                                 f"got {int(float(text)):,}")
        try:
            out[name] = p.parse(text)
        except ValueError as exc:
            raise UsageError(f"{_kebab(dest)}: {exc}") from None
    return out


def _build_run(args):
    """Objective, optimizer, schedule and start from parsed arguments (may raise ValueError)."""
    # later kinds first: they may share an earlier kind's flag (nets: --dataset moons)
    kind = next(k for k in reversed(KINDS.values()) if k.claims_cli(args))
    for other in KINDS.values():
        if other is not kind:
            for flag, dest in other.cli_only:
                if (flag, dest) not in kind.cli_only and getattr(args, dest, None) is not None:
                    raise UsageError(f"{flag} applies to {other.cli_scope} only")
    objective = kind.objective_from_cli(args)
    if args.optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {args.optimizer!r}; choose one of: "
                         f"{', '.join(OPTIMIZERS)}")
    maximize = objective.maximize if args.maximize is None else args.maximize
    lr = args.lr if args.lr is not None else objective.default_lr(args.optimizer)
    optimizer = make_optimizer(args.optimizer, lr=lr, maximize=maximize,
                               **_optimizer_kwargs(args))
    schedule = make_schedule(args.schedule, base_lr=lr, warmup=args.warmup or 0,
                             **_schedule_kwargs(args))
    schedule.bind(optimizer)  # a schedule that cycles momentum needs an optimizer with it
    start = (_parse_start(args.start, objective.dim) if args.start is not None
             else np.array(objective.start, dtype=float))
    return objective, optimizer, schedule, start


def _optimizer_kwargs(args) -> dict:
    """The given optimizer flags, parsed by the chosen optimizer's declarations."""
    cls = OPTIMIZERS[args.optimizer]
    takes = {p.name: p for p in cls.params}
    kwargs = {}
    for name in _OPT_FLAGS:
        text = getattr(args, name)
        if text is None:
            continue
        if name not in takes:
            raise UsageError(f"{cls.name} takes no {_kebab(name)}; it takes: {cls.flags_text()}")
        if isinstance(text, list):  # a pair given as two words: --betas 0.9 0.999
            text = ",".join(text)
        kwargs[name] = takes[name].parse(text)
    return kwargs


def _fmt_point(names, values) -> str:
    return ", ".join(f"{n} = {float(v):.10g}" for n, v in zip(names, values))


def _norm(v) -> float:
    v = np.asarray(v, dtype=np.float64)
    if v.size == 0:
        return 0.0
    with np.errstate(over="ignore"):
        return float(np.hypot.reduce(v))


def _final_lines(objective, traj, out: str | None, columns: str) -> list[str]:
    """The ``final:`` line: the point (at most ``MAX_LISTED_PARAMS`` numbers), or for a
    bigger problem its norms, where its parameters are, and one line per parameter group
    (a network's layers)."""
    names = objective.names
    if len(names) <= MAX_LISTED_PARAMS:
        return [f"final:     {_fmt_point(names, traj.final)}"]
    p = traj.final
    where = ("not written: --out CSV writes them" if out is None else
             f"in {out}" if columns == "all" else
             f"not in {out}: --columns all writes them")
    text = f"final:     |p| = {_norm(p):.6g}"
    if len(traj.params) > 1:
        text += f"   last |Δp| = {_norm(traj.params[-1] - traj.params[-2]):.4g}"
    out_lines = [f"{text}   ({len(names):,} parameters, {where})"]
    layers = objective.layers()
    groups = None if layers is None else layers.groups
    if groups and len(traj.loss):
        g = traj.grad[-1]
        width = max(len(title) for title, _ in groups)
        out_lines += [f"           {title.ljust(width)}  |p| = {_norm(p[idx]):<10.6g} "
                      f"|grad| = {_norm(g[idx]):.4g}" for title, idx in groups]
    return out_lines


def _run_and_report(descent: Descent, out: str | None = None, columns: str = "all"):
    """Advance ``descent`` to the end, print its summary; the trajectory as views.

    ``out`` and ``columns``: where the CSV goes and what it holds, for the summary of a
    problem with more than ``MAX_LISTED_PARAMS`` parameters (which says where they are
    instead of printing them)."""
    objective, optimizer, schedule = descent.objective, descent.optimizer, descent.schedule
    t0 = time.perf_counter()
    traj = descent.run(copy=False)  # views: the CSV streams them, 10 M rows copy nothing
    elapsed = time.perf_counter() - t0
    direction = "ascent" if optimizer.maximize else "descent"
    print(f"objective: {objective.name}  [{objective.formula}]")
    print(f"optimizer: {optimizer!r}  ({direction}, schedule {schedule.name})")
    print(f"status:    {traj.message}")
    print(f"steps:     {traj.steps}")
    print("\n".join(_final_lines(objective, traj, out, columns)))
    if len(traj.loss):
        gn = float(grad_norms(traj.grad[-1:])[0])  # the last row only, not all of them
        print(f"loss:      {float(traj.loss[-1]):.10g}   |grad|: {gn:.4g}")
    rate = traj.steps / elapsed if elapsed > 0 else float("inf")
    print(f"time:      {elapsed:.3f} s ({rate:,.0f} steps/s)")
    return traj


def cmd_run(args) -> int:
    """Run headless, print a summary, write --out if given."""
    if args.session is not None or args.preset is not None:
        return cmd_run_session(args)
    if args.out_dir is not None:
        raise UsageError("--out-dir applies to --session or --preset (use --out CSV for one run)")
    for name, value in _DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    _check_common(args)
    if args.out is not None:
        _check_out(args.out)
    elif args.columns is not None:
        raise UsageError("--columns says what --out writes: give --out CSV too")
    objective, optimizer, schedule, start = _build_run(args)
    descent = Descent(objective, optimizer, start, schedule=schedule, max_steps=args.steps,
                      grad_tol=args.tol, loss_tol=args.loss_tol, batch_size=args.batch_size,
                      seed=args.seed)
    columns = args.columns or "all"
    traj = _run_and_report(descent, args.out, columns)
    if args.out is not None:
        write_trajectory_csv(args.out, traj, columns=columns)
        print(f"wrote {len(traj.loss)} rows to {args.out}"
              + (" (scalar columns)" if columns == "scalar" else ""))
    return 0


def _session_conflicts(args) -> None:
    """Refuse flags that a session sets itself (only its stop rules may be overridden)."""
    what = "--preset" if args.preset is not None else "--session"
    if args.out is not None:
        raise UsageError(f"--out writes one run; with {what} use --out-dir DIR")
    for dest, value in vars(args).items():  # every run flag's dest is its kebab name
        if dest in ("command", "session", "preset", *_SESSION_OVERRIDES) or value is None:
            continue
        raise UsageError(f"{_kebab(dest)} cannot be combined with {what} (the session "
                         "sets it; only --steps, --tol and --loss-tol may override it)")


def cmd_run_session(args) -> int:
    """Run every run of a session file (or a preset); with --out-dir one CSV per run."""
    _session_conflicts(args)
    _check_common(args)
    if args.out_dir is not None:
        _check_out_dir(args.out_dir)
    elif args.columns is not None:
        raise UsageError("--columns says what --out-dir writes: give --out-dir DIR too")
    columns = args.columns or "all"
    if args.preset is not None:  # an unknown key: a ValueError listing the keys, exit 2
        source, session = f"preset {args.preset}", get_preset(args.preset).session
    else:  # SessionError (a ValueError): one line, exit 2
        source, session = args.session, load_session(args.session)
    overrides = {k: v for k, v in (("max_steps", args.steps), ("tol", args.tol),
                                   ("loss_tol", args.loss_tol)) if v is not None}
    if overrides:
        session = dataclasses.replace(session, **overrides)
    if not session.runs:
        raise UsageError(f"{source}: the session has no runs")
    objective = session.problem.build()
    # every run is built (optimizer, schedule, start) before any of them runs
    descents = [session.descent(i, objective) for i in range(len(session.runs))]
    title = f" — {session.title}" if session.title else ""
    print(f"session:   {source}{title} ({len(descents)} run{'s' * (len(descents) > 1)})")
    written = 0
    try:
        for i, spec in enumerate(session.runs):
            label = spec.display_label()
            print(f"\nrun {i + 1}:     {label}")
            path = (None if args.out_dir is None else
                    os.path.join(args.out_dir, csv_file_name(i + 1, label)))
            traj = _run_and_report(descents[i], path, columns)
            if path is not None:
                write_trajectory_csv(path, traj, columns=columns)
                written += 1
                print(f"wrote {len(traj.loss)} rows to {path}"
                      + (" (scalar columns)" if columns == "scalar" else ""))
            descents[i] = None  # its rows are written: let them go
    except KeyboardInterrupt:
        print(f"gd-explorer: interrupted; {written} of {len(session.runs)} files written",
              file=sys.stderr)
        return 130
    return 0


def _parse_window(text: str) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        v = [float(t) for t in text.split(",")]
    except ValueError:
        raise UsageError(f"--window must be four numbers X0,X1,Y0,Y1, got {text!r}") from None
    if len(v) != 4 or not all(np.isfinite(v)) or not (v[0] < v[1] and v[2] < v[3]):
        raise UsageError(f"--window must be four finite numbers X0,X1,Y0,Y1 with X0 < X1 "
                         f"and Y0 < Y1, got {text!r}")
    return (v[0], v[1]), (v[2], v[3])


#: pixels per start side in --png: small grids get blocks, so the file is not a speck
def _png_scale(grid: int) -> int:
    return max(1, 400 // grid)


def cmd_basins(args) -> int:
    """Basins of attraction headless: descend a grid of starts, write --out / --png."""
    for name, value in {**_DEFAULTS, "steps": DEFAULT_STEPS}.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    args.loss_tol = None
    _check_common(args)
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    grid = DEFAULT_GRID if args.grid is None else args.grid
    try:
        check_grid(grid)
    except ValueError as exc:
        raise UsageError(f"--grid: {exc}") from None
    for flag, path in (("--out", args.out), ("--png", args.png)):
        if path is not None:
            _check_out(path)
            if path == (args.png if flag == "--out" else args.out):
                raise UsageError(f"{flag} {path}: --out and --png must be different files")
    objective, optimizer, schedule, start = _build_run(args)
    if objective.dim < 2:
        raise UsageError(f"{objective.name} has one parameter: basins need a surface "
                         "(two parameters or more)")
    window = _parse_window(args.window) if args.window is not None else \
        tuple(tuple(float(v) for v in objective.window[i]) for i in (0, 1))
    if schedule.follows_loss:
        raise UsageError(f"schedule {schedule.name!r} follows one run's loss; it cannot "
                         "drive a grid of starts")
    t0 = time.perf_counter()
    result = compute_basins(objective, optimizer, start, (0, 1), window, grid=grid,
                            steps=args.steps, tol=args.tol, schedule=schedule,
                            batch_size=args.batch_size, seed=args.seed)
    elapsed = time.perf_counter() - t0
    names = objective.names
    print(f"objective: {objective.name}  [{objective.formula}]")
    print(f"optimizer: {optimizer!r}  (schedule {schedule.name})")
    print(f"grid:      {grid} x {grid} starts over {names[0]} in {window[0]}, {names[1]} in "
          f"{window[1]}; {args.steps:,} steps, tol {args.tol:g}")
    print(f"starts:    {100 * result.fraction(STATUS_CONVERGED):.1f}% converged, "
          f"{100 * result.fraction(STATUS_MAX_STEPS):.1f}% not converged, "
          f"{100 * result.fraction(STATUS_DIVERGED):.1f}% diverged")
    for i, (point, known) in enumerate(zip(result.minima, result.known), 1):
        share = 100.0 * result.counts[i - 1] / result.label.size
        print(f"basin {i}:   {'known' if known else 'found'} minimum at "
              f"{_fmt_point(names, point)}: {share:.1f}% of the starts")
    print(f"time:      {elapsed:.3f} s")
    if args.out is not None:
        rows = write_basins_csv(args.out, result)
        print(f"wrote {rows:,} rows to {args.out}")
    if args.png is not None:
        write_basins_png(args.png, result, scale=_png_scale(grid))
        print(f"wrote {args.png}")
    return 0


def cmd_list() -> int:
    """Print the registries."""
    sections = [kind.cli_listing() for kind in KINDS.values()]  # each kind lists its own
    for i, lines in enumerate(s for s in sections if s):
        if i:
            print()
        for line in lines:
            print(line)
    print("\nOptimizers (--optimizer NAME), with torch's hyperparameters (--kebab-case flags), "
          "ranges and defaults:")
    for cls in OPTIMIZERS.values():
        print(f"  {cls.name:<16} {cls.title}")
        for line in cls.describe().split("\n")[1:]:
            print(f"      {line}" if line else "")
        print("      maximize: gradient ascent (--maximize; default: the problem's direction)")
    print("\nSchedules (--schedule; --warmup N puts a linear warm-up first):")
    for cls in SCHEDULES.values():
        torch_name = f"torch {cls.torch_name}" if cls.torch_name != "none" else "no scheduler"
        print(f"  {cls.name:<16} {cls.title} ({torch_name})")
        print(f"  {'':<16} {cls.rule_text}")
        for p in cls.params:
            print(f"  {'':<18}{_kebab(_SCHEDULE_FLAGS[p.name])} {p.describe()}")
    print("\nPresets (run --preset KEY; the app's Presets menu):")
    for category in CATEGORIES:
        print(f"  {category}:")
        for p in PRESETS.values():
            if p.category == category:
                print(f"    {p.key:<22} {p.title}")
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
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "basins":
            return cmd_basins(args)
        if args.command == "list":
            return cmd_list()
        if args.command == "animate":
            return cmd_animate(args)
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
    except BrokenPipeError:
        # the reader went away (`gd-explorer list | head`): stop quietly, as a Unix filter
        # does; stdout goes to devnull so the interpreter's final flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
