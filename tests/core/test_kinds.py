"""The problem-kind registry: the built-in kinds' entries, and a third kind added from a
test (tests/core/hessian_kind.py) that builds, runs, saves and loads without any edit of
the package."""

import json

import numpy as np
import pytest

from gd_explorer import cli
from gd_explorer.core.engine.descent import Descent
from gd_explorer.core.optim.optimizers import SGD
from gd_explorer.core.problems.kinds import (
    ALL_VIEWS,
    KINDS,
    DatasetKind,
    get_kind,
    register_kind,
    unregister_kind,
)
from gd_explorer.core.session.presets import PRESETS
from gd_explorer.core.session.specs import (
    ProblemSpec,
    RunSpec,
    Session,
    SessionError,
    load_session,
    save_session,
    session_from_dict,
    session_json,
    session_to_dict,
)
from tests.core.hessian_kind import DEFAULT_HESSIAN, HessianBowl, HessianKind

H = ((3.0, 1.0), (1.0, 2.0))


@pytest.fixture
def quadratic():
    kind = register_kind(HessianKind())
    yield kind
    unregister_kind(kind.name)
    assert "quadratic" not in KINDS


def quadratic_session(hessian=H, **kw) -> Session:
    problem = ProblemSpec(kind="quadratic").with_fields(hessian=hessian)
    return Session(problem=problem, runs=(RunSpec(optimizer="sgd", lr=0.1),),
                   max_steps=kw.pop("max_steps", 200), **kw)


# ---------------------------------------------------------------- the built-in kinds
def test_the_built_in_kinds_are_registry_entries_that_own_their_fields():
    assert list(KINDS)[:2] == ["function", "dataset"]
    assert KINDS["function"].fields == ("function",)
    assert "batch_size" in KINDS["dataset"].fields
    assert KINDS["dataset"].views - KINDS["function"].views == {"fit"}
    for kind in KINDS.values():
        assert kind.views <= ALL_VIEWS


def test_problem_specs_are_hashable_as_before():
    assert hash(ProblemSpec()) == hash(ProblemSpec())
    assert len({ProblemSpec(), ProblemSpec(), ProblemSpec(kind="dataset")}) == 2


def test_unknown_kind_message_names_the_kinds():
    with pytest.raises(ValueError, match=r"problem kind must be one of \('function', "
                                         r"'dataset', 'nets'\), got 'both'"):
        ProblemSpec(kind="both").build()


def test_the_built_in_kinds_cannot_be_replaced_or_removed():
    with pytest.raises(ValueError, match="new name"):
        register_kind(DatasetKind())
    with pytest.raises(ValueError, match="built-in"):
        unregister_kind("function")


def test_a_later_kinds_fields_need_defaults_and_names_of_their_own():
    class NoDefault(HessianKind):
        name, defaults = "no-default", {}

    class Taken(HessianKind):
        name, fields = "taken", ("model",)

    with pytest.raises(ValueError, match=r"fields \['hessian'\] need defaults"):
        register_kind(NoDefault())
    with pytest.raises(ValueError, match=r"fields \['model'\] belong to another kind"):
        register_kind(Taken())
    assert list(KINDS)[:2] == ["function", "dataset"]


def test_capabilities_replace_type_questions():
    fn = ProblemSpec(kind="function", function="rosenbrock").build()
    fit = ProblemSpec(kind="dataset", dataset="fence").build()
    assert fn.samples is None and fit.samples == 100
    assert fn.evaluation_cost == 1 and fit.evaluation_cost == 100
    assert fn.equal_aspect and not fit.equal_aspect
    assert fn.fit_data() is None and fit.fit_data()[0].size == 100
    assert fn.fast_surface((0, 1), np.zeros(2), np.zeros(3), np.zeros(3)) is None
    assert fit.fast_surface((0, 1), np.zeros(2), np.zeros(3), np.zeros(4)).shape == (4, 3)
    with pytest.raises(ValueError, match="batch size applies to dataset objectives only"):
        Descent(fn, SGD(lr=0.01), fn.start, batch_size=2)


# ---------------------------------------------------------------- a third kind
def test_a_third_kind_builds_and_runs_in_the_engine(quadratic):
    s = quadratic_session()
    obj = s.problem.build()
    assert isinstance(obj, HessianBowl) and obj.names == ("x", "y")
    assert s.problem.param_names() == ("x", "y")
    traj = s.descent(0).run()
    # one hand-computed step: θ1 = θ0 − lr·Hθ0
    p0 = np.array([2.5, 2.5])
    np.testing.assert_array_equal(traj.params[1], p0 - 0.1 * (np.array(H) @ p0))
    assert traj.loss[-1] < 1e-12 * traj.loss[0]  # lr·λmax ≈ 0.36 < 2: converges


def test_a_third_kind_saves_and_loads_a_session(quadratic, tmp_path):
    s = quadratic_session()
    path = tmp_path / "bowl.json"
    save_session(path, s)
    d = json.loads(path.read_text())
    assert d["problem"]["kind"] == "quadratic"
    assert d["problem"]["hessian"] == [[3.0, 1.0], [1.0, 2.0]]
    back = load_session(path)
    assert back == s
    assert hash(back.problem) == hash(s.problem)  # specs stay hashable, extra fields and all
    assert back.problem.get("hessian") == H


def test_a_third_kinds_fields_are_checked_with_key_paths(quadratic):
    d = session_to_dict(quadratic_session())
    d["problem"]["hessian"] = [[1.0, 2.0], [0.0, 1.0]]
    with pytest.raises(SessionError, match=r"^problem\.hessian: must be symmetric"):
        session_from_dict(d)
    d["problem"]["hessian"] = [[1.0, 0.0], [0.0, True]]
    with pytest.raises(SessionError, match=r"^problem\.hessian\[1\]\[1\]: must be a number"):
        session_from_dict(d)
    d["problem"]["kind"] = "cubic"
    with pytest.raises(SessionError, match="must be 'function', 'dataset', 'nets' or 'quadratic'"):
        session_from_dict(d)


def test_old_sessions_load_and_save_unchanged_with_a_third_kind_registered(quadratic):
    unregister_kind("quadratic")
    before = {name: session_json(p.session) for name, p in PRESETS.items()}
    register_kind(quadratic)
    for name, text in before.items():
        s = session_from_dict(json.loads(text))
        assert s == PRESETS[name].session
        assert session_json(s) == text, name
        assert "hessian" not in s.problem.extra
    # a function session switched to the new kind takes its default Hessian
    spec = next(p.session.problem for p in PRESETS.values()
                if p.session.problem.kind == "function" and len(p.session.problem.param_names()) == 2)
    spec = spec.with_fields(kind="quadratic")
    assert spec.get("hessian") == DEFAULT_HESSIAN
    assert spec.build().dim == 2


def test_a_third_kind_gets_its_cli_flag(quadratic, capsys, tmp_path):
    out = tmp_path / "q.csv"
    code = cli.main(["run", "--hessian", "3,1;1,2", "--lr", "0.1", "--steps", "50",
                     "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "quadratic bowl" in capsys.readouterr().out
    rows = out.read_text().splitlines()
    assert len(rows) == 52  # header + the start + 50 steps
    code = cli.main(["run", "--hessian", "1,2;3,4", "--steps", "5"])
    assert code == 2
    assert "--hessian: must be symmetric" in capsys.readouterr().err
    code = cli.main(["run", "--hessian", "1,0;0,1", "--x-column", "0"])
    assert code == 2
    assert "--x-column applies to --dataset only" in capsys.readouterr().err


def test_get_kind_names_a_registered_kind(quadratic):
    assert get_kind("quadratic") is quadratic
