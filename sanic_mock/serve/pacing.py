"""Sending replies that wait: every frame leaves at its due time on the monotonic clock.

Frame `k` of a reply is due `reply.due()[k]` seconds after the request arrived (see
`core/reply.py`); deadlines are absolute, so time spent writing never accumulates into drift.

Where a transport can be written to directly (Sanic's own HTTP/1.1 server), frames go through
one `Pacer` per event loop: a single timer wakes when the earliest frame is due and writes every
frame due by then, for all streams, straight to the transports. That avoids a task wake-up, a
`sleep` and a framework `send` per event, which is what limits one-`send()`-per-event servers.
The fast path hands it whole answers (a delayed JSON body, or a stream with its status line and
headers in the first write and the closing chunk in the last); Sanic's routes the middle frames
of a stream; granian's RSGI app (`serve/rsgi.py`) whole answers, written with `send_bytes`.
Where a frame can only be sent by awaiting (ASGI under hypercorn: h2, h2c, HTTP/3), the same
Pacer keeps the time and a `Relay` hands each due frame to the stream's coroutine, which sends it
(`send_paced`): one timer per loop on every transport, rather than a sleep per event per stream.
The Pacer reports how late frames left to the loop's `LagWatch` (`core/overload.py`), which warns
when the schedule cannot be kept.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import math
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sanic_mock.core.overload import LagWatch

# The pacer's clock is a wheel of slots RATE per second, matching uvloop, whose clock and timers
# count whole milliseconds. A frame due at `t` is written in the first slot at or after
# `t - SLACK`: never more than SLACK early, at most one slot late on an idle loop. At most BATCH
# frames are written before the loop gets a turn.
RATE = 1000
SLACK = 0.0002
BATCH = 32


def slot_of(at: float) -> int:
    return math.ceil((at - SLACK) * RATE)


def due_times(offsets: list[float], loop: asyncio.AbstractEventLoop, started: float) -> list[float]:
    """`offsets` (seconds after a request that arrived at `started` on the `time.monotonic`
    clock) on `loop`'s clock."""
    start = loop.time() - (time.monotonic() - started)
    return [start + t for t in offsets]


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
        self.watch = LagWatch()  # how late frames leave (core/overload.py)

    def write(self, transport: Any, chunks: list[bytes], due: list[float]) -> asyncio.Future[None]:
        """Write each of `chunks` at its `due` time (on the loop's clock); the future resolves
        when all are written or the connection closed."""
        done: asyncio.Future[None] = self._loop.create_future()
        if not chunks:
            done.set_result(None)
            return done
        assert len(chunks) == len(due)
        chunks = chunks[::-1]  # popped from the end
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
        wheel, pending, watch = self._slots, self._pending, self.watch
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
            watch.add(now - slot, len(streams), now / RATE)
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


_LINGER_OFF = struct.pack("ii", 1, 0)


def reset(transport: Any) -> None:
    """Abort a connection with a TCP reset (RST, not FIN): `SO_LINGER` 0, then close."""
    if transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_OFF)
        except OSError:
            pass  # not a TCP socket: a plain abort is all there is
    transport.abort()


async def sleep_until(loop: asyncio.AbstractEventLoop, at: float) -> None:
    wait = at - loop.time()
    if wait > 0:
        await asyncio.sleep(wait)


class Relay:
    """A `Pacer` transport for a sender that must be awaited (an ASGI `send`): the Pacer's one
    timer puts each frame here when it is due, and the stream's coroutine takes and sends it
    (`send_paced`). Closed once that coroutine stops; the Pacer then drops the rest."""

    __slots__ = ("_loop", "_frames", "_waiter", "closed")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._frames: collections.deque[bytes] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False

    def write(self, data: bytes) -> None:
        self._frames.append(data)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def is_closing(self) -> bool:
        return self.closed

    async def next(self) -> bytes:
        """The next frame, once the Pacer has found it due."""
        while not self._frames:
            self._waiter = self._loop.create_future()
            await self._waiter
        return self._frames.popleft()


async def send_paced(
    send: Callable[[bytes, bool], Awaitable[None]],
    frames: list[bytes],
    due: list[float],
) -> None:
    """`send(frame, last)` for each frame once it is due (on the running loop's clock): the
    loop's `Pacer` keeps the time (one timer for all streams, its lag watch fed per slot), this
    coroutine only sends."""
    relay = Relay(asyncio.get_running_loop())
    pacer().write(relay, frames, due)
    last = len(frames) - 1
    try:
        for k in range(len(frames)):
            await send(await relay.next(), k == last)
    finally:
        relay.closed = True  # sent, or stopped (a client gone, a task cancelled)
