"""The mock API without a server: request bytes in, a `Reply` (body or SSE frames) out.

`MockAPI` holds one worker's state (text pool, sampler, id source) and turns each endpoint's
request body into the exact response bytes and the simulated timing. Transports (`app.py`) only
send what it returns.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

import orjson

from sanic_mock.corpus.pool import TextPool
from sanic_mock.errors import NotFound
from sanic_mock.sampling import Sampler, seeded
from sanic_mock.settings import Settings
from sanic_mock.wire import chat, completions, embeddings, models
from sanic_mock.wire.chat import Meta
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.plan import Choice, plan
from sanic_mock.wire.requests import Generation, parse_chat, parse_completion, parse_embedding

R = TypeVar("R")  # a parsed request: ChatRequest or CompletionRequest

JSON = "application/json"
EVENT_STREAM = "text/event-stream; charset=utf-8"


class Reply(NamedTuple):
    """A JSON body (`frames is None`) or SSE frames; `first_delay` before the first byte, then
    `event_delay` between frames (a JSON body waits as long as the stream would have taken)."""

    body: bytes
    frames: list[bytes] | None = None
    first_delay: float = 0.0
    event_delay: float = 0.0
    # Replay of recorded timing: frame k is due `offsets[k]` seconds after the request (uneven
    # gaps); when set it replaces first_delay/event_delay.
    offsets: tuple[float, ...] | None = None

    def at_once(self) -> tuple[bytes, str] | None:
        """The whole answer and its content type when all of it is due now: a JSON body without
        a delay, or an unpaced stream (every event due now, so all go out in one write). None
        when something must wait; each transport does the waiting its own way."""
        if self.frames is None:
            return None if self.first_delay else (self.body, JSON)
        if self.first_delay or self.event_delay or self.offsets is not None:
            return None
        return b"".join(self.frames), EVENT_STREAM


class MockAPI:
    def __init__(self, settings: Settings, pool: TextPool) -> None:
        self.settings = settings
        self.pool = pool
        self.sampler = Sampler(
            settings.token_mean,
            settings.token_stddev,
            pool.piece_count,
            settings.stream_tokens_min,
            settings.stream_tokens_max,
            seed=settings.seed,
        )
        self.ids = IdSource()
        self.fingerprint = b"fp_" + hashlib.sha256(b"%d" % settings.seed).hexdigest()[:10].encode()
        self.models_body = models.list_body(settings.models)
        self._model_bodies = {m: models.model_body(m) for m in settings.models}
        self._model_json_cache: dict[str, bytes] = {}
        self._first = settings.first_delay_s
        self._gap = settings.event_delay_s
        self._paced = bool(self._first or self._gap)

    # -- GET ---------------------------------------------------------------------------------
    def model(self, model_id: str) -> bytes:
        found = self._model_bodies.get(model_id)
        if found is None:
            raise NotFound(
                f"The model `{model_id}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        return found

    # -- POST --------------------------------------------------------------------------------
    def _plan(self, gen: Generation, count: int) -> tuple[list[Choice], Sampler]:
        sampler = self.sampler if gen.seed is None else seeded(gen.seed, gen.seed_key, self.sampler)
        return plan(gen, self.pool, sampler, count), sampler

    def _model_json(self, model: str) -> bytes:
        found = self._model_json_cache.get(model)
        if found is None:
            found = orjson.dumps(model)
            if len(self._model_json_cache) < 1024:
                self._model_json_cache[model] = found
        return found

    def _timed(self, body: bytes, sampler: Sampler, choices: list[Choice]) -> Reply:
        """A JSON reply that waits as long as the same answer streamed would have taken."""
        if not self._paced:
            return Reply(body)
        steps = 0
        for c in choices:
            groups = sampler.groups(c.tokens)
            steps = max(steps, c.tokens if groups is None else len(groups))
        return Reply(body, None, self._first + max(steps - 1, 0) * self._gap)

    def chat(self, raw: bytes) -> Reply:
        req = parse_chat(raw)
        return self._generate(req, req.gen, req.gen.n, self.ids.chat(), chat.body, chat.stream)

    def completions(self, raw: bytes) -> Reply:
        req = parse_completion(raw)
        count = req.gen.n * req.prompts
        return self._generate(
            req, req.gen, count, self.ids.completion(), completions.body, completions.stream
        )

    def _generate(
        self,
        req: R,
        gen: Generation,
        count: int,
        response_id: str,
        body: Callable[[Meta, R, list[Choice], TextPool], bytes],
        stream: Callable[
            [Meta, R, list[Choice], TextPool, list[list[int] | None], bool], list[bytes]
        ],
    ) -> Reply:
        choices, sampler = self._plan(gen, count)
        meta = Meta(
            response_id.encode(), int(time.time()), self._model_json(gen.model), self.fingerprint
        )
        if not gen.stream:
            return self._timed(body(meta, req, choices, self.pool), sampler, choices)
        groups = [sampler.groups(c.tokens) for c in choices]
        frames = stream(meta, req, choices, self.pool, groups, self._paced)
        return Reply(b"", frames, self._first, self._gap)

    def embeddings(self, raw: bytes) -> Reply:
        return Reply(embeddings.body(parse_embedding(raw)))
