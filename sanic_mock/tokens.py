"""Token pieces: how text is cut into token-sized strings, and how prompts are counted.

The original server counts 1 token as about 4 characters. Corpus text is stored already cut into
pieces that follow that rule and look like a BPE tokenizer's output: a word keeps its leading
space (" hello"), punctuation and line breaks are their own pieces, and a unit longer than five
characters is cut into near-equal parts of about four characters. `usage.completion_tokens` is
the number of pieces sent, so it is exact.

Prompts are not cut (that would cost time on every request): `estimate_tokens(text)` is
`ceil(len(text) / 4)` characters, at least 1 for non-empty text.
"""

from __future__ import annotations

import re

_UNIT = re.compile(r" ?[^\W_]+| ?[^\s\w]+| ?_+|\n+|[^\S\n]+")
CHARS_PER_TOKEN = 4


def split_pieces(text: str) -> list[str]:
    """Cut `text` into token pieces; `"".join(split_pieces(t)) == t` for every string."""
    pieces: list[str] = []
    for unit in _UNIT.findall(text):
        n = len(unit)
        if n <= CHARS_PER_TOKEN + 1:
            pieces.append(unit)
            continue
        parts = -(-n // CHARS_PER_TOKEN)
        step, extra = divmod(n, parts)
        start = 0
        for i in range(parts):
            end = start + step + (1 if i < extra else 0)
            pieces.append(unit[start:end])
            start = end
    return pieces


def tokens_for_chars(chars: int) -> int:
    """Prompt-side token estimate for `chars` characters: ceil(chars / 4)."""
    return -(-chars // CHARS_PER_TOKEN)


def estimate_tokens(text: str) -> int:
    return tokens_for_chars(len(text))
