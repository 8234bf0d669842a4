"""``gd-explorer sweep``: the CSV, the edges, the bad-input contract."""

import numpy as np
import pytest

from gd_explorer.cli import main
from gd_explorer.core.lab.sweep import log_rates, sweep_learning_rates
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _read(path):
    lines = path.read_text().splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    body = [ln.split(",") for ln in lines if not ln.startswith("#")]
    return comments, body[0], body[1:]


def test_sweep_csv_matches_the_core_sweep(capsys, tmp_path):
    out = tmp_path / "sweep.csv"
    code, stdout, err = run_cli(capsys, "sweep", "--function", "ill-conditioned", "--start",
                                "1.5,1", "--lrs", "1e-3:1:30", "--steps", "300", "--momentum",
                                "0.9", "--out", str(out))
    assert code == 0, err
    comments, header, rows = _read(out)
    assert header == ["lr", "final_loss", "best_loss", "status", "diverged_step"]
    core = sweep_learning_rates(get_function("ill-conditioned"),
                                make_optimizer("sgd", lr=0.1, momentum=0.9), [1.5, 1.0],
                                log_rates(1e-3, 1, 30), 300)
    assert [float(r[0]) for r in rows] == list(core.lrs)
    for r, (_lr, final, best, status, step) in zip(rows, core.rows()):
        assert float(r[1]) == final and float(r[2]) == best and r[3] == status
        assert r[4] == ("" if step is None else str(step))
    pred = comments[0].split("predicted_edge=")[1].split()[0]
    lo, hi = comments[0].split("measured_edge=")[1].split(",")
    assert float(pred) == pytest.approx(0.19)
    assert (float(lo), float(hi)) == core.measured_edge
    assert "measured edge between" in stdout and "predicted 0.19" in stdout


def test_momentum_map_csv_has_one_block_per_momentum(capsys, tmp_path):
    out = tmp_path / "map.csv"
    code, _, err = run_cli(capsys, "sweep", "--function", "rosenbrock", "--optimizer", "adam",
                           "--lrs", "1e-4:1:5", "--momenta", "0:0.9:3", "--steps", "20",
                           "--out", str(out))
    assert code == 0, err
    comments, header, rows = _read(out)
    assert header[0] == "momentum" and len(rows) == 15 and len(comments) == 3
    assert sorted({float(r[0]) for r in rows}) == [0.0, 0.45, 0.9]
    assert comments[1].startswith("# momentum=0.45 predicted_edge=")


@pytest.mark.parametrize("argv, message", [
    (["--lrs", "1:0.1:3"], "--lrs: the lowest learning rate must be below the highest"),
    (["--lrs", "1e-3:1"], "--lrs must be LOW:HIGH:COUNT"),
    (["--lrs", "a:1:3"], "--lrs must be LOW:HIGH:COUNT with numbers"),
    (["--lrs", "0:1:3"], "learning rates must be positive"),
    (["--momenta", "0:1:4"], "--momenta: momenta must satisfy 0 <= low < high < 1"),
    (["--optimizer", "adagrad", "--momenta", "0:0.9:4"], "adagrad has neither"),
    (["--steps", "0"], "--steps must be between 1"),
    (["--lrs", "1e-3:1:200000"], "at most 100,000 runs"),
    (["--optimizer", "nope"], "unknown optimizer"),
    (["--schedule", "cosine"], "constant rate"),
    (["--start", "1"], "--start needs 2 value(s)"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(capsys, tmp_path, argv, message):
    out = tmp_path / "sweep.csv"
    code, stdout, err = run_cli(capsys, "sweep", "--function", "rosenbrock", "--out", str(out),
                                *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_dataset_sweep_runs(capsys, tmp_path):
    out = tmp_path / "d.csv"
    code, _, err = run_cli(capsys, "sweep", "--dataset", "noisy-line", "--lrs", "1e-3:10:12",
                           "--steps", "50", "--out", str(out))
    assert code == 0, err
    _, _, rows = _read(out)
    statuses = [r[3] for r in rows]
    assert "diverged" in statuses and statuses[0] != "diverged"
    assert np.all(np.diff([float(r[0]) for r in rows]) > 0)
