"""A simulated serving engine, measured from a real client against the real server: jittered
latencies (normal and lognormal), the prefill slope, the per-request control headers, each fault
type and the fault rate, on Sanic's HTTP/1.1 and on HTTP/2 (hypercorn, granian).

Timing bounds are wide on purpose (the machine may be loaded): means within ~25% of what was
configured, stddevs checked from below, and scheduler noise small against the gaps used."""

from __future__ import annotations

import concurrent.futures
import socket
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from tests.servers import Server, running

COMMON = ("--pregen-count", "256", "--seed", "3", "--token-stddev", "0")
CHAT: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "Hi."}]}
STREAM = {**CHAT, "stream": True}


def timed_stream(
    client: httpx.Client, headers: dict[str, str] | None = None, body: Any = None
) -> tuple[float, list[float], list[bytes]]:
    """(time to first content event, gaps between content events, every SSE data field)."""
    start = time.monotonic()
    times, data = [], []
    with client.stream("POST", "/v1/chat/completions", json=body or STREAM, headers=headers) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: "):
                data.append(line[6:].encode())
                if b'"content":"' in data[-1] and b'"content":""' not in data[-1]:
                    times.append(time.monotonic())
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return times[0] - start, gaps, data


@pytest.fixture(scope="module")
def plain() -> Iterator[Server]:
    with running(*COMMON, "--token-mean", "12") as server:
        yield server


def test_jittered_ttft_and_itl_have_the_configured_means_and_spread() -> None:
    args = ("--first-token-delay-ms", "80", "--first-token-stddev-ms", "25")
    args += ("--response-delay-ms", "25", "--response-delay-stddev-ms", "8", "--token-mean", "16")
    with running(*COMMON, *args) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        ttfts, gaps = [], []
        for _ in range(20):
            ttft, more, _ = timed_stream(c)
            ttfts.append(ttft * 1000)
            gaps.extend(g * 1000 for g in more)
    assert 65 < statistics.mean(ttfts) < 110
    assert statistics.stdev(ttfts) > 12  # 25 configured; 0 without jitter
    assert 22 < statistics.mean(gaps) < 34
    assert 4.5 < statistics.stdev(gaps) < 16  # 8 configured


def test_lognormal_gaps_are_skewed_right() -> None:
    args = ("--response-delay-ms", "20", "--response-delay-stddev-ms", "20", "--token-mean", "40")
    args += ("--latency-distribution", "lognormal", "--first-token-delay-ms", "0")
    with running(*COMMON, *args) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        gaps = [g * 1000 for _ in range(8) for g in timed_stream(c)[1]]
    assert 17 < statistics.mean(gaps) < 28
    assert statistics.median(gaps) < 0.9 * statistics.mean(gaps)  # a normal's would be equal


def test_prefill_time_grows_with_the_prompt_and_embeddings_wait_it() -> None:
    args = ("--prefill-ms-per-token", "0.25", "--token-mean", "4")
    # " word" is one token in both encodings: ~16 and ~2006 prompt tokens
    short = {**STREAM, "messages": [{"role": "user", "content": "word " * 10}]}
    long = {**STREAM, "messages": [{"role": "user", "content": "word " * 2000}]}
    with running(*COMMON, *args) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        fast = min(timed_stream(c, body=short)[0] for _ in range(3))
        slow = min(timed_stream(c, body=long)[0] for _ in range(3))
        start = time.monotonic()
        embedded = c.post("/v1/embeddings", json={"model": "e", "input": "word " * 2000})
        waited = time.monotonic() - start
    assert 0.4 < slow - fast < 0.65  # 2000 more tokens x 0.25 ms
    assert embedded.status_code == 200 and 0.45 < waited < 1.5


def test_control_headers_set_one_requests_timing_and_length(plain: Server) -> None:
    client = openai.OpenAI(base_url=plain.base_url, api_key="k", max_retries=0)
    done = client.chat.completions.create(
        model="m", messages=CHAT["messages"], extra_headers={"x-mock-tokens": "37"}
    )
    assert done.usage is not None and done.usage.completion_tokens == 37
    assert done.choices[0].finish_reason == "stop"
    capped = client.chat.completions.create(
        model="m", messages=CHAT["messages"], max_tokens=5, extra_headers={"x-mock-tokens": "37"}
    )
    assert capped.usage is not None and capped.usage.completion_tokens == 5
    with httpx.Client(base_url=plain.url, timeout=30) as c:
        headers = {"x-mock-first-token-delay-ms": "300", "x-mock-response-delay-ms": "40"}
        ttft, gaps, _ = timed_stream(c, {**headers, "x-mock-tokens": "6"})
        assert 0.29 < ttft < 0.6
        assert len(gaps) == 5 and 0.035 < statistics.mean(gaps) < 0.08
        start = time.monotonic()
        body = c.post("/v1/chat/completions", json=CHAT, headers=headers).json()
        assert body["usage"]["completion_tokens"] == 12
        assert 0.29 + 11 * 0.04 <= time.monotonic() - start + 0.01
        bad = c.post("/v1/chat/completions", json=CHAT, headers={"x-mock-tokens": "lots"})
        assert bad.status_code == 400 and "x-mock-tokens" in bad.json()["error"]["message"]


def test_status_faults_through_the_sdk(plain: Server) -> None:
    client = openai.OpenAI(base_url=plain.base_url, api_key="k", max_retries=0)
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(
            model="m", messages=CHAT["messages"], extra_headers={"x-mock-fault": "429"}
        )
    assert limited.value.code == "rate_limit_exceeded"
    assert limited.value.response.headers["retry-after"] == "1"
    assert "x-ratelimit-remaining-requests" in limited.value.response.headers
    for status in (500, 503):
        with pytest.raises(openai.InternalServerError) as failed:
            client.chat.completions.create(
                model="m", messages=CHAT["messages"], extra_headers={"x-mock-fault": str(status)}
            )
        assert failed.value.status_code == status
        assert failed.value.body is not None


def test_stall_truncate_and_reset_on_http1(plain: Server) -> None:
    with httpx.Client(base_url=plain.url, timeout=30) as c:
        _, gaps, data = timed_stream(c, {"x-mock-fault": "stall:3:400"})
        assert gaps[2] > 0.3 and max(gaps[:2] + gaps[3:]) < 0.2  # content 3 -> 4
        assert data[-1] == b"[DONE]"
        _, _, data = timed_stream(c, {"x-mock-fault": "truncate:4"})
        assert len(data) == 5  # the role event and 4 content events, then a clean end
        assert b"[DONE]" not in data and not any(b'"finish_reason":"' in d for d in data)
        assert c.get("/health").status_code == 200  # the connection lives on
        with pytest.raises(httpx.TransportError):  # a JSON answer that resets: nothing sent
            c.post("/v1/chat/completions", json=CHAT, headers={"x-mock-fault": "reset:1"})
        assert c.get("/health").status_code == 200  # on a new connection
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"x-mock-fault: reset:2\r\ncontent-length: %d\r\n\r\n%b"
    )
    body = orjson.dumps(STREAM)
    with socket.create_connection(("127.0.0.1", int(plain.url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(request % (len(body), body))
        received = b""
        with pytest.raises(ConnectionResetError):  # an RST, not a FIN (that would read b"")
            while True:
                part = sock.recv(65536)
                assert part, "the server closed without a reset"
                received += part
    assert received.startswith(b"HTTP/1.1 200") and received.count(b"data: ") == 3


def test_the_fault_rate_and_its_reproducibility() -> None:
    def statuses() -> list[int]:
        args = ("--fault-rate", "0.2", "--fault-type", "503", "--fault-type", "500")
        with running(*COMMON, "--token-mean", "4", *args) as server:
            with httpx.Client(base_url=server.url, timeout=30) as c:
                return [c.post("/v1/chat/completions", json=CHAT).status_code for _ in range(300)]

    first = statuses()
    assert 0.12 < (first.count(500) + first.count(503)) / 300 < 0.28
    assert first.count(500) > 10 and first.count(503) > 10
    assert statuses() == first


@pytest.mark.parametrize("engine", ["hypercorn", "granian"])
def test_control_headers_and_faults_on_http2(engine: str) -> None:
    args = (*COMMON, "--token-mean", "12", "--http2", "--http2-engine", engine)
    with running(*args) as server:
        with httpx.Client(base_url=server.url, http1=False, http2=True, timeout=15) as c:
            body = c.post("/v1/chat/completions", json=CHAT, headers={"x-mock-tokens": "9"})
            assert body.http_version == "HTTP/2"
            assert body.json()["usage"]["completion_tokens"] == 9
            failed = c.post("/v1/chat/completions", json=CHAT, headers={"x-mock-fault": "503"})
            assert failed.status_code == 503 and failed.json()["error"]["type"] == "server_error"
            _, _, data = timed_stream(c, {"x-mock-fault": "truncate:2"})
            assert len(data) == 3 and b"[DONE]" not in data
            if engine == "hypercorn":
                with pytest.raises(httpx.RemoteProtocolError, match="StreamReset"):  # RST_STREAM
                    timed_stream(c, {"x-mock-fault": "reset:2"})
            else:  # RSGI cannot reset: the stream ends short of its content-length (rsgi.py)
                with pytest.raises(Exception, match="InvalidBodyLengthError"):
                    timed_stream(c, {"x-mock-fault": "reset:2"})
            assert c.get("/health").status_code == 200  # the connection lives on


def test_rate_limits_through_the_sdk() -> None:
    with running(*COMMON, "--token-mean", "4", "--rate-limit-rpm", "4") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        remaining = []
        for _ in range(4):
            raw = client.chat.completions.with_raw_response.create(
                model="m", messages=CHAT["messages"]
            )
            assert raw.headers["x-ratelimit-limit-requests"] == "4"
            assert raw.headers["x-ratelimit-reset-requests"].endswith("s")
            remaining.append(raw.headers["x-ratelimit-remaining-requests"])
        assert remaining == ["3", "2", "1", "0"]
        with pytest.raises(openai.RateLimitError) as limited:
            client.chat.completions.create(model="m", messages=CHAT["messages"])
        assert limited.value.code == "rate_limit_exceeded"
        assert int(limited.value.response.headers["retry-after"]) >= 1
        with httpx.Client(base_url=server.url, timeout=30) as c:
            streamed = c.post("/v1/chat/completions", json=STREAM)
            assert streamed.status_code == 429  # streams count too
            assert c.get("/v1/models").status_code == 200  # GETs are not limited


def test_max_concurrency_queues_in_order_and_the_wait_adds_to_ttft() -> None:
    args = ("--max-concurrency", "2", "--first-token-delay-ms", "50", "--response-delay-ms", "50")
    with running(*COMMON, "--token-mean", "6", *args) as server:  # each holds a slot ~300 ms
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(6)]
            for c in clients:
                c.get("/health")  # connected before the burst
            ttfts = sorted(pool.map(lambda c: timed_stream(c)[0], clients))
            for c in clients:
                c.close()
    # two at a time: ~0.05, ~0.05, then ~0.35, ~0.35, then ~0.65, ~0.65
    assert ttfts[1] < 0.2
    assert 0.27 < ttfts[2] and ttfts[3] < 0.55
    assert 0.55 < ttfts[4]


def test_the_load_factor_stretches_the_inter_token_gap() -> None:
    args = ("--max-concurrency", "4", "--load-factor", "4", "--response-delay-ms", "30")
    with running(*COMMON, "--token-mean", "12", "--first-token-delay-ms", "0", *args) as server:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            alone = statistics.mean(timed_stream(c)[1])
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(4)]
            for c in clients:
                c.get("/health")
            gaps = list(pool.map(lambda c: statistics.mean(timed_stream(c)[1]), clients))
            for c in clients:
                c.close()
    assert 0.025 < alone < 0.05  # nothing else running: the configured 30 ms
    # started together, 0..3 others running: 30 ms x 1, 1.75, 2.5, 3.25
    assert max(gaps) > 0.08 and sorted(gaps)[1] > 0.045
