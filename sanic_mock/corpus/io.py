"""The only module that reads and writes corpus files (msgpack).

`dumps` is deterministic: map keys are written sorted, arrays as little-endian `bin`, so the same
corpus gives the same bytes. `loads` raises only `CorpusError`, whatever the input bytes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from sanic_mock.corpus.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MIGRATIONS,
    Articles,
    Corpus,
    CorpusError,
)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    return value


def dumps(corpus: Corpus) -> bytes:
    a = corpus.articles
    doc = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "kind": corpus.kind,
        "generator": corpus.generator,
        "articles": {
            "text": a.text,
            "piece_ends": a.piece_ends.astype("<u4").tobytes(),
            "article_ends": a.article_ends.astype("<u4").tobytes(),
        },
    }
    return msgpack.packb(_sorted(doc), use_bin_type=True)


def _u32(raw: Any, name: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    if not isinstance(raw, bytes) or len(raw) % 4:
        raise CorpusError(f"articles.{name}: expected a uint32 array")
    return np.frombuffer(raw, dtype="<u4").astype(np.uint32)


def loads(data: bytes) -> Corpus:
    try:
        doc = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises a family of unrelated exception types
        raise CorpusError(f"not a msgpack corpus file ({type(exc).__name__})") from None
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
        doc = MIGRATIONS[version](doc)
        version += 1
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
    return Corpus(
        kind=kind,
        generator=generator,
        articles=Articles(
            text=text,
            piece_ends=_u32(articles.get("piece_ends"), "piece_ends"),
            article_ends=_u32(articles.get("article_ends"), "article_ends"),
        ),
    )


def read(path: Path) -> Corpus:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: {exc.strerror or exc}") from None
    try:
        return loads(data)
    except CorpusError as exc:
        raise CorpusError(f"{path}: {exc}") from None


def write(path: Path, corpus: Corpus) -> None:
    """Write atomically: a temporary file in the same folder, then a rename over `path`."""
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
