"""``gd-explorer sweep``: a learning-rate sweep (or the lr × momentum map) headless.

The problem, optimizer and schedule flags are ``run``'s (the same builders); the sweep
adds ``--lrs LOW:HIGH:K``, ``--steps N``, ``--momenta LOW:HIGH:M`` (the map) and
``--out CSV``.  Bad input exits with status 2 and one line, before anything runs or is
written (the contract of ``run``).

CSV (see README "Learning-rate sweeps"): a ``#`` comment line with the edges first,
``# predicted_edge=<lr> measured_edge=<largest stable lr>,<first diverged lr>`` (empty
after ``=`` where unknown: no Hessian rule, no rate diverged; ``nan`` as the first
number when even the smallest rate diverged); with ``--momenta`` one such line per
momentum, led by ``momentum=<value>``.  Then the header ``lr,final_loss,best_loss,
status,diverged_step`` (with ``--momenta``: ``momentum`` first) and one row per run;
``diverged_step`` is empty for a run that did not diverge.  Read it with
``pandas.read_csv(path, comment="#")``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from gd_explorer.core.io.export import atomic_write_text
from gd_explorer.core.lab.sweep import (
    DEFAULT_LRS,
    DEFAULT_STEPS,
    LRSweep,
    log_rates,
    momentum_grid,
    momentum_name,
    sweep_learning_rates,
    sweep_lr_momentum,
)
from gd_explorer.core.limits import MAX_STEPS, MAX_SWEEP_RUNS

CSV_COLUMNS = ("lr", "final_loss", "best_loss", "status", "diverged_step")


def add_sweep_parser(sub) -> argparse.ArgumentParser:
    """The ``sweep`` subcommand: ``run``'s problem and optimizer flags plus the grid."""
    from gd_explorer import cli

    p = sub.add_parser("sweep", help="sweep learning rates (and momenta) headless; write "
                                     "final and best loss per rate as CSV")
    what = p.add_mutually_exclusive_group(required=True)
    for kind in cli.KINDS.values():
        kind.add_cli_choice(what)
    cli._add_descent_flags(p)
    lo, hi, k = DEFAULT_LRS
    p.add_argument("--lrs", metavar="LOW:HIGH:K", default=f"{lo:g}:{hi:g}:{k}",
                   help=f"K log-spaced learning rates from LOW to HIGH (default {lo:g}:{hi:g}:{k})")
    p.add_argument("--momenta", metavar="LOW:HIGH:M",
                   help="also sweep M momenta (beta1 for the Adam family) from LOW to HIGH: "
                        "the lr × momentum map, e.g. 0:0.99:40")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"updates per run (default {DEFAULT_STEPS})")
    p.add_argument("--batch-size", type=int, help="mini-batch size (default: full batch)")
    p.add_argument("--seed", type=int, default=0, help="mini-batch shuffling seed (default 0)")
    p.add_argument("--start", metavar="X[,Y]", help="start point, comma-separated")
    p.add_argument("--out", metavar="CSV", help="write one row per run here")
    return p


def _grid(flag: str, text: str, make):
    from gd_explorer.cli import UsageError

    parts = text.split(":")
    if len(parts) != 3:
        raise UsageError(f"{flag} must be LOW:HIGH:COUNT, got {text!r}")
    try:
        low, high = float(parts[0]), float(parts[1])
        count = int(parts[2])
    except ValueError:
        raise UsageError(f"{flag} must be LOW:HIGH:COUNT with numbers, got {text!r}") from None
    try:
        return make(low, high, count)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _num(v) -> str:
    if v is None:
        return ""
    return repr(float(v)) if np.isfinite(v) else str(float(v))


def _rows(sweep: LRSweep, momentum: float | None) -> list[str]:
    lead = [] if momentum is None else [repr(float(momentum))]
    out = []
    for lr, final, best, status, step in sweep.rows():
        out.append(",".join(lead + [repr(lr), _num(final), _num(best), status,
                                    "" if step is None else str(step)]))
    return out


def _edge_lines(sweep: LRSweep, momentum: float | None) -> list[str]:
    lead = "" if momentum is None else f"momentum={float(momentum)!r} "
    e = sweep.measured_edge
    measured = "" if e is None else f"{_num(e[0])},{_num(e[1])}"
    return [f"# {lead}predicted_edge={_num(sweep.predicted_edge)} measured_edge={measured}"]


def sweep_csv_text(sweeps: list[tuple[float | None, LRSweep]]) -> str:
    """The CSV of one sweep (``[(None, sweep)]``) or of a map's rows (one per momentum)."""
    comments, rows = [], []
    for mu, sweep in sweeps:
        comments += _edge_lines(sweep, mu)
        rows += _rows(sweep, mu)
    header = ",".join((() if sweeps[0][0] is None else ("momentum",)) + CSV_COLUMNS)
    return "\n".join(comments + [header] + rows) + "\n"


def _edge_text(sweep: LRSweep) -> str:
    e = sweep.measured_edge
    measured = "no rate diverged" if e is None else \
        f"between {e[0]:.4g} and {e[1]:.4g}"
    pred = ("unknown" if sweep.predicted_edge is None else
            "none (no positive curvature at the start)" if math.isinf(sweep.predicted_edge)
            else f"{sweep.predicted_edge:.4g}")
    return f"measured edge {measured}; predicted {pred}"


def cmd_sweep(args) -> int:
    """Run the sweep, print a summary, write --out if given."""
    from gd_explorer import cli
    from gd_explorer.cli import UsageError

    for name in ("optimizer", "schedule"):  # --model and --loss: the kind defaults them
        if getattr(args, name, None) is None:
            setattr(args, name, cli._DEFAULTS[name])
    if not 1 <= args.steps <= MAX_STEPS:
        raise UsageError(f"--steps must be between 1 and {MAX_STEPS:,}, got {args.steps:,}")
    if args.batch_size is not None and args.batch_size > cli.MAX_COUNT:
        raise UsageError(f"--batch-size must be at most {cli.MAX_COUNT:,}, "
                         f"got {args.batch_size:,}")
    lrs = _grid("--lrs", args.lrs, log_rates)
    momenta = None if args.momenta is None else _grid("--momenta", args.momenta, momentum_grid)
    runs = len(lrs) * (1 if momenta is None else len(momenta))
    if runs > MAX_SWEEP_RUNS:
        raise UsageError(f"a sweep may batch at most {MAX_SWEEP_RUNS:,} runs, got {runs:,}")
    if args.out is not None:
        cli._check_out(args.out)
    objective, optimizer, schedule, start = cli._build_run(args)
    if schedule.name != "constant" or args.warmup:
        raise UsageError("a sweep runs every rate at a constant rate: --schedule and "
                         "--warmup apply to run")
    if momenta is not None and momentum_name(optimizer) is None:
        raise UsageError(f"--momenta: {optimizer.name} has neither momentum nor betas")
    t0 = time.perf_counter()
    if momenta is None:
        sweep = sweep_learning_rates(objective, optimizer, start, lrs, args.steps,
                                     batch_size=args.batch_size, seed=args.seed)
        parts = [(None, sweep)]
    else:
        m = sweep_lr_momentum(objective, optimizer, start, lrs, momenta, args.steps,
                              batch_size=args.batch_size, seed=args.seed)
        parts = [(float(mu), row) for mu, row in zip(m.momenta, m.rows) if row is not None]
        if not parts:
            raise UsageError(f"--momenta: no momentum in {args.momenta} is allowed for "
                             f"{optimizer!r}")
    elapsed = time.perf_counter() - t0
    print(f"objective: {objective.name}  [{objective.formula}]")
    print(f"optimizer: {optimizer!r}  (the rate swept)")
    print(f"sweep:     {len(lrs)} rates {lrs[0]:.3g} to {lrs[-1]:.3g}, {args.steps} steps"
          + ("" if momenta is None else f", {len(momenta)} momenta "
             f"{momenta[0]:g} to {momenta[-1]:g}"))
    for mu, sweep in parts:
        lead = "" if mu is None else f"momentum {mu:.4g}: "
        print(f"edge:      {lead}{_edge_text(sweep)}; "
              f"{int(sweep.diverged.sum())} of {len(lrs)} diverged")
    print(f"time:      {elapsed:.3f} s ({runs * args.steps / max(elapsed, 1e-9):,.0f} "
          "run-steps/s)")
    if args.out is not None:
        atomic_write_text(args.out, sweep_csv_text(parts))
        print(f"wrote {runs if momenta is None else len(parts) * len(lrs)} rows to {args.out}")
    return 0
