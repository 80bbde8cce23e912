"""The `mock-openai` command line: `serve` and `corpus build|inspect`.

The only module that reads the environment: each option also comes from `MOCK_OPENAI_<NAME>`
(the original server's names, e.g. `MOCK_OPENAI_PREG_COUNT`). The command line beats the
environment, which beats the default. Bad values exit with code 2 and a one-line message.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from sanic_mock import __version__
from sanic_mock.corpus.format import CorpusError
from sanic_mock.settings import DEFAULT_MODELS, Settings, SettingsError

if TYPE_CHECKING:
    from sanic_mock.corpus.exchanges import Exchange
    from sanic_mock.corpus.format import Corpus

app = typer.Typer(
    name="mock-openai",
    help="A high-performance mock of the OpenAI API for benchmarking and local development.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
corpus_app = typer.Typer(help="Build and inspect corpus files.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")

ENV = "MOCK_OPENAI_"

try:  # typer >= 0.24 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer on click
    from click import UsageError  # type: ignore[assignment]


def _version(value: bool) -> None:
    if value:
        print(f"mock-openai {__version__}")
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option("-V", "--version", callback=_version, is_eager=True, help="Print the version."),
]
UpstreamKeyEnvOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="Name of an environment variable holding the upstream API key (sent as "
        "'Authorization: Bearer', replacing the client's).",
    ),
]
AllowSecretsOption = Annotated[
    bool,
    typer.Option(
        "--allow-secrets",
        help="Write or load recorded exchanges even if they hold key-like strings.",
    ),
]


def _upstream_key(variable: str | None) -> str | None:
    if variable is None:
        return None
    key = os.environ.get(variable)
    if not key:
        raise SettingsError(f"--upstream-key-env {variable}: the variable is not set")
    return key


@app.callback()
def root(version: VersionOption = False) -> None:
    """mock-openai: serve, record and inspect OpenAI API mocks."""


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mock-openai"


@app.command()
def serve(
    port: Annotated[
        int, typer.Option("-p", "--port", envvar=ENV + "PORT", help="TCP port.")
    ] = 3000,
    host: Annotated[str, typer.Option(envvar=ENV + "HOST", help="Address to bind.")] = "127.0.0.1",
    pregen_count: Annotated[
        int,
        typer.Option(
            envvar=[ENV + "PREG_COUNT", ENV + "PREGEN_COUNT"],
            help="Articles generated at start-up when no --corpus is given.",
        ),
    ] = 4096,
    token_mean: Annotated[
        float, typer.Option(envvar=ENV + "TOKEN_MEAN", help="Mean completion length (tokens).")
    ] = 256,
    token_stddev: Annotated[
        float, typer.Option(envvar=ENV + "TOKEN_STDDEV", help="Stddev of completion length.")
    ] = 64,
    response_delay_ms: Annotated[
        float,
        typer.Option(envvar=ENV + "RESPONSE_DELAY_MS", help="Delay between streamed events (ms)."),
    ] = 0,
    first_token_delay_ms: Annotated[
        Optional[float],  # noqa: UP045 - typer needs Optional on Python 3.10
        typer.Option(
            envvar=ENV + "FIRST_TOKEN_DELAY_MS",
            help="Delay before the first event (ms); default: --response-delay-ms.",
        ),
    ] = None,
    stream_tokens_min: Annotated[
        int, typer.Option(envvar=ENV + "STREAM_TOKENS_MIN", help="Fewest tokens per SSE event.")
    ] = 1,
    stream_tokens_max: Annotated[
        int, typer.Option(envvar=ENV + "STREAM_TOKENS_MAX", help="Most tokens per SSE event.")
    ] = 1,
    corpus: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(envvar=ENV + "CORPUS", help="Corpus file to serve (default: generated)."),
    ] = None,
    seed: Annotated[
        int, typer.Option(envvar=ENV + "SEED", help="Seed for articles and draws.")
    ] = 0,
    cache_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            envvar=ENV + "CACHE_DIR",
            help="Where the generated corpus is cached between runs "
            "[default: $XDG_CACHE_HOME/mock-openai or ~/.cache/mock-openai].",
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(envvar=ENV + "NO_CACHE", help="Generate the corpus on every start."),
    ] = False,
    model: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--model",
            envvar=ENV + "MODEL",
            help="Model id listed by /v1/models (repeatable; env: space-separated).",
        ),
    ] = None,
    api_key: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(envvar=ENV + "API_KEY", help="Require 'Authorization: Bearer <key>'."),
    ] = None,
    workers: Annotated[int, typer.Option(envvar=ENV + "WORKERS", help="Worker processes.")] = 1,
    max_body_bytes: Annotated[
        int, typer.Option(envvar=ENV + "MAX_BODY_BYTES", help="Largest request body (413 above).")
    ] = 16 * 1024 * 1024,
    tls_cert: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(envvar=ENV + "TLS_CERT", help="PEM certificate (with --tls-key)."),
    ] = None,
    tls_key: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(envvar=ENV + "TLS_KEY", help="PEM private key (with --tls-cert)."),
    ] = None,
    http2: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--http2/--no-http2",
            envvar=ENV + "HTTP2",
            help="Serve HTTP/2 (h2c without TLS). Default: on with TLS; --no-http2 with TLS "
            "serves HTTPS/1.1 on Sanic alone.",
            show_default=False,
        ),
    ] = None,
    http2_engine: Annotated[
        str,
        typer.Option(envvar=ENV + "HTTP2_ENGINE", help="HTTP/2 server: hypercorn or granian."),
    ] = "hypercorn",
    http3: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--http3/--no-http3",
            envvar=ENV + "HTTP3",
            help="Serve HTTP/3 on UDP, same port. Default: on with TLS and hypercorn.",
            show_default=False,
        ),
    ] = None,
    replay: Annotated[
        str,
        typer.Option(
            envvar=ENV + "REPLAY",
            help="Recorded corpus: 'match' requests to recorded ones, or 'sample' any answer.",
        ),
    ] = "match",
    on_miss: Annotated[
        str,
        typer.Option(
            envvar=ENV + "ON_MISS",
            help="Recorded corpus, unmatched request: sample | error | proxy (with --upstream).",
        ),
    ] = "sample",
    replay_timing: Annotated[
        str,
        typer.Option(
            envvar=ENV + "REPLAY_TIMING",
            help="Recorded corpus: none | recorded | scaled:F (recorded gaps times F).",
        ),
    ] = "none",
    match_ignore: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--match-ignore",
            envvar=ENV + "MATCH_IGNORE",
            help="Request field left out of matching, besides stream, user, metadata... "
            "(repeatable).",
        ),
    ] = None,
    upstream: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(envvar=ENV + "UPSTREAM", help="Upstream base URL for --on-miss proxy."),
    ] = None,
    upstream_key_env: UpstreamKeyEnvOption = None,
    allow_secrets: AllowSecretsOption = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", envvar=ENV + "VERBOSE", help="Log every request.")
    ] = False,
    version: VersionOption = False,
) -> None:
    """Serve the mock OpenAI API."""
    settings = Settings(
        host=host,
        port=port,
        pregen_count=pregen_count,
        token_mean=token_mean,
        token_stddev=token_stddev,
        response_delay_ms=response_delay_ms,
        first_token_delay_ms=first_token_delay_ms,
        stream_tokens_min=stream_tokens_min,
        stream_tokens_max=stream_tokens_max,
        corpus=corpus,
        seed=seed,
        cache_dir=None if no_cache else (cache_dir or _default_cache_dir()),
        models=tuple(model) if model else DEFAULT_MODELS,
        api_key=api_key,
        workers=workers,
        max_body_bytes=max_body_bytes,
        tls_cert=tls_cert,
        tls_key=tls_key,
        http2=http2,
        http2_engine=http2_engine,
        http3=http3,
        verbose=verbose,
        replay=replay,
        on_miss=on_miss,
        replay_timing=replay_timing,
        match_ignore=tuple(match_ignore or ()),
        upstream=upstream,
        upstream_key=_upstream_key(upstream_key_env),
        allow_secrets=allow_secrets,
    )
    from sanic_mock.corpus.loading import load_corpus

    if settings.tls_cert is not None and settings.tls_key is not None:
        from sanic_mock.run.tls import server_context

        server_context(settings.tls_cert, settings.tls_key)  # bad files: one line, exit 2
    if settings.corpus is not None or settings.workers > 1:
        # A bad file fails here, on one line, before any worker starts; several workers find
        # the generated corpus cached rather than each generating it.
        load_corpus(settings)
    if not settings.serves_http2:
        from sanic_mock.run import sanic as run_sanic

        run_sanic.serve(settings)
    elif settings.http2_engine == "granian":
        from sanic_mock.run import granian as run_granian

        run_granian.serve(settings)
    else:
        from sanic_mock.run import hypercorn as run_hypercorn

        run_hypercorn.serve(settings)


@app.command()
def cert(
    out_dir: Annotated[
        Path, typer.Option("--out-dir", "-o", help="Directory for cert.pem and key.pem.")
    ] = Path("."),
    name: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--name", help="Host name or IP (repeatable; default: localhost, 127.0.0.1, ::1)."
        ),
    ] = None,
    days: Annotated[int, typer.Option(help="Days of validity.")] = 365,
) -> None:
    """Make a self-signed certificate and key (for --tls-cert/--tls-key in tests and demos)."""
    from sanic_mock.run import certs

    names = tuple(name) if name else certs.DEFAULT_NAMES
    cert_path, key_path = certs.write(out_dir, names, days)
    print(f"wrote {cert_path} and {key_path} for {', '.join(names)} ({days} days)")
    print(f"serve: mock-openai serve --tls-cert {cert_path} --tls-key {key_path}")


@corpus_app.command("build")
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
    print(f"wrote {out}: {a.article_count} articles, {a.piece_count} tokens, {size} bytes")


@corpus_app.command("inspect")
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
    print(f"tokens:      {a.piece_count} ({len(a.text) / a.piece_count:.2f} bytes per token)")
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


@app.command()
def record(
    upstream: Annotated[
        str,
        typer.Option(
            envvar=ENV + "UPSTREAM",
            help="Upstream base URL as an SDK takes it, e.g. https://api.openai.com/v1.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Corpus file to write.")],
    port: Annotated[int, typer.Option("-p", "--port", help="TCP port of the proxy.")] = 3000,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    append: Annotated[
        bool,
        typer.Option(
            "--append", help="Add to the exchanges already in --out instead of replacing."
        ),
    ] = False,
    requests: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Batch mode: send the requests of this JSONL file, no proxy."),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Batch mode: requests in flight at once.")] = 4,
    upstream_key_env: UpstreamKeyEnvOption = None,
    allow_secrets: AllowSecretsOption = False,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body (413 above).")] = (
        16 << 20
    ),
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log every request.")] = False,
) -> None:
    """Record real traffic: a reverse proxy to --upstream that writes every exchange to --out."""
    settings = Settings(
        host=host,
        port=port,
        upstream=upstream,
        upstream_key=_upstream_key(upstream_key_env),
        record_out=out,
        record_append=append,
        allow_secrets=allow_secrets,
        max_body_bytes=max_body_bytes,
        verbose=verbose,
    )
    if not out.parent.is_dir():
        raise SettingsError(f"--out {out}: no such folder {out.parent}")
    if requests is not None:
        from sanic_mock.record.batch import run_batch

        if concurrency < 1:
            raise SettingsError(f"--concurrency must be at least 1, got {concurrency}")
        if not requests.is_file():
            raise SettingsError(f"--requests {requests}: no such file")
        count, failed = run_batch(
            upstream, settings.upstream_key, requests, out, append, allow_secrets, concurrency
        )
        print(f"wrote {out}: {count} exchanges ({failed} failed)")
        return
    from sanic_mock.run import sanic as run_sanic

    run_sanic.serve(settings)


def _write_recorded(out: Path, exchanges: list[Exchange], tool: str, allow: bool) -> None:
    from sanic_mock.corpus import io
    from sanic_mock.corpus.format import Corpus

    if not exchanges:
        raise CorpusError("no exchanges to write")
    corpus = Corpus(kind="recorded", generator={"tool": tool}, exchanges=tuple(exchanges))
    io.write(out, corpus, allow_secrets=allow)
    print(f"wrote {out}: {len(corpus.exchanges)} exchanges, {out.stat().st_size} bytes")


@corpus_app.command("import")
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


@corpus_app.command("merge")
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


@corpus_app.command("verify")
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


@corpus_app.command("show")
def corpus_show(path: Annotated[Path, typer.Argument(help="Recorded corpus file.")]) -> None:
    """Print a recorded corpus as indented JSON (sorted keys, file order) for review and diffs."""
    from sanic_mock.corpus import io
    from sanic_mock.corpus.review import show

    corpus = io.read(path, allow_secrets=True)
    if corpus.articles is not None:
        raise CorpusError(f"{path}: an articles corpus; `corpus inspect` describes it")
    sys.stdout.buffer.write(show(corpus))


def main(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="mock-openai", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except UsageError as exc:
        if exc.format_message():  # empty when help was shown for a bare command
            print(f"mock-openai: error: {exc.format_message()}", file=sys.stderr)
        sys.exit(2)
    except (SettingsError, CorpusError) as exc:
        print(f"mock-openai: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
