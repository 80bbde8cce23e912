"""The routes a load test hits, answered inside Sanic's HTTP/1.1 protocol as their bytes arrive.

For every request Sanic's connection task parses the head into a `Request`, matches its router,
dispatches its signals and formats the answer through its response object and `send()`: half the
instructions of a JSON chat completion (README, Performance).
`DirectProtocol` is Sanic's `HttpProtocol` with a short cut in `data_received`: while Sanic's
connection task is idle (between requests), a complete, plain HTTP/1.1 request for one of
`core.endpoints.EXACT` is parsed (`parse`), answered (`Service.answer`) and written to the
transport there and then. Anything else is handed to Sanic, from that request on, exactly as it
arrived: other paths and methods, `HEAD`, HTTP/1.0, `Connection: close`, `Expect`,
`Transfer-Encoding`, a body over `HOLD` bytes or over the limit, a head Sanic would reject.
Sanic answers those as it always does, errors included.

Answers that wait are written without a task, by the `serve.pacing.Pacer`: a delayed JSON body
as one write when due, a paced stream frame by frame (status line and headers with the first
frame, the closing chunk with the last). Requests pipelined behind a waiting answer are held
until it is written, and none is answered while the transport's buffer is full, so answers
leave in order and a client that does not read cannot make the server buffer without bound.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from sanic.http import Http, Stage
from sanic.server.protocols.http_protocol import HttpProtocol

from sanic_mock.core.service import Later, Ready, Service
from sanic_mock.endpoints import EXACT, Endpoint
from sanic_mock.serve.h1 import CHUNKED, LAST_CHUNK, chunked, head_bytes, response_bytes
from sanic_mock.serve.pacing import SLACK, due_times, pacer, reset

log = logging.getLogger("sanic_mock")

# A request bigger than this (head and body) that has not fully arrived is handed to Sanic,
# which reads bodies in parts; smaller ones are held here until complete.
HOLD = 64 * 1024

_ROUTES: dict[tuple[bytes, bytes], Endpoint] = {
    (method.encode(), path.encode()): endpoint for (method, path), endpoint in EXACT.items()
}
# Request headers that make a request Sanic's (see the module docstring).
_SANICS = (b"transfer-encoding", b"expect", b"upgrade")


class Request(NamedTuple):
    endpoint: Endpoint
    authorization: str | None
    body: bytes
    size: int  # of the whole request in the buffer, head and body
    control: list[tuple[bytes, bytes]] | None = None  # its x-mock-* headers


class Wait(enum.Enum):
    MORE = "more"  # the request may be ours, but it has not all arrived


def parse(buf: bytearray, max_head: int, max_body: int) -> Request | Wait | None:
    """The first request in `buf` if it is one this module answers, `Wait.MORE` if it may be
    but is not complete yet, None if it is Sanic's. Header values are read as Sanic reads them
    (left-stripped, UTF-8 with surrogate escapes)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return Wait.MORE if len(buf) < max_head else None
    if end >= max_head:
        return None
    head = bytes(buf[:end])
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[2] != b"HTTP/1.1":
        return None
    endpoint = _ROUTES.get((parts[0], parts[1]))
    if endpoint is None:
        return None
    length: int | None = None
    authorization: str | None = None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            return None
        name = name.lower()
        if name == b"content-length":
            value = value.lstrip()
            if length is not None or not value.isdigit():
                return None
            length = int(value)
        elif name == b"authorization":
            if authorization is None:
                authorization = value.decode(errors="surrogateescape").lstrip()
        elif name == b"connection":
            if value.lstrip().lower() != b"keep-alive":
                return None
        elif name in _SANICS:
            return None
    # the x-mock-* headers in a second pass, only when there are any: one search otherwise
    control = _control(lines) if b"x-mock-" in head.lower() else None
    start = end + 4
    if parts[0] == b"GET":
        return None if length else Request(endpoint, authorization, b"", start, control)
    if length is None or length > max_body:
        return None
    size = start + length
    if len(buf) < size:
        return Wait.MORE if size <= HOLD else None
    return Request(endpoint, authorization, bytes(buf[start:size]), size, control)


def _control(lines: list[bytes]) -> list[tuple[bytes, bytes]] | None:
    """The `x-mock-*` header lines of a head, as (lower-cased name, value) pairs."""
    found = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.lower()
        if name.startswith(b"x-mock-"):
            found.append((name, value))
    return found or None


_UNSET = object()


def paced(
    transport: Any,
    chunks: list[bytes],
    due: list[float],
    later: Later,
    then: Callable[[object], None],
) -> None:
    """`chunks` through the `Pacer`, then `then`; for `/metrics`, `later.sent` with when the
    first and the last chunk left (the first as a write of its own, so that the Pacer's
    per-frame loop stays as it is)."""
    writer = pacer()
    if later.meter is None:
        writer.write(transport, chunks, due).add_done_callback(then)
        return
    left = [0.0]
    if len(chunks) > 1:
        first = writer.write(transport, chunks[:1], due[:1])
        first.add_done_callback(lambda _: left.__setitem__(0, time.monotonic()))
        chunks, due = chunks[1:], due[1:]

    last_due = due[-1] - SLACK

    def done(future: object) -> None:
        now = time.monotonic()
        # The Pacer gives up on a closed connection at the frame it did not write, before the
        # last is due; a client that closes once it has the last frame is not gone early.
        gone = transport.is_closing() and asyncio.get_running_loop().time() < last_due
        later.sent(left[0] or now, now, gone)
        then(future)

    writer.write(transport, chunks, due).add_done_callback(done)


class DirectProtocol(HttpProtocol):
    """See the module docstring. Sanic's connection task still owns the connection: it keeps
    the timeouts, closes the connection, and answers whatever is handed to it."""

    __slots__ = ("_held", "_busy", "_writable", "_stopped_reading", "_service")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held = bytearray()  # received, not yet answered or handed to Sanic
        self._busy = False  # an answer that waits is being written
        self._writable = True  # Sanic's `_can_write` event, as a plain flag for the hot path
        self._stopped_reading = False  # by this class: too much held
        self._service: Service = self.app.ctx.service

    def _sanic_idle(self) -> bool:
        """Whether Sanic's connection task is between requests with nothing to read."""
        if self.recv_buffer:
            return False
        http = getattr(self, "_http", _UNSET)
        if http is _UNSET:
            return True  # the task has not started yet
        return (
            isinstance(http, Http)
            and http.stage is Stage.IDLE
            and http.keep_alive
            and not http.request_body
        )

    def data_received(self, data: bytes) -> None:
        if not (self._busy or self._held or self._sanic_idle()):
            super().data_received(data)
            return
        self._time = time.monotonic()
        self._held += data
        if self._busy or not self._writable:
            if len(self._held) > HOLD and self.transport is not None:
                self.transport.pause_reading()
                self._stopped_reading = True
            return
        self._serve()

    def _serve(self) -> None:
        """Answer the requests held, in order, until one must wait or is Sanic's."""
        held = self._held
        if self._stopped_reading and self.transport is not None:
            self.transport.resume_reading()
            self._stopped_reading = False
        try:
            while held:
                request = parse(held, Http.HEADER_MAX_SIZE, self.request_max_size)
                if request is Wait.MORE:
                    return
                if request is None:
                    self._hand_off()
                    return
                del held[: request.size]
                if not self._answer(request) or not self._writable:
                    return  # the rest waits for `_written` or `resume_writing`
        except Exception:
            log.exception("unexpected error answering on a connection; closing it")
            held.clear()
            self.close()

    def _hand_off(self) -> None:
        data = bytes(self._held)
        self._held.clear()
        super().data_received(data)

    def _answer(self, request: Request) -> bool:
        """Write the answer to `request`, or start writing it later (False)."""
        started = self._time
        transport = self.transport
        assert transport is not None
        answer = self._service.answer(
            request.endpoint, request.authorization, request.body, started, control=request.control
        )
        if isinstance(answer, Ready):
            transport.write(response_bytes(answer))
            return True
        self._busy = True
        reply = answer.reply
        if reply.reset:  # a fault: the frames so far, then a TCP reset (the JSON body: none)
            head = head_bytes(200, answer.head(), CHUNKED)
            chunks = chunked(reply.frames, head) if reply.frames else [b""]
            due = due_times(reply.due(), self.loop, started)
            paced(transport, chunks, due, answer, lambda _: reset(transport))
            return False
        if reply.frames is None:
            chunks = [response_bytes(Ready(200, answer.head(), reply.body))]
        else:
            chunks = chunked(reply.frames, head_bytes(200, answer.head(), CHUNKED), LAST_CHUNK)
        due = due_times(reply.due(), self.loop, started)
        paced(transport, chunks, due, answer, self._written)
        return False

    def _written(self, _: object) -> None:
        """A waiting answer is out: answer what was held meanwhile."""
        self._busy = False
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._time = time.monotonic()
        if self.signal.stopped:  # the server is stopping and has closed the idle connections
            self.close()
            return
        if self._held and self._writable:
            self._serve()

    def pause_writing(self) -> None:
        super().pause_writing()  # type: ignore[no-untyped-call]
        self._writable = False

    def resume_writing(self) -> None:
        super().resume_writing()  # type: ignore[no-untyped-call]
        self._writable = True
        transport = self.transport
        if self._held and not self._busy and transport is not None and not transport.is_closing():
            self._serve()

    def check_timeouts(self) -> None:
        if self._busy:  # Sanic sees an idle connection; it is writing a long answer
            self._time = time.monotonic()
        super().check_timeouts()  # type: ignore[no-untyped-call]

    def close_if_idle(self) -> bool:
        return False if self._busy else bool(super().close_if_idle())
