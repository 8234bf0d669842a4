"""Reference answers for the second-order and line-search entries (provenance for
test_second_order.py and the registry test's golden lookup), from scipy.optimize and
numpy, neither of which shares code with gd-explorer's optimizers.

Needs ``scipy`` (never a dependency of gd-explorer); run once, and its output
``scipy_golden.json`` is committed::

    ../torch-venv/bin/python tests/core/golden/generate_golden_scipy.py

Only the datasets' (x, y) values are taken from gd_explorer (the seeded built-in data);
objectives, gradients and Hessians are written out here by hand.  Each case records:

``final``
    the point scipy (or numpy's lstsq) converges to: ours must agree to ``atol``;
``iterations``
    scipy's iteration count where one is comparable (``nit``);
``iterates``
    where the rule is fully determined by its text (Newton's pure step, Armijo
    backtracking from t = lr, Gauss–Newton), the first iterates of a from-scratch
    implementation here, to compare step by step.

Conventions that differ, and how they are compared:

* scipy's ``minimize(method="CG")`` is Polak–Ribière+ with its own line search
  (MINPACK's dcsrch, then a zoom; c2 = 0.4); ours is torch's strong-Wolfe search.  The
  iterates differ; the final points (and, loosely, the iteration counts) agree.
* gradient descent with a strong-Wolfe search: scipy has no such method; the reference
  runs steepest descent with ``scipy.optimize.line_search`` (strong Wolfe, c1 = 1e-4,
  c2 = 0.9) from t = 1, to the same gradient tolerance.
* Levenberg–Marquardt: scipy's ``least_squares(method="lm")`` is MINPACK's trust-region
  form; the solution is compared, not the λ sequence.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy import optimize

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
from gd_explorer.core.problems.datasets import get_dataset  # noqa: E402 - the data only

OUT = Path(__file__).with_name("scipy_golden.json")
GTOL = 1e-9


def rosenbrock(p):
    x, y = p
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosenbrock_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def rosenbrock_hess(p):
    x, y = p
    return np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])


def himmelblau(p):
    x, y = p
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def himmelblau_grad(p):
    x, y = p
    a, b = x * x + y - 11, x + y * y - 7
    return np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])


def himmelblau_hess(p):
    x, y = p
    a, b = x * x + y - 11, x + y * y - 7
    return np.array([[8 * x * x + 4 * a + 2, 4 * x + 4 * y], [4 * x + 4 * y, 8 * y * y + 4 * b + 2]])


def quadratic(diag):
    diag = np.asarray(diag, dtype=float)
    return (lambda p: float(diag @ (np.asarray(p) ** 2)), lambda p: 2 * diag * np.asarray(p),
            lambda p: np.diag(2 * diag))


FEATURES = {
    "linear": lambda x: np.stack([x, np.ones_like(x)], axis=1),
    "quadratic": lambda x: np.stack([x * x, x], axis=1),
    "quadratic-full": lambda x: np.stack([x * x, x, np.ones_like(x)], axis=1),
}


def fit(dataset, model):
    """MSE of a linear-in-θ model: f = mean((Φθ − y)²); its residuals and Jacobian Φ."""
    ds = get_dataset(dataset)
    phi, y = FEATURES[model](ds.x), ds.y
    n = y.size
    return {
        "f": lambda p: float(np.mean((phi @ p - y) ** 2)),
        "g": lambda p: 2 * phi.T @ (phi @ p - y) / n,
        "h": lambda p: 2 * phi.T @ phi / n,
        "r": lambda p: phi @ p - y,
        "jac": lambda p: phi,
        "d": phi.shape[1],
    }


PROBLEMS = {
    "rosenbrock": ({"f": rosenbrock, "g": rosenbrock_grad, "h": rosenbrock_hess}, [-1.5, 2.0]),
    "himmelblau": ({"f": himmelblau, "g": himmelblau_grad, "h": himmelblau_hess}, [1.0, 1.0]),
    "ill_conditioned": (dict(zip("fgh", quadratic([1.0, 10.0]))), [-4.0, 1.5]),
    "bowl": (dict(zip("fgh", quadratic([1.0, 1.0]))), [2.5, -2.0]),
    "noisy_line_linear": (fit("noisy-line", "linear"), [0.0, 0.0]),
    "noisy_parabola_quadratic_full": (fit("noisy-parabola", "quadratic-full"), [0.0, 0.0, 0.0]),
    "fence_quadratic": (fit("fence", "quadratic"), [0.0, 0.0]),
}


def floats(a):
    return [float(v) for v in np.ravel(a)]


def minimize_final(problem, method, **kw):
    prob, start = PROBLEMS[problem]
    res = optimize.minimize(prob["f"], np.array(start, float), jac=prob["g"], method=method,
                            hess=prob["h"] if method in ("Newton-CG", "trust-exact") else None,
                            options={"gtol": GTOL, "maxiter": 100000, **kw} if method != "Newton-CG"
                            else {"xtol": 1e-12, "maxiter": 100000})
    return res


def newton_iterates(problem, steps):
    prob, start = PROBLEMS[problem]
    p = np.array(start, float)
    out = [floats(p)]
    for _ in range(steps):
        p = p - np.linalg.solve(prob["h"](p), prob["g"](p))
        out.append(floats(p))
    return out


def armijo_iterates(problem, lr, steps, c1=1e-4, shrink=0.5, max_ls=30):
    """Textbook backtracking (Nocedal & Wright Alg. 3.1) along −g from t = lr."""
    prob, start = PROBLEMS[problem]
    p = np.array(start, float)
    out = [floats(p)]
    for _ in range(steps):
        g = prob["g"](p)
        f0, t = prob["f"](p), lr
        for i in range(max_ls + 1):
            if prob["f"](p - t * g) <= f0 - c1 * t * float(g @ g) or i == max_ls:
                break
            t *= shrink
        p = p - t * g
        out.append(floats(p))
    return out


def wolfe_descent(problem, max_iter=100000):
    """Steepest descent with scipy's strong-Wolfe line_search, from t = 1."""
    prob, start = PROBLEMS[problem]
    p = np.array(start, float)
    for it in range(max_iter):
        g = prob["g"](p)
        if np.linalg.norm(g) <= GTOL:
            return p, it
        alpha = optimize.line_search(prob["f"], prob["g"], p, -g, gfk=g, c1=1e-4, c2=0.9)[0]
        if alpha is None:
            return p, it
        p = p - alpha * g
    return p, max_iter


def cases():
    out = []

    def case(name, optimizer, objective, kwargs, reference, final, atol, **extra):
        out.append({"name": name, "optimizer": optimizer, "objective": objective,
                    "start": PROBLEMS[objective][1], "kwargs": kwargs,
                    "reference": reference, "final": floats(final), "atol": atol, **extra})

    # Newton: closed form on quadratics (one step to the minimum); pure Newton iterates
    # and scipy's trust-exact answer on Rosenbrock
    for q in ("ill_conditioned", "bowl"):
        case(f"newton__{q}", "newton", q, {"lr": 1.0}, "closed form: one Newton step on a "
             "quadratic is its minimum", [0.0, 0.0], 1e-9, iterations=1,
             iterates=newton_iterates(q, 1))
    res = minimize_final("rosenbrock", "trust-exact")
    case("newton__rosenbrock", "newton", "rosenbrock", {"lr": 1.0},
         "scipy.optimize.minimize(method='trust-exact') final; iterates: x - H^-1 g by hand",
         res.x, 1e-7, iterations=int(res.nit), iterates=newton_iterates("rosenbrock", 6))
    # Gauss–Newton and LM on least-squares fits: numpy's lstsq, scipy's least_squares(lm)
    for q in ("noisy_line_linear", "noisy_parabola_quadratic_full", "fence_quadratic"):
        prob, start = PROBLEMS[q]
        ds_phi = prob["jac"](None)
        y = ds_phi @ np.zeros(prob["d"]) - prob["r"](np.zeros(prob["d"]))
        lstsq = np.linalg.lstsq(ds_phi, y, rcond=None)[0]
        lm = optimize.least_squares(prob["r"], np.array(start, float), jac=prob["jac"],
                                    method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
        case(f"gauss_newton__{q}", "gauss_newton", q, {"lr": 1.0},
             "numpy.linalg.lstsq (one Gauss-Newton step on a linear least-squares fit)",
             lstsq, 1e-8 * max(1.0, float(np.max(np.abs(lstsq)))), iterations=1,
             iterates=[floats(start), floats(lstsq)])
        case(f"levenberg_marquardt__{q}", "levenberg_marquardt", q, {"lr": 1.0},
             "scipy.optimize.least_squares(method='lm') final", lm.x,
             1e-7 * max(1.0, float(np.max(np.abs(lm.x)))), scipy_nfev=int(lm.nfev))
    # line searches and CG on Rosenbrock, Himmelblau and a dataset fit
    for q in ("rosenbrock", "himmelblau", "noisy_line_linear"):
        cg = minimize_final(q, "CG")
        for rule in ("polak_ribiere", "fletcher_reeves"):
            case(f"cg_{rule}__{q}", "cg", q, {"lr": 1.0, "beta_rule": rule},
                 "scipy.optimize.minimize(method='CG') final (PR+, its own line search)",
                 cg.x, 1e-6, iterations=int(cg.nit), comparable_iterations=rule ==
                 "polak_ribiere")
        p, it = wolfe_descent(q)
        case(f"gd_wolfe__{q}", "gd_wolfe", q, {"lr": 1.0},
             "steepest descent with scipy.optimize.line_search (strong Wolfe) final", p, 1e-6,
             iterations=int(it))
    for q, lr in (("rosenbrock", 1.0), ("himmelblau", 1.0), ("noisy_line_linear", 1.0)):
        bfgs = minimize_final(q, "BFGS")
        case(f"gd_armijo__{q}", "gd_armijo", q, {"lr": lr},
             "scipy.optimize.minimize(method='BFGS') final; iterates: Armijo backtracking "
             "by hand", bfgs.x, 1e-6, iterates=armijo_iterates(q, lr, 40))
    return out


def main():
    data = {"generator": "tests/core/golden/generate_golden_scipy.py",
            "versions": {"scipy": scipy.__version__, "numpy": np.__version__,
                         "python": sys.version.split()[0]},
            "gtol": GTOL, "cases": cases()}
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(data['cases'])} cases to {OUT.name}")
    for c in data["cases"]:
        print(f"  {c['name']:<48} final {np.round(c['final'], 6)} it {c.get('iterations')}")


if __name__ == "__main__":
    main()
