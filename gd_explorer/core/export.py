"""Trajectory CSV: the one format both ``gd-explorer run --out`` and the app write.

Columns, in order: ``step``, one column per parameter (``x``, ``y`` or ``w``, ``b`` …),
``loss``, ``grad_<name>`` per parameter, ``grad_norm``, ``lr``.  Row 0 is the start
point; row k the point after k updates with loss and gradient evaluated there; ``lr``
is the rate used for the update that leaves the row.  Floats are written with
``repr(float(v))`` (shortest text that reads back to the same double), so a file read
back gives the same numbers bit for bit.  Files are written atomically.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable

import numpy as np

from gd_explorer.core.engine import Trajectory


class ExportError(OSError):
    """Writing a file failed; the message names the file and the reason."""


def csv_header(names: Iterable[str]) -> list[str]:
    """The column names for parameters ``names``."""
    names = list(names)
    return ["step", *names, "loss", *(f"grad_{n}" for n in names), "grad_norm", "lr"]


def _fmt(v: float) -> str:
    v = float(v)
    return repr(v) if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))


def trajectory_csv_text(traj: Trajectory) -> str:
    """The CSV text of a trajectory (header and one line per row, ``\\n`` line ends)."""
    lines = [",".join(csv_header(traj.names))]
    gn = traj.grad_norm
    fmt = _fmt
    for i in range(len(traj.loss)):
        fields = [str(i)]
        fields.extend(fmt(c) for c in traj.params[i])
        fields.append(fmt(traj.loss[i]))
        fields.extend(fmt(c) for c in traj.grad[i])
        fields.append(fmt(gn[i]))
        fields.append(fmt(traj.lr[i]))
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    A failure never leaves a half-written file and never destroys an older one.

    Raises
    ------
    ExportError
        When the folder is missing or not writable, the disk is full, or ``path`` is a
        directory.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ExportError(f"cannot write {path}: it is a directory")
    if not os.path.isdir(folder):
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".gdx-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
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
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def write_trajectory_csv(path: str | os.PathLike, traj: Trajectory) -> None:
    """Write ``traj`` to ``path`` in the trajectory CSV format, atomically."""
    atomic_write_text(path, trajectory_csv_text(traj))


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
