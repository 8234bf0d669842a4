"""A third problem kind, made outside the package: a quadratic bowl with a given Hessian.

f(θ) = ½ θᵀHθ with H symmetric positive definite.  This module is everything such a
kind needs: an objective class and a :class:`ProblemKind` entry (fields, builder,
parameter names, session-file reader and writer, CLI flag, views).  Nothing in
``gd_explorer`` is edited for it; the tests register it with ``register_kind``.
It lives in a module of its own (not the test file) so that the engine process can
unpickle the objective.
"""

import numpy as np

from gd_explorer.core.io import fields as F
from gd_explorer.core.problems.kinds import COMMON_VIEWS, ProblemKind
from gd_explorer.core.problems.objectives import Objective, Optimum

DEFAULT_HESSIAN = ((2.0, 0.0), (0.0, 20.0))


class HessianBowl(Objective):
    """½ θᵀHθ: value and exact gradient Hθ, its minimum 0 at the origin."""

    def __init__(self, hessian):
        h = np.array(hessian, dtype=np.float64)
        d = h.shape[0]
        lam = float(np.linalg.eigvalsh(h)[-1])
        names = ("x", "y") if d == 2 else tuple(f"t{i + 1}" for i in range(d))
        super().__init__(
            name="quadratic bowl", names=names, formula="½ θᵀHθ",
            description=f"a quadratic bowl with Hessian {h.tolist()}",
            window=((-3.0, 3.0),) * d, start=(2.5,) * d,
            lr_sgd=float(f"{1.0 / lam:.2g}"), lr_adaptive=0.1,
            optima=(Optimum((0.0,) * d, 0.0),),
        )
        self.h = h

    def value_and_grad(self, p):
        p = np.asarray(p, dtype=np.float64)
        g = p @ self.h
        return 0.5 * np.einsum("ki,ki->k", g, p), g


def check_hessian(path: str, value) -> tuple[tuple[float, ...], ...]:
    """A symmetric positive definite matrix (at most 8 x 8) as tuples of floats."""
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 8:
        raise F.fail(path, "must be a square matrix [[...], ...] of 1 to 8 rows, "
                           f"got {F.describe(value)}")
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, (list, tuple)) or len(row) != len(value):
            raise F.fail(f"{path}[{i}]", f"must be a row of {len(value)} numbers, "
                                         f"got {F.describe(row)}")
        rows.append(tuple(F.real(f"{path}[{i}][{j}]", v) for j, v in enumerate(row)))
    h = np.array(rows)
    if not np.array_equal(h, h.T):
        raise F.fail(path, "must be symmetric")
    if float(np.linalg.eigvalsh(h)[0]) <= 0:
        raise F.fail(path, "must be positive definite (a bowl)")
    return tuple(rows)


class HessianKind(ProblemKind):
    name = "quadratic"
    title = "Quadratic"
    tooltip = "A quadratic bowl ½ θᵀHθ with the Hessian you give"
    fields = ("hessian",)
    defaults = {"hessian": DEFAULT_HESSIAN}  # a field of a later kind: files may lack it
    views = COMMON_VIEWS
    cli_flag = "--hessian"
    cli_metavar = "ROWS"
    cli_help = "a quadratic bowl with this Hessian, rows separated by ';' (e.g. '2,0;0,20')"

    def build(self, spec):
        return HessianBowl(spec.get("hessian"))

    def param_names(self, spec):
        d = len(spec.get("hessian"))
        return ("x", "y") if d == 2 else tuple(f"t{i + 1}" for i in range(d))

    def read_fields(self, path, d, active):
        return {"hessian": check_hessian(F.join(path, "hessian"), d["hessian"])}

    def write_fields(self, spec):
        return {"hessian": [[float(v) for v in row] for row in spec.get("hessian")]}

    def objective_from_cli(self, args):
        try:
            rows = [[float(v) for v in row.split(",")] for row in args.hessian.split(";")]
        except ValueError:
            raise ValueError(f"--hessian {args.hessian!r}: rows of numbers separated by "
                             "';', numbers by ','") from None
        return HessianBowl(check_hessian("--hessian", rows))
