"""Ids in the real API's shapes: `chatcmpl-` / `cmpl-` + 29 alphanumerics, tool calls' `call_` + 24
alphanumerics, `req_` + 32 hex.

Ids are a random per-process stem plus a hex counter, so ids never repeat within a process and the
stem makes collisions across workers and restarts unlikely. The counter is written with `hex()` on
a number with a fixed top bit, which always has the same number of digits: a third of the cost of
`%08x` formatting, and ids are made on every request.
"""

from __future__ import annotations

import itertools
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_TAIL_BIT = 1 << 28  # hex(_TAIL_BIT | n) is "0x1" + 7 hex digits for n < _TAIL_BIT
_REQ_BIT = 1 << 60  # ... and "0x1" + 15 hex digits


class IdSource:
    """Response and request ids; `stem` (21 alphanumerics) and `request_stem` (16 hex digits)
    fix them for tests, otherwise they are random per source."""

    def __init__(self, stem: str | None = None, request_stem: str | None = None) -> None:
        # responses and their items: a prefix + 48 hex (40 from the stem, 8 of the counter)
        self._item = secrets.token_hex(20) if stem is None else (stem.encode().hex() * 2)[:40]
        if stem is None:
            stem = "".join(secrets.choice(_ALPHABET) for _ in range(29 - 8))
        self._chat = "chatcmpl-" + stem
        self._completion = "cmpl-" + stem
        self._call = "call_" + stem[:16]
        self._req = "req_" + (secrets.token_hex(8) if request_stem is None else request_stem)
        self._count = itertools.count(1)

    def chat(self) -> str:
        return self._chat + hex(_TAIL_BIT | (next(self._count) % _TAIL_BIT))[2:]

    def completion(self) -> str:
        return self._completion + hex(_TAIL_BIT | (next(self._count) % _TAIL_BIT))[2:]

    def call(self) -> str:
        """A tool call id: `call_` + 24 alphanumerics."""
        return self._call + hex(_TAIL_BIT | (next(self._count) % _TAIL_BIT))[2:]

    def item(self, prefix: str) -> str:
        """A Responses API id: `resp`, `msg`, `fc`, `rs`... + `_` + 48 hex digits."""
        return f"{prefix}_{self._item}{next(self._count) % _TAIL_BIT | _TAIL_BIT:x}"

    def request(self) -> str:
        return self._req + hex(_REQ_BIT | (next(self._count) % _REQ_BIT))[2:]
