from __future__ import annotations

import numpy as np
import orjson
import pytest

from sanic_mock.corpus.format import Articles
from sanic_mock.corpus.pool import SEP, Pools, TextPool, _json_escaped
from sanic_mock.corpus.pregen import generate
from sanic_mock.tokens import split_pieces


@pytest.fixture(scope="module")
def pool() -> TextPool:
    return TextPool(generate(16, 0))


def test_escaped_text_matches_orjson_everywhere(pool: TextPool) -> None:
    for start in range(0, pool.piece_count, 97):
        raw = pool.raw_text(start, 50)
        assert pool.escaped_text(start, 50) == orjson.dumps(raw.decode())[1:-1]
        pieces = pool.escaped_separated(start, 50).split(SEP)
        assert pieces == [orjson.dumps(p.decode())[1:-1] for p in pool.raw_pieces(start, 50)]
        assert b"".join(pieces) == pool.escaped_text(start, 50)
        assert b"".join(pool.raw_pieces(start, 50)) == raw


def test_text_wraps_around_the_end(pool: TextPool) -> None:
    end = pool.piece_count - 2
    pieces = pool.raw_pieces(end, 5)
    assert len(pieces) == 5
    assert pieces[2:] == pool.raw_pieces(0, 3)


def _articles(texts: list[str]) -> Articles:
    pieces = [split_pieces(t) for t in texts]
    blobs = [p.encode() for article in pieces for p in article]
    piece_ends = np.cumsum([len(b) for b in blobs]).astype(np.uint32)
    article_ends = np.cumsum([len(a) for a in pieces]).astype(np.uint32)
    return Articles(b"".join(blobs), piece_ends, article_ends)


def test_every_escape_class_matches_orjson() -> None:
    """Quotes, backslashes, the short control escapes, other control bytes and non-ASCII
    text, in pieces of their own and inside words."""
    texts = ['He said "hi"\\n', "tab\there\r\nform\x0cfeed\x08", "bell\x07 nul\x00 us\x1f"]
    texts.append("café 😀 ok")
    pool = TextPool(_articles(texts * 3))
    pieces = pool.raw_pieces(0, pool.piece_count)
    escaped = pool.escaped_separated(0, pool.piece_count).split(SEP)
    assert escaped == [orjson.dumps(p.decode())[1:-1] for p in pieces]
    assert pool.escaped_text(0, pool.piece_count) == orjson.dumps("".join(texts * 3))[1:-1]


def test_escaping_in_chunks_is_escaping_at_once() -> None:
    text = 'a "quoted" line\n\tand é, 😀\x01' * 50
    for chunk in (1, 7, 64, len(text)):
        assert _json_escaped(text, chunk) == orjson.dumps(text)[1:-1]


def test_answers_start_where_a_block_starts_in_every_encoding() -> None:
    pools = Pools(generate(8, 3))
    o200k, cl100k = pools.default, pools.pool("cl100k_base")
    assert o200k.start_count == cl100k.start_count == pools.start_count > 8
    raw = o200k.raw
    for slot in range(0, 3 * pools.start_count, 7):
        a, b = o200k.start_at(slot), cl100k.start_at(slot)
        at = len(o200k.raw_text(0, a)) if a else 0
        assert at == (len(cl100k.raw_text(0, b)) if b else 0)  # the same text in both
        assert at == 0 or (raw[at - 2 : at] == b"\n\n" and raw[at : at + 1] not in b" \n")
