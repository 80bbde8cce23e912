"""`GET /metrics` and the simulated engine's load and rate limits, from real clients against the
real server: the vLLM metrics parsed with `prometheus_client`'s own parser equal what the client
saw (requests, tokens, events), summed over two workers; the latency histograms agree with the
client's clock; faults are counted by type; on every transport; `--load-factor` on JSON
answers; the token bucket refuses the request that the real API would.

Timing bounds are wide (the machine may be loaded)."""

from __future__ import annotations

import concurrent.futures
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sanic_mock.corpus import io
from sanic_mock.corpus.format import Corpus
from sanic_mock.run import certs
from tests.factories import call_item, json_exchange, message_item, response_exchange
from tests.servers import running

COMMON = ("--pregen-count", "256", "--token-stddev", "0")
MESSAGES = [{"role": "user", "content": "Count me."}]
CHAT: dict[str, Any] = {"model": "m", "messages": MESSAGES}
STREAM: dict[str, Any] = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}


def scrape(client: httpx.Client) -> dict[str, float]:
    """Every sample of `/metrics` by name and labels, e.g. `vllm:prompt_tokens_total{m}`."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def streamed(client: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None):
    """(time to first content event, last event, content events, usage or None, request id)."""
    start = time.monotonic()
    first, events, usage, last = 0.0, 0, None, 0.0
    with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            last = time.monotonic()
            if '"content":"' in line and '"content":""' not in line:
                events += 1
                first = first or last - start
            if '"usage":{' in line:
                usage = httpx.Response(200, content=line[6:]).json()["usage"]
    return first, last - start, events, usage, r.headers["x-request-id"]


def test_metrics_equal_what_the_client_saw_across_two_workers() -> None:
    args = (*COMMON, "--workers", "2", "--token-mean", "9", "--response-delay-ms", "2")
    with running(*args, timeout=90) as server:
        prompt = generation = events = 0
        workers = set()

        def one(k: int) -> tuple[int, int, int, str]:
            with httpx.Client(base_url=server.url, timeout=30) as c:  # a connection each
                if k % 2:
                    # some long answers keep a worker busy, so the other accepts connections
                    body = {**CHAT, "max_tokens": 3 + k % 5, "n": 40 if k % 8 == 1 else 1}
                    r = c.post("/v1/chat/completions", json=body)
                    usage, rid = r.json()["usage"], r.headers["x-request-id"]
                    return usage["prompt_tokens"], usage["completion_tokens"], 0, rid
                _, _, seen, usage, rid = streamed(c, STREAM)
                return usage["prompt_tokens"], usage["completion_tokens"], seen - 1, rid

        requests = 0
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while len(workers) < 2 and requests < 800:  # the kernel picks the worker
                for p, g, gaps, rid in pool.map(one, range(requests, requests + 40)):
                    prompt, generation, events = prompt + p, generation + g, events + gaps
                    workers.add(rid[:20])  # the request id's stem is per process
                requests += 40
        assert len(workers) == 2, "both workers answered"
        time.sleep(1.2)  # the other worker's figures are at most FLUSH_S (0.5 s) old
        seen = []
        for _ in range(6):  # new connections: some reach the other worker
            with httpx.Client(base_url=server.url, timeout=30) as c:
                seen.append(scrape(c))
        m = seen[0]
    for other in seen:  # whichever worker answered the scrape, the same sums
        assert other["vllm:prompt_tokens_total{model_name=m}"] == prompt
    assert m["vllm:prompt_tokens_total{model_name=m}"] == prompt
    assert m["vllm:generation_tokens_total{model_name=m}"] == generation
    ok = m["vllm:request_success_total{finished_reason=length,model_name=m}"]
    ok += m["vllm:request_success_total{finished_reason=stop,model_name=m}"]
    assert ok == requests
    assert m["vllm:request_success_total{finished_reason=abort,model_name=m}"] == 0
    assert m["vllm:time_to_first_token_seconds_count{model_name=m}"] == requests
    assert m["vllm:e2e_request_latency_seconds_count{model_name=m}"] == requests
    assert m["vllm:inter_token_latency_seconds_count{model_name=m}"] == events
    assert m["vllm:time_per_output_token_seconds_count{model_name=m}"] == events
    assert m["vllm:num_requests_running{model_name=m}"] == 0
    assert m["vllm:num_requests_waiting{model_name=m}"] == 0


def test_the_histograms_agree_with_the_clients_clock() -> None:
    args = (*COMMON, "--token-mean", "10", "--first-token-delay-ms", "60")
    args += ("--response-delay-ms", "12")
    with running(*args) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        runs = [streamed(c, STREAM) for _ in range(5)]
        start = time.monotonic()
        c.post("/v1/chat/completions", json=CHAT)  # waits as long as the stream: ~60 + 9 x 12 ms
        whole = time.monotonic() - start
        m = scrape(c)
    ttfts, e2es = [r[0] for r in runs], [r[1] for r in runs]
    label = "{model_name=m}"
    count = m[f"vllm:time_to_first_token_seconds_count{label}"]
    assert count == 6
    # The server's clock stops when a frame leaves, the client's when it has read it: never
    # earlier, and later by the network and the client's own delays (one may stall).
    server_ttft = (m[f"vllm:time_to_first_token_seconds_sum{label}"] - whole) / 5  # JSON: ~whole
    assert min(ttfts) - 0.01 < server_ttft < statistics.mean(ttfts) + 0.002
    assert 0.058 < server_ttft < 0.075  # 60 ms configured
    server_e2e = (m[f"vllm:e2e_request_latency_seconds_sum{label}"] - whole) / 5
    assert min(e2es) - 0.01 < server_e2e < statistics.mean(e2es) + 0.002
    assert 0.165 < server_e2e < 0.2  # 60 + 9 x 12 ms
    assert 0.15 < whole < 0.25
    # every first token in (0.04, 0.06] or (0.06, 0.08]; every gap at or below 25 ms
    le = m["vllm:time_to_first_token_seconds_bucket{le=0.08,model_name=m}"]
    assert le - m["vllm:time_to_first_token_seconds_bucket{le=0.04,model_name=m}"] == 5
    gaps = m[f"vllm:inter_token_latency_seconds_count{label}"]
    assert gaps == 5 * 9
    assert m["vllm:inter_token_latency_seconds_bucket{le=0.025,model_name=m}"] == gaps
    assert m["vllm:inter_token_latency_seconds_bucket{le=0.01,model_name=m}"] == 0
    itl = m[f"vllm:inter_token_latency_seconds_sum{label}"] / gaps
    assert itl == pytest.approx(0.012)
    assert m["mock_openai_pacing_lag_seconds_count{}"] >= 5 * 10  # every paced frame
    assert m["mock_openai_pacing_lag_seconds_bucket{le=0.05}"] > 0


def test_faults_are_counted_by_type_and_cut_streams_as_aborts() -> None:
    with running(*COMMON, "--token-mean", "8") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        for fault, error in (("503", openai.InternalServerError), ("429", openai.RateLimitError)):
            with pytest.raises(error):
                client.chat.completions.create(
                    model="m", messages=MESSAGES, extra_headers={"x-mock-fault": fault}
                )
        with httpx.Client(base_url=server.url, timeout=30) as c:
            *_, seen, usage, _ = streamed(c, STREAM, {"x-mock-fault": "truncate:3"})
            assert (seen, usage) == (3, None)
            *_, stalled, _, _ = streamed(c, STREAM, {"x-mock-fault": "stall:2:30"})
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):  # a TCP reset
                streamed(c, STREAM, {"x-mock-fault": "reset:2"})
        with httpx.Client(base_url=server.url, timeout=30) as c:
            m = scrape(c)
    faults = {kind: m[f"mock_openai_faults_total{{type={kind}}}"] for kind in ("429", "500")}
    assert faults == {"429": 1, "500": 0}
    assert m["mock_openai_faults_total{type=503}"] == 1
    assert m["mock_openai_faults_total{type=truncate}"] == 1
    assert m["mock_openai_faults_total{type=stall}"] == 1
    assert m["mock_openai_faults_total{type=reset}"] == 1
    assert m["vllm:request_success_total{finished_reason=abort,model_name=m}"] == 2
    ok = m["vllm:request_success_total{finished_reason=length,model_name=m}"]
    assert ok + m["vllm:request_success_total{finished_reason=stop,model_name=m}"] == 1  # stall
    assert m["vllm:generation_tokens_total{model_name=m}"] == 3 + stalled + 2


TRANSPORTS = [
    ("sanic", ()),
    ("hypercorn-h2c", ("--http2", "--http2-engine", "hypercorn")),
    ("granian-h2c", ("--http2",)),  # the default engine
]


@pytest.mark.parametrize(("name", "flags"), TRANSPORTS, ids=[t[0] for t in TRANSPORTS])
def test_metrics_on_every_transport(name: str, flags: tuple[str, ...]) -> None:
    args = (*COMMON, "--token-mean", "5", "--response-delay-ms", "3", *flags)
    h2 = bool(flags)
    with running(*args) as server:
        with httpx.Client(base_url=server.url, http1=not h2, http2=h2, timeout=30) as c:
            got = c.post("/v1/chat/completions", json=CHAT).json()["usage"]
            *_, usage, _ = streamed(c, STREAM)
            m = scrape(c)
            assert c.head("/metrics").status_code == 200
    assert m["vllm:generation_tokens_total{model_name=m}"] == (
        got["completion_tokens"] + usage["completion_tokens"]
    )
    assert m["vllm:e2e_request_latency_seconds_count{model_name=m}"] == 2
    assert m["vllm:inter_token_latency_seconds_count{model_name=m}"] == 4


def test_no_metrics_is_a_404() -> None:
    with running(*COMMON, "--no-metrics") as server, httpx.Client(base_url=server.url) as c:
        response = c.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /metrics)"


def test_the_load_factor_stretches_json_answers_too() -> None:
    args = ("--max-concurrency", "4", "--load-factor", "4", "--response-delay-ms", "30")
    with running(*COMMON, "--token-mean", "12", "--first-token-delay-ms", "0", *args) as server:

        def took(c: httpx.Client) -> float:
            start = time.monotonic()
            assert c.post("/v1/chat/completions", json=CHAT).status_code == 200
            return time.monotonic() - start

        with httpx.Client(base_url=server.url, timeout=30) as c:
            alone = took(c)
        clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(4)]
        for c in clients:
            c.get("/health")
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            together = sorted(pool.map(took, clients))
        for c in clients:
            c.close()
    assert 0.3 < alone < 0.45  # 11 gaps of 30 ms, nothing else running
    # started together with 0..3 others running: 330 ms x 1, 1.75, 2.5, 3.25
    assert together[-1] > 0.85 and together[1] > 0.5


def test_the_token_bucket_counts_the_prompt_and_max_tokens() -> None:
    with running(*COMMON, "--token-mean", "4", "--rate-limit-tpm", "1000") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        long = [{"role": "user", "content": "word " * 30}]  # a prompt of ~40 tokens
        first = client.chat.completions.with_raw_response.create(
            model="m", messages=long, max_tokens=200
        )
        prompt = first.parse().usage.prompt_tokens
        each = prompt + 200  # what the real API counts ahead: the prompt and max_tokens
        remaining = int(first.headers["x-ratelimit-remaining-tokens"])
        assert 1000 - each <= remaining <= 1000 - each + 5  # a few back since (1000 a minute)
        passed = 1
        with pytest.raises(openai.RateLimitError) as refused:
            while passed < 10:
                client.chat.completions.create(model="m", messages=long, max_tokens=200)
                passed += 1
        assert passed == 1000 // each  # the next one did not fit
        assert f"Requested {each}." in refused.value.message


def test_metrics_over_http3(tmp_path: Path) -> None:
    from tests.protocol.support import H3Transport

    cert, key = certs.write(tmp_path)
    args = (*COMMON, "--token-mean", "5", "--response-delay-ms", "3", "--http3")
    with running(*args, "--tls-cert", str(cert), "--tls-key", str(key), scheme="https") as server:
        h3 = H3Transport(server.url)
        try:
            answer = h3.request("POST", "/v1/chat/completions", orjson.dumps(CHAT))
            assert answer.status == 200
            text = h3.request("GET", "/metrics").body.decode()
        finally:
            h3.close()
    found = {
        (s.name, s.labels.get("model_name")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    completion = orjson.loads(answer.body)["usage"]["completion_tokens"]
    assert found[("vllm:generation_tokens_total", "m")] == completion
    assert found[("vllm:e2e_request_latency_seconds_count", "m")] == 1


def test_replayed_answers_are_counted_by_what_they_said(tmp_path: Path) -> None:
    """A recorded corpus: hits count the recorded usage, JSON and stream alike."""
    recorded = json_exchange("Count me.", "Recorded words here.")
    path = tmp_path / "recorded.corpus"
    io.write(path, Corpus(kind="recorded", generator={}, exchanges=(recorded,)))
    with running("--corpus", str(path)) as server, httpx.Client(base_url=server.url) as c:
        body = {"model": "gpt-4o-mini", "messages": MESSAGES}
        assert c.post("/v1/chat/completions", json=body).headers["x-mock-replay"] == "hit"
        streamed(c, {**body, "stream": True})
        got = scrape(c)
    usage = recorded.usage
    model = "model_name=gpt-4o-mini"
    assert got[f"vllm:prompt_tokens_total{{{model}}}"] == 2 * usage["prompt_tokens"]
    assert got[f"vllm:generation_tokens_total{{{model}}}"] == 2 * usage["completion_tokens"]
    assert got[f"vllm:request_success_total{{finished_reason=stop,{model}}}"] == 2


def test_replayed_responses_are_counted_by_what_they_said(tmp_path: Path) -> None:
    """A recorded `/v1/responses` corpus: a JSON hit, a stream hit of a function call and a
    sampled miss cut at `max_output_tokens` count their recorded usage and finish reasons."""
    ask = {"model": "gpt-4.1-mini", "input": "Count me."}
    call = {"model": "gpt-4.1-mini", "input": "Weather in Oslo?"}
    exchanges = (
        response_exchange(ask, [message_item("Recorded words here. " * 20)]),
        response_exchange(call, [call_item()], rid="resp_call", stream=True),
    )
    path = tmp_path / "recorded.corpus"
    io.write(path, Corpus(kind="recorded", generator={}, exchanges=exchanges))
    with running("--corpus", str(path), "--on-miss", "sample") as server:
        with httpx.Client(base_url=server.url) as c:
            assert c.post("/v1/responses", json=ask).headers["x-mock-replay"] == "hit"
            with c.stream("POST", "/v1/responses", json={**call, "stream": True}) as r:
                assert r.headers["x-mock-replay"] == "hit"
                assert b"response.completed" in r.read()
            miss = {**ask, "input": "Not recorded either.", "max_output_tokens": 16}
            cut = c.post("/v1/responses", json=miss)  # its hash picks the message
            assert cut.headers["x-mock-replay"] == "miss"
            got = scrape(c)
    model = "model_name=gpt-4.1-mini"
    said = cut.json()
    assert said["status"] == "incomplete", said
    # the recorded usage (7 in, 5 out) twice, then what the fitted miss says of itself
    prompt, generated = 14 + said["usage"]["input_tokens"], 10 + said["usage"]["output_tokens"]
    assert got[f"vllm:prompt_tokens_total{{{model}}}"] == prompt
    assert got[f"vllm:generation_tokens_total{{{model}}}"] == generated
    # vLLM's reasons: the function call finished as `stop`, the cut miss as `length`
    assert got[f"vllm:request_success_total{{finished_reason=stop,{model}}}"] == 2
    assert got[f"vllm:request_success_total{{finished_reason=length,{model}}}"] == 1
