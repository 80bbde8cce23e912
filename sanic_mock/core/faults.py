"""Failures on purpose: which requests fail (`--fault-rate`, `--fault-type`, or a request's
`x-mock-fault` header), and what a failure does to the answer.

`Faults.draw` decides per POST request, from one generator per worker seeded by `--seed`, so
the same server started the same way fails the same requests (per worker, in arrival order).
A status fault (`429`, `500`, `503`) is answered instead of the request, with the real API's
error object; a 429 carries `retry-after` and the `x-ratelimit-*` headers. A stream fault acts
on the `Reply` the answerer made (`applied`), K content events in (`Fault.after`, drawn from
1..8 for `--fault-rate`):

- `stall`: the events from K on leave `--stall-ms` later;
- `truncate`: the first K events, then the stream ends cleanly, without the finish chunk, usage
  and `[DONE]`;
- `reset`: the first K events, then the transport resets the connection (HTTP/1.1) or stream.

On a JSON answer a stall adds to its wait, a reset resets without sending it, and a truncation
does nothing (there is no event to cut after): it is sent whole. A cut answer's `Reply.said` says
`abort`, with the completion tokens of the frames kept (`/metrics` counts what the client got).
"""

from __future__ import annotations

import random

from sanic_mock.core.control import STATUS_FAULTS, Fault
from sanic_mock.core.reply import Kept, Reply
from sanic_mock.errors import OpenAIError
from sanic_mock.settings import FaultSettings

MOST_AFTER = 8  # a drawn stream fault comes after 1..MOST_AFTER content events

# The real API's messages (as its SDKs and gateways see them).
_MESSAGES = {
    "429": ("Rate limit reached for requests. Please try again in 1s.", "requests"),
    "500": ("The server had an error while processing your request. Sorry about that!", None),
    "503": ("The server is overloaded or not ready yet.", None),
}


class InjectedError(OpenAIError):
    """A status fault's error answer (not a bug of ours: never logged as one)."""

    def __init__(self, status: str) -> None:
        message, kind = _MESSAGES[status]
        code = "rate_limit_exceeded" if status == "429" else None
        super().__init__(message, code=code)
        self.status = int(status)
        self.type = kind or "server_error"


class Faults:
    """One worker's fault draws (see the module docstring)."""

    def __init__(self, settings: FaultSettings, seed: int) -> None:
        self.rate = settings.rate
        self.types = settings.types
        self.stall_ms = settings.stall_ms
        self._rng = random.Random(seed * 1_000_003 + 0xFA17)

    def draw(self) -> Fault | None:
        """This request's fault under `--fault-rate`, or None."""
        rng = self._rng
        if rng.random() >= self.rate:
            return None
        kind = self.types[rng.randrange(len(self.types))]
        if kind in STATUS_FAULTS:
            return Fault(kind)
        return Fault(kind, rng.randint(1, MOST_AFTER), self.stall_ms if kind == "stall" else 0.0)


def applied(fault: Fault, reply: Reply) -> Reply:
    """`reply` with a stream fault done to it. The last frame of a generated stream holds the
    finish chunk(s), usage and `[DONE]`, so at most all frames but the last are kept."""
    frames = reply.frames
    if frames is None:
        if fault.kind == "stall":
            return reply._replace(first_delay=reply.first_delay + fault.ms / 1000.0)
        if fault.kind == "reset":
            return reply._replace(body=b"", reset=True, said=(Kept(0),))
        return reply
    due = reply.due()
    cut = max(1, min(fault.after, len(frames) - 1))  # K >= 1: a frame carries the head
    if fault.kind == "stall":
        late = fault.ms / 1000.0
        offsets = due[:cut] + [at + late for at in due[cut:]]
        return reply._replace(offsets=tuple(offsets))
    return reply._replace(
        frames=frames[:cut],
        offsets=tuple(due[:cut]),
        reset=fault.kind == "reset",
        said=_kept(reply, cut, len(frames)),
    )


def _kept(reply: Reply, kept: int, frames: int) -> tuple[Kept]:
    """What was sent of `reply` when `kept` of its `frames` are (one token a frame by default,
    so exact then; in proportion with --stream-tokens-max)."""
    tally = reply.tally()
    return (Kept(0 if tally is None else tally.completion * kept // frames),)
