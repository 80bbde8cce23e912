"""Replay that agent test suites can trust, end to end: recorded through `mock-openai record`
from the test upstream (`tests/upstream_app.py`, its own process) with the official SDK, then
replayed offline by `mock-openai serve --corpus`: stream and non-stream recordings of one
prompt, agent loops with their tool call ids, model listings, visible misses, fitted samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from sanic_mock.tokens import split_pieces
from tests import upstream_app as up
from tests.recording import client, recorder, stop
from tests.servers import Server, running

TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"step": {"type": "integer"}}},
        },
    }
]
ASK = [{"role": "user", "content": "What is the weather, twice?"}]


def run_tool(arguments: str) -> str:
    """The client's side of the loop: a deterministic tool result."""
    return f"sunny at step {orjson.loads(arguments)['step']}"


def agent_loop(c: openai.OpenAI, stream: bool) -> tuple[list[Any], list[str]]:
    """Drive the agent loop to its answer: (every assistant turn, each answer's x-mock-replay)."""
    messages: list[Any] = list(ASK)
    turns: list[Any] = []
    replays: list[str] = []
    for _ in range(up.AGENT_STEPS + 2):
        if stream:
            message, finish, replay = _streamed_turn(c, messages)
        else:
            raw = c.chat.completions.with_raw_response.create(
                model="agent-model", messages=messages, tools=TOOLS
            )
            choice = raw.parse().choices[0]
            message = choice.message.model_dump(exclude_none=True)
            message.pop("annotations", None)
            finish, replay = choice.finish_reason, raw.headers.get("x-mock-replay", "-")
        turns.append(message)
        replays.append(replay)
        messages.append(message)
        if finish != "tool_calls":
            return turns, replays
        for call in message["tool_calls"]:
            result = run_tool(call["function"]["arguments"])
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    raise AssertionError("the loop did not end")


def _streamed_turn(c: openai.OpenAI, messages: list[Any]) -> tuple[dict[str, Any], str, str]:
    content, calls, finish = "", {}, ""
    raw = c.chat.completions.with_raw_response.create(
        model="agent-model", messages=messages, tools=TOOLS, stream=True
    )
    for chunk in raw.parse():
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            content += choice.delta.content or ""
            for t in choice.delta.tool_calls or []:
                slot = calls.setdefault(t.index, {"id": "", "name": "", "arguments": ""})
                slot["id"] += t.id or ""
                if t.function is not None:
                    slot["name"] += t.function.name or ""
                    slot["arguments"] += t.function.arguments or ""
    message: dict[str, Any] = {"role": "assistant"}
    if content:
        message["content"] = content
    if calls:
        message["tool_calls"] = [
            {
                "id": s["id"],
                "type": "function",
                "function": {"name": s["name"], "arguments": s["arguments"]},
            }
            for _, s in sorted(calls.items())
        ]
    return message, finish, raw.headers.get("x-mock-replay", "-")


def test_a_recorded_agent_loop_replays_turn_by_turn_with_the_recorded_ids(
    upstream: Server, tmp_path: Path
) -> None:
    out = tmp_path / "agent.corpus"
    with recorder(upstream.base_url, out) as rec:
        live = {stream: agent_loop(client(rec), stream) for stream in (False, True)}
    for stream in (False, True):
        turns, _ = live[stream]
        assert len(turns) == up.AGENT_STEPS + 1  # two tool calls, then the answer
        ids = [t["tool_calls"][0]["id"] for t in turns[:-1]]
        assert len(set(ids)) == len(ids) and all(i.startswith("call_") for i in ids)
        assert turns[-1]["content"] == "Done: sunny at step 1 / sunny at step 2"
    with running("--corpus", str(out), "--on-miss", "error") as srv:
        for stream in (False, True):
            turns, replays = agent_loop(client(srv, key="any"), stream)
            assert turns == live[stream][0]  # the same tool call ids, arguments and answer
            assert replays == ["hit"] * len(turns)


def test_one_prompt_recorded_streamed_and_not_replays_each_one(
    upstream: Server, tmp_path: Path
) -> None:
    out = tmp_path / "kinds.corpus"
    with recorder(upstream.base_url, out) as rec:
        c = client(rec)
        c.chat.completions.create(model="two-kinds", messages=ASK)
        list(c.chat.completions.create(model="two-kinds", messages=ASK, stream=True))
    with running("--corpus", str(out)) as srv:
        c = client(srv, key="any")
        for _ in range(2):  # and again: each kind keeps its own cursor
            plain = c.chat.completions.with_raw_response.create(model="two-kinds", messages=ASK)
            assert plain.parse().choices[0].message.content == "Plain answer."
            assert plain.headers["x-mock-replay"] == "hit"
            deltas = [
                ch.choices[0].delta.content
                for ch in c.chat.completions.create(model="two-kinds", messages=ASK, stream=True)
                if ch.choices and ch.choices[0].delta.content
            ]
            assert deltas == ["Stream", "ed ans", "wer."]  # the recorded delta boundaries


def test_replay_ids_recorded_gives_the_upstream_bytes(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "exact.corpus"
    request = {"model": "slow-stream", "messages": ASK, "stream": True}
    headers = {"authorization": f"Bearer {up.KEY}"}
    direct = httpx.post(upstream.base_url + "/chat/completions", json=request, headers=headers)
    with recorder(upstream.base_url, out) as rec:
        httpx.post(rec.base_url + "/chat/completions", json=request, headers=headers, timeout=30)
    with running("--corpus", str(out), "--replay-ids", "recorded") as srv:
        exact = httpx.post(srv.base_url + "/chat/completions", json=request)
    with running("--corpus", str(out)) as srv:
        fresh = httpx.post(srv.base_url + "/chat/completions", json=request)
    assert exact.content == direct.content
    assert (
        exact.headers["x-mock-replay"] == "hit" and exact.headers["x-mock-replay-exchange"] == "0"
    )
    assert b"chatcmpl-upstream1" not in fresh.content
    assert fresh.content.count(b"data: ") == direct.content.count(b"data: ")


def test_models_are_recorded_and_replayed(upstream: Server, tmp_path: Path) -> None:
    out = tmp_path / "models.corpus"
    with recorder(upstream.base_url, out) as rec:
        c = client(rec)
        recorded = [m.id for m in c.models.list()]
        one = c.models.retrieve("upstream-model-b")
        with pytest.raises(openai.NotFoundError):
            c.models.retrieve("nope")
    assert recorded == list(up.UPSTREAM_MODELS)
    with running("--corpus", str(out)) as srv:
        c = client(srv, key="any")
        listed = c.models.with_raw_response.list()
        assert [m.id for m in listed.parse()] == list(up.UPSTREAM_MODELS)
        assert listed.headers["x-mock-replay"] == "hit"
        assert c.models.retrieve("upstream-model-b") == one
        with pytest.raises(openai.NotFoundError) as missing:
            c.models.retrieve("nope")  # the recorded 404
        assert missing.value.response.headers["x-mock-replay"] == "hit"
        other = httpx.get(srv.base_url + "/models/gpt-4o")  # not recorded: the catalog's
        assert other.status_code == 200 and other.headers["x-mock-replay"] == "miss"


def test_a_miss_is_marked_and_logged_once_and_a_sample_is_fitted(
    upstream: Server, tmp_path: Path
) -> None:
    out = tmp_path / "miss.corpus"
    with recorder(upstream.base_url, out) as rec:
        client(rec).chat.completions.create(model="slow-stream", messages=ASK)
    other = [{"role": "user", "content": "Something never recorded."}]
    with running("--corpus", str(out)) as srv:
        c = client(srv, key="any")
        for _ in range(2):
            raw = c.chat.completions.with_raw_response.create(
                model="gpt-4o", messages=other, max_tokens=3, n=2
            )
            assert raw.headers["x-mock-replay"] == "miss"
            assert "x-mock-replay-exchange" not in raw.headers
        body = orjson.loads(raw.content)
        assert list(body) == [
            "id",
            "object",
            "created",
            "model",
            "choices",
            "usage",
            "system_fingerprint",
        ]
        assert body["model"] == "gpt-4o"
        pieces = split_pieces("".join(up.PIECES))  # the recorded answer, in token pieces
        assert [ch["message"]["content"] for ch in body["choices"]] == ["".join(pieces[:3])] * 2
        assert [ch["finish_reason"] for ch in body["choices"]] == ["length", "length"]
        assert body["usage"]["completion_tokens"] == 6  # 3 tokens, twice
        streamed = c.chat.completions.create(
            model="gpt-4o",
            messages=other,
            max_tokens=2,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(streamed)
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        assert text == "".join(pieces[:2])
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 2
        hit = c.chat.completions.with_raw_response.create(model="slow-stream", messages=ASK)
        assert hit.headers["x-mock-replay"] == "hit"
        assert hit.headers["x-mock-replay-exchange"] == "0"
        log = stop(srv)
    lines = [line for line in log.splitlines() if "replay miss" in line]
    assert len(lines) == 2, log  # once per distinct request: the JSON one, then the stream
    assert "WARNING" in lines[0] and "exchange 0" in lines[0]
    assert "messages[0].content" in lines[0] and "max_tokens (not recorded)" in lines[0]


GRANIAN = ("--http2", "--http2-engine", "granian")
TRANSPORTS = [(), ("-v",), ("--http2",), GRANIAN]


@pytest.mark.parametrize("args", TRANSPORTS, ids=["h1-fast", "sanic", "hypercorn", "granian"])
def test_every_transport_sends_the_replay_headers(
    upstream: Server, tmp_path: Path, args: tuple[str, ...]
) -> None:
    out = tmp_path / "one.corpus"
    with recorder(upstream.base_url, out) as rec:
        client(rec).chat.completions.create(model="slow-stream", messages=ASK)
    request = {"model": "slow-stream", "messages": ASK}
    if args == GRANIAN:
        pytest.importorskip("granian")
    with running("--corpus", str(out), *args) as srv:
        with httpx.Client(http1="--http2" not in args, http2=True) as http:
            url = srv.base_url + "/chat/completions"
            hit = http.post(url, json=request)
            streamed = http.post(url, json={**request, "stream": True})
            miss = http.post(url, json={**request, "model": "other"})
            models = http.get(srv.base_url + "/models")
    for answer in (hit, streamed):
        assert answer.status_code == 200
        assert answer.headers["x-mock-replay"] == "hit"
        assert answer.headers["x-mock-replay-exchange"] == "0"
    assert miss.headers["x-mock-replay"] == "miss"
    assert models.headers["x-mock-replay"] == "miss"  # no GET recorded: the catalog answers
