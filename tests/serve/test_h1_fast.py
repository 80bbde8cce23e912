"""`h1_direct`: the hot routes answered inside Sanic's HTTP/1.1 protocol.

`parse` and the response bytes are checked without a server; the rest against the real server
over raw sockets, since what matters is the bytes on the wire: the same answers as Sanic's own
routes (`-v` serves through Sanic's protocol), requests split or pipelined, requests handed to
Sanic midway, and answers that wait."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import time
from collections.abc import Iterator

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sanic import Sanic

from sanic_mock import endpoints
from sanic_mock.core.answerers import service_for
from sanic_mock.core.service import Ready
from sanic_mock.serve.h1 import response_bytes
from sanic_mock.serve.h1_fast import HOLD, DirectProtocol, Request, Wait, parse
from sanic_mock.serve.sanic_app import create_app
from tests import factories
from tests.servers import Server, running

COMMON = ("--pregen-count", "64", "--seed", "11")
CHAT = json.dumps(
    {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
).encode()
STREAM = json.dumps(
    {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": True}
).encode()
MAX_HEAD, MAX_BODY = 8192, 1 << 20


def post(path: str, body: bytes, *extra: str) -> bytes:
    head = [f"POST {path} HTTP/1.1", "host: t", f"content-length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def get(path: str, *extra: str) -> bytes:
    return ("\r\n".join([f"GET {path} HTTP/1.1", "host: t", *extra]) + "\r\n\r\n").encode()


# -- parse, without a server -----------------------------------------------------------------


def test_parse_reads_a_post_and_its_size() -> None:
    raw = post("/v1/chat/completions", CHAT, "Authorization:  Bearer k1", "authorization: k2")
    found = parse(bytearray(raw + get("/health")), MAX_HEAD, MAX_BODY)
    assert found == Request(endpoints.CHAT, "Bearer k1", CHAT, len(raw))


def test_parse_reads_a_get() -> None:
    raw = get("/v1/models", "Connection: Keep-Alive", "content-length: 0")
    assert parse(bytearray(raw), MAX_HEAD, MAX_BODY) == Request(
        endpoints.MODELS, None, b"", len(raw)
    )


@pytest.mark.parametrize("cut", [1, 20, 60, -1])
def test_parse_waits_for_the_rest_of_a_request(cut: int) -> None:
    raw = post("/v1/embeddings", b'{"input": "x", "model": "m"}')
    assert parse(bytearray(raw[:cut]), MAX_HEAD, MAX_BODY) is Wait.MORE


@pytest.mark.parametrize(
    "raw",
    [
        get("/v1/models/m"),  # a model lookup
        get("/health?x=1"),
        get("/v1/chat/completions"),  # the wrong method: Sanic's 405
        b"HEAD /health HTTP/1.1\r\n\r\n",
        b"GET /health HTTP/1.0\r\n\r\n",
        b"GET  /health HTTP/1.1\r\n\r\n",
        get("/health", "connection: close"),
        get("/health", "upgrade: websocket"),
        get("/health", "content-length: 3") + b"abc",  # a GET with a body
        get("/health", "no colon here"),
        post("/v1/chat/completions", CHAT, "content-length: 9"),  # two lengths
        post("/v1/chat/completions", CHAT, "expect: 100-continue"),
        post("/v1/chat/completions", CHAT, "transfer-encoding: chunked"),
        post("/v1/chat/completions", CHAT).replace(b"content-length: ", b"content-length: +"),
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: t\r\n\r\n",  # no length: Sanic's
        post("/v1/chat/completions", b"x" * (MAX_BODY + 1)),  # over the limit: Sanic's 413
        post("/v1/chat/completions", b"x" * HOLD)[: HOLD // 2],  # big, not all here: Sanic reads it
        get("/health", "x-big: " + "a" * MAX_HEAD),  # a head over the limit: Sanic's 413
        b"x" * MAX_HEAD,  # no end of head within the limit
    ],
)
def test_parse_leaves_everything_else_to_sanic(raw: bytes) -> None:
    assert parse(bytearray(raw), MAX_HEAD, MAX_BODY) is None


_NAMES = [b"authorization", b"Authorization", b"connection", b"Connection", b"transfer-encoding"]
_NAMES += [b"expect", b"upgrade", b"x-other", b"content-length ", b"Content-Length"]
_VALUES = [
    b"keep-alive",
    b"Keep-Alive",
    b"close",
    b"Bearer k",
    b" \tBearer k ",
    b"\xc2\xa0Bearer k",
]
_VALUES += [b"chunked", b"100-continue", b"0", b"3", b"+3", b"3 ", b" 3", b"03", b"", b"x"]


@settings(max_examples=500, deadline=None, derandomize=True)
@given(
    method=st.sampled_from([b"GET", b"POST", b"HEAD", b"get"]),
    target=st.sampled_from([b"/health", b"/v1/models", b"/v1/chat/completions", b"/v1/embeddings"]),
    version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"]),
    headers=st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=3),
    length=st.sampled_from([b"exact", b"exact", b"exact", None, b"3", b"03", b" 3 ", b"x"]),
    body=st.binary(max_size=6),
    rest=st.sampled_from([b"", b"GET /health HTTP/1.1\r\n\r\n", b"0\r\n\r\n"]),
)
def test_parse_reads_what_a_strict_parser_reads(
    method: bytes,
    target: bytes,
    version: bytes,
    headers: list[tuple[bytes, bytes]],
    length: bytes | None,
    body: bytes,
    rest: bytes,
) -> None:
    """Whatever `parse` answers itself, h11 (a strict HTTP/1.1 parser) reads the same way: the
    same method, path, credentials and body, the next request starting at the same byte, and a
    connection that stays open without a 100-continue. (Requests h11 refuses may still be
    parsed: Sanic is lenient too.)"""
    head = [method + b" " + target + b" " + version, b"host: t"]
    if length is not None:
        head.append(b"content-length: " + (b"%d" % len(body) if length == b"exact" else length))
    head += [name + b": " + value for name, value in headers]
    raw = b"\r\n".join(head) + b"\r\n\r\n" + body + rest
    found = parse(bytearray(raw), MAX_HEAD, MAX_BODY)
    if not isinstance(found, Request):
        return
    server = h11.Connection(h11.SERVER)
    server.receive_data(raw)
    try:
        event = server.next_event()
        assert isinstance(event, h11.Request)
        request, parts = event, []
        while not isinstance(event := server.next_event(), h11.EndOfMessage):
            assert isinstance(event, h11.Data), f"h11 wants more than parse took: {event}"
            parts.append(event.data)
    except h11.RemoteProtocolError:
        return
    assert (request.method.decode(), request.target.decode()) == (
        found.endpoint.method,
        found.endpoint.path,
    )
    assert b"".join(parts) == found.body
    assert len(raw) - len(server.trailing_data[0]) == found.size

    def sent(name: bytes) -> list[bytes]:
        return [value for header, value in request.headers if header == name]

    # The first one counts. Sanic strips any Unicode space on the left, h11 ASCII spaces.
    authorization = next(
        (v.decode(errors="surrogateescape").strip() for v in sent(b"authorization")), None
    )
    assert authorization == (found.authorization and found.authorization.rstrip())
    assert request.http_version == b"1.1" and not server.they_are_waiting_for_100_continue
    assert not any(b"close" in v for v in sent(b"connection")) and not sent(b"transfer-encoding")


def test_response_bytes_are_sanics_framing() -> None:
    answer = Ready(401, ((b"content-type", b"application/json"),), b"{}")
    assert response_bytes(answer) == (
        b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n"
        b"content-length: 2\r\nconnection: keep-alive\r\n\r\n{}"
    )


# -- the protocol in process, on a fake transport ---------------------------------------------


class FakeTransport:
    def __init__(self) -> None:
        self.written = b""
        self.reading = True

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


def test_nothing_is_answered_while_the_client_does_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the transport's buffer is full (`pause_writing`), requests are held, and reading
    stops once more than `HOLD` bytes wait; `resume_writing` answers them in order."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    settings = factories.settings(pregen_count=16)
    app = create_app(settings)
    app.ctx.service = service_for(settings)

    async def go() -> None:
        protocol = DirectProtocol(loop=asyncio.get_running_loop(), app=app)
        transport = FakeTransport()
        protocol.transport, protocol.recv_buffer = transport, bytearray()  # type: ignore[assignment]
        protocol.data_received(get("/health"))
        assert transport.written.endswith(b'{"status":"ok"}')
        transport.written = b""
        protocol.pause_writing()
        protocol.data_received(get("/health") + get("/v1/models"))
        assert transport.written == b"" and transport.reading
        big = json.dumps({"model": "m", "input": "x" * HOLD}).encode()
        protocol.data_received(post("/v1/embeddings", big))
        assert transport.written == b"" and not transport.reading
        protocol.resume_writing()
        assert transport.reading
        answers = transport.written.split(b"HTTP/1.1 200 OK")
        assert len(answers) == 4
        assert b"status" in answers[1] and b'"model"' in answers[2] and b"embedding" in answers[3]

    asyncio.run(go())


# -- the real server, over raw sockets --------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)


class Conn:
    """One keep-alive connection: raw bytes out, whole HTTP/1.1 answers in."""

    def __init__(self, server: Server) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=20)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            self._more()
        found, self.buf = self.buf.split(sep, 1)
        return found

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more()
        found, self.buf = self.buf[:n], self.buf[n:]
        return found

    def answer(self) -> Answer:
        lines = self._until(b"\r\n\r\n").decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = [(n.lower(), v.strip()) for n, v in (line.split(":", 1) for line in lines[1:])]
        found = Answer(status, headers, b"")
        if status == 100:
            return found
        if found.header("transfer-encoding") == "chunked":
            while size := int(self._until(b"\r\n"), 16):
                found.body += self._exactly(size)
                assert self._exactly(2) == b"\r\n"
            assert self._exactly(2) == b"\r\n"
        else:
            found.body = self._exactly(int(found.header("content-length") or 0))
        return found

    def closed(self) -> bool:
        try:
            self._more()
        except (EOFError, ConnectionError):
            return True
        return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Server, Server]]:
    """The direct path, and the same server through Sanic's own protocol (`-v`)."""
    with (
        running(*COMMON, "--api-key", "k") as fast,
        running(*COMMON, "--api-key", "k", "-v") as slow,
    ):
        yield fast, slow


@pytest.fixture
def conn(servers: tuple[Server, Server]) -> Iterator[Conn]:
    found = Conn(servers[0])
    yield found
    found.close()


AUTH = "authorization: Bearer k"
SAME_AS_SANIC = [
    get("/health"),
    get("/v1/models", AUTH),
    get("/v1/models"),  # 401
    get("/v1/models", "authorization: Bearer wrong-key-1234"),
    post("/v1/chat/completions", CHAT, AUTH),
    post("/v1/chat/completions", STREAM, AUTH),
    post("/v1/completions", b'{"model": "m", "prompt": "hi", "max_tokens": 4}', AUTH),
    post("/v1/embeddings", b'{"model": "m", "input": ["a", "b"], "dimensions": 4}', AUTH),
    post("/v1/chat/completions", b"{nope", AUTH),  # 400
    post("/v1/chat/completions", b'{"model": "m", "messages": []}', AUTH),
    post("/v1/chat/completions", b'{"model": "m", "messages": [], "n": "x"}'),  # 401 first
]
# Values that differ between any two answers: ids, clocks, per-process obfuscation padding.
_VARYING = re.compile(rb'("(?:id|created|obfuscation)":)("[^"]*"|\d+)')


def _normal(answer: Answer) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers (in any order) and body, with the values that vary starred."""
    headers = [
        (n, "*" if n in ("x-request-id", "openai-processing-ms") else v) for n, v in answer.headers
    ]
    return answer.status, sorted(headers), _VARYING.sub(rb"\1*", answer.body)


@pytest.mark.parametrize("raw", SAME_AS_SANIC, ids=lambda raw: raw.split(b"\r\n")[0].decode())
def test_same_answers_as_through_sanic(servers: tuple[Server, Server], raw: bytes) -> None:
    answers = []
    for server in servers:
        conn = Conn(server)
        conn.send(raw)
        answers.append(_normal(conn.answer()))
        conn.close()
    assert answers[0] == answers[1]
    assert ("connection", "keep-alive") in answers[0][1]


def test_a_request_in_small_pieces(conn: Conn) -> None:
    raw = post("/v1/chat/completions", CHAT, AUTH)
    for k in range(0, len(raw), 7):
        conn.send(raw[k : k + 7])
        time.sleep(0.002)
    answer = conn.answer()
    assert answer.status == 200 and json.loads(answer.body)["object"] == "chat.completion"


def test_pipelined_requests_are_answered_in_order_whoever_answers(conn: Conn) -> None:
    chunked = b"POST /v1/embeddings HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n"
    chunked += AUTH.encode() + b"\r\n\r\n1d\r\n" + b'{"model": "m", "input": "abc"}'[:29]
    chunked += b"\r\n1\r\n}\r\n0\r\n\r\n"
    conn.send(
        post("/v1/chat/completions", CHAT, AUTH)
        + get("/v1/models/gpt-4o", AUTH)  # Sanic's
        + get("/health")
        + chunked  # Sanic's
        + get("/nowhere")  # Sanic's 404
        + post("/v1/completions", b'{"model": "m", "prompt": "x", "max_tokens": 2}', AUTH)
    )
    objects = []
    for _ in range(6):
        answer = conn.answer()
        objects.append((answer.status, json.loads(answer.body).get("object")))
    assert objects == [
        (200, "chat.completion"),
        (200, "model"),
        (200, None),
        (200, "list"),
        (404, None),
        (200, "text_completion"),
    ]


def test_requests_sanic_answers_on_the_same_connection(conn: Conn) -> None:
    body = json.dumps({"model": "m", "input": "x" * (2 * HOLD)}).encode()
    conn.send(post("/v1/embeddings", body, AUTH)[: HOLD // 2])  # big, arriving in parts
    time.sleep(0.05)
    conn.send(post("/v1/embeddings", body, AUTH)[HOLD // 2 :])
    assert conn.answer().status == 200
    conn.send(post("/v1/chat/completions", CHAT, AUTH, "expect: 100-continue"))
    assert conn.answer().status == 100
    assert json.loads(conn.answer().body)["object"] == "chat.completion"
    conn.send(get("/health"))  # after Sanic's answers, the direct path again
    assert conn.answer().body == b'{"status":"ok"}'
    conn.send(get("/health", "connection: close"))
    answer = conn.answer()
    assert answer.header("connection") == "close" and conn.closed()


def test_http_1_0_is_answered_and_closed(servers: tuple[Server, Server]) -> None:
    conn = Conn(servers[0])
    conn.send(b"GET /health HTTP/1.0\r\n\r\n")
    assert conn.answer().body == b'{"status":"ok"}'
    assert conn.closed()
    conn.close()


@pytest.fixture(scope="module")
def paced() -> Iterator[Server]:
    with running(*COMMON, "--response-delay-ms", "40", "--first-token-delay-ms", "60") as server:
        yield server


def test_requests_behind_a_paced_answer_wait_for_it(paced: Server) -> None:
    conn = Conn(paced)
    start = time.monotonic()
    conn.send(
        post("/v1/chat/completions", STREAM) + get("/health") + post("/v1/chat/completions", CHAT)
    )
    stream = conn.answer()
    stream_done = time.monotonic() - start
    assert stream.header("transfer-encoding") == "chunked"
    assert stream.body.endswith(b"data: [DONE]\n\n") and stream.body.count(b"data: ") == 8
    # 5 tokens, 5 steps: the role chunk leaves with the first, finish and [DONE] with the last
    assert stream_done >= 0.06 + 4 * 0.04 - 0.002
    assert conn.answer().body == b'{"status":"ok"}'
    delayed = conn.answer()  # a JSON answer waits as long as its stream would have taken
    assert json.loads(delayed.body)["object"] == "chat.completion"
    assert time.monotonic() - start >= stream_done + 0.06 + 4 * 0.04 - 0.002
    conn.close()


def test_a_client_leaving_mid_stream_leaves_the_server_well(paced: Server) -> None:
    for _ in range(3):
        conn = Conn(paced)
        conn.send(post("/v1/chat/completions", STREAM) + get("/health"))
        conn._until(b"\r\n\r\n")  # the head and the first event have arrived
        conn.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        conn.close()  # a reset, mid-stream
    conn = Conn(paced)
    conn.send(get("/health"))
    assert conn.answer().status == 200
    conn.close()


def test_stopping_with_an_open_paced_stream_ends_cleanly() -> None:
    with running(*COMMON, "--response-delay-ms", "200") as server:
        conn = Conn(server)
        conn.send(
            post("/v1/chat/completions", STREAM.replace(b'"max_tokens": 5', b'"max_tokens": 40'))
        )
        conn._until(b"\r\n\r\n")
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=20)
        output = server.output()
        conn.close()
    assert server.process.returncode == 0
    assert "Traceback" not in output and "Error" not in output, output
