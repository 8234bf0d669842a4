"""Trajectory CSV: the one format both ``gd-explorer run --out`` and the app write.

Columns, in order: ``step``, one column per parameter (``x``, ``y`` or ``w``, ``b`` …),
``loss``, ``grad_<name>`` per parameter, ``grad_norm``, ``lr``.  Row 0 is the start
point; row k the point after k updates with loss and gradient evaluated there; ``lr``
is the rate used for the update that leaves the row.

``columns="scalar"`` writes only :data:`SCALAR_COLUMNS`: ``step``, ``loss``,
``grad_norm``, ``param_norm`` (|p_k|), ``update_norm`` (|p_(k+1) − p_k|, the update that
leaves the row, as ``lr``; empty on the last row, which no update leaves yet) and ``lr``:
a few columns whatever the number of parameters (a network's 20,000 columns are 2 × 10,000
parameters and gradients).  Such a file has no parameters, so :func:`read_trajectory_csv`
refuses it with a message that says so.  Floats are written with
``repr(float(v))`` (shortest text that reads back to the same double; ``nan``, ``inf``,
``-inf`` as such), so a file read back gives the same numbers bit for bit.

Writing streams: :func:`write_trajectory_csv` formats and writes :data:`CHUNK_ROWS` rows
at a time into a temporary file next to the target and renames it into place at the end,
so its extra memory is O(chunk) whatever the length (give it a trajectory of views,
``Descent.trajectory(j, copy=False)``, and a 10-million-row export needs a few MB).  It
reports ``progress(rows_done, rows_total)`` after every chunk; a callback returning
``False`` cancels (:class:`ExportCancelled`).  Whatever stops a write (a full disk, a
cancel, an exception, Ctrl+C) removes the temporary ``.gdx-*.tmp`` file and leaves an
older file at ``path`` as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from gd_explorer.core.engine.descent import Trajectory, grad_norms

#: rows formatted and written at a time (about 2 MB of text for a 2-D run; a chunk takes
#: ~0.1 s, so progress and cancel respond quickly)
CHUNK_ROWS = 1 << 14

#: ``progress(rows_done, rows_total)``; returning False cancels the export
Progress = Callable[[int, int], "bool | None"]


class ExportError(OSError):
    """Writing a file failed; the message names the file and the reason."""


class ExportCancelled(ExportError):
    """The progress callback cancelled an export; nothing was written.

    A subclass of :class:`ExportError`, so code that reports write failures also covers a
    cancel; catch it first to treat a cancel as the user's choice, not an error.
    """


#: what a trajectory CSV holds: every parameter and gradient, or the scalar columns only
COLUMNS = ("all", "scalar")

#: the columns of ``columns="scalar"``
SCALAR_COLUMNS = ("step", "loss", "grad_norm", "param_norm", "update_norm", "lr")


def _check_columns(columns: str) -> str:
    if columns not in COLUMNS:
        raise ValueError(f"columns must be one of {', '.join(COLUMNS)}, got {columns!r}")
    return columns


def csv_header(names: Iterable[str], columns: str = "all") -> list[str]:
    """The column names for parameters ``names`` (``columns="scalar"``: :data:`SCALAR_COLUMNS`)."""
    if _check_columns(columns) == "scalar":
        return list(SCALAR_COLUMNS)
    names = list(names)
    return ["step", *names, "loss", *(f"grad_{n}" for n in names), "grad_norm", "lr"]


def csv_row_bytes(dim: int, columns: str = "all") -> int:
    """A rough size of one row in bytes (about 20 characters a number), to say how big a
    file will be before writing it."""
    return 20 * len(csv_header(("p",) * dim, columns))


def _few_reprs(values: np.ndarray) -> list[str]:
    """``repr`` of each value, formatting each distinct value once (rates repeat)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    bits = values.view(np.int64)  # exact: 0.0 and -0.0 differ, every NaN payload too
    if bits.size and np.all(bits == bits[0]):
        return [float.__repr__(float(values[0]))] * bits.size
    uniq, first, inverse = np.unique(bits, return_index=True, return_inverse=True)
    if uniq.size > bits.size // 4:
        return list(map(float.__repr__, values.tolist()))
    texts = [float.__repr__(float(values[i])) for i in first]
    return [texts[k] for k in inverse.tolist()]


def _chunk_text(first_step: int, params: np.ndarray, loss: np.ndarray, grad: np.ndarray,
                lr: np.ndarray) -> str:
    """The CSV lines of consecutive rows starting at step ``first_step``."""
    m, d = params.shape
    block = np.empty((m, 2 * d + 2))
    block[:, :d] = params
    block[:, d] = loss
    block[:, d + 1:2 * d + 1] = grad
    block[:, 2 * d + 1] = grad_norms(block[:, d + 1:2 * d + 1])  # per chunk: O(chunk)
    join, text = ",".join, float.__repr__  # float's own repr: 15% faster than repr()
    # tolist() gives Python floats, whose repr is the shortest round-trip text
    return "".join([f"{i},{join(map(text, row))},{rate}\n" for i, row, rate in
                    zip(range(first_step, first_step + m), block.tolist(), _few_reprs(lr))])


def _norms(rows: np.ndarray) -> np.ndarray:
    return grad_norms(np.asarray(rows, dtype=np.float64))


def _scalar_chunk_text(first_step: int, params: np.ndarray, loss: np.ndarray,
                       grad: np.ndarray, lr: np.ndarray) -> str:
    """Scalar CSV lines of rows ``first_step ..``; ``params`` holds one row more than the
    others when an update leaves the chunk's last row (its ``update_norm``)."""
    m = len(loss)
    block = np.empty((m, 3))
    block[:, 0] = loss
    block[:, 1] = _norms(grad)
    block[:, 2] = _norms(params[:m])
    with np.errstate(invalid="ignore", over="ignore"):
        step = _norms(np.diff(params, axis=0))  # m or m - 1 updates
    text = float.__repr__
    updates = list(map(text, step.tolist())) + [""] * (m - len(step))
    join = ",".join
    return "".join([f"{i},{join(map(text, row))},{u},{rate}\n" for i, row, u, rate in
                    zip(range(first_step, first_step + m), block.tolist(), updates,
                        _few_reprs(lr))])


def csv_chunks(traj: Trajectory, chunk_rows: int = CHUNK_ROWS,
               columns: str = "all") -> Iterator[tuple[int, str]]:
    """The CSV text of ``traj`` piece by piece: the header, then ``chunk_rows`` rows at a
    time, as ``(rows_done, text)``; ``columns`` one of :data:`COLUMNS`."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    scalar = _check_columns(columns) == "scalar"
    yield 0, ",".join(csv_header(traj.names, columns)) + "\n"
    n = len(traj.loss)
    for lo in range(0, n, chunk_rows):
        hi = min(lo + chunk_rows, n)
        if scalar:
            yield hi, _scalar_chunk_text(lo, traj.params[lo:hi + 1], traj.loss[lo:hi],
                                         traj.grad[lo:hi], traj.lr[lo:hi])
            continue
        yield hi, _chunk_text(lo, traj.params[lo:hi], traj.loss[lo:hi], traj.grad[lo:hi],
                              traj.lr[lo:hi])


def trajectory_csv_text(traj: Trajectory, columns: str = "all") -> str:
    """The CSV text of a trajectory (header and one line per row, ``\\n`` line ends).

    The whole file in memory: for short trajectories and tests; files are written by
    :func:`write_trajectory_csv`, which streams the same bytes.
    """
    return "".join(text for _, text in csv_chunks(traj, columns=columns))


def _check_destination(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ExportError(f"cannot write {path}: it is a directory")
    if not os.path.isdir(folder):
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    return folder


@contextlib.contextmanager
def _atomic_file(path: str | os.PathLike, binary: bool = False):
    """A text (or ``binary``) file handle whose content replaces ``path`` when the block ends normally.

    Writes go to a temporary file in the same folder, flushed, synced and renamed over
    ``path`` (keeping an existing file's permissions).  Any exception -- an OSError, a
    cancel, KeyboardInterrupt -- removes the temporary file and leaves ``path`` alone;
    OSErrors come out as :class:`ExportError` naming the file.
    """
    path = os.fspath(path)
    folder = _check_destination(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".gdx-", suffix=".tmp", dir=folder)
        with (os.fdopen(fd, "wb") if binary else
              os.fdopen(fd, "w", encoding="utf-8", newline="")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(path):
            try:
                os.chmod(tmp, os.stat(path).st_mode & 0o777)
            except OSError:
                pass
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        tmp = None
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    A failure never leaves a half-written file and never destroys an older one.

    Raises
    ------
    ExportError
        When the folder is missing or not writable, the disk is full, or ``path`` is a
        directory.
    """
    with _atomic_file(path) as fh:
        fh.write(text)


def atomic_write_chunks(path: str | os.PathLike, chunks: Iterable[str]) -> None:
    """:func:`atomic_write_text` for text made chunk by chunk (a big CSV, O(chunk) memory)."""
    with _atomic_file(path) as fh:
        for text in chunks:
            fh.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """:func:`atomic_write_text` for bytes (a PNG)."""
    with _atomic_file(path, binary=True) as fh:
        fh.write(data)


def write_trajectory_csv(path: str | os.PathLike, traj: Trajectory, *,
                         progress: Progress | None = None,
                         chunk_rows: int = CHUNK_ROWS, columns: str = "all") -> int:
    """Write ``traj`` to ``path`` in the trajectory CSV format, atomically, in chunks.

    Parameters
    ----------
    path, traj
        Where and what.  ``traj`` may hold views of a descent's recording
        (``Descent.trajectory(j, copy=False)``): nothing is copied but one chunk at a time.
    progress : callable, optional
        ``progress(rows_done, rows_total)`` after every chunk (from the calling thread);
        returning ``False`` stops the export (``None`` or ``True`` go on).
    chunk_rows : int
        Rows formatted and written at a time; memory is O(chunk_rows).
    columns : str
        ``"all"`` (every parameter and gradient) or ``"scalar"`` (:data:`SCALAR_COLUMNS`).

    Returns
    -------
    int
        The number of rows written (besides the header).

    Raises
    ------
    ExportCancelled
        When ``progress`` returned False; the temporary file is gone, ``path`` untouched.
    ExportError
        When the file cannot be written (missing folder, a directory, a full disk ...).
    ValueError
        For ``columns`` other than :data:`COLUMNS`.
    """
    total = len(traj.loss)
    _check_columns(columns)
    with _atomic_file(path) as fh:
        for done, text in csv_chunks(traj, chunk_rows, columns):
            fh.write(text)
            if done and progress is not None and progress(done, total) is False:
                raise ExportCancelled(f"export to {os.fspath(path)} cancelled at row "
                                      f"{done:,} of {total:,}; nothing was written")
    return total


def csv_file_name(index: int, label: str) -> str:
    """The file name "Export all" gives run ``index`` (1-based): ``run<i>-<label>.csv``.

    The label keeps letters, digits and ``. _ = -``; anything else becomes ``_`` (so a
    label never names a folder or a hidden file).
    """
    stem = re.sub(r"[^A-Za-z0-9._=-]+", "_", label).strip("_")
    return f"run{index}-{stem or 'run'}.csv"


def read_trajectory_csv(path: str | os.PathLike) -> Trajectory:
    """Read a trajectory CSV written by :func:`write_trajectory_csv` (exact values).

    Raises
    ------
    ValueError
        When the file is not in the trajectory format.
    """
    with open(path, encoding="utf-8-sig") as fh:
        lines = [ln for ln in fh.read().splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"{path}: empty file")
    header = lines[0].split(",")
    if header == list(SCALAR_COLUMNS):
        raise ValueError(f"{path}: this file holds the scalar columns only ({', '.join(header)})"
                         ": it has no parameters to read back (export with all columns)")
    if len(header) < 6 or header[0] != "step" or header[-2:] != ["grad_norm", "lr"]:
        raise ValueError(f"{path}: not a gd-explorer trajectory (header {lines[0]!r})")
    d = (len(header) - 4) // 2
    names = tuple(header[1:1 + d])
    if header != csv_header(names):
        raise ValueError(f"{path}: not a gd-explorer trajectory (header {lines[0]!r})")
    try:
        data = np.array([[float(f) for f in ln.split(",")] for ln in lines[1:]], dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    data = data.reshape(-1, len(header))
    return Trajectory(
        names=names,
        params=data[:, 1:1 + d].copy(),
        loss=data[:, 1 + d].copy(),
        grad=data[:, 2 + d:2 + 2 * d].copy(),
        lr=data[:, -1].copy(),
        status="",
    )
