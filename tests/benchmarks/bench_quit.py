"""Quit benchmark: how long the app takes to exit after its window closes.

Run from the repository root (offscreen is fine)::

    uv run python tests/benchmarks/bench_quit.py [--repeats 5]

Each repeat starts the app in a subprocess (the real start-up path, ``cli.main([])``, with
its settings in a temporary folder), lets the runs advance in the engine process for a
moment, closes the window from a timer and times close -> process exit.  The child prints
timestamps at a few points on the way out, so the table also shows where the time goes.
A last row times SIGTERM -> exit of ``python -m gd_explorer`` (POSIX).  Prints medians;
no assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# time.time() is one clock for both processes; each marker is "<name> <seconds>"
CHILD = r"""
import atexit, sys, time
FORMULA = @FORMULA@
def mark(name):
    print(name, repr(time.time()), flush=True)
atexit.register(mark, "atexit_last")  # registered first: runs after every other handler
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)

def window():
    return next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")

def watch():
    window().closed.connect(lambda: mark("close_event_done"))

def start():
    model = window().model
    if FORMULA:  # the engine process imports sympy to rebuild it: seconds on slow machines
        from gd_explorer.core.session.specs import ProblemSpec
        model.set_problem(ProblemSpec(kind="function", function=FORMULA))
    model.start_running()

def close():
    mark("close")
    window().close()

QTimer.singleShot(0, watch)
QTimer.singleShot(@RUN_AFTER_MS@, start)
QTimer.singleShot(@CLOSE_AFTER_MS@, close)
from gd_explorer import cli
status = cli.main([])
mark("exec_returned")
atexit.register(mark, "atexit_first")
sys.exit(status)
"""

MARKERS = ("close_event_done", "exec_returned", "atexit_first", "atexit_last")


def one_quit(run_after_ms: int, close_after_ms: int, formula: str = "") -> dict[str, float]:
    """Seconds from the close to each marker and to the process exit ("exit")."""
    code = CHILD.replace("@RUN_AFTER_MS@", str(run_after_ms)).replace(
        "@CLOSE_AFTER_MS@", str(close_after_ms)).replace("@FORMULA@", repr(formula))
    with tempfile.TemporaryDirectory() as config:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": config}
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        marks = {}
        for line in proc.stdout:
            name, _, value = line.strip().partition(" ")
            if name == "close" or name in MARKERS:
                marks[name] = float(value)
        proc.wait()
        ended = time.time()
        err = proc.stderr.read()
    if proc.returncode != 0 or "close" not in marks:
        raise RuntimeError(f"the app exited with {proc.returncode}:\n{err[-2000:]}")
    out = {name: marks[name] - marks["close"] for name in MARKERS if name in marks}
    out["exit"] = ended - marks["close"]
    return out


#: (label, Run after ms (None: never), close after ms, typed formula or "")
SCENARIOS = (
    ("runs advancing", 500, 1500, ""),
    ("never ran", None, 1500, ""),
    ("closed while the engine loads", 0, 200, ""),
    ("closed while it imports sympy", 500, 800, "x^2*sin(y)"),
)


def one_sigterm() -> float:
    """Seconds from SIGTERM to the exit of ``python -m gd_explorer`` once it is up."""
    import signal

    with tempfile.TemporaryDirectory() as folder:
        ready = os.path.join(folder, "ready")
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": folder,
               "GD_EXPLORER_READY_FILE": ready}
        proc = subprocess.Popen([sys.executable, "-m", "gd_explorer"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not os.path.exists(ready):
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with {proc.returncode}")
            time.sleep(0.02)
        time.sleep(0.5)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        took = time.perf_counter() - t0
        proc.stderr.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"seconds from the window's close, median of {args.repeats} (min-max)")
    print(f"{'scenario':<30}" + "".join(f"{m:>22}" for m in (*MARKERS, "exit")))
    for label, run_after, close_after, formula in SCENARIOS:
        results = [one_quit(10**7 if run_after is None else run_after, close_after, formula)
                   for _ in range(args.repeats)]
        cells = []
        for name in (*MARKERS, "exit"):
            values = [r[name] for r in results if name in r]
            cells.append(f"{statistics.median(values):.3f} ({min(values):.2f}-{max(values):.2f})"
                         if values else "-")
        print(f"{label:<30}" + "".join(f"{c:>22}" for c in cells))
    if sys.platform != "win32":
        values = [one_sigterm() for _ in range(args.repeats)]
        cell = f"{statistics.median(values):.3f} ({min(values):.2f}-{max(values):.2f})"
        print(f"{'python -m gd_explorer, SIGTERM':<30}" + f"{'-':>22}" * len(MARKERS)
              + f"{cell:>22}")


if __name__ == "__main__":
    main()
