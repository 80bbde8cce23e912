"""What a recorded answer says, assembled from a stream."""

from __future__ import annotations

from sanic_mock.corpus.answers import answer
from sanic_mock.corpus.exchanges import stream_finished
from tests.factories import (
    STREAM_EVENTS,
    stream_exchange,
)


def test_stream_assembles_content_and_tool_calls() -> None:
    ans = answer(stream_exchange())
    (choice,) = ans.choices
    assert choice.text == "Hello" and choice.finish_reason == "tool_calls"
    assert choice.tool_calls == [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    ]
    assert stream_finished(STREAM_EVENTS) and not stream_finished(STREAM_EVENTS[:2])
