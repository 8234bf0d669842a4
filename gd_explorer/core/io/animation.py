"""Animations of runs as GIF (Pillow) or MP4 (PyAV): frames in, one file out.

No Qt here: the window (or ``gd-explorer animate``) grabs RGB frames and hands them to an
:class:`AnimationWriter`, one at a time, from any thread.  The file is written atomically:
a temporary ``.gdx-*.tmp`` file next to the target is renamed over it when :meth:`close
<AnimationWriter.close>` succeeds; :meth:`abort <AnimationWriter.abort>` (a cancel) or any
error leaves no file and an older one as it was.

GIF
    One adaptive palette of 255 colours for the whole animation, built (max coverage and
    k-means) from a sample of frames spread over it, and every frame mapped to it without
    dithering: a heat map then keeps the same colours from frame to frame (a palette per
    frame makes it flicker; dithering speckles it).  GIF delays are whole hundredths of a second, and
    Pillow merges identical consecutive frames (summing their delays): the delays are
    computed with the rounding error carried over (:func:`gif_durations`), so the
    animation lasts ``frames / fps`` seconds to within 10 ms.  Browsers play delays under
    20 ms at 100 ms, so a GIF is at most :data:`MAX_GIF_FPS` frames a second.
    The frames are kept (zlib-compressed) until :meth:`close <AnimationWriter.close>`:
    the palette needs all of them.
MP4
    H.264 (libx264 when PyAV has it, else MPEG-4 part 2) in yuv420p at the given frame
    rate, streamed frame by frame.  yuv420p halves the chroma resolution, so width and
    height must be even (:func:`check_size`).  PyAV is optional (``pip install
    'gd-explorer[mp4]'``); without it an MP4 is refused with :data:`MP4_MISSING`.

Pillow and PyAV are imported when a file is written, never at start-up.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Callable

import numpy as np

from gd_explorer.core.io.export import ExportError, _atomic_file

FORMATS = ("gif", "mp4")
MAX_GIF_FPS = 50
MAX_FPS = 120
#: the largest frame side (pixels) and the most frames an animation may have
MAX_SIDE = 4096
MAX_FRAMES = 5000
#: frames the GIF palette is built from (spread evenly over the animation)
PALETTE_SAMPLES = 8
MP4_MISSING = "MP4 needs PyAV: pip install 'gd-explorer[mp4]'"


class AnimationError(ValueError):
    """An animation that cannot be written (bad options, a missing encoder, a bad frame)."""


class AnimationCancelled(Exception):
    """Raised into the writer by :meth:`AnimationWriter.abort`: the file is not kept."""


def format_of(path: str | os.PathLike) -> str:
    """``"gif"`` or ``"mp4"`` from the file's extension (AnimationError for another one)."""
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise AnimationError(f"an animation is a .gif or .mp4 file, got {os.fspath(path)!r}")
    return ext


def check_fps(fps: float, fmt: str) -> float:
    """The frame rate, checked for ``fmt`` (GIF: at most :data:`MAX_GIF_FPS`)."""
    top = MAX_GIF_FPS if fmt == "gif" else MAX_FPS
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not np.isfinite(fps) or not 0 < fps <= top:
        why = " (browsers play faster GIF frames at 10/s)" if fmt == "gif" else ""
        raise AnimationError(f"frames per second must be above 0 and at most {top} for "
                             f"{fmt.upper()}{why}, got {fps}")
    return float(fps)


def check_size(width: int, height: int, fmt: str) -> tuple[int, int]:
    """Frame size in pixels, checked (MP4: both even, as yuv420p needs)."""
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or int(v) != v or not 16 <= v <= MAX_SIDE:
            raise AnimationError(f"frame {name} must be a whole number of pixels from 16 to "
                                 f"{MAX_SIDE}, got {v}")
    if fmt == "mp4" and (int(width) % 2 or int(height) % 2):
        raise AnimationError(f"an MP4 (H.264, yuv420p) needs an even width and height, got "
                             f"{int(width)}×{int(height)}")
    return int(width), int(height)


def gif_durations(n_frames: int, fps: float) -> list[int]:
    """Per-frame GIF delays in milliseconds, multiples of 10, summing to the animation's
    length ``n_frames / fps`` rounded to 10 ms.

    Each delay is the difference of the rounded ends of consecutive frames, so the
    rounding error never accumulates (30 fps: 30, 40, 30, 30, 40, 30 … ms).  Pillow
    merges identical consecutive frames by adding their delays: the sum is unchanged.
    """
    if n_frames <= 0:
        return []
    ends = np.rint(np.arange(1, n_frames + 1) * (100.0 / fps)).astype(np.int64) * 10
    return np.diff(ends, prepend=0).tolist()


def mp4_available() -> bool:
    """Whether PyAV can be imported (MP4 export)."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _as_rgb(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    a = np.asarray(frame)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.dtype != np.uint8:
        raise AnimationError(f"a frame is an (height, width, 3) uint8 array, got {a.dtype} "
                             f"{a.shape}")
    a = a[:, :, :3]
    if size is not None and (a.shape[1], a.shape[0]) != size:
        raise AnimationError(f"every frame must be {size[0]}×{size[1]}, got "
                             f"{a.shape[1]}×{a.shape[0]}")
    return np.ascontiguousarray(a)


class AnimationWriter:
    """Write an animation frame by frame; the file appears at :meth:`close`.

    Parameters
    ----------
    path
        Target file; ``.gif`` or ``.mp4`` (:func:`format_of`).
    fps
        Frames per second (:func:`check_fps`).

    Notes
    -----
    Use it from one thread at a time.  The first frame fixes the size (MP4: it must be
    even).  ``add`` after ``close`` or ``abort`` raises.
    """

    def __init__(self, path: str | os.PathLike, fps: float):
        self.path = os.fspath(path)
        self.format = format_of(self.path)
        self.fps = check_fps(fps, self.format)
        self.frames = 0
        self.size: tuple[int, int] | None = None
        self._stack = contextlib.ExitStack()
        self._done = False
        self._gif: list[bytes] = []
        self._av = None  # (container, stream) of an MP4
        if self.format == "mp4":
            try:
                import av
            except ImportError:
                raise AnimationError(MP4_MISSING) from None
            self._avlib = av
        else:
            try:
                import PIL.Image  # noqa: F401
            except ImportError:  # pragma: no cover - a dependency
                raise AnimationError("GIF needs Pillow: pip install pillow") from None
        # the temporary file next to the target (checks the folder now, not at the end)
        try:
            self._fh = self._stack.enter_context(_atomic_file(self.path, binary=True))
        except ExportError as exc:
            raise AnimationError(str(exc)) from None

    # ------------------------------------------------------------------ frames
    def add(self, frame: np.ndarray) -> None:
        """Append one ``(height, width, 3)`` uint8 RGB frame (an alpha channel is dropped)."""
        if self._done:
            raise AnimationError("the animation is closed")
        rgb = _as_rgb(frame, self.size)
        if self.size is None:
            h, w = rgb.shape[:2]
            check_size(w, h, self.format)
            self.size = (w, h)
        if self.frames >= MAX_FRAMES:
            raise AnimationError(f"an animation has at most {MAX_FRAMES:,} frames")
        try:
            if self.format == "gif":
                self._gif.append(zlib.compress(rgb.tobytes(), 1))
            else:
                self._add_mp4(rgb)
        except Exception:
            self.abort()
            raise
        self.frames += 1

    def _add_mp4(self, rgb: np.ndarray) -> None:
        av = self._avlib
        if self._av is None:
            container = av.open(self._fh, mode="w", format="mp4")
            codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
            stream = container.add_stream(codec, rate=_fps_fraction(self.fps))
            stream.width, stream.height = self.size
            stream.pix_fmt = "yuv420p"
            if codec == "libx264":
                stream.options = {"crf": "20", "preset": "medium"}
            self._av = (container, stream)
        container, stream = self._av
        vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        for packet in stream.encode(vf):
            container.mux(packet)

    # ------------------------------------------------------------------ ending
    def close(self, progress: Callable[[int, int], bool | None] | None = None) -> None:
        """Finish the file and rename it into place.

        ``progress(done, total)`` is called while a GIF's frames are mapped to its palette;
        returning False cancels (the file is not kept, :class:`AnimationCancelled`).
        """
        if self._done:
            return
        if self.frames == 0:
            self.abort()
            raise AnimationError("an animation needs at least one frame")
        try:
            if self.format == "gif":
                self._write_gif(progress)
            else:
                container, stream = self._av
                for packet in stream.encode(None):
                    container.mux(packet)
                container.close()
                self._av = None
        except BaseException as exc:
            self._fail(exc)
            raise
        self._done = True
        self._gif = []
        try:
            self._stack.close()  # flush, sync, rename
        except ExportError as exc:
            raise AnimationError(str(exc)) from None

    def abort(self) -> None:
        """Stop: no file is written, an older file at ``path`` stays as it was."""
        if not self._done:
            self._fail(AnimationCancelled())

    def _fail(self, exc: BaseException) -> None:
        self._done = True
        self._gif = []
        if self._av is not None:
            with contextlib.suppress(Exception):
                self._av[0].close()
            self._av = None
        # the temporary file is removed by _atomic_file when an exception enters it
        with contextlib.suppress(BaseException):
            self._stack.__exit__(type(exc), exc, None)

    def __enter__(self) -> AnimationWriter:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    # ------------------------------------------------------------------ GIF
    def _frame(self, i: int) -> np.ndarray:
        w, h = self.size
        return np.frombuffer(zlib.decompress(self._gif[i]), dtype=np.uint8).reshape(h, w, 3)

    def _write_gif(self, progress) -> None:
        from PIL import Image

        n = self.frames
        picks = np.unique(np.linspace(0, n - 1, min(n, PALETTE_SAMPLES)).round().astype(int))
        sample = Image.fromarray(np.concatenate([self._frame(int(i)) for i in picks], axis=0))
        # max coverage (refined by k-means) keeps the thin saturated paths and the colour
        # bar's ends; median cut spends the palette on the heat map's large areas and
        # turned an orange path olive (measured on a race frame: max error 126 vs 25)
        palette = sample.quantize(colors=255, method=Image.Quantize.MAXCOVERAGE, kmeans=2,
                                  dither=Image.Dither.NONE)
        images = []
        for i in range(n):
            images.append(Image.fromarray(self._frame(i)).quantize(
                palette=palette, dither=Image.Dither.NONE))
            if progress is not None and progress(i + 1, n) is False:
                raise AnimationCancelled()
        images[0].save(self._fh, format="GIF", save_all=True, append_images=images[1:],
                       duration=gif_durations(n, self.fps), loop=0, optimize=False,
                       disposal=1)


def _fps_fraction(fps: float):
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)


def write_animation(path: str | os.PathLike, frames, fps: float) -> int:
    """Write every frame of an iterable to ``path`` (GIF or MP4); returns the frame count."""
    with AnimationWriter(path, fps) as writer:
        for frame in frames:
            writer.add(frame)
    return writer.frames
