"""Presets: every worked example of the two seed articles, classic lessons, small networks.

Each preset is a complete :class:`~gd_explorer.core.session.specs.Session` plus a title, a
category and a description that says what to look at.  The descriptions make claims
("diverges", "ends in the minimum at (3, 2)", "rattles"); ``tests/core/test_presets.py``
runs every preset and checks each claim, so a description that stops being true fails
the tests.

Where the articles are wrong, the descriptions say so (see the seed notes): the fencing
function A(L) = 100L − L² is the pasture of 200 m of fence; the article's script prints
the *sum* of the errors (−674850), whose mean is −6748.5 and whose MAE is 6748.5; and
seed 001 swaps the two partial derivatives of x²·sin(y).
"""

from __future__ import annotations

from dataclasses import dataclass

from gd_explorer.core.problems.kinds import get_kind
from gd_explorer.core.session.specs import ProblemSpec, RunSpec, Session

__all__ = ["CATEGORIES", "DEFAULT_PRESET", "PRESETS", "Preset", "get_preset"]

CATEGORIES = ("Seed articles", "Lessons", "Networks")


@dataclass(frozen=True)
class Preset:
    """A named, described session.

    Attributes
    ----------
    key : str
        Registry key (kebab-case).
    title : str
        Menu text.
    category : str
        ``"Seed articles"``, ``"Lessons"`` or ``"Networks"``.
    description : str
        What to look at; every claim in it is checked by the tests.
    session : Session
        The configuration (its title and description are the preset's).
    """

    key: str
    title: str
    category: str
    description: str
    session: Session


def _function(name: str, maximize: bool | None = None) -> ProblemSpec:
    return ProblemSpec(kind="function", function=name, maximize=maximize)


def _dataset(name: str, model: str, loss: str, batch_size: int | None = None) -> ProblemSpec:
    return ProblemSpec(kind="dataset", dataset=name, model=model, loss=loss,
                       batch_size=batch_size)


def _net(dataset: str, model: str = "mlp", layers: str = "2-8-8-1", **fields) -> ProblemSpec:
    # every field of the kind spelled out, as a session file read back has them
    return ProblemSpec(kind="nets").with_fields(**{
        **get_kind("nets").defaults, "net_dataset": dataset, "net_model": model,
        "layers": layers, **fields})


def _sgd(lr: float, label: str = "", **hyper) -> RunSpec:
    return RunSpec("sgd", lr, dict(hyper), label=label)


def _preset(key: str, title: str, category: str, description: str, problem: ProblemSpec,
            runs: tuple[RunSpec, ...], start: tuple[float, ...] | None, max_steps: int,
            tol: float = 1e-8) -> Preset:
    session = Session(problem=problem, runs=runs, start=start, max_steps=max_steps, tol=tol,
                      title=title, description=description)
    return Preset(key, title, category, description, session)


SEED = "Seed articles"
LESSON = "Lessons"
NETS = "Networks"

_ALL = (
    # ------------------------------------------------------------------ seed 000
    _preset(
        "fence-ascent", "Fencing: gradient ascent on A(L)", SEED,
        "Seed 000's fencing problem: maximize the area A(L) = 100L − L² of a rectangular "
        "pasture with sides L and 100 − L. That is 200 m of fence, not the 100 m the "
        "article says. From L = 57 the slope is A'(57) = −14, so gradient ascent steps "
        "left. The maximum is A(50) = 2500. Each step is lr·A'(L). With lr = 0.1 "
        "(SGD lr=0.1) the distance to 50 shrinks by a factor 0.8 per step and the run "
        "converges to L = 50 in under 100 steps. The article moves by hand, 57 → 54 → 52. "
        "The second run, lr = 3/14, takes exactly its first step (57 − 3/14·14 = 54); "
        "its next step lands at 52.29, close to the article's 52, and it converges too.",
        _function("fence-area", maximize=True),
        (_sgd(0.1, "SGD lr=0.1"), _sgd(3 / 14, "lr=3/14: the article's first step")),
        (57.0,), 1000,
    ),
    _preset(
        "fence-fit-mae", "Fencing: fit F(x) = ax² + bx with MAE", SEED,
        "Seed 000's function finding: fit F(x) = a·x² + b·x to the pasture data "
        "(x = 0…99, y = 100x − x², the 200 m pasture; the true answer is a = −1, b = 100) "
        "with the mean absolute error and its subgradient, from the article's guess "
        "a = −2, b = 30. The article's script prints error = −674850: that is the sum of "
        "the errors; the mean is −6748.5 (not −67485) and the MAE of the guess is 6748.5, "
        "the first value of every loss curve here. "
        "Plain SGD with lr = 2e-6 makes progress: the MAE falls below 1000 within 300 "
        "steps, as a climbs from −2 to about −0.12. Then it crawls: the x² feature is "
        "about 100 times larger than x, so one learning rate is far too small for b, which "
        "moves by less than 1 in 3000 steps (MAE still about 900). "
        "With lr = 1e-3 SGD thrashes, as the article warns: a jumps back and forth and the "
        "MAE bounces between about 1000 and 9000 to the end. "
        "Adam (lr = 0.1, cosine schedule) scales each parameter's step separately and "
        "reaches a = −1, b = 100 (MAE below 0.01).",
        _dataset("fence", "quadratic", "mae"),
        (
            _sgd(2e-6, "SGD lr=2e-6"),
            _sgd(1e-3, "SGD lr=1e-3 (thrashing)"),
            RunSpec("adam", 0.1, schedule="cosine", schedule_params={"t_max": 3000},
                    label="Adam lr=0.1, cosine"),
        ),
        (-2.0, 30.0), 3000,
    ),
    # ------------------------------------------------------------------ seed 001
    _preset(
        "one-point-mae", "One weight, one point: the MAE is a V", SEED,
        "Seed 001's picture: hold one sample (x = 2, y = 3) fixed and vary the weight w of "
        "F(x) = w·x. The MAE |2w − 3| is a V with its minimum 0 at w = 1.5. Its slope is "
        "±2 everywhere, so the article's remedy, steps proportional to the slope, gives "
        "steps of constant size. Plain SGD (lr = 0.1) walks from w = 0 in steps of 0.2 "
        "and then bounces between 1.4 and 1.6 forever (MAE 0.2). A decaying learning "
        "rate (exponential, γ = 0.99) shrinks the bounce and settles within 0.001 of "
        "w = 1.5.",
        _dataset("one-point", "slope", "mae"),
        (
            _sgd(0.1, "SGD lr=0.1 (constant)"),
            RunSpec("sgd", 0.1, schedule="exponential", schedule_params={"gamma": 0.99},
                    label="SGD lr=0.1, exponential decay"),
        ),
        (0.0,), 1000,
    ),
    _preset(
        "line-fit-mae", "Fit a line w·x + b with MAE", SEED,
        "Seed 001's setting: a linear model w·x + b fitted with the mean absolute error, "
        "here on 50 noisy points around y = 2x + 1. From w = b = 0 the MAE falls from "
        "11.29 to below 0.68 with both SGD (lr = 0.01) and Adam (lr = 0.05); both end "
        "with w near 2 and b near 1.1. The MAE line is not the least-squares line: it "
        "follows the median, not the mean, of the noise.",
        _dataset("noisy-line", "linear", "mae"),
        (_sgd(0.01, "SGD lr=0.01"), RunSpec("adam", 0.05, label="Adam lr=0.05")),
        (0.0, 0.0), 2000,
    ),
    _preset(
        "x2-sin-y", "z = x²·sin(y): the gradient", SEED,
        "Seed 001's example. The gradient is (∂f/∂x, ∂f/∂y) = (2x·sin y, x²·cos y): the "
        "article writes the two partial derivatives the wrong way round. At the start "
        "(1, 1) it is (1.683, 0.540); the surface's arrows show it, pointing uphill. "
        "Descending from (1, 1), plain SGD (lr = 0.05) slides to the line x = 0, where "
        "f = 0 and the gradient vanishes, and stops near y = 0.80. The function is "
        "unbounded below where sin y < 0: Adam (lr = 0.05) finds the trough y = −π/2 and "
        "runs off along it, |x| growing every step (f below −1000 after 1000 steps).",
        _function("x2siny"),
        (_sgd(0.05, "SGD lr=0.05"), RunSpec("adam", 0.05, label="Adam lr=0.05")),
        (1.0, 1.0), 1000,
    ),
    # ------------------------------------------------------------------ lessons
    _preset(
        "rosenbrock-race", "Rosenbrock race: momentum vs RMSprop vs Adam", LESSON,
        "The Rosenbrock valley from (−1.5, 2): the minimum (1, 1) is easy to find and "
        "hard to reach along the curved, nearly flat valley floor. "
        "SGD with momentum 0.9 (lr = 0.001) overshoots at first, then follows the floor "
        "and ends within 0.0001 of (1, 1). "
        "Adam (lr = 0.05) also gets there; its gradient norm drops below 1e-8 before the "
        "3000 steps are up. "
        "RMSprop (lr = 0.01, no momentum) gets into the valley but then rattles across "
        "its floor with steps of about lr: the loss rises on a large share of its late "
        "steps and it ends between 0.01 and 0.2 from (1, 1).",
        _function("rosenbrock"),
        (
            _sgd(0.001, "SGD momentum=0.9 lr=0.001", momentum=0.9),
            RunSpec("rmsprop", 0.01, label="RMSprop lr=0.01"),
            RunSpec("adam", 0.05, label="Adam lr=0.05"),
        ),
        (-1.5, 2.0), 3000,
    ),
    _preset(
        "zigzag", "Zigzag in an ill-conditioned bowl", LESSON,
        "f = x² + 10y² is ten times steeper across y than along x. Plain SGD at "
        "lr = 0.09, close to its stability limit 0.1, overshoots in y on every step: y "
        "changes sign 30 times in the first 30 steps while x creeps. It still converges, "
        "in about 100 steps. Momentum 0.5 (lr = 0.05) damps the zigzag (fewer sign "
        "changes) and converges in fewer steps. Adam (lr = 0.1) does not zigzag at all: "
        "it normalises each coordinate, so x and y move at the same pace and the path "
        "starts as a diagonal. Its last digits take longer, so it needs more steps than "
        "SGD to reach the 1e-8 tolerance.",
        _function("ill-conditioned"),
        (
            _sgd(0.09, "SGD lr=0.09"),
            _sgd(0.05, "SGD momentum=0.5 lr=0.05", momentum=0.5),
            RunSpec("adam", 0.1, label="Adam lr=0.1"),
        ),
        (-4.0, 1.5), 1000,
    ),
    _preset(
        "lr-too-large", "Learning rate too large: oscillation and divergence", LESSON,
        "On f = x² a gradient step maps x to (1 − 2·lr)·x, so plain gradient descent is "
        "stable only for lr < 1 (2 divided by the curvature 2). "
        "lr = 0.9 overshoots on every step (x changes sign) but converges; lr = 1.0 "
        "bounces between +2.5 and −2.5 forever; lr = 1.1 grows by a factor 1.2 per "
        "step (the loss by 1.44) and diverges: at step 32 the loss, 7.3e5, is more than "
        "100,000 times the loss range of the window away from its start value 6.25.",
        _function("parabola"),
        (_sgd(0.9, "lr=0.9"), _sgd(1.0, "lr=1.0"), _sgd(1.1, "lr=1.1")),
        (2.5,), 1000,
    ),
    _preset(
        "lr-too-small", "Learning rate too small: slow progress", LESSON,
        "On f = x² from x = 2.5, lr = 0.1 converges in under 100 steps. lr = 0.001 "
        "shrinks x by only 0.2% per step: after the full 1000 steps it is still at "
        "x ≈ 0.34, with the gradient far from zero.",
        _function("parabola"),
        (_sgd(0.1, "lr=0.1"), _sgd(0.001, "lr=0.001")),
        (2.5,), 1000,
    ),
    _preset(
        "saddle", "Saddle point: slow down, then escape", LESSON,
        "f = x² − y² has a saddle at the origin: a minimum along x, a maximum along y. "
        "The start (−2.5, 0.001) is almost on the ridge line y = 0. Plain SGD "
        "(lr = 0.1) first slides towards the saddle and passes within 0.05 of it, where "
        "the gradient is small and progress stalls. Then the tiny y offset grows by 20% "
        "per step and the run escapes; the function is unbounded below, so it finally "
        "diverges. Adam (lr = 0.05) normalises its steps, so it neither lingers nor comes "
        "within 1 of the saddle; it heads down the y direction steadily (y ≈ 79 after "
        "1000 steps).",
        _function("saddle"),
        (_sgd(0.1, "SGD lr=0.1"), RunSpec("adam", 0.05, label="Adam lr=0.05")),
        (-2.5, 0.001), 1000,
    ),
    _preset(
        "himmelblau-four", "Himmelblau: which minimum depends on the optimizer", LESSON,
        "Himmelblau's function has four minima of value 0. All runs start at "
        "(0.75, 4.5), yet they end in three different ones: plain SGD (lr = 0.01) at "
        "(3, 2), SGD with momentum 0.9 (lr = 0.005) at (3.584, −1.848) and Adam "
        "(lr = 0.1) at (−2.805, 3.131). Moving the start by 0.05 does not change this. "
        "The fourth minimum, (−3.779, −3.283), is what plain SGD finds from "
        "(−4, −4): the start decides as much as the optimizer.",
        _function("himmelblau"),
        (
            _sgd(0.01, "SGD lr=0.01"),
            _sgd(0.005, "SGD momentum=0.9 lr=0.005", momentum=0.9),
            RunSpec("adam", 0.1, label="Adam lr=0.1"),
        ),
        (0.75, 4.5), 1000,
    ),
    _preset(
        "double-well-local", "Double well: stuck in the local minimum", LESSON,
        "f = x⁴ − 4x² + x has a local minimum at x ≈ 1.347 and a lower, global one at "
        "x ≈ −1.473, with a hump between them. From x = 2, plain gradient descent "
        "(lr = 0.03) stops in the local minimum. SGD with momentum 0.9 and the same "
        "lr carries enough speed over the hump and ends in the global minimum. Momentum "
        "is no guarantee: with lr = 0.02 it overshoots to x ≈ 0.24, short of the top "
        "of the hump near 0.13, and rolls back into the local minimum.",
        _function("double-well"),
        (
            _sgd(0.03, "SGD lr=0.03"),
            _sgd(0.03, "SGD momentum=0.9 lr=0.03", momentum=0.9),
            _sgd(0.02, "SGD momentum=0.9 lr=0.02", momentum=0.9),
        ),
        (2.0,), 1000,
    ),
    _preset(
        "minibatch-sgd", "Stochastic gradient descent: batch size 1", LESSON,
        "A line w·x + b fitted by mean squared error to 50 noisy points, each step "
        "using the gradient of a single sample (batch size 1, reshuffled every epoch). "
        "The loss curve is noisy: it goes up on roughly half of the steps. With a "
        "constant lr = 0.01 the run never settles: it hovers around the least-squares "
        "line (w ≈ 1.98, b ≈ 1.01), its loss over the last 500 steps typically 0.1 to 1 "
        "above the minimum. A cosine-decayed learning rate shrinks the noise and ends "
        "within 0.05 of the least-squares line. Compare the preset 'full-batch-gd': "
        "same problem, full batch.",
        _dataset("noisy-line", "linear", "mse", batch_size=1),
        (
            _sgd(0.01, "SGD batch 1, lr=0.01"),
            RunSpec("sgd", 0.01, schedule="cosine", schedule_params={"t_max": 2000},
                    label="SGD batch 1, lr=0.01, cosine"),
        ),
        (0.0, 0.0), 2000,
    ),
    _preset(
        "full-batch-gd", "Full-batch gradient descent (compare with batch size 1)", LESSON,
        "The problem of 'minibatch-sgd' (a line fitted by MSE to 50 noisy points), but "
        "every step uses the gradient over all 50 points. The loss never goes up and the "
        "run ends within 0.001 of the least-squares line (w ≈ 1.98, b ≈ 1.01). The bias "
        "b is the slow direction: x ranges over 0…10, so the loss is much steeper in w "
        "than in b.",
        _dataset("noisy-line", "linear", "mse"),
        (_sgd(0.01, "GD full batch, lr=0.01"),),
        (0.0, 0.0), 2000,
    ),
    # ------------------------------------------------------------------ networks
    _preset(
        "nets-logistic-blobs", "Logistic regression on two blobs", NETS,
        "Logistic regression sigmoid(w1·x1 + w2·x2 + b) on two Gaussian blobs (200 points, "
        "noise 0.5), trained by binary cross-entropy. From the seeded start the loss is "
        "0.865 and only 20 % of the points are on the right side of the line. Both runs "
        "turn the line between the blobs: after 300 steps SGD (lr = 0.5) and Adam "
        "(lr = 0.05) classify 99.5 % of the points right (the blobs overlap a little) and "
        "the loss is below 0.025. The decision view shows the line; the surface shows "
        "the loss over w1 and w2.",
        _net("blobs", "logistic", "2-1"),
        (_sgd(0.5, "SGD lr=0.5"), RunSpec("adam", 0.05, label="Adam lr=0.05")),
        None, 300,
    ),
    _preset(
        "nets-xor-hidden", "XOR needs a hidden layer", NETS,
        "XOR: label 1 where x1·x2 > 0 (200 points on [−1, 1]²). A 2-8-1 network (one "
        "hidden layer of 8 tanh units) learns it: after 1000 steps Adam (lr = 0.05) gets "
        "97 % of the points right and SGD (lr = 0.5) 95 %, both with a loss below 0.11. "
        "Switch the model to logistic to see why the hidden layer is needed: no straight "
        "line separates XOR, and Adam stalls at a loss of 0.68, close to log 2 = 0.693 "
        "(a coin toss), with at most about 2/3 of the points right.",
        _net("xor", layers="2-8-1"),
        (RunSpec("adam", 0.05, label="Adam lr=0.05"), _sgd(0.5, "SGD lr=0.5")),
        None, 1000,
    ),
    _preset(
        "nets-spiral-depth", "The spiral needs depth", NETS,
        "Two spiral arms, 400 points. Three hidden layers of 8 tanh units (2-8-8-8-1, "
        "177 parameters) trained by Adam (lr = 0.01) get 98 % of the points right by step "
        "270 and every point by step 350. Change the layers to compare: one hidden layer "
        "of 8 (2-8-1) is still at about 80 % after 1000 steps, and one wide layer of 32 "
        "(2-32-1, 129 parameters) needs more than three times as many steps to reach "
        "98 % (855 against 267) and never gets every point right in 1000 steps.",
        _net("spiral", layers="2-8-8-8-1", samples=400),
        (RunSpec("adam", 0.01, label="Adam lr=0.01"),),
        None, 1000,
    ),
    _preset(
        "nets-adam-sgd-moons", "Adam vs SGD on two moons", NETS,
        "Two moons (200 points), a 2-16-16-1 tanh network (337 parameters), the same "
        "seeded start. Adam (lr = 0.01) classifies every point right by step 200 (loss "
        "below 0.02). Plain SGD (lr = 0.1) first learns the easy, nearly linear part "
        "(88 % right) and then sits on a plateau, its loss near 0.3 from step 50 to step "
        "500, before it finds the curved boundary: 97.5 % right and a loss of 0.066 at "
        "step 1000.",
        _net("moons", layers="2-16-16-1"),
        (_sgd(0.1, "SGD lr=0.1"), RunSpec("adam", 0.01, label="Adam lr=0.01")),
        None, 1000,
    ),
    _preset(
        "nets-overfitting", "Overfitting: train vs test", NETS,
        "Few noisy points and a big network: 60 points of two moons with noise 0.4, half "
        "held out as a test set, and a 2-32-32-32-1 tanh network (2,241 parameters for "
        "30 training points) trained by Adam (lr = 0.01). The training loss falls to "
        "below 0.001 and every training point ends right. The test loss is lowest (about "
        "0.6) within the first 100 steps and then rises while the training loss keeps "
        "falling, past 1.5 by step 1000: the network learns the noise, and only 73 % of "
        "the test points end right. The metrics view shows both losses.",
        _net("moons", layers="2-32-32-32-1", samples=60, noise=0.4, test_fraction=0.5),
        (RunSpec("adam", 0.01, label="Adam lr=0.01"),),
        None, 1000,
    ),
    _preset(
        "edge-of-stability", "Edge of stability", NETS,
        "Full-batch gradient descent at a constant lr = 0.05 on a 1-16-16-1 tanh network "
        "fitting y = sin(x) (200 points, MSE): the edge of stability of Cohen et al. 2021. "
        "Open the Sharpness tab. The sharpness λmax of the Hessian starts at 22, about half "
        "of 2/lr = 40, dips to about 20 in the first 25 steps, then rises steadily as the "
        "network trains (progressive sharpening). It "
        "passes 0.9·2/lr = 36 near step 600 and 2/lr near step 800, overshoots to about "
        "44, and from step 1100 on it hovers within 6% of 40 (within 3% after step 1500, "
        "1% after step 2000). "
        "A quadratic with λmax above 2/lr would diverge; here the loss keeps falling, "
        "but not monotonically: from 0.525 to 0.014 by step 1000, then a spike to 0.33 "
        "near step 1050 (the sharpness drops back below 2/lr) and smaller ones; from "
        "step 2000 it goes up on about every other step (a period-2 bounce along the "
        "sharpest direction) and still falls, from 0.019 to 0.017 at step 4000.",
        ProblemSpec(kind="nets", extra={
            "net_dataset": "sine", "net_model": "mlp", "layers": "1-16-16-1",
            "activation": "tanh", "net_loss": "mse", "noise": None, "samples": 200,
            "test_fraction": 0.0, "data_seed": 0, "init_seed": 0, "net_batch_size": None}),
        (_sgd(0.05, "GD full batch, lr=0.05"),),
        None, 4000,
    ),
)

PRESETS: dict[str, Preset] = {p.key: p for p in _ALL}
DEFAULT_PRESET = "rosenbrock-race"


def get_preset(key: str) -> Preset:
    """The preset ``key``.

    Raises
    ------
    ValueError
        For an unknown key; the message lists the presets.
    """
    try:
        return PRESETS[key]
    except KeyError:
        raise ValueError(f"unknown preset {key!r}; presets are: {', '.join(PRESETS)}") from None
