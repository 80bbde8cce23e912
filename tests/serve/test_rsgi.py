"""granian's RSGI app (`sanic_mock/serve/rsgi.py`) against the real server on h2c: paced streams
multiplexed on one connection through the loop's one `Pacer`, a client leaving mid-stream, and
the bridge to Sanic for the routes RSGI does not answer itself. Answers are compared with the
default HTTP/1.1 server by the protocol battery (tests/protocol); only lower bounds on timing
are asserted here."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import pytest

from tests.servers import running

DELAY_MS = 40
STREAM = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
    "max_tokens": 5,
    "stream": True,
}


@pytest.fixture(scope="module")
def url() -> object:
    args = ("--pregen-count", "16", "--http2", "--response-delay-ms", str(DELAY_MS))
    with running(*args, "--first-token-delay-ms", "0") as srv:
        yield srv.url


def test_paced_streams_multiplexed_on_one_connection(url: str) -> None:
    """50 paced streams on one HTTP/2 connection: each gets all its events and `[DONE]`, and
    its events are spread over the configured gaps (never sooner)."""

    async def one(client: httpx.AsyncClient) -> tuple[float, bytes, str]:
        start = time.monotonic()
        async with client.stream("POST", url + "/v1/chat/completions", json=STREAM) as resp:
            assert resp.status_code == 200
            raw = b"".join([part async for part in resp.aiter_raw()])
        return time.monotonic() - start, raw, resp.http_version

    async def run() -> list[tuple[float, bytes, str]]:
        async with httpx.AsyncClient(http1=False, http2=True, timeout=30) as client:
            return await asyncio.gather(*(one(client) for _ in range(50)))

    for took, raw, version in asyncio.run(run()):
        assert version == "HTTP/2"
        events = [e for e in raw.split(b"\n\n") if e]
        assert events[-1] == b"data: [DONE]"
        chunks = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        assert text  # five tokens of the corpus
        assert took >= 4 * DELAY_MS / 1000  # five content events, four gaps at least


def test_a_client_leaving_mid_stream_leaves_the_server_serving(url: str) -> None:
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        for _ in range(5):
            with client.stream("POST", url + "/v1/chat/completions", json=STREAM) as resp:
                next(resp.iter_raw())  # the first event, then the stream is cancelled
        assert client.get(url + "/health").status_code == 200
        answer = client.post(url + "/v1/chat/completions", json={**STREAM, "stream": False})
        assert answer.status_code == 200 and answer.json()["object"] == "chat.completion"


def test_routes_rsgi_leaves_to_sanic_answer_through_the_bridge(url: str) -> None:
    """Model lookups, `HEAD`, unknown paths and wrong methods are Sanic's, over RSGI too."""
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        model = client.get(url + "/v1/models/gpt-4o-mini")
        assert model.status_code == 200 and model.json()["id"] == "gpt-4o-mini"
        head = client.head(url + "/v1/models")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 0
        missing = client.get(url + "/v1/nothing-here")
        assert missing.status_code == 404 and "error" in missing.json()
        wrong = client.delete(url + "/v1/chat/completions")
        assert wrong.status_code == 405 and wrong.json()["error"]["type"]
