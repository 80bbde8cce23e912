"""HTTP/1.1 response bytes: the status line and headers, a whole response, a stream's chunks."""

from __future__ import annotations

from sanic_mock.core.service import Ready
from sanic_mock.serve.h1 import CHUNKED, LAST_CHUNK, chunked, head_bytes, response_bytes

HEAD = ((b"content-type", b"application/json"), (b"x-request-id", b"req_1"))


def test_head_bytes() -> None:
    assert head_bytes(200, HEAD, b"\r\n") == (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req_1\r\n\r\n"
    )


def test_head_bytes_with_chunked_framing() -> None:
    assert head_bytes(200, ((b"content-type", b"text/event-stream"),), CHUNKED) == (
        b"HTTP/1.1 200 OK\r\n"
        b"content-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\n"
        b"connection: keep-alive\r\n"
        b"\r\n"
    )


def test_head_bytes_without_headers() -> None:
    assert head_bytes(404, (), b"\r\n") == b"HTTP/1.1 404 Not Found\r\n\r\n"


def test_response_bytes() -> None:
    answer = Ready(200, HEAD, b'{"a":1}')
    assert response_bytes(answer) == (
        b"HTTP/1.1 200 OK\r\n"
        b"content-type: application/json\r\n"
        b"x-request-id: req_1\r\n"
        b"content-length: 7\r\n"
        b"connection: keep-alive\r\n"
        b"\r\n"
        b'{"a":1}'
    )


def test_response_bytes_of_an_error() -> None:
    answer = Ready(401, ((b"content-type", b"application/json"),), b"{}")
    assert response_bytes(answer) == (
        b"HTTP/1.1 401 Unauthorized\r\n"
        b"content-type: application/json\r\n"
        b"content-length: 2\r\n"
        b"connection: keep-alive\r\n"
        b"\r\n"
        b"{}"
    )


def test_response_bytes_of_an_empty_body() -> None:
    assert response_bytes(Ready(500, (), b"")) == (
        b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"
    )


def test_chunked_frames_alone() -> None:
    assert chunked([b"data: a\n\n", b"x" * 17]) == [
        b"9\r\ndata: a\n\n\r\n",
        b"11\r\n" + b"x" * 17 + b"\r\n",
    ]


def test_chunked_with_head_and_end() -> None:
    assert chunked([b"ab", b"cde"], b"HEAD", LAST_CHUNK) == [
        b"HEAD2\r\nab\r\n",
        b"3\r\ncde\r\n0\r\n\r\n",
    ]


def test_chunked_one_frame_gets_both() -> None:
    assert chunked([b"ab"], b"H", b"E") == [b"H2\r\nab\r\nE"]


def test_chunked_head_only() -> None:
    assert chunked([b"ab", b"c"], b"H") == [b"H2\r\nab\r\n", b"1\r\nc\r\n"]


def test_chunked_no_frames() -> None:
    assert chunked([]) == []
    assert chunked([], b"H", b"E") == [b"HE"]
    assert chunked([], b"", LAST_CHUNK) == [b"0\r\n\r\n"]
    assert chunked([], b"H") == [b"H"]


def test_chunked_does_not_change_its_input() -> None:
    frames = [b"a", b"b"]
    chunked(frames, b"H", b"E")
    assert frames == [b"a", b"b"]
