"""`MockASGI` against a fake ASGI app and server queue: content-length, the body limit on both
paths (declared and counted), and the drain that keeps h2/h3 connections alive after an early
answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sanic_mock.errors import PayloadTooLarge
from sanic_mock.serve.asgi import Message, MockASGI, Receive, Scope, Send

App = Callable[[Scope, Receive, Send], Awaitable[None]]


def scope(version: str = "1.1", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "http_version": version,
        "method": "POST",
        "headers": headers or [],
    }


def run(
    app: App, scope: Scope, request: list[Message], alt_svc: str | None = None
) -> tuple[list[Message], int]:
    """Serve one request to `MockASGI(app)`; return what it sent and how many messages of
    `request` were consumed."""
    sent: list[Message] = []
    pending = list(request)

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(MockASGI(app, max_body_bytes=100, alt_svc=alt_svc)(scope, receive, send))
    return sent, len(request) - len(pending)


def answer(body: bytes, *, more: list[bytes] | None = None) -> App:
    """An app that reads the whole request, then answers `body` (and `more` chunks after it)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        chunks = [body, *(more or [])]
        for i, chunk in enumerate(chunks):
            await send(
                {"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1}
            )

    return app


def headers_of(message: Message) -> dict[bytes, bytes]:
    return dict(message["headers"])


def body(data: bytes, more: bool = False) -> Message:
    return {"type": "http.request", "body": data, "more_body": more}


def test_content_length_on_single_message_bodies() -> None:
    sent, _ = run(answer(b"hello"), scope(), [body(b"{}")], alt_svc='h3=":443"')
    assert headers_of(sent[0]) == {b"content-length": b"5", b"alt-svc": b'h3=":443"'}
    assert sent[1]["body"] == b"hello"


def test_streams_stay_open_ended() -> None:
    sent, _ = run(answer(b"a", more=[b"b", b""]), scope(), [body(b"{}")])
    assert b"content-length" not in headers_of(sent[0])
    assert [m["body"] for m in sent[1:]] == [b"a", b"b", b""]


def failing_app(seen: list[BaseException]) -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except PayloadTooLarge as exc:
            seen.append(exc)
            await send({"type": "http.response.start", "status": 413, "headers": []})
            await send({"type": "http.response.body", "body": b"too large"})

    return app


def test_declared_length_over_limit_fails_before_reading() -> None:
    seen: list[BaseException] = []
    big = scope(headers=[(b"content-length", b"101")])
    sent, consumed = run(failing_app(seen), big, [body(b"x" * 101)])
    assert len(seen) == 1 and seen[0].code == "request_too_large"  # type: ignore[attr-defined]
    assert consumed == 0  # HTTP/1.1: nothing read; the server closes the connection
    assert sent[0]["status"] == 413


def test_counted_length_over_limit_fails_while_arriving() -> None:
    seen: list[BaseException] = []
    parts = [body(b"x" * 60, more=True), body(b"x" * 60, more=True), body(b"x" * 60)]
    sent, consumed = run(failing_app(seen), scope(), parts)
    assert len(seen) == 1 and consumed == 2
    assert sent[0]["status"] == 413


@pytest.mark.parametrize("version", ["2", "3"])
def test_multiplexed_early_answer_waits_for_the_whole_request(version: str) -> None:
    seen: list[BaseException] = []
    big = scope(version, headers=[(b"content-length", b"180")])
    parts = [body(b"x" * 60, more=True), body(b"x" * 60, more=True), body(b"x" * 60)]
    sent, consumed = run(failing_app(seen), big, parts)
    assert consumed == 3  # read and dropped before the answer ended the stream
    assert sent[0]["status"] == 413 and sent[-1]["body"] == b"too large"


def test_lifespan_passes_through() -> None:
    calls: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["type"])

    asyncio.run(MockASGI(app, 100)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert calls == ["lifespan"]
