"""What an answerer gives back, before any transport: a `Reply`, and the clock it was timed by.

A `Reply` is a JSON body or a list of SSE frames with the simulated timing: when its first byte
is due and how far apart the frames are (or, for a replayed recording, each frame's own time).
Times are seconds after the request arrived; each transport converts them to its loop's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

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


class Asked(Protocol):
    """What a request asked for, as its parsed request says (`wire.requests.Generation`,
    `EmbeddingRequest`): the model, its prompt tokens, and its `max_tokens` (or
    `max_completion_tokens`, `max_output_tokens`; None when not given)."""

    @property
    def model(self) -> str: ...
    @property
    def prompt_tokens(self) -> int: ...
    @property
    def limit(self) -> int | None: ...


class Spent(Protocol):
    """What a choice of the answer spent (`wire.plan.Choice`, `wire.made.Made`, `Calls`)."""

    @property
    def tokens(self) -> int: ...
    @property
    def reasoning(self) -> int: ...
    @property
    def finish_reason(self) -> str: ...


class Kept(NamedTuple):
    """What was sent of an answer a fault cut (`core/faults.py`)."""

    tokens: int
    reasoning: int = 0
    finish_reason: str = "abort"


class Tally(NamedTuple):
    """What a generated answer told its client, for `/metrics` and the token bucket: the
    model, `usage.prompt_tokens`, `usage.completion_tokens`, the first choice's
    `finish_reason`, and the limit the request asked for (`Asked.limit`)."""

    model: str
    prompt: int
    completion: int
    finish: str
    limit: int | None = None


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
    # What the request asked for and what each choice spent, as `usage` counts them (`tally`);
    # None: not a generation (a replayed answer, a token count). Kept as the answerer's own
    # objects: building a `Tally` per request cost ~5k instructions on the hot path.
    asked: Asked | None = None
    said: Sequence[Spent] = ()
    # Of a JSON body's `first_delay`, the seconds that stand for its token gaps: what
    # `--load-factor` stretches (`core/load.py`).
    decode: float = 0.0

    def tally(self) -> Tally | None:
        asked = self.asked
        if asked is None:
            return None
        said, spent = self.said, 0
        for choice in said:
            spent += choice.tokens + choice.reasoning
        finish = said[0].finish_reason if said else "stop"
        return Tally(asked.model, asked.prompt_tokens, spent, finish, asked.limit)

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
