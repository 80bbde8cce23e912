"""`mock-openai corpus build|inspect|import|merge|verify|show|diff`: make and review corpora."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from sanic_mock.cli.options import AllowSecretsOption
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.settings import SettingsError

if TYPE_CHECKING:
    from sanic_mock.corpus.exchanges import Exchange
    from sanic_mock.corpus.format import Corpus


def corpus_build(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    count: Annotated[int, typer.Option(help="Number of articles.")] = 4096,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 0,
) -> None:
    """Generate an article corpus; the same count and seed give the same bytes."""
    from sanic_mock.corpus import io
    from sanic_mock.corpus.loading import build

    if count < 1:
        raise SettingsError(f"--count must be at least 1, got {count}")
    if seed < 0:
        raise SettingsError(f"--seed must be >= 0, got {seed}")
    corpus = build(count, seed)
    io.write(out, corpus)
    a = corpus.require_articles()
    size = out.stat().st_size
    tokens = ", ".join(f"{a.cut(e).piece_count} {e} tokens" for e in a.encodings)
    print(f"wrote {out}: {a.article_count} articles, {tokens}, {size} bytes")


def corpus_inspect(path: Annotated[Path, typer.Argument(help="Corpus file.")]) -> None:
    """Print a corpus file's header and statistics."""
    import numpy as np

    from sanic_mock.corpus import io
    from sanic_mock.corpus.format import FORMAT_NAME, FORMAT_VERSION

    corpus = io.read(path, allow_secrets=True)
    if corpus.articles is None:
        _inspect_recorded(path, corpus)
        return
    a = corpus.articles
    per_article = np.diff(np.concatenate(([0], a.article_ends.astype(np.int64))))
    print(f"file:        {path} ({path.stat().st_size} bytes)")
    print(f"format:      {FORMAT_NAME} v{FORMAT_VERSION}")
    print(f"kind:        {corpus.kind}")
    for key, value in sorted(corpus.generator.items()):
        print(f"generator:   {key} = {value}")
    print(f"articles:    {a.article_count}")
    for name in a.encodings:
        n = a.cut(name).piece_count
        print(f"tokens:      {n} {name} ({len(a.text) / n:.2f} bytes per token)")
    print(
        f"per article: min {per_article.min()}, median {int(np.median(per_article))}, "
        f"max {per_article.max()} tokens"
    )
    print(f"text bytes:  {len(a.text)}")
    print("first article begins:")
    for line in a.article_text(0)[:300].splitlines():
        print(f"  | {line}")


def _inspect_recorded(path: Path, corpus: Corpus) -> None:
    from sanic_mock.corpus.format import FORMAT_NAME, FORMAT_VERSION
    from sanic_mock.corpus.review import listing

    streams = sum(e.streamed for e in corpus.exchanges)
    print(f"file:        {path} ({path.stat().st_size} bytes)")
    print(f"format:      {FORMAT_NAME} v{FORMAT_VERSION}")
    print(f"kind:        {corpus.kind}")
    for key, value in sorted(corpus.generator.items()):
        print(f"generator:   {key} = {value}")
    print(f"exchanges:   {len(corpus.exchanges)} ({streams} streamed)")
    for line in listing(corpus):
        print(line)


def _write_recorded(out: Path, exchanges: list[Exchange], tool: str, allow: bool) -> None:
    from sanic_mock.corpus import io
    from sanic_mock.corpus.format import Corpus

    if not exchanges:
        raise CorpusError("no exchanges to write")
    corpus = Corpus(kind="recorded", generator={"tool": tool}, exchanges=tuple(exchanges))
    io.write(out, corpus, allow_secrets=allow)
    print(f"wrote {out}: {len(corpus.exchanges)} exchanges, {out.stat().st_size} bytes")


def corpus_import(
    sources: Annotated[
        list[Path],
        typer.Argument(help="VCR/pytest-recording cassettes (.yaml/.yml/.json) or JSONL files."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Recorded corpus to write.")],
    allow_secrets: AllowSecretsOption = False,
) -> None:
    """Make a recorded corpus from cassettes or JSONL exchanges (also a recorder's journal)."""
    from sanic_mock.corpus.importers import import_file

    exchanges = [e for source in sources for e in import_file(source)]
    _write_recorded(out, exchanges, "mock-openai corpus import", allow_secrets)


def corpus_merge(
    sources: Annotated[list[Path], typer.Argument(help="Recorded corpora.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Recorded corpus to write.")],
    allow_secrets: AllowSecretsOption = False,
) -> None:
    """Merge recorded corpora into one (exact duplicates kept once)."""
    from sanic_mock.corpus import io
    from sanic_mock.corpus.exchanges import canonical_json, to_doc

    seen: set[bytes] = set()
    exchanges = []
    for source in sources:
        for ex in io.read(source, allow_secrets=allow_secrets).exchanges:
            key = canonical_json(to_doc(ex))
            if key not in seen:
                seen.add(key)
                exchanges.append(ex)
    _write_recorded(out, exchanges, "mock-openai corpus merge", allow_secrets)


def corpus_verify(path: Annotated[Path, typer.Argument(help="Corpus file.")]) -> None:
    """Check a corpus: format, the shape of every recorded answer, and the secret scan."""
    from sanic_mock.corpus import io
    from sanic_mock.corpus.review import check

    corpus = io.read(path, allow_secrets=True)
    found = check(corpus) if corpus.articles is None else []
    for line in found:
        print(line)
    count = len(corpus.exchanges) if corpus.articles is None else corpus.articles.article_count
    if found:
        print(f"{path}: {len(found)} problem(s)", file=sys.stderr)
        sys.exit(1)
    print(f"{path}: ok ({corpus.kind}, {count} {'exchanges' if corpus.exchanges else 'articles'})")


def corpus_show(
    path: Annotated[Path, typer.Argument(help="Corpus file.")],
    exchange: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--exchange", "-e", help="Only exchange N (numbered as `inspect` does)."),
    ] = None,
    wire: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--format",
            help="With --exchange: its answer as replay sends it, 'sse' frames or one 'json' body "
            "(recorded ids; converted if recorded the other way).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print a corpus as indented JSON (sorted keys, file order) for review, diffs and git's
    textconv (`git config diff.mock-openai.textconv "mock-openai corpus show"`)."""
    from sanic_mock.corpus import io
    from sanic_mock.corpus.review import show, show_exchange

    if wire is not None and wire not in ("sse", "json"):
        raise SettingsError(f"--format must be sse or json, got {wire!r}")
    if wire is not None and exchange is None:
        raise SettingsError("--format needs --exchange N")
    corpus = io.read(path, allow_secrets=True)
    if exchange is None:
        sys.stdout.buffer.write(show(corpus))
        return
    count = len(corpus.exchanges)
    if not 0 <= exchange < count:
        raise CorpusError(f"{path}: no exchange {exchange} (it holds {count})")
    ex = corpus.exchanges[exchange]
    if wire is None:
        sys.stdout.buffer.write(show_exchange(ex))
        return
    from sanic_mock.wire.replayed import as_sent

    body = as_sent(ex, stream=wire == "sse")
    sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")


def corpus_diff(
    old: Annotated[Path, typer.Argument(help="Recorded corpus before.")],
    new: Annotated[Path, typer.Argument(help="Recorded corpus after.")],
) -> None:
    """What changed between two recorded corpora, one line per exchange (exit 1 if anything)."""
    from sanic_mock.corpus import io
    from sanic_mock.corpus.review import diff

    a, b = io.read(old, allow_secrets=True), io.read(new, allow_secrets=True)
    if a.articles is not None or b.articles is not None:
        raise CorpusError(
            "corpus diff compares recorded corpora (`corpus show` both to diff articles)"
        )
    lines = diff(a, b)
    print(f"--- {old} ({len(a.exchanges)} exchanges)")
    print(f"+++ {new} ({len(b.exchanges)} exchanges)")
    for line in lines:
        print(line)
    if not lines:
        print("no changes")
    counts = {sign: sum(line.startswith(sign) for line in lines) for sign in "+-~"}
    if lines:
        print(f"{counts['+']} added, {counts['-']} removed, {counts['~']} changed", file=sys.stderr)
        sys.exit(1)
