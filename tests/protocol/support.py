"""Servers and clients for the protocol tests: one client interface over HTTP/1.1, h2, h2c and h3.

`Servers` starts each server configuration on first use and stops all at the end of the session.
A `Transport` is one (server, client) pair: httpx for HTTP/1.1 and HTTP/2 (TLS or h2c by prior
knowledge), curl_cffi with HTTP/3 only (QUIC; it never falls back to TCP) for HTTP/3.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import Server, running

LIMIT = 4 * 1024 * 1024  # --max-body-bytes of every protocol server
PACE_MS = 700  # --response-delay-ms of the paced servers: events far apart, no timing asserts
COMMON = ("--pregen-count", "256", "--seed", "7", "--max-body-bytes", str(LIMIT))


def server_args(key: str, cert: Path, key_file: Path) -> tuple[tuple[str, ...], str]:
    """(serve arguments, scheme) for a server configuration name."""
    tls = ("--tls-cert", str(cert), "--tls-key", str(key_file))
    paced = ("--response-delay-ms", str(PACE_MS), "--first-token-delay-ms", "0")
    hypercorn = ("--http2-engine", "hypercorn")
    table: dict[str, tuple[tuple[str, ...], str]] = {
        "sanic": ((), "http"),
        "sanic-tls": ((*tls, "--no-http2"), "https"),
        "hypercorn-tls": ((*tls, *hypercorn), "https"),
        "hypercorn-h2c": (("--http2", *hypercorn), "http"),
        "granian-tls": (tls, "https"),  # the default engine
        "granian-h2c": (("--http2",), "http"),
        "hypercorn-tls-paced": ((*tls, *hypercorn, *paced), "https"),
        "hypercorn-h2c-paced": (("--http2", *hypercorn, *paced), "http"),
        "granian-tls-paced": ((*tls, *paced), "https"),
    }
    args, scheme = table[key]
    return (*COMMON, *args), scheme


class Servers:
    """Servers by configuration name, started on first use, all stopped by `close()`."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.cert, self.key = cert, key
        self._stack = contextlib.ExitStack()
        self._running: dict[str, Server] = {}

    def get(self, key: str) -> Server:
        if key not in self._running:
            args, scheme = server_args(key, self.cert, self.key)
            self._running[key] = self._stack.enter_context(running(*args, scheme=scheme))
        return self._running[key]

    def close(self) -> None:
        self._stack.close()


@dataclass
class Answer:
    status: int
    version: str  # "1.1", "2" or "3"
    headers: dict[str, str]  # lower-case names
    body: bytes


class Transport:
    """One protocol to one server; `request()` reads whole answers, `stream()` yields reads."""

    version = "1.1"

    def __init__(self, base: str) -> None:
        self.base = base

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        json_body: bool = True,
        extra: dict[str, str] | None = None,
    ) -> Answer:
        raise NotImplementedError

    def stream(
        self, path: str, body: bytes, extra: dict[str, str] | None = None
    ) -> Iterator[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class HttpxTransport(Transport):
    def __init__(self, base: str, version: str, timeout: float = 60) -> None:
        super().__init__(base)
        self.version = version
        h2 = version == "2"
        self.client = httpx.Client(http1=not h2, http2=h2, verify=False, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        json_body: bool = True,
        extra: dict[str, str] | None = None,
    ) -> Answer:
        headers = {"content-type": "application/json"} if json_body and body else {}
        headers.update(extra or {})
        resp = self.client.request(method, self.base + path, content=body, headers=headers)
        return Answer(
            resp.status_code,
            resp.http_version.removeprefix("HTTP/"),
            {k.lower(): v for k, v in resp.headers.items()},
            resp.content,
        )

    def stream(
        self, path: str, body: bytes, extra: dict[str, str] | None = None
    ) -> Iterator[bytes]:
        headers = {"content-type": "application/json", **(extra or {})}
        with self.client.stream("POST", self.base + path, content=body, headers=headers) as resp:
            assert resp.status_code == 200, resp.read()
            assert resp.http_version == ("HTTP/2" if self.version == "2" else "HTTP/1.1")
            yield from resp.iter_raw()

    def close(self) -> None:
        self.client.close()


class H3Transport(Transport):
    """curl_cffi restricted to HTTP/3: a strict client (it rejects HTTP/1.1 framing in h3)."""

    version = "3"

    def __init__(self, base: str, timeout: float = 60) -> None:
        super().__init__(base)
        from curl_cffi import requests as curl
        from curl_cffi.const import CurlHttpVersion

        self.session = curl.Session(
            verify=False, http_version=CurlHttpVersion.V3ONLY, timeout=timeout
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        json_body: bool = True,
        extra: dict[str, str] | None = None,
    ) -> Answer:
        headers = {"content-type": "application/json"} if json_body and body else {}
        headers.update(extra or {})
        resp = self.session.request(method, self.base + path, data=body, headers=headers)  # type: ignore[arg-type]
        assert resp.http_version == 30  # CURL_HTTP_VERSION_3: the answer came over QUIC
        return Answer(
            resp.status_code,
            "3",
            {k.lower(): v for k, v in resp.headers.items() if v is not None},
            resp.content,
        )

    def stream(
        self, path: str, body: bytes, extra: dict[str, str] | None = None
    ) -> Iterator[bytes]:
        headers = {"content-type": "application/json", **(extra or {})}
        resp = self.session.request(
            "POST", self.base + path, data=body, headers=headers, stream=True
        )
        try:
            assert resp.status_code == 200
            assert resp.http_version == 30
            yield from resp.iter_content()
        finally:
            resp.close()

    def close(self) -> None:
        self.session.close()


# transport id -> (server configuration, protocol)
TRANSPORTS: dict[str, tuple[str, str]] = {
    "sanic-h1": ("sanic", "1.1"),
    "sanic-tls-h1": ("sanic-tls", "1.1"),
    "hypercorn-tls-h1": ("hypercorn-tls", "1.1"),
    "hypercorn-tls-h2": ("hypercorn-tls", "2"),
    "hypercorn-h3": ("hypercorn-tls", "3"),
    "hypercorn-h2c": ("hypercorn-h2c", "2"),
    "hypercorn-cleartext-h1": ("hypercorn-h2c", "1.1"),
    "granian-tls-h1": ("granian-tls", "1.1"),
    "granian-tls-h2": ("granian-tls", "2"),
    "granian-h2c": ("granian-h2c", "2"),
}
PACED: dict[str, tuple[str, str]] = {
    "hypercorn-tls-h1": ("hypercorn-tls-paced", "1.1"),
    "hypercorn-tls-h2": ("hypercorn-tls-paced", "2"),
    "hypercorn-h3": ("hypercorn-tls-paced", "3"),
    "hypercorn-h2c": ("hypercorn-h2c-paced", "2"),
    "granian-tls-h2": ("granian-tls-paced", "2"),
}


def connect(servers: Servers, server_key: str, version: str, timeout: float = 60) -> Transport:
    base = servers.get(server_key).base_url
    if version == "3":
        return H3Transport(base, timeout)
    return HttpxTransport(base, version, timeout)
