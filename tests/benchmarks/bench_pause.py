"""Pause benchmark: how long Pause blocks the UI thread, with a healthy and a stopped
engine process, and how long a stopped one takes to be reported.

Run from the repository root (offscreen is fine; POSIX only, it uses SIGSTOP)::

    uv run python tests/benchmarks/bench_pause.py [--repeats 5]

Prints medians; no assertions.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _pid(engine) -> int:
    pid = getattr(engine, "pid", None)
    return pid if pid is not None else engine._proc.pid  # before the engine had .pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from gd_explorer.core.engine.process import shared_engine
    from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session
    from gd_explorer.model.explorer import ExplorerModel

    app = QApplication.instance() or QApplication([])
    session = Session(problem=ProblemSpec(kind="function", function="rosenbrock"),
                      runs=(RunSpec(optimizer="sgd", lr=1e-3, hyper={"momentum": 0.9}),
                            RunSpec(optimizer="adam", lr=0.01),
                            RunSpec(optimizer="rmsprop", lr=1e-3)),
                      start=(-1.5, 2.0), max_steps=50_000_000, tol=0.0)

    def spin(seconds: float, until=lambda: False) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and not until():
            app.processEvents()
            time.sleep(0.002)

    healthy, stopped, reported = [], [], []
    model = ExplorerModel(session)
    failures = []
    model.failed.connect(lambda text: failures.append((time.perf_counter(), text)))
    for _ in range(args.repeats):
        model.start_running()
        spin(0.4)
        t0 = time.perf_counter()
        model.pause()
        healthy.append(time.perf_counter() - t0)
    for _ in range(args.repeats):
        model.start_running()
        spin(0.6)
        pid = _pid(shared_engine())
        os.kill(pid, signal.SIGSTOP)
        failures.clear()
        t0 = time.perf_counter()
        model.pause()
        stopped.append(time.perf_counter() - t0)
        spin(15.0, until=lambda: bool(failures))
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if failures:
            reported.append(failures[0][0] - t0)
        spin(0.3)
    model.shutdown()
    print(f"seconds, median of {args.repeats} (min-max)")
    for label, values in (("pause, healthy engine", healthy),
                          ("pause, stopped engine", stopped),
                          ("stopped engine reported after", reported)):
        if values:
            print(f"  {label:<32} {statistics.median(values):7.3f}"
                  f"  ({min(values):.3f}-{max(values):.3f})")
    if failures:
        print(f"  reported as: {failures[0][1]!r}")


if __name__ == "__main__":
    main()
