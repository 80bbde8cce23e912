"""`Reply`: when all of it can go out at once, when each part is due, and its content type."""

from __future__ import annotations

import pytest

from sanic_mock.core.reply import EVENT_STREAM, JSON, Reply


def test_body_now() -> None:
    reply = Reply(b'{"a":1}')
    assert reply.at_once() == b'{"a":1}'
    assert reply.due() == [0.0]
    assert reply.content_type == JSON == "application/json"


def test_delayed_body_waits() -> None:
    reply = Reply(b"{}", None, 0.25)
    assert reply.at_once() is None
    assert reply.due() == [0.25]
    assert reply.content_type == "application/json"


def test_delayed_body_ignores_event_delay_in_due() -> None:
    assert Reply(b"{}", None, 0.5, 0.1).due() == [0.5]


def test_unpaced_stream_is_one_write() -> None:
    reply = Reply(b"", [b"data: 1\n\n", b"data: 2\n\n"])
    assert reply.at_once() == b"data: 1\n\ndata: 2\n\n"
    assert reply.due() == [0.0, 0.0]
    assert reply.content_type == EVENT_STREAM == "text/event-stream; charset=utf-8"


def test_empty_unpaced_stream() -> None:
    reply = Reply(b"", [])
    assert reply.at_once() == b""
    assert reply.due() == []
    assert reply.content_type == EVENT_STREAM


def test_paced_stream_by_first_delay() -> None:
    reply = Reply(b"", [b"a", b"b", b"c"], 0.1)
    assert reply.at_once() is None
    assert reply.due() == [0.1, 0.1, 0.1]


def test_paced_stream_by_event_delay() -> None:
    reply = Reply(b"", [b"a", b"b", b"c"], 0.0, 0.02)
    assert reply.at_once() is None
    assert reply.due() == pytest.approx([0.0, 0.02, 0.04])


def test_paced_stream_first_and_event_delay() -> None:
    reply = Reply(b"", [b"a", b"b"], 0.1, 0.02)
    assert reply.at_once() is None
    assert reply.due() == pytest.approx([0.1, 0.12])
    assert reply.content_type == EVENT_STREAM


def test_recorded_offsets_replace_the_delays() -> None:
    reply = Reply(b"", [b"a", b"b", b"c"], 9.0, 9.0, offsets=(0.01, 0.5, 0.52))
    assert reply.at_once() is None
    assert reply.due() == [0.01, 0.5, 0.52]
    assert reply.content_type == EVENT_STREAM


def test_zero_offsets_still_wait() -> None:
    """Offsets mean recorded timing: never one write, even when all are zero."""
    reply = Reply(b"", [b"a"], offsets=(0.0,))
    assert reply.at_once() is None
    assert reply.due() == [0.0]
