"""Log probabilities for generated pieces, when a request asks for them.

The values are made up but stable: a piece's logprob depends only on the piece (so the same text
always gets the same numbers), alternatives come from a fixed list of common tokens with lower
logprobs. Shapes follow the spec: `ChatCompletionTokenLogprob` for chat, the legacy
`tokens/token_logprobs/top_logprobs/text_offset` object for completions.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

_ALTERNATIVES = (
    " the",
    " a",
    ",",
    ".",
    " and",
    " of",
    " to",
    " in",
    " is",
    " that",
    " for",
    " it",
    " with",
    " as",
    " on",
    " be",
    " this",
    " are",
    " or",
    " by",
)


def logprob(token: str) -> float:
    return -round((zlib.crc32(token.encode()) % 2000) / 1000.0, 4)


def _entry(token: str, value: float) -> dict[str, Any]:
    return {"token": token, "logprob": value, "bytes": list(token.encode("utf-8"))}


def chat_entry(piece: bytes, top: int) -> dict[str, Any]:
    token = piece.decode("utf-8", errors="replace")
    value = logprob(token)
    entry = _entry(token, value)
    alternatives = [_entry(token, value)]
    for i, alt in enumerate(a for a in _ALTERNATIVES if a != token):
        if len(alternatives) >= top:
            break
        alternatives.append(_entry(alt, round(value - 1.5 - i * 0.75, 4)))
    entry["top_logprobs"] = alternatives[:top]
    return entry


def chat_logprobs(pieces: list[bytes], top: int) -> bytes:
    """The `logprobs` object of a chat choice (or of one stream chunk's pieces)."""
    return orjson.dumps({"content": [chat_entry(p, top) for p in pieces], "refusal": None})


def completion_logprobs(pieces: list[bytes], top: int, offset: int) -> bytes:
    """The legacy completions `logprobs` object; `offset` is where the text starts."""
    tokens = [p.decode("utf-8", errors="replace") for p in pieces]
    offsets = []
    for t in tokens:
        offsets.append(offset)
        offset += len(t)
    tops = []
    for t in tokens:
        entry = chat_entry(t.encode("utf-8"), top)
        tops.append({alt["token"]: alt["logprob"] for alt in entry["top_logprobs"]})
    return orjson.dumps(
        {
            "tokens": tokens,
            "token_logprobs": [logprob(t) for t in tokens],
            "top_logprobs": tops,
            "text_offset": offsets,
        }
    )
