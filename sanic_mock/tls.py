"""The one TLS context factory: TLS 1.3 only, ALPN as the original server (`h2`, `http/1.1`).

Bad files become `SettingsError` with a one-line reason (unreadable, not PEM, key not matching the
certificate), which the CLI prints before exiting with code 2.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from sanic_mock.settings import SettingsError


def server_context(
    cert: Path, key: Path, alpn: tuple[str, ...] = ("h2", "http/1.1")
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    for path, name in ((cert, "--tls-cert"), (key, "--tls-key")):
        try:
            head = path.read_bytes()[:4096]
        except OSError as exc:
            raise SettingsError(f"{name} {path}: {exc.strerror or exc}") from None
        if b"-----BEGIN" not in head:
            raise SettingsError(f"{name} {path}: not a PEM file")
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except ssl.SSLError as exc:
        reason = (
            "the key does not match the certificate"
            if "KEY_VALUES_MISMATCH" in str(exc)
            else (exc.reason or str(exc))
        )
        raise SettingsError(f"--tls-cert/--tls-key: {reason}") from None
    ctx.set_alpn_protocols(list(alpn))
    return ctx
