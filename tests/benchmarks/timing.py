"""Timing helper shared by the benchmark scripts (they import it from their own folder)."""

import statistics
import time


def median_time(fn, repeats):
    """Median wall time of ``fn()`` over ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
