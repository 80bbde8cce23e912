"""Real clients against the real server: curl, h2load, the official `openai` SDK over HTTP/2,
certificate verification, and HTTP/3 next to HTTP/2 with several workers."""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import openai
import orjson
import pytest

from tests.protocol.support import H3Transport, Servers
from tests.servers import running

CURL = shutil.which("curl")
H2LOAD = shutil.which("h2load")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")
TLS_SERVERS = ["hypercorn-tls", "granian-tls"]
H2C_SERVERS = ["hypercorn-h2c", "granian-h2c"]
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    assert CURL is not None
    return subprocess.run(
        [CURL, "--silent", "--show-error", "--max-time", "30", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def version_by_curl(*args: str) -> str:
    done = curl("--output", "/dev/null", "--write-out", "%{http_version}", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_curl
@pytest.mark.parametrize("key", TLS_SERVERS)
def test_curl_http2_over_tls(servers: Servers, key: str) -> None:
    url = servers.get(key).url + "/v1/models"
    assert version_by_curl("--http2", "-k", url) == "2"
    assert version_by_curl("--http1.1", "-k", url) == "1.1"  # same port, ALPN http/1.1


@needs_curl
@pytest.mark.parametrize("key", H2C_SERVERS)
def test_curl_h2c_prior_knowledge(servers: Servers, key: str) -> None:
    url = servers.get(key).url + "/v1/models"
    assert version_by_curl("--http2-prior-knowledge", url) == "2"
    assert version_by_curl("--http1.1", url) == "1.1"


@needs_curl
def test_curl_h2c_upgrade_on_hypercorn(servers: Servers) -> None:
    # `--http2` on http:// sends `Upgrade: h2c` with an HTTP/1.1 request.
    assert version_by_curl("--http2", servers.get("hypercorn-h2c").url + "/health") == "2"


@needs_curl
@pytest.mark.parametrize("key", [*TLS_SERVERS, "sanic-tls"])
def test_tls_1_2_is_refused(servers: Servers, key: str) -> None:
    url = servers.get(key).url + "/health"
    refused = curl("-k", "--tlsv1.2", "--tls-max", "1.2", url)
    assert refused.returncode == 35, refused  # CURLE_SSL_CONNECT_ERROR: no shared version
    assert version_by_curl("-k", "--tlsv1.3", url) in ("1.1", "2")


@needs_curl
def test_alt_svc_advertises_http3_on_tcp(servers: Servers) -> None:
    server = servers.get("hypercorn-tls")
    port = server.url.rsplit(":", 1)[1]
    for flag in ("--http1.1", "--http2"):
        done = curl(
            "-k", flag, "--dump-header", "-", "--output", "/dev/null", server.url + "/health"
        )
        assert re.search(rf'(?im)^alt-svc: h3=":{port}"', done.stdout), done.stdout


def test_certificate_verifies_for_localhost(servers: Servers, tls_files: tuple[Path, Path]) -> None:
    cert, _ = tls_files
    url = servers.get("hypercorn-tls").url.replace("127.0.0.1", "localhost") + "/health"
    verify = ssl.create_default_context(cafile=str(cert))
    verify.verify_flags |= ssl.VERIFY_X509_STRICT  # Python 3.13's default: RFC 5280 checks
    with httpx.Client(http2=True, verify=verify) as client:
        resp = client.get(url)
    assert resp.status_code == 200 and resp.http_version == "HTTP/2"


@pytest.mark.parametrize("key", ["hypercorn-tls", "granian-tls", "hypercorn-h2c"])
def test_openai_sdk_over_http2(servers: Servers, key: str) -> None:
    server = servers.get(key)
    h2c = server.url.startswith("http://")
    http = httpx.Client(http1=not h2c, http2=True, verify=False)
    client = openai.OpenAI(
        base_url=server.base_url, api_key="sk-test", http_client=http, max_retries=0
    )
    with http, client:
        raw = client.chat.completions.with_raw_response.create(**CHAT)  # type: ignore[call-overload]
        assert raw.http_response.http_version == "HTTP/2"
        completion = raw.parse()
        assert completion.choices[0].message.content
        assert completion.usage is not None and completion.usage.completion_tokens == 8
        stream = client.chat.completions.create(
            **CHAT, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8
        assert client.embeddings.create(model="text-embedding-3-small", input="x").data
        assert "gpt-4o-mini" in [m.id for m in client.models.list()]


def h2load(*args: str) -> str:
    assert H2LOAD is not None
    done = subprocess.run([H2LOAD, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def assert_all_succeeded(report: str, n: int) -> None:
    assert f"requests: {n} total, {n} started, {n} done, {n} succeeded, 0 failed, 0 errored" in (
        report
    ), report


@pytest.mark.skipif(H2LOAD is None, reason="h2load is not installed (apt install nghttp2-client)")
@pytest.mark.parametrize("key", [*TLS_SERVERS, *H2C_SERVERS])
def test_h2load_completes_without_errors(servers: Servers, key: str, tmp_path: Path) -> None:
    url = servers.get(key).base_url
    # 1,200 requests on one connection: hypercorn's default closes it after 1,000.
    report = h2load("-n", "1200", "-c", "1", "-m", "32", url + "/models")
    assert_all_succeeded(report, 1200)
    assert re.search(r"Application protocol: h2c?\b", report), report
    body = tmp_path / "chat.json"
    body.write_bytes(orjson.dumps({**CHAT, "stream": True}))
    report = h2load(
        "-n", "200", "-c", "4", "-m", "8", "-d", str(body),
        "-H", "content-type: application/json", url + "/chat/completions",
    )  # fmt: skip
    assert_all_succeeded(report, 200)
    assert "status codes: 200 2xx" in report, report
    # HTTP/1.1 on the same port; h2load needs a reason phrase in the status line to count it.
    report = h2load("--h1", "-n", "200", "-c", "4", url + "/models")
    assert_all_succeeded(report, 200)


def test_http3_and_http2_with_two_workers(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    args = ("--tls-cert", str(cert), "--tls-key", str(key), "--workers", "2", "--http3")
    with running(*args, "--pregen-count", "64", scheme="https") as server:
        for _ in range(6):  # new QUIC connections, spread over both workers by the kernel
            h3 = H3Transport(server.base_url)
            try:
                answer = h3.request("POST", "/chat/completions", orjson.dumps(CHAT))
                assert answer.status == 200 and answer.version == "3"
            finally:
                h3.close()
        with httpx.Client(http2=True, verify=False) as client:
            assert client.get(server.base_url + "/models").http_version == "HTTP/2"
    assert server.process.returncode == 0
