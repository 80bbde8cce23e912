from __future__ import annotations

from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanic_mock.corpus import io
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.format import FORMAT_VERSION, Articles, Corpus
from sanic_mock.corpus.loading import build


@pytest.fixture(scope="module")
def small() -> Corpus:
    return build(24, 5)


def test_build_is_byte_for_byte_reproducible(small: Corpus) -> None:
    assert io.dumps(build(24, 5)) == io.dumps(small)
    assert io.dumps(build(24, 6)) != io.dumps(small)


def test_round_trip(small: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    io.write(path, small)
    loaded = io.read(path)
    assert loaded.kind == "articles" and loaded.generator == small.generator
    assert loaded.articles.text == small.articles.text
    for name in small.articles.encodings:
        mine, theirs = loaded.articles.cut(name), small.articles.cut(name)
        assert np.array_equal(mine.piece_ends, theirs.piece_ends)
        assert np.array_equal(mine.article_ends, theirs.article_ends)
    assert [p.name for p in tmp_path.iterdir()] == ["c.msgpack"]  # no temporary left behind


def test_header_is_readable_with_plain_msgpack(small: Corpus) -> None:
    doc = msgpack.unpackb(io.dumps(small))
    assert doc["format"] == "mock-openai-corpus" and doc["version"] == FORMAT_VERSION
    assert doc["kind"] == "articles" and doc["generator"]["count"] == 24
    assert list(doc) == sorted(doc)


def test_newer_version_asks_for_an_upgrade(small: Corpus) -> None:
    doc = msgpack.unpackb(io.dumps(small))
    doc["version"] = FORMAT_VERSION + 1
    with pytest.raises(CorpusError, match="please upgrade"):
        io.loads(msgpack.packb(doc))


def _o200k(doc: dict[str, Any]) -> dict[str, Any]:
    cut: dict[str, Any] = doc["articles"]["encodings"]["o200k_base"]
    return cut


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("articles"),
        lambda d: d.__setitem__("format", "something-else"),
        lambda d: _o200k(d).__setitem__("piece_lengths", b""),
        lambda d: _o200k(d).__setitem__("piece_lengths", _o200k(d)["piece_lengths"][:-1]),
        lambda d: _o200k(d).__setitem__("article_ends", b"\x01\x00\x00"),
        lambda d: d["articles"]["encodings"].pop("cl100k_base"),
        lambda d: d["articles"]["encodings"].__setitem__("cl100k_base", []),
        lambda d: d["articles"].__setitem__("text", d["articles"]["text"][:-5]),
        lambda d: d["articles"].__setitem__("text", b"\xff" + d["articles"]["text"][1:]),
        lambda d: d.__setitem__("kind", "poems"),
    ],
)
def test_broken_documents_raise_corpus_error(small: Corpus, mutate: object) -> None:
    doc = msgpack.unpackb(io.dumps(small))
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(CorpusError):
        io.loads(msgpack.packb(doc))


def test_truncated_file_raises_corpus_error(small: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "cut.msgpack"
    path.write_bytes(io.dumps(small)[:-100])
    with pytest.raises(CorpusError, match=str(path)):
        io.read(path)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256))
def test_arbitrary_bytes_raise_only_corpus_error(data: bytes) -> None:
    try:
        io.loads(data)
    except CorpusError:
        pass


def test_piece_boundaries_inside_a_character_are_refused() -> None:
    text = "é".encode()
    with pytest.raises(CorpusError, match="UTF-8"):
        Articles(text, np.array([1, 2], dtype=np.uint32), np.array([2], dtype=np.uint32))
