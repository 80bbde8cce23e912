"""The Sanic app as an ASGI application, with what Sanic's own server would have done for it.

Under an ASGI server (hypercorn, granian) Sanic neither enforces `REQUEST_MAX_SIZE` nor sends
`content-length`. `MockASGI` wraps the app and restores both on every protocol:

- the body-size limit: a declared `content-length` above `--max-body-bytes`, or a body that grows
  past it while arriving (chunked HTTP/1.1, HTTP/2 and HTTP/3 DATA), raises `PayloadTooLarge`
  from `receive()` inside Sanic's request handling, so the usual error handler answers 413 with the
  OpenAI error object and nothing past the limit is ever buffered;
- `content-length` on every response whose body goes out in one message (all JSON answers and
  unpaced streams); paced streams stay open-ended (chunked on HTTP/1.1, DATA frames on h2/h3);
- an optional `alt-svc` header, for servers that cannot add it themselves.

The routes a load test hits skip Sanic altogether (`asgi_direct.Direct`), with the same limit,
headers and bytes.

`asgi_app(settings)` builds the wrapped app; it imports no server: the runners serve it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sanic_mock.errors import too_large
from sanic_mock.serve.asgi_direct import (
    Direct,
    Message,
    Receive,
    Scope,
    Send,
    declared_length,
    drain,
)
from sanic_mock.serve.sanic_app import create_app
from sanic_mock.settings import Settings

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
                if final and not head:
                    if not any(name.lower() == b"content-length" for name, _ in headers):
                        headers.append((b"content-length", b"%d" % len(message.get("body", b""))))
                headers.extend(extra)
                await send({**start, "headers": headers})
            await send(message)

        await self.app(scope, limited_receive, framed_send)
        if held is not None:  # the app started a response but sent no body: finish it, empty
            await framed_send({"type": "http.response.body", "body": b""})


def asgi_app(settings: Settings, alt_svc: str | None = None) -> MockASGI:
    """`create_app(settings)` for an ASGI server: wrapped, with the direct path for the hot
    routes (not for the recording proxy, whose routes differ), and without Sanic's banner."""
    app = create_app(settings)
    app.config.MOTD = False  # under ASGI Sanic logs its banner at start-up unless told not to
    wrapped = MockASGI(app, settings.max_body_bytes, alt_svc)
    if settings.upstream is None:
        wrapped.direct = Direct(
            app.ctx, settings.authorization, settings.max_body_bytes, wrapped.extra
        )
    return wrapped
