"""Small neural networks: datasets, models (logistic regression, MLPs), losses, objective.

Everything here is numpy only and batched over runs: the engine hands the objective
points ``p`` of shape ``(k, d)`` (k runs, d parameters) and gets back values ``(k,)`` and
exact gradients ``(k, d)`` by backpropagation, vectorized over the samples.

Parameter layout (torch's ``nn.Linear`` order, layer by layer): the weight matrix of
layer ``l`` (``out × in``, row-major) then its bias, so ``w1_0_1`` is layer 1's weight
from input 1 to unit 0 and ``b2_3`` layer 2's bias of unit 3.  The logistic model is the
``2-1`` network with the names ``w1, w2, b``.

Losses, on the network's output ``z`` (a logit for classification) and targets ``y``:

* ``mse``           = mean((z − y)²)                            (torch.nn.MSELoss)
* ``cross-entropy`` = mean(softplus(z) − y·z), softplus(z) = max(z, 0) + log1p(e^−|z|)
  (torch.nn.BCEWithLogitsLoss; finite at |z| = 1000), dℓ/dz = sigmoid(z) − y.

Activations: ``tanh``, ``relu`` (derivative 0 at 0, as torch), ``sigmoid`` and ``gelu``
in its exact erf form x·Φ(x) (torch's default ``approximate='none'``; not the tanh
approximation).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gd_explorer.core.problems.objectives import DecisionData, Objective

__all__ = ["ACTIVATIONS", "NET_DATASETS", "NET_LOSSES", "NET_MODELS", "Activation", "NetData",
           "NetLoss", "NetObjective", "Network", "make_net_data", "make_network",
           "net_objective", "parse_layers"]

#: largest number of parameters a network may have
MAX_NET_PARAMS = 20_000
#: evaluate at most this many activations at once (points × samples × widest layer)
_CHUNK = 2_000_000

# ============================================================================ datasets


@dataclass(frozen=True)
class NetData:
    """Inputs ``x`` ``(n, m)`` and targets ``y`` ``(n,)`` split into train and test.

    ``task`` is ``"classification"`` (y in {0, 1}, m = 2) or ``"regression"`` (m = 1).
    """

    name: str
    task: str
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str = ""

    @property
    def inputs(self) -> int:
        return self.x.shape[1]


def _blobs(rng, n, noise):
    y = (np.arange(n) % 2).astype(np.float64)
    centres = np.where(y[:, None] > 0, 1.0, -1.0) * np.array([1.0, 1.0])
    return centres + rng.normal(0.0, noise, (n, 2)), y


def _xor(rng, n, noise):
    x = rng.uniform(-1.0, 1.0, (n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float64)
    return x + rng.normal(0.0, noise, (n, 2)), y


def _circles(rng, n, noise):
    y = (np.arange(n) % 2).astype(np.float64)  # 1: the inner circle (radius 0.5)
    t = rng.uniform(0.0, 2 * np.pi, n)
    r = np.where(y > 0, 0.5, 1.0)
    x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    return x + rng.normal(0.0, noise, (n, 2)), y


def _moons(rng, n, noise):
    # sklearn.datasets.make_moons' shapes: upper moon label 0, lower (shifted) moon label 1
    y = (np.arange(n) % 2).astype(np.float64)
    t = rng.uniform(0.0, np.pi, n)
    x = np.where(y[:, None] > 0,
                 np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1),
                 np.stack([np.cos(t), np.sin(t)], axis=1))
    return x + rng.normal(0.0, noise, (n, 2)), y


def _spiral(rng, n, noise):
    y = (np.arange(n) % 2).astype(np.float64)
    r = rng.uniform(0.05, 1.0, n)
    t = 3 * np.pi * r + np.pi * y  # two arms, half a turn apart
    x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    return x + rng.normal(0.0, noise, (n, 2)), y


def _sine(rng, n, noise):
    x = rng.uniform(-np.pi, np.pi, n)
    return x[:, None], np.sin(x) + rng.normal(0.0, noise, n)


def _parabola(rng, n, noise):
    x = rng.uniform(-2.0, 2.0, n)
    return x[:, None], x * x - 1.0 + rng.normal(0.0, noise, n)


def _step(rng, n, noise):
    x = rng.uniform(-2.0, 2.0, n)
    return x[:, None], np.where(x > 0, 1.0, 0.0) + rng.normal(0.0, noise, n)


@dataclass(frozen=True)
class NetDataSpec:
    """A dataset generator: its task, default noise and what it is."""

    name: str
    task: str
    make: Callable
    noise: float
    description: str


NET_DATASETS: dict[str, NetDataSpec] = {
    s.name: s
    for s in (
        NetDataSpec("blobs", "classification", _blobs, 0.5,
                    "two Gaussian blobs around (-1, -1) and (1, 1)"),
        NetDataSpec("xor", "classification", _xor, 0.05,
                    "uniform on [-1, 1]², label 1 where x1·x2 > 0"),
        NetDataSpec("circles", "classification", _circles, 0.05,
                    "a circle of radius 1 (label 0) around one of radius 0.5 (label 1)"),
        NetDataSpec("moons", "classification", _moons, 0.1,
                    "two interleaving half circles (sklearn's make_moons)"),
        NetDataSpec("spiral", "classification", _spiral, 0.02,
                    "two spiral arms, one and a half turns, half a turn apart"),
        NetDataSpec("sine", "regression", _sine, 0.1, "y = sin(x) on [-π, π]"),
        NetDataSpec("parabola", "regression", _parabola, 0.2, "y = x² − 1 on [-2, 2]"),
        NetDataSpec("step", "regression", _step, 0.05, "y = 1 for x > 0, else 0, on [-2, 2]"),
    )
}


def make_net_data(name: str, samples: int = 200, noise: float | None = None, seed: int = 0,
                  test_fraction: float = 0.0) -> NetData:
    """Generate dataset ``name`` (``samples`` points, ``noise``, seeded) and split it.

    The split is seeded too: the last ``round(test_fraction·samples)`` points of a seeded
    shuffle are the test set.

    Raises
    ------
    ValueError
        For an unknown name, fewer than 2 samples, negative noise or a fraction outside
        [0, 1) that leaves no training point.
    """
    spec = _lookup(NET_DATASETS, "network dataset", name)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise ValueError(f"samples must be a whole number of at least 2, got {samples!r}")
    noise = spec.noise if noise is None else float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    if not (0.0 <= test_fraction < 1.0):
        raise ValueError(f"test fraction must be in [0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(seed)
    x, y = spec.make(rng, int(samples), noise)
    order = rng.permutation(int(samples))
    n_test = int(round(test_fraction * samples))
    if samples - n_test < 1:
        raise ValueError("the test fraction leaves no training point")
    train, test = order[:samples - n_test], order[samples - n_test:]
    return NetData(name, spec.task, x[train], y[train], x[test], y[test],
                   f"{spec.description}: {samples} points, noise {noise:g}, seed {seed}")


# ============================================================================ activations


@dataclass(frozen=True)
class Activation:
    """``f``, its derivative ``df(a, f(a))`` and its second derivative ``d2f(a, f(a))``
    (given the pre-activation and the output; the second for Hessian-vector products)."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray, np.ndarray], np.ndarray]
    init: str  # "xavier" or "he": the initialisation that suits it
    d2f: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def __reduce__(self):  # by name (lambdas do not pickle): objectives go to the engine process
        return _named, ("ACTIVATIONS", self.name)


def _sigmoid(z):
    # stable on both sides: exp of a non-positive number only
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# W. J. Cody's rational approximations of erf and erfc (Math. Comp. 23, 1969; his CALERF),
# relative error below 6e-19 in exact arithmetic on each interval, vectorised: numpy has
# no erf, and math.erf element by element (np.frompyfunc) made gelu 9x slower than tanh.
# Every coefficient is positive and so is the variable (x² or |x|), so the polynomials
# are sums of positive terms: evaluated in the power basis by one matrix product (powers
# row by row) they lose nothing to cancellation and cost a few numpy calls, not 2 per
# coefficient as Horner's rule.  Columns: numerator, denominator; rows: ascending powers.
_ERF_NEAR = np.array([  # erf(x) = x·N(x²)/D(x²) for |x| ≤ 0.46875
    [3.20937758913846947e03, 2.84423683343917062e03],
    [3.77485237685302021e02, 1.28261652607737228e03],
    [1.13864154151050156e02, 2.44024637934444173e02],
    [3.16112374387056560e00, 2.36012909523441209e01],
    [1.85777706184603153e-1, 1.0]])
_ERF_MID = np.array([  # erfc(y) = e^(−y²)·N(y)/D(y) for 0.46875 < y ≤ 4
    [1.23033935479799725e03, 1.23033935480374942e03],
    [2.05107837782607147e03, 3.43936767414372164e03],
    [1.71204761263407058e03, 4.36261909014324716e03],
    [8.81952221241769090e02, 3.29079923573345963e03],
    [2.98635138197400131e02, 1.62138957456669019e03],
    [6.61191906371416295e01, 5.37181101862009858e02],
    [8.88314979438837594e00, 1.17693950891312499e02],
    [5.64188496988670089e-1, 1.57449261107098347e01],
    [2.15311535474403846e-8, 1.0]])
# erf = ±(1 − erfc) beyond: Cody's third interval (y > 4) is not needed for erf, whose
# absolute error is what counts: the second's erfc stays within 7e-13 relative up to 6
# (erfc(4) = 1.5e-8: erf exact to the last bit), and from 6 on erf rounds to ±1
_ERF_ONE = 6.0


def _ratio(t, table):
    """N(t)/D(t) with the columns of ``table`` as coefficients (ascending powers)."""
    powers = np.empty((table.shape[0], t.size))
    powers[0] = 1.0
    powers[1] = t
    for i in range(2, table.shape[0]):
        np.multiply(powers[i - 1], t, out=powers[i])
    num, den = table.T @ powers
    return num / den


def erf(x) -> np.ndarray:
    """The error function, vectorised (Cody's rational approximations; agrees with
    ``math.erf`` to 3.4e-16; NaN stays NaN, ±inf gives ±1)."""
    x = np.asarray(x, dtype=np.float64)
    flat = x.ravel()
    y = np.abs(flat)
    out = np.empty_like(flat)
    near = y <= 0.46875
    xn = flat[near]
    out[near] = xn * _ratio(xn * xn, _ERF_NEAR)
    tail = ~near  # NaN lands here and stays NaN (np.minimum keeps it)
    yt = np.minimum(y[tail], _ERF_ONE)
    # erf = 1 − erfc: an absolute error of erfc's e^(−y²) (y² rounded) is below 1e-17 here
    out[tail] = np.copysign(1.0 - np.exp(-yt * yt) * _ratio(yt, _ERF_MID), flat[tail])
    return out.reshape(x.shape)


_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gelu(a):
    return a * _phi(a)


def _phi(a):
    return 0.5 * (1.0 + erf(a * _SQRT1_2))


def _dgelu(a, h):
    # Φ(a) = gelu(a)/a, already computed by the forward pass (to an ulp; Φ(0) = 1/2)
    phi = np.divide(h, a, out=np.full_like(a, 0.5), where=a != 0)
    return phi + a * _INV_SQRT_2PI * np.exp(-0.5 * a * a)


def _d2gelu(a, _):
    # d/da (Φ + a·φ) = φ + φ + a·φ' = φ·(2 − a²), φ the standard normal density
    return _INV_SQRT_2PI * np.exp(-0.5 * a * a) * (2.0 - a * a)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("tanh", np.tanh, lambda a, h: 1.0 - h * h, "xavier",
                   lambda a, h: -2.0 * h * (1.0 - h * h)),
        Activation("relu", lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(np.float64),
                   "he", lambda a, h: np.zeros_like(a)),
        Activation("sigmoid", _sigmoid, lambda a, h: h * (1.0 - h), "xavier",
                   lambda a, h: h * (1.0 - h) * (1.0 - 2.0 * h)),
        Activation("gelu", _gelu, _dgelu, "he", _d2gelu),
    )
}

# ============================================================================ losses


@dataclass(frozen=True)
class NetLoss:
    """A loss of outputs ``z`` ``(k, n)`` against targets ``y`` ``(n,)``: mean value and
    dℓ/dz per sample (not yet divided by n)."""

    name: str
    title: str
    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]
    #: d²ℓ/dz² per sample (Hessian-vector products); None: the objective falls back to
    #: differences of the gradient
    second: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def __reduce__(self):
        return _named, ("NET_LOSSES", self.name)


def softplus(z):
    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^−|z|)."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


NET_LOSSES: dict[str, NetLoss] = {
    l.name: l
    for l in (
        NetLoss("mse", "mean squared error", lambda z, y: (z - y) ** 2,
                lambda z, y: 2.0 * (z - y), lambda z, y: np.full_like(z, 2.0)),
        NetLoss("cross-entropy", "binary cross-entropy on logits",
                lambda z, y: softplus(z) - y * z, lambda z, y: _sigmoid(z) - y,
                lambda z, y: _sigmoid(z) * _sigmoid(-z)),  # s(1 − s), no cancellation
    )
}

# ============================================================================ models


def parse_layers(text: str) -> tuple[int, ...]:
    """``"2-8-8-1"`` -> ``(2, 8, 8, 1)`` (at least input and output, each >= 1)."""
    if not isinstance(text, str) or not re.fullmatch(r"\s*\d+(\s*-\s*\d+)+\s*", text):
        raise ValueError(f"layers must be sizes joined by '-', such as 2-8-8-1, got {text!r}")
    sizes = tuple(int(s) for s in text.split("-"))
    if min(sizes) < 1:
        raise ValueError(f"every layer needs at least one unit, got {text.strip()!r}")
    if sizes[-1] != 1:
        raise ValueError(f"the last layer must have one output, got {text.strip()!r}")
    return sizes


class Network:
    """A fully connected network: ``sizes`` (input, hidden..., 1), an activation on the
    hidden layers, a linear output (a logit for classification)."""

    def __init__(self, sizes: tuple[int, ...], activation: str = "tanh",
                 names: tuple[str, ...] | None = None):
        self.sizes = tuple(int(s) for s in sizes)
        self.activation = _lookup(ACTIVATIONS, "activation", activation)
        self.shapes = [(o, i) for i, o in zip(self.sizes[:-1], self.sizes[1:])]
        self.dim = sum(o * i + o for o, i in self.shapes)
        if self.dim > MAX_NET_PARAMS:
            raise ValueError(f"a network of at most {MAX_NET_PARAMS:,} parameters, got "
                             f"{self.dim:,} ({'-'.join(map(str, self.sizes))})")
        if names is None:
            names = []
            for layer, (o, i) in enumerate(self.shapes, 1):
                names += [f"w{layer}_{a}_{b}" for a in range(o) for b in range(i)]
                names += [f"b{layer}_{a}" for a in range(o)]
        self.names = tuple(names)
        if len(self.names) != self.dim:
            raise ValueError(f"{self.dim} parameter names needed, got {len(self.names)}")
        self.slices = []
        at = 0
        for o, i in self.shapes:
            self.slices.append((slice(at, at + o * i), slice(at + o * i, at + o * i + o)))
            at += o * i + o

    @property
    def layer_titles(self) -> tuple[str, ...]:
        """One name per layer, as the parameter names start ("layer 1 (2→8)")."""
        return tuple(f"layer {l} ({i}→{o})" for l, (o, i) in enumerate(self.shapes, 1))

    def layer_norms(self, v: np.ndarray) -> np.ndarray:
        """The Euclidean norm of each layer's weights and biases together: ``(k, d)`` ->
        ``(k, layers)`` (``(d,)`` -> ``(layers,)``); of a gradient or an update as well."""
        v = np.asarray(v, dtype=np.float64)
        rows = np.atleast_2d(v)
        out = np.empty((rows.shape[0], len(self.slices)))
        with np.errstate(all="ignore"):
            for l, (ws, bs) in enumerate(self.slices):
                out[:, l] = np.sqrt(np.sum(rows[:, ws] ** 2, axis=1)
                                    + np.sum(rows[:, bs] ** 2, axis=1))
        return out if v.ndim > 1 else out[0]

    @functools.cached_property
    def groups(self) -> tuple[tuple[str, np.ndarray], ...]:
        """Each layer's weights and biases together, titled as :attr:`layer_titles` (the
        columns :meth:`layer_norms` sums over): what the step log and the CLI summarise."""
        groups = tuple((title, np.r_[ws, bs])
                       for title, (ws, bs) in zip(self.layer_titles, self.slices))
        for _, idx in groups:
            idx.flags.writeable = False
        return groups

    @functools.cached_property
    def filters(self) -> tuple[np.ndarray, ...]:
        """One index array per unit: the row of its layer's weight matrix (its incoming
        weights); the biases are in none (the landscape's filter normalisation)."""
        out = []
        for (o, i), (ws, _) in zip(self.shapes, self.slices):
            out += [np.arange(ws.start + r * i, ws.start + (r + 1) * i) for r in range(o)]
        return tuple(out)

    def init(self, seed: int = 0) -> np.ndarray:
        """Seeded initial parameters: Xavier-uniform weights for tanh/sigmoid, He-normal
        for relu/gelu (the output layer always Xavier), zero biases."""
        rng = np.random.default_rng(seed)
        p = np.zeros(self.dim)
        last = len(self.shapes) - 1
        for layer, ((o, i), (ws, _)) in enumerate(zip(self.shapes, self.slices)):
            if self.activation.init == "he" and layer < last:
                p[ws] = rng.normal(0.0, math.sqrt(2.0 / i), o * i)
            else:
                bound = math.sqrt(6.0 / (i + o))
                p[ws] = rng.uniform(-bound, bound, o * i)
        return p

    def _unpack(self, p):
        k = p.shape[0]
        return [(p[:, ws].reshape(k, o, i), p[:, bs])
                for (o, i), (ws, bs) in zip(self.shapes, self.slices)]

    def forward(self, p: np.ndarray, x: np.ndarray):
        """Outputs ``(k, n)`` for parameters ``(k, d)`` at inputs ``(n, m)``, and the cache
        backpropagation needs."""
        layers = self._unpack(p)
        h = np.broadcast_to(x, (p.shape[0], *x.shape))
        cache = []
        last = len(layers) - 1
        for l, (w, b) in enumerate(layers):
            a = np.matmul(h, w.transpose(0, 2, 1)) + b[:, None, :]  # (k, n, o)
            if l < last:
                out = self.activation.f(a)
                cache.append((h, a, out))
                h = out
            else:
                cache.append((h, None, None))
                h = a
        return h[:, :, 0], (layers, cache)

    def backward(self, cache, dz: np.ndarray) -> np.ndarray:
        """The gradient ``(k, d)`` given dℓ/dz ``(k, n)`` (already divided by n)."""
        layers, acts = cache
        k = dz.shape[0]
        g = np.empty((k, self.dim))
        delta = dz[:, :, None]  # (k, n, o): dℓ/d(pre-activation) of the current layer
        for l in range(len(layers) - 1, -1, -1):
            h_in, _, _ = acts[l]
            ws, bs = self.slices[l]
            g[:, ws] = np.matmul(delta.transpose(0, 2, 1), h_in).reshape(k, -1)
            g[:, bs] = delta.sum(axis=1)
            if l:
                _, a_prev, h_prev = acts[l - 1]
                delta = np.matmul(delta, layers[l][0]) * self.activation.df(a_prev, h_prev)
        return g

    def hvp(self, p: np.ndarray, v: np.ndarray, x: np.ndarray, y: np.ndarray,
            loss: NetLoss) -> np.ndarray:
        """The exact Hessian-vector product H·v ``(k, d)`` of the mean ``loss`` at
        parameters ``p`` ``(k, d)`` along ``v`` ``(k, d)``: Pearlmutter's R-operator
        (1994), the directional derivative R{·} = d/dε (·)(p + ε·v) at ε = 0 carried
        through the forward pass and then through backpropagation.

        Forward: R{a_l} = R{h_{l−1}}·W_lᵀ + h_{l−1}·V_lᵀ + c_l (V_l, c_l: v's part of
        W_l, b_l), R{h_l} = f'(a_l)·R{a_l}.  Backward: R{δ_L} = ℓ''(z)·R{z}/n,
        R{∇W_l} = R{δ_l}ᵀ·h_{l−1} + δ_lᵀ·R{h_{l−1}}, R{∇b_l} = Σ R{δ_l},
        R{δ_{l−1}} = (R{δ_l}·W_l + δ_l·V_l)·f'(a_{l−1}) + (δ_l·W_l)·f''(a_{l−1})·R{a_{l−1}}.
        Costs about two gradients; needs the activation's and the loss's second derivatives.
        """
        act = self.activation
        layers, vlayers = self._unpack(p), self._unpack(v)
        k, n = p.shape[0], x.shape[0]
        h = np.broadcast_to(x, (k, *x.shape))
        rh = None  # R{x} = 0
        cache = []
        last = len(layers) - 1
        for l, ((w, b), (vw, vb)) in enumerate(zip(layers, vlayers)):
            a = np.matmul(h, w.transpose(0, 2, 1)) + b[:, None, :]
            ra = np.matmul(h, vw.transpose(0, 2, 1)) + vb[:, None, :]
            if rh is not None:
                ra += np.matmul(rh, w.transpose(0, 2, 1))
            cache.append((h, rh))
            if l < last:
                out = act.f(a)
                d1 = act.df(a, out)
                acts = (a, out, d1, ra)
                cache[-1] = (h, rh, acts)
                h, rh = out, d1 * ra
            else:
                cache[-1] = (h, rh, None)
                z, rz = a[:, :, 0], ra[:, :, 0]
        delta = (loss.derivative(z, y) / n)[:, :, None]
        rdelta = (loss.second(z, y) * rz / n)[:, :, None]
        out = np.empty((k, self.dim))
        for l in range(last, -1, -1):
            h_in, rh_in, _ = cache[l]
            ws, bs = self.slices[l]
            gw = np.matmul(rdelta.transpose(0, 2, 1), h_in)
            if rh_in is not None:
                gw += np.matmul(delta.transpose(0, 2, 1), rh_in)
            out[:, ws] = gw.reshape(k, -1)
            out[:, bs] = rdelta.sum(axis=1)
            if l:
                a_prev, h_prev, d1_prev, ra_prev = cache[l - 1][2]
                w, vw = layers[l][0], vlayers[l][0]
                back = np.matmul(delta, w)
                rdelta = ((np.matmul(rdelta, w) + np.matmul(delta, vw)) * d1_prev
                          + back * act.d2f(a_prev, h_prev) * ra_prev)
                delta = back * d1_prev
        return out


@dataclass(frozen=True)
class NetModel:
    """A registry entry: ``logistic`` (fixed 2-1 net) or ``mlp`` (layers given)."""

    name: str
    title: str
    fixed_layers: str | None
    names: tuple[str, ...] | None = None


NET_MODELS: dict[str, NetModel] = {
    m.name: m
    for m in (
        NetModel("logistic", "logistic regression sigmoid(w1·x1 + w2·x2 + b)", "2-1",
                 ("w1", "w2", "b")),
        NetModel("mlp", "multi-layer perceptron (layers such as 2-8-8-1)", None),
    )
}


def make_network(model: str, layers: str | None = None, activation: str = "tanh") -> Network:
    """The network of registry ``model`` (``layers`` for ``mlp``: ``"2-8-8-1"``)."""
    entry = _lookup(NET_MODELS, "network model", model)
    if entry.fixed_layers is not None:
        return Network(parse_layers(entry.fixed_layers), activation, entry.names)
    return Network(parse_layers(layers or "2-8-8-1"), activation)


# ============================================================================ objective


class NetObjective(Objective):
    """The training loss of a network on a dataset, as a function of its parameters."""

    equal_aspect = False

    def __init__(self, data: NetData, network: Network, loss: str = "cross-entropy",
                 init_seed: int = 0):
        self.data, self.network = data, network
        self.loss = _lookup(NET_LOSSES, "loss", loss)
        if data.inputs != network.sizes[0]:
            raise ValueError(f"dataset {data.name!r} has {data.inputs}-D inputs; the network "
                             f"takes {network.sizes[0]} (layers "
                             f"{'-'.join(map(str, network.sizes))})")
        if self.loss.name == "cross-entropy" and data.task != "classification":
            raise ValueError(f"cross-entropy needs class labels; {data.name!r} is a "
                             "regression dataset (use mse)")
        start = network.init(init_seed)
        spread = np.maximum(np.abs(start) * 2.0, 1.0)
        layers = "-".join(map(str, network.sizes))
        super().__init__(
            name=f"{self.loss.name} of {layers} {network.activation.name} net on {data.name}",
            names=network.names,
            # plain names: the formula line renders maths ("cross-entropy" reads as a minus)
            formula=f"{'bce' if self.loss.name == 'cross-entropy' else 'mse'}(net(x), y)",
            description=f"{self.loss.title} of a {layers} network ({network.activation.name}, "
            f"{network.dim} parameters) on {data.description}",
            window=tuple((float(s - w), float(s + w)) for s, w in zip(start, spread)),
            start=tuple(float(s) for s in start),
            lr_sgd=0.1,
            lr_adaptive=0.01,
        )

    @property
    def samples(self) -> int:
        return self.data.y.size

    @property
    def evaluation_cost(self) -> int:
        return self.data.y.size * max(1, self.network.dim // 4)

    def surface_cost(self, points: int) -> int:
        # no closed form: every grid point is a forward pass over the data (a 2-16-16-1
        # surface took 1.4 s, a 2-32-32-32-1 one 5.8 s, on the window's thread before)
        return self.evaluation_cost * points

    def value_and_grad(self, p, index: np.ndarray | None = None):
        """Loss and gradient at ``p`` ``(k, d)``; ``index`` restricts to a mini-batch."""
        p = np.asarray(p, dtype=np.float64)
        x = self.data.x if index is None else self.data.x[index]
        y = self.data.y if index is None else self.data.y[index]
        k = p.shape[0]
        step = self._rows(y.size)
        if k <= step:  # the usual case (a few runs): no copies
            return self._value_and_grad(p, x, y)
        values, grads = np.empty(k), np.empty((k, self.dim))
        for lo in range(0, k, step):  # surfaces: bounded memory, rows of points at a time
            values[lo:lo + step], grads[lo:lo + step] = self._value_and_grad(
                p[lo:lo + step], x, y)
        return values, grads

    def _rows(self, n: int) -> int:
        """Points per chunk: at most _CHUNK activations (points × samples × widest layer)."""
        return max(1, _CHUNK // max(1, n * max(self.network.sizes)))

    def _value_and_grad(self, p, x, y):
        with np.errstate(all="ignore"):
            z, cache = self.network.forward(p, x)
            values = self.loss.value(z, y).mean(axis=1)
            grads = self.network.backward(cache, self.loss.derivative(z, y) / y.size)
        return values, grads

    @property
    def exact_hvp(self) -> bool:
        return self.network.activation.d2f is not None and self.loss.second is not None

    def exact_hessian(self, p):
        """The exact Hessian ``(k, d, d)``, column by column from exact products (a block
        of columns a call), made symmetric; None without second derivatives."""
        if not self.exact_hvp:
            return None
        p = np.asarray(p, dtype=np.float64)
        k, d = p.shape
        out = np.empty((k, d, d))
        eye = np.eye(d)
        block = max(1, 4096 // max(1, k))
        for lo in range(0, d, block):
            cols = eye[lo:lo + block]  # (b, d): the unit directions e_lo … e_(lo+b−1)
            b = cols.shape[0]
            hv = self.hvp(np.repeat(p, b, axis=0), np.tile(cols, (k, 1)))
            out[:, :, lo:lo + b] = hv.reshape(k, b, d).transpose(0, 2, 1)
        return 0.5 * (out + out.transpose(0, 2, 1))

    def hvp(self, p, v) -> np.ndarray:
        """The exact Hessian-vector product of the full-batch training loss
        (:meth:`Network.hvp`, the R-operator), in bounded chunks of rows."""
        if not self.exact_hvp:
            return super().hvp(p, v)
        arr, single = self._batched(p)
        v = np.asarray(v, dtype=np.float64).reshape(arr.shape)
        x, y = self.data.x, self.data.y
        out = np.empty_like(arr)
        step = max(1, self._rows(y.size) // 2)  # the R-pass keeps twice the activations
        with np.errstate(all="ignore"):
            for lo in range(0, arr.shape[0], step):
                out[lo:lo + step] = self.network.hvp(arr[lo:lo + step], v[lo:lo + step], x, y,
                                                     self.loss)
        return out[0] if single else out

    def values(self, p):
        p = np.asarray(p, dtype=np.float64)
        out = np.empty(p.shape[0])
        step = self._rows(self.data.y.size)
        with np.errstate(all="ignore"):
            for lo in range(0, p.shape[0], step):
                z = self.network.forward(p[lo:lo + step], self.data.x)[0]
                out[lo:lo + step] = self.loss.value(z, self.data.y).mean(axis=1)
        return out

    def predict(self, p, x=None) -> np.ndarray:
        """The network's outputs (logits for classification) at inputs ``x`` ``(n, m)``
        (``(n,)`` for a network of one input: the Fit view's x values)."""
        p = np.atleast_2d(np.asarray(p, dtype=np.float64))
        x = self.data.x if x is None else np.asarray(x, dtype=np.float64)
        if x.ndim == 1 and self.data.inputs == 1:
            x = x[:, None]
        with np.errstate(all="ignore"):
            z = self.network.forward(p, x)[0]
        return z if np.ndim(p) > 1 and p.shape[0] > 1 else z[0]

    # -- capabilities the views ask for
    def fit_data(self):
        """A 1-D regression's data (the Fit view draws the network's curve over it)."""
        if self.data.task != "regression" or self.data.inputs != 1:
            return None
        return self.data.x[:, 0], self.data.y, ("x", "y")

    def decision_data(self) -> DecisionData | None:
        """A 2-D classifier's data (the Decision view)."""
        if self.data.task != "classification" or self.data.inputs != 2:
            return None
        d = self.data
        return DecisionData(d.x, d.y, d.x_test, d.y_test, ("x1", "x2"))

    def probability(self, p, x) -> np.ndarray:
        """sigmoid(z), P(class 1), at inputs ``x`` ``(n, m)`` for parameters ``(d,)``."""
        return _sigmoid(self.predict(np.asarray(p, dtype=np.float64)[None, :], x))

    @property
    def metric_names(self) -> tuple[str, ...]:
        test = self.data.y_test.size > 0
        names = ["train loss"] + ["test loss"] * test
        if self.data.task == "classification":
            names += ["train accuracy"] + ["test accuracy"] * test
        return tuple(names)

    def metrics(self, p) -> dict[str, np.ndarray]:
        """Loss on all the training data and on the test split, and (classification) the
        share of points on the right side of 0.5, at points ``(k, d)``; NaN where the
        network's outputs are not finite."""
        p = np.atleast_2d(np.asarray(p, dtype=np.float64))
        names = self.metric_names
        out = {name: np.empty(p.shape[0]) for name in names}
        d = self.data
        for part, x, y in (("train", d.x, d.y), ("test", d.x_test, d.y_test)):
            if f"{part} loss" not in out:
                continue
            step = self._rows(y.size)
            with np.errstate(all="ignore"):
                for lo in range(0, p.shape[0], step):
                    z = self.network.forward(p[lo:lo + step], x)[0]
                    out[f"{part} loss"][lo:lo + step] = self.loss.value(z, y).mean(axis=1)
                    if f"{part} accuracy" in out:
                        acc = np.mean((z > 0) == (y > 0.5), axis=1)
                        out[f"{part} accuracy"][lo:lo + step] = np.where(
                            np.all(np.isfinite(z), axis=1), acc, np.nan)
        return out

    def layers(self) -> Network:
        return self.network

    def accuracy(self, p, test: bool = False) -> float:
        """Share of correctly classified points (train or test) at parameters ``p`` (d,)."""
        x, y = (self.data.x_test, self.data.y_test) if test else (self.data.x, self.data.y)
        if y.size == 0:
            return float("nan")
        z = self.predict(np.asarray(p)[None, :], x)
        return float(np.mean((z > 0) == (y > 0.5)))


def net_objective(dataset: str = "moons", model: str = "mlp", layers: str | None = None,
                  activation: str = "tanh", loss: str | None = None, *, samples: int = 200,
                  noise: float | None = None, data_seed: int = 0, test_fraction: float = 0.0,
                  init_seed: int = 0) -> NetObjective:
    """Build a network objective from names (the CLI and the problem kind's builder).

    ``loss`` defaults to cross-entropy for classification, MSE for regression; ``layers``
    defaults to ``m-8-8-1`` with ``m`` the dataset's input dimension.
    """
    data = make_net_data(dataset, samples, noise, data_seed, test_fraction)
    if layers is None and model == "mlp":
        layers = f"{data.inputs}-8-8-1"
    network = make_network(model, layers, activation)
    if loss is None:
        loss = "cross-entropy" if data.task == "classification" else "mse"
    return NetObjective(data, network, loss, init_seed)


def _lookup(table: dict, kind: str, name):
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {kind} {name!r}; choose one of: {', '.join(table)}") from None


def _named(table: str, name: str):
    return globals()[table][name]
