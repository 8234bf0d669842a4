"""The surface's extent is model state: a window the view asks for, fit to paths, reset."""

import numpy as np
import pytest

from gd_explorer.core.session.specs import ProblemSpec, RunSpec


def test_equal_aspect_is_the_problems_kind(model):
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    assert model.equal_aspect is True
    model.set_problem(ProblemSpec(kind="dataset", dataset="fence"))
    assert model.equal_aspect is False


def test_set_surface_window_recomputes_the_grid_there(model, qtbot):
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    default = model.surface_window
    assert default == model.default_surface_window
    with qtbot.waitSignal(model.surface_changed, timeout=1000):
        model.set_surface_window(((-10.0, 30.0), (2.0, 4.0)))
    xs, ys, z, _ = model.surface
    assert (xs[0], xs[-1], ys[0], ys[-1]) == (-10.0, 30.0, 2.0, 4.0) and xs.size == 200
    assert z[0, 0] == pytest.approx(100.0 + 4.0)  # f(-10, 2)
    with qtbot.assertNotEmitted(model.surface_changed):  # unchanged: nothing to do
        model.set_surface_window(((-10.0, 30.0), (2.0, 4.0)))
    u, v = model.arrow_field()[2:]
    assert model.arrow_field()[0][0] == -10.0  # the arrow field follows the surface
    model.set_surface_window(None)
    assert model.surface_window == default
    model.set_surface_window(((-10.0, 30.0), (2.0, 4.0)))
    model.set_problem(ProblemSpec(kind="function", function="rosenbrock"))
    assert model.surface_window == model.default_surface_window  # a new problem: its own


def test_surface_window_is_validated_and_kept_sane(model):
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    before = model.surface_window
    for bad in (((0.0, 0.0), (0.0, 1.0)), ((np.nan, 1.0), (0.0, 1.0)), ((0.0, 1.0),), "x"):
        with pytest.raises(ValueError):
            model.set_surface_window(bad)
        assert model.surface_window == before
    model.set_surface_window(((-1e300, 1e300), (0.0, 1e-300 + 1e-300)))
    (x0, x1), (y0, y1) = model.surface_window
    assert -1e8 < x0 < x1 < 1e8 and y1 > y0  # at most 1e6 default spans, not a dot
    xs, ys, z, _ = model.surface
    assert np.unique(xs).size == 200 and np.unique(ys).size == 200


def test_paths_window_holds_the_paths_and_the_start_but_not_a_runaway(model):
    model.set_problem(ProblemSpec(kind="function", function="bowl"))
    model.update_run(model.runs[0].run_id, RunSpec("sgd", 2.5, hyper={"momentum": 0.9}))
    for _ in range(150):
        model.step()
    snaps = model.snapshots()
    wild = snaps[0]
    assert wild.status == "diverged"
    (x0, x1), (y0, y1) = model.paths_window()
    calm = np.concatenate([s.params for s in snaps[1:]])
    assert x0 <= min(calm[:, 0].min(), 2.5) and x1 >= calm[:, 0].max()
    assert y0 <= calm[:, 1].min() and y1 >= calm[:, 1].max()
    span = 6.0  # the bowl's default window is 6 wide
    assert x1 - x0 <= 21 * span * 1.2  # the runaway (1e49) is left out
    model.fit_surface_to_paths()
    assert model.surface_window == model.paths_window()
