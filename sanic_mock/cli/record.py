"""`mock-openai record`: the recording proxy to --upstream, or a batch of requests sent to it.

Its options share serve's variables where they mean the same (`MOCK_OPENAI_PORT`,
`MOCK_OPENAI_UPSTREAM`, ...); the others are named the same way (`MOCK_OPENAI_OUT`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

from sanic_mock.cli.options import AllowSecretsOption, UpstreamKeyEnvOption, option, upstream_key
from sanic_mock.settings import RecordSettings, ServerSettings, Settings, SettingsError


def record(
    upstream: Annotated[
        str,
        option(
            "--upstream",
            metavar="URL",
            help="Upstream base URL as an SDK takes it, e.g. https://api.openai.com/v1.",
        ),
    ],
    out: Annotated[Path, option("--out", "-o", metavar="FILE", help="Corpus file to write.")],
    port: Annotated[int, option("--port", "-p", metavar="PORT", help="TCP port of the proxy.")] = (
        3000
    ),
    host: Annotated[str, option("--host", metavar="HOST", help="Address to bind.")] = "127.0.0.1",
    append: Annotated[
        bool,
        option("--append", help="Add to the exchanges already in --out instead of replacing."),
    ] = False,
    requests: Annotated[
        Optional[Path],  # noqa: UP045
        option(
            "--requests",
            metavar="FILE",
            help="Batch mode: send the requests of this JSONL file (one request body, or "
            '{"endpoint": ..., "body": ...}, a line), no proxy.',
        ),
    ] = None,
    concurrency: Annotated[
        int, option("--concurrency", metavar="N", help="Batch mode: requests in flight at once.")
    ] = 4,
    upstream_key_env: UpstreamKeyEnvOption = None,
    allow_secrets: AllowSecretsOption = False,
    max_body_bytes: Annotated[
        int, option("--max-body-bytes", metavar="BYTES", help="Largest request body (413 above).")
    ] = 16 << 20,
    verbose: Annotated[bool, option("--verbose", "-v", help="Log every request.")] = False,
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
