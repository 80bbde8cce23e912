"""Matching requests to recorded exchanges: keys, repeats, samples, explanations."""

from __future__ import annotations

from sanic_mock.corpus.answers import answer
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.index import STREAM, USAGE, Index, request_key, shape_of
from tests.factories import (
    CHAT,
    chat_request,
    chunk,
    json_exchange,
)


def test_keys_ignore_streaming_and_volatile_fields_only() -> None:
    base = request_key(CHAT, chat_request(), frozenset({"stream", "user"}))
    same = chat_request(stream=True, user="u", temperature=1.0)
    assert request_key(CHAT, same, frozenset({"stream", "user"})) != base  # temperature counts
    assert (
        request_key(CHAT, chat_request(stream=True, user="x"), frozenset({"stream", "user"}))
        == base
    )
    assert request_key(CHAT, chat_request(temperature=1), frozenset()) == request_key(
        CHAT, chat_request(temperature=1.0), frozenset()
    )
    tools = chat_request(tools=[{"type": "function", "function": {"name": "f"}}])
    assert request_key(CHAT, tools, frozenset()) != request_key(CHAT, chat_request(), frozenset())


def test_repeats_walk_through_answers_then_cycle() -> None:
    index = Index([json_exchange("q", "one"), json_exchange("q", "two")])
    found = [index.match(CHAT, chat_request("q")) for _ in range(5)]
    texts = [answer(f.exchange).choices[0].text for f in found if f is not None]
    assert texts == ["one", "two", "one", "two", "one"]
    assert [f.number for f in found if f is not None] == [0, 1, 0, 1, 0]
    assert index.match(CHAT, chat_request("other")) is None


def test_incomplete_exchanges_are_not_served() -> None:
    cut = Exchange(CHAT, 200, chat_request("q"), events=("{}",), times_us=(1,), complete=False)
    assert Index([cut]).match(CHAT, chat_request("q")) is None


def test_sample_is_stable_per_request_and_explain_names_fields() -> None:
    index = Index([json_exchange(str(i), str(i), temperature=0.5) for i in range(6)])
    picks = {index.sample(CHAT, chat_request("zzz")) for _ in range(3)}
    assert None not in picks
    assert len(picks) == 1
    message, param = index.explain(CHAT, chat_request("3", temperature=0.7))
    assert "exchange 3" in message and "temperature (recorded 0.5, got 0.7)" in message
    assert param == "temperature"
    message, _ = index.explain("/v1/embeddings", {"input": "x"})
    assert "No recorded exchange for /v1/embeddings" in message


def _recorded(content: str, text: str, **extra: object) -> Exchange:
    ex = json_exchange(content, text, **extra)
    if not extra.get("stream"):
        return ex
    return Exchange(
        CHAT,
        200,
        ex.request,
        events=(chunk({"content": text}), "[DONE]"),
        times_us=(1, 2),
        model="gpt-4o-mini",
    )


def test_a_request_prefers_a_recording_of_its_own_stream_shape() -> None:
    usage = {"include_usage": True}
    index = Index(
        [
            _recorded("q", "plain one"),
            _recorded("q", "streamed", stream=True),
            _recorded("q", "plain two"),
            _recorded("q", "with usage", stream=True, stream_options=usage),
        ]
    )

    def text(**extra: object) -> str:
        found = index.match(CHAT, chat_request("q", **extra))
        assert found is not None
        return answer(found.exchange).choices[0].text

    # each kind keeps its own cursor, in recorded order
    assert [text() for _ in range(3)] == ["plain one", "plain two", "plain one"]
    assert [text(stream=True) for _ in range(2)] == ["streamed", "streamed"]
    assert text(stream=True, stream_options=usage) == "with usage"
    # stream_options of a plain request do not count
    assert text(stream=False, stream_options=usage) == "plain two"


def test_the_other_kind_is_used_only_when_none_of_the_same_was_recorded() -> None:
    usage = {"include_usage": True}
    only_stream = Index([_recorded("q", "streamed", stream=True)])
    found = only_stream.match(CHAT, chat_request("q"))
    assert found is not None and found.exchange.streamed
    only_usage = Index(
        [_recorded("q", "u", stream=True, stream_options=usage), _recorded("q", "p")]
    )
    found = only_usage.match(CHAT, chat_request("q", stream=True))
    assert found is not None and found.number == 0  # same stream, other include_usage first
    assert shape_of(chat_request("q", stream=True, stream_options=usage)) == STREAM | USAGE
    assert shape_of({"stream": "yes"}) == 0
