"""The only module that reads and writes corpus files (msgpack).

`dumps` is deterministic: map keys are written sorted, arrays as little-endian `bin`, so the same
corpus gives the same bytes. `loads` raises only `CorpusError`, whatever the input bytes.

A recorded corpus is loaded without decoding its exchanges (`corpus/stored.py`): the file is
read once, its tables checked, and the secret scan runs over the packed bytes — a fast search
for the prefixes of key-like text, and only where one is found the exchange is decoded and
scanned as `corpus/scrub.py` says.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.format import (
    ENCODINGS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MIGRATIONS,
    Articles,
    Corpus,
)
from sanic_mock.corpus.scrub import find_secret, refuse_secrets, suspects
from sanic_mock.corpus.stored import (
    Exchanges,
    Packed,
    ends_from,
    index_from_doc,
    recorded_layout,
)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    return value


def _pack(value: Any) -> bytes:
    return msgpack.packb(_sorted(value), use_bin_type=True)


def _unpack(data: bytes) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises a family of unrelated exception types
        raise CorpusError(f"not msgpack data ({type(exc).__name__})") from None


def dumps(corpus: Corpus) -> bytes:
    if corpus.articles is None:
        return msgpack.packb(_sorted(_recorded_doc(corpus)), use_bin_type=True)
    a = corpus.articles
    doc = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "kind": corpus.kind,
        "generator": corpus.generator,
        "articles": {
            "text": a.text,
            "encodings": {
                cut.encoding: {
                    "piece_lengths": _piece_lengths(cut),
                    "article_ends": cut.article_ends.astype("<u4").tobytes(),
                }
                for cut in (a, *a.others)
            },
        },
    }
    return msgpack.packb(_sorted(doc), use_bin_type=True)


def _piece_lengths(a: Articles) -> bytes:
    # One byte per piece: tiktoken's longest o200k/cl100k token is 128 bytes; the file stays a
    # quarter of the size of uint32 offsets.
    lengths = np.diff(a.piece_ends.astype(np.int64), prepend=0)
    if int(lengths.max()) > 255:
        raise CorpusError("articles: a token piece is longer than 255 bytes")
    return lengths.astype(np.uint8).tobytes()


def _u32(raw: Any, name: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    if not isinstance(raw, bytes) or len(raw) % 4:
        raise CorpusError(f"articles.{name}: expected a uint32 array")
    return np.frombuffer(raw, dtype="<u4").astype(np.uint32)


def _piece_ends(raw: Any, name: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    if not isinstance(raw, bytes) or not raw:
        raise CorpusError(f"articles.encodings.{name}.piece_lengths: expected a uint8 array")
    return np.cumsum(np.frombuffer(raw, dtype=np.uint8), dtype=np.uint64).astype(np.uint32)


# A version-4 recorded file is a map of seven keys, sorted, so it begins with `exchange_data`,
# a bin. Read in place there, that blob is not copied out of the file's bytes: a large corpus
# then peaks at its size once, not twice, while it loads.
_DATA_KEY = b"\x87" + msgpack.packb("exchange_data")
_BIN_LENGTH = {0xC4: 1, 0xC5: 2, 0xC6: 4}  # bin 8, 16, 32: bytes of the length that follows


def _unpack_file(data: bytes) -> Any:
    if data.startswith(_DATA_KEY) and len(data) > len(_DATA_KEY):
        width = _BIN_LENGTH.get(data[len(_DATA_KEY)], 0)
        start = len(_DATA_KEY) + 1 + width
        end = start + int.from_bytes(data[start - width : start], "big")
        if width and end <= len(data):
            try:
                rest = _unpack(b"\x86" + data[end:])  # the other six keys (small)
            except CorpusError:
                rest = None
            if isinstance(rest, dict) and "exchange_data" not in rest:
                return {"exchange_data": Packed(data, start, end), **rest}
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises a family of unrelated exception types
        raise CorpusError(f"not a msgpack corpus file ({type(exc).__name__})") from None


def loads(data: bytes) -> Corpus:
    doc = _unpack_file(data)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise CorpusError(f"not a {FORMAT_NAME} file")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise CorpusError(f"bad format version {version!r}")
    if version > FORMAT_VERSION:
        raise CorpusError(
            f"corpus format version {version} is newer than this mock-openai understands "
            f"(version {FORMAT_VERSION}); please upgrade mock-openai"
        )
    while version < FORMAT_VERSION:
        doc = MIGRATIONS[version](doc, _pack)
        version += 1
    if doc.get("kind") == "recorded":
        return _load_recorded(doc)
    articles = doc.get("articles")
    generator = doc.get("generator", {})
    kind = doc.get("kind")
    if (
        not isinstance(articles, dict)
        or not isinstance(generator, dict)
        or not isinstance(kind, str)
    ):
        raise CorpusError("corpus header is incomplete (kind, generator, articles)")
    text = articles.get("text")
    if not isinstance(text, bytes):
        raise CorpusError("articles.text: expected bytes")
    cuts = articles.get("encodings")
    if not isinstance(cuts, dict) or set(cuts) != set(ENCODINGS):
        raise CorpusError(f"articles.encodings: expected a cut for each of {ENCODINGS}")
    first, *rest = ENCODINGS
    others = tuple(Articles(text, *_cut(name, cuts[name]), name) for name in rest)
    articles = Articles(text, *_cut(first, cuts[first]), first, others)
    return Corpus(kind=kind, generator=generator, articles=articles)


U32 = np.ndarray[Any, np.dtype[np.uint32]]


def _cut(name: str, cut: Any) -> tuple[U32, U32]:
    if not isinstance(cut, dict):
        raise CorpusError(f"articles.encodings.{name}: expected a map")
    return (
        _piece_ends(cut.get("piece_lengths"), name),
        _u32(cut.get("article_ends"), f"encodings.{name}.article_ends"),
    )


def _recorded_doc(corpus: Corpus) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "kind": corpus.kind,
        "generator": corpus.generator,
        **recorded_layout(corpus.exchanges, _pack),
    }


def _load_recorded(doc: dict[str, Any]) -> Corpus:
    generator = doc.get("generator", {})
    data = doc.get("exchange_data")
    if isinstance(data, bytes):
        data = Packed(data, 0, len(data))
    if not isinstance(generator, dict) or not isinstance(data, Packed):
        raise CorpusError("corpus header is incomplete (kind, generator, exchange_data)")
    ends = ends_from(doc.get("exchange_ends"), data.end - data.start)
    stored = index_from_doc(doc.get("index"), len(ends))
    exchanges = Exchanges(data, ends, _unpack)
    return Corpus(kind="recorded", generator=generator, exchanges=exchanges, stored=stored)


def refuse_stored_secrets(exchanges: Exchanges) -> None:
    """`refuse_secrets` for a file's exchanges, decoding only those that might hold a key."""
    checked: set[int] = set()
    packed = exchanges.packed
    for offset in suspects(packed.data, packed.start, packed.end):
        number = exchanges.at_offset(offset - packed.start)
        if number in checked:
            continue
        checked.add(number)
        ex = exchanges[number]
        where = find_secret(ex)
        if where is not None:
            raise CorpusError(
                f"exchange {number} ({ex.describe()}) holds a key-like string in its {where}; "
                "remove it, or pass --allow-secrets to keep it"
            )


def read(path: Path, allow_secrets: bool = False) -> Corpus:
    """Load a corpus file; a recorded one holding a key-like string is refused unless
    `allow_secrets` (the message names the exchange)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: {exc.strerror or exc}") from None
    try:
        corpus = loads(data)
        del data  # an articles corpus keeps copies; a recorded one keeps these bytes
        if not allow_secrets:
            if isinstance(corpus.exchanges, Exchanges):
                refuse_stored_secrets(corpus.exchanges)
            else:
                refuse_secrets(corpus.exchanges)
        return corpus
    except CorpusError as exc:
        raise CorpusError(f"{path}: {exc}") from None


def write(path: Path, corpus: Corpus, allow_secrets: bool = False) -> None:
    """Write atomically: a temporary file in the same folder, then a rename over `path`.
    A recorded corpus holding a key-like string is refused unless `allow_secrets`."""
    if not allow_secrets:
        refuse_secrets(corpus.exchanges)
    data = dumps(corpus)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
