"""Where a worker's text pool comes from: the `--corpus` file, or articles generated at start-up
from `--pregen-count` and `--seed` (the same articles `corpus build` would write)."""

from __future__ import annotations

import ctypes

from sanic_mock.corpus import io, pregen
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.pool import TextPool
from sanic_mock.settings import Settings


def load_corpus(settings: Settings) -> Corpus:
    """The `--corpus` file (articles or recorded; a recorded one holding a key-like string is
    refused unless `--allow-secrets`), or articles generated from `--pregen-count`/`--seed`."""
    if settings.corpus is not None:
        return io.read(settings.corpus, allow_secrets=settings.allow_secrets)
    return build(settings.pregen_count, settings.seed)


def build(count: int, seed: int) -> Corpus:
    from sanic_mock import __version__

    return Corpus(
        kind="articles",
        generator={"tool": f"mock-openai {__version__}", "count": count, "seed": seed},
        articles=pregen.generate(count, seed),
    )


def load_pool(settings: Settings, corpus: Corpus | None = None) -> TextPool:
    pool = TextPool((corpus or load_corpus(settings)).require_articles())
    _release_freed_memory()
    return pool


def _release_freed_memory() -> None:
    """Hand the building's temporaries back to the OS (glibc keeps freed heap otherwise).

    Generating 4096 articles peaks at ~100 MB of temporaries; without this the worker's RSS
    stays at that peak for its whole life.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
