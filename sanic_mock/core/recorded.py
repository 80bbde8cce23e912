"""What every replayed answer shares: the `x-mock-replay` headers and a recorded error answer.

A hit carries `x-mock-replay: hit` and `x-mock-replay-exchange: N` (the exchange's number in
`corpus inspect`), anything else `x-mock-replay: miss`. A recorded error answer is replayed
with its own status and body; what a replayed answer tells `/metrics` (`Told`). Used by
`core/replayed.py` and `core/replayed_responses.py`.
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

from sanic_mock.core.reply import Kept
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.errors import OpenAIError
from sanic_mock.wire.models import Headers

MISS: Headers = ((b"x-mock-replay", b"miss"),)


def hit(number: int) -> Headers:
    return ((b"x-mock-replay", b"hit"), (b"x-mock-replay-exchange", b"%d" % number))


class RecordedError(OpenAIError):
    """A recorded error answer, replayed with its own status and body."""

    def __init__(self, ex: Exchange, headers: Headers) -> None:
        body = orjson.dumps(ex.body) if ex.body is not None else (ex.text or "").encode()
        super().__init__(body.decode(errors="replace"))
        self.status = ex.status
        self.headers = headers
        self._body = body

    def render(self) -> bytes:
        return self._body


class Recorded(NamedTuple):
    """What a replayed request asked for, as `/metrics` counts it (`core.reply.Asked`): the
    answer's model and recorded `usage.prompt_tokens` (the request's count when it has none)."""

    model: str
    prompt_tokens: int
    limit: int | None


# What an answer tells `/metrics` (`Reply.asked`, `Reply.said`); (None, ()): nothing.
Told = tuple[Recorded | None, tuple[Kept, ...]]
