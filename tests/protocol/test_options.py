"""Protocol options and TLS input: defaults, bad combinations and bad files end on one line with
exit code 2 before anything starts; `mock-openai cert` makes files every engine accepts."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sanic_mock.cli import main
from sanic_mock.run import certs
from sanic_mock.run.hypercorn import MockConfig
from sanic_mock.settings import Http2Engine, Settings, SettingsError
from tests import factories
from tests.servers import clean_env, free_port, running


def fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI in-process; it must exit 2 with exactly one line on stderr. Returns it."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mock-openai: error: "), err
    return err


def test_protocol_defaults(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    plain = Settings().tls
    assert not plain.serves_http2 and not plain.serves_http3
    h2c = factories.settings(http2=True).tls
    assert h2c.serves_http2 and not h2c.serves_http3
    tls = factories.settings(tls_cert=cert, tls_key=key).tls  # granian, by default: no HTTP/3
    assert tls.serves_http2 and not tls.serves_http3 and tls.engine is Http2Engine.GRANIAN
    h3 = factories.settings(tls_cert=cert, tls_key=key, http3=True).tls  # hypercorn serves it
    assert h3.serves_http3 and h3.engine is Http2Engine.HYPERCORN
    hypercorn = factories.settings(tls_cert=cert, tls_key=key, http2_engine="hypercorn").tls
    assert hypercorn.serves_http2 and hypercorn.serves_http3
    sanic_tls = factories.settings(tls_cert=cert, tls_key=key, http2=False).tls
    assert not sanic_tls.serves_http2 and not sanic_tls.serves_http3
    granian = factories.settings(tls_cert=cert, tls_key=key, http2_engine="granian").tls
    assert granian.serves_http2 and not granian.serves_http3
    assert not factories.settings(tls_cert=cert, tls_key=key, http3=False).tls.serves_http3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--http3"], "--http3 needs --tls-cert and --tls-key"),
        (["--http2-engine", "nginx"], "--http2-engine must be one of hypercorn, granian"),
        (["TLS", "--http3", "--no-http2"], "cannot be combined with --no-http2"),
        (["TLS", "--http3", "--http2-engine", "granian"], "--http3 is served by hypercorn"),
    ],
)
def test_bad_protocol_combinations(
    capsys: pytest.CaptureFixture[str],
    tls_files: tuple[Path, Path],
    argv: list[str],
    message: str,
) -> None:
    cert, key = tls_files
    if argv[0] == "TLS":
        argv = ["--tls-cert", str(cert), "--tls-key", str(key), *argv[1:]]
    assert message in fails(capsys, "serve", *argv)


def other_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def test_bad_tls_files(
    capsys: pytest.CaptureFixture[str], tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = tls_files
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    wrong_key = tmp_path / "wrong.key"
    wrong_key.write_bytes(other_key_pem())
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        serialization.load_pem_private_key(key.read_bytes(), None).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    cases = [
        (["--tls-cert", str(cert)], "must be given together (missing: --tls-key)"),
        (["--tls-key", str(key)], "must be given together (missing: --tls-cert)"),
        (["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", str(key)], "no such file"),
        (["--tls-cert", str(tmp_path), "--tls-key", str(key)], "no such file"),  # a directory
        (["--tls-cert", str(not_pem), "--tls-key", str(key)], "not a PEM file"),
        (["--tls-cert", str(cert), "--tls-key", str(not_pem)], "not a PEM file"),
        (["--tls-cert", str(cert), "--tls-key", str(wrong_key)], "does not match"),
        (["--tls-cert", str(cert), "--tls-key", str(encrypted)], "encrypted"),
        (["--tls-cert", str(key), "--tls-key", str(cert)], "no PEM certificate in it"),  # swapped
        (["--tls-cert", str(cert), "--tls-key", str(cert)], "no PEM private key in it"),
    ]
    for argv, message in cases:
        assert message in fails(capsys, "serve", *argv), argv


def test_cert_command_writes_usable_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "made"
    main(["cert", "--out-dir", str(out), "--name", "mock.test", "--name", "10.1.2.3"])
    assert "wrote" in capsys.readouterr().out
    cert, key = out / "cert.pem", out / "key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, for granian
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    san = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["mock.test"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)  # the pair matches


def test_cert_defaults_name_localhost(tmp_path: Path) -> None:
    cert, _ = certs.write(tmp_path)
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    san = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    with pytest.raises(SettingsError):
        certs.make(days=0)


def test_hypercorn_limits_are_raised_for_load_tests(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    config = MockConfig(
        factories.settings(tls_cert=cert, tls_key=key, http2_engine="hypercorn", port=4443)
    )
    assert config.keep_alive_max_requests >= 2**31
    assert config.h2_max_concurrent_streams >= 1000
    assert config.keep_alive_timeout >= 120
    assert config.backlog >= 1024
    assert config.alt_svc_headers == ['h3=":4443"; ma=86400']
    ctx = config.create_ssl_context()
    assert ctx is not None and ctx.minimum_version == ssl.TLSVersion.TLSv1_3


def serve_fails(*argv: str) -> list[str]:
    """`mock-openai serve ARGV` in a subprocess; it must exit 2. Returns its stderr lines."""
    done = subprocess.run(
        [sys.executable, "-m", "sanic_mock", "serve", "--pregen-count", "16", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert done.returncode == 2, done.stderr
    return done.stderr.strip().splitlines()


def test_busy_udp_port_is_a_one_line_error(tls_files: tuple[Path, Path]) -> None:
    """HTTP/3 needs the UDP port of the same number: taken, it fails before serving."""
    cert, key = tls_files
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", port))
        tls = ("--tls-cert", str(cert), "--tls-key", str(key))
        lines = serve_fails("--port", str(port), *tls, "--http3")
    expected = f"cannot listen on 127.0.0.1:{port} UDP (HTTP/3): Address already in use"
    assert lines == [f"mock-openai: error: {expected}"]


@pytest.mark.parametrize("engine", ["hypercorn", "granian"])
def test_busy_tcp_port_is_a_one_line_error(engine: str) -> None:
    port = free_port()
    with socket.socket() as tcp:
        tcp.bind(("127.0.0.1", port))
        tcp.listen()
        lines = serve_fails("--port", str(port), "--http2", "--http2-engine", engine)
    expected = f"cannot listen on 127.0.0.1:{port} TCP: Address already in use"
    assert lines == [f"mock-openai: error: {expected}"]


def test_only_the_runners_import_servers() -> None:
    """hypercorn and granian load only with their runner (ARCHITECTURE.md). That no import of
    the Sanic path leads to them is a contract (pyproject.toml, tests/test_layers.py); what only
    a run shows is checked here: the runner imports of cli/ and run/granian.py's import of
    granian wait inside functions (start-up time), and Sanic itself imports neither.
    (aioquic is not checked: Sanic itself imports it whenever it is installed.)"""
    code = (
        "import sys\n"
        "import sanic_mock.cli, sanic_mock.serve.sanic_app, sanic_mock.serve.asgi\n"
        "import sanic_mock.run.tls, sanic_mock.run.certs\n"
        "import sanic_mock.run.sanic\n"
        "bad = [m for m in ('hypercorn', 'granian') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "import sanic_mock.run.granian\n"
        "assert 'granian' not in sys.modules  # imported when serving\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=clean_env())


def test_hypercorn_adjustments_still_apply() -> None:
    """The two hypercorn adjustments hook into module names; fail loudly if those move."""
    import asyncio

    import h11
    from hypercorn.asyncio import run as hypercorn_run
    from hypercorn.asyncio.udp_server import UDPServer
    from hypercorn.protocol import h11 as hypercorn_h11

    from sanic_mock.run import hypercorn as run_hypercorn

    run_hypercorn._add_reason_phrases()
    run_hypercorn._roomier_quic_queue()
    response = hypercorn_h11.h11.Response(status_code=404, headers=[])
    assert isinstance(response, h11.Response) and response.reason == b"Not Found"
    server_class = hypercorn_run.UDPServer
    assert server_class is not UDPServer and issubclass(server_class, UDPServer)
    loop = asyncio.new_event_loop()
    try:
        server = server_class(None, loop, None, None, {})
        assert server.protocol_queue.maxsize == run_hypercorn.QUIC_QUEUE
    finally:
        loop.close()


@pytest.mark.parametrize("engine", ["hypercorn", "granian"])
def test_stopping_with_an_open_h2_stream_ends_cleanly(engine: str) -> None:
    """A stop signal while an HTTP/2 stream is still being paced: the process ends within its
    grace period, with exit code 0 and no traceback. hypercorn cancels the connection and its
    HTTP/2 code then fails in a task group that is shutting down; granian by default waits for
    every open connection forever."""
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    args = ("--http2", "--http2-engine", engine, "--pregen-count", "16")
    with running(*args, "--response-delay-ms", "200") as server:
        with httpx.Client(http1=False, http2=True) as client:
            url = server.url + "/v1/chat/completions"
            with client.stream("POST", url, json={**body, "max_tokens": 200}) as answer:
                assert answer.http_version == "HTTP/2"
                next(answer.iter_raw())  # the stream is open and under way (40 s to go)
                server.process.send_signal(signal.SIGINT)
                server.process.wait(timeout=15)
        output = server.output()
    assert server.process.returncode == 0
    assert "Traceback" not in output and "Error" not in output, output
