from __future__ import annotations

import orjson
import pytest

from sanic_mock.corpus.pool import SEP, TextPool
from sanic_mock.corpus.pregen import generate


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
