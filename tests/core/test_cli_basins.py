"""``gd-explorer basins``: the files it writes and its bad-input contract."""

import csv

import numpy as np
import pytest

from gd_explorer.cli import main
from gd_explorer.core.lab.basins import basin_colours, compute_basins
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function
from tests.core.test_basins import _read_png


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_basins_writes_the_csv_and_png_of_the_core_map(capsys, tmp_path):
    out, png = tmp_path / "basins.csv", tmp_path / "basins.png"
    code, stdout, err = run_cli(capsys, "basins", "--function", "himmelblau", "--optimizer",
                                "adam", "--lr", "0.05", "--betas", "0.8,0.99", "--grid", "20",
                                "--steps", "300", "--out", str(out), "--png", str(png))
    assert (code, err) == (0, "")
    assert "basin 4:   known minimum at x = 3.58442834" in stdout
    obj = get_function("himmelblau")
    ref = compute_basins(obj, make_optimizer("adam", lr=0.05, betas=(0.8, 0.99)),
                         np.array(obj.start), (0, 1), obj.window, grid=20, steps=300)
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["x", "y", "basin", "steps", "status"]
    assert len(rows) == 401
    got = np.array([int(r[2]) for r in rows[1:]]).reshape(20, 20)
    np.testing.assert_array_equal(got, ref.label + 1)
    assert {r[4] for r in rows[1:]} <= {"converged", "max_steps", "diverged"}
    img = _read_png(png.read_bytes())
    assert img.shape == (400, 400, 4)  # 20 x 20 blocks of 20 pixels
    np.testing.assert_array_equal(img[::20, ::20], basin_colours(ref)[::-1])


def test_basins_window_and_start_of_a_3_parameter_model(capsys, tmp_path):
    out = tmp_path / "b.csv"
    code, stdout, err = run_cli(capsys, "basins", "--dataset", "noisy-parabola", "--model",
                                "quadratic-full", "--optimizer", "adam", "--lr", "0.1", "--grid", "4",
                                "--steps", "50", "--window=-1,1,-2,2", "--start", "0,0,0",
                                "--out", str(out))
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:2] == ["a", "b"]
    assert lines[1].startswith("-1.0,-2.0,") and lines[-1].startswith("1.0,2.0,")


@pytest.mark.parametrize("argv, message", [
    (["--grid", "1001"], "--grid: the basin grid must be 2 to 1,000 points per axis, got 1001"),
    (["--grid", "1"], "--grid: the basin grid must be 2 to 1,000"),
    (["--steps", "0"], "--steps must be at least 1, got 0"),
    (["--window", "1,0,0,1"], "--window must be four finite numbers"),
    (["--tol", "-1"], "--tol must be zero or positive"),
    (["--optimizer", "nope"], "unknown optimizer 'nope'"),
    (["--momentum", "0.5", "--optimizer", "adam"], "adam takes no --momentum"),
    (["--schedule", "plateau"], "schedule 'plateau' follows one run's loss"),
    (["--lr", "-1"], "learning rate"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(capsys, tmp_path, argv, message):
    out, png = tmp_path / "b.csv", tmp_path / "b.png"
    code, stdout, err = run_cli(capsys, "basins", "--function", "himmelblau", "--grid", "5",
                                "--out", str(out), "--png", str(png), *argv)
    assert code == 2
    assert err.startswith("gd-explorer: error: ") and message in err, err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_destinations_and_one_parameter_problems(capsys, tmp_path):
    code, _, err = run_cli(capsys, "basins", "--function", "bowl", "--out",
                           str(tmp_path / "no" / "b.csv"))
    assert code == 2 and "does not exist" in err
    code, _, err = run_cli(capsys, "basins", "--function", "bowl", "--png", str(tmp_path))
    assert code == 2 and "is a directory" in err
    code, _, err = run_cli(capsys, "basins", "--function", "parabola", "--grid", "3")
    assert code == 2 and "basins need a surface" in err
    assert list(tmp_path.iterdir()) == []
