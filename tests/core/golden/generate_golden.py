"""Generate golden optimizer trajectories with real PyTorch (provenance for test_golden.py).

This script needs ``torch`` and is *not* part of the test suite: torch is never a
dependency of gd-explorer. It was run once, and its output,
``tests/core/golden/torch_golden.json``, is committed next to it. To regenerate::

    python3 -m venv ../torch-venv
    ../torch-venv/bin/pip install torch==2.13.0 numpy
    ../torch-venv/bin/python tests/core/golden/generate_golden.py

Everything runs in float64 with the single-tensor (``foreach=False``) optimizer
implementations. Each case records rows ``k = 0..N``:

- ``params[k]``: the parameters after ``k`` updates (row 0 is the start),
- ``loss[k]``, ``grad[k]``: objective value and autograd gradient at ``params[k]``,
- ``lr[k]``: ``optimizer.param_groups[0]["lr"]`` at that moment, i.e. the rate used by the
  update that leaves row ``k`` (for the last row: the rate the next update would use).

Floats are written by :mod:`json`, which uses ``repr`` and so round-trips float64 exactly.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch

OUT = Path(__file__).with_name("torch_golden.json")
OUT_OPTIM = Path(__file__).with_name("torch_golden_optim.json")

OBJECTIVES = {
    "rosenbrock": (lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, [-1.5, 2.0]),
    "ill_conditioned": (lambda p: p[0] ** 2 + 10 * p[1] ** 2, [-4.0, 1.5]),
    "x2siny": (lambda p: p[0] ** 2 * torch.sin(p[1]), [1.0, 1.0]),
    "fence_area": (lambda p: 100 * p[0] - p[0] ** 2, [57.0]),
}

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adadelta": torch.optim.Adadelta,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
    "asgd": torch.optim.ASGD,
    "rprop": torch.optim.Rprop,
    "adafactor": torch.optim.Adafactor,
    "lbfgs": torch.optim.LBFGS,
}
#: optimizers whose step takes no foreach flag, or needs a closure
NO_FOREACH = {"lbfgs"}
CLOSURE = {"lbfgs"}

# (name, objective, optimizer, torch kwargs, schedule or None, steps)
CASES = [
    ("sgd__rosenbrock", "rosenbrock", "sgd", {"lr": 1e-3}, None, 200),
    ("sgd_momentum__ill_conditioned", "ill_conditioned", "sgd",
     {"lr": 0.02, "momentum": 0.9}, None, 200),
    ("sgd_momentum_dampening__rosenbrock", "rosenbrock", "sgd",
     {"lr": 2e-4, "momentum": 0.9, "dampening": 0.5}, None, 200),
    ("sgd_momentum_nesterov__rosenbrock", "rosenbrock", "sgd",
     {"lr": 1e-4, "momentum": 0.9, "nesterov": True}, None, 200),
    ("sgd_weight_decay__x2siny", "x2siny", "sgd",
     {"lr": 0.05, "weight_decay": 0.1}, None, 200),
    ("sgd_maximize__fence_area", "fence_area", "sgd",
     {"lr": 0.1, "maximize": True}, None, 200),
    ("adagrad__ill_conditioned", "ill_conditioned", "adagrad", {"lr": 0.5}, None, 200),
    ("adagrad_lr_decay__x2siny", "x2siny", "adagrad",
     {"lr": 0.2, "lr_decay": 0.01}, None, 200),
    ("adagrad_init_acc_weight_decay__rosenbrock", "rosenbrock", "adagrad",
     {"lr": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.05}, None, 200),
    ("rmsprop__ill_conditioned", "ill_conditioned", "rmsprop", {"lr": 0.01}, None, 200),
    ("rmsprop_centered__rosenbrock", "rosenbrock", "rmsprop",
     {"lr": 0.005, "centered": True}, None, 200),
    ("rmsprop_momentum__x2siny", "x2siny", "rmsprop",
     {"lr": 0.005, "momentum": 0.9}, None, 200),
    ("rmsprop_centered_momentum_weight_decay__ill_conditioned", "ill_conditioned", "rmsprop",
     {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.01},
     None, 200),
    ("adam__rosenbrock", "rosenbrock", "adam", {"lr": 0.01}, None, 200),
    ("adam_amsgrad__ill_conditioned", "ill_conditioned", "adam",
     {"lr": 0.05, "amsgrad": True}, None, 200),
    ("adam_weight_decay__x2siny", "x2siny", "adam",
     {"lr": 0.01, "weight_decay": 0.1}, None, 200),
    ("adam_maximize__fence_area", "fence_area", "adam",
     {"lr": 0.5, "maximize": True}, None, 200),
    ("adamw__rosenbrock", "rosenbrock", "adamw", {"lr": 0.01}, None, 200),
    ("adamw_amsgrad_weight_decay__ill_conditioned", "ill_conditioned", "adamw",
     {"lr": 0.05, "amsgrad": True, "weight_decay": 0.05}, None, 200),
    ("sgd_steplr__ill_conditioned", "ill_conditioned", "sgd", {"lr": 0.02},
     {"name": "step", "step_size": 30, "gamma": 0.5}, 200),
    ("adam_exponentiallr__rosenbrock", "rosenbrock", "adam", {"lr": 0.02},
     {"name": "exponential", "gamma": 0.98}, 200),
    ("sgd_momentum_cosine__ill_conditioned", "ill_conditioned", "sgd",
     {"lr": 0.02, "momentum": 0.9},
     {"name": "cosine", "t_max": 100, "eta_min": 1e-4}, 300),
    ("adam_cosine__x2siny", "x2siny", "adam", {"lr": 0.02},
     {"name": "cosine", "t_max": 50, "eta_min": 0.0}, 200),
]

# The rest of torch.optim, in a file of its own: regenerating it leaves the cases above
# as they were (another torch build may round sin's last bit differently).
OPTIM_CASES = [
    # the valley makes these two chaotic later on: autograd's and our gradients' last bits
    # then grow to visible differences, so they stop while the paths still agree
    ("adadelta__rosenbrock", "rosenbrock", "adadelta", {"lr": 1.0}, None, 120),
    ("adadelta_rho_eps_weight_decay__ill_conditioned", "ill_conditioned", "adadelta",
     {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01}, None, 200),
    ("adamax__rosenbrock", "rosenbrock", "adamax", {"lr": 0.01}, None, 200),
    ("adamax_betas_weight_decay__x2siny", "x2siny", "adamax",
     {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.05}, None, 200),
    ("adamax_maximize__fence_area", "fence_area", "adamax",
     {"lr": 0.5, "maximize": True}, None, 200),
    ("nadam__rosenbrock", "rosenbrock", "nadam", {"lr": 0.01}, None, 200),
    ("nadam_decoupled_momentum_decay__ill_conditioned", "ill_conditioned", "nadam",
     {"lr": 0.05, "momentum_decay": 0.01, "weight_decay": 0.01,
      "decoupled_weight_decay": True}, None, 200),
    ("nadam_weight_decay__x2siny", "x2siny", "nadam",
     {"lr": 0.02, "weight_decay": 0.1}, None, 200),
    ("radam__rosenbrock", "rosenbrock", "radam", {"lr": 0.01}, None, 200),
    ("radam_decoupled_betas__ill_conditioned", "ill_conditioned", "radam",
     {"lr": 0.05, "betas": (0.9, 0.99), "weight_decay": 0.05,
      "decoupled_weight_decay": True}, None, 200),
    ("radam_weight_decay__x2siny", "x2siny", "radam",
     {"lr": 0.02, "weight_decay": 0.1}, None, 200),
    ("asgd__rosenbrock", "rosenbrock", "asgd", {"lr": 1e-3}, None, 200),
    ("asgd_t0_lambd__ill_conditioned", "ill_conditioned", "asgd",
     {"lr": 0.02, "t0": 50.0, "lambd": 1e-3}, None, 200),
    ("asgd_alpha_weight_decay__x2siny", "x2siny", "asgd",
     {"lr": 0.05, "t0": 10.0, "alpha": 0.5, "weight_decay": 0.01}, None, 200),
    ("rprop__rosenbrock", "rosenbrock", "rprop", {"lr": 0.01}, None, 200),
    ("rprop_etas_step_sizes__ill_conditioned", "ill_conditioned", "rprop",
     {"lr": 0.1, "etas": (0.4, 1.5), "step_sizes": (1e-4, 1.0)}, None, 200),
    ("rprop_maximize__fence_area", "fence_area", "rprop",
     {"lr": 0.5, "maximize": True}, None, 200),
    ("adafactor__rosenbrock", "rosenbrock", "adafactor", {"lr": 0.01}, None, 35),
    ("adafactor_eps_d_weight_decay__ill_conditioned", "ill_conditioned", "adafactor",
     {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-30, 1e-3), "d": 2.0,
      "weight_decay": 0.01}, None, 200),
    ("adafactor__x2siny", "x2siny", "adafactor", {"lr": 0.02}, None, 200),
    ("adafactor_maximize__fence_area", "fence_area", "adafactor",
     {"lr": 0.5, "maximize": True}, None, 200),
    ("lbfgs_history__ill_conditioned", "ill_conditioned", "lbfgs",
     {"lr": 0.1, "max_iter": 5, "history_size": 5}, None, 40),
    ("lbfgs_strong_wolfe__rosenbrock", "rosenbrock", "lbfgs",
     {"lr": 1.0, "max_iter": 4, "line_search_fn": "strong_wolfe"}, None, 40),
    ("lbfgs_strong_wolfe__x2siny", "x2siny", "lbfgs",
     {"lr": 1.0, "max_iter": 3, "max_eval": 5, "history_size": 3,
      "line_search_fn": "strong_wolfe"}, None, 20),
]


def make_scheduler(optimizer, schedule):
    """Build the torch scheduler matching our schedule description."""
    if schedule is None:
        return None
    name = schedule["name"]
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=schedule["step_size"], gamma=schedule["gamma"]
        )
    if name == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=schedule["gamma"])
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=schedule["t_max"], eta_min=schedule["eta_min"]
        )
    raise ValueError(f"unknown schedule {name!r}")


def run_case(name, objective, optimizer, kwargs, schedule, steps):
    """Run one case and return its JSON record."""
    f, start = OBJECTIVES[objective]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    extra = {} if optimizer in NO_FOREACH else {"foreach": False}
    opt = OPTIMIZERS[optimizer]([p], **extra, **kwargs)
    sched = make_scheduler(opt, schedule)
    params, losses, grads, lrs, evals = [], [], [], [], []

    def closure():
        opt.zero_grad()
        value = f(p)
        value.backward()
        return value

    for k in range(steps + 1):
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        params.append([float(v) for v in p.detach()])
        losses.append(float(loss.detach()))
        grads.append([float(v) for v in p.grad])
        lrs.append(float(opt.param_groups[0]["lr"]))
        if k < steps:
            if optimizer in CLOSURE:
                before = opt.state[p].get("func_evals", 0)
                opt.step(closure)
                evals.append(opt.state[p]["func_evals"] - before)
            else:
                opt.step()
            if sched is not None:
                sched.step()
    values = [v for row in params + grads for v in row] + losses + lrs
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"{name}: trajectory is not finite")
    if params[-1] == params[0]:
        raise RuntimeError(f"{name}: trajectory did not move")
    record_kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    out = {
        "name": name,
        "objective": objective,
        "start": list(start),
        "optimizer": optimizer,
        "kwargs": record_kwargs,
        "schedule": schedule,
        "steps": steps,
        "params": params,
        "loss": losses,
        "grad": grads,
        "lr": lrs,
    }
    if evals:  # objective evaluations per step (LBFGS)
        out["evaluations"] = evals
    return out


def write(path, cases):
    """Run ``cases`` and write them to ``path`` with the versions used."""
    records = [run_case(*case) for case in cases]
    header = {"torch_version": torch.__version__, "generated_by": "generate_golden.py"}
    # One case per line keeps the file diffable without one float per line.
    lines = [json.dumps(header)[:-1] + ', "cases": [']
    lines.append(",\n".join(json.dumps(case) for case in records))
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for case in records:
        print(f"{case['name']:58s} loss {case['loss'][0]:12.6g} -> {case['loss'][-1]:12.6g}  "
              f"p_end {case['params'][-1]}")


def main(argv=None):
    """``generate_golden.py [classic|optim]``: regenerate one file (default: both)."""
    torch.set_default_dtype(torch.float64)
    which = (argv if argv is not None else sys.argv[1:]) or ["classic", "optim"]
    if "classic" in which:
        write(OUT, CASES)
    if "optim" in which:
        write(OUT_OPTIM, OPTIM_CASES)


if __name__ == "__main__":
    main()
