"""The Sanic app as an ASGI application, with what Sanic's own server would have done for it.

Under an ASGI server (hypercorn; granian through `serve/rsgi.py`) Sanic neither enforces
`REQUEST_MAX_SIZE` nor sends `content-length`. `MockASGI` wraps the app and restores both on
every protocol:

- the body-size limit: a declared `content-length` above `--max-body-bytes`, or a body that grows
  past it while arriving (chunked HTTP/1.1, HTTP/2 and HTTP/3 DATA), raises `PayloadTooLarge`
  from `receive()` inside Sanic's request handling, so the usual error handler answers 413 with the
  OpenAI error object and nothing past the limit is ever buffered;
- `content-length` on every response whose body goes out in one message (all JSON answers and
  unpaced streams); paced streams stay open-ended (chunked on HTTP/1.1, DATA frames on h2/h3);
- an optional `alt-svc` header, for servers that cannot add it themselves.

The endpoints of `core.endpoints.EXACT` skip Sanic altogether (`Direct`): Sanic's ASGI adapter
builds its request object, matches its router and dispatches its signals for every request,
which was about half of granian's time per chat request under ASGI (HTTP2.md). `Direct`
(hypercorn's; granian's RSGI app has its own, `serve/rsgi.py`) reads the request from the ASGI
messages and answers it with the worker's `Service`, with the same limit, headers and bytes;
everything else (other paths and methods, `HEAD`, model lookups, a corpus not loaded yet) goes
to Sanic.

`asgi_app(settings)` builds the wrapped app; it imports no server: the runners serve it.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sanic_mock.core.service import Later, Ready, Service
from sanic_mock.endpoints import EXACT, Endpoint
from sanic_mock.errors import OpenAIError, too_large
from sanic_mock.serve.pacing import due_times, send_paced, sleep_until
from sanic_mock.serve.resets import StreamReset, reset_stream
from sanic_mock.serve.sanic_app import create_app
from sanic_mock.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The request's `content-length`, or None when absent or not a number."""
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def drain(receive: Receive) -> None:
    """Read and drop the rest of a request body."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _parts(
    headers: list[tuple[bytes, bytes]],
) -> tuple[str | None, list[tuple[bytes, bytes]] | None]:
    """The request's `Authorization` header and its `x-mock-*` headers (None: none)."""
    authorization: str | None = None
    control: list[tuple[bytes, bytes]] | None = None
    for name, value in headers:
        name = name.lower()
        if name == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif name.startswith(b"x-mock-"):
            if control is None:
                control = []
            control.append((name, value))
    return authorization, control


class Direct:
    """The endpoints of `core.endpoints.EXACT` answered from ASGI messages, without Sanic (see
    the module docstring). `ctx` is the Sanic app's `ctx`, where each worker's start-up puts
    its `Service` (`serve.sanic_app.create_app`)."""

    def __init__(self, ctx: Any, max_body_bytes: int, extra: list[tuple[bytes, bytes]]) -> None:
        self.ctx = ctx
        self.limit = max_body_bytes
        self.extra = extra

    def route(self, scope: Scope) -> Callable[[Scope, Receive, Send], Awaitable[None]] | None:
        """The handler for this request, or None for Sanic to answer it."""
        if not hasattr(self.ctx, "service"):  # before the worker's start-up has loaded the corpus
            return None
        endpoint = EXACT.get((scope["method"], scope["path"]))
        if endpoint is None:
            return None
        return functools.partial(self._answer, endpoint)

    async def _answer(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        service: Service = self.ctx.service
        body = b""
        if endpoint.method == "POST":
            try:
                found = await self._body(scope, receive)
            except OpenAIError as error:
                await self._send(send, service.failed(error, f"POST {scope['path']}"))
                return
            if found is None:
                return  # the client went away before sending its request
            body = found
        authorization, control = _parts(scope["headers"])
        answer = service.answer(endpoint, authorization, body, started, control=control)
        if isinstance(answer, Ready):
            await self._send(send, answer)
        else:
            await self._send_later(send, answer)

    async def _send_later(self, send: Send, later: Later) -> None:
        """A delayed JSON body (one message with its length) or a paced stream (the response
        start with the first frame, then a body message per frame), each once it is due."""
        reply = later.reply
        due = due_times(reply.due(), asyncio.get_running_loop(), later.started)
        if reply.reset and reply.frames is None:
            # a JSON answer that resets: nothing is sent, the server aborts (`serve/resets.py`)
            await sleep_until(asyncio.get_running_loop(), due[0])
            now = time.monotonic()
            later.sent(now, now)
            raise StreamReset()
        if reply.frames is None:
            out = 0.0  # when the body left

            async def send_body(body: bytes, last: bool) -> None:
                nonlocal out
                await self._send(send, Ready(200, later.head(), body))
                out = time.monotonic()

            try:
                await send_paced(send_body, [reply.body], due)
            finally:
                now = time.monotonic()
                later.sent(out or now, out or now, gone=not out)
            return
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*later.head(), *self.extra],
        }
        first = 0.0
        ended = False

        async def send_frame(frame: bytes, last: bool) -> None:
            nonlocal first, ended
            if not first:
                await send(start)
            more = not last or reply.reset
            await send({"type": "http.response.body", "body": frame, "more_body": more})
            if not first:
                first = time.monotonic()
            ended = last

        try:
            await send_paced(send_frame, reply.frames, due)
        finally:
            now = time.monotonic()
            later.sent(first or now, now, gone=not ended)
        if reply.reset and not await reset_stream(send):
            raise StreamReset()

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole request body, within the limit (`PayloadTooLarge` past it, after reading
        the rest on HTTP/2 and HTTP/3; see `asgi.MockASGI`); None if the client disconnected."""
        declared = declared_length(scope["headers"])
        multiplexed = scope.get("http_version") in ("2", "3")
        if declared is not None and declared > self.limit:
            if multiplexed:
                await drain(receive)
            raise too_large()
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            part = message.get("body", b"")
            size += len(part)
            more = message.get("more_body", False)
            if size > self.limit:
                if multiplexed and more:
                    await drain(receive)
                raise too_large()
            if not more:
                return part if not parts else b"".join([*parts, part])
            parts.append(part)

    async def _send(self, send: Send, answer: Ready) -> None:
        status, head, body = answer
        headers = [*head, (b"content-length", b"%d" % len(body)), *self.extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class MockASGI:
    """`app` with the body limit, `content-length` and `alt-svc` applied (see module doc)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, alt_svc: str | None = None) -> None:
        self.app = app
        self.limit = max_body_bytes
        self.extra: list[tuple[bytes, bytes]] = (
            [] if alt_svc is None else [(b"alt-svc", alt_svc.encode("ascii"))]
        )
        self.direct: Direct | None = None  # the hot routes without Sanic (`asgi_app`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (and websocket, which we do not serve)
            await self.app(scope, receive, send)
            return
        if self.direct is not None:
            handler = self.direct.route(scope)
            if handler is not None:
                await handler(scope, receive, send)
                return
        limit = self.limit
        declared = declared_length(scope["headers"])
        over_limit = declared is not None and declared > limit
        received = 0
        request_done = False

        async def limited_receive() -> Message:
            nonlocal received, request_done
            if over_limit:
                raise too_large()
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                request_done = True
                return message
            request_done = not message.get("more_body", False)
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large()
            return message

        held: Message | None = None
        head = scope["method"] == "HEAD"
        multiplexed = scope.get("http_version") in ("2", "3")
        extra = self.extra

        async def framed_send(message: Message) -> None:
            nonlocal held
            kind = message["type"]
            if kind == "http.response.start":
                held = message  # sent with the first body message, once its size is known
                return
            if kind != "http.response.body":
                await send(message)
                return
            final = not message.get("more_body", False)
            if final and multiplexed and not request_done:
                # hypercorn forgets an h2/h3 stream once its response has ended; request DATA
                # arriving after that kills the whole h2 connection (KeyError), and an h3 client
                # that sees an early answer ends its upload with a FIN that aioquic then rejects
                # (content-length mismatch) by closing the connection. So an early answer (413)
                # waits until the request body has been read and dropped: memory stays bounded
                # and the connection stays healthy.
                await drain(receive)
            if held is not None:
                start, held = held, None
                headers = list(start.get("headers", ()))
                if final:  # a HEAD's too: the length of the GET's body, as on Sanic's server
                    if not any(name.lower() == b"content-length" for name, _ in headers):
                        headers.append((b"content-length", b"%d" % len(message.get("body", b""))))
                headers.extend(extra)
                await send({**start, "headers": headers})
            if head and message.get("body"):  # Sanic sends a HEAD the body; granian's h2 did too
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, limited_receive, framed_send)
        if held is not None:  # the app started a response but sent no body: finish it, empty
            await framed_send({"type": "http.response.body", "body": b""})


def asgi_app(settings: Settings, alt_svc: str | None = None) -> MockASGI:
    """`create_app(settings)` for an ASGI server: wrapped, with the direct path for the hot
    routes (not for the recording proxy, whose routes differ), and without Sanic's banner."""
    app = create_app(settings)
    app.config.MOTD = False  # under ASGI Sanic logs its banner at start-up unless told not to
    wrapped = MockASGI(app, settings.server.max_body_bytes, alt_svc)
    if settings.record.upstream is None:
        wrapped.direct = Direct(app.ctx, settings.server.max_body_bytes, wrapped.extra)
    return wrapped
