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
from pathlib import Path

import torch

OUT = Path(__file__).with_name("torch_golden.json")

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
}

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
    opt = OPTIMIZERS[optimizer]([p], foreach=False, **kwargs)
    sched = make_scheduler(opt, schedule)
    params, losses, grads, lrs = [], [], [], []
    for k in range(steps + 1):
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        params.append([float(v) for v in p.detach()])
        losses.append(float(loss.detach()))
        grads.append([float(v) for v in p.grad])
        lrs.append(float(opt.param_groups[0]["lr"]))
        if k < steps:
            opt.step()
            if sched is not None:
                sched.step()
    values = [v for row in params + grads for v in row] + losses + lrs
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"{name}: trajectory is not finite")
    if params[-1] == params[0]:
        raise RuntimeError(f"{name}: trajectory did not move")
    record_kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    return {
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


def main():
    torch.set_default_dtype(torch.float64)
    cases = [run_case(*case) for case in CASES]
    header = {"torch_version": torch.__version__, "generated_by": "generate_golden.py"}
    # One case per line keeps the file diffable without one float per line.
    lines = [json.dumps(header)[:-1] + ', "cases": [']
    lines.append(",\n".join(json.dumps(case) for case in cases))
    lines.append("]}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for case in cases:
        print(f"{case['name']:58s} loss {case['loss'][0]:12.6g} -> {case['loss'][-1]:12.6g}  "
              f"p_end {case['params'][-1]}")


if __name__ == "__main__":
    main()
