"""What an answerer gives back, before any transport: a `Reply`, and the clock it was timed by.

A `Reply` is a JSON body or a list of SSE frames with the simulated timing: when its first byte
is due and how far apart the frames are (or, for a replayed recording, each frame's own time).
Times are seconds after the request arrived; each transport converts them to its loop's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

JSON = "application/json"
EVENT_STREAM = "text/event-stream; charset=utf-8"


class Clock(NamedTuple):
    """Where answers read the time: `wall` for `created`, `monotonic` for request timing.
    Tests pin both for exact bytes."""

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic


SYSTEM = Clock()


class Unanswered(Exception):
    """The answerer has no answer for this request and a caller may forward it upstream (a
    recorded corpus under `--on-miss proxy`)."""


class Reply(NamedTuple):
    """A JSON body (`frames is None`) or SSE frames; `first_delay` before the first byte, then
    `event_delay` between frames (a JSON body waits as long as the stream would have taken)."""

    body: bytes
    frames: list[bytes] | None = None
    first_delay: float = 0.0
    event_delay: float = 0.0
    # Replay of recorded timing: frame k is due `offsets[k]` seconds after the request (uneven
    # gaps); when set it replaces first_delay/event_delay.
    offsets: tuple[float, ...] | None = None
    # Headers of this answer besides the ones every answer gets (a replay's `x-mock-replay`).
    headers: tuple[tuple[bytes, bytes], ...] = ()
    # A fault (`core/faults.py`): after the frames (or, for a JSON body, instead of it) the
    # connection or stream is reset rather than ended. The service always sends such a reply
    # `Later` (`at_once` does not look at it: the hot path's check stays as it was).
    reset: bool = False

    @property
    def content_type(self) -> str:
        return JSON if self.frames is None else EVENT_STREAM

    def at_once(self) -> bytes | None:
        """The whole answer when all of it is due now: a JSON body without a delay, or an
        unpaced stream (every event due now, so all go out in one write). None when something
        must wait."""
        if self.frames is None:
            return None if self.first_delay else self.body
        if self.first_delay or self.event_delay or self.offsets is not None:
            return None
        return b"".join(self.frames)

    def due(self) -> list[float]:
        """When each frame (or the JSON body) is due, in seconds after the request arrived."""
        if self.frames is None:
            return [self.first_delay]
        if self.offsets is not None:
            return list(self.offsets)
        first, gap = self.first_delay, self.event_delay
        return [first + k * gap for k in range(len(self.frames))]
