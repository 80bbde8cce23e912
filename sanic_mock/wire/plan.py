"""Decide what each choice says: length, position in the text pool, finish reason, stops.

`plan()` is pure given a `Sampler`: it draws a length ~ Normal(mean, stddev) and where in the
pool the text starts (the start of a block, `TextPool.start_at`), applies the
request's limits (`max_tokens`/`max_completion_tokens` cap it and give `finish_reason: "length"`;
`ignore_eos` with a limit gives exactly the limit; `min_tokens` raises the floor), then cuts the
text at the first `stop` sequence (finish_reason `"stop"`, the stop text itself not included).
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

from sanic_mock.corpus.pool import SEP, TextPool
from sanic_mock.sampling import Sampler
from sanic_mock.wire.requests import Generation


class Choice(NamedTuple):
    """One choice's text: `tokens` pieces from `start`, unless a stop sequence cut it (`cut`)."""

    start: int
    tokens: int
    finish_reason: str
    cut: tuple[bytes, ...] | None = None  # raw pieces after a stop cut, the last one maybe partial
    reasoning: int = 0  # hidden reasoning tokens spent before the text (reasoning models)
    reasoning_start: int = 0  # where the reasoning's text is in the pool (--reasoning-content)

    def escaped(self, pool: TextPool) -> bytes:
        if self.cut is None:
            return pool.escaped_text(self.start, self.tokens)
        return escape(b"".join(self.cut))

    def separated(self, pool: TextPool) -> bytes:
        """The escaped pieces joined by `SEP` (see `corpus/pool.py`)."""
        if self.cut is None:
            return pool.escaped_separated(self.start, self.tokens)
        return SEP.join(escape(p) for p in self.cut)

    def raw_pieces(self, pool: TextPool) -> list[bytes]:
        return pool.raw_pieces(self.start, self.tokens) if self.cut is None else list(self.cut)

    def raw(self, pool: TextPool) -> bytes:
        """The text, raw UTF-8."""
        return pool.raw_text(self.start, self.tokens) if self.cut is None else b"".join(self.cut)


def escape(raw: bytes) -> bytes:
    """Raw UTF-8 text as the inside of a JSON string."""
    return orjson.dumps(raw.decode("utf-8", errors="replace"))[1:-1]


def length_for(gen: Generation, drawn: int) -> tuple[int, str]:
    """(tokens, finish_reason) for a drawn length under the request's limits."""
    if gen.ignore_eos and gen.limit is not None:
        return gen.limit, "length"
    tokens = max(drawn, gen.min_tokens, 1)
    if gen.limit is not None and tokens >= gen.limit:
        return gen.limit, "length"
    return tokens, "stop"


def plan(gen: Generation, pool: TextPool, sampler: Sampler, count: int) -> list[Choice]:
    choices = []
    for _ in range(count):
        drawn, slot = sampler.draw()
        tokens, finish = length_for(gen, drawn)
        choice = Choice(pool.start_at(slot), tokens, finish)
        if gen.stop:
            choice = _apply_stop(choice, pool, gen.stop, gen.min_tokens)
        choices.append(choice)
    return choices


def _apply_stop(choice: Choice, pool: TextPool, stops: tuple[bytes, ...], floor: int) -> Choice:
    raw = pool.raw_text(choice.start, choice.tokens)
    hits = [i for i in (raw.find(s) for s in stops) if i >= 0]
    if not hits:
        return choice
    cut_at = min(hits)
    pieces: list[bytes] = []
    used = 0
    for piece in pool.raw_pieces(choice.start, choice.tokens):
        if used >= cut_at:
            break
        pieces.append(piece[: cut_at - used])
        used += len(piece)
    if len(pieces) < floor:  # min_tokens: generation may not stop before the floor
        return choice
    # A piece cut inside a multi-byte character keeps only whole characters.
    if pieces:
        pieces[-1] = pieces[-1].decode("utf-8", errors="ignore").encode("utf-8")
    kept = tuple(p for p in pieces if p)
    return Choice(choice.start, len(kept), "stop", kept)
