"""Trajectory CSV: format, exact round trip, atomic writes."""

import math
import os
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gd_explorer.core.engine.descent import Descent, Trajectory, run_descent
from gd_explorer.core.io.export import (
    CHUNK_ROWS,
    ExportCancelled,
    ExportError,
    csv_chunks,
    csv_file_name,
    csv_header,
    read_trajectory_csv,
    trajectory_csv_text,
    write_trajectory_csv,
)
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.optim.schedules import make_schedule
from gd_explorer.core.problems.datasets import dataset_objective
from gd_explorer.core.problems.functions import get_function


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


# ------------------------------------------------------------------ streaming
def old_fmt(v) -> str:
    """The formatter of the whole-text exporter this one replaced (the reference)."""
    v = float(v)
    return repr(v) if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))


def old_csv_text(traj: Trajectory) -> str:
    """The CSV text exactly as the first exporter built it, line by line."""
    lines = [",".join(csv_header(traj.names))]
    gn = traj.grad_norm
    for i in range(len(traj.loss)):
        fields = [str(i), *(old_fmt(c) for c in traj.params[i]), old_fmt(traj.loss[i]),
                  *(old_fmt(c) for c in traj.grad[i]), old_fmt(gn[i]), old_fmt(traj.lr[i])]
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


def odd_trajectory(n: int, d: int, seed: int = 0) -> Trajectory:
    """Rows of every magnitude, with nan, inf, -inf, -0.0, subnormals and repeated rates."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 2 * d + 2)) * 10.0 ** rng.integers(-300, 300, size=(n, 2 * d + 2))
    specials = [np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324, 1.7976931348623157e308]
    for k, v in enumerate(specials):
        a[(7 * k) % n, k % (2 * d + 2)] = v
    lr = np.where(np.arange(n) % 5 < 3, 0.001, rng.uniform(0, 1, n))
    lr[n // 2] = -0.0
    return Trajectory(("x", "y", "z")[:d], a[:, :d], a[:, d], a[:, d + 1:2 * d + 1], lr,
                      "max_steps")


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("chunk_rows", [1, 7, 1000, CHUNK_ROWS])
def test_streamed_file_has_the_same_bytes_as_the_old_exporter(tmp_path, d, chunk_rows):
    traj = odd_trajectory(2500, d, seed=d)
    out = tmp_path / "t.csv"
    assert write_trajectory_csv(out, traj, chunk_rows=chunk_rows) == 2500
    expected = old_csv_text(traj)
    assert out.read_bytes() == expected.encode("utf-8")
    assert trajectory_csv_text(traj) == expected


def test_a_constant_rate_and_a_varying_rate_both_write_every_value_exactly(tmp_path):
    traj = run_descent(get_function("rosenbrock"), make_optimizer("adam", lr=0.01),
                       [-1.5, 2.0], steps=3000,
                       schedule=make_schedule("cosine", base_lr=0.01, t_max=700))
    assert len(np.unique(traj.lr)) > 100
    out = tmp_path / "t.csv"
    write_trajectory_csv(out, traj, chunk_rows=333)
    assert out.read_text() == old_csv_text(traj)
    assert read_trajectory_csv(out).lr.tobytes() == traj.lr.tobytes()


def test_progress_is_reported_after_every_chunk(tmp_path):
    traj = odd_trajectory(1000, 2)
    seen = []
    write_trajectory_csv(tmp_path / "t.csv", traj, chunk_rows=300,
                         progress=lambda done, total: seen.append((done, total)))
    assert seen == [(300, 1000), (600, 1000), (900, 1000), (1000, 1000)]


def test_cancel_removes_the_temporary_file_and_keeps_the_old_one(tmp_path):
    out = tmp_path / "keep.csv"
    out.write_text("old content\n")
    seen = []

    def stop_after_two(done, total):
        seen.append(done)
        return len(seen) < 2

    with pytest.raises(ExportCancelled, match="cancelled at row 200 of 1,000"):
        write_trajectory_csv(out, odd_trajectory(1000, 2), chunk_rows=100,
                             progress=stop_after_two)
    assert seen == [100, 200]  # stopped right there
    assert out.read_text() == "old content\n" and os.listdir(tmp_path) == ["keep.csv"]
    assert issubclass(ExportCancelled, ExportError)


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"),
                                     KeyboardInterrupt(), RuntimeError("a bug")])
def test_any_failure_mid_write_removes_the_temporary_file(tmp_path, failure):
    out = tmp_path / "keep.csv"
    out.write_text("old content\n")

    def fail(done, total):
        if done >= 200:
            raise failure

    expected = ExportError if isinstance(failure, OSError) else type(failure)
    with pytest.raises(expected):
        write_trajectory_csv(out, odd_trajectory(1000, 2), chunk_rows=100, progress=fail)
    assert out.read_text() == "old content\n" and os.listdir(tmp_path) == ["keep.csv"]


def test_a_full_disk_during_a_chunk_is_an_export_error_and_leaves_nothing(tmp_path, monkeypatch):
    import gd_explorer.core.io.export as export

    calls = []
    real = export._chunk_text

    def chunk_then_full(*args):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(*args)

    monkeypatch.setattr(export, "_chunk_text", chunk_then_full)
    with pytest.raises(ExportError, match="t.csv: No space left on device"):
        write_trajectory_csv(tmp_path / "t.csv", odd_trajectory(1000, 2), chunk_rows=100)
    assert os.listdir(tmp_path) == []


def test_a_trajectory_of_views_shares_the_recording_and_is_read_only():
    d = Descent(get_function("bowl"), make_optimizer("sgd", lr=0.1), [1.0, 1.0], max_steps=50)
    d.run()
    view, copied = d.trajectory(copy=False), d.trajectory()
    for name in ("params", "loss", "grad", "lr"):
        a, b = getattr(view, name), getattr(copied, name)
        assert np.shares_memory(a, d._rec if name != "lr" else d._lr), name
        assert not a.flags.writeable and np.array_equal(a, b)
    assert not np.shares_memory(copied.params, d._rec)
    assert (view.status, view.message) == (copied.status, copied.message)


def test_writing_200k_rows_of_views_needs_memory_of_one_chunk_not_of_the_file(tmp_path):
    # tracemalloc counts numpy's buffers; the whole text would be ~25 MB, the rows 11 MB
    n, chunk = 200_000, 4096
    d = Descent(get_function("bowl"), make_optimizer("sgd", lr=1e-6), [2.5, -1.5],
                max_steps=n - 1)
    traj = d.run(copy=False)
    assert len(traj.loss) == n and not traj.params.flags.owndata
    out = tmp_path / "big.csv"
    tracemalloc.start()
    try:
        write_trajectory_csv(out, traj, chunk_rows=chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = out.stat().st_size
    assert size > 20_000_000
    per_chunk = size / n * chunk  # the text of one chunk, ~0.5 MB
    assert peak < 8 * per_chunk, (peak, per_chunk)
    assert peak < size / 5


def test_the_cli_streams_a_trajectory_of_views(tmp_path, monkeypatch):
    import gd_explorer.cli as cli

    seen = {}
    real = cli.write_trajectory_csv

    def spy(path, traj, **kwargs):
        seen["traj"] = traj
        return real(path, traj, **kwargs)

    monkeypatch.setattr(cli, "write_trajectory_csv", spy)
    out = tmp_path / "t.csv"
    assert cli.main(["run", "--function", "bowl", "--steps", "50", "--tol", "0",
                     "--out", str(out)]) == 0
    traj = seen["traj"]
    assert not traj.params.flags.owndata and not traj.params.flags.writeable
    assert out.read_text() == old_csv_text(traj)


@pytest.mark.parametrize(("index", "label", "name"), [
    (1, "Adam lr=0.01", "run1-Adam_lr=0.01.csv"),
    (2, "SGD momentum=0.9 lr=0.001 cosine", "run2-SGD_momentum=0.9_lr=0.001_cosine.csv"),
    (3, "../../etc/passwd", "run3-.._.._etc_passwd.csv"),
    (4, "", "run4-run.csv"),
    (5, "∂ ✓ <b>", "run5-b.csv"),
])
def test_export_all_file_names(index, label, name):
    assert csv_file_name(index, label) == name
    assert "/" not in csv_file_name(index, label)


# ---------------------------------------------------------------- scalar columns
def _net_trajectory(steps: int = 40):
    from gd_explorer.core.problems.nets import net_objective

    obj = net_objective("moons", "mlp", "2-6-1", "tanh", samples=40)
    d = Descent(obj, make_optimizer("adam", lr=0.05), np.asarray(obj.start), max_steps=steps)
    return d.run()


def _cells(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.splitlines()]


def test_scalar_columns_are_the_norms_of_the_recorded_rows():
    """step, loss, |g|, |p|, |p_(k+1) − p_k| (empty on the last row: no update leaves it)
    and lr, checked against numpy's norms of the trajectory's rows."""
    from gd_explorer.core.io.export import SCALAR_COLUMNS

    traj = _net_trajectory()
    rows = _cells(trajectory_csv_text(traj, columns="scalar"))
    assert rows[0] == list(SCALAR_COLUMNS) == ["step", "loss", "grad_norm", "param_norm",
                                                 "update_norm", "lr"]
    body = rows[1:]
    assert len(body) == len(traj.loss) == 41
    assert [int(r[0]) for r in body] == list(range(41))
    np.testing.assert_array_equal([float(r[1]) for r in body], traj.loss)
    np.testing.assert_allclose([float(r[2]) for r in body],
                               np.linalg.norm(traj.grad, axis=1), rtol=1e-14)
    np.testing.assert_allclose([float(r[3]) for r in body],
                               np.linalg.norm(traj.params, axis=1), rtol=1e-14)
    np.testing.assert_allclose([float(r[4]) for r in body[:-1]],
                               np.linalg.norm(np.diff(traj.params, axis=0), axis=1), rtol=1e-14)
    assert body[-1][4] == ""
    np.testing.assert_array_equal([float(r[5]) for r in body], traj.lr)


@pytest.mark.parametrize("chunk_rows", [1, 2, 7, 40, 41, 1000])
def test_scalar_chunks_carry_the_update_across_chunk_boundaries(chunk_rows):
    traj = _net_trajectory()
    whole = trajectory_csv_text(traj, columns="scalar")
    assert "".join(t for _, t in csv_chunks(traj, chunk_rows, "scalar")) == whole
    assert ",," not in whole.splitlines()[-2]  # the row before the last has its update


def test_a_scalar_file_is_refused_by_the_reader_with_the_reason(tmp_path):
    traj = _net_trajectory(5)
    path = tmp_path / "scalar.csv"
    assert write_trajectory_csv(path, traj, columns="scalar") == 6
    with pytest.raises(ValueError, match="scalar columns only.*no parameters to read back"):
        read_trajectory_csv(path)
    full = tmp_path / "all.csv"
    write_trajectory_csv(full, traj, columns="all")  # the default format reads back exactly
    back = read_trajectory_csv(full)
    np.testing.assert_array_equal(back.params, traj.params)
    np.testing.assert_array_equal(back.grad, traj.grad)


def test_unknown_columns_are_refused_before_anything_is_written(tmp_path):
    traj = _net_trajectory(2)
    with pytest.raises(ValueError, match="columns must be one of all, scalar"):
        write_trajectory_csv(tmp_path / "x.csv", traj, columns="some")
    assert list(tmp_path.iterdir()) == []
