"""The ``nets`` problem kind: CLI, session files, every optimizer and schedule, mini-batches."""

import json

import numpy as np
import pytest

from gd_explorer import cli
from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.optim.schedules import SCHEDULES, make_schedule
from gd_explorer.core.problems.kinds import KINDS
from gd_explorer.core.problems.nets import net_objective
from gd_explorer.core.session.specs import (
    ProblemSpec,
    RunSpec,
    Session,
    SessionError,
    load_session,
    save_session,
    session_from_dict,
    session_to_dict,
)

FIELDS = {"net_dataset": "xor", "layers": "2-4-1", "activation": "relu", "samples": 60,
          "test_fraction": 0.25, "data_seed": 3, "init_seed": 5, "net_batch_size": 8}


def nets_session(**fields) -> Session:
    problem = ProblemSpec(kind="nets").with_fields(**{**KINDS["nets"].defaults, **FIELDS,
                                                       **fields})
    return Session(problem=problem, runs=(RunSpec(optimizer="adam", lr=0.01),), max_steps=50)


def test_the_kind_is_registered_with_the_common_views_and_the_network_ones():
    kind = KINDS["nets"]
    assert kind.views == KINDS["function"].views | {"fit", "decision", "landscape", "metrics"}
    spec = ProblemSpec(kind="nets")
    assert spec.param_names()[:2] == ("w1_0_0", "w1_0_1") and len(spec.param_names()) == 105
    assert spec.build().dim == 105


def test_cli_trains_an_mlp_and_writes_named_columns(capsys, tmp_path):
    out = tmp_path / "run.csv"
    code = cli.main(["run", "--dataset", "moons", "--model", "mlp", "--layers", "2-6-6-1",
                     "--activation", "tanh", "--loss", "cross-entropy", "--optimizer", "adam",
                     "--lr", "0.01", "--steps", "300", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = out.read_text().splitlines()
    assert len(rows) == 302
    header = rows[0].split(",")
    assert header[1:4] == ["w1_0_0", "w1_0_1", "w1_1_0"] and "b3_0" in header
    loss = header.index("loss")
    assert float(rows[-1].split(",")[loss]) < 0.5 * float(rows[1].split(",")[loss])


def test_cli_logistic_regression_on_blobs(capsys):
    code = cli.main(["run", "--dataset", "blobs", "--model", "logistic", "--steps", "50"])
    assert code == 0, capsys.readouterr().err
    assert "w1 = " in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["--dataset", "moons", "--model", "mlp", "--layers", "2-x-1"], "layers must be sizes"),
    (["--dataset", "sine", "--layers", "2-4-1"], "1-D inputs"),
    (["--dataset", "moons", "--activation", "swish"], "unknown activation 'swish'"),
    (["--dataset", "sine", "--loss", "cross-entropy"], "regression dataset"),
    (["--dataset", "moons", "--samples", "1"], "--samples must be between"),
    (["--dataset", "moons", "--data-seed", "-1"], "--data-seed must be a whole number >= 0"),
    (["--dataset", "moons", "--noise", "-1"], "noise must be a non-negative number"),
    (["--dataset", "moons", "--model", "logistic", "--layers", "2-3-1"], "--layers applies"),
    (["--function", "rosenbrock", "--layers", "2-4-1"], "--layers applies to --dataset with"),
    (["--dataset", "fence", "--activation", "relu"], "--activation applies to --dataset with"),
    (["--dataset", "moons", "--x-column", "0"], "--x-column applies to --dataset only"),
    (["--dataset", "moons", "--optimizer", "gauss_newton"], "least-squares"),
])
def test_bad_cli_input_is_one_line_and_writes_nothing(args, message, capsys, tmp_path):
    out = tmp_path / "bad.csv"
    code = cli.main(["run", *args, "--steps", "3", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_a_session_saves_and_loads(tmp_path):
    s = nets_session()
    path = tmp_path / "net.json"
    save_session(path, s)
    d = json.loads(path.read_text())
    assert d["problem"]["kind"] == "nets" and d["problem"]["layers"] == "2-4-1"
    back = load_session(path)
    assert back == s and hash(back.problem) == hash(s.problem)
    assert back.problem.kind_entry.batch_size(back.problem) == 8
    traj = back.descent(0).run()
    assert traj.params.shape[1] == 17 and np.all(np.isfinite(traj.loss))


@pytest.mark.parametrize("key,value,message", [
    ("layers", "2-0-1", r"^problem\.layers: every layer needs at least one unit"),
    ("net_dataset", "fence", r"^problem\.net_dataset: "),
    ("activation", 3, r"^problem\.activation: "),
    ("samples", 1, r"^problem\.samples: "),
    ("test_fraction", 1.0, r"^problem\.test_fraction: must be below 1"),
    ("net_batch_size", 0, r"^problem\.net_batch_size: "),
])
def test_bad_session_fields_name_their_key_path(key, value, message):
    d = session_to_dict(nets_session())
    d["problem"][key] = value
    with pytest.raises(SessionError, match=message):
        session_from_dict(d)


TINY = net_objective("xor", "mlp", "2-3-1", "tanh", samples=24, data_seed=1)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_runs_or_refuses_in_one_line(name):
    opt = make_optimizer(name, lr=TINY.default_lr(name))
    why = type(opt).unmet_needs(least_squares=False, full_batch=True)
    if why:
        with pytest.raises(ValueError) as info:
            Descent(TINY, opt, TINY.start, max_steps=3)
        assert "\n" not in str(info.value)
        return
    traj = Descent(TINY, opt, np.array([TINY.start] * 2), max_steps=5).run()[0]
    assert np.all(np.isfinite(traj.loss)) and len(traj.loss) >= 2


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_every_schedule_runs(name):
    schedule = make_schedule(name, base_lr=0.05)
    traj = Descent(TINY, make_optimizer("sgd", lr=0.05), TINY.start, schedule=schedule,
                   max_steps=5).run()
    assert np.all(np.isfinite(traj.loss))


def test_mini_batches_draw_from_the_training_set():
    traj = Descent(TINY, make_optimizer("sgd", lr=0.1), TINY.start, max_steps=30,
                   batch_size=6, seed=2).run()
    full = Descent(TINY, make_optimizer("sgd", lr=0.1), TINY.start, max_steps=30).run()
    assert np.all(np.isfinite(traj.loss))
    assert not np.array_equal(traj.params, full.params)


def test_a_runaway_network_run_is_diverged_not_an_error():
    """Beyond 16 parameters the engine's bounds test is one broadcast comparison: a
    weight that runs away must still stop the run as diverged (337 parameters here)."""
    obj = net_objective("moons", "mlp", "2-16-16-1", "relu", "mse", samples=50)
    start = np.array([obj.start, obj.start])
    start[1, -5] = 1e300  # one weight of the second run far out, the first run fine
    d = Descent(obj, make_optimizer("sgd", lr=1e-3), start, max_steps=20)
    runs = d.run()
    assert runs[0].status != "diverged" and runs[1].status == "diverged"
    assert np.all(np.isfinite(runs[0].loss))
