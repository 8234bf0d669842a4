"""The command line: the issue's examples, list, bad inputs exit 2 with one line."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from gd_explorer.cli import main
from gd_explorer.core.engine.descent import run_descent
from gd_explorer.core.io.export import csv_file_name, read_trajectory_csv, trajectory_csv_text
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.datasets import dataset_objective
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.session.presets import PRESETS
from gd_explorer.core.session.specs import (
    ProblemSpec,
    RunSpec,
    Session,
    SessionError,
    load_session,
    save_session,
    session_to_dict,
)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rosenbrock_adam_example_writes_the_same_trajectory_as_the_library(capsys, tmp_path):
    out = tmp_path / "traj.csv"
    code, stdout, err = run_cli(capsys, "run", "--function", "rosenbrock", "--optimizer", "adam",
                                "--lr", "0.001", "--start", "-1.5,2", "--steps", "3000",
                                "--out", str(out))
    assert code == 0, err
    assert "status:" in stdout and "wrote 3001 rows" in stdout
    traj = run_descent(get_function("rosenbrock"), make_optimizer("adam", lr=0.001),
                       [-1.5, 2.0], steps=3000, grad_tol=1e-8)
    assert out.read_text() == trajectory_csv_text(traj)


def test_typed_function_with_rmsprop_flags(capsys):
    code, stdout, err = run_cli(capsys, "run", "--function", "x**2*sin(y)", "--optimizer",
                                "rmsprop", "--lr", "0.01", "--alpha", "0.9", "--centered",
                                "--start", "1,1", "--steps", "50")
    assert code == 0, err
    assert "centered=True" in stdout and "alpha=0.9" in stdout


@pytest.mark.parametrize(("argv", "shown"), [
    (["--optimizer", "nadam", "--momentum-decay", "0.01", "--decoupled-weight-decay",
      "--weight-decay", "0.1"], ["momentum_decay=0.01", "decoupled_weight_decay=True"]),
    (["--optimizer", "rprop", "--etas", "0.4,1.5", "--step-sizes", "1e-4", "2"],
     ["etas=(0.4, 1.5)", "step_sizes=(0.0001, 2.0)"]),
    (["--optimizer", "adafactor", "--eps", "none,1e-4", "--beta2-decay", "-0.5"],
     ["eps=(None, 0.0001)", "beta2_decay=-0.5"]),
    (["--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "true"], ["nesterov=True"]),
    (["--optimizer", "adam", "--betas", "0.8,0.99", "--amsgrad", "false"],
     ["betas=(0.8, 0.99)", "amsgrad=False"]),
])
def test_every_optimizer_flag_is_generated_from_the_declaration(capsys, argv, shown):
    code, stdout, err = run_cli(capsys, "run", "--function", "bowl", "--steps", "5", *argv)
    assert code == 0, err
    for text in shown:
        assert text in stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["--optimizer", "sgd", "--betas", "0.9,0.99"],
     "sgd takes no --betas; it takes: --momentum, --dampening, --nesterov, --weight-decay"),
    (["--optimizer", "rprop", "--etas", "1.5,0.4"], "etas must satisfy"),
    (["--optimizer", "rprop", "--etas", "0.5"], "etas must be two numbers"),
    (["--optimizer", "nadam", "--decoupled-weight-decay", "maybe"],
     "decoupled_weight_decay must be true or false"),
    (["--optimizer", "adadelta", "--rho", "2"], "rho must be in [0, 1], got 2"),
])
def test_bad_optimizer_flags_exit_2_with_one_line(capsys, tmp_path, argv, message):
    out = tmp_path / "t.csv"
    code, stdout, err = run_cli(capsys, "run", "--function", "bowl", "--out", str(out), *argv)
    assert code == 2 and message in err and err.count("\n") == 1
    assert not out.exists()


def test_fence_dataset_mae_example(capsys, tmp_path):
    out = tmp_path / "fence.csv"
    code, stdout, err = run_cli(capsys, "run", "--dataset", "fence", "--model", "quadratic",
                                "--loss", "mae", "--optimizer", "sgd", "--lr", "2e-6",
                                "--start", "-2,30", "--out", str(out))
    assert code == 0, err
    traj = read_trajectory_csv(out)
    assert traj.names == ("a", "b")
    assert traj.loss[0] == 6748.5
    assert traj.loss[-1] < traj.loss[0]


def test_csv_dataset_with_cosine_schedule(capsys, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(20)))
    code, stdout, err = run_cli(capsys, "run", "--dataset", str(data), "--model", "linear",
                                "--loss", "mse", "--optimizer", "adamw", "--lr", "0.05",
                                "--schedule", "cosine", "--t-max", "800", "--steps", "800")
    assert code == 0, err
    assert "schedule cosine" in stdout


def test_fence_area_maximizes_by_default(capsys):
    code, stdout, _ = run_cli(capsys, "run", "--function", "fence-area", "--steps", "500")
    assert code == 0 and "ascent" in stdout and "x = 50" in stdout


def test_tol_zero_runs_every_step(capsys, tmp_path):
    out = tmp_path / "t.csv"
    code, stdout, _ = run_cli(capsys, "run", "--function", "bowl", "--start", "0,0", "--tol",
                              "0", "--steps", "7", "--out", str(out))
    assert code == 0 and len(out.read_text().splitlines()) == 9


def test_list_shows_every_registry(capsys):
    code, stdout, _ = run_cli(capsys, "list")
    assert code == 0
    for word in ("rosenbrock", "himmelblau", "fence", "quadratic-full", "huber", "adamw",
                 "cosine", "initial_accumulator_value"):
        assert word in stdout
    from gd_explorer.core.optim.optimizers import OPTIMIZERS

    for cls in OPTIMIZERS.values():  # every optimizer, its title and its hyperparameters
        assert f"  {cls.name:<16} {cls.title}" in stdout
        for p in cls.params:
            assert p.describe() in stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--function", "rosenbrock", "--lr", "-1"], "learning rate must be positive"),
        (["run", "--function", "__import__('os')"], "not allowed"),
        (["run", "--function", "9**9**9"], "exponent"),
        (["run", "--function", "nosuch"], "unknown name"),
        (["run", "--function", "bowl", "--optimizer", "lbfgs-b"], "unknown optimizer 'lbfgs-b'"),
        (["run", "--function", "bowl", "--optimizer", "adam", "--momentum", "0.9"],
         "adam takes no --momentum; it takes: --betas, --eps, --weight-decay, --amsgrad"),
        (["run", "--function", "bowl", "--optimizer", "adam", "--betas", "0.9", "1.0"],
         "betas"),
        (["run", "--function", "bowl", "--start", "1"], "--start needs 2 value"),
        (["run", "--function", "bowl", "--start", "a,b"], "--start must be numbers"),
        (["run", "--function", "bowl", "--steps", "-3"], "--steps must be zero or positive"),
        (["run", "--function", "bowl", "--steps", "many"], "invalid int value"),
        (["run", "--function", "bowl", "--steps", "10000001"],
         "--steps must be at most 10,000,000, got 10,000,001"),
        (["run", "--dataset", "fence", "--batch-size", "20000000"],
         "--batch-size must be at most 10,000,000"),
        (["run", "--function", "bowl", "--schedule", "cosine", "--t-max", "99999999999"],
         "--t-max must be at most 10,000,000"),
        (["run", "--function", "bowl", "--schedule", "warm"], "unknown schedule"),
        (["run", "--function", "bowl", "--batch-size", "4"], "--batch-size applies to"),
        (["run", "--dataset", "fence", "--x-column", "3"],
         "--x-column applies to a CSV file; 'fence' is a built-in dataset"),
        (["run", "--dataset", "noisy-line", "--y-column", "y"],
         "--y-column applies to a CSV file; 'noisy-line' is a built-in dataset"),
        (["run", "--function", "bowl", "--x-column", "0"], "--x-column applies to --dataset only"),
        (["run", "--dataset", "fence", "--delta", "0.5"],
         "--delta applies to --loss huber only, not --loss mse"),
        (["run", "--function", "bowl", "--delta", "0.5"], "--delta applies to --dataset only"),
        (["run", "--dataset", "fence", "--loss", "huber", "--delta", "-1"],
         "Huber delta must be a positive number, got -1.0"),
        (["run", "--dataset", "fence", "--loss", "huber", "--delta", "inf"],
         "Huber delta must be a positive number, got inf"),
        (["run", "--dataset", "missing.csv"], "missing.csv"),
        (["run", "--dataset", "fence", "--model", "cubic"], "unknown model"),
        (["run"], "one of the arguments --function --dataset --session --preset is required"),
        (["run", "--function", "bowl", "--out", "/nonexistent-dir/t.csv"], "does not exist"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, stdout, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


def test_bad_run_writes_nothing(capsys, tmp_path):
    out = tmp_path / "never.csv"
    code, _, _ = run_cli(capsys, "run", "--function", "bowl", "--lr", "0", "--out", str(out))
    assert code == 2 and not out.exists()


def test_python_dash_m_entry_point(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-m", "gd_explorer", "run", "--function", "booth",
                           "--steps", "10"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "status:" in proc.stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["--function", "log(x)", "--start", "-1"],
     "gd-explorer: error: log(x) is not finite at the start (x = -1): f = nan\n"),
    (["--function", "sqrt(x)", "--start", "0"],
     "gd-explorer: error: sqrt(x) is not finite at the start (x = 0): df/dx = inf\n"),
    (["--function", "1/x", "--start", "0"],
     "gd-explorer: error: 1/x is not finite at the start (x = 0): f = inf, df/dx = -inf\n"),
    (["--function", "x**2", "--start", "1e308"],
     "gd-explorer: error: x**2 is not finite at the start (x = 1e+308): f = inf, df/dx = inf\n"),
])
def test_a_start_where_the_function_is_not_finite_exits_2_and_writes_nothing(
        capsys, tmp_path, argv, message):
    out = tmp_path / "never.csv"
    code, stdout, err = run_cli(capsys, "run", *argv, "--out", str(out))
    assert (code, err, stdout) == (2, message, "")
    assert not out.exists()


def test_csv_data_too_large_for_float64_exits_2_at_its_default_start(capsys, tmp_path):
    data = tmp_path / "huge.csv"
    data.write_text("x,y\n1,1e308\n2,-1e308\n3,1e308\n")
    out = tmp_path / "never.csv"
    code, stdout, err = run_cli(capsys, "run", "--dataset", str(data), "--out", str(out))
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert "is not finite at the start (w = 0, b = 0): f = inf" in err
    assert not out.exists() and "Traceback" not in err


def test_huber_delta_flag_gives_the_library_trajectory(capsys, tmp_path):
    out = tmp_path / "h.csv"
    code, stdout, err = run_cli(capsys, "run", "--dataset", "noisy-line", "--loss", "huber",
                                "--delta", "0.5", "--lr", "0.05", "--steps", "300",
                                "--out", str(out))
    assert code == 0, err
    assert "huber (δ = 0.5) of linear on noisy-line" in stdout
    obj = dataset_objective("noisy-line", "linear", "huber", huber_delta=0.5)
    traj = run_descent(obj, make_optimizer("sgd", lr=0.05), obj.start, steps=300, grad_tol=1e-8)
    assert out.read_text() == trajectory_csv_text(traj)
    one = run_descent(dataset_objective("noisy-line", "linear", "huber"),
                      make_optimizer("sgd", lr=0.05), obj.start, steps=300, grad_tol=1e-8)
    assert out.read_text() != trajectory_csv_text(one)


# ------------------------------------------------------------------ --session
def _race_session(tmp_path, **changes):
    s = dataclasses.replace(PRESETS["rosenbrock-race"].session, max_steps=400, **changes)
    path = tmp_path / "race.json"
    save_session(path, s)
    return path, s


def test_session_runs_every_run_like_the_app_and_writes_one_csv_each(capsys, tmp_path):
    path, s = _race_session(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = run_cli(capsys, "run", "--session", str(path), "--out-dir", str(out))
    assert code == 0, err
    obj = s.problem.build()
    names = [csv_file_name(i + 1, r.display_label()) for i, r in enumerate(s.runs)]
    assert sorted(os.listdir(out)) == sorted(names) and len(names) == 3
    for i, name in enumerate(names):
        # the app's trajectory: Session.descent, as ExplorerModel builds its runs
        assert (out / name).read_text() == trajectory_csv_text(s.descent(i, obj).run())
        assert f"run {i + 1}:     {s.runs[i].display_label()}" in stdout
    assert stdout.count("status:") == 3 and stdout.count("wrote ") == 3


def test_session_without_out_dir_only_prints(capsys, tmp_path):
    path, s = _race_session(tmp_path)
    code, stdout, err = run_cli(capsys, "run", "--session", str(path))
    assert code == 0, err
    assert stdout.count("status:") == 3 and "wrote" not in stdout
    assert os.listdir(tmp_path) == ["race.json"]


def test_steps_tol_and_loss_tol_override_the_sessions_stop_rules(capsys, tmp_path):
    path, s = _race_session(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = run_cli(capsys, "run", "--session", str(path), "--steps", "25",
                                "--tol", "0", "--out-dir", str(out))
    assert code == 0, err
    assert stdout.count("reached max steps (25)") == 3
    for name in os.listdir(out):
        assert len((out / name).read_text().splitlines()) == 27  # header + rows 0..25


@pytest.mark.parametrize(("extra", "message"), [
    (["--function", "bowl"], "argument --function: not allowed with argument --session"),
    (["--dataset", "fence"], "not allowed with argument --session"),
    (["--lr", "0.1"], "--lr cannot be combined with --session"),
    (["--optimizer", "adam"], "--optimizer cannot be combined with --session"),
    (["--momentum", "0.9"], "--momentum cannot be combined with --session"),
    (["--no-maximize"], "--maximize cannot be combined with --session"),
    (["--start", "1,1"], "--start cannot be combined with --session"),
    (["--schedule", "cosine"], "--schedule cannot be combined with --session"),
    (["--seed", "3"], "--seed cannot be combined with --session"),
    (["--out", "x.csv"], "--out writes one run; with --session use --out-dir DIR"),
    (["--out-dir", "no-such-folder"], "--out-dir no-such-folder: folder does not exist"),
    (["--steps", "-1"], "--steps must be zero or positive"),
])
def test_session_refuses_flags_it_sets_itself(capsys, tmp_path, extra, message):
    path, _ = _race_session(tmp_path)
    code, stdout, err = run_cli(capsys, "run", "--session", str(path), *extra)
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert stdout == "" and os.listdir(tmp_path) == ["race.json"]


def test_out_dir_without_session_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", "--function", "bowl", "--out-dir", str(tmp_path))
    assert code == 2 and "--out-dir applies to --session" in err


@pytest.mark.parametrize(("content", "message"), [
    (b"{not json", "not valid JSON: Expecting property name enclosed in double quotes"),
    (b"[]", "a session must be a JSON object"),
    (None, "no such file"),
])
def test_a_broken_session_file_exits_2_with_load_sessions_message(capsys, tmp_path, content,
                                                                  message):
    path = tmp_path / "s.json"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = run_cli(capsys, "run", "--session", str(path), "--out-dir", str(out))
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert (code, stdout, err) == (2, "", f"gd-explorer: error: {info.value}\n")
    assert message in err and os.listdir(out) == []


def test_a_hostile_formula_in_a_session_exits_2(capsys, tmp_path):
    d = session_to_dict(PRESETS["saddle"].session)
    d["problem"]["function"] = "__import__('os').system('echo hi')"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(d))
    code, stdout, err = run_cli(capsys, "run", "--session", str(path))
    assert code == 2 and stdout == "" and "problem.function:" in err and err.count("\n") == 1


def test_a_session_whose_start_is_not_finite_exits_2_before_anything_runs(capsys, tmp_path):
    s = Session(problem=ProblemSpec(function="log(x)"), start=(-1.0,),
                runs=(RunSpec("sgd", 0.1), RunSpec("adam", 0.1)))
    path = tmp_path / "s.json"
    save_session(path, s)
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = run_cli(capsys, "run", "--session", str(path), "--out-dir", str(out))
    assert (code, stdout) == (2, "")
    assert err == "gd-explorer: error: log(x) is not finite at the start (x = -1): f = nan\n"
    assert os.listdir(out) == []


def test_a_session_with_no_runs_exits_2(capsys, tmp_path):
    path = tmp_path / "s.json"
    save_session(path, Session(runs=()))
    code, _, err = run_cli(capsys, "run", "--session", str(path))
    assert code == 2 and "the session has no runs" in err


def test_a_closed_pipe_ends_the_listing_quietly():
    """`gd-explorer list | head -1`: no BrokenPipeError traceback on stderr."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "gd_explorer", "list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `head` does
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err


# ------------------------------------------------------------------ run --preset
def test_preset_runs_like_its_session_file(capsys, tmp_path):
    """``run --preset KEY`` writes what ``run --session FILE`` of the same preset writes."""
    key = "nets-xor-hidden"
    s = PRESETS[key].session
    save_session(tmp_path / "s.json", s)
    by_preset, by_file = tmp_path / "preset", tmp_path / "file"
    by_preset.mkdir()
    by_file.mkdir()
    code, stdout, err = run_cli(capsys, "run", "--preset", key, "--steps", "200",
                                "--out-dir", str(by_preset))
    assert code == 0, err
    assert stdout.startswith(f"session:   preset {key} — {s.title} (2 runs)")
    code, _, err = run_cli(capsys, "run", "--session", str(tmp_path / "s.json"), "--steps",
                           "200", "--out-dir", str(by_file))
    assert code == 0, err
    names = [csv_file_name(i + 1, r.display_label()) for i, r in enumerate(s.runs)]
    assert sorted(os.listdir(by_preset)) == sorted(names)
    obj = s.problem.build()
    for i, name in enumerate(names):
        text = (by_preset / name).read_text()
        assert text == (by_file / name).read_text()
        ref = trajectory_csv_text(dataclasses.replace(s, max_steps=200).descent(i, obj).run())
        assert text == ref


@pytest.mark.parametrize(("argv", "message"), [
    (["--preset", "nope"], "unknown preset 'nope'; presets are: fence-ascent"),
    (["--preset", "zigzag", "--lr", "0.1"], "--lr cannot be combined with --preset"),
    (["--preset", "zigzag", "--out", "x.csv"], "with --preset use --out-dir DIR"),
    (["--preset", "zigzag", "--session", "x.json"], "not allowed with argument"),
])
def test_a_bad_preset_run_is_one_line_and_exit_2(capsys, argv, message):
    code, stdout, err = run_cli(capsys, "run", *argv)
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert stdout == ""


def test_list_names_every_preset_by_category(capsys):
    code, stdout, _ = run_cli(capsys, "list")
    assert code == 0
    presets = stdout[stdout.index("Presets (run --preset KEY"):]
    for p in PRESETS.values():
        assert f"    {p.key:<22} {p.title}" in presets
    assert presets.index("  Networks:") > presets.index("  Lessons:")
