"""The golden cases: one request of every response kind, with the settings it is served under.

`tests/golden/data/NAME.json` holds each case's exact answer (status, headers, body or frames,
due times) made with a pinned clock, fixed ids and a fixed obfuscation table; the files were
written against the code before the one-answer-path refactor and must not change with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import orjson

from sanic_mock.corpus import io
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus
from sanic_mock.wire import responses
from sanic_mock.wire.responses_in import parse_response

DATA = Path(__file__).resolve().parent / "data"
CHAT, COMPLETIONS, EMBEDDINGS = "/v1/chat/completions", "/v1/completions", "/v1/embeddings"
RESPONSES = "/v1/responses"
WALL = 1_700_000_000.25  # the pinned wall clock (`created`)
KEY = "sk-golden"


class Case(NamedTuple):
    name: str
    mode: str  # generated | paced | grouped | keyed | replay | replay-timed
    method: str
    path: str
    body: Any = None  # a JSON document, or bytes sent as they are
    authorization: str | None = None

    def raw(self) -> bytes:
        if self.body is None:
            return b""
        return self.body if isinstance(self.body, bytes) else orjson.dumps(self.body)


def _chat(content: str = "Tell me a story.", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def _completion(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi", **extra}


def _response(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "input": "Tell me a story.", **extra}


USAGE = {"include_usage": True}
_CITY = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
    "required": ["city", "unit"],
    "additionalProperties": False,
}
_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": _CITY}}
_FLAT_TOOL = {"type": "function", "name": "get_weather", "parameters": _CITY}
_SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "schema": _CITY}}
CASES = [
    # generated text
    Case("health", "generated", "GET", "/health"),
    Case("models", "generated", "GET", "/v1/models"),
    Case("model", "generated", "GET", "/v1/models/gpt-4o"),
    Case("model-missing", "generated", "GET", "/v1/models/nope"),
    Case("chat-json", "generated", "POST", CHAT, _chat()),
    Case("chat-json-n2-limit", "generated", "POST", CHAT, _chat(n=2, max_tokens=5)),
    Case("chat-json-logprobs", "generated", "POST", CHAT, _chat(logprobs=True, top_logprobs=2)),
    Case("chat-json-stop", "generated", "POST", CHAT, _chat(stop=[" the", "."], seed=11)),
    Case("chat-json-seed", "generated", "POST", CHAT, _chat(seed=42, max_completion_tokens=20)),
    Case("chat-json-ignore-eos", "generated", "POST", CHAT, _chat(ignore_eos=True, max_tokens=7)),
    Case("chat-stream", "generated", "POST", CHAT, _chat(stream=True, max_tokens=12)),
    Case(
        "chat-stream-usage",
        "generated",
        "POST",
        CHAT,
        _chat(stream=True, max_tokens=9, stream_options=USAGE),
    ),
    Case(
        "chat-stream-no-obfuscation",
        "generated",
        "POST",
        CHAT,
        _chat(stream=True, max_tokens=6, stream_options={"include_obfuscation": False}),
    ),
    Case("chat-stream-n2", "generated", "POST", CHAT, _chat(stream=True, n=2, max_tokens=4)),
    Case(
        "chat-stream-logprobs",
        "generated",
        "POST",
        CHAT,
        _chat(stream=True, max_tokens=4, logprobs=True, top_logprobs=1),
    ),
    # tools, structured outputs, reasoning (issue 12)
    Case(
        "chat-json-tools", "generated", "POST", CHAT, _chat(tools=[_TOOL], tool_choice="required")
    ),
    Case(
        "chat-stream-tools",
        "generated",
        "POST",
        CHAT,
        _chat(tools=[_TOOL], stream=True, stream_options=USAGE),
    ),
    Case(
        "chat-json-tool-result",
        "generated",
        "POST",
        CHAT,
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "user", "content": "Weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
            "tools": [_TOOL],
            "max_tokens": 6,
        },
    ),
    Case(
        "chat-json-function-call",
        "generated",
        "POST",
        CHAT,
        _chat(functions=[_TOOL["function"]], function_call={"name": "get_weather"}),
    ),
    Case(
        "chat-stream-function-call",
        "generated",
        "POST",
        CHAT,
        _chat(functions=[_TOOL["function"]], stream=True),
    ),
    Case("chat-json-schema", "generated", "POST", CHAT, _chat(response_format=_SCHEMA_FORMAT)),
    Case(
        "chat-stream-json-object",
        "generated",
        "POST",
        CHAT,
        _chat(response_format={"type": "json_object"}, stream=True, max_tokens=8),
    ),
    Case(
        "chat-json-reasoning",
        "generated",
        "POST",
        CHAT,
        _chat(model="o3-mini", reasoning_effort="low", max_completion_tokens=133),
    ),
    Case(
        "paced-chat-stream-reasoning",
        "paced",
        "POST",
        CHAT,
        _chat(
            model="gpt-5-mini", reasoning_effort="minimal", stream=True, max_completion_tokens=20
        ),
    ),
    Case(
        "error-reasoning-effort",
        "generated",
        "POST",
        CHAT,
        _chat(reasoning_effort="high"),
    ),
    Case(
        "error-reasoning-max-tokens",
        "generated",
        "POST",
        CHAT,
        _chat(model="o3-mini", max_tokens=20),
    ),
    Case(
        "error-reasoning-temperature",
        "generated",
        "POST",
        CHAT,
        _chat(model="gpt-5-mini", temperature=0.2),
    ),
    # the Responses API (issue 13)
    Case("responses-json", "generated", "POST", RESPONSES, _response(max_output_tokens=24)),
    Case(
        "responses-stream",
        "generated",
        "POST",
        RESPONSES,
        _response(stream=True, max_output_tokens=16, instructions="Be brief."),
    ),
    Case(
        "responses-tool-call",
        "generated",
        "POST",
        RESPONSES,
        _response(tools=[_FLAT_TOOL], tool_choice="required", stream=True),
    ),
    Case(
        "responses-reasoning-summary",
        "generated",
        "POST",
        RESPONSES,
        _response(model="o4-mini", reasoning={"effort": "minimal", "summary": "auto"}),
    ),
    Case(
        "responses-json-schema",
        "generated",
        "POST",
        RESPONSES,
        _response(text={"format": {"type": "json_schema", "name": "city", "schema": _CITY}}),
    ),
    Case(
        "paced-responses-stream",
        "paced",
        "POST",
        RESPONSES,
        _response(stream=True, max_output_tokens=16),
    ),
    Case("error-responses-no-input", "generated", "POST", RESPONSES, {"model": "gpt-4o"}),
    Case(
        "responses-input-tokens",
        "generated",
        "POST",
        "/v1/responses/input_tokens",
        _response(instructions="Count me."),
    ),
    Case("completion-json", "generated", "POST", COMPLETIONS, _completion(max_tokens=10)),
    Case(
        "completion-json-echo-n2",
        "generated",
        "POST",
        COMPLETIONS,
        _completion(prompt=["A", [1, 2]], echo=True, n=2, max_tokens=3),
    ),
    Case("completion-json-logprobs", "generated", "POST", COMPLETIONS, _completion(logprobs=2)),
    Case(
        "completion-stream",
        "generated",
        "POST",
        COMPLETIONS,
        _completion(stream=True, max_tokens=5, stream_options=USAGE),
    ),
    Case(
        "completion-stream-echo-logprobs",
        "generated",
        "POST",
        COMPLETIONS,
        _completion(stream=True, max_tokens=3, echo=True, logprobs=1),
    ),
    Case(
        "embeddings-float",
        "generated",
        "POST",
        EMBEDDINGS,
        {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 4},
    ),
    Case(
        "embeddings-base64",
        "generated",
        "POST",
        EMBEDDINGS,
        {"model": "text-embedding-3-small", "input": "hi", "encoding_format": "base64"},
    ),
    # errors
    Case("error-not-json", "generated", "POST", CHAT, b"{nope"),
    Case("error-missing-messages", "generated", "POST", CHAT, {"model": "m"}),
    Case("error-bad-n", "generated", "POST", CHAT, _chat(n=0)),
    Case("error-bad-type", "generated", "POST", COMPLETIONS, {"model": "m", "prompt": 3}),
    Case("error-embedding-empty", "generated", "POST", EMBEDDINGS, {"model": "m", "input": []}),
    Case("keyed-no-key", "keyed", "POST", CHAT, _chat()),
    Case("keyed-wrong-key", "keyed", "POST", CHAT, _chat(), "Bearer sk-wrong-key-1234"),
    Case("keyed-models-no-key", "keyed", "GET", "/v1/models"),
    Case("keyed-right-key", "keyed", "POST", CHAT, _chat(max_tokens=3), f"Bearer {KEY}"),
    # paced: a first-token delay, then a gap per event
    Case("paced-chat-json", "paced", "POST", CHAT, _chat(max_tokens=5)),
    Case("paced-chat-stream", "paced", "POST", CHAT, _chat(stream=True, max_tokens=5)),
    Case(
        "paced-completion-stream",
        "paced",
        "POST",
        COMPLETIONS,
        _completion(stream=True, max_tokens=4, stream_options=USAGE),
    ),
    Case("paced-embeddings", "paced", "POST", EMBEDDINGS, {"model": "m", "input": "x"}),
    Case(
        "grouped-chat-stream",
        "grouped",
        "POST",
        CHAT,
        _chat(stream=True, max_tokens=11, stream_options=USAGE),
    ),
    Case("grouped-chat-json", "grouped", "POST", CHAT, _chat(max_tokens=11)),
    # a recorded corpus
    Case("replay-json-json", "replay", "POST", CHAT, _chat("json")),
    Case("replay-json-stream", "replay", "POST", CHAT, _chat("json", stream=True)),
    Case(
        "replay-json-stream-usage",
        "replay",
        "POST",
        CHAT,
        _chat("json", stream=True, stream_options=USAGE),
    ),
    Case("replay-stream-stream", "replay", "POST", CHAT, _chat("stream", stream=True)),
    Case(
        "replay-stream-stream-usage",
        "replay",
        "POST",
        CHAT,
        _chat("stream", stream=True, stream_options=USAGE),
    ),
    Case("replay-stream-json", "replay", "POST", CHAT, _chat("stream")),
    Case("replay-miss-sampled", "replay", "POST", CHAT, _chat("never recorded", max_tokens=3)),
    Case("replay-recorded-error", "replay", "POST", CHAT, _chat("fails")),
    Case("replay-completion", "replay", "POST", COMPLETIONS, _completion(prompt="recorded")),
    Case(
        "replay-completion-stream",
        "replay",
        "POST",
        COMPLETIONS,
        _completion(prompt="recorded", stream=True),
    ),
    Case("replay-embeddings", "replay", "POST", EMBEDDINGS, {"model": "e", "input": "recorded"}),
    Case("replay-models", "replay", "GET", "/v1/models"),
    Case("replay-bad-request", "replay", "POST", CHAT, {"model": "gpt-4o-mini"}),
    Case("replay-timed-json", "replay-timed", "POST", CHAT, _chat("json")),
    Case("replay-timed-stream", "replay-timed", "POST", CHAT, _chat("stream", stream=True)),
    Case("replay-timed-split", "replay-timed", "POST", CHAT, _chat("json", stream=True)),
    Case("replay-error-mode-miss", "replay-strict", "POST", CHAT, _chat("never recorded")),
    # the Responses API replayed: each kind as recorded, converted, sampled, timed
    Case("replay-responses-json-json", "replay", "POST", RESPONSES, _response(input="json")),
    Case(
        "replay-responses-json-stream",
        "replay",
        "POST",
        RESPONSES,
        _response(input="json", stream=True),
    ),
    Case(
        "replay-responses-stream-stream",
        "replay",
        "POST",
        RESPONSES,
        _response(input="stream", stream=True),
    ),
    Case("replay-responses-stream-json", "replay", "POST", RESPONSES, _response(input="stream")),
    Case(
        "replay-responses-miss-sampled",
        "replay",
        "POST",
        RESPONSES,
        _response(input="never recorded", max_output_tokens=16, stream=True),
    ),
    Case(
        "replay-timed-responses-stream",
        "replay-timed",
        "POST",
        RESPONSES,
        _response(input="stream", stream=True),
    ),
    Case(
        "replay-responses-input-tokens",
        "replay",
        "POST",
        "/v1/responses/input_tokens",
        _response(input="json"),
    ),
]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    doc = {
        "id": "chatcmpl-rec",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_rec",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return orjson.dumps(doc).decode()


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _recorded_responses() -> tuple[Exchange, ...]:
    """A recorded JSON response (a message) and a recorded stream (a function call), made as
    generated mode makes them (`wire/responses.py`), and a recorded input token count."""
    echo = parse_response(orjson.dumps(_response(tools=[_FLAT_TOOL]))).echo
    message = {
        "id": "msg_rec",
        "type": "message",
        "status": "completed",
        "content": [
            {"type": "output_text", "annotations": [], "logprobs": [], "text": "Recorded, é."}
        ],
        "role": "assistant",
    }
    usage = responses.usage(9, 5, 0)
    body = responses.response("resp_recjson", 1, echo, "completed", [message], usage, 2)
    call = {
        "id": "fc_rec",
        "type": "function_call",
        "status": "completed",
        "arguments": '{"city": "Oslo", "unit": "c"}',
        "call_id": "call_rec",
        "name": "get_weather",
    }
    final = responses.response("resp_recstream", 1, echo, "completed", [call], usage, 3)
    tokens = [orjson.dumps(t)[1:-1] for t in ('{"city": ', '"Oslo", ', '"unit": "c"}')]
    steps = responses.events(
        responses.unfinished(final, "in_progress"), final, [responses.Item(call, tokens)]
    )
    events = tuple(b"".join(steps).decode().split("\n\n")[:-1])
    data = tuple(e.split("\ndata: ", 1)[1] for e in events)
    times = tuple(10_000 * (k + 1) for k in range(len(data)))
    return (
        Exchange(RESPONSES, 200, _response(input="json"), body=body, duration_us=80_000),
        Exchange(
            RESPONSES,
            200,
            _response(input="stream", stream=True),
            events=data,
            times_us=times,
            duration_us=times[-1],
        ),
        Exchange(
            RESPONSES + "/input_tokens",
            200,
            _response(input="json"),
            body={"object": "response.input_tokens", "input_tokens": 11},
        ),
    )


def exchanges() -> tuple[Exchange, ...]:
    """The recorded corpus of the replay cases: JSON and streamed chat answers (one with a tool
    call), a recorded error, a legacy completion, an embedding and Responses API answers."""
    chat_body = {
        "id": "chatcmpl-rec",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": 'Recorded "JSON" answer, é.'},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(9, 6),
        "system_fingerprint": "fp_rec",
    }
    events = (
        _chunk({"role": "assistant", "content": "", "refusal": None}),
        _chunk({"content": "Stre"}),
        _chunk({"content": "amed"}),
        _chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_rec",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city"'},
                    }
                ]
            }
        ),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": ': "Oslo"}'}}]}),
        _chunk({}, "tool_calls"),
        "[DONE]",
    )
    completion_body = {
        "id": "cmpl-rec",
        "object": "text_completion",
        "created": 1,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [
            {"text": " recorded text", "index": 0, "logprobs": None, "finish_reason": "stop"}
        ],
        "usage": _usage(2, 3),
    }
    embedding_body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.25]}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    error_body = {
        "error": {
            "message": "Recorded failure.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    return (
        Exchange(
            CHAT,
            200,
            _chat("json"),
            body=chat_body,
            duration_us=120_000,
            model="gpt-4o-2024-08-06",
            usage=chat_body["usage"],
        ),
        Exchange(
            CHAT,
            200,
            _chat("stream", stream=True),
            events=events,
            times_us=(50_000, 60_000, 70_000, 90_000, 95_000, 100_000, 100_500),
            duration_us=101_000,
            model="gpt-4o-2024-08-06",
        ),
        Exchange(CHAT, 500, _chat("fails"), body=error_body, duration_us=1_000),
        Exchange(
            COMPLETIONS,
            200,
            _completion(prompt="recorded"),
            body=completion_body,
            duration_us=30_000,
            model="gpt-3.5-turbo-instruct",
            usage=completion_body["usage"],
        ),
        Exchange(
            EMBEDDINGS,
            200,
            {"model": "e", "input": "recorded"},
            body=embedding_body,
            duration_us=5_000,
            model="text-embedding-3-small",
        ),
        *_recorded_responses(),
    )


def write_corpus(path: Path) -> Path:
    io.write(path, Corpus(kind="recorded", generator={"tool": "golden"}, exchanges=exchanges()))
    return path


# Serve options of each mode, as `Settings` keyword arguments (`corpus` filled in for replay).
MODES: dict[str, dict[str, Any]] = {
    "generated": {"pregen_count": 32, "seed": 3},
    "keyed": {"pregen_count": 32, "seed": 3, "api_key": KEY},
    "paced": {"pregen_count": 32, "seed": 3, "response_delay_ms": 10, "first_token_delay_ms": 50},
    "grouped": {
        "pregen_count": 32,
        "seed": 3,
        "response_delay_ms": 5,
        "stream_tokens_min": 2,
        "stream_tokens_max": 4,
    },
    "replay": {},
    "replay-timed": {"replay_timing": "scaled:2"},
    "replay-strict": {"on_miss": "error"},
}
