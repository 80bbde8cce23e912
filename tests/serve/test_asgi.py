"""`serve/asgi.py` in process. `MockASGI` against a fake ASGI app and server queue:
content-length, the body limit on both paths (declared and counted), and the drain that keeps
h2/h3 connections alive after an early answer. `Direct`: the hot routes answered without Sanic
give what Sanic's ASGI path gives for the same request (status, headers, bytes), errors and
limits included. The protocol battery (`tests/protocol/`) checks the same against real servers
and clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from sanic import Sanic

from sanic_mock.corpus import io
from sanic_mock.corpus.format import Corpus
from sanic_mock.errors import PayloadTooLarge
from sanic_mock.serve.asgi import Message, MockASGI, Receive, Scope, Send, asgi_app
from sanic_mock.settings import Settings
from tests import factories
from tests.factories import chat_request, json_exchange

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


# -- Direct: the hot routes without Sanic, against Sanic's ASGI path --------------------------

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": 3}
LIMIT = 2000


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[MockASGI]:
    """The wrapped app after its lifespan start-up (which loads the corpus), shut down after."""
    app = asgi_app(settings)
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})

    async def send(message: Message) -> None:
        await outbox.put(message)

    task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await task


async def call(
    app: MockASGI,
    method: str,
    path: str,
    chunks: list[bytes] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    version: str = "2",
) -> tuple[list[Message], int]:
    """One request; what the app sent, and how many request messages it read."""
    chunks = chunks or [b""]
    pending: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    total = len(pending)
    sent: list[Message] = []

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)  # a client that keeps the stream open
        raise AssertionError

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": version,
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 3000),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return sent, total - len(pending)


def both(settings: Settings, request: Callable[[MockASGI], Any]) -> tuple[Any, Any]:
    """`request(app)` answered by the direct path, then by Sanic (the direct path off)."""

    async def go() -> tuple[Any, Any]:
        async with started(settings) as app:
            assert app.direct is not None
            direct = await request(app)
            app.direct = None
            return direct, await request(app)

    return asyncio.run(go())


def shape(sent: list[Message]) -> tuple[int, list[bytes], list[bytes]]:
    """Status, header names in order, and the body messages (ids and clocks vary by call)."""
    start, *body = sent
    assert start["type"] == "http.response.start"
    return start["status"], [name for name, _ in start["headers"]], [m["body"] for m in body]


def stable(raw: bytes) -> Any:
    doc = orjson.loads(raw)
    if isinstance(doc, dict):
        doc.pop("id", None)
        doc.pop("created", None)
    return doc


SETTINGS = factories.settings(pregen_count=16, max_body_bytes=LIMIT)


@pytest.fixture(autouse=True)
def many_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test builds its own app under the same name."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/health", None),
        ("GET", "/v1/models", None),
        ("POST", "/v1/chat/completions", CHAT),
        ("POST", "/v1/completions", {"model": "m", "prompt": "Once", "seed": 3}),
        ("POST", "/v1/embeddings", {"model": "m", "input": "hi"}),
        ("POST", "/v1/chat/completions", {"model": "m"}),  # 400: messages missing
        ("POST", "/v1/chat/completions", "not json"),
    ],
)
def test_same_answer_as_sanic(method: str, path: str, body: Any) -> None:
    raw = (
        None if body is None else orjson.dumps(body) if not isinstance(body, str) else body.encode()
    )
    direct, sanic = both(
        SETTINGS, lambda app: call(app, method, path, None if raw is None else [raw])
    )
    (d_status, d_names, d_body), (s_status, s_names, s_body) = shape(direct[0]), shape(sanic[0])
    assert (d_status, d_names) == (s_status, s_names)
    assert len(d_body) == len(s_body) == 1
    assert stable(d_body[0]) == stable(s_body[0])


def test_same_unpaced_stream_as_sanic() -> None:
    raw = orjson.dumps({**CHAT, "stream": True, "max_tokens": 5})
    direct, sanic = both(SETTINGS, lambda app: call(app, "POST", "/v1/chat/completions", [raw]))
    assert shape(direct[0])[:2] == shape(sanic[0])[:2]
    events = [
        [stable(e[6:]) for e in shape(sent)[2][0].split(b"\n\n")[:-2]]
        for sent, _ in (direct, sanic)
    ]
    assert events[0] == events[1] and len(events[0]) == 1 + 5 + 1


def test_paced_stream_sends_one_message_per_frame() -> None:
    settings = factories.settings(pregen_count=16, response_delay_ms=5)
    raw = orjson.dumps({**CHAT, "stream": True, "max_tokens": 4})
    direct, sanic = both(settings, lambda app: call(app, "POST", "/v1/chat/completions", [raw]))
    assert shape(direct[0])[:2] == shape(sanic[0])[:2]
    assert b"content-length" not in shape(direct[0])[1]
    frames = shape(direct[0])[2]
    assert len(frames) == 4 and frames[-1].endswith(b"data: [DONE]\n\n")
    assert [m.get("more_body") for m in direct[0][1:]] == [True, True, True, False]


def test_api_key_checked_as_sanic_does() -> None:
    settings = factories.settings(pregen_count=16, api_key="sk-right-key-1234")
    for auth in ([], [(b"authorization", b"Bearer sk-wrong-key-9999")]):
        direct, sanic = both(
            settings,
            lambda app, auth=auth: call(
                app, "POST", "/v1/chat/completions", [orjson.dumps(CHAT)], auth
            ),
        )
        assert shape(direct[0])[0] == 401
        assert shape(direct[0])[:2] == shape(sanic[0])[:2]
        assert shape(direct[0])[2] == shape(sanic[0])[2]
    good = [(b"authorization", b"Bearer sk-right-key-1234")]
    direct, _ = both(
        settings, lambda app: call(app, "POST", "/v1/chat/completions", [orjson.dumps(CHAT)], good)
    )
    assert shape(direct[0])[0] == 200


@pytest.mark.parametrize("declared", [True, False])
def test_body_over_the_limit_is_413_after_the_rest_is_read(declared: bool) -> None:
    chunks = [b"x" * 1000] * 5  # 5000 bytes against a 2000-byte limit
    headers = [(b"content-length", b"5000")] if declared else []
    direct, sanic = both(
        SETTINGS, lambda app: call(app, "POST", "/v1/chat/completions", chunks, headers)
    )
    for sent, read in (direct, sanic):
        assert shape(sent)[0] == 413
        assert read == len(chunks)  # drained: an h2 connection stays healthy
    assert shape(direct[0])[1:] == shape(sanic[0])[1:]


def test_other_requests_go_to_sanic() -> None:
    async def go() -> list[bool]:
        async with started(SETTINGS) as app:
            assert app.direct is not None
            return [
                app.direct.route({"method": m, "path": p}) is not None
                for m, p in [
                    ("GET", "/health"),
                    ("POST", "/v1/chat/completions"),
                    ("HEAD", "/health"),
                    ("GET", "/v1/models/m"),
                    ("GET", "/v1/chat/completions"),
                    ("POST", "/v1/other"),
                ]
            ]

    assert asyncio.run(go()) == [True, True, False, False, False, False]


def test_a_recorded_corpus_answers_on_the_direct_path_too(tmp_path: Path) -> None:
    """`serve --corpus recorded.msgpack` under hypercorn or granian replays the recording."""
    path = tmp_path / "recorded.msgpack"
    exchange = json_exchange("hello there", "General Kenobi.")
    io.write(path, Corpus(kind="recorded", generator={}, exchanges=(exchange,)))
    raw = orjson.dumps(chat_request("hello there"))
    settings = factories.settings(corpus=path, on_miss="error")
    direct, sanic = both(settings, lambda app: call(app, "POST", "/v1/chat/completions", [raw]))
    for sent, _ in (direct, sanic):
        status, _, body = shape(sent)
        assert status == 200
        assert orjson.loads(body[0])["choices"][0]["message"]["content"] == "General Kenobi."
