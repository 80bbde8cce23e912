"""The routes a load test hits, answered straight from ASGI messages, without Sanic.

Under an ASGI server (hypercorn, granian: HTTP/2, h2c, HTTP/3, HTTPS/1.1), Sanic's ASGI adapter
builds its request object, matches its router and dispatches its signals for every request,
which was about half of granian's time per chat request (HTTP2.md). `Direct` reads the request
from the ASGI messages and answers it with `direct.get` / `direct.post`, and declines everything
else (other paths and methods, `HEAD`, model lookups, a corpus not loaded yet), which
`asgi.MockASGI` then hands to Sanic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sanic_mock.core import service as direct
from sanic_mock.core.generated import EVENT_STREAM, JSON, MockAPI
from sanic_mock.errors import OpenAIError, too_large
from sanic_mock.serve.pacing import paced_asgi
from sanic_mock.serve.sanic_app import answer_head

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


def _authorization(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"authorization":
            return value.decode("latin-1")
    return None


class Direct:
    """See the module docstring. `ctx` is the Sanic app's `ctx`, where each worker's start-up
    puts its `MockAPI` (`app.create_app`)."""

    def __init__(
        self,
        ctx: Any,
        expected_auth: str | None,
        max_body_bytes: int,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        self.ctx = ctx
        self.expected_auth = expected_auth
        self.limit = max_body_bytes
        self.extra = extra

    def route(self, scope: Scope) -> Callable[[Scope, Receive, Send], Awaitable[None]] | None:
        """The handler for this request, or None for Sanic to answer it."""
        method, path = scope["method"], scope["path"]
        if not hasattr(self.ctx, "api"):  # before the worker's start-up has loaded the corpus
            return None
        if method == "POST":
            return self._post if path in direct.POSTS else None
        if method == "GET" and path in direct.GETS:
            return self._get
        return None

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        authorization = _authorization(scope["headers"])
        api: MockAPI = self.ctx.api
        await self._send(
            send, direct.get(api, self.expected_auth, scope["path"], authorization, started)
        )

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        try:
            body = await self._body(scope, receive)
        except OpenAIError as error:
            await self._send(send, direct.failed(error, f"POST {scope['path']}"))
            return
        if body is None:
            return  # the client went away before sending its request
        api: MockAPI = self.ctx.api
        authorization = _authorization(scope["headers"])
        answer = direct.post(api, self.expected_auth, scope["path"], authorization, body, started)
        if isinstance(answer, direct.Ready):
            await self._send(send, answer)
            return
        reply, request_id = answer
        if reply.frames is None:
            await asyncio.sleep(reply.first_delay - (time.monotonic() - started))
            head = answer_head(JSON, request_id, started)
            await self._send(send, direct.Ready(200, head, reply.body))
        else:
            head = answer_head(EVENT_STREAM, request_id, started)
            await paced_asgi(send, reply, [*head, *self.extra], started)

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

    async def _send(self, send: Send, answer: direct.Ready) -> None:
        status, head, body = answer
        headers = [*head, (b"content-length", b"%d" % len(body)), *self.extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
