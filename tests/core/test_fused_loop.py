"""The engine's fused scalar loop against the optimizers' own rules, bit for bit.

A single run with a formula objective and an optimizer that writes its rule as lines
(``Optimizer.fused_rule``: SGD, RMSprop, Adam, AdamW) runs a loop generated from those lines
(``descent.fused_loop``).  The maths is then written twice, so every case here runs both
ways, the fused loop and the rules one call per coordinate (``fused_rule`` switched off),
and compares every recorded row, the status, the step and message, and the optimizer's
state byte for byte: every golden case and every built-in function under each fused
optimizer's variants, with stop rules, a run that runs away and one whose objective
raises on floats (the step the fused loop hands back to the rules).
"""

from __future__ import annotations

import numpy as np
import pytest

from gd_explorer.core.engine import descent as engine
from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.optim.optimizers import OPTIMIZERS, make_optimizer
from gd_explorer.core.problems.functions import SPECS, get_function
from gd_explorer.core.problems.objectives import expression_objective
from tests.core.test_golden import CASES, make_case_optimizer, make_objective

VARIANTS = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("sgd", {"maximize": True}),
    ("adam", {}),
    ("adam", {"betas": (0.6, 0.9), "weight_decay": 0.1, "amsgrad": True}),
    ("adam", {"maximize": True, "eps": 1e-3}),
    ("adamw", {}),
    ("rmsprop", {}),
    ("rmsprop", {"alpha": 0.9, "weight_decay": 0.05, "momentum": 0.8}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "eps": 1e-3}),
    ("rmsprop", {"centered": True, "alpha": 0.3, "maximize": True}),
    ("adamw", {"weight_decay": 0.3, "amsgrad": True}),
]


def _bits(a) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float64).tobytes()


def _run(objective, make_opt, start, *, fused, monkeypatch, chunk=None, **kw):
    with monkeypatch.context() as m:
        m.setattr(engine, "_FUSED_BY_SETTINGS", {})  # no loop remembered from another case
        if not fused:
            for cls in OPTIMIZERS.values():
                m.setattr(cls, "fused_rule", lambda self: None)
        d = Descent(objective, make_opt(), start, **kw)
        if fused:
            assert d._fused_loop() is not None  # the case does take the fused loop
        if chunk is None:
            d.run()
        else:
            while d.advance(chunk):
                pass
    return d


def assert_same_run(a: Descent, b: Descent):
    ta, tb = a.trajectory(), b.trajectory()
    for name in ("params", "loss", "grad", "lr"):
        assert _bits(getattr(ta, name)) == _bits(getattr(tb, name)), name
    assert (ta.status, ta.diverged_step, ta.message) == (tb.status, tb.diverged_step, tb.message)
    assert a.t == b.t and a.state.step == b.state.step
    for nm in a.optimizer.buffer_names:
        assert _bits(getattr(a.state, nm)) == _bits(getattr(b.state, nm)), nm
    assert _bits(a.p) == _bits(b.p) and _bits(a.gradient) == _bits(b.gradient)


FUSED_CASES = [c for c in CASES if c["schedule"] is None
               and make_case_optimizer(c).fused_rule() is not None]


def test_the_golden_table_has_fused_cases():
    assert len(FUSED_CASES) >= 5


@pytest.mark.parametrize("case", FUSED_CASES, ids=[c["name"] for c in FUSED_CASES])
def test_golden_cases_fused_equal_the_rules(case, monkeypatch):
    objective = make_objective(case["objective"])
    start = np.asarray(case["start"], dtype=np.float64)
    runs = [_run(objective, lambda: make_case_optimizer(case), start, fused=f,
                 monkeypatch=monkeypatch, max_steps=case["steps"]) for f in (True, False)]
    assert_same_run(*runs)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@pytest.mark.parametrize("variant", VARIANTS, ids=[f"{n}-{h}" for n, h in VARIANTS])
def test_every_builtin_and_variant_fused_equal_the_rules(spec, variant, monkeypatch):
    name, hyper = variant
    objective = get_function(spec.name)
    start = np.asarray(objective.start, dtype=np.float64)
    lr = 1e-3 if name == "sgd" else 1e-2

    def opt():
        return make_optimizer(name, lr=lr, **hyper)

    for kw in ({"max_steps": 300}, {"max_steps": 300, "grad_tol": 1e-3, "loss_tol": 1e-9}):
        runs = [_run(objective, opt, start, fused=f, monkeypatch=monkeypatch, **kw)
                for f in (True, False)]
        assert_same_run(*runs)
    chunked = _run(objective, opt, start, fused=True, monkeypatch=monkeypatch, chunk=7,
                   max_steps=300)
    assert_same_run(chunked, _run(objective, opt, start, fused=False,
                                  monkeypatch=monkeypatch, max_steps=300))


def test_a_run_that_runs_away_stops_at_the_same_step_for_the_same_reason(monkeypatch):
    objective = expression_objective("x**2")  # f_k = 6.25 * 1.44**k: the engine's docs
    start = np.array([2.5])
    runs = [_run(objective, lambda: make_optimizer("sgd", lr=1.1), start, fused=f,
                 monkeypatch=monkeypatch, max_steps=1000) for f in (True, False)]
    assert runs[0].status == "diverged" and runs[0].diverged_step == 32
    assert_same_run(*runs)


@pytest.mark.parametrize("expr, name, lr", [("log(x) + y**2", "sgd", 0.1),
                                             ("sqrt(x) + y**2", "adam", 0.3)])
def test_a_step_the_objective_cannot_take_on_floats_is_handed_to_the_rules(
        expr, name, lr, monkeypatch):
    # math.log / math.sqrt of a negative raise; the rules' step then evaluates on arrays
    calls = []
    rules = Descent._advance_rules
    monkeypatch.setattr(Descent, "_advance_rules",
                        lambda self, n: calls.append(n) or rules(self, n))
    objective = expression_objective(expr)
    start = np.array([1.0, 1.0])
    fused = _run(objective, lambda: make_optimizer(name, lr=lr), start, fused=True,
                 monkeypatch=monkeypatch, max_steps=400)
    assert calls == [1] and fused.status == "diverged"
    assert "loss is nan" in fused.message()
    assert_same_run(fused, _run(objective, lambda: make_optimizer(name, lr=lr), start,
                                fused=False, monkeypatch=monkeypatch, max_steps=400))


def test_a_long_run_crosses_the_buffer_of_rows(monkeypatch):
    monkeypatch.setattr(engine, "_FLUSH_ROWS", 64)
    objective = get_function("rosenbrock")
    start = np.asarray(objective.start, dtype=np.float64)
    runs = [_run(objective, lambda: make_optimizer("adam", lr=1e-3), start, fused=f,
                 monkeypatch=monkeypatch, max_steps=1000) for f in (True, False)]
    assert runs[0].trajectory().steps == 1000
    assert_same_run(*runs)


def test_a_hyperparameter_changed_mid_run_takes_effect_on_the_fused_loop(monkeypatch):
    objective = get_function("rosenbrock")
    start = np.asarray(objective.start, dtype=np.float64)
    runs = []
    for fused in (True, False):
        with monkeypatch.context() as m:
            m.setattr(engine, "_FUSED_BY_SETTINGS", {})
            if not fused:
                for cls in OPTIMIZERS.values():
                    m.setattr(cls, "fused_rule", lambda self: None)
            d = Descent(objective, make_optimizer("sgd", lr=1e-4), start, max_steps=600)
            d.advance(200)
            d.replace_optimizer(make_optimizer("sgd", lr=1e-4, momentum=0.9))
            d.advance(200)
            d.replace_optimizer(make_optimizer("sgd", lr=2e-4, momentum=0.5, nesterov=True))
            d.run()
            runs.append(d)
    assert_same_run(*runs)
    plain = Descent(objective, make_optimizer("sgd", lr=1e-4), start, max_steps=600).run()
    assert not np.array_equal(runs[0].trajectory().params[201:], plain.params[201:])
