"""Start-up: the default window builds without importing sympy (seconds on slow machines)."""

import subprocess
import sys


def test_building_the_default_window_does_not_import_sympy():
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gd_explorer.ui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        "print('sympy' in sys.modules)\n"
        "w.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_restoring_a_saved_builtin_session_does_not_import_sympy(tmp_path):
    # the app reopens the last session at start: checking a built-in's names must not
    # parse its formula (that imports sympy)
    code = (
        "import sys\n"
        "from gd_explorer.core.session.presets import PRESETS\n"
        "from gd_explorer.core.session.specs import load_session, save_session\n"
        f"save_session({str(tmp_path / 's.json')!r}, PRESETS['rosenbrock-race'].session)\n"
        f"s = load_session({str(tmp_path / 's.json')!r})\n"
        "print(s.problem.param_names(), 'sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "('x', 'y') False"
