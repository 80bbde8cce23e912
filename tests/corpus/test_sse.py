"""Reading SSE back: where an event ends, its data, and a whole stream's payloads."""

from __future__ import annotations

import pytest

from sanic_mock.corpus.sse import event_data, event_end, events


@pytest.mark.parametrize(
    ("buf", "end"),
    [
        (b"data: a\n\n", 9),
        (b"data: a\n\ndata: b\n\n", 9),
        (b"data: a\r\n\r\n", 11),
        (b"data: a\r\n\r\ndata: b\n\n", 11),
        (b"data: a\n\ndata: b\r\n\r\n", 9),
        (b": ping\n\n", 8),
        (b"data: a\n", -1),
        (b"data: a\r\n", -1),
        (b"data: a", -1),
        (b"", -1),
    ],
)
def test_event_end(buf: bytes, end: int) -> None:
    assert event_end(buf) == end


def test_event_end_takes_a_bytearray() -> None:
    buf = bytearray(b"data: x\n")
    assert event_end(buf) == -1
    buf += b"\ndata: y"
    assert event_end(buf) == 9
    assert bytes(buf[:9]) == b"data: x\n\n"


@pytest.mark.parametrize(
    ("raw", "data"),
    [
        (b"data: hello\n\n", "hello"),
        (b"data:hello\n\n", "hello"),
        (b"data:  two spaces\n\n", " two spaces"),
        (b"data: a\ndata: b\n\n", "a\nb"),
        (b"data: a\r\ndata: b\r\n\r\n", "a\nb"),
        (b"event: message\nid: 3\ndata: x\n\n", "x"),
        (b"data:\n\n", ""),
        (b"data: [DONE]\n\n", "[DONE]"),
        (b": keep-alive\n\n", None),
        (b"event: ping\n\n", None),
        (b"", None),
        (b"data: \xc3\xa9\n\n", "é"),
        (b"data: \xff\n\n", "\ufffd"),
    ],
)
def test_event_data(raw: bytes, data: str | None) -> None:
    assert event_data(raw) == data


def test_events_in_order() -> None:
    text = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'
    assert events(text) == ['{"a":1}', '{"b":2}', "[DONE]"]


def test_events_with_crlf() -> None:
    assert events("data: a\r\n\r\ndata: b\r\n\r\n") == ["a", "b"]


def test_events_drop_comment_only_events() -> None:
    assert events(": keep-alive\n\ndata: a\n\n: ping\n\ndata: b\n\n") == ["a", "b"]


def test_events_join_multi_line_data() -> None:
    assert events("data: line one\ndata: line two\n\ndata: x\n\n") == ["line one\nline two", "x"]


def test_events_keep_a_last_event_without_its_blank_line() -> None:
    assert events("data: a\n\ndata: b") == ["a", "b"]


def test_events_of_nothing() -> None:
    assert events("") == []
    assert events("\n\n\n\n") == []
