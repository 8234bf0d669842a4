"""The sweep job: off the UI thread, one answer per request, stale answers dropped."""

import numpy as np
import pytest

from gd_explorer.core.lab.sweep import SweepSettings
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.session.specs import ProblemSpec, RunSpec


def test_a_sweep_finishes_with_the_core_result(model, qtbot):
    model.set_problem(ProblemSpec(kind="function", function="ill-conditioned"))
    model.update_run(model.runs[0].run_id, RunSpec("sgd", 0.05, hyper={"momentum": 0.9}))
    job = model.sweep_job
    job.set_settings(SweepSettings(count=40, steps=300))
    with qtbot.waitSignal(job.finished, timeout=20000) as blocker:
        model.start_sweep()
    result = blocker.args[0]
    assert result.mode == "lr" and not job.running
    assert result.result.predicted_edge == pytest.approx(0.19)
    assert result.request.optimizer.hyper.momentum == 0.9


def test_a_second_sweep_replaces_the_first_and_its_answer_is_dropped(model, qtbot):
    job = model.sweep_job
    f, opt = get_function("rosenbrock"), make_optimizer("sgd", lr=0.01)
    job.set_settings(SweepSettings(count=500, steps=20_000))
    results = []
    job.finished.connect(results.append)
    first = job.start(f, opt, [-1.2, 1.0])
    job.set_settings(SweepSettings(count=5, steps=10))
    with qtbot.waitSignal(job.running_changed, timeout=30000):
        second = job.start(f, opt, [-1.2, 1.0])
    qtbot.wait(50)
    assert [r.job for r in results] == [second] and first != second


def test_cancel_says_so_and_draws_nothing(model, qtbot):
    job = model.sweep_job
    job.set_settings(SweepSettings(count=2000, steps=100_000))
    messages = []
    job.message.connect(messages.append)
    model.start_sweep()
    job.cancel()
    qtbot.waitUntil(lambda: not job.running, timeout=20000)
    assert messages == ["sweep cancelled"] and job.last is None


def test_a_failing_sweep_is_a_message_not_a_traceback(model, qtbot):
    job = model.sweep_job
    failures = []
    job.failed.connect(failures.append)
    f = get_function("rosenbrock")
    job.set_settings(SweepSettings(count=3, steps=5))
    job.start(f, make_optimizer("sgd", lr=0.1), [np.nan, 1.0])
    qtbot.waitUntil(lambda: not job.running, timeout=20000)
    assert failures and failures[0].startswith("cannot sweep: start point must be finite")
