"""Trajectory CSV: format, exact round trip, atomic writes."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gd_explorer.core.datasets import dataset_objective
from gd_explorer.core.engine import Trajectory, run_descent
from gd_explorer.core.export import (
    ExportError,
    csv_header,
    read_trajectory_csv,
    trajectory_csv_text,
    write_trajectory_csv,
)
from gd_explorer.core.functions import get_function
from gd_explorer.core.optimizers import make_optimizer


def test_header_and_first_rows(tmp_path):
    traj = run_descent(get_function("fence-area"), make_optimizer("sgd", lr=0.1, maximize=True),
                       [57.0], steps=2)
    out = tmp_path / "t.csv"
    write_trajectory_csv(out, traj)
    lines = out.read_text().splitlines()
    assert lines[0] == "step,x,loss,grad_x,grad_norm,lr"
    assert lines[1] == "0,57.0,2451.0,-14.0,14.0,0.1"
    assert lines[2].startswith("1,55.6")
    assert len(lines) == 4


def test_dataset_columns_are_named_after_parameters():
    obj = dataset_objective("fence", "quadratic", "mae")
    assert csv_header(obj.names) == ["step", "a", "b", "loss", "grad_a", "grad_b",
                                     "grad_norm", "lr"]


def test_round_trip_is_bit_exact(tmp_path):
    traj = run_descent(get_function("rosenbrock"), make_optimizer("adam", lr=0.01), [-1.5, 2.0],
                       steps=1000)
    out = tmp_path / "r.csv"
    write_trajectory_csv(out, traj)
    back = read_trajectory_csv(out)
    for field in ("params", "loss", "grad", "lr"):
        assert getattr(back, field).tobytes() == getattr(traj, field).tobytes(), field
    assert back.names == ("x", "y")


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 3).flatmap(lambda d: st.tuples(
    st.just(d), st.lists(st.lists(finite, min_size=2 * d + 2, max_size=2 * d + 2),
                         min_size=1, max_size=20))))
def test_any_float_round_trips(tmp_path_factory, case):
    d, rows = case
    a = np.array(rows)
    traj = Trajectory(("x", "y", "z")[:d], a[:, :d], a[:, d], a[:, d + 1:2 * d + 1],
                      a[:, -1], "max_steps")
    out = tmp_path_factory.mktemp("rt") / "t.csv"
    write_trajectory_csv(out, traj)
    back = read_trajectory_csv(out)
    assert back.params.tobytes() == traj.params.tobytes()
    assert back.loss.tobytes() == traj.loss.tobytes()
    assert back.grad.tobytes() == traj.grad.tobytes()
    assert back.lr.tobytes() == traj.lr.tobytes()


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "keep.csv"
    out.write_text("old content\n")
    traj = run_descent(get_function("bowl"), make_optimizer("sgd"), [1.0, 1.0], steps=3)

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ExportError, match="No space left on device"):
        write_trajectory_csv(out, traj)
    assert out.read_text() == "old content\n"
    assert os.listdir(tmp_path) == ["keep.csv"]


def test_unwritable_destinations_are_clear_errors(tmp_path):
    traj = run_descent(get_function("bowl"), make_optimizer("sgd"), [1.0, 1.0], steps=1)
    with pytest.raises(ExportError, match="does not exist"):
        write_trajectory_csv(tmp_path / "missing" / "t.csv", traj)
    with pytest.raises(ExportError, match="is a directory"):
        write_trajectory_csv(tmp_path, traj)


def test_text_has_one_line_per_row():
    traj = run_descent(get_function("bowl"), make_optimizer("sgd"), [1.0, 1.0], steps=9)
    assert trajectory_csv_text(traj).count("\n") == 11
