"""Advancing descents in rounds, here or in a separate engine process.

The engine is pure Python: advancing a descent holds the GIL.  Inside a GUI process it
competes with the UI thread for it, and both lose (the UI stalls, the engine slows).  The
app therefore advances its descents in a child process, ``python -m
gd_explorer.core.engine.process``, on another core:

- The parent sends each descent's :meth:`~gd_explorer.core.engine.descent.Descent.continuation`
  (its state without the recorded rows) and the objective (once per objective).
- The child advances them with :func:`run_rounds` and, about every ``frame_seconds``,
  sends the new rows and live state of each; the parent appends them to its own descents
  (:meth:`~gd_explorer.core.engine.descent.Descent.absorb`), which so end up exactly as if they
  had advanced themselves (same code, same floats, bit for bit).
- :class:`~.protocol.Pause` stops the child between two chunks; it answers with the final
  state.
- The child also sends :class:`~.protocol.Alive` whenever it has sent nothing for
  ``PACING.heartbeat_seconds`` (a slow step, a paced run, loading, idle), so that silence
  means it is stopped or stuck: :meth:`EngineProcess.receive` gives up on a child silent
  for ``PACING.silence_seconds``, kills it and raises; the next run starts a fresh one
  (every pace is in :mod:`gd_explorer.core.engine.pacing`).

Messages are the frozen dataclasses of :mod:`gd_explorer.core.engine.protocol`, pickled,
with an 8-byte length prefix, on the child's stdin and stdout; each checks its fields
when it is made, on either side, and both sides ``match`` on their type.  The child reads
its stdin with an unpickler that builds the command classes and nothing else
(:func:`~.protocol.command_from`); the objective and the continuations travel as pickles
inside :class:`~.protocol.LoadObjective` and :class:`~.protocol.RunJob`, unpickled in
full (both ends are this module) only once the command around them has passed, so that
one which does not load fails its run with the reason and the stream goes on.  The
parent unpickles the replies of the child it started.  Descents refer to the objective
by name rather than carrying a copy each.  The child exits when its stdin closes, so it never outlives the
app.  A frame on its stdin that breaks the protocol (not one of the commands below, a
command with a wrong field, a truncated frame, bytes that do not unpickle, a class or
function other than a command's) ends it at once with exit status
:data:`EXIT_PROTOCOL_ERROR` and one line on stderr: a child that guessed at what its
parent meant could only run on in a state the parent no longer knows.

Parent to child (the commands)::

    LoadObjective(data)           the pickled objective the next runs descend
    RunJob(job, speed, runs)      runs: the pickle of [(run_id, continuation), ...]
    SetSpeed(steps_per_second)    0: as fast as possible
    Pause()
    Exit()

Child to parent (the replies; every RunJob gets exactly one Done)::

    Frame(job, runs)              runs: (RunRows(run_id, rows, lrs, live), ...)
    Done(job, runs, error)        the final rows and states; error: a line or None
    Alive()                       the heartbeat; EngineProcess.receive never returns it

``RunRows.live`` is the continuation's :class:`~.descent.LiveState`: made by
:meth:`~.descent.Descent.live_state` and read only by :meth:`~.descent.Descent.absorb`.

In the parent, a reader and a writer thread per child do the pipe I/O: no caller ever
blocks on a pipe (a stopped child stops reading, and a full pipe would block the writer),
and a caller waiting for a message can give up.
"""

from __future__ import annotations

import atexit
import functools
import io
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from gd_explorer.core.engine import pacing
from gd_explorer.core.engine.protocol import (
    REPLIES,
    Alive,
    Done,
    Exit,
    Frame,
    LoadObjective,
    Pause,
    ProtocolError,
    RunJob,
    RunRows,
    SetSpeed,
    command_from,
)

if TYPE_CHECKING:  # the child imports numpy only once a run arrives: it heartbeats first
    from gd_explorer.core.engine.descent import Descent

__all__ = ["EXIT_PROTOCOL_ERROR", "EngineProcess", "EngineProcessError", "ProtocolError",
           "close_shared_engine", "error_text", "run_rounds", "serve", "shared_engine"]

#: the child's exit status after a protocol error on its stdin
EXIT_PROTOCOL_ERROR = 2
#: no message is larger (a dataset objective of ten million rows pickles to ~200 MB)
MAX_MESSAGE_BYTES = 1 << 31

_HEADER = struct.Struct("<Q")
_OBJECTIVE_ID = "objective"


def run_rounds(descents: list[Descent], *, halt: threading.Event, speed: Callable[[], float],
               frame: Callable[[], None], frame_seconds: float | None = None) -> None:
    """Advance ``descents`` in rounds until ``halt`` is set or every one has finished.

    ``speed()`` is read every round: steps per second per run, 0 for as fast as possible.
    At full speed each round advances every active descent by one chunk, sized so that a
    round takes about ``PACING.round_seconds``; paced, each gets the steps that are due.
    ``frame()`` is called about every ``frame_seconds`` (default ``PACING.frame_seconds``)
    while anything moves.  The first
    chunk is one step (then it doubles while rounds are quick), so that a descent whose
    steps take seconds still sees ``halt`` after each one.
    """
    pace = pacing.PACING
    round_seconds = pace.round_seconds
    if frame_seconds is None:
        frame_seconds = pace.frame_seconds
    chunk = 1
    paced_speed = 0.0
    paced_since, paced_from = 0.0, {}
    last_frame = time.perf_counter()
    while not halt.is_set():
        active = [d for d in descents if not d.finished]
        if not active:
            return
        v = speed()
        start = time.perf_counter()
        if v > 0:
            if v != paced_speed:  # (re)start the clock, so a new speed does not catch up
                paced_speed, paced_since = v, start
                paced_from = {id(d): d.t for d in descents}
            for d in active:
                due = int(v * (start - paced_since)) + 1 - (d.t - paced_from.get(id(d), d.t))
                if due > 0:
                    d.advance(min(due, chunk))
                if halt.is_set():
                    break
        else:
            paced_speed = 0.0
            for d in active:
                d.advance(chunk)
                if halt.is_set():
                    break
        now = time.perf_counter()
        took = now - start
        # adapt the chunk so a round takes about round_seconds
        if took < round_seconds / 2:
            chunk = min(chunk * 2, 1 << 20)
        elif took > round_seconds * 2 and chunk > 1:
            chunk = max(1, chunk // 2)
        if now - last_frame >= frame_seconds:
            frame()
            last_frame = time.perf_counter()
        if v > 0 and took < 1.0 / v:
            halt.wait(min(0.02, 1.0 / v - took))  # sleep until the next step is due


# ============================================================================ framing
class _Pickler(pickle.Pickler):
    def __init__(self, file, objective):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._objective = objective

    def persistent_id(self, obj):
        # the objective travels once, in its own message; runs refer to it by name
        if self._objective is not None and obj is self._objective:
            return _OBJECTIVE_ID
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, objective):
        super().__init__(file)
        self._objective = objective

    def persistent_load(self, pid):
        if pid == _OBJECTIVE_ID and self._objective is not None:
            return self._objective
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


def _pickled(obj, objective=None) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, objective).dump(obj)
    return buf.getvalue()


def _unpickled(data: bytes, objective=None):
    return _Unpickler(io.BytesIO(data), objective).load()


def _framed(message) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def _read_upto(stream, n: int) -> bytes:
    """Up to ``n`` bytes: fewer only when the stream ends."""
    parts, got = [], 0
    while got < n:
        part = stream.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _read(stream, loads=pickle.loads):
    """The next message; EOFError when the stream ends between two messages.

    ProtocolError when it ends inside one or announces an impossible size; whatever
    ``loads`` raises for bytes that do not unpickle.
    """
    header = _read_upto(stream, _HEADER.size)
    if not header:
        raise EOFError("the other end closed the stream")
    if len(header) < _HEADER.size:
        raise ProtocolError(f"the stream ended inside a frame header ({len(header)} bytes)")
    (n,) = _HEADER.unpack(header)
    if n > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"a frame announces {n} bytes (at most {MAX_MESSAGE_BYTES})")
    data = _read_upto(stream, n)
    if len(data) < n:
        raise ProtocolError(f"the stream ended inside a frame ({len(data)} of {n} bytes)")
    return loads(data)


# ============================================================================ child side
def _drained(runs: list[tuple[int, Descent]], final: bool = False) -> tuple[RunRows, ...]:
    return tuple(RunRows.drained(run_id, d, final) for run_id, d in runs)


def _exit_now(reason: str, status: int) -> None:
    """End the child at once (from any thread), with ``reason`` on stderr if it failed."""
    if status and sys.stderr is not None:
        try:
            sys.stderr.write(f"gd-explorer engine process: {reason}\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # pragma: no cover - stderr gone as well
            pass
    os._exit(status)


def serve(inp, out, *, fatal: Callable[[str, int], None] = _exit_now) -> None:
    """The child's main loop: read commands from ``inp``, write frames to ``out``.

    Returns when ``inp`` ends (or on ``exit``).  A protocol error on ``inp`` calls
    ``fatal(reason, EXIT_PROTOCOL_ERROR)``, which must not return: the default ends the
    process at once, whatever the main loop is doing.
    """
    jobs: queue.Queue = queue.Queue()
    halt = threading.Event()
    speed = [0.0]
    send_lock = threading.Lock()
    last_sent = [time.monotonic()]

    def send(message) -> None:
        data = _framed(message)
        with send_lock:
            try:
                out.write(data)
                out.flush()
            except (OSError, ValueError):  # the parent has gone: nobody to work for
                fatal("the parent closed its end", 0)
            last_sent[0] = time.monotonic()

    def heartbeat() -> None:
        # A thread of its own: it beats through a slow step, a paced run, the unpickling
        # of a run (which may import sympy) and idleness alike.
        beat = pacing.PACING.heartbeat_seconds
        while True:
            time.sleep(beat / 2)
            if time.monotonic() - last_sent[0] >= beat:
                send(Alive())

    def read_commands() -> None:
        # A thread of its own, so that pause and speed arrive while the runs advance.
        # Objectives and runs come as pickles inside the message, so that one which does
        # not load fails its run (with the reason) and the stream goes on.
        objective, objective_error = None, None
        while True:
            try:
                msg = _read(inp, command_from)
            except EOFError:
                break
            except Exception as exc:  # ProtocolError, or the stream failing under us
                fatal(f"protocol error, stopping: {exc}", EXIT_PROTOCOL_ERROR)
                return
            match msg:
                case LoadObjective(data=data):
                    try:
                        objective, objective_error = _unpickled(data), None
                    except Exception as exc:
                        objective, objective_error = None, exc
                case RunJob(job=job, speed=pace, runs=payload):
                    try:
                        runs = _unpickled(payload, objective)
                    except Exception as exc:
                        runs = objective_error or exc
                    halt.clear()  # before queueing: a pause sent after this run must hold
                    speed[0] = pace
                    jobs.put((job, runs))
                case SetSpeed(steps_per_second=pace):
                    speed[0] = pace
                case Pause():
                    halt.set()
                case Exit():
                    break
        halt.set()
        jobs.put(None)

    threading.Thread(target=heartbeat, name="heartbeat", daemon=True).start()
    threading.Thread(target=read_commands, name="commands", daemon=True).start()
    while True:
        item = jobs.get()
        if item is None:
            return
        job, runs = item
        if isinstance(runs, Exception):
            send(Done(job, (), error_text(runs)))
            continue
        error = None
        try:
            run_rounds([d for _, d in runs], halt=halt, speed=lambda: speed[0],
                       frame=functools.partial(_send_frame, send, job, runs))
        except Exception as exc:
            error = error_text(exc)
        send(Done(job, _drained(runs, final=True), error))


def _send_frame(send, job: int, runs: list[tuple[int, Descent]]) -> None:
    send(Frame(job, _drained(runs)))


def error_text(exc: BaseException) -> str:
    """How an exception that stopped the runs is shown to the user (one line)."""
    detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"the descent stopped with an error: {detail}"


def main() -> None:
    """Entry point of the child (``python -m gd_explorer.core.engine.process``)."""
    # The protocol owns the real stdout; anything printed goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    if sys.stderr is not None:  # None under pythonw: then prints go nowhere
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    else:  # pragma: no cover - Windows without a console
        sys.stdout = open(os.devnull, "w")
    serve(sys.stdin.buffer, out)


# ============================================================================ parent side
class EngineProcessError(RuntimeError):
    """The engine process could not be started or went away."""


class _Child:
    """One engine process and the two threads that do its pipe I/O.

    The writer sends what :meth:`send` queues, the reader queues what arrives (all but
    the heartbeats) and notes when the child was last heard from; neither ever blocks a
    caller.  When the child's stdout ends the reader reaps it and queues :data:`_GONE`.
    """

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gd_explorer.core.engine.process"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
        )
        self.objective = None  # the last objective sent to this child
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.heard = time.monotonic()  # the child's clock starts at its start
        self.gone = False  # killed, or its stdout ended
        threading.Thread(target=self._write_all, name="engine-writer", daemon=True).start()
        threading.Thread(target=self._read_all, name="engine-reader", daemon=True).start()

    @property
    def alive(self) -> bool:
        return not self.gone and self.proc.poll() is None

    def send(self, message) -> None:
        self._outbox.put(_framed(message))

    def _write_all(self) -> None:
        stdin = self.proc.stdin
        while True:
            data = self._outbox.get()
            if data is None:
                break
            try:
                view = memoryview(data)
                while view:  # a raw pipe may take part of a large frame at a time
                    view = view[stdin.write(view):]
            except (OSError, ValueError):  # the child went away: the reader reports it
                break
        try:
            stdin.close()
        except OSError:
            pass

    def _read_all(self) -> None:
        try:
            while True:
                message = _read(self.proc.stdout)
                if not isinstance(message, REPLIES):  # not this module's child: gone
                    raise ProtocolError(f"not a reply: {type(message).__name__}")
                self.heard = time.monotonic()
                if not isinstance(message, Alive):
                    self.inbox.put(message)
        except Exception:  # EOF, a broken pipe, a truncated or garbled frame: gone
            pass
        self.gone = True
        self._outbox.put(None)
        self.inbox.put(_GONE)
        self.proc.stdout.close()
        try:
            self.proc.wait(5.0)  # reap it (after a kill, or its own exit)
        except subprocess.TimeoutExpired:  # pragma: no cover - stdout closed, still alive
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """End the child now (SIGKILL also ends a stopped one); the reader reaps it."""
        self.gone = True
        try:
            self.proc.kill()
        except OSError:  # pragma: no cover - already reaped
            pass
        self._outbox.put(None)

    def close(self, timeout: float) -> None:
        """Ask the child to exit, give it ``timeout`` seconds, then kill it."""
        self.send(Exit())
        self._outbox.put(None)  # the writer then closes stdin: the child's EOF
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
        self.gone = True


_GONE = object()  # queued by a child's reader once its stdout has ended


class EngineProcess:
    """The parent's handle on one engine process (started on first use).

    One client at a time: :meth:`acquire` / :meth:`release`.  :meth:`run` and
    :meth:`receive` belong to the client's thread; :meth:`pause`, :meth:`set_speed` and
    :meth:`kill` may be called from any thread and never block.
    """

    def __init__(self):
        self._lock = threading.Lock()  # guards swapping the child
        self._child: _Child | None = None  # the current child (started by start())
        self._job_child: _Child | None = None  # the child the last run went to
        self._owner = threading.Lock()
        self._job = 0

    @property
    def alive(self) -> bool:
        """True while the child runs."""
        child = self._child
        return child is not None and child.alive

    @property
    def pid(self) -> int | None:
        """The current child's process id (None before the first start)."""
        child = self._child
        return None if child is None else child.proc.pid

    def start(self) -> None:
        """Start the child if it is not running (returns at once; it loads in parallel)."""
        self._started()

    def _started(self) -> _Child:
        with self._lock:  # two threads starting at once start one child
            child = self._child
            if child is not None and child.alive and \
                    time.monotonic() - child.heard >= pacing.PACING.silence_seconds:
                child.kill()  # stopped or stuck while idle: replace it before it fails a run
            if child is None or not child.alive:
                try:
                    self._child = _Child()
                except OSError as exc:
                    self._child = None
                    raise EngineProcessError(f"cannot start the engine process: {exc}") from exc
            return self._child

    def acquire(self) -> bool:
        """Take the process for one client; False if another client has it."""
        return self._owner.acquire(blocking=False)

    def release(self) -> None:
        """Give the process back."""
        self._owner.release()

    def run(self, objective, runs: list[tuple[int, Descent]], speed: float) -> int:
        """Send continuations of ``runs`` (which must all descend ``objective``).

        Returns the job number that the answers carry.  Raises ``pickle.PicklingError``,
        ``TypeError`` or ``AttributeError`` (nothing is sent) when something cannot be
        pickled, :class:`EngineProcessError` when the process cannot be started.
        """
        payload = _pickled([(rid, d.continuation()) for rid, d in runs], objective)
        objective_message = None
        child = self._started()
        if objective is not child.objective:
            objective_message = LoadObjective(_pickled(objective))
        if objective_message is not None:
            child.send(objective_message)
            child.objective = objective
        self._job += 1
        self._job_child = child  # receive() reads this child's answers, even if replaced
        child.send(RunJob(self._job, float(speed), payload))
        return self._job

    def receive(self, timeout: float | None = None) -> Frame | Done | None:
        """The next :class:`~.protocol.Frame` or :class:`~.protocol.Done` of the child the
        last run went to; None after ``timeout``.

        Raises :class:`EngineProcessError` when that child has gone, or when it has sent
        nothing (not even a heartbeat) for ``PACING.silence_seconds``: then it is stopped
        or stuck, and killed here.
        """
        child = self._job_child
        if child is None:
            raise EngineProcessError("the engine process is not running")
        silence = pacing.PACING.silence_seconds
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            now = time.monotonic()
            wait = child.heard + silence - now
            if deadline is not None:
                wait = min(wait, deadline - now)
            try:
                message = child.inbox.get(timeout=max(wait, 0.0))
            except queue.Empty:
                now = time.monotonic()
                if now - child.heard >= silence and not self._heard_after_all(child):
                    child.kill()
                    raise EngineProcessError("the engine process stopped answering") from None
                if deadline is not None and now >= deadline:
                    return None
                continue
            if message is _GONE:
                child.inbox.put(_GONE)  # every later receive fails the same way
                raise EngineProcessError("the engine process stopped unexpectedly")
            return message

    @staticmethod
    def _heard_after_all(child: _Child) -> bool:
        # One more heartbeat's grace before a kill: if this process itself was stopped
        # (or starved), the child's messages are waiting in the pipe, and the reader
        # thread needs a moment to note them.
        pace = pacing.PACING
        time.sleep(pace.heartbeat_seconds)
        return time.monotonic() - child.heard < pace.silence_seconds or not child.inbox.empty()

    def pause(self) -> None:
        """Ask the child to stop advancing (it answers with ``Done``); never blocks."""
        child = self._job_child
        if child is not None and child.alive:
            child.send(Pause())

    def set_speed(self, speed: float) -> None:
        """Change the pace of the running job; never blocks."""
        child = self._job_child
        if child is not None and child.alive:
            child.send(SetSpeed(float(speed)))

    def kill(self) -> None:
        """End the child at once (a hung child; the client's receive then fails)."""
        for child in {id(c): c for c in (self._job_child, self._child) if c is not None}.values():
            child.kill()

    def close(self, timeout: float = 0.2) -> None:
        """Ask the child to exit; kill it if it has not within ``timeout`` seconds.

        It keeps nothing the parent needs (the parent holds every row), so there is no
        reason to wait long: a stopped or busy child is simply killed.
        """
        with self._lock:
            children = {id(c): c for c in (self._job_child, self._child) if c is not None}
            self._child = None
        for child in children.values():
            if child.alive:
                child.close(timeout)


_shared: EngineProcess | None = None
_shared_lock = threading.Lock()


def shared_engine() -> EngineProcess:
    """The process-wide engine process (one child for every client of this process)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EngineProcess()
            atexit.register(close_shared_engine)
        return _shared


def close_shared_engine() -> None:
    """Stop the shared engine process, if one was started."""
    with _shared_lock:
        engine = _shared
    if engine is not None:
        engine.close()


if __name__ == "__main__":
    main()
