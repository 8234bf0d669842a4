"""Second-order and line-search methods: Newton, Gauss–Newton, Levenberg–Marquardt,
gradient descent with Armijo or strong-Wolfe line searches, nonlinear conjugate gradient.

None of them is in torch.optim; each is one registry entry like the others (see
:mod:`gd_explorer.core.optim.base`) and asks the engine for what its step needs:

* ``needs_hessian``: the step gets ``hessian(points) -> (k, d, d)`` (Newton);
* ``needs_least_squares``: the step gets the objective's least-squares form (residuals
  and Jacobian, Gauss–Newton and Levenberg–Marquardt); other objectives are refused;
* ``evaluations = None``: the step gets ``closure(points) -> (values, grads)`` and
  evaluates trial points itself (the line searches, LM's trials).

The strong-Wolfe search is torch's (:func:`gd_explorer.core.optim.lbfgs._strong_wolfe`),
the one L-BFGS uses.  ``maximize`` minimises −f (Gauss–Newton and LM refuse it: a sum of
squares has no maximum).  References: Nocedal & Wright, *Numerical Optimization* (2006),
ch. 3 (line searches, Newton with a modified Hessian), 5 (nonlinear CG), 10 (least
squares); Marquardt (1963) for λ's ×10 / ÷10 rule.  ``tests/core/golden/
generate_golden_scipy.py`` records scipy.optimize's answers on the same problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gd_explorer.core.optim.base import Optimizer, OptimizerState
from gd_explorer.core.optim.hyper import HyperParameter
from gd_explorer.core.optim.lbfgs import _strong_wolfe


def _buffer():
    return field(default_factory=lambda: np.zeros((0, 0)))


def _column(k: int, value: float = 0.0) -> np.ndarray:
    return np.full((k, 1), value, dtype=np.float64)


def _num(v: float) -> str:
    return f"{float(v):.4g}"


def _scalar(state: dict, key: str) -> float | None:
    """One run's scalar buffer (``(1,)`` in a snapshot, ``(1, 1)`` in a state), or None."""
    a = state.get(key)
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64).ravel()
    return float(a[0]) if a.size else None


def _pack_points(trials: list[list[np.ndarray]], d: int) -> np.ndarray:
    """Per-run lists of trial points as one NaN-padded ``(k, m, d)`` array."""
    m = max((len(t) for t in trials), default=0)
    out = np.full((len(trials), m, d), np.nan)
    for j, t in enumerate(trials):
        if t:
            out[j, :len(t)] = t
    return out


_C1 = HyperParameter("c1", "float", 1e-4, "sufficient decrease (Armijo) constant",
                     low=0.0, high=1.0, low_open=True, high_open=True)


def _c2(default: float) -> HyperParameter:
    return HyperParameter("c2", "float", default, "curvature constant of the strong Wolfe "
                          "conditions (c1 < c2 < 1)", low=0.0, high=1.0, low_open=True,
                          high_open=True)


_MAX_LS = HyperParameter("max_ls", "int", 25, "most line-search evaluations per step", low=1)


def _wolfe_search(f, x, d, gtd, t0, c1, c2, max_ls) -> tuple[float, int]:
    """torch's strong-Wolfe search along ``d`` from step ``t0`` for one run's ``f(x) ->
    (value, gradient)``: the accepted step and the evaluations (the one at ``x`` too)."""
    f0, g0 = f(x)

    def along(x0, t, direction):
        return f(x0 + t * direction)

    _, _, t, evals = _strong_wolfe(along, x, t0, d, f0, g0, gtd, c1=c1, c2=c2, max_ls=max_ls)
    return float(t), evals + 1


def _check_c1_c2(v):
    if not v["c1"] < v["c2"]:
        raise ValueError(f"c1 must be smaller than c2, got c1 = {v['c1']:g}, c2 = {v['c2']:g}")
    return v


# --------------------------------------------------------------------------- Newton
@dataclass
class NewtonState(OptimizerState):
    """Per run, ``(k, 1)``: ``lambda_min`` (the smallest eigenvalue of the Hessian of the
    minimised function at the step's point) and ``shift`` (what was added to its
    diagonal; 0 when it was positive definite enough)."""

    lambda_min: np.ndarray = _buffer()
    shift: np.ndarray = _buffer()


class Newton(Optimizer):
    """Newton's method, damped (lr is the fraction of the Newton step taken) and with
    the Hessian shifted to positive definite where it is not (Nocedal & Wright §3.4:
    a multiple of the identity added).

    The Hessian is the objective's own (exact where it is known, else central differences
    of the exact gradient), on the full batch; mini-batches are refused.  On a quadratic
    with lr = 1 the first step lands on the minimum.
    """

    name = "newton"
    title = "Newton's method (damped, shifted Hessian)"
    order = 150
    State = NewtonState
    buffer_names = ("lambda_min", "shift")
    buffer_notes = {"lambda_min": "smallest Hessian eigenvalue", "shift": "added to the "
                    "Hessian's diagonal"}
    adaptive = False
    lr_default = 1.0
    torch_lr = 1.0
    lr_origin = "default"
    coordinatewise = False
    needs_hessian = True
    params = (
        HyperParameter("min_curvature", "float", 1e-3, "δ: the smallest eigenvalue the "
                       "shifted Hessian keeps (H + (δ − λmin)·I when λmin < δ)", low=0.0,
                       low_open=True),
    )
    rule_text = (
        "H = ∇²f(p),  λmin = its smallest eigenvalue,  δ = min_curvature\n"
        "if λmin < δ:  H ← H + (δ − λmin)·I   (= (|λmin| + δ)·I when not positive definite)\n"
        "p ← p − lr·H⁻¹·g                      (lr = 1: the full Newton step)"
    )

    @classmethod
    def unmet_needs(cls, least_squares: bool, full_batch: bool) -> str | None:
        if not full_batch:
            return ("Newton's method needs the full batch (its Hessian): set the batch size "
                    "to 0")
        return None

    @classmethod
    def state_lines(cls, state):
        lam, shift = _scalar(state, "lambda_min"), _scalar(state, "shift")
        if lam is None or shift is None:
            return []
        if not np.isfinite(lam):
            return ["Hessian not finite: no Newton step"]
        if shift == 0:
            return [f"Hessian positive definite (λmin = {_num(lam)}): the plain Newton step"]
        if lam <= 0:
            return [f"Hessian not positive definite (λmin = {_num(lam)}): shifted by "
                    f"{_num(shift)}"]
        return [f"Hessian nearly singular (λmin = {_num(lam)} < δ): shifted by {_num(shift)}"]

    def init_state(self, p):
        k = np.asarray(p).shape[0]
        return NewtonState(step=0, lambda_min=_column(k, np.nan), shift=_column(k))

    def step(self, p, g, state, lr=None, closure=None, hessian=None):
        if hessian is None:
            raise ValueError("newton needs the objective's Hessian in its step")
        lr = self.lr if lr is None else lr
        state.step += 1
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        with np.errstate(all="ignore"):
            h = np.array(hessian(p), dtype=np.float64).reshape(k, d, d)
            if self.maximize:  # minimise −f
                g, h = -g, -h
            ok = np.all(np.isfinite(h), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
            h_safe = np.where(ok[:, None, None], h, np.eye(d))
            lam = np.linalg.eigvalsh(h_safe)[:, 0]
            shift = np.where(lam < self.hyper.min_curvature, self.hyper.min_curvature - lam, 0.0)
            shifted = h_safe + shift[:, None, None] * np.eye(d)
            s = np.linalg.solve(shifted, np.where(ok[:, None], g, 0.0)[..., None])[..., 0]
            new_p = np.where(ok[:, None], p - lr * s, np.nan)
        state.lambda_min = np.where(ok, lam, np.nan)[:, None]
        state.shift = np.where(ok, shift, np.nan)[:, None]
        return new_p


# --------------------------------------------------------------------------- least squares
class _LeastSquaresMethod(Optimizer):
    """Shared by Gauss–Newton and LM: refuses other objectives, mini-batches and ascent."""

    adaptive = False
    lr_default = 1.0
    torch_lr = 1.0
    lr_origin = "default"
    coordinatewise = False
    needs_least_squares = True
    method = ""

    @classmethod
    def unmet_needs(cls, least_squares, full_batch):
        if not least_squares:
            return f"{cls.method} needs a least-squares fit (a dataset with the MSE loss)"
        if not full_batch:
            return f"{cls.method} needs the full batch: set the batch size to 0"
        return None

    def validate(self, values):
        if self.maximize:
            raise ValueError(f"{self.method} minimizes a sum of squares: it cannot maximize")
        return values


@dataclass
class GaussNewtonState(OptimizerState):
    """Per run, ``(k, 1)``: ``residual_norm`` ‖r‖ at the step's point and ``rank`` of the
    Jacobian there (below the parameter count: the minimum-norm step is taken)."""

    residual_norm: np.ndarray = _buffer()
    rank: np.ndarray = _buffer()


class GaussNewton(_LeastSquaresMethod):
    """Gauss–Newton for least-squares fits: the step solves the linearised problem
    min ‖r + J·s‖ (numpy's lstsq; the minimum-norm solution if J is rank-deficient).

    For a model linear in its parameters (every model here) the linearisation is exact:
    with lr = 1 the first step is the least-squares solution itself.
    """

    name = "gauss_newton"
    title = "Gauss–Newton (least squares)"
    order = 160
    method = "Gauss–Newton"
    State = GaussNewtonState
    buffer_names = ("residual_norm", "rank")
    buffer_notes = {"residual_norm": "‖r‖ at the step's point", "rank": "rank of J"}
    rule_text = (
        "r = F(p) − y,  J = ∂r/∂p     (loss = mean(r²))\n"
        "s = argmin ‖r + J·s‖  = −(JᵀJ)⁻¹Jᵀr   (lstsq: minimum norm if J is rank-deficient)\n"
        "p ← p + lr·s                  (lr = 1: the full Gauss–Newton step)"
    )

    @classmethod
    def state_lines(cls, state):
        rn, rank = _scalar(state, "residual_norm"), _scalar(state, "rank")
        if rn is None or rank is None or not np.isfinite(rank):
            return []
        return [f"‖r‖ = {_num(rn)}, Jacobian rank {int(rank)}"]

    def init_state(self, p):
        k = np.asarray(p).shape[0]
        return GaussNewtonState(step=0, residual_norm=_column(k, np.nan), rank=_column(k, np.nan))

    def step(self, p, g, state, lr=None, closure=None, least_squares=None):
        if least_squares is None:
            raise ValueError(f"{self.method} needs a least-squares fit in its step")
        lr = self.lr if lr is None else lr
        state.step += 1
        p = np.asarray(p, dtype=np.float64)
        new_p = np.full_like(p, np.nan)
        with np.errstate(all="ignore"):
            r = least_squares.residuals(p)
            jac = least_squares.jacobian(p)
            for j in range(p.shape[0]):
                if not (np.all(np.isfinite(r[j])) and np.all(np.isfinite(jac[j]))):
                    state.residual_norm[j, 0] = state.rank[j, 0] = np.nan
                    continue
                s, _, rank, _ = np.linalg.lstsq(jac[j], -r[j], rcond=None)
                new_p[j] = p[j] + lr * s
                state.residual_norm[j, 0] = float(np.linalg.norm(r[j]))
                state.rank[j, 0] = rank
        return new_p


@dataclass
class LevenbergMarquardtState(OptimizerState):
    """Per run, ``(k, 1)``: ``lam`` (Marquardt's λ for the next step), ``evaluations``
    (objective evaluations of the last step), ``rejected`` (trials the last step refused);
    ``trial_points`` ``(k, m, d)`` the points it tried, NaN-padded."""

    lam: np.ndarray = _buffer()
    evaluations: np.ndarray = _buffer()
    rejected: np.ndarray = _buffer()
    trial_points: np.ndarray = _buffer()


class LevenbergMarquardt(_LeastSquaresMethod):
    """Levenberg–Marquardt: Gauss–Newton with Marquardt's damping λ·diag(JᵀJ) (scale
    invariant: a weight and a bias in different units are damped alike), λ divided by
    ``factor`` after a step that lowers the loss and multiplied by it (the step retried)
    after one that does not (Marquardt 1963).

    One engine step is one accepted trial (or ``max_tries`` refused ones: then p stays).
    Large λ: a short step along −g scaled per coordinate; λ → 0: the Gauss–Newton step.
    """

    name = "levenberg_marquardt"
    title = "Levenberg–Marquardt (least squares)"
    order = 161
    method = "Levenberg–Marquardt"
    State = LevenbergMarquardtState
    buffer_names = ("lam", "evaluations", "rejected", "trial_points")
    buffer_notes = {"lam": "Marquardt's λ, next step", "evaluations": "objective evaluations, "
                    "last step", "rejected": "trials refused, last step",
                    "trial_points": "points the last step tried"}
    point_buffers = {"trial_points": "LM trials"}
    evaluations = None
    params = (
        HyperParameter("lambda0", "float", 1e-3, "Marquardt's λ at the first step",
                       low=0.0, low_open=True),
        HyperParameter("factor", "float", 10.0, "λ is divided by this after a good step and "
                       "multiplied after a bad one", low=1.0, low_open=True),
        HyperParameter("max_tries", "int", 30, "most trials per step", low=1),
    )
    rule_text = (
        "r = F(p) − y,  J = ∂r/∂p     (loss = mean(r²))\n"
        "solve (JᵀJ + λ·diag(JᵀJ))·s = −Jᵀr,  try p + lr·s\n"
        "loss not higher: accept, λ ← λ/factor;  else λ ← λ·factor and solve again"
    )

    _LAM_RANGE = (1e-15, 1e15)

    @classmethod
    def state_lines(cls, state):
        lam = _scalar(state, "lam")
        ev, rej = _scalar(state, "evaluations"), _scalar(state, "rejected")
        if lam is None or ev is None or rej is None or ev == 0:
            return [] if lam is None else [f"λ = {_num(lam)} (no step yet)"]
        return [f"λ = {_num(lam)} for the next step; {int(ev)} evaluation(s), "
                f"{int(rej)} trial(s) refused (λ × factor each)" if rej else
                f"λ = {_num(lam)} for the next step; {int(ev)} evaluation(s), first trial "
                "accepted"]

    def init_state(self, p):
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        return LevenbergMarquardtState(step=0, lam=_column(k, self.hyper.lambda0),
                                       evaluations=_column(k), rejected=_column(k),
                                       trial_points=np.full((k, 0, d), np.nan))

    def step(self, p, g, state, lr=None, closure=None, least_squares=None):
        if least_squares is None or closure is None:
            raise ValueError(f"{self.method} needs a least-squares fit and the objective "
                             "in its step")
        lr = self.lr if lr is None else lr
        state.step += 1
        h = self.hyper
        lo, hi = self._LAM_RANGE
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        new_p = p.copy()
        trials = []
        with np.errstate(all="ignore"):
            r = least_squares.residuals(p)
            jac = least_squares.jacobian(p)
            f0 = closure(p)[0]
            for j in range(k):
                points: list[np.ndarray] = []
                lam = float(state.lam[j, 0])
                jtj = jac[j].T @ jac[j]
                jtr = jac[j].T @ r[j]
                diag = np.diag(jtj).copy()
                diag = np.maximum(diag, 1e-12 * max(float(diag.max(initial=0.0)), 1e-300))
                evals, rejected = 1, 0
                if not (np.all(np.isfinite(jtj)) and np.all(np.isfinite(jtr))):
                    new_p[j] = np.nan
                    trials.append(points)
                    state.evaluations[j, 0], state.rejected[j, 0] = evals, rejected
                    continue
                for _ in range(h.max_tries):
                    try:
                        s = np.linalg.solve(jtj + lam * np.diag(diag), -jtr)
                    except np.linalg.LinAlgError:
                        s = np.full(d, np.nan)
                    trial = p[j] + lr * s
                    points.append(trial)
                    f_new = float(closure(trial[None, :])[0][0]) if np.all(np.isfinite(trial)) \
                        else np.inf
                    evals += 1
                    if f_new <= f0[j]:
                        new_p[j] = trial
                        lam = max(lam / h.factor, lo)
                        break
                    rejected += 1
                    lam = min(lam * h.factor, hi)
                state.lam[j, 0] = lam
                state.evaluations[j, 0], state.rejected[j, 0] = evals, rejected
                trials.append(points)
        state.trial_points = _pack_points(trials, d)
        return new_p


# --------------------------------------------------------------------------- line searches
class _LineSearchMethod(Optimizer):
    """The closure, as one run's ``f(x) -> (value, gradient)`` of the *minimised* function
    (−f for ascent), recording every point it evaluates."""

    adaptive = False
    lr_default = 1.0
    torch_lr = 1.0
    lr_origin = "default"
    evaluations = None
    coordinatewise = False

    def _run_function(self, closure, points: list):
        sign = -1.0 if self.maximize else 1.0

        def f(x):
            points.append(np.array(x, dtype=np.float64))
            v, gr = closure(np.asarray(x, dtype=np.float64)[None, :])
            return sign * float(v[0]), sign * np.array(gr[0], dtype=np.float64)

        return f

    @classmethod
    def state_lines(cls, state):
        ev, t = _scalar(state, "evaluations"), _scalar(state, "step_size")
        if ev is None or t is None or ev == 0:
            return []
        return [f"step size t = {_num(t)} after {int(ev)} evaluation(s)"]


@dataclass
class LineSearchState(OptimizerState):
    """Per run, ``(k, 1)``: ``step_size`` (the accepted t) and ``evaluations`` (of the last
    step); ``trial_points`` ``(k, m, d)``: the points the last line search tried."""

    step_size: np.ndarray = _buffer()
    evaluations: np.ndarray = _buffer()
    trial_points: np.ndarray = _buffer()


class _SteepestDescent(_LineSearchMethod):
    State = LineSearchState
    buffer_names = ("step_size", "evaluations", "trial_points")
    buffer_notes = {"step_size": "accepted step t", "evaluations": "objective evaluations, "
                    "last step", "trial_points": "points the line search tried"}
    point_buffers = {"trial_points": "line-search trials"}

    def init_state(self, p):
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        return LineSearchState(step=0, step_size=_column(k), evaluations=_column(k),
                               trial_points=np.full((k, 0, d), np.nan))

    def step(self, p, g, state, lr=None, closure=None):
        if closure is None:
            raise ValueError(f"{self.name} needs the objective in its step (a closure)")
        lr = self.lr if lr is None else lr
        state.step += 1
        p = np.asarray(p, dtype=np.float64)
        g = -np.asarray(g, dtype=np.float64) if self.maximize else np.asarray(g, np.float64)
        new_p = p.copy()
        trials = []
        with np.errstate(all="ignore"):
            for j in range(p.shape[0]):
                points: list[np.ndarray] = []
                f = self._run_function(closure, points)
                d = -g[j]
                gtd = float(g[j] @ d)
                if not gtd < 0:  # a zero (or not finite) gradient: nowhere to go
                    t, evals = 0.0, 0
                    if not np.isfinite(gtd):
                        new_p[j] = np.nan
                else:
                    t, evals = self._search(f, p[j], d, gtd, lr)
                    new_p[j] = p[j] + t * d
                state.step_size[j, 0], state.evaluations[j, 0] = t, evals
                trials.append(points[1:])  # the first is p itself
        state.trial_points = _pack_points(trials, p.shape[1])
        return new_p

    def _search(self, f, x, d, gtd, lr) -> tuple[float, int]:
        raise NotImplementedError


class ArmijoGD(_SteepestDescent):
    """Gradient descent with Armijo backtracking: the step starts at t = lr and shrinks
    by ``shrink`` until the loss falls by at least c1·t·|g|² (Nocedal & Wright Alg. 3.1).

    After ``max_ls`` shrinks the last (tiny) step is taken anyway.  The loss at p comes
    from one evaluation, so a step costs 2 evaluations when lr is accepted at once.
    """

    name = "gd_armijo"
    title = "Gradient descent, Armijo backtracking"
    order = 170
    params = (
        _C1,
        HyperParameter("shrink", "float", 0.5, "factor the step is multiplied by on each "
                       "backtrack", low=0.0, high=1.0, low_open=True, high_open=True),
        HyperParameter("max_ls", "int", 30, "most backtracks per step", low=1),
    )
    rule_text = (
        "d = −g,  t = lr\n"
        "while f(p + t·d) > f(p) − c1·t·|g|²:  t ← shrink·t   (at most max_ls times)\n"
        "p ← p + t·d"
    )

    def _search(self, f, x, d, gtd, lr):
        h = self.hyper
        f0 = f(x)[0]
        t = lr
        evals = 1
        for i in range(h.max_ls + 1):
            fx = f(x + t * d)[0]
            evals += 1
            if fx <= f0 + h.c1 * t * gtd or i == h.max_ls:
                break
            t *= h.shrink
        return t, evals


class WolfeGD(_SteepestDescent):
    """Gradient descent with a strong-Wolfe line search: torch's ``_strong_wolfe`` (the
    one L-BFGS uses: cubic interpolation, bracketing, zoom) along −g from t = lr.

    Convention: scipy's ``line_search`` (MINPACK's dcsrch, then a zoom) accepts other
    points satisfying the same conditions, so iterates differ; converged points agree.
    """

    name = "gd_wolfe"
    title = "Gradient descent, strong-Wolfe line search"
    order = 171
    params = (_C1, _c2(0.9), _MAX_LS)
    rule_text = (
        "d = −g;  find t (from t = lr) with the strong Wolfe conditions:\n"
        "  f(p + t·d) ≤ f(p) + c1·t·gᵀd   and   |∇f(p + t·d)ᵀd| ≤ c2·|gᵀd|\n"
        "p ← p + t·d"
    )

    def validate(self, values):
        return _check_c1_c2(values)

    def _search(self, f, x, d, gtd, lr):
        h = self.hyper
        return _wolfe_search(f, x, d, gtd, lr, h.c1, h.c2, h.max_ls)


# --------------------------------------------------------------------------- conjugate gradient
@dataclass
class ConjugateGradientState(OptimizerState):
    """Per run: ``direction`` and ``prev_grad`` ``(k, d)``; ``(k, 1)``: ``beta`` (of the
    last step), ``restarted`` (0: no, 1: scheduled, every ``restart`` steps, 2: the
    direction was not one of descent), ``restarts`` (all of them), ``since_restart``,
    ``step_size``, ``evaluations``; ``trial_points`` ``(k, m, d)``."""

    direction: np.ndarray = _buffer()
    prev_grad: np.ndarray = _buffer()
    beta: np.ndarray = _buffer()
    restarted: np.ndarray = _buffer()
    restarts: np.ndarray = _buffer()
    since_restart: np.ndarray = _buffer()
    step_size: np.ndarray = _buffer()
    evaluations: np.ndarray = _buffer()
    trial_points: np.ndarray = _buffer()


class ConjugateGradient(_LineSearchMethod):
    """Nonlinear conjugate gradient, Fletcher–Reeves or Polak–Ribière+ (β clipped at 0),
    each step a strong-Wolfe line search (torch's, as L-BFGS's; c2 = 0.1 as Nocedal &
    Wright advise for CG) from t = lr.

    Restarts (d = −g) every ``restart`` steps (none: the number of parameters) and
    whenever the new direction is not one of descent (gᵀd ≥ 0).  Convention: scipy's
    ``minimize(method="CG")`` is PR+ with its own line search (c2 = 0.4): the points
    it converges to agree, its iterates do not.
    """

    name = "cg"
    title = "Nonlinear conjugate gradient (FR / PR+)"
    order = 175
    State = ConjugateGradientState
    buffer_names = ("direction", "prev_grad", "beta", "restarted", "restarts", "since_restart",
                    "step_size", "evaluations", "trial_points")
    buffer_notes = {"direction": "search direction d", "prev_grad": "g of the last step",
                    "beta": "β of the last step", "restarted": "1: scheduled restart, "
                    "2: not a descent direction", "restarts": "restarts in all",
                    "step_size": "accepted step t", "evaluations": "objective evaluations, "
                    "last step", "trial_points": "points the line search tried"}
    point_buffers = {"trial_points": "line-search trials"}
    params = (
        HyperParameter("beta_rule", "choice", "polak_ribiere", "β: Polak–Ribière+ "
                       "max(gᵀ(g − g₋)/|g₋|², 0) or Fletcher–Reeves |g|²/|g₋|²",
                       choices=("polak_ribiere", "fletcher_reeves")),
        HyperParameter("restart", "int", None, "restart (d = −g) every this many steps "
                       "(none: the number of parameters)", low=1, none_ok=True),
        _C1, _c2(0.1), _MAX_LS,
    )
    rule_text = (
        "β = max(gᵀ(g − g₋)/|g₋|², 0)  (PR+)  or  |g|²/|g₋|²  (FR)\n"
        "d = −g + β·d₋   (d = −g at the start, every restart steps, or when gᵀd ≥ 0)\n"
        "t: strong-Wolfe line search from t = lr;  p ← p + t·d"
    )

    _WHY = {1: "scheduled restart", 2: "restart: β·d₋ made it no descent direction"}

    def validate(self, values):
        return _check_c1_c2(values)

    @classmethod
    def state_lines(cls, state):
        ev, t = _scalar(state, "evaluations"), _scalar(state, "step_size")
        beta, why = _scalar(state, "beta"), _scalar(state, "restarted")
        n = _scalar(state, "restarts")
        if ev is None or t is None or beta is None or why is None or ev == 0:
            return []
        head = (f"d = −g ({cls._WHY.get(int(why), 'the first step')})" if why or beta != beta
                else f"β = {_num(beta)}")
        return [f"{head}; step size t = {_num(t)} after {int(ev)} evaluation(s); "
                f"{int(n or 0)} restart(s) in all"]

    def init_state(self, p):
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        return ConjugateGradientState(
            step=0, direction=np.zeros_like(p), prev_grad=np.zeros_like(p),
            beta=_column(k, np.nan), restarted=_column(k), restarts=_column(k),
            since_restart=_column(k), step_size=_column(k), evaluations=_column(k),
            trial_points=np.full((k, 0, d), np.nan))

    def step(self, p, g, state, lr=None, closure=None):
        if closure is None:
            raise ValueError("cg needs the objective in its step (a closure)")
        lr = self.lr if lr is None else lr
        h = self.hyper
        state.step += 1
        p = np.asarray(p, dtype=np.float64)
        k, n = p.shape
        every = n if h.restart is None else h.restart
        g = -np.asarray(g, dtype=np.float64) if self.maximize else np.asarray(g, np.float64)
        new_p = p.copy()
        trials = []
        with np.errstate(all="ignore"):
            for j in range(k):
                gj, g_prev, d_prev = g[j], state.prev_grad[j], state.direction[j]
                why, beta = 0, np.nan
                if state.step == 1:
                    d = -gj
                elif state.since_restart[j, 0] >= every:
                    d, why = -gj, 1
                elif not float(g_prev @ g_prev) > 0:  # the last step stood still at g = 0
                    d = -gj
                else:
                    denom = float(g_prev @ g_prev)
                    if h.beta_rule == "fletcher_reeves":
                        beta = float(gj @ gj) / denom
                    else:
                        beta = max(float(gj @ (gj - g_prev)) / denom, 0.0)
                    d = -gj + beta * d_prev
                    if not float(gj @ d) < 0:
                        d, why = -gj, 2
                if why:
                    state.restarts[j, 0] += 1
                    state.since_restart[j, 0] = 0
                points: list[np.ndarray] = []
                gtd = float(gj @ d)
                t, evals = 0.0, 0
                if gtd < 0:
                    t, evals = _wolfe_search(self._run_function(closure, points), p[j], d,
                                             gtd, lr, h.c1, h.c2, h.max_ls)
                    new_p[j] = p[j] + t * d
                elif not np.isfinite(gtd):
                    new_p[j] = np.nan
                state.direction[j] = d
                state.prev_grad[j] = gj
                state.beta[j, 0], state.restarted[j, 0] = beta, why
                state.since_restart[j, 0] += 1
                state.step_size[j, 0], state.evaluations[j, 0] = t, evals
                trials.append(points[1:])  # the first is p itself
        state.trial_points = _pack_points(trials, n)
        return new_p
