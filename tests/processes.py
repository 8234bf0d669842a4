"""Helpers for tests that stop child processes (no Qt here: core tests use them too)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading


def gone(pid: int) -> bool:
    """True when no process ``pid`` exists any more."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@contextlib.contextmanager
def stopping(guard_seconds: float):
    """Yields ``stop(pid)``, which SIGSTOPs a process. Every process stopped is continued
    and killed on exit whatever happens, and also after ``guard_seconds``, so that a test
    of code that waits for a stopped process fails instead of hanging."""
    pids: list[int] = []

    def stop(pid: int) -> int:
        pids.append(pid)
        os.kill(pid, signal.SIGSTOP)
        return pid

    def end_all():
        for pid in pids:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass

    guard = threading.Timer(guard_seconds, end_all)
    guard.start()
    try:
        yield stop
    finally:
        guard.cancel()
        end_all()
