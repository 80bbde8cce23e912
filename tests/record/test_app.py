"""End to end: record through `mock-openai record` with the official SDK against real upstream
processes (the test upstream and `mock-openai serve`), then replay with `serve --corpus`."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from sanic_mock.corpus import io
from tests import upstream_app as up
from tests.recording import client, mock_openai, recorder, stop
from tests.servers import Server, running

MESSAGES: list[Any] = [{"role": "user", "content": "Tell me about foxes."}]
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
        },
    }
]


def stream_deltas(c: openai.OpenAI, **kwargs: Any) -> tuple[list[Any], list[float]]:
    """Each chunk's choices' deltas (or the usage) and the time it arrived."""
    out, times = [], []
    started = time.monotonic()
    for ch in c.chat.completions.create(stream=True, **kwargs):
        times.append(time.monotonic() - started)
        if ch.choices:
            out.append(ch.choices[0].delta.model_dump(exclude_none=True))
        else:
            out.append({"usage": ch.usage.model_dump(exclude_none=True) if ch.usage else None})
    return out, times


def tool_calls(message: Any) -> list[Any]:
    return [t.model_dump() for t in message.tool_calls or []]


def test_record_then_replay_content_tools_usage_and_deltas(
    upstream: Server, tmp_path: Path
) -> None:
    out = tmp_path / "rec.corpus"
    slow = {"model": "slow-stream", "messages": MESSAGES, "stream_options": {"include_usage": True}}
    tools = {"model": "tool-model", "messages": MESSAGES, "tools": TOOLS}
    plain = {"model": "slow-stream", "messages": [{"role": "user", "content": "Say it once."}]}
    with recorder(upstream.base_url, out) as rec:
        c = client(rec)
        live_deltas, live_times = stream_deltas(c, **slow)
        live_tool_deltas, _ = stream_deltas(c, **tools)
        live_tool_body = c.chat.completions.create(**tools)
        live_plain = c.chat.completions.create(**plain)
        # Pass-through is event by event: the client saw the upstream's uneven gaps.
        assert live_times[0] >= 0.1  # the first event came after ~120 ms
        assert live_times[4] - live_times[3] >= 0.06  # the 90 ms gap before " jumps"
        log = stop(rec)
    assert "#4 POST /v1/chat/completions" in log
    assert not out.with_name("rec.corpus.journal").exists()

    data = out.read_bytes()
    for secret in (up.KEY, "Bearer", "cookie-value", "org-should-not", "sk-test"):
        assert secret.encode() not in data
    verified = mock_openai("corpus", "verify", str(out))
    assert verified.returncode == 0, verified.stdout + verified.stderr

    corpus = io.read(out)
    assert len(corpus.exchanges) == 4
    assert all(e.complete and e.status == 200 for e in corpus.exchanges)
    assert {e.model for e in corpus.exchanges} == {"slow-stream", "tool-model"}

    with running("--corpus", str(out)) as srv:
        c = client(srv, key="anything")
        deltas, _ = stream_deltas(c, **slow)
        assert deltas == live_deltas  # the same sequence of deltas, usage chunk included
        tool_deltas, _ = stream_deltas(c, **tools)
        assert tool_deltas == live_tool_deltas
        tool_body = c.chat.completions.create(**tools)
        assert tool_calls(tool_body.choices[0].message) == tool_calls(
            live_tool_body.choices[0].message
        )
        assert tool_body.choices[0].finish_reason == "tool_calls"
        assert tool_body.usage == live_tool_body.usage
        assert tool_body.id != live_tool_body.id  # fresh ids
        replayed = c.chat.completions.create(**plain)
        assert replayed.choices[0].message.content == live_plain.choices[0].message.content
        assert replayed.usage == live_plain.usage

        # A recorded stream asked for without streaming: assembled into one body.
        whole = c.chat.completions.create(model="slow-stream", messages=MESSAGES)
        assert whole.choices[0].message.content == "".join(up.PIECES)
        assert whole.usage is not None and whole.usage.total_tokens == up.USAGE["total_tokens"]
        # A recorded body asked for as a stream: cut into token events.
        pieces, _ = stream_deltas(c, **plain)
        text = "".join(d.get("content", "") for d in pieces)
        assert text == live_plain.choices[0].message.content
        assert len(pieces) > 3


def test_replay_reproduces_recorded_gaps(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "timed.corpus"
    with recorder(upstream.base_url, out) as rec:
        stream_deltas(client(rec), model="slow-stream", messages=MESSAGES)
    recorded = io.read(out).exchanges[0].times_us
    with running("--corpus", str(out), "--replay-timing", "recorded") as srv:
        arrivals = []
        body = {"model": "slow-stream", "messages": MESSAGES, "stream": True}
        with httpx.Client(timeout=30) as http:
            start = time.monotonic()
            with http.stream("POST", srv.base_url + "/chat/completions", json=body) as r:
                for line in r.iter_lines():
                    if line.startswith("data:"):
                        arrivals.append(time.monotonic() - start)
    assert len(arrivals) == len(recorded)
    want = [t / 1e6 for t in recorded]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    want_gaps = [b - a for a, b in zip(want, want[1:], strict=False)]
    for got, expected in zip(gaps, want_gaps, strict=True):
        assert abs(got - expected) < 0.015, (gaps, want_gaps)
    assert abs(arrivals[0] - want[0]) < 0.05  # first-token latency (plus connection set-up)


def test_stop_mid_stream_keeps_an_incomplete_exchange(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "stopped.corpus"
    seen: list[str] = []
    with recorder(upstream.base_url, out) as rec:
        c = client(rec)
        c.chat.completions.create(model="slow-stream", messages=MESSAGES)  # one finished

        def read() -> None:
            body = {"model": "hang", "messages": MESSAGES, "stream": True}
            headers = {"authorization": f"Bearer {up.KEY}"}
            with httpx.stream(
                "POST", rec.base_url + "/chat/completions", json=body, headers=headers, timeout=30
            ) as r:
                seen.extend(r.iter_lines())

        reader = threading.Thread(target=read)
        reader.start()
        deadline = time.monotonic() + 10
        while sum(line.startswith("data:") for line in seen) < 2:
            assert time.monotonic() < deadline, seen
            time.sleep(0.02)
        log = stop(rec, signal.SIGTERM)
        reader.join(10)
    assert not reader.is_alive()
    assert "(incomplete)" in log
    corpus = io.read(out)
    assert len(corpus.exchanges) == 2
    hung = next(e for e in corpus.exchanges if e.model == "hang")
    assert not hung.complete and hung.events is not None and len(hung.events) == 2
    listing = mock_openai("corpus", "inspect", str(out))
    assert "INCOMPLETE" in listing.stdout


def test_killed_recorder_leaves_a_journal_that_loads(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "killed.corpus"
    with recorder(upstream.base_url, out) as rec:
        client(rec).chat.completions.create(model="slow-stream", messages=MESSAGES)
        stop(rec, signal.SIGKILL)
    journal = out.with_name("killed.corpus.journal")
    assert journal.exists() and not out.exists()
    imported = tmp_path / "imported.corpus"
    result = mock_openai("corpus", "import", str(journal), "--out", str(imported))
    assert result.returncode == 0, result.stderr
    assert len(io.read(imported).exchanges) == 1
    # The next run with the same --out carries the journal on.
    with recorder(upstream.base_url, out) as rec:
        client(rec).chat.completions.create(model="tool-model", messages=MESSAGES)
    assert [e.model for e in io.read(out).exchanges] == ["slow-stream", "tool-model"]


def test_cut_stream_is_marked_incomplete(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "cut.corpus"
    with recorder(upstream.base_url, out) as rec:
        deltas, _ = stream_deltas(client(rec), model="cut", messages=MESSAGES)
    assert [d.get("content") for d in deltas] == ["Hello", " there"]
    (ex,) = io.read(out).exchanges
    assert not ex.complete


def test_secrets_are_refused_unless_allowed(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "leaky.corpus"
    with recorder(upstream.base_url, out) as rec:
        c = client(rec)
        answer = c.chat.completions.create(model="leaky", messages=MESSAGES)
        assert answer.choices[0].message.content == up.SECRET_CONTENT  # the client still gets it
        c.chat.completions.create(model="slow-stream", messages=MESSAGES)
        log = stop(rec)
    assert "NOT recorded" in log and "sk-live" in log
    assert [e.model for e in io.read(out).exchanges] == ["slow-stream"]

    allowed = tmp_path / "allowed.corpus"
    with recorder(upstream.base_url, allowed, "--allow-secrets") as rec:
        client(rec).chat.completions.create(model="leaky", messages=MESSAGES)
    refused = mock_openai("serve", "--corpus", str(allowed))
    assert refused.returncode == 2
    assert "exchange 0 (POST /v1/chat/completions model=leaky)" in refused.stderr
    assert "key-like" in refused.stderr
    verify = mock_openai("corpus", "verify", str(allowed))
    assert verify.returncode == 1 and "key-like" in verify.stdout


def test_upstream_key_from_environment(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "keyed.corpus"
    env = {"UPSTREAM_TEST_KEY": up.KEY}
    args = ("--upstream-key-env", "UPSTREAM_TEST_KEY")
    with recorder(upstream.base_url, out, *args, env=env) as rec:
        c = client(rec, key="sk-client-key-is-replaced-000000")
        answer = c.chat.completions.create(model="slow-stream", messages=MESSAGES)
    assert answer.choices[0].message.content == "".join(up.PIECES)
    assert up.KEY.encode() not in out.read_bytes()


def test_mock_openai_serve_as_upstream(tmp_path: Path) -> None:
    out = tmp_path / "mock.corpus"
    key = "sk-mock-upstream-key-0000000000000"
    chat = {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 12}
    with running("--pregen-count", "64", "--api-key", key) as upstream:
        with recorder(upstream.base_url, out) as rec:
            c = client(rec, key=key)
            live_chat = c.chat.completions.create(**chat)
            live_stream, _ = stream_deltas(
                c, **{**chat, "messages": [{"role": "user", "content": "s"}]}
            )
            live_text = c.completions.create(
                model="gpt-3.5-turbo-instruct", prompt="Hi", max_tokens=5
            )
            live_embed = c.embeddings.create(model="text-embedding-3-small", input="hello")
    assert key.encode() not in out.read_bytes()
    with running("--corpus", str(out)) as srv:
        c = client(srv, key="x")
        assert c.chat.completions.create(**chat).choices[0].message.content == (
            live_chat.choices[0].message.content
        )
        again, _ = stream_deltas(c, **{**chat, "messages": [{"role": "user", "content": "s"}]})
        assert again == live_stream
        text = c.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hi", max_tokens=5)
        assert text.choices[0].text == live_text.choices[0].text
        assert text.usage == live_text.usage
        embed = c.embeddings.create(model="text-embedding-3-small", input="hello")
        assert embed.data[0].embedding == live_embed.data[0].embedding


def test_on_miss_error_names_the_closest_request(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "miss.corpus"
    with recorder(upstream.base_url, out) as rec:
        client(rec).chat.completions.create(model="slow-stream", messages=MESSAGES, temperature=0.2)
    with running("--corpus", str(out), "--on-miss", "error") as srv:
        c = client(srv, key="x")
        with pytest.raises(openai.BadRequestError) as caught:
            c.chat.completions.create(model="slow-stream", messages=MESSAGES, temperature=0.9)
    message = caught.value.body["message"] if isinstance(caught.value.body, dict) else ""
    assert "exchange 0" in message and "temperature (recorded 0.2, got 0.9)" in message


def test_on_miss_proxy_forwards_and_records(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "grow.corpus"
    with recorder(upstream.base_url, out) as rec:
        client(rec).chat.completions.create(model="slow-stream", messages=MESSAGES)
    args = ("--corpus", str(out), "--on-miss", "proxy", "--upstream", upstream.base_url)
    with running(*args) as srv:
        c = client(srv)
        hit = c.chat.completions.create(model="slow-stream", messages=MESSAGES)
        assert hit.id != "chatcmpl-upstream1"  # replayed: a fresh id
        miss = c.chat.completions.create(model="tool-model", messages=MESSAGES, tools=TOOLS)
        assert miss.id == "chatcmpl-upstream1"  # forwarded
        again = c.chat.completions.create(model="tool-model", messages=MESSAGES, tools=TOOLS)
        assert again.id != "chatcmpl-upstream1"  # replayed from what was just recorded
        assert tool_calls(again.choices[0].message) == tool_calls(miss.choices[0].message)
    assert sorted(e.model or "" for e in io.read(out).exchanges) == ["slow-stream", "tool-model"]


def test_batch_mode_records_a_request_file(tmp_path: Path) -> None:
    key = "sk-mock-upstream-key-0000000000000"
    requests = tmp_path / "requests.jsonl"
    lines = [
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q{i}"}]}
        for i in range(5)
    ]
    lines.append({"endpoint": "/v1/embeddings", "body": {"model": "m", "input": "x"}})
    requests.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    out = tmp_path / "batch.corpus"
    with running("--pregen-count", "64", "--api-key", key) as upstream:
        args = ["record", "--upstream", upstream.base_url, "--out", str(out)]
        args += ["--requests", str(requests), "--concurrency", "3", "--upstream-key-env", "K"]
        result = mock_openai(*args, env={"K": key})
    assert result.returncode == 0, result.stderr
    assert "6/6" in result.stderr and "(0 failed)" in result.stdout
    corpus = io.read(out)
    assert len(corpus.exchanges) == 6
    assert sum(e.endpoint == "/v1/embeddings" for e in corpus.exchanges) == 1
