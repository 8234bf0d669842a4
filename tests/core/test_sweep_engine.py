"""Per-run learning rates in the engine: a batch of k rates equals k separate runs."""

import numpy as np
import pytest

from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.optim.schedules import make_schedule
from gd_explorer.core.problems.functions import get_function

# one step per update, and runnable on a function (Gauss–Newton needs a least-squares fit)
BATCHABLE = [name for name, cls in OPTIMIZERS.items() if cls.evaluations == 1
             and cls.unmet_needs(least_squares=False, full_batch=True) is None]
RATES = np.array([1e-4, 3e-3, 2e-2, 0.3])


@pytest.mark.parametrize("name", BATCHABLE)
def test_per_run_rates_equal_separate_runs(name):
    f = get_function("rosenbrock")
    start = np.array([-1.2, 1.0])
    opt = make_optimizer(name, lr=1.0)
    batch = Descent(f, opt, np.tile(start, (len(RATES), 1)), max_steps=40, lr=RATES,
                    record=False)
    batch.run()
    for j, lr in enumerate(RATES):
        one = Descent(f, make_optimizer(name, lr=float(lr)), start[None, :].repeat(2, 0),
                      max_steps=40, record=False)  # two runs: the array path, as the batch
        one.run()
        assert batch.statuses[j] == one.statuses[0], (name, lr)
        np.testing.assert_allclose(batch.p[j], one.p[0], rtol=1e-12, atol=0,
                                   err_msg=f"{name} at lr {lr}")


def test_schedule_scales_the_per_run_rates():
    f = get_function("ill-conditioned")
    sched = make_schedule("exponential", base_lr=0.5, gamma=0.9)
    batch = Descent(f, make_optimizer("sgd", lr=0.5), np.tile([1.0, 1.0], (2, 1)),
                    schedule=sched, max_steps=10, lr=[0.01, 0.02], record=False)
    batch.run()
    for j, lr in enumerate([0.01, 0.02]):
        one = Descent(f, make_optimizer("sgd", lr=lr), np.tile([1.0, 1.0], (2, 1)),
                      schedule=make_schedule("exponential", base_lr=lr, gamma=0.9),
                      max_steps=10, record=False)
        one.run()
        np.testing.assert_allclose(batch.p[j], one.p[0], rtol=1e-13)


def test_line_search_optimizer_refuses_per_run_rates():
    f = get_function("rosenbrock")
    with pytest.raises(ValueError, match="one learning rate per descent"):
        Descent(f, make_optimizer("lbfgs"), np.zeros((3, 2)), lr=[0.1, 0.2, 0.3])


@pytest.mark.parametrize("bad, text", [([0.1, -1.0], "must be positive, got -1"),
                                        ([0.1], "must be 2 numbers")])
def test_bad_per_run_rates(bad, text):
    with pytest.raises(ValueError, match=text):
        Descent(get_function("rosenbrock"), make_optimizer("sgd", lr=0.1), np.zeros((2, 2)),
                lr=bad)
