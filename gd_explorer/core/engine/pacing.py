"""How often the engine rounds, frames, beats and gives up: every pace in one place.

Read by the engine process (:mod:`gd_explorer.core.engine.process`, both its child and
its parent side) and by the worker thread (:mod:`gd_explorer.model.worker`).  The values
are a trade between a responsive pause and little overhead per frame; they are read when
used (``PACING.x``), so a test may swap :data:`PACING` for a
:func:`dataclasses.replace` of it in the parent.  The child always uses the defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Pacing:
    """The pace of advancing runs elsewhere, in seconds.

    Attributes
    ----------
    round_seconds
        One round of chunks should take about this long at full speed: a pause is seen
        between two chunks, so this bounds how late it is seen.
    frame_seconds
        Compute this long between two frames (rows published to the UI) at full speed.
    heartbeat_seconds
        The engine process sends a message at least this often (``Alive`` when it has
        nothing else), so that silence means it is stopped or stuck.
    silence_seconds
        An engine process silent for this long is taken for stopped or stuck, and killed.
    frame_wait_seconds
        Runs advancing in the worker thread wait at most this long after a frame for the
        UI to say it has drawn it (handing it the GIL meanwhile).
    pause_answer_seconds
        A paused engine process must answer within this long, or it is taken for stuck
        (it beats, but a step does not end).
    receive_tick_seconds
        How often a loop waiting for the engine process checks its own deadlines.
    """

    round_seconds: float = 0.01
    frame_seconds: float = 0.022
    heartbeat_seconds: float = 0.25
    silence_seconds: float = 2.0
    frame_wait_seconds: float = 0.03
    pause_answer_seconds: float = 2.0
    receive_tick_seconds: float = 0.1

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                    not (math.isfinite(v) and v > 0):
                raise ValueError(f"{f.name} must be a positive number of seconds, got {v!r}")
        if self.heartbeat_seconds >= self.silence_seconds:
            raise ValueError(
                f"heartbeat_seconds ({self.heartbeat_seconds}) must be shorter than "
                f"silence_seconds ({self.silence_seconds}): a live child would be killed")


#: the pace everything reads
PACING = Pacing()
