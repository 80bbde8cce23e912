"""The generated corpus is cached between runs: same bytes, rebuilt when damaged."""

from pathlib import Path

import pytest

from sanic_mock.corpus import io, loading, pregen
from tests import factories


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
