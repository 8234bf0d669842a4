"""The schedule registry, table-tested: every entry carries what every layer reads."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from gd_explorer.cli import _SCHEDULE_FLAGS, build_parser, main
from gd_explorer.core.engine.descent import Descent, run_descent
from gd_explorer.core.optim.hyper import HyperParameter
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.optim.schedules import SCHEDULES, Schedule, make_schedule
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.session.specs import (
    ProblemSpec,
    RunSpec,
    Session,
    SessionError,
    session_from_dict,
    session_to_dict,
)

GOLDEN = json.loads((Path(__file__).parent / "golden" / "torch_schedules.json")
                    .read_text(encoding="utf-8"))
NAMES = list(SCHEDULES)


def _other_value(p: HyperParameter):
    """A valid value that differs from the default (to see it travel through a layer)."""
    if p.kind == "bool":
        return not p.default
    if p.kind == "choice":
        return next(c for c in p.choices if c != p.default)
    if p.kind == "ints":
        return (3, 8, 20)
    if p.kind == "int":
        return p.default + 2
    v = p.default * 0.5 if p.default else 0.25
    return v


def _others(cls) -> dict:
    values = {p.name: _other_value(p) for p in cls.params}
    if cls.name == "onecycle":
        values["total_steps"] = 50
    if cls.name == "cyclic":
        values["cycle_momentum"] = True  # run with sgd momentum below
    return values


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_is_complete(name, capsys):
    cls = SCHEDULES[name]
    assert issubclass(cls, Schedule) and cls.name == name
    assert cls.title and cls.torch_name and len(cls.rule_text) > 10
    assert cls.rule_text in cls.__doc__ and cls.torch_name in cls.__doc__
    assert all(isinstance(p, HyperParameter) for p in cls.params)
    # torch's numbers: golden data for every schedule
    assert any(c["schedule"]["name"] == name for c in GOLDEN["cases"])
    # CLI: a flag per parameter, listed by `gd-explorer list` with the rule
    flags = {a.dest for a in build_parser()._subparsers._group_actions[0].choices["run"]._actions}
    for p in cls.params:
        assert _SCHEDULE_FLAGS[p.name] in flags
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert f"  {name} " in out and cls.rule_text in out
    for p in cls.params:
        assert p.describe() in out


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_travels_through_cli_session_and_pickle(name, capsys, tmp_path):
    cls = SCHEDULES[name]
    values = _others(cls)
    # CLI: non-default values typed as flags reach the schedule
    argv = ["run", "--function", "rosenbrock", "--optimizer", "sgd", "--momentum", "0.5",
            "--lr", "1e-4", "--steps", "30", "--schedule", name]
    for p in cls.params:
        argv += ["--" + _SCHEDULE_FLAGS[p.name].replace("_", "-"), p.format(values[p.name])]
    assert main(argv) == 0, capsys.readouterr().err
    assert f"schedule {name}" in capsys.readouterr().out
    # session: written and read back exactly, validated by the declaration
    spec = RunSpec(optimizer="sgd", lr=1e-4, hyper={"momentum": 0.5}, schedule=name,
                   schedule_params=values)
    session = Session(problem=ProblemSpec(kind="function", function="rosenbrock"),
                      runs=(spec,), start=(-1.5, 2.0), max_steps=30)
    d = json.loads(json.dumps(session_to_dict(session)))
    assert session_from_dict(d) == session
    sched = make_schedule(name, 1e-4, **values)
    assert sched.settings() == {p.name: p.check(values[p.name]) for p in cls.params}
    # the state survives a copy to another process
    sched.rate(0, 1.0)
    for t in range(1, 8):
        sched.rate(t, 1.0 / t)
    twin = pickle.loads(pickle.dumps(sched))
    assert [twin.rate(t, 0.5) for t in range(8, 20)] == [sched.rate(t, 0.5) for t in range(8, 20)]


def test_cli_refuses_a_flag_of_another_schedule_in_one_line(capsys):
    code = main(["run", "--function", "bowl", "--schedule", "step", "--max-lr", "0.1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == ("gd-explorer: error: schedule 'step' takes no --max-lr; it takes: "
                           "--step-size, --gamma")
    code = main(["run", "--function", "bowl", "--schedule", "multistep", "--milestones", "9,3"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "increasing order" in err
    code = main(["run", "--function", "bowl", "--optimizer", "adagrad", "--schedule", "cyclic"])
    err = capsys.readouterr().err
    assert code == 2 and "adagrad has neither" in err
    code = main(["run", "--function", "bowl", "--schedule", "plateau", "--warmup", "5"])
    assert code == 2 and "cannot follow a warm-up" in capsys.readouterr().err
    code = main(["run", "--function", "bowl", "--schedule", "plateau", "--schedule-eps", "0",
                 "--eps", "1e-8", "--optimizer", "adam", "--steps", "5"])
    assert code == 0  # the schedule's eps and the optimizer's eps are two flags


def test_session_messages_name_the_json_path():
    base = session_to_dict(Session(
        problem=ProblemSpec(kind="function", function="rosenbrock"),
        runs=(RunSpec(optimizer="adagrad", schedule="onecycle",
                      schedule_params={"cycle_momentum": False}),), start=(-1.5, 2.0)))
    bad = [
        ({"milestones": [5, 3]}, "multistep",
         "runs[0].schedule_params.milestones: milestones must be in increasing order"),
        ({"milestones": [5, 3.5]}, "multistep",
         "runs[0].schedule_params.milestones[1]: must be a whole number, got 3.5"),
        ({"mode": "sideways"}, "cyclic", "runs[0].schedule_params.mode: mode must be one of"),
        ({"t_0": 0}, "warm_restarts", "runs[0].schedule_params.t_0: t_0 must be a whole number"),
        ({}, "cyclic", "runs[0].schedule_params: cycle_momentum needs an optimizer with "
                       "momentum or betas; adagrad has neither"),
        ({"factor": 1.0}, "plateau", "runs[0].schedule_params.factor: factor must be in [0, 1)"),
    ]
    for params, name, message in bad:
        d = json.loads(json.dumps(base))
        d["runs"][0]["schedule"] = name
        d["runs"][0]["schedule_params"] = params
        with pytest.raises(SessionError) as info:
            session_from_dict(d)
        assert message in str(info.value), (name, str(info.value))
    d = json.loads(json.dumps(base))
    d["runs"][0]["warmup"] = 3  # onecycle takes none
    with pytest.raises(SessionError, match=r"runs\[0\].warmup: schedule 'onecycle' cannot "
                                           "follow a warm-up"):
        session_from_dict(d)
    d["runs"][0]["warmup"] = -1
    with pytest.raises(SessionError, match=r"runs\[0\].warmup: must be between 0"):
        session_from_dict(d)


def test_old_sessions_without_warmup_load_and_warmup_is_written_only_when_set():
    spec = RunSpec(optimizer="sgd", schedule="cosine", schedule_params={"t_max": 50})
    s = Session(problem=ProblemSpec(kind="function", function="rosenbrock"), runs=(spec,),
                start=(-1.5, 2.0))
    d = session_to_dict(s)
    assert "warmup" not in d["runs"][0]
    assert session_from_dict(d).runs[0].warmup == 0
    warm = Session(problem=s.problem, runs=(RunSpec(optimizer="sgd", schedule="cosine",
                                                    warmup=12),), start=(-1.5, 2.0))
    d = session_to_dict(warm)
    assert d["runs"][0]["warmup"] == 12 and session_from_dict(d) == warm
    assert "warmup=12" in warm.runs[0].display_label()


def test_plateau_refuses_a_batch_and_keeps_its_state_when_a_run_is_edited():
    obj = get_function("rosenbrock")
    sched = make_schedule("plateau", 1e-3, patience=2, threshold=0.5)
    with pytest.raises(ValueError, match="cannot drive a batch of 2 runs"):
        Descent(obj, make_optimizer("sgd", lr=1e-3), np.zeros((2, 2)), schedule=sched)
    d = Descent(obj, make_optimizer("sgd", lr=1e-3), np.array([-1.5, 2.0]), schedule=sched,
                max_steps=200)
    d.advance(100)
    lr = d.lr_now
    assert lr < 1e-3
    # same schedule settings, another momentum: the plateau's state goes on
    d.replace_optimizer(make_optimizer("sgd", lr=1e-3, momentum=0.1),
                        make_schedule("plateau", 1e-3, patience=2, threshold=0.5))
    assert d.lr_now == lr
    # another schedule: it starts here, from the run's rate
    d.replace_optimizer(make_optimizer("sgd", lr=1e-3),
                        make_schedule("plateau", 1e-3, patience=3, threshold=0.5))
    assert d.lr_now == 1e-3
    d.advance(10)


def test_a_cycling_schedule_does_not_touch_the_callers_optimizer():
    opt = make_optimizer("adam", lr=0.01)
    traj = run_descent(get_function("rosenbrock"), opt, np.array([-1.5, 2.0]), steps=50,
                       schedule=make_schedule("onecycle", 0.01, total_steps=50))
    assert opt.hyper.betas == (0.9, 0.999)
    assert traj.status == "max_steps"


def test_onecycle_beyond_total_steps_keeps_the_final_rate():
    s = make_schedule("onecycle", 0.1, total_steps=20)
    final = 0.1 / 25 / 1e4
    assert s.lr(21) == s.lr(500) == pytest.approx(final, rel=1e-12)
    assert s.momentum(500) == 0.95
    with pytest.raises(ValueError, match="too small"):
        make_schedule("onecycle", 0.1, total_steps=1, pct_start=1.0)


def test_ints_kind_parses_checks_and_formats():
    p = HyperParameter("milestones", "ints", (1, 2), "h", low=1, high=100)
    assert p.parse(" 3, 7 ,40") == (3, 7, 40)
    assert p.parse("") == ()
    assert p.format((3, 7)) == "3,7" and p.to_json((3, 7)) == [3, 7]
    assert p.check([2.0, 5]) == (2, 5)
    for bad, why in (("3,3", "increasing"), ("0,4", r"milestones\[0\] must be"),
                     ("2,x", "whole numbers like"), ("2,500", r"milestones\[1\]")):
        with pytest.raises(ValueError, match=why):
            p.parse(bad)
    with pytest.raises(ValueError, match="list of whole numbers"):
        p.check(5)
    assert "increasing order" in p.range_text() and "[1, 100]" in p.range_text()


def test_closed_forms_agree_with_the_recursions_to_rounding():
    """The rule text's closed forms are what the recursions compute (to rounding)."""
    cases = {
        "step": lambda t: 0.1 * 0.5 ** (t // 7),
        "exponential": lambda t: 0.1 * 0.97**t,
        "cosine": lambda t: 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * t / 30)) / 2,
        "polynomial": lambda t: 0.1 * (1 - min(t, 40) / 40) ** 2.0,
        "linear": lambda t: 0.1 * (0.9 + (0.05 - 0.9) * min(t, 37) / 37),
    }
    made = {
        "step": make_schedule("step", 0.1, step_size=7, gamma=0.5),
        "exponential": make_schedule("exponential", 0.1, gamma=0.97),
        "cosine": make_schedule("cosine", 0.1, t_max=30, eta_min=0.001),
        "polynomial": make_schedule("polynomial", 0.1, total_iters=40, power=2.0),
        "linear": make_schedule("linear", 0.1, start_factor=0.9, end_factor=0.05,
                                total_iters=37),
    }
    for name, f in cases.items():
        got = np.array([made[name].lr(t) for t in range(200)])
        np.testing.assert_allclose(got, [f(t) for t in range(200)], rtol=1e-9, atol=1e-15)
