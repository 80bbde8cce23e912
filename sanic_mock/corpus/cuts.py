"""Cutting text into real tokens: the pieces of every encoding a corpus holds.

`cut_texts(texts, encoding)` encodes each text with tiktoken and returns the byte length of every
token and, per text, the piece index where it ends. A token that ends inside a UTF-8 character
(cl100k_base spells much CJK and Greek text in byte pieces) is joined to the next one, so that every
piece is valid text for a JSON string: such a piece holds more than one token, which the
pre-generated articles never need (`pregen.py` checks), but an old file's text may.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sanic_mock import encodings

U32 = npt.NDArray[np.uint32]


def token_lengths(text: str, encoding: str, strict: bool = False) -> list[int]:
    """Byte lengths of `text`'s tokens in `encoding`, partial characters joined (see above);
    `strict`: a token that splits a character is a `ValueError` instead."""
    enc = encodings.get(encoding)
    out: list[int] = []
    pending = b""
    for token in enc.decode_tokens_bytes(enc.encode_ordinary(text)):
        pending += token
        try:
            pending.decode("utf-8")
        except UnicodeDecodeError:
            if strict:
                raise ValueError(f"{text!r}: a {encoding} token splits a character") from None
            continue  # the character goes on in the next token
        out.append(len(pending))
        pending = b""
    return out


def cut_texts(texts: Sequence[str], encoding: str) -> tuple[U32, U32]:
    """(piece ends in bytes, article ends in pieces) of `texts` laid end to end."""
    lengths: list[int] = []
    ends: list[int] = []
    for text in texts:
        lengths += token_lengths(text, encoding)
        ends.append(len(lengths))
    return (
        np.cumsum(np.asarray(lengths, dtype=np.uint64)).astype(np.uint32),
        np.asarray(ends, dtype=np.uint32),
    )
