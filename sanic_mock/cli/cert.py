"""`mock-openai cert`: a self-signed certificate and key for --tls-cert/--tls-key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

from sanic_mock.cli.options import option


def cert(
    out_dir: Annotated[
        Path,
        option("--out-dir", "-o", metavar="DIR", help="Directory for cert.pem and key.pem."),
    ] = Path("."),
    name: Annotated[
        Optional[list[str]],  # noqa: UP045
        option(
            "--name",
            metavar="NAME",
            help="Host name or IP (repeatable; in the variable: space-separated).",
            show_default="localhost 127.0.0.1 ::1",
        ),
    ] = None,
    days: Annotated[int, option("--days", metavar="N", help="Days of validity.")] = 365,
) -> None:
    """Make a self-signed certificate and key (for --tls-cert/--tls-key in tests and demos)."""
    from sanic_mock.run import certs

    names = tuple(name) if name else certs.DEFAULT_NAMES
    cert_path, key_path = certs.write(out_dir, names, days)
    print(f"wrote {cert_path} and {key_path} for {', '.join(names)} ({days} days)")
    print(f"serve: mock-openai serve --tls-cert {cert_path} --tls-key {key_path}")
