"""The one TLS context factory: TLS 1.3 only, ALPN as the original server (`h2`, `http/1.1`).

Bad files become `SettingsError` with a one-line reason (unreadable, not PEM, no certificate or
no key in it, encrypted key, key not matching the certificate), which the CLI prints before
exiting with code 2. The files are read with `cryptography` first because OpenSSL's own errors
through `ssl` say little ("PEM lib"). The CLI builds one context before any worker starts, so bad
files fail there and never in a worker.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from sanic_mock.settings import SettingsError

_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def server_context(
    cert: Path, key: Path, alpn: tuple[str, ...] = ("h2", "http/1.1")
) -> ssl.SSLContext:
    check_files(cert, key)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.options |= ssl.OP_NO_COMPRESSION  # RFC 9113 §9.2.1 (OpenSSL 3 has it off already)
    try:
        ctx.load_cert_chain(str(cert), str(key), password=_no_password)
    except ssl.SSLError as exc:  # what `check_files` did not foresee
        raise SettingsError(f"--tls-cert/--tls-key: {exc.reason or exc}") from None
    ctx.set_alpn_protocols(list(alpn))
    return ctx


def check_files(cert: Path, key: Path) -> None:
    """Raise `SettingsError` unless `cert` holds PEM certificates and `key` its unencrypted key."""
    cert_pem, key_pem = _read(cert, "--tls-cert"), _read(key, "--tls-key")
    try:
        leaf = x509.load_pem_x509_certificates(cert_pem)[0]
    except ValueError:
        raise SettingsError(f"--tls-cert {cert}: no PEM certificate in it") from None
    try:
        private = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:  # "Password was not given but private key is encrypted"
        raise SettingsError(f"--tls-key {key}: the key is encrypted; give it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SettingsError(f"--tls-key {key}: no PEM private key in it") from None
    if private.public_key().public_bytes(*_SPKI) != leaf.public_key().public_bytes(*_SPKI):
        raise SettingsError(f"--tls-key {key}: the key does not match the certificate {cert}")


def _read(path: Path, name: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"{name} {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN" not in data:
        raise SettingsError(f"{name} {path}: not a PEM file")
    return data


def _no_password() -> bytes:
    # Without this callback OpenSSL would prompt on the terminal for the key's passphrase.
    raise SettingsError("--tls-key is encrypted; give an unencrypted PEM key")
