"""File ▸ Export animation and ``gd-explorer animate``: driven as a user, read back."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageSequence
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QPushButton

from gd_explorer.core.io.animation import MP4_MISSING
from gd_explorer.ui.animation import AnimationDialog
from tests.qtsupport import race_session

STEPS = 200


@pytest.fixture
def raced(window, qtbot):
    """The window shown, three runs on Rosenbrock run to step 200."""
    window.model.apply_session(race_session(STEPS))
    window.resize(1400, 900)
    window.show()
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.model.running, timeout=20_000)
    assert window.model.max_rows() == STEPS + 1
    return window


def answer_dialogs(monkeypatch, path, selected="GIF animation (*.gif)", **values):
    """The options dialog answered with ``values`` typed into its controls, then the file
    dialog with ``path``; returns the list of dialogs seen."""
    seen = []

    def exec_(dialog):
        seen.append(dialog)
        for name, v in values.items():
            if name == "view":
                dialog.view.setCurrentIndex(dialog.view.findData(v))
            elif name == "size":
                dialog.width_box.setValue(v[0])
                dialog.height_box.setValue(v[1])
            else:
                getattr(dialog, name).setValue(v)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(AnimationDialog, "exec", exec_)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(path), selected)))
    return seen


def trigger(window):
    window.actions_by_name["actionExportAnimation"].trigger()


def wait_done(window, qtbot, timeout=30_000):
    qtbot.waitUntil(lambda: not window.animator.busy, timeout=timeout)


def read_gif(path):
    with Image.open(path) as im:
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
        durations = [f.info["duration"] for f in ImageSequence.Iterator(im)]
        return im.size, frames, durations, im.info.get("loop")


def colour_pixels(frame, hex_colour, tol=40):
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(frame.astype(int) - rgb).max(axis=2) < tol).sum())


def test_export_gif_from_the_menu_replays_the_run(raced, qtbot, tmp_path, monkeypatch):
    w = raced
    out = tmp_path / "race.gif"
    seen = answer_dialogs(monkeypatch, out, every=20, fps=25, size=(480, 360))
    w.timeline.setValue(50)  # the user was looking at step 50
    trigger(w)
    assert w.animation_progress.isVisible() and w.cancel_animation.isVisible()
    wait_done(w, qtbot)
    assert len(seen) == 1
    size, frames, durations, loop = read_gif(out)
    assert size == (480, 360)
    assert len(frames) == STEPS // 20 + 1  # steps 0, 20, ..., 200
    assert sum(durations) == 440 and loop == 0  # 11 frames at 25 fps
    # the paths grow: the first frame holds no path, the last the most
    sgd = w.model.runs[0].color
    counts = [colour_pixels(f, sgd) for f in frames]
    assert counts[-1] > counts[1] > counts[0]
    # the user's timeline and status are back; the bar says what was written
    assert w.model.cursor == 50 and w.timeline_label.text().startswith("step 50")
    assert not w.animation_progress.isVisible()
    assert "wrote 11 frames" in w.statusBar().currentMessage()
    assert os.listdir(tmp_path) == ["race.gif"]


def test_trail_draws_only_the_last_steps(raced, qtbot, tmp_path, monkeypatch):
    w = raced
    sgd = w.model.runs[0].color
    last = {}
    for trail in (0, 10):
        out = tmp_path / f"t{trail}.gif"
        answer_dialogs(monkeypatch, out, every=100, trail=trail)
        trigger(w)
        wait_done(w, qtbot)
        last[trail] = read_gif(out)[1][-1]
    whole, short = colour_pixels(last[0], sgd), colour_pixels(last[10], sgd)
    assert short < 0.5 * whole
    # and the surface draws whole paths again afterwards
    assert w.surface_view.trail is None


def test_whole_window_as_mp4_by_filter(raced, qtbot, tmp_path, monkeypatch):
    av = pytest.importorskip("av")
    w = raced
    answer_dialogs(monkeypatch, tmp_path / "film", selected="MP4 video (*.mp4)",
                   view="window", every=50, size=(640, 400))
    trigger(w)
    wait_done(w, qtbot)
    with av.open(str(tmp_path / "film.mp4")) as c:
        stream = c.streams.video[0]
        n = sum(1 for _ in c.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 400)
    assert n == STEPS // 50 + 1
    assert w.size().toTuple() == (1400, 900)  # the window's own size again


def test_cancel_leaves_no_file(raced, qtbot, tmp_path, monkeypatch):
    w = raced
    answer_dialogs(monkeypatch, tmp_path / "c.gif", every=1)
    trigger(w)
    button = w.findChild(QPushButton, "cancelAnimationButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wait_done(w, qtbot)
    assert os.listdir(tmp_path) == []
    assert "no file written" in w.statusBar().currentMessage()
    assert w.model.cursor is None


def test_mp4_without_pyav_is_a_clear_message(raced, qtbot, tmp_path, monkeypatch,
                                             message_boxes):
    monkeypatch.setitem(sys.modules, "av", None)
    answer_dialogs(monkeypatch, tmp_path / "a.mp4")
    trigger(raced)
    assert not raced.animator.busy
    assert any(MP4_MISSING in text for _, text, _ in message_boxes)
    assert os.listdir(tmp_path) == []


def test_dialog_cancelled_writes_nothing(raced, tmp_path, monkeypatch):
    monkeypatch.setattr(AnimationDialog, "exec", lambda d: QDialog.DialogCode.Rejected)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda *a, **k: pytest.fail("no file is asked for after Cancel")))
    trigger(raced)
    assert not raced.animator.busy and os.listdir(tmp_path) == []


def test_dialog_controls_have_names_and_tooltips(window):
    d = AnimationDialog(window, [("surface", "Surface"), ("window", "Whole window")], "surface")
    for box in (d.view, d.every, d.fps, d.width_box, d.height_box, d.trail):
        assert box.objectName() and box.toolTip()
    assert d.values() == {"view": "surface", "every": 10, "fps": 30.0, "size": None,
                          "trail": 0}
    d.deleteLater()


def test_start_up_imports_neither_pillow_nor_pyav():
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gd_explorer.ui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        "print('PIL' in sys.modules, 'av' in sys.modules)\n"
        "w.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False False"


def cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "gd_explorer", "animate", *args],
                          capture_output=True, text=True, timeout=240, env=env)


def test_cli_animate_writes_a_gif_offscreen(tmp_path):
    out = tmp_path / "race.gif"
    r = cli("--preset", "rosenbrock-race", "--view", "surface", "--every", "10", "--fps",
            "30", "--steps", "100", "--size", "320x240", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    size, frames, durations, loop = read_gif(out)
    assert size == (320, 240) and len(frames) == 11
    assert sum(durations) == 370 and loop == 0
    assert "wrote 11 frames" in r.stdout


def test_cli_animate_writes_an_mp4(tmp_path):
    av = pytest.importorskip("av")
    out = tmp_path / "race.mp4"
    r = cli("--preset", "zigzag", "--view", "loss", "--every", "5", "--steps", "40",
            "--size", "320x240", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert sum(1 for _ in c.decode(stream)) == 9
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 240)


@pytest.mark.parametrize("args, says", [
    (["--preset", "nope"], "unknown preset"),
    (["--preset", "zigzag", "--fps", "0"], "frames per second"),
    (["--preset", "zigzag", "--size", "big"], "WIDTHxHEIGHT"),
    (["--preset", "zigzag", "--every", "0"], "--every"),
    (["--preset", "zigzag", "--view", "nope"], "--view must be one of"),
    (["--preset", "zigzag", "--view", "fit"], "no view 'fit'"),
])
def test_cli_animate_bad_input_is_one_line_exit_2(tmp_path, args, says):
    out = tmp_path / "a.gif"
    r = cli(*args, "--out", str(out))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], r.stderr
    assert os.listdir(tmp_path) == []


def test_cli_odd_mp4_size_and_bad_extension(tmp_path):
    r = cli("--preset", "zigzag", "--size", "321x240", "--out", str(tmp_path / "a.mp4"))
    assert r.returncode == 2 and "even width and height" in r.stderr
    r = cli("--preset", "zigzag", "--out", str(tmp_path / "a.png"))
    assert r.returncode == 2 and ".gif or .mp4" in r.stderr


def _running_race(window, qtbot):
    """The race running slowly (it is still running when the export is asked for)."""
    window.model.apply_session(race_session(200_000))
    window.resize(1400, 900)
    window.show()
    window.speed_slider.setValue(window.speed_slider.minimum())
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.running and window.model.max_rows() > 3,
                    timeout=10_000)


def test_a_refused_export_leaves_running_runs_running(window, qtbot, tmp_path, monkeypatch,
                                                      message_boxes):
    """Before, the export paused the runs first and a refusal left them paused."""
    _running_race(window, qtbot)
    answer_dialogs(monkeypatch, tmp_path / "missing-folder" / "a.gif")
    trigger(window)
    assert not window.animator.busy
    assert message_boxes  # the refusal, in words
    assert window.model.running
    window.model.pause()


def test_runs_paused_for_an_export_go_on_after_it(window, qtbot, tmp_path, monkeypatch):
    _running_race(window, qtbot)
    answer_dialogs(monkeypatch, tmp_path / "r.gif", every=1)
    trigger(window)
    assert window.animator.busy and not window.model.running  # frames of a still run
    wait_done(window, qtbot)
    assert (tmp_path / "r.gif").exists()
    assert window.model.running
    window.model.pause()
