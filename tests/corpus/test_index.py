"""Matching requests to recorded exchanges: keys, repeats, samples, explanations."""

from __future__ import annotations

from sanic_mock.corpus.answers import answer
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.index import Index, request_key
from tests.factories import (
    CHAT,
    chat_request,
    json_exchange,
    stream_exchange,
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
    texts = [
        answer(index.match(CHAT, chat_request("q")) or stream_exchange()).choices[0].text
        for _ in range(5)
    ]
    assert texts == ["one", "two", "one", "two", "one"]
    assert index.match(CHAT, chat_request("other")) is None


def test_incomplete_exchanges_are_not_served() -> None:
    cut = Exchange(CHAT, 200, chat_request("q"), events=("{}",), times_us=(1,), complete=False)
    assert Index([cut]).match(CHAT, chat_request("q")) is None


def test_sample_is_stable_per_request_and_explain_names_fields() -> None:
    index = Index([json_exchange(str(i), str(i), temperature=0.5) for i in range(6)])
    picks = {index.sample(CHAT, chat_request("zzz")) for _ in range(3)}
    assert len(picks) == 1
    message, param = index.explain(CHAT, chat_request("3", temperature=0.7))
    assert "exchange 3" in message and "temperature (recorded 0.5, got 0.7)" in message
    assert param == "temperature"
    message, _ = index.explain("/v1/embeddings", {"input": "x"})
    assert "No recorded exchange for /v1/embeddings" in message
