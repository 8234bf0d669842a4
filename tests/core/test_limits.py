"""Limits: one definition each, read by sessions, the CLI, the model and the widgets."""

import ast
import pathlib

import gd_explorer
from gd_explorer.core import limits
from gd_explorer.core.problems import expressions, objectives
from gd_explorer.core.session import specs as session

PACKAGE = pathlib.Path(gd_explorer.__file__).parent


def test_the_limits_are_the_documented_values():
    assert limits.MAX_RUNS == 8  # the palette's 8 colours
    assert limits.MAX_STEPS == 10_000_000
    assert limits.MAX_COUNT == 10_000_000
    assert limits.MAX_SESSION_BYTES == 1024 * 1024
    assert limits.MAX_TEXT_LENGTH == 2000
    assert limits.MAX_DIM == 3
    assert limits.MAX_LISTED_PARAMS == 12  # beyond, the step log and the CLI give norms
    assert limits.DIVERGENCE_LIMIT == 1e100


def test_older_import_places_re_export_the_same_objects():
    for name in ("MAX_RUNS", "MAX_STEPS", "MAX_COUNT", "MAX_SESSION_BYTES", "MAX_TEXT_LENGTH",
                 "MAX_DIM"):
        assert getattr(session, name) is getattr(limits, name)
    assert expressions.MAX_TEXT_LENGTH is limits.MAX_TEXT_LENGTH
    assert objectives.DIVERGENCE_LIMIT is limits.DIVERGENCE_LIMIT


def test_no_module_assigns_a_limit_of_its_own():
    # a second `MAX_RUNS = ...` (or a literal 10_000_000) anywhere is a limit defined twice
    names = {n for n in limits.__all__}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "limits.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in names:
                        offenders.append(f"{path.name}: {target.id}")
            if isinstance(node, ast.Constant) and node.value in (10_000_000, 1e100) \
                    and not isinstance(node.value, bool):
                offenders.append(f"{path.name}:{node.lineno}: literal {node.value!r}")
    assert offenders == []
