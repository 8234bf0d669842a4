"""Function finding: datasets, models linear in their parameters, losses, and their objective.

A dataset objective is the loss of a model's predictions on ``(x, y)`` as a function of
the model's parameters.  Every model here is linear in its parameters,
``F(x) = features(x) @ theta``, so the loss surface of MSE has a closed form from
sufficient statistics and the gradient is exact for every loss:

* ``mse``   = mean(r²),                     dℓ/dr = 2r
* ``mae``   = mean(|r|),                    dℓ/dr = sign(r)  (subgradient, 0 at r = 0)
* ``huber`` = mean(½r² if |r| < δ else δ(|r| − ½δ)),  dℓ/dr = clip(r, −δ, δ)
  (torch.nn.HuberLoss(delta=δ); δ > 0, default 1: :func:`huber_loss`)

with residuals ``r = F(x) − y``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gd_explorer.core.io.tabular import read_xy
from gd_explorer.core.problems.objectives import LeastSquares, Objective, Optimum

# ------------------------------------------------------------------------------ datasets


@dataclass(frozen=True)
class Dataset:
    """Paired samples ``x`` and ``y`` (float64 arrays of equal length) and a name."""

    name: str
    x: np.ndarray
    y: np.ndarray
    description: str = ""
    x_name: str = "x"
    y_name: str = "y"

    def __post_init__(self):
        if self.x.shape != self.y.shape or self.x.ndim != 1 or self.x.size == 0:
            raise ValueError(f"dataset {self.name!r}: x and y must be equal-length 1-D arrays")


def _fence() -> Dataset:
    x = np.arange(100, dtype=np.float64)
    return Dataset(
        "fence", x, 100 * x - x**2,
        "Seed 000's pasture data: side length x = 0..99 and area y = 100x - x² "
        "(the 200 m pasture). The true model is a = -1, b = 100.",
        "length", "area",
    )


def _noisy_line() -> Dataset:
    rng = np.random.default_rng(1)
    x = np.sort(rng.uniform(0.0, 10.0, 50))
    y = 2.0 * x + 1.0 + rng.normal(0.0, 1.0, 50)
    return Dataset("noisy-line", x, y, "50 points around y = 2x + 1 with unit noise (seeded).")


def _noisy_parabola() -> Dataset:
    rng = np.random.default_rng(2)
    x = np.sort(rng.uniform(-3.0, 3.0, 60))
    y = 0.5 * x**2 - x + 2.0 + rng.normal(0.0, 0.5, 60)
    return Dataset(
        "noisy-parabola", x, y, "60 points around y = 0.5x² - x + 2 with noise 0.5 (seeded)."
    )


def _one_point() -> Dataset:
    return Dataset(
        "one-point", np.array([2.0]), np.array([3.0]),
        "Seed 001: one sample (x = 2, y = 3) held fixed; with the 'slope' model the MAE "
        "|2w - 3| is a V in the one weight w, zero at w = 1.5.",
    )


DATASETS: dict[str, Callable[[], Dataset]] = {
    "fence": _fence,
    "noisy-line": _noisy_line,
    "noisy-parabola": _noisy_parabola,
    "one-point": _one_point,
}


def get_dataset(name_or_path: str, x: str | int | None = None, y: str | int | None = None) -> Dataset:
    """A built-in dataset by name, or a CSV file by path (``x``/``y`` pick its columns).

    Raises
    ------
    ValueError
        ``DataError`` (a ValueError) for a bad file, naming the file and line; a
        ValueError when columns are given for a built-in dataset (it has no columns to
        choose: they would be silently ignored).
    """
    if name_or_path in DATASETS:
        if x is not None or y is not None:
            raise ValueError(f"x and y columns apply to CSV files only; {name_or_path!r} "
                             "is a built-in dataset")
        return DATASETS[name_or_path]()
    xs, ys, (xn, yn) = read_xy(name_or_path, x, y)
    return Dataset(str(name_or_path), xs, ys, f"CSV file {name_or_path}", xn, yn)


# ------------------------------------------------------------------------------ models


@dataclass(frozen=True)
class Model:
    """A model linear in its parameters: ``F(x) = features(x) @ theta``."""

    name: str
    params: tuple[str, ...]
    formula: str
    features: Callable[[np.ndarray], np.ndarray]  # x (n,) -> (n, d)
    description: str = ""

    def predict(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Predictions for parameters ``theta`` (``(d,)`` or ``(k, d)``) at ``x`` (``(n,)``)."""
        return np.asarray(theta, dtype=np.float64) @ self.features(np.asarray(x, float)).T

    def __reduce__(self):
        # registry entries pickle by name (their features are lambdas), so dataset
        # objectives can go to the engine process
        if MODELS.get(self.name) is self:
            return _model_named, (self.name,)
        return super().__reduce__()


def _model_named(name: str) -> Model:
    return MODELS[name]


MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model("linear", ("w", "b"), "w*x + b",
              lambda x: np.stack([x, np.ones_like(x)], axis=1), "A line: weight and bias."),
        Model("quadratic", ("a", "b"), "a*x**2 + b*x",
              lambda x: np.stack([x * x, x], axis=1),
              "Seed 000's template F(x) = ax² + bx (through the origin)."),
        Model("quadratic-full", ("a", "b", "c"), "a*x**2 + b*x + c",
              lambda x: np.stack([x * x, x, np.ones_like(x)], axis=1), "A general parabola."),
        Model("slope", ("w",), "w*x",
              lambda x: x[:, None], "One weight, no bias (seed 001's one-weight picture)."),
    )
}

# ------------------------------------------------------------------------------ losses


@dataclass(frozen=True)
class Loss:
    """A pointwise loss ℓ(r) of residuals r, averaged over the data, with dℓ/dr.

    Attributes
    ----------
    pieces : (kinks, polys) or None
        For an even loss that is a polynomial of degree <= 2 between kinks of r: the
        increasing kinks and ``(p0, p1, p2)`` per region (``p0 + p1 r + p2 r²``; left of
        the first kink, between kinks, right of the last).  Surfaces then sum the pieces
        row by row instead of evaluating every sample at every grid point.
    delta : float or None
        Huber's δ (None for the other losses).
    curvature : callable or None
        ℓ''(r) (where it exists): with a model linear in θ the Hessian of the mean loss
        is Φᵀ·diag(ℓ''(r))·Φ / n.
    curvature_note : str
        That Hessian in words, for the step log.
    constant_curvature : bool
        ℓ'' is one number everywhere (MSE, MAE): the Hessian is the same for every θ.
    """

    name: str
    title: str
    value: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    description: str
    pieces: tuple | None = None
    delta: float | None = None
    curvature: Callable[[np.ndarray], np.ndarray] | None = None
    curvature_note: str = ""
    constant_curvature: bool = False

    def __reduce__(self):
        if LOSSES.get(self.name) is self:  # by name, as models
            return _loss_named, (self.name,)
        if self.name == "huber" and _HUBERS.get(self.delta) is self:
            return huber_loss, (self.delta,)  # δ travels (to the engine process)
        return super().__reduce__()


def _loss_named(name: str) -> Loss:
    return LOSSES[name]


#: Huber's δ when none is given (torch.nn.HuberLoss's default)
HUBER_DELTA = 1.0


def check_huber_delta(delta) -> float:
    """δ as a float if it is a positive finite number; else a ValueError saying so."""
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)):
        raise ValueError(f"Huber delta must be a positive number, got {delta!r}")
    d = float(delta)
    if not (math.isfinite(d) and d > 0):
        raise ValueError(f"Huber delta must be a positive number, got {d!r}")
    return d


def _make_huber(delta: float) -> Loss:
    def value(r):
        a = np.abs(r)
        return np.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta))

    def derivative(r):
        return np.clip(r, -delta, delta)

    tail = (-0.5 * delta * delta, delta, 0.0)
    pieces = ((-delta, delta), ((tail[0], -delta, 0.0), (0.0, 0.0, 0.5), tail))
    def curvature(r):
        # ℓ'' = 1 where the value is ½r² (|r| < δ, the branch `value` takes), 0 in the tails
        return (np.abs(r) < delta).astype(np.float64)

    d = f"{delta:g}"
    return Loss("huber", f"Huber (δ = {d})", value, derivative,
                f"½r² for |r| < {d}, {d}·(|r| − ½·{d}) beyond: quadratic near 0, linear in "
                f"the tails (torch.nn.HuberLoss, delta = {d}).", pieces, delta, curvature,
                f"Hessian piecewise: ΦᵀΦ/n over the samples with |r| < δ = {d} (the "
                "quadratic ones); samples in the linear tails add no curvature")


#: one Loss per δ, so that equal settings share one object (and pickle to it)
_HUBERS: dict[float, Loss] = {HUBER_DELTA: _make_huber(HUBER_DELTA)}


def huber_loss(delta: float = HUBER_DELTA) -> Loss:
    """The Huber loss with threshold ``delta`` (torch.nn.HuberLoss(delta=delta)).

    Raises
    ------
    ValueError
        When ``delta`` is not a positive finite number.
    """
    d = check_huber_delta(delta)
    loss = _HUBERS.get(d)
    if loss is None:
        loss = _HUBERS.setdefault(d, _make_huber(d))
    return loss


LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        Loss("mse", "mean squared error", lambda r: r * r, lambda r: 2.0 * r,
             "mean(r²); gradient 2·mean(r·∂F/∂θ).",
             curvature=lambda r: np.full_like(r, 2.0),
             curvature_note="Hessian constant: 2·ΦᵀΦ/n (MSE of a model linear in θ)",
             constant_curvature=True),
        Loss("mae", "mean absolute error", np.abs, np.sign,
             "mean(|r|); subgradient mean(sign(r)·∂F/∂θ), with sign(0) = 0.",
             ((0.0,), ((0.0, -1.0, 0.0), (0.0, 1.0, 0.0))),
             curvature=np.zeros_like,
             curvature_note="Hessian zero almost everywhere (MAE is piecewise linear: "
             "the curvature sits in the kinks r = 0, which no quadratic model sees)",
             constant_curvature=True),
        _HUBERS[HUBER_DELTA],
    )
}

# ------------------------------------------------------------------------------ objective

#: evaluate at most this many residuals at once (rows of points × samples)
_CHUNK = 4_000_000


def _lookup(table: dict, kind: str, name: str):
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; choose one of: {', '.join(table)}") from None


class DatasetObjective(Objective):
    """The loss of ``model`` on ``dataset`` as a function of the model's parameters.

    ``huber_delta`` sets Huber's δ when ``loss`` is ``"huber"`` (default 1); it is refused
    with any other loss.
    """

    def __init__(self, dataset: Dataset, model: Model | str, loss: Loss | str,
                 huber_delta: float | None = None):
        model = _lookup(MODELS, "model", model) if isinstance(model, str) else model
        if huber_delta is not None and loss != "huber":
            raise ValueError("a Huber delta applies to the huber loss only")
        if loss == "huber":
            loss = huber_loss(HUBER_DELTA if huber_delta is None else huber_delta)
        loss = _lookup(LOSSES, "loss", loss) if isinstance(loss, str) else loss
        self.dataset, self.model, self.loss = dataset, model, loss
        self.x, self.y = dataset.x, dataset.y
        self.phi = model.features(dataset.x)  # (n, d)
        self._constant_hessian = None  # MSE's and MAE's, made on first use
        n, d = self.phi.shape
        with np.errstate(all="ignore"):
            gram = self.phi.T @ self.phi / n
            lam = float(np.linalg.eigvalsh(gram)[-1]) if np.all(np.isfinite(gram)) else 1.0
            theta_ls = np.linalg.lstsq(self.phi, self.y, rcond=None)[0]
        if not (np.isfinite(lam) and lam > 0):
            lam = 1.0
        # 1 / L with L = 2·λmax the curvature of MSE: the largest stable plain-GD step is 2/L
        lr_sgd = float(f"{1.0 / (2.0 * lam):.2g}")
        start = (0.0,) * d
        spread = np.maximum(np.abs(theta_ls - np.asarray(start)) * 1.5, 1.0)
        window = tuple((float(t - s), float(t + s)) for t, s in zip(theta_ls, spread))
        optima = ()
        if loss.name == "mse" and np.all(np.isfinite(theta_ls)):
            optima = (Optimum(tuple(float(t) for t in theta_ls), float("nan"), "least squares"),)
        loss_name = loss.name
        if loss.delta not in (None, HUBER_DELTA):
            loss_name = f"{loss.name} (δ = {loss.delta:g})"
        super().__init__(
            name=f"{loss_name} of {model.name} on {dataset.name}",
            names=model.params,
            formula=f"{loss.name}({model.formula} - y)",
            description=f"{loss.title} of F(x) = {model.formula} on {dataset.name} "
            f"({n} points). {loss.description}",
            window=window,
            start=start,
            lr_sgd=lr_sgd,
            lr_adaptive=float(f"{max(float(np.max(spread)) / 100.0, 1e-4):.2g}"),
            optima=optima,
        )
        if optima:
            value = float(self.value(np.asarray(optima[0].point)))
            self.optima = (Optimum(optima[0].point, value, "least squares"),)

    @property
    def n(self) -> int:
        """The number of samples."""
        return self.x.size

    # -- capabilities (see Objective)
    equal_aspect = False  # a weight and a bias are not in one unit

    @property
    def samples(self) -> int:
        return self.x.size

    @property
    def evaluation_cost(self) -> int:
        return self.x.size

    def surface_cost(self, points: int) -> int:
        # MSE has a closed form; other losses go through the data row by row
        return 0 if self.loss.name == "mse" else self.x.size * points

    def fast_surface(self, axes, fixed, xs, ys, progress=None):
        from gd_explorer.core.problems.surface import linear_fit_surface

        return linear_fit_surface(self, axes, fixed, xs, ys, progress)

    def fast_curve(self, index, fixed, xs):
        from gd_explorer.core.problems.surface import linear_fit_curve

        return linear_fit_curve(self, index, fixed, xs)

    def fast_gradient_field(self, axes, fixed, xs, ys):
        from gd_explorer.core.problems.surface import linear_fit_gradient_field

        return linear_fit_gradient_field(self, axes, fixed, xs, ys)

    def least_squares(self):
        # MSE only: its residuals are r = Φθ − y and, the model being linear in θ, the
        # Jacobian is Φ itself (the same at every point)
        if self.loss.name != "mse":
            return None
        return LeastSquares(self._residuals, self._jacobian)

    def _residuals(self, p):
        return np.asarray(p, dtype=np.float64) @ self.phi.T - self.y

    def _jacobian(self, p):
        return np.broadcast_to(self.phi, (np.shape(p)[0], *self.phi.shape))

    def fit_data(self):
        ds = self.dataset
        return ds.x, ds.y, (ds.x_name, ds.y_name)

    def value_and_grad(self, p, index: np.ndarray | None = None):
        """Loss and gradient at ``p`` ``(k, d)``; ``index`` restricts to a mini-batch."""
        p = np.asarray(p, dtype=np.float64)
        phi = self.phi if index is None else self.phi[index]
        y = self.y if index is None else self.y[index]
        m = y.size
        k = p.shape[0]
        values = np.empty(k)
        grads = np.empty((k, self.dim))
        step = max(1, _CHUNK // max(m, 1))
        with np.errstate(all="ignore"):
            for lo in range(0, k, step):
                r = p[lo:lo + step] @ phi.T - y  # (kc, m)
                values[lo:lo + step] = self.loss.value(r).mean(axis=1)
                grads[lo:lo + step] = self.loss.derivative(r) @ phi / m
        return values, grads

    def exact_hessian(self, p):
        """Φᵀ·diag(ℓ''(r))·Φ / n at each point (F = Φθ is linear in θ); see
        :attr:`curvature_note`."""
        if self.loss.curvature is None:
            return None
        p = np.asarray(p, dtype=np.float64)
        k = p.shape[0]
        if self.loss.constant_curvature:
            # ℓ'' constant (2 and 0): one matrix for every θ, computed once
            if self._constant_hessian is None:
                w = self.loss.curvature(np.zeros(self.n))
                self._constant_hessian = np.einsum("n,ni,nj->ij", w, self.phi, self.phi) / self.n
            return np.broadcast_to(self._constant_hessian, (k, self.dim, self.dim)).copy()
        out = np.empty((k, self.dim, self.dim))
        step = max(1, _CHUNK // max(self.n, 1))
        with np.errstate(all="ignore"):
            for lo in range(0, k, step):
                r = p[lo:lo + step] @ self.phi.T - self.y  # (kc, n)
                w = self.loss.curvature(r)
                out[lo:lo + step] = np.einsum("kn,ni,nj->kij", w, self.phi, self.phi) / self.n
        return out

    @property
    def curvature_note(self) -> str:
        """What the Hessian of this loss is, in words (the step log shows it)."""
        return self.loss.curvature_note

    def values(self, p):
        p = np.asarray(p, dtype=np.float64)
        step = max(1, _CHUNK // self.n)
        out = np.empty(p.shape[0])
        with np.errstate(all="ignore"):
            for lo in range(0, p.shape[0], step):
                r = p[lo:lo + step] @ self.phi.T - self.y
                out[lo:lo + step] = self.loss.value(r).mean(axis=1)
        return out

    def predict(self, p, x=None) -> np.ndarray:
        """The model's predictions at ``x`` (default: the data's x) for parameters ``p``."""
        return self.model.predict(p, self.x if x is None else x)


def dataset_objective(dataset: str | Dataset, model: str = "linear", loss: str = "mse",
                      x: str | int | None = None, y: str | int | None = None, *,
                      huber_delta: float | None = None) -> DatasetObjective:
    """Build the objective for a dataset (built-in name, CSV path or Dataset), model and loss.

    ``huber_delta`` is Huber's δ (``loss="huber"`` only; default 1).
    """
    if huber_delta is not None:
        if loss != "huber":
            raise ValueError("a Huber delta applies to the huber loss only")
        check_huber_delta(huber_delta)  # before a CSV file is read
    ds = dataset if isinstance(dataset, Dataset) else get_dataset(dataset, x, y)
    return DatasetObjective(ds, model, loss, huber_delta)
