"""The review views of a recorded corpus: listing, show, check."""

from __future__ import annotations

import orjson

from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.review import check, listing, show
from tests.factories import (
    CHAT,
    chat_request,
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
