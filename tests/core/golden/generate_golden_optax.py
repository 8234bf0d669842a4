"""Golden trajectories for Lion, which torch.optim lacks, from optax (provenance for
test_golden.py).

Needs ``jax`` and ``optax`` (never dependencies of gd-explorer); run once, like
``generate_golden.py``, and its output ``optax_golden.json`` is committed::

    ../torch-venv/bin/pip install jax optax
    ../torch-venv/bin/python tests/core/golden/generate_golden_optax.py

Runs in float64 (``jax_enable_x64``).  The record format is ``generate_golden.py``'s;
the case's ``kwargs`` are our (torch-style) keywords: ``betas`` is optax's ``(b1, b2)``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402 - after enabling float64
import optax  # noqa: E402

OUT = Path(__file__).with_name("optax_golden.json")

OBJECTIVES = {
    "rosenbrock": (lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, [-1.5, 2.0]),
    "ill_conditioned": (lambda p: p[0] ** 2 + 10 * p[1] ** 2, [-4.0, 1.5]),
    "x2siny": (lambda p: p[0] ** 2 * jnp.sin(p[1]), [1.0, 1.0]),
    "fence_area": (lambda p: 100 * p[0] - p[0] ** 2, [57.0]),
}

# (name, objective, optimizer, our kwargs, steps)
CASES = [
    ("lion__rosenbrock", "rosenbrock", "lion", {"lr": 1e-3}, 200),
    ("lion_betas_weight_decay__ill_conditioned", "ill_conditioned", "lion",
     {"lr": 0.01, "betas": (0.95, 0.98), "weight_decay": 0.01}, 200),
    ("lion__x2siny", "x2siny", "lion", {"lr": 3e-3}, 200),
    ("lion_maximize__fence_area", "fence_area", "lion", {"lr": 0.1, "maximize": True}, 200),
]


def make(kwargs):
    b1, b2 = kwargs.get("betas", (0.9, 0.99))
    return optax.lion(kwargs["lr"], b1=b1, b2=b2, weight_decay=kwargs.get("weight_decay", 0.0))


def run_case(name, objective, optimizer, kwargs, steps):
    f, start = OBJECTIVES[objective]
    sign = -1.0 if kwargs.get("maximize") else 1.0
    value_and_grad = jax.value_and_grad(f)
    tx = make(kwargs)
    p = jnp.asarray(start, dtype=jnp.float64)
    state = tx.init(p)
    params, losses, grads, lrs = [], [], [], []
    for k in range(steps + 1):
        value, g = value_and_grad(p)
        params.append([float(v) for v in p])
        losses.append(float(value))
        grads.append([float(v) for v in g])
        lrs.append(float(kwargs["lr"]))
        if k < steps:
            updates, state = tx.update(sign * g, state, p)
            p = optax.apply_updates(p, updates)
    values = [v for row in params + grads for v in row] + losses + lrs
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"{name}: trajectory is not finite")
    return {
        "name": name, "objective": objective, "start": list(start), "optimizer": optimizer,
        "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
        "schedule": None, "steps": steps, "params": params, "loss": losses, "grad": grads,
        "lr": lrs,
    }


def main():
    records = [run_case(*case) for case in CASES]
    header = {"optax_version": optax.__version__, "jax_version": jax.__version__,
              "generated_by": "generate_golden_optax.py"}
    lines = [json.dumps(header)[:-1] + ', "cases": [']
    lines.append(",\n".join(json.dumps(case) for case in records))
    lines.append("]}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for case in records:
        print(f"{case['name']:48s} loss {case['loss'][0]:12.6g} -> {case['loss'][-1]:12.6g}")


if __name__ == "__main__":
    main()
