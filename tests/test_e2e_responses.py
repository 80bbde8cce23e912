"""The Responses API against the real server in a subprocess, with the official `openai` SDK and
the OpenAI Agents SDK; every body and every stream event validated against the official spec."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import orjson
import pytest
from pydantic import BaseModel

from tests.servers import Server, running
from tests.spec import response_events, validate

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
    "required": ["city", "unit"],
    "additionalProperties": False,
}
WEATHER = {"type": "function", "name": "get_weather", "parameters": WEATHER_SCHEMA}
RESP_ID = re.compile(r"resp_[0-9a-f]{48}")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running("--pregen-count", "64") as server:
        yield server


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def create(server: Server, body: dict[str, Any]) -> dict[str, Any]:
    resp = httpx.post(server.base_url + "/responses", json=body, timeout=30)
    assert resp.status_code == 200, resp.text
    doc: dict[str, Any] = resp.json()
    validate("Response", doc)
    return doc


def stream(server: Server, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream(
        "POST", server.base_url + "/responses", json={**body, "stream": True}, timeout=30
    ) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = resp.read()
    return response_events(raw)


def test_create_text(client: openai.OpenAI, server: Server) -> None:
    out = client.responses.create(model="gpt-4o", input="Hello", instructions="Be brief.")
    assert RESP_ID.fullmatch(out.id) and out.status == "completed"
    assert out.output_text and out.output[0].type == "message"
    assert out.usage and out.usage.output_tokens > 0 and out.usage.input_tokens > 0
    doc = create(server, {"model": "gpt-4o", "input": [{"role": "user", "content": "Hi"}]})
    assert doc["output"][0]["content"][0]["annotations"] == []
    assert doc["usage"]["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}


def test_max_output_tokens_makes_it_incomplete(server: Server) -> None:
    doc = create(server, {"model": "gpt-4o", "input": "Hello", "max_output_tokens": 16})
    assert doc["status"] == "incomplete"
    assert doc["incomplete_details"] == {"reason": "max_output_tokens"}
    assert doc["usage"]["output_tokens"] == 16
    events = stream(server, {"model": "gpt-4o", "input": "Hello", "max_output_tokens": 16})
    assert events[-1]["type"] == "response.incomplete"


def test_stream_events_in_the_spec_order(client: openai.OpenAI, server: Server) -> None:
    events = stream(server, {"model": "gpt-4o", "input": "Hello", "max_output_tokens": 40})
    kinds = [e["type"] for e in events]
    deltas = kinds.count("response.output_text.delta")
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.incomplete",
    ]
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == events[-1]["response"]["output"][0]["content"][0]["text"]
    assert deltas == events[-1]["response"]["usage"]["output_tokens"]
    with client.responses.stream(model="gpt-4o", input="Hello") as sdk_stream:
        final = sdk_stream.get_final_response()
    assert final.status == "completed" and final.output_text


def test_tool_call_then_text_ends_the_loop(client: openai.OpenAI) -> None:
    first = client.responses.create(model="gpt-4o", input="Weather in Oslo?", tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert calls and calls[0].name == "get_weather" and calls[0].call_id.startswith("call_")
    jsonschema.validate(orjson.loads(calls[0].arguments), WEATHER_SCHEMA)
    second = client.responses.create(
        model="gpt-4o",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "9C"}],
        tools=[WEATHER],
    )
    assert second.output[0].type == "message" and second.output_text
    assert second.previous_response_id == first.id
    assert second.usage and first.usage and second.usage.input_tokens > first.usage.input_tokens


def test_streamed_function_call(server: Server) -> None:
    body = {"model": "gpt-4o", "input": "Weather?", "tools": [WEATHER], "tool_choice": "required"}
    events = stream(server, body)
    joined = "".join(
        e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"
    )
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done["arguments"] == joined and done["name"] == "get_weather"
    jsonschema.validate(orjson.loads(joined), WEATHER_SCHEMA)
    named = {**body, "tool_choice": {"type": "function", "name": "get_weather"}}
    assert create(server, named)["output"][0]["type"] == "function_call"


class Forecast(BaseModel):
    city: str
    celsius: float
    rain: bool


def test_parse_structured_output(client: openai.OpenAI) -> None:
    out = client.responses.parse(model="gpt-4o", input="Forecast?", text_format=Forecast)
    assert isinstance(out.output_parsed, Forecast) and out.output_parsed.city


def test_reasoning_item_and_summary(server: Server) -> None:
    body = {"model": "o4-mini", "input": "Think.", "reasoning": {"effort": "low"}}
    doc = create(server, body)
    assert doc["output"][0]["type"] == "reasoning" and doc["output"][0]["summary"] == []
    assert doc["usage"]["output_tokens_details"]["reasoning_tokens"] == 128
    summarized = {**body, "reasoning": {"effort": "low", "summary": "auto"}}
    assert create(server, summarized)["output"][0]["summary"][0]["text"]
    kinds = [e["type"] for e in stream(server, summarized)]
    assert kinds.index("response.reasoning_summary_part.added") < kinds.index(
        "response.reasoning_summary_text.done"
    )
    resp = httpx.post(
        server.base_url + "/responses",
        json={"model": "gpt-4o", "input": "x", "reasoning": {"effort": "low"}},
    )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "reasoning.effort"


def test_retrieve_delete_and_input_items(client: openai.OpenAI, server: Server) -> None:
    made = client.responses.create(
        model="gpt-4o",
        input=[
            {"role": "user", "content": "one"},
            {"role": "user", "content": [{"type": "input_text", "text": "two"}]},
            {"role": "user", "content": "three"},
        ],
    )
    got = client.responses.retrieve(made.id)
    assert got.id == made.id and got.output_text == made.output_text
    validate("Response", httpx.get(f"{server.base_url}/responses/{made.id}").json())
    items = client.responses.input_items.list(made.id, order="asc", limit=2)
    assert [i.content[0].text for i in items.data] == ["one", "two"]  # type: ignore[union-attr]
    assert items.has_more
    page = httpx.get(f"{server.base_url}/responses/{made.id}/input_items").json()
    validate("ResponseItemList", page)
    assert [i["content"][0]["text"] for i in page["data"]] == ["three", "two", "one"]  # desc
    deleted = httpx.delete(f"{server.base_url}/responses/{made.id}").json()
    assert deleted == {"id": made.id, "object": "response", "deleted": True}
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list(made.id)
    unstored = client.responses.create(model="gpt-4o", input="x", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)


def test_unknown_previous_response_is_the_real_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-4o", input="x", previous_response_id="resp_nope")
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "previous_response_not_found"
    assert error["param"] == "previous_response_id"


def test_background_then_cancel(client: openai.OpenAI) -> None:
    with running("--pregen-count", "16", "--response-delay-ms", "50") as slow:
        c = openai.OpenAI(base_url=slow.base_url, api_key="sk", max_retries=0)
        started = c.responses.create(model="gpt-4o", input="x", background=True)
        assert started.status == "queued" and not started.output
        assert c.responses.retrieve(started.id).status == "in_progress"
        assert c.responses.cancel(started.id).status == "cancelled"
        assert c.responses.retrieve(started.id).status == "cancelled"
        quick = c.responses.create(model="gpt-4o", input="x", background=True, max_output_tokens=16)
        time.sleep(16 * 0.05 + 0.5)
        assert c.responses.retrieve(quick.id).status == "incomplete"
        with pytest.raises(openai.BadRequestError):
            c.responses.cancel(c.responses.create(model="gpt-4o", input="x").id)


def test_input_tokens(server: Server) -> None:
    body = {"model": "gpt-4o", "input": "A fairly short sentence to count."}
    resp = httpx.post(server.base_url + "/responses/input_tokens", json=body).json()
    validate("TokenCountsResource", resp)
    assert resp["input_tokens"] == create(server, body)["usage"]["input_tokens"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": 5}, "input"),
        ({"model": "m", "input": [{"type": "audio"}]}, "input[0].type"),
        ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"model": "m", "input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
        ({"model": "m", "input": "x", "max_output_tokens": 5}, "max_output_tokens"),
        ({"model": "m", "input": "x", "text": {"format": {"type": "xml"}}}, "text.format.type"),
    ],
)
def test_bad_requests_are_400_with_param(server: Server, body: dict[str, Any], param: str) -> None:
    resp = httpx.post(server.base_url + "/responses", json=body)
    assert resp.status_code == 400
    validate("ErrorResponse", resp.json())
    assert resp.json()["error"]["param"] == param


def test_hosted_tools_are_accepted_and_never_called(server: Server) -> None:
    doc = create(server, {"model": "gpt-4o", "input": "x", "tools": [{"type": "web_search"}]})
    assert doc["output"][0]["type"] == "message"
    assert doc["tools"] == [{"type": "web_search"}]


def test_agents_sdk_runs_a_tool_loop_to_a_final_answer(server: Server) -> None:
    agents = pytest.importorskip("agents")
    calls: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return f"Sunny in {city}"

    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk", max_retries=0)
    model = agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)
    agent = agents.Agent(
        name="forecaster", instructions="Use tools.", tools=[get_weather], model=model
    )
    agents.set_tracing_disabled(True)

    async def both() -> tuple[Any, Any]:
        result = await agents.Runner.run(agent, "Weather in Rome?")
        run = agents.Runner.run_streamed(agent, "Weather in Lima?")
        async for _ in run.stream_events():
            pass
        await client.close()
        return result, run

    result, run = asyncio.run(both())
    assert calls == ["Rome", "Lima"] or len(calls) == 2  # one call per run, then text
    assert isinstance(result.final_output, str) and result.final_output
    assert isinstance(run.final_output, str) and run.final_output
