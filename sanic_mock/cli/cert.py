"""`mock-openai cert`: a self-signed certificate and key for --tls-cert/--tls-key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


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
