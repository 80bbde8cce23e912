"""Tools, structured outputs and reasoning models on chat completions, against the real server in
a subprocess with real clients: the official `openai` SDK (`.parse()` with pydantic models) and
LangChain (`bind_tools`, `with_structured_output`). Every body and chunk is validated against
the official spec's schemas, and every argument and JSON answer against its JSON Schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import jsonschema
import openai
import orjson
import pytest
from pydantic import BaseModel

from tests.servers import Server, running
from tests.spec import validate

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather forecast for a city",
        "parameters": WEATHER_SCHEMA,
        "strict": True,
    },
}
# Nested objects, arrays, $defs/$ref, anyOf with null, formats: what pydantic models send.
TRIP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "$defs": {
        "Stop": {
            "type": "object",
            "properties": {
                "place": {"type": "string"},
                "arrive": {"type": "string", "format": "date-time"},
                "nights": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
            },
            "required": ["place", "arrive", "nights"],
            "additionalProperties": False,
        }
    },
    "properties": {
        "traveller": {"type": "string", "format": "email"},
        "stops": {"type": "array", "items": {"$ref": "#/$defs/Stop"}},
        "budget": {"type": "number"},
        "booked": {"type": "boolean"},
    },
    "required": ["traveller", "stops", "budget", "booked"],
    "additionalProperties": False,
}
TRIP = {"type": "function", "function": {"name": "plan_trip", "parameters": TRIP_SCHEMA}}
USER: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
CALL_ID = re.compile(r"call_[A-Za-z0-9]{24}")
SCHEMAS = {"get_weather": WEATHER_SCHEMA, "plan_trip": TRIP_SCHEMA}


@pytest.fixture(scope="module")
def agentic() -> Iterator[Server]:
    """A server that may make up to 3 parallel calls, reasoning shown as reasoning_content."""
    with running("--pregen-count", "64", "--max-parallel-tool-calls", "3") as server:
        yield server


@pytest.fixture(scope="module")
def client(agentic: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=agentic.base_url, api_key="sk-test", max_retries=0)


def post(server: Server, body: dict[str, Any]) -> dict[str, Any]:
    resp = httpx.post(server.base_url + "/chat/completions", json=body, timeout=30)
    assert resp.status_code == 200, resp.text
    doc: dict[str, Any] = resp.json()
    validate("CreateChatCompletionResponse", doc)
    return doc


def chunks(server: Server, body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    with httpx.stream("POST", server.base_url + "/chat/completions", json=body, timeout=30) as resp:
        raw = resp.read()
    blocks = raw.split(b"\n\n")[:-1]
    assert blocks[-1] == b"data: [DONE]"
    for block in blocks[:-1]:
        chunk = orjson.loads(block.removeprefix(b"data: "))
        validate("CreateChatCompletionStreamResponse", chunk)
        out.append(chunk)
    return out


def check_calls(calls: list[dict[str, Any]]) -> None:
    for call in calls:
        assert CALL_ID.fullmatch(call["id"]), call["id"]
        assert call["type"] == "function"
        jsonschema.validate(
            orjson.loads(call["function"]["arguments"]), SCHEMAS[call["function"]["name"]]
        )


# --- tool calls ---------------------------------------------------------------------------------


def test_required_calls_a_tool_with_valid_arguments(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(
        model="gpt-4o", messages=USER, tools=[WEATHER, TRIP], tool_choice="required", n=4
    )
    for choice in out.choices:
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content is None
        assert choice.message.tool_calls and 1 <= len(choice.message.tool_calls) <= 3
        check_calls([c.model_dump() for c in choice.message.tool_calls])
    assert out.usage is not None and out.usage.completion_tokens > 0


def test_strings_in_arguments_are_corpus_text_not_placeholders(agentic: Server) -> None:
    doc = post(agentic, {"model": "gpt-4o", "messages": USER, "tools": [WEATHER]})
    arguments = orjson.loads(doc["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert arguments["city"] and arguments["city"] != "string"
    assert re.fullmatch(r"[\w\s.,;:!?'()-]+", arguments["city"]), arguments["city"]


def test_named_function_is_called_once_and_finishes_with_stop(agentic: Server) -> None:
    body = {
        "model": "gpt-4o",
        "messages": USER,
        "tools": [WEATHER, TRIP],
        "tool_choice": {"type": "function", "function": {"name": "plan_trip"}},
    }
    for _ in range(5):
        choice = post(agentic, body)["choices"][0]
        assert [c["function"]["name"] for c in choice["message"]["tool_calls"]] == ["plan_trip"]
        assert choice["finish_reason"] == "stop"  # as the real API, for a forced function
        check_calls(choice["message"]["tool_calls"])


def test_none_answers_in_text(agentic: Server) -> None:
    body = {"model": "gpt-4o", "messages": USER, "tools": [WEATHER], "tool_choice": "none"}
    message = post(agentic, body)["choices"][0]["message"]
    assert isinstance(message["content"], str) and "tool_calls" not in message


def test_parallel_false_gives_exactly_one_call(agentic: Server) -> None:
    body = {"model": "gpt-4o", "messages": USER, "tools": [WEATHER], "parallel_tool_calls": False}
    counts = {len(post(agentic, body)["choices"][0]["message"]["tool_calls"]) for _ in range(12)}
    assert counts == {1}
    body["parallel_tool_calls"] = True
    counts = {len(post(agentic, body)["choices"][0]["message"]["tool_calls"]) for _ in range(40)}
    assert counts == {1, 2, 3}


def test_streamed_tool_calls_join_to_the_arguments(agentic: Server) -> None:
    body = {
        "model": "gpt-4o",
        "messages": USER,
        "tools": [WEATHER, TRIP],
        "tool_choice": "required",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    events = chunks(agentic, body)
    first = events[0]["choices"][0]["delta"]
    assert first["role"] == "assistant" and first["content"] is None
    calls: dict[int, dict[str, Any]] = {}
    fragments = 0
    for event in events:
        if not event["choices"]:
            continue
        for delta in event["choices"][0]["delta"].get("tool_calls", []):
            if "id" in delta:  # a call's first delta: index, id, type, name, empty arguments
                assert delta["function"]["arguments"] == ""
                calls[delta["index"]] = {
                    "id": delta["id"],
                    "type": delta["type"],
                    "function": {"name": delta["function"]["name"], "arguments": ""},
                }
            else:
                assert set(delta) == {"index", "function"} and set(delta["function"]) == {
                    "arguments"
                }
                calls[delta["index"]]["function"]["arguments"] += delta["function"]["arguments"]
                fragments += 1
    check_calls(list(calls.values()))
    finish = [e for e in events if e["choices"] and e["choices"][0]["finish_reason"]]
    assert len(finish) == 1 and finish[0]["choices"][0]["finish_reason"] == "tool_calls"
    assert finish[0]["choices"][0]["delta"] == {}
    assert events[-1]["usage"]["completion_tokens"] == fragments


def test_sdk_stream_accumulates_tool_calls(client: openai.OpenAI) -> None:
    with client.beta.chat.completions.stream(
        model="gpt-4o", messages=USER, tools=[WEATHER], tool_choice="required"
    ) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert calls
    check_calls([c.model_dump() for c in calls])


def test_two_turn_agent_loop_ends_in_text(client: openai.OpenAI) -> None:
    messages: list[Any] = list(USER)
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])
    call = first.choices[0].message.tool_calls
    assert call and first.choices[0].finish_reason == "tool_calls"
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    for c in call:
        messages.append({"role": "tool", "tool_call_id": c.id, "content": '{"temp": 21}'})
    second = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])
    assert second.choices[0].finish_reason in ("stop", "length")
    assert second.choices[0].message.tool_calls is None
    assert second.choices[0].message.content


def test_tool_call_rate_is_reproducible_for_a_seed() -> None:
    def calls(server: Server) -> list[bool]:
        body = {"model": "gpt-4o", "messages": USER, "tools": [WEATHER]}
        return ["tool_calls" in post(server, body)["choices"][0]["message"] for _ in range(30)]

    args = ("--pregen-count", "16", "--tool-call-rate", "0.5", "--seed", "7")
    with running(*args) as a:
        first = calls(a)
    with running(*args) as b:
        second = calls(b)
    assert first == second
    assert 5 < sum(first) < 25  # about half, and both kinds happen


def test_legacy_functions_answer_in_the_legacy_shape(agentic: Server) -> None:
    body = {"model": "gpt-4o", "messages": USER, "functions": [WEATHER["function"]]}
    choice = post(agentic, body)["choices"][0]
    assert choice["finish_reason"] == "function_call"
    call = choice["message"]["function_call"]
    assert call["name"] == "get_weather" and "tool_calls" not in choice["message"]
    jsonschema.validate(orjson.loads(call["arguments"]), WEATHER_SCHEMA)
    events = chunks(agentic, {**body, "stream": True})
    joined = "".join(
        e["choices"][0]["delta"].get("function_call", {}).get("arguments", "") for e in events
    )
    jsonschema.validate(orjson.loads(joined), WEATHER_SCHEMA)


def test_max_tokens_cuts_the_arguments(agentic: Server) -> None:
    body = {"model": "gpt-4o", "messages": USER, "tools": [TRIP], "max_tokens": 5}
    doc = post(agentic, body)
    assert doc["choices"][0]["finish_reason"] == "length"
    assert doc["usage"]["completion_tokens"] == 5


# --- structured outputs ---------------------------------------------------------------------------


class Step(BaseModel):
    explanation: str
    output: str


class MathReasoning(BaseModel):
    steps: list[Step]
    final_answer: str
    confidence: Literal["low", "medium", "high"]
    checked: bool | None


def test_sdk_parse_returns_the_pydantic_model(client: openai.OpenAI) -> None:
    out = client.chat.completions.parse(
        model="gpt-4o", messages=USER, response_format=MathReasoning
    )
    parsed = out.choices[0].message.parsed
    assert isinstance(parsed, MathReasoning) and parsed.steps
    assert parsed.final_answer and parsed.final_answer != "string"


def test_json_object_and_schema_stream_join_to_valid_json(agentic: Server) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "trip", "schema": TRIP_SCHEMA}}
    for response_format, schema in (
        ({"type": "json_object"}, {"type": "object"}),
        (fmt, TRIP_SCHEMA),
    ):
        body = {"model": "gpt-4o", "messages": USER, "response_format": response_format}
        content = post(agentic, body)["choices"][0]["message"]["content"]
        jsonschema.validate(orjson.loads(content), schema)
        events = chunks(agentic, {**body, "stream": True})
        pieces = [e["choices"][0]["delta"].get("content") or "" for e in events]
        assert len([p for p in pieces if p]) > 3  # token-sized pieces
        jsonschema.validate(orjson.loads("".join(pieces)), schema)


def test_structured_output_cut_by_max_tokens_is_length(client: openai.OpenAI) -> None:
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(
            model="gpt-4o", messages=USER, response_format=MathReasoning, max_tokens=4
        )


# --- reasoning models ---------------------------------------------------------------------


def test_reasoning_tokens_are_in_usage(client: openai.OpenAI) -> None:
    spent = {}
    for effort in ("minimal", "low", "high"):
        out = client.chat.completions.create(
            model="o4-mini",
            messages=USER,
            reasoning_effort=effort,  # type: ignore[arg-type]
        )
        assert out.usage is not None and out.usage.completion_tokens_details is not None
        reasoning = out.usage.completion_tokens_details.reasoning_tokens
        assert reasoning is not None
        assert out.usage.completion_tokens > reasoning  # visible tokens on top
        spent[effort] = reasoning
    assert spent == {"minimal": 16, "low": 128, "high": 1024}
    default = client.chat.completions.create(model="gpt-5-mini", messages=USER)
    assert default.usage and default.usage.completion_tokens_details
    assert default.usage.completion_tokens_details.reasoning_tokens == 384  # medium


def test_max_completion_tokens_caps_reasoning_and_text(agentic: Server) -> None:
    body = {
        "model": "o3",
        "messages": USER,
        "reasoning_effort": "low",
        "max_completion_tokens": 100,
    }
    doc = post(agentic, body)
    assert doc["usage"]["completion_tokens"] == 100
    assert doc["usage"]["completion_tokens_details"]["reasoning_tokens"] == 100
    assert doc["choices"][0]["message"]["content"] == ""
    assert doc["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize(
    ("extra", "param", "code", "message"),
    [
        ({"max_tokens": 50}, "max_tokens", "unsupported_parameter", "Use 'max_completion_tokens'"),
        ({"temperature": 0.2}, "temperature", "unsupported_value", "does not support 0.2"),
        ({"temperature": 0}, "temperature", "unsupported_value", "does not support 0 with"),
    ],
)
def test_reasoning_models_refuse_what_the_real_api_refuses(
    client: openai.OpenAI, extra: dict[str, Any], param: str, code: str, message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="o4-mini", messages=USER, **extra)
    error = caught.value.body
    assert isinstance(error, dict)
    assert (error["param"], error["code"]) == (param, code)
    assert message in error["message"]
    # the same fields are fine for a model that does not reason, and temperature 1 for one that does
    assert client.chat.completions.create(model="gpt-4o-mini", messages=USER, **extra).choices
    ok = client.chat.completions.create(model="o4-mini", messages=USER, temperature=1)
    assert ok.choices[0].message.content


def test_reasoning_delays_the_first_token_and_can_be_shown() -> None:
    args = ("--pregen-count", "16", "--reasoning-tokens", "low=20", "--reasoning-content")
    with running(*args, "--reasoning-delay-ms-per-token", "10") as server:
        body = {
            "model": "o3-mini",
            "messages": USER,
            "reasoning_effort": "low",
            "stream": True,
            "max_completion_tokens": 30,
            "stream_options": {"include_usage": True},
        }
        events = chunks(server, body)
        thoughts = [
            e["choices"][0]["delta"]["reasoning_content"]
            for e in events
            if e["choices"] and "reasoning_content" in e["choices"][0]["delta"]
        ]
        assert len(thoughts) == 20
        assert events[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 20
        assert events[-1]["usage"]["completion_tokens"] == 30
    with running("--pregen-count", "16", "--reasoning-delay-ms-per-token", "2") as server:
        body = {"model": "o3-mini", "messages": USER, "reasoning_effort": "high"}
        resp = httpx.post(server.base_url + "/chat/completions", json=body, timeout=30)
        assert resp.elapsed.total_seconds() >= 1024 * 0.002 * 0.9  # 1024 tokens x 2 ms


# --- LangChain ------------------------------------------------------------------------------


def test_langchain_bind_tools_and_structured_output(agentic: Server) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    llm = langchain_openai.ChatOpenAI(
        model="gpt-4o", base_url=agentic.base_url, api_key="sk-test", max_retries=0
    )
    message = llm.bind_tools([WEATHER], tool_choice="required").invoke("Weather in Rome?")
    assert message.tool_calls and message.tool_calls[0]["name"] == "get_weather"
    jsonschema.validate(message.tool_calls[0]["args"], WEATHER_SCHEMA)
    assert CALL_ID.fullmatch(message.tool_calls[0]["id"])
    structured = llm.with_structured_output(MathReasoning).invoke("Solve 8x + 7 = -23")
    assert isinstance(structured, MathReasoning)
    streamed = list(llm.bind_tools([WEATHER], tool_choice="required").stream("Weather?"))
    assert sum(streamed[1:], streamed[0]).tool_calls  # type: ignore[attr-defined]
