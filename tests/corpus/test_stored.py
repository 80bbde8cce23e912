"""The version-3 layout of a recorded corpus: lazy exchanges, the stored index, the fast scan."""

from __future__ import annotations

from pathlib import Path

import msgpack
import numpy as np
import pytest

from sanic_mock.corpus import io
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.index import COMPLETE, DEFAULT_IGNORE, OK, STREAM, entry
from sanic_mock.corpus.scrub import suspects
from sanic_mock.corpus.stored import StoredIndex, build_index, ends_from
from tests.factories import CHAT, chat_request, json_exchange, stream_exchange


def test_the_index_holds_what_matching_needs() -> None:
    exchanges = (json_exchange("a", "one"), stream_exchange())
    index = build_index(exchanges)
    assert index.flags == bytes([COMPLETE | OK, STREAM | COMPLETE | OK])
    assert index.endpoints == (CHAT,) and index.models == ("gpt-4o-mini",)
    ignore = frozenset(DEFAULT_IGNORE)
    assert index.entries(DEFAULT_IGNORE) == [entry(e, ignore) for e in exchanges]
    assert index.entries(("user",)) is None  # another ignore list: computed instead
    with pytest.raises(CorpusError, match="one entry per exchange"):
        StoredIndex("s", (), b"", b"\x00", b"\x00\x00", (CHAT,), ())
    with pytest.raises(CorpusError, match="endpoint not listed"):
        StoredIndex("s", (), bytes(16), b"\x00", b"\x01\x00", (CHAT,), ())


def test_ends_must_tile_the_data() -> None:
    assert ends_from(np.array([3, 5], "<u8").tobytes(), 5).tolist() == [3, 5]
    for bad, size in ((np.array([3, 3, 5], "<u8"), 5), (np.array([3, 4], "<u8"), 5)):
        with pytest.raises(CorpusError, match="tile"):
            ends_from(bad.tobytes(), size)
    with pytest.raises(CorpusError, match="uint64"):
        ends_from(b"\x01", 1)


def test_a_damaged_exchange_is_named_when_it_is_used(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    io.write(path, Corpus("recorded", {}, exchanges=(json_exchange("a", "one"),)))
    data = path.read_bytes().replace(b"/v1/chat/completions", b"xv1/chat/completions")
    corpus = io.loads(data)  # the tables are fine; the exchange is decoded later
    with pytest.raises(CorpusError, match="exchange 0: exchange endpoint"):
        corpus.exchanges[0]


def test_the_scan_finds_keys_in_packed_bytes_and_only_checks_those() -> None:
    assert list(suspects(b"xx sk-abcdefghijklmnopqrstuvwx yy Bearer abcdefghijklmnop")) == [3, 34]
    assert list(suspects(b"task-force sk-short Bearer tok AIzaShort")) == []
    leaky = Exchange(CHAT, 200, chat_request("my key is sk-abcdefghijklmnopqrstuvwx"))
    data = io.dumps(Corpus("recorded", {}, exchanges=(json_exchange("a", "one"), leaky)))
    corpus = io.loads(data)
    assert isinstance(corpus.exchanges, io.Exchanges)
    with pytest.raises(CorpusError, match="exchange 1 .* request: sk-abcd…uvwx"):
        io.refuse_stored_secrets(corpus.exchanges)
    # a suspect is checked exactly, in the decoded exchange
    prose = Exchange(CHAT, 200, chat_request("ask-abcdefghijklmnopqrstuvwx is not a key"))
    quiet = io.loads(io.dumps(Corpus("recorded", {}, exchanges=(prose,))))
    assert isinstance(quiet.exchanges, io.Exchanges)
    io.refuse_stored_secrets(quiet.exchanges)  # the word boundary rules it out, as before


def test_the_packed_exchanges_are_read_in_place() -> None:
    exchanges = (json_exchange("a", "one"), stream_exchange())
    data = io.dumps(Corpus("recorded", {}, exchanges=exchanges))
    corpus = io.loads(data)
    assert isinstance(corpus.exchanges, io.Exchanges)
    packed = corpus.exchanges.packed
    assert packed.data is data and packed.start > 0  # a view of the file's bytes, not a copy
    assert tuple(corpus.exchanges) == exchanges
    # the same document with its keys in another order takes the general path
    doc = msgpack.unpackb(data)
    shuffled = msgpack.packb(dict(reversed(list(doc.items()))), use_bin_type=True)
    again = io.loads(shuffled)
    assert isinstance(again.exchanges, io.Exchanges) and again.exchanges.packed.start == 0
    assert tuple(again.exchanges) == exchanges
