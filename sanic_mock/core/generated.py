"""Generated answers: request bytes in, a `Reply` of text drawn from the article pool out.

`MockAPI` holds one worker's state (text pool, sampler, id source, clock) and turns each POST
endpoint's request body into the exact response bytes (`wire/`) and the simulated timing
(`--first-token-delay-ms`, `--response-delay-ms`). It is one of the two `Answerer`s of
`core/service.py`; the other replays a recorded corpus (`core/replayed.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

import orjson

from sanic_mock.core.reply import SYSTEM, Clock, Reply
from sanic_mock.corpus.pool import Pools, TextPool
from sanic_mock.encodings import encoding_name
from sanic_mock.sampling import Sampler, fresh_seed, seeded
from sanic_mock.settings import GenerationSettings, TimingSettings, TokenCount
from sanic_mock.tokens import PromptCounter
from sanic_mock.wire import chat, completions, embeddings, sse
from sanic_mock.wire.chat import Meta
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.models import Catalog
from sanic_mock.wire.plan import Choice, plan
from sanic_mock.wire.requests import Generation, parse_chat, parse_completion, parse_embedding

R = TypeVar("R")  # a parsed request: ChatRequest or CompletionRequest


class MockAPI:
    def __init__(
        self,
        pools: Pools,
        gen: GenerationSettings,
        timing: TimingSettings,
        models: tuple[str, ...],
        clock: Clock = SYSTEM,
        ids: IdSource | None = None,
        obfuscation: tuple[bytes, ...] = sse.OBFUSCATION,
    ) -> None:
        self.pools = pools
        self.sampler = Sampler(
            gen.token_mean,
            gen.token_stddev,
            pools.start_count,
            gen.stream_tokens_min,
            gen.stream_tokens_max,
            seed=fresh_seed(gen.seed),
        )
        self.count = PromptCounter(gen.token_count is TokenCount.EXACT).warm()
        self.ids = ids or IdSource()
        self.catalog = Catalog(models)
        self.clock = clock
        self.obfuscation = obfuscation
        digest = hashlib.sha256(b"%d" % gen.article_seed).hexdigest()
        self.fingerprint = b"fp_" + digest[:10].encode()
        self._model_json_cache: dict[str, bytes] = {}
        self._first = timing.first_delay_s
        self._gap = timing.event_delay_s
        self._paced = bool(self._first or self._gap)

    def _plan(self, gen: Generation, pool: TextPool, count: int) -> tuple[list[Choice], Sampler]:
        sampler = self.sampler if gen.seed is None else seeded(gen.seed, gen.seed_key, self.sampler)
        return plan(gen, pool, sampler, count), sampler

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
        req = parse_chat(raw, self.count)
        return self._generate(req, req.gen, req.gen.n, self.ids.chat(), chat.body, chat.stream)

    def completions(self, raw: bytes) -> Reply:
        req = parse_completion(raw, self.count)
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
        # The text is cut into the tokens of the model's encoding (usage counts them).
        pool = self.pools.pool(encoding_name(gen.model))
        choices, sampler = self._plan(gen, pool, count)
        created = int(self.clock.wall())
        model_json = self._model_json(gen.model)
        if not gen.stream:
            meta = Meta(response_id.encode(), created, model_json, self.fingerprint)
            return self._timed(body(meta, req, choices, pool), sampler, choices)
        obfuscation = sse.obfuscation_field(created, self.obfuscation)
        meta = Meta(response_id.encode(), created, model_json, self.fingerprint, obfuscation)
        groups = [sampler.groups(c.tokens) for c in choices]
        frames = stream(meta, req, choices, pool, groups, self._paced)
        return Reply(b"", frames, self._first, self._gap)

    def embeddings(self, raw: bytes) -> Reply:
        return Reply(embeddings.body(parse_embedding(raw, self.count)))
