"""What a recorded answer says, assembled from a stream."""

from __future__ import annotations

from sanic_mock.corpus.answers import answer, preview
from sanic_mock.corpus.exchanges import stream_finished
from tests.factories import (
    STREAM_EVENTS,
    call_item,
    message_item,
    response_exchange,
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


def test_fit_cuts_pads_and_repeats_choices() -> None:
    from sanic_mock.corpus.answers import Answer, ChoiceAnswer, fit

    said = ChoiceAnswer(0, "One two three.", True, finish_reason="stop", logprobs={"content": []})
    cut = ChoiceAnswer(0, "Ab cd", True, finish_reason="length")
    call = ChoiceAnswer(0, tool_calls=[{"id": "call_1"}], finish_reason="tool_calls")
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    short = fit(Answer([said], usage=usage), 2, 1)
    assert [(c.text, c.finish_reason, c.logprobs) for c in short.choices] == [
        ("One two", "length", None)
    ]
    assert short.usage is None  # counted again by the renderer
    assert fit(Answer([said]), None, 2).choices[1] == ChoiceAnswer(
        1, "One two three.", True, finish_reason="stop", logprobs={"content": []}
    )
    padded = fit(Answer([cut]), 5, 1).choices[0]
    assert (padded.text, padded.finish_reason) == ("Ab cdAb cdAb", "length")
    assert fit(Answer([call]), 1, 1).choices[0].tool_calls == [{"id": "call_1"}]


def test_preview_of_responses_answers() -> None:
    ask = {"model": "gpt-4o", "input": "x"}
    assert preview(response_exchange(ask, [message_item("Hello\nthere")])) == "'Hello there'"
    streamed = response_exchange(ask, [call_item()], stream=True)
    assert preview(streamed) == "function calls: get_weather"
