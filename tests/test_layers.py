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


def test_model_sources_import_no_widgets():
    files = sorted((PACKAGE / "model").rglob("*.py"))
    assert files
    for f in files:
        for mod in imported_modules(f):
            assert not mod.startswith(("PySide6.QtWidgets", "PySide6.QtGui", "pyqtgraph",
                                       "gd_explorer.ui")), f"{f.name} imports {mod}"


def _lint_imports(cwd: pathlib.Path, config: pathlib.Path) -> subprocess.CompletedProcess:
    exe = pathlib.Path(sys.executable).with_name("lint-imports")
    env = {**__import__("os").environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(exe), "--config", str(config), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_import_contracts_hold_and_catch_a_core_module_importing_the_ui(tmp_path):
    """The import-linter contracts of pyproject.toml (also run by .ci/run) on the package, and
    on a copy of it where the core imports the model: that copy must break a contract."""
    import shutil

    root = PACKAGE.parent
    config = root / "pyproject.toml"
    ok = _lint_imports(root, config)
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    shutil.copytree(PACKAGE, tmp_path / "gd_explorer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    bad = tmp_path / "gd_explorer" / "core" / "limits.py"
    bad.write_text(bad.read_text() + "\nimport gd_explorer.model.snapshot  # noqa\n")
    broken = _lint_imports(tmp_path, config)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
