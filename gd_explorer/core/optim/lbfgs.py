"""L-BFGS, torch's ``torch.optim.LBFGS`` with its strong-Wolfe line search, on numpy.

One engine step is one torch ``step(closure)``: up to ``max_iter`` quasi-Newton iterations
and ``max_eval`` objective evaluations, each through the closure the engine passes
(:meth:`gd_explorer.core.optim.base.Optimizer.step`).  The arithmetic follows torch's
``lbfgs.py`` line by line (``_cubic_interpolate``, ``_strong_wolfe``, ``LBFGS.step``);
each run of a batch keeps its own history.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from gd_explorer.core.optim.base import Optimizer, OptimizerState
from gd_explorer.core.optim.hyper import HyperParameter


def _buffer():
    return field(default_factory=lambda: np.zeros((0, 0)))


@dataclass
class LBFGSState(OptimizerState):
    """Per run: ``d`` (the last search direction); ``evaluations`` (objective evaluations
    of the last step) and ``func_evals`` (all of them, torch's counter), shape ``(k, 1)``;
    ``trial_points`` ``(k, m, d)``: the points the last step evaluated, NaN-padded.
    ``history`` holds each run's curvature pairs and torch's other per-run state."""

    d: np.ndarray = _buffer()
    evaluations: np.ndarray = _buffer()
    func_evals: np.ndarray = _buffer()
    trial_points: np.ndarray = _buffer()
    history: list = field(default_factory=list)

    def copy(self):
        """A deep copy: the per-run history is nested lists of arrays."""
        return copy.deepcopy(self)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """torch's ``_cubic_interpolate``: the minimiser of the cubic through two points."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """torch's ``_strong_wolfe`` line search, on numpy vectors and floats."""
    d_norm = float(np.max(np.abs(d)))
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket = bracket_f = bracket_g = bracket_gtd = None
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """L-BFGS, torch's ``torch.optim.LBFGS`` (after minFunc): one step is one
    ``step(closure)``, up to ``max_iter`` quasi-Newton iterations and ``max_eval``
    objective evaluations.

    The engine passes the closure (the objective on the full batch, or on the step's
    mini-batch).  torch has no ``maximize`` for LBFGS; here it minimises −f.  The line
    search, when chosen, is torch's strong-Wolfe search (c1 = 1e-4, c2 = 0.9).
    """

    name = "lbfgs"
    title = "L-BFGS (quasi-Newton, line search)"
    order = 140
    State = LBFGSState
    buffer_names = ("d", "evaluations", "func_evals", "trial_points")
    buffer_notes = {"d": "search direction", "evaluations": "objective evaluations, last step",
                    "func_evals": "evaluations in all", "trial_points": "points the last "
                    "step evaluated"}
    point_buffers = {"trial_points": "line-search trials"}
    adaptive = False
    lr_default = 1.0
    torch_lr = 1.0
    evaluations = None
    coordinatewise = False
    params = (
        HyperParameter("max_iter", "int", 20, "iterations per step", low=1),
        HyperParameter("max_eval", "int", None, "objective evaluations per step (none: "
                       "max_iter·5/4)", low=1, none_ok=True),
        HyperParameter("tolerance_grad", "float", 1e-7, "stop when max |g| is at most this",
                       low=0.0),
        HyperParameter("tolerance_change", "float", 1e-9, "stop when the step or the loss "
                       "changes by less", low=0.0),
        HyperParameter("history_size", "int", 100, "curvature pairs kept", low=1),
        HyperParameter("line_search_fn", "choice", "none", "line search",
                       choices=("none", "strong_wolfe")),
    )
    rule_text = (
        "each step: up to max_iter iterations of\n"
        "  d = −H·g    (H from the last history_size pairs s = Δp, y = Δg; first d = −g)\n"
        "  p ← p + t·d  (t = lr, first t = min(1, 1/Σ|g|)·lr; strong_wolfe: a line search)\n"
        "stop on max |g| ≤ tolerance_grad, small change, or max_eval evaluations"
    )

    def init_state(self, p):
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        return LBFGSState(step=0, d=np.zeros_like(p), evaluations=np.zeros((k, 1)),
                          func_evals=np.zeros((k, 1)), trial_points=np.full((k, 0, d), np.nan),
                          history=[{"n_iter": 0} for _ in range(k)])

    def step(self, p, g, state, lr=None, closure=None):
        if closure is None:
            raise ValueError("lbfgs needs the objective in its step (a closure)")
        lr = self.lr if lr is None else lr
        state.step += 1
        sign = -1.0 if self.maximize else 1.0
        new_p = np.array(p, dtype=np.float64)
        trials = []
        for j in range(new_p.shape[0]):
            points: list[np.ndarray] = []

            def f(x, points=points):
                points.append(x.copy())
                v, gr = closure(x[None, :])
                return sign * float(v[0]), sign * np.array(gr[0], dtype=np.float64)

            new_p[j], evals, state.d[j] = self._run(f, new_p[j], state.history[j], lr)
            state.evaluations[j, 0] = evals
            state.func_evals[j, 0] += evals
            trials.append(points[1:])  # the first is p itself
        m = max((len(t) for t in trials), default=0)
        tp = np.full((new_p.shape[0], m, new_p.shape[1]), np.nan)
        for j, t in enumerate(trials):
            if t:
                tp[j, :len(t)] = t
        state.trial_points = tp
        return new_p

    def _run(self, closure, x, st, lr):
        """One torch ``LBFGS.step`` for one run: returns (new x, evaluations, direction)."""
        h = self.hyper
        max_iter = h.max_iter
        max_eval = h.max_eval if h.max_eval is not None else max_iter * 5 // 4
        tolerance_grad, tolerance_change = h.tolerance_grad, h.tolerance_change
        loss, flat_grad = closure(x)
        current_evals = 1
        d = st.get("d")
        if float(np.max(np.abs(flat_grad))) <= tolerance_grad:
            return x, current_evals, (np.zeros_like(x) if d is None else d)
        t = st.get("t")
        old_dirs, old_stps, ro = st.get("old_dirs"), st.get("old_stps"), st.get("ro")
        H_diag, prev_flat_grad = st.get("H_diag"), st.get("prev_flat_grad")  # noqa: N806
        prev_loss = st.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            st["n_iter"] += 1
            if st["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1  # noqa: N806
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    if len(old_dirs) == h.history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)  # noqa: N806
                num_old = len(old_dirs)
                al = [0.0] * num_old
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q = q + (-al[i]) * old_dirs[i]
                r = q * H_diag
                for i in range(num_old):
                    be_i = float(old_dirs[i] @ r) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if st["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.sum(np.abs(flat_grad)))) * lr
            else:
                t = lr
            gtd = float(flat_grad @ d)
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            opt_cond = False
            if h.line_search_fn == "strong_wolfe":
                x_init = x.copy()

                def obj_func(x0, step, direction):
                    return closure(x0 + step * direction)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                x = x + t * d
                opt_cond = float(np.max(np.abs(flat_grad))) <= tolerance_grad
            else:
                x = x + t * d
                if n_iter != max_iter:
                    loss, flat_grad = closure(x)
                    opt_cond = float(np.max(np.abs(flat_grad))) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(np.max(np.abs(d * t))) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break
        st.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                  prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return x, current_evals, d
