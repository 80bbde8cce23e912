"""Paced SSE delivery: every frame leaves at its due time on the monotonic clock.

Frame `k` of a reply is due at `start + first_delay + k * event_delay` (or at the recorded
`offsets[k]` of a replayed stream); deadlines are absolute, so time spent writing never
accumulates into drift, and headers go out with the first frame, so a client's first-token
timer sees the configured delay.

On Sanic's own HTTP/1.1 server frames are written by one `Pacer` per event loop: a single timer
wakes when the earliest frame is due and writes every frame due by then (for all streams)
straight to the transports, with the chunked framing Sanic would add. That avoids a task
wake-up, a `sleep` and Sanic's per-`send` signal dispatch for every event, which is what limits
one-`send()`-per-event servers. Streams answered by `h1_direct` go through it whole (status line
and headers with the first frame, the closing chunk with the last); streams answered by Sanic's
routes (`-v`, requests `h1_direct` hands over) send their first and last frames through Sanic's
response object, so its keep-alive bookkeeping stays right (`paced`). Other transports (ASGI
under hypercorn and granian: `paced_asgi`) get the portable loop: sleep until due, send.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Request
from sanic.http import Http
from sanic.response import HTTPResponse

from sanic_mock.core.generated import Reply

# The pacer's clock is a wheel of slots RATE per second, matching uvloop, whose clock and timers
# count whole milliseconds. A frame due at `t` is written in the first slot at or after
# `t - SLACK`: never more than SLACK early, at most one slot late on an idle loop. At most BATCH
# frames are written before the loop gets a turn.
RATE = 1000
SLACK = 0.0002
BATCH = 32


def slot_of(at: float) -> int:
    return math.ceil((at - SLACK) * RATE)


def due_times(reply: Reply, loop: asyncio.AbstractEventLoop, started: float) -> list[float]:
    """When each frame is due on `loop`'s clock, for a request that arrived at `started` on the
    `time.monotonic` clock."""
    assert reply.frames is not None
    start = loop.time() - (time.monotonic() - started)
    if reply.offsets is not None:
        return [start + t for t in reply.offsets]
    first, gap = start + reply.first_delay, reply.event_delay
    return [first + k * gap for k in range(len(reply.frames))]


class _Stream:
    __slots__ = ("transport", "chunks", "slots", "done")

    def __init__(
        self, transport: Any, chunks: list[bytes], slots: list[int], done: asyncio.Future[None]
    ) -> None:
        self.transport = transport
        self.chunks = chunks  # chunks[i] is due in slot slots[i]; both popped from the end
        self.slots = slots
        self.done = done

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


class Pacer:
    """One timer for all paced streams of an event loop (see the module docstring).

    Streams wait in a timing wheel: `_slots` maps a slot number to the streams whose next
    frame is due in it, and `_pending` is a heap of those slot numbers. Per frame, that is a
    list append, against a heap push and pop of a tuple per frame (which cost ~12% of the
    server's time at 1000 streams)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._slots: dict[int, list[_Stream]] = {}
        self._pending: list[int] = []
        self._timer: asyncio.Handle | None = None
        self._armed = math.inf  # the slot the timer wakes for; -inf: a tick is already queued

    def write(
        self,
        transport: Any,
        frames: list[bytes],
        due: list[float],
        head: bytes = b"",
        end: bytes = b"",
    ) -> asyncio.Future[None]:
        """Write `frames` (as HTTP/1.1 chunks) at `due`, `head` before the first and `end` after
        the last; the future resolves when all are written or the connection closed."""
        done: asyncio.Future[None] = self._loop.create_future()
        if not frames:
            if head or end:
                transport.write(head + end)
            done.set_result(None)
            return done
        chunks = [b"%x\r\n%b\r\n" % (len(frame), frame) for frame in reversed(frames)]
        chunks[0] += end
        chunks[-1] = head + chunks[-1]
        slots = [slot_of(at) for at in reversed(due)]
        first = slots[-1]
        self._queue(first, [_Stream(transport, chunks, slots, done)])
        if first < self._armed:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(first / RATE, self._tick)
            self._armed = first
        return done

    def _queue(self, slot: int, streams: list[_Stream]) -> None:
        waiting = self._slots.get(slot)
        if waiting is None:
            self._slots[slot] = streams
            heapq.heappush(self._pending, slot)
        else:
            waiting.extend(streams)

    def _tick(self) -> None:
        self._timer, self._armed = None, math.inf
        now = math.floor(self._loop.time() * RATE + 1e-6)
        wheel, pending = self._slots, self._pending
        budget = BATCH
        while pending and pending[0] <= now:
            if budget <= 0:
                # Let the loop read new requests and send first frames between batches, so a
                # tick writing hundreds of frames does not hold them back for milliseconds.
                self._timer, self._armed = self._loop.call_soon(self._tick), -math.inf
                return
            slot = heapq.heappop(pending)
            streams = wheel.pop(slot)
            if len(streams) > budget:
                self._queue(slot, streams[budget:])
                del streams[budget:]
            budget -= len(streams)
            for stream in streams:
                transport = stream.transport
                if transport.is_closing():
                    stream.finish()
                    continue
                chunks = stream.chunks
                transport.write(chunks.pop())
                if not chunks:
                    stream.finish()
                    continue
                slots = stream.slots
                slots.pop()
                later = slots[-1]
                waiting = wheel.get(later)
                if waiting is None:
                    wheel[later] = [stream]
                    heapq.heappush(pending, later)
                else:
                    waiting.append(stream)
        if pending:  # the earliest slot left is a later one (> now)
            self._armed = pending[0]
            self._timer = self._loop.call_at(self._armed / RATE, self._tick)


_PACERS: dict[asyncio.AbstractEventLoop, Pacer] = {}


def pacer() -> Pacer:
    loop = asyncio.get_running_loop()
    found = _PACERS.get(loop)
    if found is None:
        found = _PACERS[loop] = Pacer(loop)
    return found


async def _sleep_until(loop: asyncio.AbstractEventLoop, at: float) -> None:
    wait = at - loop.time()
    if wait > 0:
        await asyncio.sleep(wait)


async def paced(request: Request, reply: Reply, head: HTTPResponse, started: float) -> None:
    """Send `reply.frames`, each at its due time counted from `started` (the request's arrival
    on the `time.monotonic` clock; see the module docstring), after the status line and headers
    of `head` (a response without a body)."""
    assert reply.frames is not None
    loop = asyncio.get_running_loop()
    frames = reply.frames
    due = due_times(reply, loop, started)
    try:
        await _sleep_until(loop, due[0])
        response = await request.respond(head)
        await response.send(frames[0])
        if len(frames) == 1:
            await response.eof()
            return
        middle = slice(1, len(frames) - 1)
        # Sanic's own HTTP/1.1 (not ASGI, whose mock transport cannot be written to directly).
        transport = request.transport if isinstance(request.stream, Http) else None
        if transport is not None:
            await pacer().write(transport, frames[middle], due[middle])
        else:
            for frame, at in zip(frames[middle], due[middle], strict=True):
                await _sleep_until(loop, at)
                await response.send(frame)
        await _sleep_until(loop, due[-1])
        if transport is not None and transport.is_closing():
            return
        await response.send(frames[-1], end_stream=True)
    except ConnectionError:
        # The client went away mid-stream: stop writing, nothing else to clean up.
        return


async def paced_asgi(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    reply: Reply,
    headers: list[tuple[bytes, bytes]],
    started: float,
) -> None:
    """`paced` for an ASGI server (`asgi_direct`): the response start with the first frame,
    then each frame as its own body message at its due time."""
    assert reply.frames is not None
    loop = asyncio.get_running_loop()
    frames = reply.frames
    due = due_times(reply, loop, started)
    await _sleep_until(loop, due[0])
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    last = len(frames) - 1
    for k, (frame, at) in enumerate(zip(frames, due, strict=True)):
        await _sleep_until(loop, at)
        await send({"type": "http.response.body", "body": frame, "more_body": k < last})
