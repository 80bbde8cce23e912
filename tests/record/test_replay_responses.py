"""Record and replay of the Responses API, end to end: the mock itself in generated mode is the
upstream (its own process), `mock-openai record` captures what the official SDK (and the OpenAI
Agents SDK) sends through it, and `mock-openai serve --corpus --on-miss error` replays it
offline: JSON and streams of one prompt, a tool loop chained by `previous_response_id`, the
stored responses, visible misses; every replayed body and event validated against the spec."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from tests.recording import mock_openai, recorder
from tests.servers import Server, running
from tests.spec import response_events as sse_events
from tests.spec import validate

WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
PROMPT = "Say something about replay."


@pytest.fixture(scope="module")
def upstream() -> Iterator[Server]:
    with running("--pregen-count", "64") as server:
        yield server


def sdk(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=30)


def post(server: Server, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.base_url + "/responses", json=body, timeout=30)


def streamed(server: Server, body: dict[str, Any]) -> tuple[httpx.Response, bytes]:
    with httpx.stream(
        "POST", server.base_url + "/responses", json={**body, "stream": True}, timeout=30
    ) as resp:
        return resp, resp.read()


def tool_loop(c: openai.OpenAI) -> tuple[list[Any], list[str]]:
    """user -> function_call -> function_call_output (previous_response_id) -> text."""
    first = c.responses.with_raw_response.create(
        model="gpt-4o",
        input="Weather in Oslo?",
        tools=[WEATHER],  # type: ignore[list-item]
    )
    one = first.parse()
    call = next(item for item in one.output if item.type == "function_call")
    second = c.responses.with_raw_response.create(
        model="gpt-4o",
        previous_response_id=one.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "9C"}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    two = second.parse()
    return [one, two], [r.headers.get("x-mock-replay", "-") for r in (first, second)]


def said(response: Any) -> list[Any]:
    """What a response says, without its own id and times."""
    return [item.model_dump() for item in response.output]


@pytest.fixture(scope="module")
def recorded(upstream: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One recording session through the real recorder; what the client saw live."""
    out = tmp_path_factory.mktemp("responses") / "responses.corpus"
    with recorder(upstream.base_url, out) as rec:
        c = sdk(rec)
        plain = c.responses.create(model="gpt-4o", input=PROMPT)
        _, raw = streamed(rec, {"model": "gpt-4o", "input": PROMPT})
        live_events = sse_events(raw)
        loop, _ = tool_loop(c)
        count = c.responses.input_tokens.count(model="gpt-4o", input=PROMPT)
        got = c.responses.retrieve(plain.id)
    return {
        "out": out,
        "plain": plain,
        "stream_events": live_events,
        "loop": loop,
        "count": count.input_tokens,
        "retrieved": got,
    }


@pytest.fixture(scope="module")
def replay(recorded: dict[str, Any]) -> Iterator[Server]:
    with running("--corpus", str(recorded["out"]), "--on-miss", "error") as server:
        yield server


def test_the_recorder_captures_responses_json_streams_and_counts(
    recorded: dict[str, Any],
) -> None:
    listing = mock_openai("corpus", "inspect", str(recorded["out"]))
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.count("POST /v1/responses ") == 4  # plain, stream, two loop turns
    assert "POST /v1/responses/input_tokens" in listing.stdout
    assert "INCOMPLETE" not in listing.stdout
    verify = mock_openai("corpus", "verify", str(recorded["out"]))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert b"sk-test" not in Path(recorded["out"]).read_bytes()  # the client's key: never kept
    same = mock_openai("corpus", "diff", str(recorded["out"]), str(recorded["out"]))
    assert same.returncode == 0 and "no changes" in same.stdout


def test_json_and_stream_of_one_prompt_replay_each_exactly(
    recorded: dict[str, Any], replay: Server
) -> None:
    c = sdk(replay)
    raw = c.responses.with_raw_response.create(model="gpt-4o", input=PROMPT)
    assert raw.headers["x-mock-replay"] == "hit"
    assert raw.headers["x-mock-replay-exchange"].isdigit()
    again = raw.parse()
    live = recorded["plain"]
    assert said(again) == said(live)  # the same text and item ids
    assert again.usage == live.usage
    assert again.id != live.id and again.id.startswith("resp_")
    validate("Response", orjson.loads(raw.content))
    with c.responses.stream(model="gpt-4o", input=PROMPT) as events:
        deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
        final = events.get_final_response()
    live_events = recorded["stream_events"]
    live_deltas = [e["delta"] for e in live_events if e["type"] == "response.output_text.delta"]
    assert deltas == live_deltas  # the recorded delta boundaries
    live_final = live_events[-1]["response"]
    assert final.output_text == live_final["output"][0]["content"][0]["text"]
    assert [i.id for i in final.output] == [i["id"] for i in live_final["output"]]
    assert final.output_text != live.output_text  # each kind got its own recording
    resp, body = streamed(replay, {"model": "gpt-4o", "input": PROMPT})
    assert resp.headers["x-mock-replay"] == "hit"
    events_ = sse_events(body)
    assert [e["type"] for e in events_] == [e["type"] for e in recorded["stream_events"]]
    validate("Response", events_[-1]["response"])


def test_replay_ids_recorded_gives_the_recorded_stream_bytes(
    upstream: Server, tmp_path: Path
) -> None:
    out = tmp_path / "exact.corpus"
    body = {"model": "gpt-4o", "input": "Exact bytes, please.", "stream": True}
    with recorder(upstream.base_url, out) as rec:
        _, live = streamed(rec, body)
    with running("--corpus", str(out), "--replay-ids", "recorded") as srv:
        _, again = streamed(srv, body)
        assert again == live
        sent = mock_openai("corpus", "show", str(out), "--exchange", "0", "--format", "sse")
        assert sent.stdout.encode() == live
        as_json = mock_openai("corpus", "show", str(out), "--exchange", "0", "--format", "json")
        assert orjson.loads(as_json.stdout) == sse_events(live)[-1]["response"]
        plain = post(srv, {**body, "stream": False})  # a stream asked for as JSON
        assert plain.headers["x-mock-replay"] == "hit"
        assert plain.json() == sse_events(live)[-1]["response"]


def test_a_recorded_json_answer_replays_as_a_stream_and_back(
    recorded: dict[str, Any], upstream: Server, tmp_path: Path
) -> None:
    out = tmp_path / "one.corpus"
    body = {"model": "gpt-4o", "input": "Only JSON was recorded."}
    with recorder(upstream.base_url, out) as rec:
        live = post(rec, body).json()
    with running("--corpus", str(out), "--on-miss", "error") as srv:
        resp, raw = streamed(srv, body)
        assert resp.headers["x-mock-replay"] == "hit"
        events = sse_events(raw)
        text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert text == live["output"][0]["content"][0]["text"]
        final = events[-1]["response"]
        assert final["output"] == live["output"] and final["usage"] == live["usage"]
        assert final["id"] != live["id"]
        assert events[0]["response"]["id"] == final["id"]


def test_a_tool_loop_chained_by_previous_response_id_replays_turn_by_turn(
    recorded: dict[str, Any], replay: Server
) -> None:
    c = sdk(replay)
    turns, replays = tool_loop(c)
    assert replays == ["hit", "hit"]
    live = recorded["loop"]
    assert said(turns[0]) == said(live[0])  # the same call_id and function_call item id
    assert turns[0].output[0].type == "function_call"
    assert said(turns[1]) == said(live[1]) and turns[1].output_text
    assert turns[1].previous_response_id == turns[0].id  # the fresh id the client sent
    assert turns[0].id != live[0].id
    got = c.responses.retrieve(turns[1].id)  # stored, offline
    assert said(got) == said(turns[1])
    validate("Response", httpx.get(f"{replay.base_url}/responses/{turns[1].id}").json())
    items = c.responses.input_items.list(turns[1].id)
    assert [i.type for i in items.data] == ["function_call_output"]
    c.responses.delete(turns[0].id)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(turns[0].id)


def test_input_tokens_replays_and_a_miss_is_visible(
    recorded: dict[str, Any], replay: Server
) -> None:
    c = sdk(replay)
    raw = c.responses.input_tokens.with_raw_response.count(model="gpt-4o", input=PROMPT)
    assert raw.parse().input_tokens == recorded["count"]
    assert raw.headers["x-mock-replay"] == "hit"
    missed = post(replay, {"model": "gpt-4o", "input": "Never recorded."})
    assert missed.status_code == 400 and missed.headers["x-mock-replay"] == "miss"
    error = missed.json()["error"]
    assert error["code"] == "no_recorded_match" and "input" in error["message"]
    validate("ErrorResponse", missed.json())


def test_on_miss_sample_honours_max_output_tokens_and_stream(
    recorded: dict[str, Any],
) -> None:
    with running("--corpus", str(recorded["out"]), "--on-miss", "sample") as srv:
        body = {"model": "gpt-4o-mini", "input": "Unrecorded.", "max_output_tokens": 16}
        resp = post(srv, body)
        assert resp.status_code == 200 and resp.headers["x-mock-replay"] == "miss"
        doc = resp.json()
        validate("Response", doc)
        assert doc["model"] == "gpt-4o-mini" and doc["max_output_tokens"] == 16
        assert doc["usage"]["output_tokens"] <= 16
        if doc["status"] == "incomplete":
            assert doc["incomplete_details"] == {"reason": "max_output_tokens"}
        head, raw = streamed(srv, body)
        assert head.headers["x-mock-replay"] == "miss"
        events = sse_events(raw)
        assert events[-1]["response"]["usage"]["output_tokens"] <= 16
        assert httpx.get(f"{srv.base_url}/responses/{doc['id']}").status_code == 200


def test_the_agents_sdk_loop_recorded_then_replayed(upstream: Server, tmp_path: Path) -> None:
    agents = pytest.importorskip("agents")
    agents.set_tracing_disabled(True)

    @agents.function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    def run(server: Server) -> tuple[str, list[Any]]:
        async def go() -> tuple[str, list[Any]]:
            client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk", max_retries=0)
            model = agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)
            agent = agents.Agent(
                name="forecaster", instructions="Use tools.", tools=[get_weather], model=model
            )
            result = await agents.Runner.run(agent, "Weather in Rome?")
            streamed_run = agents.Runner.run_streamed(agent, "Weather in Lima?")
            async for _ in streamed_run.stream_events():
                pass
            await client.close()
            items = [i.raw_item for i in result.new_items + streamed_run.new_items]
            return f"{result.final_output}|{streamed_run.final_output}", items

        return asyncio.run(go())

    out = tmp_path / "agents.corpus"
    with recorder(upstream.base_url, out) as rec:
        live = run(rec)
    with running("--corpus", str(out), "--on-miss", "error") as srv:
        again = run(srv)
    assert again[0] == live[0]
    kinds = [i["type"] if isinstance(i, dict) else i.type for i in live[1]]
    assert kinds.count("function_call") == 2 and kinds.count("function_call_output") == 2
    dump = [i if isinstance(i, dict) else i.model_dump() for i in again[1]]
    live_dump = [i if isinstance(i, dict) else i.model_dump() for i in live[1]]
    assert dump == live_dump  # the same calls, call ids, item ids and texts


def test_on_miss_proxy_records_the_next_turn_of_a_replayed_chain(
    upstream: Server, tmp_path: Path
) -> None:
    out = tmp_path / "grow.corpus"
    ask = {"model": "gpt-4o", "input": "Weather in Bergen?", "tools": [WEATHER]}
    with recorder(upstream.base_url, out) as rec:
        recorded_first = post(rec, ask).json()
    args = ("--corpus", str(out), "--on-miss", "proxy", "--upstream", upstream.base_url)
    with running(*args) as srv:
        first = post(srv, ask)
        assert first.headers["x-mock-replay"] == "hit"
        fresh = first.json()["id"]
        assert fresh != recorded_first["id"]
        call = first.json()["output"][0]
        turn = {
            **ask,
            "previous_response_id": fresh,
            "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "7C"}],
        }
        second = post(srv, turn)  # forwarded, naming the recorded turn the upstream knows
        assert second.status_code == 200, second.text
        assert "x-mock-replay" not in second.headers
        assert httpx.get(f"{srv.base_url}/responses/{fresh}").json()["id"] == fresh
    with running("--corpus", str(out), "--on-miss", "error") as srv:
        first = post(srv, ask)
        again = post(srv, {**turn, "previous_response_id": first.json()["id"]})
        assert again.headers["x-mock-replay"] == "hit"
        assert again.json()["output"] == second.json()["output"]
