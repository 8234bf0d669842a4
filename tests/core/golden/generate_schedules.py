"""Generate golden learning-rate schedules with real PyTorch (provenance for
test_golden_schedules.py).

Needs ``torch`` and is *not* part of the test suite (torch is never a dependency of
gd-explorer).  Its output, ``tests/core/golden/torch_schedules.json``, is committed next
to it.  To regenerate::

    ../torch-venv/bin/python tests/core/golden/generate_schedules.py

Everything runs in float64.  Two sorts of case:

- ``rates``: a scheduler on a throw-away SGD (or Adam, for beta1) optimizer, stepped
  ``steps`` times; ``lr[k]`` is ``param_groups[0]["lr"]`` after ``k`` steps and
  ``momentum[k]`` the group's ``momentum`` (or ``betas[0]``) at that moment (``null``
  when the scheduler does not cycle it);
- ``trajectory``: a real descent (as generate_golden.py records them) with the scheduler
  stepped after every update; ReduceLROnPlateau is fed the loss at the new point (the
  full-data loss the engine records for that row).

Our schedule description is ``{"name": ..., <our keyword names>, "warmup": N}``; a warm-up
is torch's ``SequentialLR([LinearLR(start_factor=1/3, total_iters=N), main],
milestones=[N])``.  Floats are written by :mod:`json` (``repr``: exact round trip).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch.optim import lr_scheduler as S

OUT = Path(__file__).with_name("torch_schedules.json")

OBJECTIVES = {
    "rosenbrock": (lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, [-1.5, 2.0]),
    "ill_conditioned": (lambda p: p[0] ** 2 + 10 * p[1] ** 2, [-4.0, 1.5]),
    "x2siny": (lambda p: p[0] ** 2 * torch.sin(p[1]), [1.0, 1.0]),
}

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}


def make_scheduler(opt, schedule):
    """The torch scheduler for our description (our names -> torch's keywords)."""
    s = dict(schedule)
    name = s.pop("name")
    warmup = s.pop("warmup", 0)
    if name == "constant":
        main = S.LambdaLR(opt, lambda t: 1.0) if warmup else None
    elif name == "step":
        main = S.StepLR(opt, step_size=s["step_size"], gamma=s["gamma"])
    elif name == "multistep":
        main = S.MultiStepLR(opt, milestones=s["milestones"], gamma=s["gamma"])
    elif name == "constantlr":
        main = S.ConstantLR(opt, factor=s["factor"], total_iters=s["total_iters"])
    elif name == "linear":
        main = S.LinearLR(opt, start_factor=s["start_factor"], end_factor=s["end_factor"],
                          total_iters=s["total_iters"])
    elif name == "exponential":
        main = S.ExponentialLR(opt, gamma=s["gamma"])
    elif name == "polynomial":
        main = S.PolynomialLR(opt, total_iters=s["total_iters"], power=s["power"])
    elif name == "cosine":
        main = S.CosineAnnealingLR(opt, T_max=s["t_max"], eta_min=s["eta_min"])
    elif name == "warm_restarts":
        main = S.CosineAnnealingWarmRestarts(opt, T_0=s["t_0"], T_mult=s["t_mult"],
                                             eta_min=s["eta_min"])
    elif name == "cyclic":
        base = opt.param_groups[0]["lr"]
        main = S.CyclicLR(opt, base_lr=base, max_lr=s["max_lr"], step_size_up=s["step_size_up"],
                          step_size_down=s["step_size_down"] or None, mode=s["mode"],
                          gamma=s["gamma"], cycle_momentum=s["cycle_momentum"],
                          base_momentum=s["base_momentum"], max_momentum=s["max_momentum"])
    elif name == "onecycle":
        peak = opt.param_groups[0]["lr"]
        main = S.OneCycleLR(opt, max_lr=peak, total_steps=s["total_steps"],
                            pct_start=s["pct_start"], anneal_strategy=s["anneal_strategy"],
                            cycle_momentum=s["cycle_momentum"], base_momentum=s["base_momentum"],
                            max_momentum=s["max_momentum"], div_factor=s["div_factor"],
                            final_div_factor=s["final_div_factor"], three_phase=s["three_phase"])
    elif name == "plateau":
        main = S.ReduceLROnPlateau(opt, **s)
    else:
        raise ValueError(f"unknown schedule {name!r}")
    if warmup:
        ramp = S.LinearLR(opt, start_factor=1.0 / 3, total_iters=warmup)
        return S.SequentialLR(opt, [ramp, main], milestones=[warmup])
    return main


def momentum_of(opt):
    g = opt.param_groups[0]
    return float(g["betas"][0]) if "betas" in g else float(g.get("momentum", 0.0))


def cycles(schedule):
    return schedule["name"] in ("cyclic", "onecycle") and schedule.get("cycle_momentum", True)


# ---------------------------------------------------------------- rate-only cases
# (name, schedule, optimizer, lr, steps)
RATES = [
    ("constant", {"name": "constant"}, "sgd", 0.1, 20),
    ("step", {"name": "step", "step_size": 7, "gamma": 0.3}, "sgd", 0.1, 60),
    ("multistep", {"name": "multistep", "milestones": [3, 10, 11, 40], "gamma": 0.7},
     "sgd", 0.05, 60),
    ("constantlr", {"name": "constantlr", "factor": 1.0 / 3, "total_iters": 5}, "sgd", 0.1, 20),
    ("constantlr_07", {"name": "constantlr", "factor": 0.7, "total_iters": 13}, "sgd", 0.3, 30),
    ("linear", {"name": "linear", "start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5},
     "sgd", 0.1, 20),
    ("linear_down", {"name": "linear", "start_factor": 0.9, "end_factor": 0.05,
                     "total_iters": 37}, "sgd", 0.2, 60),
    ("exponential", {"name": "exponential", "gamma": 0.97}, "sgd", 0.1, 200),
    ("polynomial", {"name": "polynomial", "total_iters": 5, "power": 1.0}, "sgd", 0.1, 20),
    ("polynomial_sq", {"name": "polynomial", "total_iters": 40, "power": 2.0}, "sgd", 0.1, 60),
    ("cosine", {"name": "cosine", "t_max": 30, "eta_min": 0.001}, "sgd", 0.1, 200),
    ("warm_restarts", {"name": "warm_restarts", "t_0": 10, "t_mult": 1, "eta_min": 0.0},
     "sgd", 0.1, 60),
    ("warm_restarts_mult", {"name": "warm_restarts", "t_0": 5, "t_mult": 2, "eta_min": 0.002},
     "sgd", 0.1, 200),
    ("cyclic_triangular_sgd",
     {"name": "cyclic", "max_lr": 0.5, "step_size_up": 7, "step_size_down": 0,
      "mode": "triangular", "gamma": 1.0, "cycle_momentum": True, "base_momentum": 0.8,
      "max_momentum": 0.9}, "sgd", 0.05, 60),
    ("cyclic_triangular2_adam",
     {"name": "cyclic", "max_lr": 0.3, "step_size_up": 5, "step_size_down": 9,
      "mode": "triangular2", "gamma": 1.0, "cycle_momentum": True, "base_momentum": 0.7,
      "max_momentum": 0.95}, "adam", 0.01, 80),
    ("cyclic_exp_range",
     {"name": "cyclic", "max_lr": 0.2, "step_size_up": 6, "step_size_down": 0,
      "mode": "exp_range", "gamma": 0.97, "cycle_momentum": False, "base_momentum": 0.8,
      "max_momentum": 0.9}, "sgd", 0.01, 80),
    ("onecycle_cos_sgd",
     {"name": "onecycle", "total_steps": 50, "pct_start": 0.3, "anneal_strategy": "cos",
      "cycle_momentum": True, "base_momentum": 0.85, "max_momentum": 0.95, "div_factor": 25.0,
      "final_div_factor": 1e4, "three_phase": False}, "sgd", 0.4, 50),
    ("onecycle_linear_three_adam",
     {"name": "onecycle", "total_steps": 60, "pct_start": 0.25, "anneal_strategy": "linear",
      "cycle_momentum": True, "base_momentum": 0.8, "max_momentum": 0.9, "div_factor": 10.0,
      "final_div_factor": 100.0, "three_phase": True}, "adam", 0.1, 60),
    ("warmup_cosine", {"name": "cosine", "t_max": 40, "eta_min": 0.0005, "warmup": 8},
     "sgd", 0.1, 120),
    ("warmup_step", {"name": "step", "step_size": 10, "gamma": 0.5, "warmup": 5},
     "sgd", 0.1, 60),
    ("warmup_exponential", {"name": "exponential", "gamma": 0.95, "warmup": 3}, "sgd", 0.1, 40),
    ("warmup_warm_restarts", {"name": "warm_restarts", "t_0": 6, "t_mult": 2, "eta_min": 0.0,
                              "warmup": 4}, "sgd", 0.1, 60),
    ("warmup_linear", {"name": "linear", "start_factor": 0.5, "end_factor": 0.1,
                       "total_iters": 10, "warmup": 6}, "sgd", 0.1, 40),
]


def rate_case(name, schedule, optimizer, lr, steps):
    p = torch.zeros(1, requires_grad=True)
    kw = {"momentum": 0.9} if optimizer == "sgd" else {}
    opt = OPTIMIZERS[optimizer]([p], lr=lr, **kw)
    sched = make_scheduler(opt, schedule)
    lrs, moms = [], []
    for k in range(steps + 1):
        lrs.append(float(opt.param_groups[0]["lr"]))
        moms.append(momentum_of(opt) if cycles(schedule) else None)
        if k < steps:
            opt.step()
            if sched is not None:
                sched.step()
    return {"name": name, "kind": "rates", "schedule": schedule, "optimizer": optimizer,
            "lr0": lr, "steps": steps, "lr": lrs, "momentum": moms}


# ---------------------------------------------------------------- trajectory cases
# (name, objective, optimizer, torch kwargs, schedule, steps)
TRAJECTORIES = [
    ("cyclic_sgd_momentum__ill_conditioned", "ill_conditioned", "sgd",
     {"lr": 0.005, "momentum": 0.9},
     {"name": "cyclic", "max_lr": 0.04, "step_size_up": 20, "step_size_down": 0,
      "mode": "triangular", "gamma": 1.0, "cycle_momentum": True, "base_momentum": 0.8,
      "max_momentum": 0.9}, 150),
    ("cyclic_adam__rosenbrock", "rosenbrock", "adam", {"lr": 0.002},
     {"name": "cyclic", "max_lr": 0.03, "step_size_up": 25, "step_size_down": 15,
      "mode": "triangular2", "gamma": 1.0, "cycle_momentum": True, "base_momentum": 0.8,
      "max_momentum": 0.95}, 200),
    ("onecycle_sgd_momentum__ill_conditioned", "ill_conditioned", "sgd",
     {"lr": 0.08, "momentum": 0.9},
     {"name": "onecycle", "total_steps": 120, "pct_start": 0.3, "anneal_strategy": "cos",
      "cycle_momentum": True, "base_momentum": 0.85, "max_momentum": 0.95, "div_factor": 25.0,
      "final_div_factor": 1e4, "three_phase": False}, 120),
    ("onecycle_adam__rosenbrock", "rosenbrock", "adam", {"lr": 0.05},
     {"name": "onecycle", "total_steps": 200, "pct_start": 0.3, "anneal_strategy": "cos",
      "cycle_momentum": True, "base_momentum": 0.85, "max_momentum": 0.95, "div_factor": 25.0,
      "final_div_factor": 1e4, "three_phase": True}, 200),
    ("warmup_cosine_sgd__ill_conditioned", "ill_conditioned", "sgd",
     {"lr": 0.05, "momentum": 0.5},
     {"name": "cosine", "t_max": 100, "eta_min": 1e-4, "warmup": 10}, 150),
    ("plateau_sgd__rosenbrock", "rosenbrock", "sgd", {"lr": 1e-3, "momentum": 0.9},
     {"name": "plateau", "mode": "min", "factor": 0.5, "patience": 3, "threshold": 0.02,
      "threshold_mode": "rel", "cooldown": 2, "min_lr": 1e-5, "eps": 1e-8}, 300),
    ("plateau_abs_adam__x2siny", "x2siny", "adam", {"lr": 0.05},
     {"name": "plateau", "mode": "min", "factor": 0.3, "patience": 2, "threshold": 1e-4,
      "threshold_mode": "abs", "cooldown": 0, "min_lr": 0.0, "eps": 1e-8}, 200),
]


def trajectory_case(name, objective, optimizer, kwargs, schedule, steps):
    f, start = OBJECTIVES[objective]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = OPTIMIZERS[optimizer]([p], foreach=False, **kwargs)
    sched = make_scheduler(opt, schedule)
    plateau = schedule["name"] == "plateau"
    params, losses, grads, lrs, moms = [], [], [], [], []
    for k in range(steps + 1):
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        if k > 0 and plateau:
            sched.step(float(loss.detach()))  # the loss at the new point, after update k
        params.append([float(v) for v in p.detach()])
        losses.append(float(loss.detach()))
        grads.append([float(v) for v in p.grad])
        lrs.append(float(opt.param_groups[0]["lr"]))
        moms.append(momentum_of(opt) if cycles(schedule) else None)
        if k < steps:
            opt.step()
            if not plateau:
                sched.step()
    values = [v for row in params + grads for v in row] + losses + lrs
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"{name}: trajectory is not finite")
    if plateau and len(set(lrs)) < 3:
        raise RuntimeError(f"{name}: the plateau rule never acted twice")
    return {"name": name, "kind": "trajectory", "objective": objective, "start": list(start),
            "optimizer": optimizer, "kwargs": kwargs, "schedule": schedule, "steps": steps,
            "params": params, "loss": losses, "grad": grads, "lr": lrs, "momentum": moms}


def main():
    torch.set_default_dtype(torch.float64)
    cases = [rate_case(*c) for c in RATES] + [trajectory_case(*c) for c in TRAJECTORIES]
    header = {"torch_version": torch.__version__, "generated_by": "generate_schedules.py"}
    lines = [json.dumps(header)[:-1] + ', "cases": [']
    lines.append(",\n".join(json.dumps(case) for case in cases))
    lines.append("]}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for case in cases:
        print(f"{case['name']:42s} lr {case['lr'][0]:.4g} .. {min(case['lr']):.4g} .. "
              f"{max(case['lr']):.4g} -> {case['lr'][-1]:.4g}")


if __name__ == "__main__":
    main()
