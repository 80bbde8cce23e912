"""`mock-openai cert`: a self-signed certificate and key for localhost, for tests and demos.

Made with the `cryptography` package (no `openssl` binary needed). The key is ECDSA P-256 in
PKCS#8 PEM, the one form every engine here loads: Python's `ssl` (Sanic, hypercorn), aioquic
(HTTP/3) and granian (which accepts PKCS#8 only). The certificate is a self-signed server (leaf)
certificate that a client trusts directly (`curl --cacert cert.pem`, `httpx.Client(verify=
"cert.pem")`), naming `localhost`, `127.0.0.1` and `::1` (or the `--name`s given) as subject
alternative names.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sanic_mock.settings import SettingsError

DEFAULT_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make(names: tuple[str, ...] = DEFAULT_NAMES, days: int = 365) -> tuple[bytes, bytes]:
    """(certificate PEM, PKCS#8 key PEM) for `names`, valid from an hour ago for `days` days."""
    if days < 1:
        raise SettingsError(f"--days must be at least 1, got {days}")
    if not names or not all(n.strip() for n in names):
        raise SettingsError("--name must not be empty")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write(
    out_dir: Path, names: tuple[str, ...] = DEFAULT_NAMES, days: int = 365
) -> tuple[Path, Path]:
    """Write `cert.pem` and `key.pem` (mode 0600) into `out_dir`, creating it; return both."""
    cert_pem, key_pem = make(names, days)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = out_dir / "cert.pem", out_dir / "key.pem"
        cert_path.write_bytes(cert_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        os.chmod(key_path, 0o600)  # an existing file keeps its old mode through O_CREAT
    except OSError as exc:
        raise SettingsError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
    return cert_path, key_path
