"""Golden trajectories: our optimizers, schedules and engine against real PyTorch.

The reference data in ``golden/torch_golden.json`` (SGD, Adagrad, RMSprop, Adam, AdamW and
schedules) and ``golden/torch_golden_optim.json`` (the rest of torch.optim) was produced
once by ``golden/generate_golden.py`` with torch in float64, Lion's in
``golden/optax_golden.json`` by ``golden/generate_golden_optax.py`` with optax (neither is
a dependency). Each case is checked three times:

- optimizer only: our update rule is fed torch's own gradients and learning rates, so any
  difference comes from the update arithmetic alone (tolerance 1e-12);
- full engine: ``run_descent`` computes its own gradients (sympy-generated code, whose
  last-bit rounding may differ from autograd's) and its own schedule (torch's recursions:
  the rates agree bit for bit, see test_golden_schedules.py), so the tolerance is 1e-10;
- the engine's array path (two identical rows at once), which must agree with the golden
  data as the single-run scalar fast path does.

LBFGS needs the objective inside its step (a closure), so its optimizer-only check
evaluates our objective, and its cases also record the evaluations per step.

Absolute tolerances are the relative tolerance times the largest magnitude in the golden
array, so values that converge towards zero are compared at the trajectory's own scale.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gd_explorer.core.engine.descent import run_descent
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.optim.schedules import make_schedule
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.objectives import expression_objective

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN_PATH = GOLDEN_DIR / "torch_golden.json"
GOLDEN = json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))
GOLDEN_FILES = {name: json.loads((GOLDEN_DIR / name).read_text(encoding="utf-8"))
                for name in ("torch_golden.json", "torch_golden_optim.json", "optax_golden.json")}
CASES = [case for data in GOLDEN_FILES.values() for case in data["cases"]]

OPTIMIZER_RTOL = 1e-12
ENGINE_RTOL = 1e-10


def make_objective(name):
    """Map a golden objective name to our objective."""
    if name == "x2siny":
        return expression_objective("x**2*sin(y)")
    return get_function({
        "rosenbrock": "rosenbrock",
        "ill_conditioned": "ill-conditioned",
        "fence_area": "fence-area",
    }[name])


def make_case_optimizer(case):
    """Build our optimizer from the case's torch keyword arguments."""
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}
    if kwargs.get("line_search_fn", "") is None:
        kwargs["line_search_fn"] = "none"
    # The optimizer's flag alone decides the direction, whatever the objective prefers.
    kwargs.setdefault("maximize", False)
    return make_optimizer(case["optimizer"], **kwargs)


def make_case_schedule(case):
    """Build our schedule from the case description, or None for a constant rate."""
    if case["schedule"] is None:
        return None
    schedule = dict(case["schedule"])
    name = schedule.pop("name")
    return make_schedule(name, base_lr=case["kwargs"]["lr"], **schedule)


def assert_rows_close(actual, expected, rtol, what):
    """Compare arrays with an absolute tolerance scaled to the golden values' magnitude.

    On failure, name the first row that differs: that is where the trajectories part.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    atol = rtol * float(np.max(np.abs(expected)))
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    first = int(np.argmax(bad.reshape(len(bad), -1).any(axis=1))) if bad.any() else None
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=atol, err_msg=f"{what}: first differing row {first}"
    )


def test_golden_file_is_complete():
    assert GOLDEN["generated_by"] == "generate_golden.py"
    for name, data in GOLDEN_FILES.items():
        assert data["generated_by"].startswith("generate_golden"), name
        assert (GOLDEN_DIR / name).stat().st_size < 2_000_000
        assert data.get("torch_version") or data.get("optax_version"), name
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        rows = case["steps"] + 1
        for key in ("params", "loss", "grad", "lr"):
            assert len(case[key]) == rows, (case["name"], key)
        assert case["params"][0] == case["start"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_optimizer_matches_torch_given_torch_gradients(case):
    optimizer = make_case_optimizer(case)
    grads = np.asarray(case["grad"], dtype=np.float64)
    p = np.asarray(case["start"], dtype=np.float64)[None, :]
    state = optimizer.init_state(p)
    closure = None
    if optimizer.evaluations != 1:  # LBFGS evaluates the objective inside its step
        objective = make_objective(case["objective"])
        closure = objective.value_and_grad
    rows, evaluations = [], []
    for k in range(case["steps"]):
        g = grads[k][None, :]
        p = optimizer.step(p, g, state, case["lr"][k], closure=closure)
        rows.append(np.array(p[0], dtype=np.float64))
        if closure is not None:
            evaluations.append(int(state.evaluations[0, 0]))
    if "evaluations" in case:  # LBFGS: as many objective evaluations per step as torch
        assert evaluations == case["evaluations"]
    rtol = OPTIMIZER_RTOL if closure is None else ENGINE_RTOL
    assert_rows_close(rows, case["params"][1:], rtol, f"{case['name']} params")


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_engine_matches_torch(case):
    traj = run_descent(
        make_objective(case["objective"]),
        make_case_optimizer(case),
        np.asarray(case["start"], dtype=np.float64),
        steps=case["steps"],
        schedule=make_case_schedule(case),
        grad_tol=0.0,
    )
    assert traj.status == "max_steps"
    name = case["name"]
    assert_rows_close(traj.lr, case["lr"], ENGINE_RTOL, f"{name} lr")
    assert_rows_close(traj.grad, case["grad"], ENGINE_RTOL, f"{name} grad")
    assert_rows_close(traj.loss, case["loss"], ENGINE_RTOL, f"{name} loss")
    assert_rows_close(traj.params, case["params"], ENGINE_RTOL, f"{name} params")


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_engine_array_path_matches_torch(case):
    # two identical rows: the batched array path, not the single-run scalar fast path
    start = np.asarray(case["start"], dtype=np.float64)
    runs = run_descent(
        make_objective(case["objective"]),
        make_case_optimizer(case),
        np.stack([start, start]),
        steps=case["steps"],
        schedule=make_case_schedule(case),
        grad_tol=0.0,
    )
    for j in range(2):
        traj = runs[j]
        assert traj.status == "max_steps"
        assert_rows_close(traj.params, case["params"], ENGINE_RTOL, f"{case['name']} row {j}")
