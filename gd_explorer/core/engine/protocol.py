"""The messages between the app and its engine process: frozen dataclasses, checked when made.

Commands go from the parent to the child (:data:`COMMANDS`), replies back (:data:`REPLIES`);
:mod:`gd_explorer.core.engine.process` frames and sends them, and both of its sides
``match`` on their type.  Every message checks its fields in ``__post_init__`` and pickles
as a call of its own constructor (``__reduce__``), so the checks also run on the side
that unpickles it; a pickle that tries to set a message's fields any other way is refused
(``__setstate__``).

The child reads its stdin with :func:`command_from`: an unpickler that knows the command
classes and nothing else (no other class, no function), then a check that what it built
is a command.  What a command carries is plain data (str, int, float, bytes); a run's
descents and the objective travel as pickles inside it (:attr:`RunJob.runs`,
:attr:`LoadObjective.data`), unpickled by the child only once the command is known good,
so that one which does not load fails its run and the stream goes on.
"""

from __future__ import annotations

import io
import math
import pickle
import reprlib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the child imports numpy only once a run arrives: it heartbeats first
    import numpy as np

    from gd_explorer.core.engine.descent import LiveState


class ProtocolError(Exception):
    """A frame that does not follow the protocol (framing, pickle or message shape)."""


def _whole(owner: str, name: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{owner}.{name} must be an int, got {reprlib.repr(v)}")


def _speed(owner: str, name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{owner}.{name} must be a number, got {reprlib.repr(v)}")
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{owner}.{name} must be finite and >= 0, got {v!r}")
    return float(v)


def _bytes(owner: str, name: str, v) -> None:
    if not isinstance(v, bytes):
        raise TypeError(f"{owner}.{name} must be bytes, got {type(v).__name__}")


class _Message:
    """Pickles as a call of its constructor, so the receiving side checks it too."""

    __slots__ = ()

    def __reduce__(self):
        return type(self), tuple(getattr(self, f.name) for f in fields(self))

    def __setstate__(self, state):
        raise ProtocolError(f"{type(self).__name__} takes no state but its fields")


# ============================================================================ commands
@dataclass(frozen=True)
class LoadObjective(_Message):
    """What the next runs descend: ``data`` is the objective's pickle."""

    data: bytes

    def __post_init__(self):
        _bytes("LoadObjective", "data", self.data)


@dataclass(frozen=True)
class RunJob(_Message):
    """Advance runs, at ``speed`` steps per second per run (0: as fast as possible).

    ``runs`` is the pickle of ``[(run_id, continuation), ...]`` whose descents refer to
    the objective of the last :class:`LoadObjective` by name; every answer carries ``job``.
    """

    job: int
    speed: float
    runs: bytes

    def __post_init__(self):
        _whole("RunJob", "job", self.job)
        object.__setattr__(self, "speed", _speed("RunJob", "speed", self.speed))
        _bytes("RunJob", "runs", self.runs)


@dataclass(frozen=True)
class SetSpeed(_Message):
    """Change the pace of the running job (0: as fast as possible)."""

    steps_per_second: float

    def __post_init__(self):
        object.__setattr__(self, "steps_per_second",
                           _speed("SetSpeed", "steps_per_second", self.steps_per_second))


@dataclass(frozen=True)
class Pause(_Message):
    """Stop advancing between two chunks; the job then ends with its :class:`Done`."""


@dataclass(frozen=True)
class Exit(_Message):
    """End the child (as closing its stdin does)."""


# ============================================================================ replies
@dataclass(frozen=True)
class RunRows(_Message):
    """One run's new rows, ``(m, k, 2d + 1)`` and ``(m,)``, and its live state.

    :meth:`~gd_explorer.core.engine.descent.Descent.drain_rows` and
    :meth:`~gd_explorer.core.engine.descent.Descent.live_state` of a continuation make
    it; :meth:`~gd_explorer.core.engine.descent.Descent.absorb` of the original takes it.
    """

    run_id: int
    rows: np.ndarray
    lrs: np.ndarray
    live: LiveState

    def __post_init__(self):
        import numpy as np  # only here: rows exist only once numpy is loaded

        from gd_explorer.core.engine.descent import LiveState

        _whole("RunRows", "run_id", self.run_id)
        if not (isinstance(self.rows, np.ndarray) and self.rows.ndim == 3):
            raise TypeError(f"RunRows.rows must be an (m, k, w) array, got "
                            f"{reprlib.repr(self.rows)}")
        if not (isinstance(self.lrs, np.ndarray) and self.lrs.shape == self.rows.shape[:1]):
            raise TypeError(f"RunRows.lrs must be an array of {len(self.rows)} rates, got "
                            f"{reprlib.repr(self.lrs)}")
        if not isinstance(self.live, LiveState):
            raise TypeError(f"RunRows.live must be a LiveState, got {type(self.live).__name__}")

    @classmethod
    def drained(cls, run_id: int, descent, final: bool = False) -> RunRows:
        """Take the rows ``descent`` recorded so far and its live state."""
        rows, lrs = descent.drain_rows()
        return cls(run_id, rows, lrs, descent.live_state(final))

    def absorb_into(self, descent) -> None:
        """Append these rows to ``descent`` and give it this live state."""
        descent.absorb(self.rows, self.lrs, self.live)


def _run_rows(owner: str, runs) -> tuple:
    if not isinstance(runs, (tuple, list)) or not all(isinstance(r, RunRows) for r in runs):
        raise TypeError(f"{owner}.runs must be a sequence of RunRows, got {reprlib.repr(runs)}")
    return tuple(runs)


@dataclass(frozen=True)
class Frame(_Message):
    """The rows the runs of ``job`` recorded since the last frame (they go on)."""

    job: int
    runs: tuple[RunRows, ...]

    def __post_init__(self):
        _whole("Frame", "job", self.job)
        object.__setattr__(self, "runs", _run_rows("Frame", self.runs))


@dataclass(frozen=True)
class Done(_Message):
    """The last rows and final states of ``job`` (paused, finished, or stopped by
    ``error``, a line for the user).  Every :class:`RunJob` gets exactly one."""

    job: int
    runs: tuple[RunRows, ...]
    error: str | None = None

    def __post_init__(self):
        _whole("Done", "job", self.job)
        object.__setattr__(self, "runs", _run_rows("Done", self.runs))
        if self.error is not None and not isinstance(self.error, str):
            raise TypeError(f"Done.error must be a str or None, got {reprlib.repr(self.error)}")


@dataclass(frozen=True)
class Alive(_Message):
    """The heartbeat: sent when the child has sent nothing else for a while."""


COMMANDS = (LoadObjective, RunJob, SetSpeed, Pause, Exit)
REPLIES = (Frame, Done, Alive)
Command = LoadObjective | RunJob | SetSpeed | Pause | Exit
Reply = Frame | Done | Alive

_COMMAND_CLASSES = {(c.__module__, c.__qualname__): c for c in COMMANDS}


class _CommandUnpickler(pickle.Unpickler):
    """Builds commands and nothing else: refuses every other class and every function,
    so garbage cannot build objects or call anything."""

    def find_class(self, module, name):
        cls = _COMMAND_CLASSES.get((module, name))
        if cls is None:
            raise ProtocolError(f"a command refers to {module}.{name}")
        return cls


def command_from(data: bytes) -> Command:
    """The command pickled in ``data``; :class:`ProtocolError` if it is not a good one."""
    try:
        msg = _CommandUnpickler(io.BytesIO(data)).load()
    except ProtocolError:
        raise
    except (TypeError, ValueError) as exc:  # raised by a command's checks, or garbage
        raise ProtocolError(f"not a well-formed command ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # anything garbage makes the unpickler raise
        raise ProtocolError(f"a frame does not unpickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(msg, COMMANDS):
        raise ProtocolError(f"not a command: {reprlib.repr(msg)}")
    return msg
