"""The worker's `Service`: its answerer chosen by the corpus it serves, built once per worker."""

from __future__ import annotations

from sanic_mock.core.generated import MockAPI
from sanic_mock.core.limits import Limits
from sanic_mock.core.load import Engine
from sanic_mock.core.metrics import Meter
from sanic_mock.core.replayed import ReplayAPI
from sanic_mock.core.reply import SYSTEM, Clock
from sanic_mock.core.service import Answerer, Service
from sanic_mock.corpus.loading import load_corpus, load_pools
from sanic_mock.sampling import fresh_seed
from sanic_mock.settings import FAULT_TYPES, Settings, TokenCount
from sanic_mock.tokens import PromptCounter
from sanic_mock.wire.ids import IdSource


def answerer_for(
    settings: Settings, clock: Clock = SYSTEM, ids: IdSource | None = None
) -> Answerer:
    """Generated answers from articles, or replay of a recorded corpus."""
    corpus = load_corpus(settings)
    if corpus.articles is None:
        models, seed = settings.server.models, fresh_seed(settings.generation.seed)
        count = PromptCounter(settings.generation.token_count is TokenCount.EXACT)
        size = settings.server.response_store_size
        return ReplayAPI(corpus, settings.replay, models, seed, clock, ids, count, size)
    pools = load_pools(settings, corpus)
    return MockAPI(
        pools,
        settings.generation,
        settings.timing,
        settings.server.models,
        clock,
        ids,
        tools=settings.tools,
        reasoning=settings.reasoning,
        store_size=settings.server.response_store_size,
    )


def service_for(settings: Settings) -> Service:
    rpm, tpm, slots = settings.limits.rpm, settings.limits.tpm, settings.limits.max_concurrency
    limits = Limits(rpm, tpm, SYSTEM.monotonic()) if rpm or tpm else None
    engine = Engine(slots, settings.limits.load_factor) if slots else None
    server = settings.server
    meter = Meter(FAULT_TYPES, server.metrics_dir) if server.metrics else None
    return Service(
        answerer_for(settings),
        server.authorization,
        faults=settings.faults,
        seed=fresh_seed(settings.generation.seed),
        limits=limits,
        engine=engine,
        meter=meter,
    )
