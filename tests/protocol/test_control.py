"""Control headers and faults on every protocol and engine: the `x-mock-*` headers reach the
service through each transport, a truncated stream ends cleanly without `[DONE]`, and a reset
one is aborted with the protocol's own reset, after which the connection still serves."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from tests.protocol.support import TRANSPORTS, Servers, Transport, connect

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}
STREAM = orjson.dumps({**CHAT, "stream": True})


@pytest.fixture(scope="module", params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest, servers: Servers) -> Iterator[Transport]:
    server_key, version = TRANSPORTS[request.param]
    client = connect(servers, server_key, version, timeout=20)
    yield client
    client.close()


def test_control_headers_reach_the_service(transport: Transport) -> None:
    answer = transport.request(
        "POST", "/chat/completions", orjson.dumps(CHAT), extra={"x-mock-tokens": "11"}
    )
    assert answer.status == 200 and answer.version == transport.version
    assert orjson.loads(answer.body)["usage"]["completion_tokens"] == 11
    failed = transport.request(
        "POST", "/chat/completions", orjson.dumps(CHAT), extra={"x-mock-fault": "503"}
    )
    assert failed.status == 503 and orjson.loads(failed.body)["error"]["type"] == "server_error"


def test_truncate_ends_the_stream_cleanly_without_done(transport: Transport) -> None:
    raw = b"".join(transport.stream("/chat/completions", STREAM, {"x-mock-fault": "truncate:3"}))
    events = [e for e in raw.split(b"\n\n") if e]
    assert len(events) == 4  # the role event and three content events
    assert b"[DONE]" not in raw and b'"finish_reason":"' not in raw


def test_reset_aborts_the_stream_and_the_connection_serves_on(transport: Transport) -> None:
    got = b""
    with pytest.raises(Exception) as aborted:  # each client names the reset its own way
        for part in transport.stream("/chat/completions", STREAM, {"x-mock-fault": "reset:2"}):
            got += part
    assert "AssertionError" not in type(aborted.value).__name__
    assert "timed out" not in str(aborted.value).lower()  # a reset, not a stream left hanging
    assert got.count(b"data: ") <= 3 and b"[DONE]" not in got
    assert transport.request("GET", "/models").status == 200
