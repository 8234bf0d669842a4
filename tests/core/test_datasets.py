"""Datasets, models and losses: the seeds' function finding, exact gradients."""

import numpy as np
import pytest

from gd_explorer.core.engine.descent import run_descent
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.datasets import (
    DATASETS,
    LOSSES,
    MODELS,
    Dataset,
    DatasetObjective,
    dataset_objective,
    get_dataset,
    huber_loss,
)
from tests.conftest import central_difference


def test_seed_000_fence_data_and_the_guess_a_minus_2_b_30():
    ds = get_dataset("fence")
    np.testing.assert_array_equal(ds.x, np.arange(100.0))
    np.testing.assert_array_equal(ds.y, 100 * ds.x - ds.x**2)
    model = MODELS["quadratic"]
    errors = model.predict(np.array([-2.0, 30.0]), ds.x) - ds.y
    assert errors.sum() == -674850.0  # the article's script prints this sum
    assert errors.mean() == -6748.5  # the mean (the article's "-67485" is a slip)
    mae = dataset_objective("fence", "quadratic", "mae")
    assert mae.value([-2.0, 30.0]) == 6748.5
    # the true function fits exactly
    assert mae.value([-1.0, 100.0]) == 0.0


def test_seed_000_mae_descent_from_the_guess_improves():
    obj = dataset_objective("fence", "quadratic", "mae")
    traj = run_descent(obj, make_optimizer("sgd", lr=2e-6), [-2.0, 30.0], steps=2000, grad_tol=0)
    assert traj.loss[-1] < 0.2 * traj.loss[0]


def test_seed_001_one_point_mae_is_a_v_in_the_weight():
    obj = dataset_objective("one-point", "slope", "mae")
    for w in (-1.0, 0.0, 1.5, 2.0, 4.0):
        assert obj.value([w]) == abs(2 * w - 3)
    assert obj.grad([1.0])[0] == -2.0 and obj.grad([2.0])[0] == 2.0
    assert obj.grad([1.5])[0] == 0.0  # sign(0) = 0 at the kink


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("model", list(MODELS))
def test_gradients_match_central_differences(model, loss):
    obj = dataset_objective("noisy-parabola", model, loss)
    rng = np.random.default_rng(5)
    for p in rng.normal(0.0, 2.0, size=(10, obj.dim)):
        np.testing.assert_allclose(obj.grad(p), central_difference(obj.value, p),
                                   rtol=1e-5, atol=1e-6)


def test_losses_by_hand():
    ds = Dataset("t", np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 0.0, 0.0, 0.0]))
    # linear model with w = 0 and b = r gives residual r at every point
    for r, mse, mae, huber in [(0.5, 0.25, 0.5, 0.125), (3.0, 9.0, 3.0, 2.5), (-2.0, 4.0, 2.0, 1.5)]:
        p = np.array([0.0, r])
        assert DatasetObjective(ds, "linear", "mse").value(p) == mse
        assert DatasetObjective(ds, "linear", "mae").value(p) == mae
        assert DatasetObjective(ds, "linear", "huber").value(p) == huber
    # huber's gradient is the clipped residual (torch.nn.HuberLoss, delta = 1)
    np.testing.assert_allclose(DatasetObjective(ds, "linear", "huber").grad([0.0, 3.0]),
                               [1.5, 1.0])


def test_mse_least_squares_optimum_is_known_and_reached():
    obj = dataset_objective("noisy-line", "linear", "mse")
    (opt,) = obj.optima
    np.testing.assert_allclose(obj.grad(np.array(opt.point)), 0.0, atol=1e-9)
    traj = run_descent(obj, make_optimizer("sgd", lr=obj.default_lr("sgd")), obj.start,
                       steps=20_000, grad_tol=1e-9)
    assert traj.status == "converged"
    np.testing.assert_allclose(traj.final, opt.point, rtol=1e-6)


def test_builtin_datasets_are_reproducible():
    for make in DATASETS.values():
        a, b = make(), make()
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)
        assert a.description


def test_csv_dataset_by_path(tmp_path):
    p = tmp_path / "pts.csv"
    p.write_text("length;area;junk\n1;99;0\n2;196;0\n3;291;0\n", encoding="utf-8")
    obj = dataset_objective(str(p), "quadratic", "mse", x="length", y="area")
    np.testing.assert_array_equal(obj.x, [1.0, 2.0, 3.0])
    assert obj.value([-1.0, 100.0]) == 0.0


def test_columns_for_a_built_in_dataset_are_refused_not_ignored():
    with pytest.raises(ValueError, match="^x and y columns apply to CSV files only; 'fence' is "
                                         "a built-in dataset$"):
        dataset_objective("fence", "linear", "mse", x=3)
    with pytest.raises(ValueError, match="apply to CSV files only"):
        dataset_objective("one-point", "slope", "mae", y="y")


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown model 'cubic'; choose one of: linear"):
        dataset_objective("fence", "cubic", "mse")
    with pytest.raises(ValueError, match="unknown loss 'l3'"):
        dataset_objective("fence", "linear", "l3")
    with pytest.raises(ValueError, match="no such file"):
        dataset_objective("no-such-dataset.csv")


def test_default_learning_rate_is_stable_for_plain_gd():
    for name in DATASETS:
        for model in MODELS:
            obj = dataset_objective(name, model, "mse")
            traj = run_descent(obj, make_optimizer("sgd", lr=obj.default_lr("sgd")), obj.start,
                               steps=200)
            assert traj.status != "diverged", (name, model)
            assert traj.loss[-1] <= traj.loss[0]


# ------------------------------------------------------------------ Huber's delta
def torch_huber(r, delta):
    """torch.nn.HuberLoss(delta=delta) per residual, written out (its documented formula)."""
    a = abs(r)
    return 0.5 * r * r if a < delta else delta * (a - 0.5 * delta)


@pytest.mark.parametrize(("delta", "cases"), [
    # (residual, loss) worked by hand from 0.5 r² (|r| < δ) and δ (|r| - δ/2)
    (0.5, [(0.25, 0.03125), (0.5, 0.125), (-1.0, 0.375), (2.0, 0.875)]),
    (2.0, [(1.0, 0.5), (-2.0, 2.0), (3.0, 4.0), (-0.5, 0.125)]),
    (1.0, [(0.5, 0.125), (3.0, 2.5), (-2.0, 1.5)]),
])
def test_huber_values_for_a_chosen_delta_match_torch_by_hand(delta, cases):
    ds = Dataset("t", np.array([0.0, 1.0, 2.0, 3.0]), np.zeros(4))
    obj = dataset_objective(ds, "linear", "huber", huber_delta=delta)
    for r, expected in cases:
        assert torch_huber(r, delta) == expected  # the hand value is torch's formula
        # w = 0, b = r: residual r at every point
        assert obj.value([0.0, r]) == expected
        assert obj.grad([0.0, r])[1] == max(-delta, min(delta, r))  # clip(r, -δ, δ)


def test_huber_with_delta_on_mixed_residuals_by_hand():
    # x = 0..3, y = 0, (w, b) = (1, -1): residuals -1, 0, 1, 2.  δ = 0.5:
    # losses 0.375, 0, 0.375, 0.875 -> mean 0.40625; clipped residuals -0.5, 0, 0.5, 0.5
    # -> d/dw = mean(clip * x) = (0 + 0 + 1 + 1.5) / 4, d/db = mean(clip) = 0.5 / 4
    ds = Dataset("t", np.array([0.0, 1.0, 2.0, 3.0]), np.zeros(4))
    obj = dataset_objective(ds, "linear", "huber", huber_delta=0.5)
    assert obj.value([1.0, -1.0]) == 0.40625
    np.testing.assert_array_equal(obj.grad([1.0, -1.0]), [0.625, 0.125])


@pytest.mark.parametrize("delta", [0.3, 2.5])
@pytest.mark.parametrize("model", list(MODELS))
def test_huber_gradient_with_delta_matches_central_differences(model, delta):
    obj = dataset_objective("noisy-parabola", model, "huber", huber_delta=delta)
    rng = np.random.default_rng(7)
    for p in rng.normal(0.0, 2.0, size=(10, obj.dim)):
        np.testing.assert_allclose(obj.grad(p), central_difference(obj.value, p),
                                   rtol=1e-5, atol=1e-6)


def test_huber_delta_shows_in_the_title_and_equal_deltas_share_one_loss():
    assert huber_loss().title == "Huber (δ = 1)" and huber_loss() is LOSSES["huber"]
    assert huber_loss(0.5).title == "Huber (δ = 0.5)"
    assert huber_loss(0.5) is huber_loss(0.5) and huber_loss(0.5).delta == 0.5
    obj = dataset_objective("fence", "linear", "huber", huber_delta=0.5)
    assert obj.loss.title in obj.description and "δ = 0.5" in obj.name


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_a_bad_huber_delta_is_refused(bad):
    with pytest.raises(ValueError, match="Huber delta must be a positive number"):
        dataset_objective("fence", "linear", "huber", huber_delta=bad)


def test_a_huber_delta_with_another_loss_is_refused():
    with pytest.raises(ValueError, match="a Huber delta applies to the huber loss only"):
        dataset_objective("fence", "linear", "mse", huber_delta=0.5)
