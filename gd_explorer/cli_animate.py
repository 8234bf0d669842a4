"""``gd-explorer animate``: a preset or a saved session replayed into a GIF or an MP4.

It opens the app's window offscreen (``QT_QPA_PLATFORM=offscreen`` unless the caller set
a platform: set ``xcb`` to animate the 3-D view, which needs OpenGL), runs every run to
its end at full speed and writes one frame every ``--every`` steps of the chosen view
(``--view``, default ``surface``; ``window`` for the whole window), through the same
code as File ▸ Export animation.  Bad input exits with status 2 and one line, before
anything runs or is written.
"""

from __future__ import annotations

import dataclasses
import os

from gd_explorer.core.io.animation import (
    MAX_FRAMES,
    MP4_MISSING,
    check_fps,
    check_size,
    format_of,
    mp4_available,
)
from gd_explorer.core.limits import MAX_STEPS


def add_animate_parser(sub):
    """The ``animate`` subcommand."""
    p = sub.add_parser("animate", help="replay a preset or a session into a GIF or an MP4 "
                                       "(the window, offscreen)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--preset", metavar="KEY", help="a built-in preset (gd-explorer list)")
    what.add_argument("--session", metavar="FILE", help="a saved session")
    p.add_argument("--out", metavar="FILE", required=True,
                   help="the animation: .gif (Pillow) or .mp4 (PyAV, pip install "
                        "'gd-explorer[mp4]')")
    p.add_argument("--view", default="surface",
                   help="what each frame shows: a view (surface, loss, fit, curve, 3-D is "
                        "surface3d, ...) or 'window' (default surface)")
    p.add_argument("--every", type=int, default=10, metavar="K",
                   help="a frame every K steps (default 10; the last step always ends it)")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30; "
                   "at most 50 for GIF)")
    p.add_argument("--size", metavar="WxH", help="frame size in pixels (default: the view "
                   "as a 1440×900 window shows it; even for MP4)")
    p.add_argument("--steps", type=int, metavar="N",
                   help=f"run at most N steps (instead of the session's; at most {MAX_STEPS:,})")
    p.add_argument("--trail", type=int, default=0, metavar="N",
                   help="draw only the last N steps of each path on the surface (default 0: "
                        "whole paths)")
    return p


def _parse_size(text: str) -> tuple[int, int]:
    from gd_explorer.cli import UsageError

    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise UsageError(f"--size must be WIDTHxHEIGHT in pixels, e.g. 640x480, got "
                         f"{text!r}") from None
    return w, h


def cmd_animate(args) -> int:
    from gd_explorer.cli import UsageError, _check_out
    from gd_explorer.core.session.presets import get_preset
    from gd_explorer.core.session.specs import load_session

    try:
        fmt = format_of(args.out)
        check_fps(args.fps, fmt)
        size = None if args.size is None else check_size(*_parse_size(args.size), fmt)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _check_out(args.out)
    if fmt == "mp4" and not mp4_available():
        raise UsageError(MP4_MISSING)
    if args.every < 1:
        raise UsageError(f"--every must be 1 or more, got {args.every}")
    if args.trail < 0:
        raise UsageError(f"--trail must be zero or more, got {args.trail}")
    if args.steps is not None and not 0 <= args.steps <= MAX_STEPS:
        raise UsageError(f"--steps must be from 0 to {MAX_STEPS:,}, got {args.steps:,}")
    session = get_preset(args.preset).session if args.preset else load_session(args.session)
    if args.steps is not None:
        session = dataclasses.replace(session, max_steps=args.steps)
    frames = session.max_steps // args.every + 2
    if frames > MAX_FRAMES:
        raise UsageError(f"{session.max_steps:,} steps every {args.every} is more than "
                         f"{MAX_FRAMES:,} frames: raise --every or lower --steps")
    if not session.runs:
        raise UsageError("the session has no runs")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no window on the screen

    from gd_explorer.ui.animation import AnimationOptions, animate_headless
    from gd_explorer.ui.views.registry import VIEWS

    keys = [v.key for v in VIEWS] + ["window"]
    if args.view not in keys:
        raise UsageError(f"--view must be one of {', '.join(keys)}, got {args.view!r}")
    opts = AnimationOptions(path=args.out, view=args.view, every=args.every, fps=args.fps,
                            size=size, trail=args.trail)
    n = animate_headless(session, opts, out=print)
    print(f"wrote {n:,} frames ({n / args.fps:.1f} s at {args.fps:g} fps) to {args.out}")
    return 0
