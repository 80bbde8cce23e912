"""corpus/loading.py: the `--corpus` file or generated articles; the generated corpus is cached
between runs (same bytes, rebuilt when damaged)."""

import re
from pathlib import Path

import pytest

from sanic_mock import __version__
from sanic_mock.corpus import io, loading, pregen
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.pool import TextPool
from tests import factories
from tests.factories import json_exchange


def test_second_load_reads_the_cache_and_gives_the_same_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = factories.settings(pregen_count=16, seed=3, cache_dir=tmp_path / "cache")
    first = loading.load_corpus(settings)
    (cached,) = (tmp_path / "cache").iterdir()
    assert cached == loading.cache_path(tmp_path / "cache", 16, 3)

    def no_generation(count: int, seed: int) -> None:
        raise AssertionError("generated again")

    monkeypatch.setattr(pregen, "generate", no_generation)
    second = loading.load_corpus(settings)
    assert io.dumps(second) == io.dumps(first)


def test_a_damaged_cache_file_is_rebuilt(tmp_path: Path) -> None:
    path = loading.cache_path(tmp_path, 8, 0)
    assert path is not None
    path.write_bytes(b"not a corpus")
    corpus = loading.cached_build(tmp_path, 8, 0)
    assert io.dumps(corpus) == io.dumps(loading.build(8, 0)) == path.read_bytes()


def test_an_unwritable_cache_folder_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    corpus = loading.cached_build(blocker / "cache", 8, 0)
    assert corpus.articles is not None and corpus.articles.article_count == 8


def test_without_a_cache_dir_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    loading.load_corpus(factories.settings(pregen_count=8, cache_dir=None))
    assert list(tmp_path.iterdir()) == []


def test_no_cache_when_the_generator_code_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pregen, "__file__", str(tmp_path / "gone.py"))
    assert loading.cache_path(tmp_path, 8, 0) is None
    corpus = loading.cached_build(tmp_path / "cache", 8, 0)
    assert corpus.articles is not None and not (tmp_path / "cache").exists()


def test_build_names_its_generator_and_generates_the_articles() -> None:
    corpus = loading.build(8, 5)
    assert corpus.kind == "articles" and not corpus.exchanges
    assert corpus.generator == {"tool": f"mock-openai {__version__}", "count": 8, "seed": 5}
    assert corpus.articles is not None and corpus.articles.article_count == 8
    assert corpus.articles.text == pregen.generate(8, 5).text


def test_the_cache_file_is_named_by_code_digest_count_and_seed(tmp_path: Path) -> None:
    path = loading.cache_path(tmp_path, 12, 34)
    assert path is not None and path.parent == tmp_path
    assert re.fullmatch(r"articles-[0-9a-f]{16}-12-34\.msgpack", path.name)
    assert loading.cache_path(tmp_path, 12, 35) != path


def test_a_corpus_file_is_read_instead_of_generating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    io.write(tmp_path / "articles", loading.build(8, 1))

    def no_generation(count: int, seed: int) -> None:
        raise AssertionError("generated")

    monkeypatch.setattr(pregen, "generate", no_generation)
    corpus = loading.load_corpus(factories.settings(corpus=tmp_path / "articles", seed=9))
    assert corpus.generator["seed"] == 1 and corpus.articles is not None
    assert corpus.articles.article_count == 8


def test_a_recorded_file_with_a_secret_needs_allow_secrets(tmp_path: Path) -> None:
    leaky = json_exchange("a", "sk-abcdefghijklmnopqrstuvwxyz")
    io.write(tmp_path / "rec", Corpus(kind="recorded", generator={}, exchanges=(leaky,)), True)
    with pytest.raises(CorpusError, match="--allow-secrets"):
        loading.load_corpus(factories.settings(corpus=tmp_path / "rec"))
    corpus = loading.load_corpus(factories.settings(corpus=tmp_path / "rec", allow_secrets=True))
    assert tuple(corpus.exchanges) == (leaky,)


def test_load_pools_serve_the_articles_and_refuse_a_recorded_corpus() -> None:
    pools = loading.load_pools(factories.settings(pregen_count=4, seed=2))
    pool = pools.default
    assert isinstance(pool, TextPool) and pools.pool("o200k_base") is pool
    assert pool.raw_text(0, pool.piece_count) == TextPool(pregen.generate(4, 2)).raw_text(
        0, pool.piece_count
    )
    cl100k = pools.pool("cl100k_base")
    assert cl100k.raw_text(0, cl100k.piece_count) == pool.raw_text(0, pool.piece_count)
    assert cl100k.piece_count != pool.piece_count
    recorded = Corpus(kind="recorded", generator={}, exchanges=(json_exchange("a", "b"),))
    with pytest.raises(CorpusError, match="corpus kind 'recorded' holds no articles"):
        loading.load_pools(factories.settings(), recorded)
