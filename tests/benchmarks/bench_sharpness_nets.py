"""Benchmark: the sharpness of a network by 20 Lanczos steps on Hessian-vector products.

For a 2-16-16-1 tanh MLP on 200 moons (337 parameters) and a 2-29-29-1 one (987), prints
the median time of one Hessian-vector product and of 20 Lanczos steps with the exact
product (the R-operator, :meth:`NetObjective.hvp`) and with central differences of the
gradient (:func:`fd_hvp`, the default for objectives without an exact one), their λmax,
and, measured in the same run as the baseline, the full Hessian by differences of the
gradient plus ``eigvalsh`` that the sharpness view used before.
Target: 20 Lanczos steps at d <= 1,000 in <= 50 ms.

    uv run python tests/benchmarks/bench_sharpness_nets.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_time  # noqa: E402

from gd_explorer.core.problems.lanczos import lanczos  # noqa: E402
from gd_explorer.core.problems.nets import net_objective  # noqa: E402
from gd_explorer.core.problems.objectives import fd_hessian, fd_hvp  # noqa: E402

REPEATS = 7


def measure(layers: str, full: bool) -> None:
    """One net's rows of the table."""
    obj = net_objective("moons", "mlp", layers, "tanh", samples=200)
    rng = np.random.default_rng(0)
    p = (np.asarray(obj.start) + 0.1 * rng.normal(size=obj.dim))[None, :]
    v = rng.normal(size=p.shape)
    products = {"exact": lambda q: obj.hvp(p, q), "FD": lambda q: fd_hvp(obj, p, q)}
    lams = {}
    for name, product in products.items():
        t1 = median_time(lambda: product(v), REPEATS)  # noqa: B023 - called at once
        t20 = median_time(lambda: lanczos(product, 1, obj.dim, 20), REPEATS)  # noqa: B023
        lams[name] = lanczos(product, 1, obj.dim, 20).lmax[0]
        print(f"{layers:<12}{obj.dim:>6}{name:>9}{t1 * 1e3:>10.3f}{t20 * 1e3:>15.2f}"
              f"{lams[name]:>12.8f}")
    if full:
        def baseline():
            return np.linalg.eigvalsh(fd_hessian(obj, p))[:, -1]

        tf = median_time(baseline, 3)
        print(f"{layers:<12}{obj.dim:>6}{'full H':>9}{'':>10}{tf * 1e3:>15.2f}"
              f"{baseline()[0]:>12.8f}   (FD Hessian + eigvalsh, the old path)")
    print(f"{'':<27}|λ_exact − λ_FD| / λ = "
          f"{abs(lams['exact'] - lams['FD']) / abs(lams['exact']):.1e}")


def main():
    print(f"tanh MLPs on 200 moons, cross-entropy, at a perturbed start; median of {REPEATS}")
    print(f"{'net':<12}{'d':>6}{'product':>9}{'1 HVP ms':>10}{'20 Lanczos ms':>15}"
          f"{'λmax':>12}")
    measure("2-16-16-1", True)
    measure("2-29-29-1", False)


if __name__ == "__main__":
    main()
