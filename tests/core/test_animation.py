"""GIF and MP4 writing (core.io.animation), read back with Pillow and PyAV."""

import os
import sys

import numpy as np
import pytest
from PIL import Image, ImageSequence

from gd_explorer.core.io.animation import (
    MP4_MISSING,
    AnimationCancelled,
    AnimationError,
    AnimationWriter,
    gif_durations,
    write_animation,
)

W, H = 120, 80
ORANGE = (255, 127, 14)


def heat_frames(n: int, still: range = range(0)) -> list[np.ndarray]:
    """A smooth two-colour heat map (what banding shows on) with a white dot moving across;
    the frames whose index is in ``still`` repeat the previous one."""
    yy, xx = np.mgrid[0:H, 0:W]
    base = np.stack([(xx * 255 / (W - 1)), (yy * 255 / (H - 1)),
                     np.full_like(xx, 90.0)], axis=-1).astype(np.uint8)
    frames = []
    for i in range(n):
        f = base.copy()
        if i in still:
            f = frames[-1].copy()
        else:
            x = 5 + (i * 3) % (W - 10)
            f[30:36, x:x + 6] = 255
            f[60 + i % 10, : 4 + i] = ORANGE  # a thin saturated path that grows
        frames.append(f)
    return frames


def gif_info(path):
    with Image.open(path) as im:
        durations = [fr.info["duration"] for fr in ImageSequence.Iterator(im)]
        rgb = [np.asarray(fr.convert("RGB")) for fr in ImageSequence.Iterator(im)]
        return im.n_frames, durations, im.info.get("loop"), rgb


@pytest.mark.parametrize("n, fps", [(100, 30), (7, 24), (50, 50), (3, 1), (61, 12.5)])
def test_gif_durations_are_whole_hundredths_summing_to_the_length(n, fps):
    d = gif_durations(n, fps)
    assert len(d) == n
    assert all(v % 10 == 0 and v > 0 for v in d)
    assert sum(d) == round(n / fps * 100) * 10
    # each frame within 10 ms of 1/fps (the error is carried, never piled up)
    assert max(abs(v - 1000 / fps) for v in d) < 10


def test_gif_length_frames_and_loop_read_back(tmp_path):
    out = tmp_path / "a.gif"
    assert write_animation(out, heat_frames(40), fps=30) == 40
    n, durations, loop, _ = gif_info(out)
    assert n == 40
    assert sum(durations) == 1330  # 40 / 30 s to the 10 ms
    assert set(durations) == {30, 40}
    assert loop == 0  # forever


def test_identical_frames_merged_by_pillow_keep_the_length(tmp_path):
    # frames 10..19 repeat frame 9: Pillow writes one frame for them and adds the delays
    out = tmp_path / "still.gif"
    write_animation(out, heat_frames(30, still=range(10, 20)), fps=20)
    n, durations, _, _ = gif_info(out)
    assert n == 20
    assert sum(durations) == 1500
    assert durations[9] == 11 * 50


def test_gif_one_palette_no_flicker_no_banding(tmp_path):
    frames = heat_frames(24)
    out = tmp_path / "heat.gif"
    write_animation(out, frames, fps=10)
    _, _, _, back = gif_info(out)
    assert len(back) == len(frames)
    # away from the dot the picture is the same in every frame: one palette for all
    region = (slice(45, 58), slice(0, W))
    for fr in back[1:]:
        np.testing.assert_array_equal(fr[region], back[0][region])
    # and close to the original (no dithering noise, no coarse bands)
    err = np.abs(back[0][region].astype(int) - frames[0][region].astype(int))
    assert err.mean() < 4 and err.max() < 24
    # a thin saturated path keeps its colour (median cut made it a dull olive)
    for i, fr in enumerate(back):
        assert np.abs(fr[60 + i % 10, :4 + i].astype(int) - ORANGE).max() < 30
    # the moving dot is white in every frame
    for i, fr in enumerate(back):
        x = 5 + (i * 3) % (W - 10)
        assert fr[32, x + 2].min() > 240


def test_mp4_frames_and_size_read_back(tmp_path):
    av = pytest.importorskip("av")
    out = tmp_path / "a.mp4"
    write_animation(out, heat_frames(45), fps=30)
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        frames = list(c.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (W, H)
        assert float(stream.average_rate) == pytest.approx(30)
    assert len(frames) == 45
    # the picture survives: the decoded heat map is near the original
    rgb = frames[0].to_ndarray(format="rgb24").astype(int)
    assert np.abs(rgb[40:58, 10:-10] - heat_frames(1)[0][40:58, 10:-10]).mean() < 8


def test_mp4_needs_even_sizes(tmp_path):
    pytest.importorskip("av")
    with pytest.raises(AnimationError, match="even width and height"):
        write_animation(tmp_path / "odd.mp4", [np.zeros((81, 120, 3), np.uint8)], fps=30)
    assert os.listdir(tmp_path) == []


def test_mp4_without_pyav_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    with pytest.raises(AnimationError) as info:
        AnimationWriter(tmp_path / "a.mp4", 30)
    assert str(info.value) == MP4_MISSING
    assert os.listdir(tmp_path) == []


def test_abort_leaves_no_file_and_keeps_an_older_one(tmp_path):
    out = tmp_path / "a.gif"
    out.write_bytes(b"older")
    w = AnimationWriter(out, 10)
    for f in heat_frames(5):
        w.add(f)
    w.abort()
    assert out.read_bytes() == b"older"
    assert sorted(os.listdir(tmp_path)) == ["a.gif"]  # no .gdx-*.tmp left
    with pytest.raises(AnimationError, match="closed"):
        w.add(heat_frames(1)[0])


def test_cancel_while_mapping_the_palette_leaves_no_file(tmp_path):
    out = tmp_path / "a.gif"
    w = AnimationWriter(out, 10)
    for f in heat_frames(6):
        w.add(f)
    with pytest.raises(AnimationCancelled):
        w.close(progress=lambda done, total: done < 3)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path, fps, frames, match", [
    ("a.png", 10, None, "gif or .mp4"),
    ("a.gif", 0, None, "frames per second"),
    ("a.gif", 60, None, "at most 50"),
    ("a.gif", float("nan"), None, "frames per second"),
    ("a.gif", 10, [np.zeros((80, 120), np.uint8)], "uint8 array"),
    ("a.gif", 10, [np.zeros((80, 120, 3), np.float64)], "uint8 array"),
    ("a.gif", 10, [np.zeros((8, 120, 3), np.uint8)], "from 16"),
    ("a.gif", 10, [np.zeros((80, 120, 3), np.uint8), np.zeros((82, 120, 3), np.uint8)],
     "every frame must be 120×80"),
    ("a.gif", 10, [], "at least one frame"),
])
def test_bad_input_is_refused_clearly(tmp_path, path, fps, frames, match):
    with pytest.raises(AnimationError, match=match):
        write_animation(tmp_path / path, frames or [], fps)
    assert os.listdir(tmp_path) == []


def test_missing_folder_is_an_animation_error(tmp_path):
    with pytest.raises(AnimationError, match="does not exist"):
        AnimationWriter(tmp_path / "nope" / "a.gif", 10)
