"""The review views of a recorded corpus: listing, show, check."""

from __future__ import annotations

import orjson

from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.review import check, diff, listing, show
from tests.factories import (
    CHAT,
    RESPONSES,
    chat_request,
    message_item,
    response_exchange,
    stream_exchange,
)


def test_listing_show_and_check() -> None:
    bad = Exchange(CHAT, 200, chat_request("x"), body={"object": "nope"})
    corpus = Corpus(kind="recorded", generator={"tool": "t"}, exchanges=(stream_exchange(), bad))
    lines = listing(corpus)
    assert len(lines) == 2 and "stream 6 events, first 0ms" in "".join(lines)
    shown = orjson.loads(show(corpus))
    assert shown["kind"] == "recorded" and len(shown["exchanges"]) == 2
    problems = check(corpus)
    assert problems and all(p.startswith("exchange ") for p in problems)
    assert any("expected 'chat.completion'" in p for p in problems)
    assert check(Corpus(kind="recorded", generator={}, exchanges=(stream_exchange(),))) == []


def test_check_reads_responses_answers_and_events() -> None:
    ask = {"model": "gpt-4o", "input": "x"}
    good = (response_exchange(ask, [message_item("x")]), response_exchange(ask, [], stream=True))
    assert check(Corpus(kind="recorded", generator={}, exchanges=good)) == []
    broken = (
        Exchange(RESPONSES, 200, ask, body={"object": "chat.completion"}),
        Exchange(RESPONSES, 200, ask, events=('{"sequence_number":0}',), times_us=(1,)),
        Exchange(RESPONSES + "/input_tokens", 200, ask, body={"input_tokens": "7"}),
    )
    problems = check(Corpus(kind="recorded", generator={}, exchanges=broken))
    assert "expected 'response'" in problems[0]
    assert any("event 0: an event has no type" in p for p in problems)
    assert any("input_tokens is not an integer" in p for p in problems)
    before = Corpus(kind="recorded", generator={}, exchanges=good)
    after = Corpus(
        kind="recorded",
        generator={},
        exchanges=(response_exchange(ask, [message_item("y")]), good[1]),
    )
    (changed,) = diff(before, after)
    assert changed.startswith("~ #1 -> #1 POST /v1/responses")  # in file order, after the stream
    assert 'body.output[0].content[0].text (was "x", now "y")' in changed
