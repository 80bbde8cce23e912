"""Corpus format: what a corpus holds, checked on construction.

A corpus file is one msgpack map (see `corpus/README.md` at the repository root):

    {"format": "mock-openai-corpus", "version": 4, "kind": "articles",
     "generator": {...what built it...},
     "articles": {"text": <bin utf-8>,
                  "encodings": {"o200k_base": {"piece_lengths": <bin uint8>,
                                               "article_ends": <bin uint32 LE>},
                                "cl100k_base": {...the same...}}}}

`text` is every article concatenated, cut into real tokens once per encoding (`cuts.py`):
`piece_lengths[i]` is the byte length of token `i` (in memory: `piece_ends`, their running sum);
`article_ends[j]` is the token index where article `j` ends. Storing one blob and two offset
arrays per encoding (not lists of strings) makes a 4096-article corpus load in milliseconds.

A recorded corpus (kind "recorded", since version 2) holds exchanges — recorded
request/answer maps (see `corpus/exchanges.py`) — instead of `"articles"`: since version 4
each map packed on its own (`"exchange_data"`, `"exchange_ends"`) next to the match index made
at build time (`"index"`), so a server decodes only the exchanges it answers with
(`corpus/stored.py`); versions 2 and 3 kept one list, `"exchanges"`. Version 3 cut articles
into real tokens (before: ~4-character pieces).

`FORMAT_VERSION` is bumped on every change; older files go through `MIGRATIONS`, newer ones are
refused with "please upgrade".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sanic_mock.corpus.cuts import cut_texts
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.encodings import CL100K, O200K

if TYPE_CHECKING:
    from sanic_mock.corpus.exchanges import Exchange
    from sanic_mock.corpus.stored import StoredIndex

FORMAT_NAME = "mock-openai-corpus"
FORMAT_VERSION = 4
KINDS = ("articles", "recorded")
ENCODINGS = (O200K, CL100K)  # every articles corpus is cut by each; the first is the default

U32 = npt.NDArray[np.uint32]


Pack = Callable[[Any], bytes]  # `corpus/io.py`'s deterministic msgpack writer


def migrate_1_to_2(doc: dict[str, Any], pack: Pack) -> dict[str, Any]:
    """v2 added the "recorded" kind and stores piece lengths (uint8) instead of piece end
    offsets (uint32); a v1 file is an articles corpus whose offsets become lengths."""
    articles = doc.get("articles")
    if isinstance(articles, dict) and "piece_ends" in articles:
        ends = articles["piece_ends"]
        if not isinstance(ends, bytes) or len(ends) % 4:
            raise CorpusError("articles.piece_ends: expected a uint32 array")
        lengths = np.diff(np.frombuffer(ends, dtype="<u4").astype(np.int64), prepend=0)
        if len(lengths) and (lengths.min() < 0 or lengths.max() > 255):
            raise CorpusError("articles.piece_ends: offsets out of order")
        articles = {k: v for k, v in articles.items() if k != "piece_ends"}
        articles["piece_lengths"] = lengths.astype(np.uint8).tobytes()
        doc = {**doc, "articles": articles}
    return {**doc, "version": 2}


def migrate_2_to_3(doc: dict[str, Any], pack: Pack) -> dict[str, Any]:
    """v3 cuts the text into real tokens, once per encoding, where v2 had ~4-character pieces:
    the articles are found by the v2 offsets and cut again with tiktoken (`cuts.py`)."""
    articles = doc.get("articles")
    if isinstance(articles, dict) and "piece_lengths" in articles:
        text, lengths, ends = (articles.get(k) for k in ("text", "piece_lengths", "article_ends"))
        if not (isinstance(text, bytes) and isinstance(lengths, bytes) and isinstance(ends, bytes)):
            raise CorpusError("articles: expected text, piece_lengths and article_ends")
        if len(ends) % 4 or not lengths:
            raise CorpusError("articles.article_ends: expected a uint32 array")
        byte_ends = np.cumsum(np.frombuffer(lengths, dtype=np.uint8), dtype=np.uint64)
        article_ends = np.frombuffer(ends, dtype="<u4").astype(np.int64)
        if not len(article_ends) or article_ends.max() > len(byte_ends) or article_ends.min() < 1:
            raise CorpusError("articles: offset tables do not cover the text")
        bounds = [0, *byte_ends[article_ends - 1].tolist()]
        try:
            texts = [text[a:b].decode("utf-8") for a, b in zip(bounds, bounds[1:], strict=False)]
        except UnicodeDecodeError as exc:
            raise CorpusError(f"articles: text is not UTF-8 ({exc.reason})") from None
        cut = {}
        for name in ENCODINGS:
            piece_ends, token_ends = cut_texts(texts, name)
            lengths_ = np.diff(piece_ends.astype(np.int64), prepend=0)
            if lengths_.max() > 255:  # pragma: no cover - only joined partial characters could
                raise CorpusError("articles: a token piece is longer than 255 bytes")
            cut[name] = {
                "piece_lengths": lengths_.astype(np.uint8).tobytes(),
                "article_ends": token_ends.astype("<u4").tobytes(),
            }
        articles = {"text": text[: bounds[-1]], "encodings": cut}
        doc = {**doc, "articles": articles}
    return {**doc, "version": 3}


def migrate_3_to_4(doc: dict[str, Any], pack: Pack) -> dict[str, Any]:
    """v4 packs a recorded corpus's exchanges one by one and adds the match index (articles
    are unchanged): the v3 list is checked exchange by exchange and laid out anew."""
    doc = {**doc, "version": 4}
    if doc.get("kind") != "recorded":
        return doc
    from sanic_mock.corpus.exchanges import from_doc, ordered
    from sanic_mock.corpus.stored import recorded_layout

    items = doc.pop("exchanges", None)
    if not isinstance(items, list):
        raise CorpusError("corpus header is incomplete (kind, generator, exchanges)")
    exchanges = []
    for i, item in enumerate(items):
        try:
            exchanges.append(from_doc(item))
        except CorpusError as exc:
            raise CorpusError(f"exchange {i}: {exc}") from None
    return {**doc, **recorded_layout(ordered(exchanges), pack)}


# version N -> function turning a version-N document into a version-N+1 document.
MIGRATIONS: dict[int, Callable[[dict[str, Any], Pack], dict[str, Any]]] = {
    1: migrate_1_to_2,
    2: migrate_2_to_3,
    3: migrate_3_to_4,
}


@dataclass(frozen=True, slots=True)
class Articles:
    """Articles cut into the tokens of one encoding: one UTF-8 blob plus piece and article end
    offsets. `others` holds the same text cut by the other encodings (`cut(name)` finds one)."""

    text: bytes
    piece_ends: U32
    article_ends: U32
    encoding: str = O200K
    others: tuple[Articles, ...] = ()

    def cut(self, encoding: str) -> Articles:
        """The same articles cut into `encoding`'s tokens (itself for its own encoding)."""
        for a in (self, *self.others):
            if a.encoding == encoding:
                return a
        raise CorpusError(f"articles are not cut for encoding {encoding!r}")

    @property
    def encodings(self) -> tuple[str, ...]:
        return (self.encoding, *(a.encoding for a in self.others))

    def __post_init__(self) -> None:
        for other in self.others:
            if other.text is not self.text and other.text != self.text:
                raise CorpusError(f"articles: the {other.encoding} cut is of another text")
        pe, ae = self.piece_ends, self.article_ends
        if pe.ndim != 1 or ae.ndim != 1 or len(pe) == 0 or len(ae) == 0:
            raise CorpusError("articles: empty piece or article table")
        if int(pe[-1]) != len(self.text) or int(ae[-1]) != len(pe):
            raise CorpusError("articles: offset tables do not cover the text")
        # Compared in place: a 64-bit diff of the default corpus's 1.7M offsets took 28 MB.
        if np.any(pe[1:] <= pe[:-1]) or int(pe[0]) <= 0:
            raise CorpusError("articles: piece offsets are not strictly increasing")
        if np.any(ae[1:] <= ae[:-1]) or int(ae[0]) <= 0:
            raise CorpusError("articles: article offsets are not strictly increasing")
        try:
            self.text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"articles: text is not UTF-8 ({exc.reason})") from None
        # Every piece must start on a character boundary (never on a continuation byte).
        starts = np.frombuffer(self.text, dtype=np.uint8)[pe[:-1]]
        if np.any((starts & 0xC0) == 0x80):
            raise CorpusError("articles: a token piece splits a UTF-8 character")
        for other in self.others:  # every cut has the same articles
            mine, theirs = pe[ae - 1], other.piece_ends[other.article_ends - 1]
            if len(mine) != len(theirs) or np.any(mine != theirs):
                raise CorpusError(f"articles: the {other.encoding} cut has other article ends")

    @property
    def piece_count(self) -> int:
        return len(self.piece_ends)

    @property
    def article_count(self) -> int:
        return len(self.article_ends)

    def article_text(self, index: int) -> str:
        first = 0 if index == 0 else int(self.article_ends[index - 1])
        start = 0 if first == 0 else int(self.piece_ends[first - 1])
        end = int(self.piece_ends[int(self.article_ends[index]) - 1])
        return self.text[start:end].decode("utf-8")


@dataclass(frozen=True, slots=True)
class Corpus:
    kind: str
    generator: dict[str, Any] = field(hash=False)
    articles: Articles | None = None  # kind "articles"
    # kind "recorded", in file order: a tuple (sorted here), or a file's `Exchanges` (lazy)
    exchanges: Sequence[Exchange] = ()
    stored: StoredIndex | None = None  # the index section of the file it was read from

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CorpusError(f"unknown corpus kind {self.kind!r} (expected one of {KINDS})")
        if (self.kind == "articles") != (self.articles is not None):
            raise CorpusError(f"only an articles corpus holds articles (kind {self.kind!r})")
        if self.kind == "recorded" and not self.exchanges:
            raise CorpusError("recorded corpus holds no exchanges")
        if isinstance(self.exchanges, (tuple, list)) and self.exchanges:
            # always in file order, so exchange numbers mean one thing
            from sanic_mock.corpus.exchanges import ordered

            object.__setattr__(self, "exchanges", ordered(self.exchanges))

    def models(self) -> set[str]:
        """The models named by the recorded exchanges."""
        if self.stored is not None:
            return set(self.stored.models)
        return {e.model for e in self.exchanges if e.model}

    def entries(self, ignore: Iterable[str]) -> Sequence[tuple[str, bytes, int]] | None:
        """The match index's entries as stored in the file for `ignore`, or None (computed)."""
        return None if self.stored is None else self.stored.entries(ignore)

    def require_articles(self) -> Articles:
        """The articles of an articles corpus; a recorded corpus has none."""
        if self.articles is None:
            raise CorpusError(f"corpus kind {self.kind!r} holds no articles")
        return self.articles
