"""Where a worker's text pool comes from: the `--corpus` file, or articles generated at start-up
from `--pregen-count` and `--seed` (the same articles `corpus build` would write)."""

from __future__ import annotations

from sanic_mock.corpus import io, pregen
from sanic_mock.corpus.format import Corpus, CorpusError
from sanic_mock.corpus.pool import TextPool
from sanic_mock.settings import Settings


def load_corpus(settings: Settings) -> Corpus:
    if settings.corpus is not None:
        corpus = io.read(settings.corpus)
        if corpus.kind != "articles":
            raise CorpusError(
                f"{settings.corpus}: corpus kind {corpus.kind!r} cannot be served by this version"
            )
        return corpus
    return build(settings.pregen_count, settings.seed)


def build(count: int, seed: int) -> Corpus:
    from sanic_mock import __version__

    return Corpus(
        kind="articles",
        generator={"tool": f"mock-openai {__version__}", "count": count, "seed": seed},
        articles=pregen.generate(count, seed),
    )


def load_pool(settings: Settings) -> TextPool:
    return TextPool(load_corpus(settings).articles)
