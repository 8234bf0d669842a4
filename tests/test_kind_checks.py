"""No code asks "which kind is this?" outside the kind's own module.

Problems of every kind are asked for capabilities (``objective.samples``,
``objective.fast_surface``, ``problem.views``...): a comparison of a ``kind`` with a
problem kind's name (``problem.kind == "dataset"``) or an ``isinstance`` test against an
objective class outside the module that defines it (or the kind registry) means a new
kind would have to edit that module too.  This test reads the package's sources (ast)
and names every such place.
"""

import ast
import inspect
import pathlib

from gd_explorer.core.problems import datasets, functions, objectives  # noqa: F401
from gd_explorer.core.problems.kinds import KINDS
from gd_explorer.core.problems.objectives import Objective

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "gd_explorer"
KIND_REGISTRY = "core/problems/kinds.py"


def objective_classes() -> dict[str, str]:
    """Objective class name -> the package-relative file that defines it."""
    out, todo = {}, [Objective]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        path = pathlib.Path(inspect.getfile(cls)).resolve()
        if PACKAGE in path.parents:
            out[cls.__name__] = path.relative_to(PACKAGE).as_posix()
    return out


def _is_kind(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "kind") or \
        (isinstance(node, ast.Attribute) and node.attr == "kind")


def _kind_names(node: ast.AST, kinds) -> set[str]:
    """Problem kind names written as constants in ``node`` (a string or a tuple/list/set)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & set(kinds)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return set().union(*(_kind_names(e, kinds) for e in node.elts)) if node.elts else set()
    return set()


def type_questions(source: str, filename: str, kinds, classes: dict[str, str]) -> list[str]:
    """Every ``kind == "<a kind>"`` (also !=, in, not in) and every ``isinstance(x, C)``
    with an objective class ``C`` not defined in ``filename``, as "file:line: text"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_kind(s) for s in sides) and any(_kind_names(s, kinds) for s in sides):
                found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("isinstance", "issubclass") and len(node.args) == 2:
            target = node.args[1]
            names = target.elts if isinstance(target, ast.Tuple) else [target]
            for n in names:
                name = n.id if isinstance(n, ast.Name) else getattr(n, "attr", None)
                if name in classes and classes[name] != filename:
                    found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_asks_which_kind_a_problem_is():
    classes = objective_classes()
    assert {"DatasetObjective", "FormulaObjective", "SymbolicObjective"} <= set(classes)
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == KIND_REGISTRY:
            continue
        found += type_questions(path.read_text(encoding="utf-8"), rel, KINDS, classes)
    assert found == [], "ask the kind or the objective instead:\n" + "\n".join(found)


def test_the_guard_finds_the_questions_it_forbids():
    classes = objective_classes()
    bad = (
        "if problem.kind == 'dataset': pass\n"
        "ok = kind != \"function\"\n"
        "x = p.kind in ('function', 'dataset')\n"
        "if isinstance(obj, DatasetObjective): pass\n"
        "if isinstance(obj, (int, datasets.DatasetObjective)): pass\n"
        # not questions about problem kinds: hyperparameter kinds, other comparisons
        "if hp.kind == 'bool': pass\n"
        "if name == 'dataset': pass\n"
        "if isinstance(obj, Dataset): pass\n"
    )
    found = type_questions(bad, "ui/example.py", KINDS, classes)
    assert [f.split(":")[1] for f in found] == ["1", "2", "3", "4", "5"]
    # in the class's own module an isinstance test is its own business
    own = "if isinstance(obj, DatasetObjective): pass\n"
    assert type_questions(own, classes["DatasetObjective"], KINDS, classes) == []
