"""The model asks the objective, not its type: hover from the grid for large data, slow
surfaces on the surface thread, the views that apply."""

import numpy as np
import pytest

from gd_explorer.core.problems.kinds import COMMON_VIEWS
from gd_explorer.core.session.specs import ProblemSpec
from gd_explorer.model.surface_job import HOVER_EXACT_MAX_POINTS


def big_csv(tmp_path, n=HOVER_EXACT_MAX_POINTS + 5_000):
    rng = np.random.default_rng(3)
    x = rng.uniform(-2.0, 2.0, n)
    y = 1.5 * x - 0.5 + rng.normal(0.0, 0.3, n)
    path = tmp_path / "big.csv"
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="x,y", comments="")
    return str(path)


def test_views_follow_the_kind_and_the_dimension(model):
    model.set_problem(ProblemSpec(kind="function", function="rosenbrock"))
    # every kind has the common views; a surface from 2 parameters, a curve with 1
    assert model.views == COMMON_VIEWS - {"curve"}
    model.set_problem(ProblemSpec(kind="function", function="x^2"))
    assert model.views == COMMON_VIEWS - {"surface", "surface3d"}
    model.set_problem(ProblemSpec(kind="dataset", dataset="fence"))
    assert model.views == (COMMON_VIEWS - {"curve"}) | {"fit"}


def test_hover_on_a_small_problem_is_exact(model):
    model.set_problem(ProblemSpec(kind="dataset", dataset="noisy-line"))
    p = model.fixed_point()
    p[:] = (0.123, 0.456)
    assert model.value_at(0.123, 0.456) == model.objective.value(p)


def test_hover_on_a_large_dataset_answers_from_the_surface_grid(model, tmp_path):
    model.set_problem(ProblemSpec(kind="dataset", dataset=big_csv(tmp_path)))
    xs, ys, z, _ = model.surface
    x, y = 0.5 * (xs[10] + xs[11]) - 1e-3, 0.5 * (ys[20] + ys[21]) - 1e-3
    exact = float(model.objective.value(np.array([x, y])))
    got = model.value_at(x, y)
    assert got == z[21, 11]  # the next grid point (searchsorted), not a pass over the data
    assert got != exact


def test_a_costly_surface_is_computed_on_the_surface_thread(model, qtbot, tmp_path):
    path = big_csv(tmp_path)
    with qtbot.waitSignal(model.surface_changed, timeout=20_000):
        model.set_problem(ProblemSpec(kind="dataset", dataset=path, loss="mae"))
        xs, ys, z, _ = model.surface
        assert z is None  # not computed here: MAE on 25,000 points goes to the thread
        assert model.value_at(0.0, 0.0) is None  # hover waits for the grid
    xs, ys, z, _ = model.surface
    assert z.shape == (200, 200) and np.isfinite(z).all()
    assert model.value_at(float(xs[3]), float(ys[4])) == pytest.approx(z[4, 3])
