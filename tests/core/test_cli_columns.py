"""``gd-explorer run`` for a network: the summary gives norms (not 100+ numbers) and where
the parameters are; ``--columns scalar`` writes six columns. Small problems unchanged."""

import re

import numpy as np
import pytest

from gd_explorer.cli import main
from gd_explorer.core.io.export import read_trajectory_csv

NET = ("run", "--dataset", "moons", "--model", "mlp", "--layers", "2-6-4-1", "--optimizer",
       "adam", "--lr", "0.01", "--steps", "30")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _layer_columns(sizes) -> list[range]:
    out, at = [], 0
    for i, o in zip(sizes[:-1], sizes[1:]):
        out.append(range(at, at + o * i + o))
        at += o * i + o
    return out


def test_a_network_summary_gives_norms_per_layer_and_where_the_parameters_are(capsys, tmp_path):
    out = tmp_path / "run.csv"
    code, stdout, err = run_cli(capsys, *NET, "--out", str(out))
    assert code == 0, err
    traj = read_trajectory_csv(out)  # every parameter is in the file
    d = traj.params.shape[1]
    assert d == 6 * 2 + 6 + 4 * 6 + 4 + 4 + 1
    final = stdout.split("final:", 1)[1].split("loss:", 1)[0]
    assert f"({d} parameters, in {out})" in final
    assert "w1_0_0" not in stdout and len(stdout.splitlines()) < 15
    p, g = traj.params[-1], traj.grad[-1]
    head = final.splitlines()[0]
    np.testing.assert_allclose(float(re.search(r"\|p\| = (\S+)", head).group(1)),
                               np.linalg.norm(p), rtol=1e-5)
    np.testing.assert_allclose(float(re.search(r"last \|Δp\| = (\S+)", head).group(1)),
                               np.linalg.norm(traj.params[-1] - traj.params[-2]), rtol=1e-3)
    rows = [ln for ln in final.splitlines()[1:] if ln.strip()]
    assert [r.split("|")[0].strip() for r in rows] == ["layer 1 (2→6)", "layer 2 (6→4)",
                                                       "layer 3 (4→1)"]
    for row, cols in zip(rows, _layer_columns((2, 6, 4, 1))):
        cols = list(cols)
        pn, gn = (float(x) for x in re.findall(r"= (\S+)", row))
        np.testing.assert_allclose(pn, np.linalg.norm(p[cols]), rtol=1e-5)
        np.testing.assert_allclose(gn, np.linalg.norm(g[cols]), rtol=1e-3)


def test_columns_scalar_writes_six_columns_and_says_the_parameters_are_not_there(capsys,
                                                                                  tmp_path):
    out = tmp_path / "run.csv"
    code, stdout, err = run_cli(capsys, *NET, "--out", str(out), "--columns", "scalar")
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert lines[0] == "step,loss,grad_norm,param_norm,update_norm,lr"
    assert len(lines) == 32 and all(len(ln.split(",")) == 6 for ln in lines)
    assert f"not in {out}: --columns all writes them" in stdout
    assert f"wrote 31 rows to {out} (scalar columns)" in stdout
    with pytest.raises(ValueError, match="scalar columns only"):
        read_trajectory_csv(out)


def test_without_out_the_summary_says_the_parameters_were_not_written(capsys):
    code, stdout, err = run_cli(capsys, *NET)
    assert code == 0, err
    assert "not written: --out CSV writes them" in stdout


def test_columns_without_out_is_a_usage_error_in_one_line(capsys):
    code, stdout, err = run_cli(capsys, *NET, "--columns", "scalar")
    assert code == 2
    assert err.strip().splitlines() == [
        "gd-explorer: error: --columns says what --out writes: give --out CSV too"]
    code, stdout, err = run_cli(capsys, *NET, "--out", "x.csv", "--columns", "some")
    assert code == 2 and "invalid choice: 'some'" in err and len(err.strip().splitlines()) <= 2


def test_a_small_problem_still_prints_its_point(capsys):
    code, stdout, err = run_cli(capsys, "run", "--function", "rosenbrock", "--steps", "3")
    assert code == 0, err
    assert re.search(r"^final:     x = \S+, y = \S+$", stdout, re.M)


def test_a_session_writes_scalar_columns_into_out_dir(capsys, tmp_path):
    from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session, save_session

    path = tmp_path / "s.json"
    save_session(path, Session(problem=ProblemSpec(kind="function", function="booth"),
                               runs=(RunSpec(optimizer="adam", lr=0.05),
                                     RunSpec(optimizer="sgd", lr=0.01)), max_steps=5))
    folder = tmp_path / "out"
    folder.mkdir()
    code, stdout, err = run_cli(capsys, "run", "--session", str(path), "--out-dir", str(folder),
                                "--columns", "scalar")
    assert code == 0, err
    files = sorted(folder.glob("*.csv"))
    assert len(files) == 2
    for f in files:
        lines = f.read_text().splitlines()
        assert lines[0] == "step,loss,grad_norm,param_norm,update_norm,lr" and len(lines) == 7
    code, _, err = run_cli(capsys, "run", "--session", str(path), "--columns", "scalar")
    assert code == 2 and "give --out-dir DIR too" in err
