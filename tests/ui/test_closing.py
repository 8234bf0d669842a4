"""Closing the app: at once even with a stopped engine process; and Ctrl+C (SIGINT) or
SIGTERM close it like Ctrl+Q: settings saved, status 0, no traceback (the real app in a
subprocess, its settings in a temporary folder)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.processes import gone
from tests.qtsupport import race_session

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_closing_the_window_with_a_stopped_engine_is_immediate(window, qtbot, stop_engine):
    window.model.apply_session(race_session(50_000_000))
    window.model.start_running()
    qtbot.waitUntil(lambda: min(s.n for s in window.model.snapshots()) > 1000, timeout=20_000)
    pid = stop_engine()
    t0 = time.perf_counter()
    window.close()
    assert time.perf_counter() - t0 < 1.0  # before: 5 s, then QThread.terminate
    qtbot.waitUntil(lambda: gone(pid), timeout=5000)


def _launch(tmp_path, *args):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config"),  # where QSettings writes on Linux
           "GD_EXPLORER_READY_FILE": str(tmp_path / "ready")}
    proc = subprocess.Popen([sys.executable, "-m", "gd_explorer", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (tmp_path / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the app did not come up (status {proc.returncode}): {err[-2000:]!r}")
        time.sleep(0.05)
    return proc


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_closes_the_window_saves_settings_and_exits_0(tmp_path, sig):
    proc = _launch(tmp_path)
    try:
        os.kill(proc.pid, getattr(signal, sig))
        _, err = proc.communicate(timeout=20)  # before: SIGINT did nothing (no Python ran)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-2000:]  # before: -15 for SIGTERM, settings lost
    assert b"Traceback" not in err, err[-2000:]
    conf = tmp_path / "config" / "gd-explorer" / "gd-explorer.conf"
    text = conf.read_text()  # before: never written
    assert "[window]" in text and "geometry=" in text
    assert "[session]" in text and "last=" in text


def test_a_second_signal_while_closing_does_not_traceback(tmp_path):
    proc = _launch(tmp_path)
    try:
        os.kill(proc.pid, signal.SIGINT)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode in (0, 130)  # closed, or forced out by the second one
    assert b"Traceback" not in err, err[-2000:]
