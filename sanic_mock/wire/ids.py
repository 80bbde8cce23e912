"""Response ids in the real API's shapes: `chatcmpl-` / `cmpl-` + 29 alphanumerics, `req_` + 32 hex.

Ids are a random per-process stem plus a hex counter, so making one costs a few hundred nanoseconds
and ids never repeat within a process; the stem makes collisions across workers and restarts
unlikely.
"""

from __future__ import annotations

import itertools
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_COUNTER_DIGITS = 8  # hex digits of the counter at the end of an id
_TAIL_MASK = 16**_COUNTER_DIGITS - 1


class IdSource:
    def __init__(self) -> None:
        self._stem = "".join(secrets.choice(_ALPHABET) for _ in range(29 - _COUNTER_DIGITS))
        self._req_stem = secrets.token_hex(8)
        self._count = itertools.count(1)

    def _tail(self) -> str:
        return f"{self._stem}{next(self._count) & _TAIL_MASK:08x}"

    def chat(self) -> str:
        return "chatcmpl-" + self._tail()

    def completion(self) -> str:
        return "cmpl-" + self._tail()

    def request(self) -> str:
        return f"req_{self._req_stem}{next(self._count):016x}"
