"""The in-memory text pool responses are cut from: raw and JSON-escaped token pieces.

Built once per worker from `Articles`. Besides the raw UTF-8 blob it keeps the same text escaped
for a JSON string (computed once, with the piece offsets mapped into it), so a response body or an
SSE event is a byte slice plus a template, never a per-token `orjson.dumps`. A completion of `n`
tokens starting at piece `p` runs on across article boundaries and wraps at the end of the pool.
"""

from __future__ import annotations

import numpy as np
import orjson

from sanic_mock.corpus.format import Articles


def _escape_lengths() -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    # Bytes per input byte inside a JSON string, as orjson writes it: `"` `\` and the short
    # control escapes take 2, other control bytes 6 (\u00XX), everything else (UTF-8 too) 1.
    table = np.ones(256, dtype=np.int64)
    table[:0x20] = 6
    for c in b'"\\\b\f\n\r\t':
        table[c] = 2
    return table


class TextPool:
    def __init__(self, articles: Articles) -> None:
        text = articles.text
        self.raw = text
        self.piece_count = articles.piece_count
        self.article_count = articles.article_count
        # bounds[i] .. bounds[i+1] is piece i; same for the escaped text.
        self._raw_bounds = np.concatenate(([0], articles.piece_ends)).astype(np.int64)
        self.escaped = orjson.dumps(text.decode("utf-8"))[1:-1]
        grow = np.cumsum(_escape_lengths()[np.frombuffer(text, dtype=np.uint8)])
        if int(grow[-1]) != len(self.escaped):  # pragma: no cover - orjson changed its escaping
            raise RuntimeError("JSON escaping table does not match orjson")
        self._esc_bounds = np.concatenate(([0], grow[articles.piece_ends.astype(np.int64) - 1]))
        self.article_starts = np.concatenate(([0], articles.article_ends[:-1])).astype(np.int64)

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

    def _slice(self, blob: bytes, bounds: np.ndarray, start: int, count: int) -> bytes:
        parts = [blob[int(bounds[a]) : int(bounds[b])] for a, b in self._spans(start, count)]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _pieces(self, blob: bytes, bounds: np.ndarray, start: int, count: int) -> list[bytes]:
        out: list[bytes] = []
        for a, b in self._spans(start, count):
            edges = bounds[a : b + 1].tolist()
            out.extend([blob[x:y] for x, y in zip(edges, edges[1:], strict=False)])
        return out

    def raw_text(self, start: int, count: int) -> bytes:
        return self._slice(self.raw, self._raw_bounds, start, count)

    def escaped_text(self, start: int, count: int) -> bytes:
        return self._slice(self.escaped, self._esc_bounds, start, count)

    def raw_pieces(self, start: int, count: int) -> list[bytes]:
        return self._pieces(self.raw, self._raw_bounds, start, count)

    def escaped_pieces(self, start: int, count: int) -> list[bytes]:
        return self._pieces(self.escaped, self._esc_bounds, start, count)
