"""Golden schedules: every schedule against real PyTorch (torch.optim.lr_scheduler).

``golden/torch_schedules.json`` was produced once by ``golden/generate_schedules.py`` with
torch in float64 (torch is not a dependency).  Rates are compared bit for bit where our
arithmetic is torch's (every case here: the schedules implement torch's recursions), and
trajectories (cycled momentum, warm-up, ReduceLROnPlateau fed the loss) through the whole
engine within the golden trajectories' tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gd_explorer.core.engine.descent import Descent, run_descent
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.optim.schedules import SCHEDULES, make_schedule
from tests.core.test_golden import ENGINE_RTOL, assert_rows_close, make_objective

GOLDEN_PATH = Path(__file__).parent / "golden" / "torch_schedules.json"
GOLDEN = json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))
CASES = GOLDEN["cases"]
RATES = [c for c in CASES if c["kind"] == "rates"]
TRAJECTORIES = [c for c in CASES if c["kind"] == "trajectory"]


def build(case, lr):
    s = dict(case["schedule"])
    name = s.pop("name")
    if "milestones" in s:
        s["milestones"] = tuple(s["milestones"])
    return make_schedule(name, lr, **s)


def test_golden_file_records_torch_and_covers_every_schedule():
    assert GOLDEN["generated_by"] == "generate_schedules.py"
    assert GOLDEN["torch_version"].startswith("2.")
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    covered = {c["schedule"]["name"] for c in CASES}
    assert covered == set(SCHEDULES)
    assert any(c["schedule"].get("warmup") for c in TRAJECTORIES)
    for name in ("cyclic", "onecycle"):
        opts = {c["optimizer"] for c in TRAJECTORIES if c["schedule"]["name"] == name}
        assert opts == {"sgd", "adam"}, name


@pytest.mark.parametrize("case", RATES, ids=[c["name"] for c in RATES])
def test_rates_match_torch_bit_for_bit(case):
    s = build(case, case["lr0"])
    got = [s.lr(t) for t in range(case["steps"] + 1)]
    assert got == case["lr"]
    assert [s.momentum(t) for t in range(case["steps"] + 1)] == case["momentum"]
    # asking again, or backwards, gives the same numbers (the recursion starts over)
    assert [s.lr(t) for t in reversed(range(case["steps"] + 1))] == case["lr"][::-1]


@pytest.mark.parametrize("case", TRAJECTORIES, ids=[c["name"] for c in TRAJECTORIES])
def test_engine_with_schedule_matches_torch(case):
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}
    optimizer = make_optimizer(case["optimizer"], **kwargs)
    schedule = build(case, kwargs["lr"])
    traj = run_descent(make_objective(case["objective"]), optimizer,
                       np.asarray(case["start"], dtype=np.float64), steps=case["steps"],
                       schedule=schedule)
    assert traj.status == "max_steps", traj.message
    name = case["name"]
    # bit for bit, the plateau's too: its rates follow the engine's own losses, which
    # could decide a comparison differently from torch's only within rounding (never here)
    assert traj.lr.tolist() == case["lr"], f"{name} lr"
    assert_rows_close(traj.loss, case["loss"], ENGINE_RTOL, f"{name} loss")
    assert_rows_close(traj.params, case["params"], ENGINE_RTOL, f"{name} params")
    if case["momentum"][0] is not None:
        assert [schedule.momentum(t) for t in range(case["steps"] + 1)] == case["momentum"]


@pytest.mark.parametrize("case", TRAJECTORIES, ids=[c["name"] for c in TRAJECTORIES])
def test_array_path_equals_scalar_path(case):
    """The (k, d) array path and the scalar fast path apply schedule and momentum alike."""
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}
    start = np.asarray(case["start"], dtype=np.float64)
    out = []
    for k in (1, 2):
        d = Descent(make_objective(case["objective"]), make_optimizer(case["optimizer"], **kwargs),
                    start if k == 1 else np.stack([start, start]),
                    schedule=build(case, kwargs["lr"]), max_steps=case["steps"]) \
            if not (k == 2 and case["schedule"]["name"] == "plateau") else None
        if d is None:
            continue
        assert (d._scalar is not None) == (k == 1)
        d.run()
        out.append(d.views(0)[0].copy())
    if len(out) == 2:
        assert np.array_equal(out[0], out[1])
