"""The in-memory text pools responses are cut from: raw and JSON-escaped tokens, per encoding.

`Pools` holds one `TextPool` per encoding of a corpus (`pool(encoding)`; each built when first
asked for, the default encoding's at once). A `TextPool` is built from one encoding's cut of the
`Articles`. Besides the raw UTF-8 blob it keeps the same text escaped
for a JSON string (computed once, with the piece offsets mapped into it), so a response body or an
SSE event is a byte slice plus a template, never a per-token `orjson.dumps`. A completion of `n`
tokens starting at piece `p` runs on across article boundaries and wraps at the end of the pool.
Answers start where a block starts (a heading, a paragraph, a list, a code block: text after a
blank line): `start_at(slot)` is the piece where the `slot`-th block starts, the same text in
every encoding.
"""

from __future__ import annotations

import numpy as np
import orjson

from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.format import Articles


def _escape_extra() -> np.ndarray[tuple[int], np.dtype[np.uint8]]:
    # Bytes each input byte adds inside a JSON string, as orjson writes it: `"` `\` and the
    # short control escapes take 2 (1 more), other control bytes 6 (\u00XX, 5 more), everything
    # else (UTF-8 too) 1 (none).
    table = np.zeros(256, dtype=np.uint8)
    table[:0x20] = 5
    for c in b'"\\\b\f\n\r\t':
        table[c] = 1
    return table


def _json_escaped(text: str, chunk: int = 1 << 20) -> bytes:
    """`text` as the inside of a JSON string, as orjson writes it. Escaped a chunk at a time:
    orjson's buffer for one 5.6M-character string peaked at ~80 MB."""
    return b"".join(orjson.dumps(text[i : i + chunk])[1:-1] for i in range(0, len(text), chunk))


SEP = b"\x00"  # never inside JSON-escaped text: a NUL character is escaped as \u0000


class TextPool:
    """Token pieces of a corpus, raw and JSON-escaped.

    The escaped text is kept with a NUL byte after every piece, so `count` pieces from `start`
    are one slice: `.split(SEP)` gives the pieces and `.replace(SEP, between)` writes a whole SSE
    stream in one C call, with no Python work per token.
    """

    def __init__(self, articles: Articles) -> None:
        text = articles.text
        self.raw = text
        self.piece_count = n = articles.piece_count
        # bounds[i] .. bounds[i+1] is piece i in the raw text. Bounds are kept as memoryviews:
        # indexing one gives a Python int, ~10x cheaper than a numpy scalar (every request does).
        # Kept at 32 bits per piece and 8 per byte: wider temporaries (int64 per byte) made
        # start-up peak at ~200 MB for the default corpus, twice the steady state.
        ends = articles.piece_ends.astype(np.uint32, copy=False)
        zero = np.zeros(1, dtype=np.uint32)
        self._raw_bounds = np.concatenate((zero, ends)).data
        escaped = _json_escaped(text.decode("utf-8"))
        # Few bytes need escaping: add what each adds to the piece holding it.
        extra = _escape_extra()[np.frombuffer(text, dtype=np.uint8)]
        where = np.flatnonzero(extra)
        added = np.zeros(n, dtype=np.uint32)
        np.add.at(added, np.searchsorted(ends, where, side="right"), extra[where])
        del extra, where
        esc_ends = ends + np.cumsum(added, dtype=np.uint32)  # each piece's end, escaped
        del added
        if int(esc_ends[-1]) != len(escaped):  # pragma: no cover - orjson changed its escaping
            raise RuntimeError("JSON escaping table does not match orjson")
        # Piece i starts at esc_bounds[i] + i in the separated text; its separator follows it.
        self._esc_bounds = np.concatenate((zero, esc_ends)).data
        keep = np.ones(len(escaped) + n, dtype=bool)
        keep[esc_ends + np.arange(n, dtype=np.uint32)] = False
        del esc_ends
        separated = np.zeros(len(keep), dtype=np.uint8)
        separated[keep] = np.frombuffer(escaped, dtype=np.uint8)
        del keep
        self.separated = separated.tobytes()
        self._escaped = escaped  # the same without separators, for JSON bodies
        # Pieces that start a block: after a blank line, starting with text.
        raw = np.frombuffer(text, dtype=np.uint8)
        firsts = ends[:-1].astype(np.int64)
        line = (raw[firsts - 1] == 10) & (raw[firsts - 2] == 10) & (raw[firsts] > 32)
        self._starts: list[int] = [0, *(np.flatnonzero(line) + 1).tolist()]
        self.start_count = len(self._starts)

    def start_at(self, slot: int) -> int:
        """The piece starting block `slot` (modulo the number of blocks)."""
        return self._starts[slot % self.start_count]

    def _spans(self, start: int, count: int) -> list[tuple[int, int]]:
        """Piece ranges [a, b) covering `count` pieces from `start`, wrapping at the end."""
        spans = []
        start %= self.piece_count
        while count > 0:
            take = min(count, self.piece_count - start)
            spans.append((start, start + take))
            count -= take
            start = 0
        return spans

    def escaped_separated(self, start: int, count: int) -> bytes:
        """`count` JSON-escaped pieces from `start`, separated by `SEP`."""
        b = self._esc_bounds
        if start + count <= self.piece_count:  # no wrap-around: one slice
            return self.separated[b[start] + start : b[start + count] + start + count - 1]
        parts = [self.separated[b[x] + x : b[y] + y - 1] for x, y in self._spans(start, count)]
        return parts[0] if len(parts) == 1 else SEP.join(parts)

    def escaped_text(self, start: int, count: int) -> bytes:
        b = self._esc_bounds
        if start + count <= self.piece_count:
            return self._escaped[b[start] : b[start + count]]
        return self.escaped_separated(start, count).replace(SEP, b"")

    def raw_text(self, start: int, count: int) -> bytes:
        b = self._raw_bounds
        parts = [self.raw[b[x] : b[y]] for x, y in self._spans(start, count)]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def raw_pieces(self, start: int, count: int) -> list[bytes]:
        out: list[bytes] = []
        for x, y in self._spans(start, count):
            edges = self._raw_bounds[x : y + 1].tolist()
            out.extend([self.raw[i:j] for i, j in zip(edges, edges[1:], strict=False)])
        return out


class Pools:
    """One `TextPool` per encoding of `articles`: the default encoding's built now, the others
    on first use (one ~0.1 s build per worker, and no memory for an encoding never asked for)."""

    def __init__(self, articles: Articles) -> None:
        # The other encodings' cuts, kept for their pools; the default's own offsets are not
        # (its pool holds them as bounds: ~5 MB less for the default corpus).
        self._cuts = {other.encoding: other for other in articles.others}
        self.default = TextPool(articles)
        self._pools = {articles.encoding: self.default}

    @property
    def start_count(self) -> int:
        return self.default.start_count

    def pool(self, encoding: str) -> TextPool:
        found = self._pools.get(encoding)
        if found is None:
            cut = self._cuts.get(encoding)
            if cut is None:
                raise CorpusError(f"articles are not cut for encoding {encoding!r}")
            found = self._pools[encoding] = TextPool(cut)
        return found
