"""The layer boundary: core never imports Qt, pyqtgraph, the model or the UI."""

import ast
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "gd_explorer"
FORBIDDEN_IN_CORE = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "OpenGL",
                     "gd_explorer.model", "gd_explorer.ui")


def imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_sources_import_no_qt():
    files = sorted((PACKAGE / "core").rglob("*.py"))
    assert len(files) >= 8
    for f in files:
        for mod in imported_modules(f):
            assert not mod.startswith(FORBIDDEN_IN_CORE), f"{f.name} imports {mod}"


def test_importing_core_loads_no_qt():
    code = (
        "import sys, pkgutil, importlib, gd_explorer.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'gd_explorer.core.'): importlib.import_module(m.name)\n"
        "import gd_explorer.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'PyQt5')]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_guard_itself_catches_a_qt_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\nimport numpy\n")
    assert any(m.startswith(FORBIDDEN_IN_CORE) for m in imported_modules(bad))
