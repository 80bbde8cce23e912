"""Where a worker's text pool comes from: the `--corpus` file, or articles generated at start-up
from `--pregen-count` and `--seed` (the same articles `corpus build` would write)."""

from __future__ import annotations

import ctypes
import hashlib
from pathlib import Path

from sanic_mock import encodings
from sanic_mock.corpus import cuts, io, lexicon, pregen
from sanic_mock.corpus import format as corpus_format
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.pool import Pools
from sanic_mock.settings import Settings

# The last corpus file read, by (path, allow_secrets, mtime, size): `serve` checks the file
# before it starts and its one worker process serves it, reading it once.
_last: tuple[tuple[str, bool, int, int], Corpus] | None = None


def read_once(path: Path, allow_secrets: bool) -> Corpus:
    """`io.read`, or the corpus this process read from the same unchanged file just before."""
    global _last
    try:
        stat = path.stat()
    except OSError:
        return io.read(path, allow_secrets=allow_secrets)  # says why, as a CorpusError
    key = (str(path.resolve()), allow_secrets, stat.st_mtime_ns, stat.st_size)
    if _last is not None and _last[0] == key:
        return _last[1]
    corpus = io.read(path, allow_secrets=allow_secrets)
    _last = (key, corpus)
    return corpus


def load_corpus(settings: Settings) -> Corpus:
    """The `--corpus` file (articles or recorded; a recorded one holding a key-like string is
    refused unless `--allow-secrets`), or articles generated from `--pregen-count`/`--seed`."""
    gen = settings.generation
    if gen.corpus is not None:
        return read_once(gen.corpus, settings.allow_secrets)
    if gen.cache_dir is None:
        return build(gen.pregen_count, gen.article_seed)
    return cached_build(gen.cache_dir, gen.pregen_count, gen.article_seed)


def build(count: int, seed: int) -> Corpus:
    from sanic_mock import __version__

    return Corpus(
        kind="articles",
        generator={"tool": f"mock-openai {__version__}", "count": count, "seed": seed},
        articles=pregen.generate(count, seed),
    )


def cache_path(cache_dir: Path, count: int, seed: int) -> Path | None:
    """The cache file of `build(count, seed)`, named by a digest of the code that makes it
    (None when that code cannot be read, e.g. a zipped install: then nothing is cached)."""
    digest = hashlib.sha256()
    try:
        for module in (pregen, lexicon, cuts, encodings, corpus_format):
            digest.update(Path(module.__file__ or "").read_bytes())
    except OSError:
        return None
    return cache_dir / f"articles-{digest.hexdigest()[:16]}-{count}-{seed}.msgpack"


def cached_build(cache_dir: Path, count: int, seed: int) -> Corpus:
    """`build(count, seed)`, read from `cache_dir` when an earlier run wrote it there.

    Generating the default 4096 articles takes ~1.2 s (0.5 s of it loading both tokenizers),
    reading them back ~0.1 s. The cache is
    best effort: an unreadable or damaged file is rebuilt, an unwritable folder ignored.
    """
    path = cache_path(cache_dir, count, seed)
    if path is None:
        return build(count, seed)
    try:
        return io.read(path)
    except (OSError, CorpusError):
        pass
    corpus = build(count, seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        io.write(path, corpus)
    except OSError:
        pass
    return corpus


def load_pools(settings: Settings, corpus: Corpus | None = None) -> Pools:
    pools = Pools((corpus or load_corpus(settings)).require_articles())
    _release_freed_memory()
    return pools


def _release_freed_memory() -> None:
    """Hand the building's temporaries back to the OS (glibc keeps freed heap otherwise).

    Generating 4096 articles peaks at ~100 MB of temporaries; without this the worker's RSS
    stays at that peak for its whole life.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
