"""Corpus format: what a corpus holds, checked on construction.

A corpus file is one msgpack map (see `corpus/README.md` at the repository root):

    {"format": "mock-openai-corpus", "version": 3, "kind": "articles",
     "generator": {...what built it...},
     "articles": {"text": <bin utf-8>,
                  "piece_lengths": <bin uint8>, "article_ends": <bin uint32 LE>}}

`text` is every article concatenated; `piece_lengths[i]` is the byte length of token piece `i`
(in memory: `piece_ends`, their running sum); `article_ends[j]` is the piece index where
article `j` ends. Storing one blob and two offset
arrays (not lists of strings) makes a 4096-article corpus load in milliseconds.

A recorded corpus (kind "recorded", since version 2) holds exchanges — recorded
request/answer maps (see `corpus/exchanges.py`) — instead of `"articles"`: since version 3
each map packed on its own (`"exchange_data"`, `"exchange_ends"`) next to the match index made
at build time (`"index"`), so a server decodes only the exchanges it answers with
(`corpus/stored.py`); version 2 kept one list, `"exchanges"`.

`FORMAT_VERSION` is bumped on every change; older files go through `MIGRATIONS`, newer ones are
refused with "please upgrade".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sanic_mock.corpus.errors import CorpusError

if TYPE_CHECKING:
    from sanic_mock.corpus.exchanges import Exchange
    from sanic_mock.corpus.stored import StoredIndex

FORMAT_NAME = "mock-openai-corpus"
FORMAT_VERSION = 3
KINDS = ("articles", "recorded")

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
    """v3 packs a recorded corpus's exchanges one by one and adds the match index (articles
    are unchanged): the v2 list is checked exchange by exchange and laid out anew."""
    doc = {**doc, "version": 3}
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
}


@dataclass(frozen=True, slots=True)
class Articles:
    """Articles pre-split into token pieces: one UTF-8 blob plus piece and article end offsets."""

    text: bytes
    piece_ends: U32
    article_ends: U32

    def __post_init__(self) -> None:
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
