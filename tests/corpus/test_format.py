"""Corpus files: the format, versions and migrations, and what reading any bytes raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanic_mock import encodings
from sanic_mock.corpus import io
from sanic_mock.corpus.answers import answer
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import ordered, to_doc
from sanic_mock.corpus.format import ENCODINGS, FORMAT_VERSION, Articles, Corpus
from sanic_mock.corpus.index import DEFAULT_IGNORE, KEY_SCHEME, entry
from sanic_mock.corpus.stored import Exchanges
from sanic_mock.encodings import CL100K, O200K
from sanic_mock.tokens import split_pieces
from tests.factories import (
    cut_articles,
    json_exchange,
    json_values,
    stream_exchange,
)


def test_file_bytes_do_not_depend_on_exchange_order(tmp_path: Path) -> None:
    exchanges = [json_exchange("b", "2"), stream_exchange(), json_exchange("a", "1")]
    one = Corpus(kind="recorded", generator={"tool": "t"}, exchanges=tuple(exchanges))
    two = Corpus(kind="recorded", generator={"tool": "t"}, exchanges=tuple(exchanges[::-1]))
    assert io.dumps(one) == io.dumps(two)
    io.write(tmp_path / "c", one)
    loaded = io.read(tmp_path / "c")
    assert tuple(loaded.exchanges) == one.exchanges
    assert io.dumps(loaded) == io.dumps(one)


def test_repeated_requests_keep_their_recorded_order() -> None:
    first, second = json_exchange("same", "first"), json_exchange("same", "second")
    corpus = Corpus(
        kind="recorded", generator={}, exchanges=(first, second, json_exchange("a", ""))
    )
    same = [
        e
        for e in io.loads(io.dumps(corpus)).exchanges
        if e.request["messages"][0]["content"] == "same"
    ]
    assert [answer(e).choices[0].text for e in same] == ["first", "second"]


def test_an_empty_recorded_corpus_is_refused() -> None:
    with pytest.raises(CorpusError, match="no exchanges"):
        Corpus(kind="recorded", generator={})


def test_version_1_articles_file_still_loads() -> None:
    text = b"Hello world."
    ends = np.array([5, 11, 12], dtype="<u4")
    v1 = {
        "format": "mock-openai-corpus",
        "version": 1,
        "kind": "articles",
        "generator": {"seed": 0},
        "articles": {
            "text": text,
            "piece_ends": ends.tobytes(),
            "article_ends": np.array([3], dtype="<u4").tobytes(),
        },
    }
    corpus = io.loads(msgpack.packb(v1, use_bin_type=True))
    assert corpus.kind == "articles" and corpus.articles is not None
    # "Hello", " world", "." in both encodings, however version 1 had cut it.
    for name in ENCODINGS:
        assert corpus.articles.cut(name).piece_ends.tolist() == [5, 11, 12]
    assert FORMAT_VERSION == 4


def _v2(texts: list[str]) -> dict[str, Any]:
    """A version-2 articles file: ~4-character pieces, as the old generator cut them."""
    pieces = [p.encode() for t in texts for p in split_pieces(t)]
    ends = np.cumsum([len(split_pieces(t)) for t in texts])
    return {
        "format": "mock-openai-corpus",
        "version": 2,
        "kind": "articles",
        "generator": {"seed": 0},
        "articles": {
            "text": b"".join(pieces),
            "piece_lengths": bytes(map(len, pieces)),
            "article_ends": ends.astype("<u4").tobytes(),
        },
    }


def test_version_2_articles_are_cut_again_into_real_tokens() -> None:
    texts = ["The tokenization of café.\n\n", "## Caching\n\nA cache hides latency."]
    corpus = io.loads(msgpack.packb(_v2(texts), use_bin_type=True))
    a = corpus.require_articles()
    assert a.text == "".join(texts).encode() and a.encodings == ENCODINGS
    for name in ENCODINGS:
        cut = a.cut(name)
        enc = encodings.get(name)
        assert cut.piece_count == sum(len(enc.encode_ordinary(t)) for t in texts)
        assert cut.article_ends.tolist() == [
            len(enc.encode_ordinary(texts[0])),
            cut.piece_count,
        ]


def test_a_token_inside_a_character_joins_the_next_one() -> None:
    # cl100k_base spells Greek in byte pieces: they are joined into whole characters.
    text = "Ελλάδα"
    enc = encodings.get(CL100K)
    a = io.loads(msgpack.packb(_v2([text]), use_bin_type=True)).require_articles()
    pieces = a.cut(CL100K).piece_count
    assert pieces < len(enc.encode_ordinary(text))
    assert a.cut(O200K).piece_count == len(encodings.get(O200K).encode_ordinary(text))


def test_articles_corpus_round_trips() -> None:
    articles = cut_articles(["ab", " and cd"])
    corpus = Corpus(kind="articles", generator={}, articles=articles)
    again = io.loads(io.dumps(corpus))
    a = again.require_articles()
    assert a.text == b"ab and cd" and not again.exchanges
    for name in ENCODINGS:
        assert np.array_equal(a.cut(name).piece_ends, articles.cut(name).piece_ends)
        assert np.array_equal(a.cut(name).article_ends, articles.cut(name).article_ends)


def test_cuts_of_other_articles_are_refused() -> None:
    one, two = cut_articles(["ab", "cd"]), cut_articles(["abc", "d"])
    with pytest.raises(CorpusError, match="other article ends"):
        Articles(one.text, one.piece_ends, one.article_ends, O200K, (two.cut(CL100K),))


def test_a_newer_version_asks_for_an_upgrade() -> None:
    doc = {"format": "mock-openai-corpus", "version": 99, "kind": "recorded"}
    with pytest.raises(CorpusError, match="please upgrade"):
        io.loads(msgpack.packb(doc))


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["endpoint", "status", "request", "events", "times_us", "body", "complete", "headers"]
        ),
        json_values | st.binary(max_size=4),
        max_size=8,
    )
)
def test_loading_any_exchange_map_raises_only_corpus_error(item: dict[str, Any]) -> None:
    doc = {"format": "mock-openai-corpus", "version": 2, "kind": "recorded", "exchanges": [item]}
    try:
        io.loads(msgpack.packb(doc, use_bin_type=True))
    except CorpusError:
        pass


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["endpoint", "status", "request", "events", "times_us", "body"]),
        json_values | st.binary(max_size=4),
        max_size=6,
    ),
    st.binary(max_size=24),
)
def test_a_version_3_exchange_raises_only_corpus_error_when_used(
    item: dict[str, Any], index_keys: bytes
) -> None:
    packed = msgpack.packb(item, use_bin_type=True)
    doc = {
        "format": "mock-openai-corpus",
        "version": 3,
        "kind": "recorded",
        "generator": {},
        "exchange_data": packed,
        "exchange_ends": np.array([len(packed)], "<u8").tobytes(),
        "index": {
            "scheme": KEY_SCHEME,
            "ignore": [],
            "keys": index_keys,
            "flags": b"\x04",
            "endpoint_of": b"\x00\x00",
            "endpoints": ["/v1/x"],
            "models": [],
        },
    }
    try:
        corpus = io.loads(msgpack.packb(doc, use_bin_type=True))
        list(corpus.exchanges)
    except CorpusError:
        pass


def test_a_version_2_recorded_file_is_migrated() -> None:
    exchanges = (json_exchange("b", "two"), json_exchange("a", "one"), stream_exchange())
    v2 = {
        "format": "mock-openai-corpus",
        "version": 2,
        "kind": "recorded",
        "generator": {"tool": "old"},
        "exchanges": [to_doc(e) for e in exchanges],
    }
    corpus = io.loads(msgpack.packb(v2, use_bin_type=True))
    assert tuple(corpus.exchanges) == ordered(exchanges)
    assert corpus.models() == {"gpt-4o-mini"}
    stored = corpus.entries(DEFAULT_IGNORE)
    assert stored == [entry(e, frozenset(DEFAULT_IGNORE)) for e in ordered(exchanges)]
    assert corpus.entries((*DEFAULT_IGNORE, "temperature")) is None  # computed instead
    assert io.dumps(corpus) == io.dumps(Corpus("recorded", {"tool": "old"}, exchanges=exchanges))


def test_exchanges_are_decoded_when_first_used() -> None:
    corpus = io.loads(io.dumps(Corpus("recorded", {}, exchanges=(json_exchange("a", "one"),))))
    assert isinstance(corpus.exchanges, Exchanges)
    assert corpus.exchanges._decoded == {}
    assert corpus.exchanges[0] is corpus.exchanges[-1]  # decoded once, then kept
    with pytest.raises(IndexError):
        corpus.exchanges[1]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64))
def test_loading_any_bytes_raises_only_corpus_error(data: bytes) -> None:
    try:
        io.loads(data)
    except CorpusError:
        pass
