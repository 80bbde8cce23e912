"""Paced SSE delivery: every frame leaves at its due time on the monotonic clock.

Frame `k` of a reply is due at `start + first_delay + k * event_delay` (or at the recorded
`offsets[k]` of a replayed stream); deadlines are absolute, so time spent writing never
accumulates into drift, and headers go out with the first frame, so a client's first-token
timer sees the configured delay.

On Sanic's own HTTP/1.1 server the frames between the first and the last are written by one
`Pacer` per event loop: a single timer wakes when the earliest frame is due and writes every
frame due by then (for all streams) straight to the transports, with the chunked framing Sanic
would add. That avoids a task wake-up, a `sleep` and Sanic's per-`send` signal dispatch for
every event, which is what limits one-`send()`-per-event servers. The first and last frames
go through Sanic's response object, so its keep-alive bookkeeping stays right. Other transports
(ASGI under hypercorn, HTTP/3) get the portable loop: sleep until due, `send()`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Any

from sanic import Request
from sanic.http import Http
from sanic.response import HTTPResponse

from sanic_mock.api import Reply

# Frames due within this many seconds of a tick are written in that tick, at most BATCH of them
# before the loop gets a turn.
SLACK = 0.0002
BATCH = 32
CLOCK_STEP = 0.001


def due_times(reply: Reply, start: float) -> list[float]:
    assert reply.frames is not None
    if reply.offsets is not None:
        return [start + t for t in reply.offsets]
    first, gap = start + reply.first_delay, reply.event_delay
    return [first + k * gap for k in range(len(reply.frames))]


class _Stream:
    __slots__ = ("transport", "frames", "due", "done")

    def __init__(
        self, transport: Any, frames: list[bytes], due: list[float], done: asyncio.Future[None]
    ) -> None:
        self.transport = transport
        self.frames = frames  # frames[i] is due at due[i]; popped from the end
        self.due = due
        self.done = done


class Pacer:
    """One timer for all paced streams of an event loop (see the module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int, _Stream]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")

    def write(self, transport: Any, frames: list[bytes], due: list[float]) -> asyncio.Future[None]:
        """Write `frames` (HTTP/1.1 chunks) at `due`; the future resolves when all are written
        or the connection closed."""
        done: asyncio.Future[None] = self._loop.create_future()
        if not frames:
            done.set_result(None)
            return done
        stream = _Stream(transport, frames[::-1], due[::-1], done)
        self._push(stream)
        return done

    def _push(self, stream: _Stream) -> None:
        at = stream.due[-1]
        heapq.heappush(self._heap, (at, next(self._order), stream))
        if at < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(at, self._tick)
            self._timer_at = at

    def _tick(self) -> None:
        self._timer, self._timer_at = None, float("inf")
        heap = self._heap
        limit = self._loop.time() + SLACK
        budget = BATCH
        while heap and heap[0][0] <= limit:
            budget -= 1
            if budget < 0:
                # Let the loop read new requests and send first frames between batches, so a
                # tick writing hundreds of frames does not hold them back for milliseconds.
                self._timer = self._loop.call_soon(self._tick)  # type: ignore[assignment]
                self._timer_at = heap[0][0]
                return
            _, _, stream = heapq.heappop(heap)
            transport = stream.transport
            if transport.is_closing():
                if not stream.done.done():
                    stream.done.set_result(None)
                continue
            frame = stream.frames.pop()
            stream.due.pop()
            transport.write(b"%x\r\n%b\r\n" % (len(frame), frame))
            if stream.frames:
                heapq.heappush(heap, (stream.due[-1], next(self._order), stream))
            elif not stream.done.done():
                stream.done.set_result(None)
        if heap:
            at = heap[0][0]
            # uvloop's clock and timers count whole milliseconds: a timer for a frame due in
            # under 1 ms fires at once, finds it not yet due, and would spin until the clock
            # ticks over. Wait at least one clock step instead (the frame leaves < 1 ms late).
            self._timer = self._loop.call_at(max(at, limit + CLOCK_STEP), self._tick)
            self._timer_at = at


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
    due = due_times(reply, loop.time() - (time.monotonic() - started))
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
