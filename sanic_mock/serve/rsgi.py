"""The app for granian's RSGI interface: the hot endpoints straight from granian, the rest Sanic's.

granian (the default HTTP/2 engine, `run/granian.py`) speaks RSGI as well as ASGI, and RSGI is
the cheaper of the two: an answer is one call (`response_bytes`) instead of two awaited ASGI
messages built as dicts, and a stream's `send_bytes` hands the bytes to granian at once (it
returns an already finished awaitable). So a paced stream needs no coroutine per frame: its
frames go through the same `Pacer` as Sanic's HTTP/1.1 (`serve/pacing.py`, one timer per event
loop), whose writes here are `send_bytes` calls; the handler only waits for the last one. On
h2c, one core, chat went from 8.8k to 14.8k requests per CPU-second (HTTP2.md).

`RSGIApp` answers the endpoints of `endpoints.EXACT` with the worker's `Service`, as every
transport does (ARCHITECTURE.md), with the body limit of `--max-body-bytes` (a 413 on HTTP/2
after the rest of the body has been read, as `serve/asgi.py` does). Everything else (other
paths and methods, `HEAD`, model lookups, the recording proxy) goes to the Sanic app through
`MockASGI`, bridged from RSGI to ASGI by `_bridge`; the Sanic app's ASGI lifespan (where each
worker loads its corpus and builds its `Service`) runs in `__rsgi_init__`/`__rsgi_del__`.

A `reset` fault: RSGI has no way to abort a response, so its headers declare a `content-length`
one byte longer than the frames before the reset, so the response ends short: on HTTP/2 the
stream ends before its declared length (a client's protocol error: h2's `InvalidBodyLengthError`,
curl's `PROTOCOL_ERROR`), on HTTP/1.1 the connection is closed mid-body.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import Awaitable, Generator, Iterator
from typing import Any

from sanic_mock.core.service import Head, Later, Ready, Service
from sanic_mock.endpoints import EXACT, Endpoint
from sanic_mock.errors import OpenAIError, too_large
from sanic_mock.serve.asgi import Message, MockASGI
from sanic_mock.serve.pacing import due_times, pacer
from sanic_mock.serve.sanic_app import create_app
from sanic_mock.settings import Settings

StrHead = list[tuple[str, str]]


def str_head(head: Head) -> StrHead:
    """Headers as RSGI takes them (`str` pairs; ours are latin-1 bytes)."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in head]


@types.coroutine
def _resume(steps: Iterator[Any], first: Any) -> Generator[Any, None, None]:
    """The rest of an awaitable whose first step yielded `first`, as a task can run it."""
    yield first
    yield from steps


class _Stream:
    """A `Pacer` transport over an RSGI response stream: the first write starts the response
    (the headers go out with the first frame), each write is one `send_bytes`."""

    __slots__ = ("proto", "headers", "stream", "closed", "first")

    def __init__(self, proto: Any, headers: StrHead) -> None:
        self.proto = proto
        self.headers = headers
        self.stream: Any = None
        self.closed = False
        self.first = 0.0  # when the first frame left (`time.monotonic`), for `/metrics`

    def write(self, data: bytes) -> None:
        stream = self.stream
        if stream is None:
            stream = self.stream = self.proto.response_stream(200, self.headers)
            self.first = time.monotonic()
        steps = stream.send_bytes(data).__await__()
        try:
            first = next(steps)
        except StopIteration:  # sent: granian's send_bytes finishes at once
            return
        except RuntimeError:  # granian's RSGIProtocolClosed: the client went away
            self.closed = True
            return
        asyncio.ensure_future(_resume(steps, first))  # a send that has to wait (not seen)

    def is_closing(self) -> bool:
        return self.closed


class _Body:
    """A `Pacer` transport for a delayed JSON body: its one write is the whole response."""

    __slots__ = ("proto", "headers", "closed", "first")

    def __init__(self, proto: Any, headers: StrHead) -> None:
        self.proto = proto
        self.headers = headers
        self.closed = False
        self.first = 0.0

    def write(self, data: bytes) -> None:
        self.proto.response_bytes(200, self.headers, data)
        self.first = time.monotonic()

    def is_closing(self) -> bool:
        return False


class RSGIApp:
    """The RSGI application granian serves (see the module docstring). `ctx` is the Sanic app's
    `ctx`, where each worker's start-up puts its `Service`; `direct` is False for the recording
    proxy, whose routes differ."""

    def __init__(self, asgi: MockASGI, ctx: Any, max_body_bytes: int, direct: bool) -> None:
        self.asgi = asgi
        self.ctx = ctx
        self.limit = max_body_bytes
        self.direct = direct
        self._lifespan: _Lifespan | None = None

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._lifespan = _Lifespan(self.asgi)
        loop.run_until_complete(self._lifespan.run("startup"))

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._lifespan is not None:
            loop.run_until_complete(self._lifespan.run("shutdown"))

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":  # websockets: not served (granian answers them itself)
            return
        endpoint = EXACT.get((scope.method, scope.path)) if self.direct else None
        service: Service | None = getattr(self.ctx, "service", None)
        if endpoint is None or service is None:
            await _bridge(self.asgi, scope, proto)
            return
        await self._answer(service, endpoint, scope, proto)

    __call__ = __rsgi__  # what granian's loader type asks for; it calls `__rsgi__`

    async def _answer(self, service: Service, endpoint: Endpoint, scope: Any, proto: Any) -> None:
        started = time.monotonic()
        headers = scope.headers
        body = b""
        if endpoint.method == "POST":
            try:
                found = await self._body(scope, proto)
            except OpenAIError as error:
                _send(proto, service.failed(error, f"POST {scope.path}"))
                return
            if found is None:
                return  # the client went away before sending its request
            body = found
        control: list[tuple[bytes, bytes]] | None = None
        for name in headers.keys():  # RSGIHeaders: names in lower case
            if name.startswith("x-mock-"):
                if control is None:
                    control = []
                control.append((name.encode("latin-1"), headers.get(name).encode("latin-1")))
        answer = service.answer(
            endpoint, headers.get("authorization"), body, started, control=control
        )
        if isinstance(answer, Ready):
            _send(proto, answer)
        else:
            await self._later(proto, answer)

    async def _later(self, proto: Any, later: Later) -> None:
        """A delayed JSON body or a paced stream, through the loop's `Pacer`."""
        reply = later.reply
        due = due_times(reply.due(), asyncio.get_running_loop(), later.started)
        head = str_head(later.head())
        transport: _Stream | _Body
        if reply.reset:
            # RSGI cannot abort a response, and granian ends it cleanly when the app raises.
            # Declaring one byte more than is sent makes it end short: an h2 client sees the
            # stream end before its length, an HTTP/1.1 one the connection closed mid-body.
            frames = reply.frames or [b""]  # a JSON answer that resets sends nothing
            head.append(("content-length", str(sum(map(len, frames)) + 1)))
            transport = _Stream(proto, head)
        elif reply.frames is None:
            frames, transport = [reply.body], _Body(proto, head)
        else:
            frames, transport = reply.frames, _Stream(proto, head)
        await pacer().write(transport, frames, due)
        now = time.monotonic()  # for `/metrics`: when the first and the last frame left
        later.sent(transport.first or now, now, gone=transport.closed)

    async def _body(self, scope: Any, proto: Any) -> bytes | None:
        """The whole request body within the limit (`PayloadTooLarge` past it, after reading
        the rest on HTTP/2); None if the client went away."""
        limit = self.limit
        multiplexed = scope.http_version == "2"
        declared = scope.headers.get("content-length")
        try:
            if declared is not None and declared.isdigit():
                if int(declared) > limit:
                    if multiplexed:
                        await _drain(proto)
                    raise too_large()
                body: bytes = await proto()  # granian checks it against the declared length
                return body
            parts: list[bytes] = []
            size = 0
            chunks = proto.__aiter__()
            while True:
                try:
                    part = await chunks.__anext__()
                except StopAsyncIteration:
                    return b"".join(parts)
                size += len(part)
                if size > limit:
                    if multiplexed:
                        await _drain(proto, chunks)
                    raise too_large()
                parts.append(part)
        except RuntimeError:  # granian's RSGIProtocolClosed
            return None


def _send(proto: Any, answer: Ready) -> None:
    status, head, body = answer
    proto.response_bytes(status, str_head(head), body)  # granian adds the content-length


async def _drain(proto: Any, chunks: Any = None) -> None:
    """Read and drop the rest of a request body."""
    chunks = proto.__aiter__() if chunks is None else chunks
    try:
        while True:
            await chunks.__anext__()
    except StopAsyncIteration:
        return


async def _bridge(app: MockASGI, scope: Any, proto: Any) -> None:
    """Serve an RSGI request with the ASGI `app` (the Sanic app, wrapped)."""
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in scope.headers.items()
    ]
    asgi_scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": scope.path,
        "raw_path": scope.path.encode("latin-1"),
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": headers,
        "client": _address(scope.client),
        "server": _address(scope.server),
    }
    chunks = proto.__aiter__()
    body_done = False
    status = 200
    head: StrHead = []
    stream: Any = None

    async def receive() -> Message:
        nonlocal body_done
        if not body_done:
            try:
                part = await chunks.__anext__()
                return {"type": "http.request", "body": part, "more_body": True}
            except StopAsyncIteration:
                body_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            except RuntimeError:  # the client went away
                body_done = True
                return {"type": "http.disconnect"}
        await proto.client_disconnect()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, head, stream
        if message["type"] == "http.response.start":
            status = message["status"]
            head = str_head(message.get("headers", ()))
            return
        if message["type"] != "http.response.body":
            return
        body = message.get("body", b"")
        if stream is None and not message.get("more_body", False):
            proto.response_bytes(status, head, body)
            return
        if stream is None:
            stream = proto.response_stream(status, head)
        if body:
            await stream.send_bytes(body)

    await app(asgi_scope, receive, send)


def _address(text: str) -> tuple[str, int] | None:
    host, _, port = text.rpartition(":")
    return (host.strip("[]"), int(port)) if port.isdigit() else None


class _Lifespan:
    """The ASGI lifespan of `app`, run by hand (RSGI has none): startup, then shutdown."""

    def __init__(self, app: MockASGI) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.replies: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def run(self, phase: str) -> None:
        if self.task is None:
            self.task = asyncio.ensure_future(self._serve())
        await self.inbox.put({"type": f"lifespan.{phase}"})
        reply: Awaitable[Message] = self.replies.get()
        done = await reply
        if done["type"] != f"lifespan.{phase}.complete":
            raise RuntimeError(f"the app's lifespan {phase} failed: {done.get('message', '')}")

    async def _serve(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.3"}}

        async def send(message: Message) -> None:
            await self.replies.put(message)

        await self.app(scope, self.inbox.get, send)


def rsgi_app(settings: Settings) -> RSGIApp:
    """`create_app(settings)` for granian's RSGI interface: the hot routes answered directly
    (not for the recording proxy), everything else by the wrapped Sanic app."""
    app = create_app(settings)
    app.config.MOTD = False  # under ASGI Sanic logs its banner at start-up unless told not to
    wrapped = MockASGI(app, settings.server.max_body_bytes)
    direct = settings.record.upstream is None
    return RSGIApp(wrapped, app.ctx, settings.server.max_body_bytes, direct)
