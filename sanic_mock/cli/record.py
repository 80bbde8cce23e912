"""`mock-openai record`: the recording proxy to --upstream, or a batch of requests sent to it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from sanic_mock.cli.options import ENV, AllowSecretsOption, UpstreamKeyEnvOption, upstream_key
from sanic_mock.settings import RecordSettings, ServerSettings, Settings, SettingsError


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
    key = upstream_key(upstream_key_env)
    settings = Settings(
        server=ServerSettings(host=host, port=port, max_body_bytes=max_body_bytes, verbose=verbose),
        record=RecordSettings(upstream=upstream, upstream_key=key, out=out, append=append),
        allow_secrets=allow_secrets,
    )
    if not out.parent.is_dir():
        raise SettingsError(f"--out {out}: no such folder {out.parent}")
    if requests is not None:
        from sanic_mock.record.batch import run_batch

        if concurrency < 1:
            raise SettingsError(f"--concurrency must be at least 1, got {concurrency}")
        if not requests.is_file():
            raise SettingsError(f"--requests {requests}: no such file")
        count, failed = run_batch(upstream, key, requests, out, append, allow_secrets, concurrency)
        print(f"wrote {out}: {count} exchanges ({failed} failed)")
        if failed:  # what succeeded is written; the run still failed
            what = f"{failed} request{'s' if failed > 1 else ''} of {requests} failed"
            print(f"mock-openai: error: {what}", file=sys.stderr)
            sys.exit(1)
        return
    from sanic_mock.run import sanic as run_sanic

    run_sanic.serve(settings)
