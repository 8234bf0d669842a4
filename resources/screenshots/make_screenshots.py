"""Regenerate the README screenshots from real renders of the app.

Run from the repository root after a UI change::

    uv run python resources/screenshots/make_screenshots.py

2-D screens render offscreen.  The 3-D screen needs OpenGL: run the script under Xvfb
(``xvfb-run -s "-screen 0 1600x1000x24" uv run python resources/screenshots/make_screenshots.py``
with ``QT_QPA_PLATFORM=xcb``); offscreen it is skipped.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if "DISPLAY" not in os.environ:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

HERE = Path(__file__).resolve().parent


def settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.01)


def run_to_end(app: QApplication, window, limit: float = 30.0) -> None:
    window.model.start_running()
    t0 = time.time()
    while window.model.running and time.time() - t0 < limit:
        app.processEvents()
        time.sleep(0.01)
    settle(app)


def main() -> int:
    app = QApplication(sys.argv)
    from gd_explorer.ui.main_window import MainWindow
    from gd_explorer.ui.views.surface3d import opengl_available

    w = MainWindow()
    w.resize(1440, 900)
    w.speed_slider.setValue(w.speed_slider.maximum())  # the app starts at 50 steps/s
    w.show()
    settle(app)

    w.load_preset("rosenbrock-race")
    run_to_end(app, w)
    w.grab().save(str(HERE / "race.png"))
    print("wrote race.png")

    w.load_preset("fence-fit-mae")
    w.model.set_limits(max_steps=400)
    run_to_end(app, w)
    w.main_tabs.setCurrentWidget(w.fit_view)
    settle(app)
    w.grab().save(str(HERE / "fit.png"))
    print("wrote fit.png")

    w.load_preset("fence-ascent")
    for _ in range(3):
        w.model.step()
    settle(app)
    w.grab().save(str(HERE / "fence.png"))
    print("wrote fence.png")

    w.load_preset("lr-too-large")
    run_to_end(app, w)
    w.grab().save(str(HERE / "diverge.png"))
    print("wrote diverge.png")

    # the curvature lab: Himmelblau's four basins for SGD, the local quadratic model at the
    # end of the path, and the edge on the lr slider
    w.load_preset("himmelblau-four")
    run_to_end(app, w)
    if not w.actions_by_name["actionCurvature"].isChecked():
        w.actions_by_name["actionCurvature"].trigger()
    w.model.compute_basins()
    t0 = time.time()
    while (w.model.basins is None or w.model.basins_busy) and time.time() - t0 < 60:
        app.processEvents()
        time.sleep(0.02)
    settle(app, 0.8)
    w.grab().save(str(HERE / "basins.png"))
    print("wrote basins.png")

    # a network being trained: Adam vs SGD on two moons, 300 steps, Adam's decision function
    # and every run's metrics
    w.load_preset("nets-adam-sgd-moons")
    w.model.set_limits(max_steps=300)
    run_to_end(app, w, limit=60.0)
    w.model.select_run(w.model.snapshots()[-1].run_id)
    w.views.show_tab("decision")
    w.views.show_tab("metrics")
    settle(app, 1.5)
    w.grab().save(str(HERE / "nets.png"))
    print("wrote nets.png")

    if opengl_available():
        w.load_preset("himmelblau-four")
        run_to_end(app, w)
        w.main_tabs.setCurrentWidget(w.surface3d)
        settle(app, 1.0)
        w.grab().save(str(HERE / "surface3d.png"))
        print("wrote surface3d.png")
    else:
        print("no OpenGL here: 3-D screenshot skipped")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
