"""Shared test helpers."""

import numpy as np


def central_difference(f, p, h=1e-6):
    """Central-difference gradient of scalar ``f`` at point ``p`` (relative step)."""
    p = np.asarray(p, dtype=np.float64)
    g = np.empty_like(p)
    for i in range(p.size):
        step = h * max(1.0, abs(p[i]))
        e = np.zeros_like(p)
        e[i] = step
        g[i] = (f(p + e) - f(p - e)) / (2 * step)
    return g
