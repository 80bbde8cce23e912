"""A small OpenAI-compatible upstream for recording tests, run as its own process:

    python tests/upstream_app.py PORT

It checks the bearer key (`KEY`) and answers `POST /v1/chat/completions` by model:

- `slow-stream`: content events with uneven gaps (`GAPS_MS`, the first one is the time to
  first token), then the finish chunk, the usage chunk (if asked) and `[DONE]`; without
  `stream`, the same content as one body.
- `tool-model`: a `get_weather` tool call, its arguments streamed in pieces (or one body).
- `hang`: two content events, then nothing (the stream stays open) — for stopping a recorder
  mid-stream.
- `cut`: two content events, then the stream closes without a finish reason or `[DONE]`.
- `leaky`: an answer whose content holds a key-like string.
- `two-kinds`: a different answer streamed ("Streamed answer.") than not ("Plain answer.").
- `agent-model`, given tools: an agent loop of `AGENT_STEPS` tool calls, each with a new random
  id (`call_` + hex) and arguments naming the step, then an answer quoting every tool result it
  was given; streamed, each call's arguments arrive in two pieces.

It also lists models (`GET /v1/models`: `UPSTREAM_MODELS`, and `/v1/models/{id}`, 404 for one
it does not list). Every answer carries headers a recording must drop (`set-cookie`,
`openai-organization`).
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import Any

import orjson
from sanic import Request, Sanic
from sanic.response import HTTPResponse

KEY = "sk-test-upstream-0123456789abcdefghij"
GAPS_MS = (120, 15, 60, 5, 90, 30, 45)
PIECES = ("The", " quick", " brown", " fox", " jumps", " over", " it.")
TOOL_ARGS = ('{"loc', 'ation": "Par', 'is", "unit"', ': "c"}')
SECRET_CONTENT = "your key is sk-live-abcdefghijklmnopqrstuvwxyz0123"
HEADERS = {
    "set-cookie": "session=cookie-value-should-not-be-recorded",
    "openai-organization": "org-should-not-be-recorded",
    "openai-model": "upstream-model",
}
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
AGENT_STEPS = 2
UPSTREAM_MODELS = ("upstream-model-a", "upstream-model-b")

app: Sanic[Any, Any] = Sanic("upstream_test_app", env_prefix=None)
app.config.NOISY_EXCEPTIONS = False


def chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    doc = {
        "id": "chatcmpl-upstream1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "system_fingerprint": "fp_upstream",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return b"data: " + orjson.dumps(doc) + b"\n\n"


def usage_chunk(model: str) -> bytes:
    doc = {
        "id": "chatcmpl-upstream1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [],
        "usage": USAGE,
    }
    return b"data: " + orjson.dumps(doc) + b"\n\n"


def body(model: str, message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-upstream1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": USAGE,
        "system_fingerprint": "fp_upstream",
    }


TOOL_CALL = {
    "id": "call_abc123",
    "type": "function",
    "function": {"name": "get_weather", "arguments": "".join(TOOL_ARGS)},
}


@app.get("/health")
async def health(request: Request) -> HTTPResponse:
    return HTTPResponse(b'{"status":"ok"}', content_type="application/json")


def model_object(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1690000000, "owned_by": "upstream"}


@app.get("/v1/models")
async def models(request: Request) -> HTTPResponse:
    listed = {"object": "list", "data": [model_object(m) for m in UPSTREAM_MODELS]}
    return HTTPResponse(orjson.dumps(listed), headers=HEADERS, content_type="application/json")


@app.get("/v1/models/<model_id>")
async def model(request: Request, model_id: str) -> HTTPResponse:
    if model_id not in UPSTREAM_MODELS:
        error = {"error": {"message": f"no model {model_id}", "type": "invalid_request_error"}}
        return HTTPResponse(orjson.dumps(error), status=404, content_type="application/json")
    return HTTPResponse(orjson.dumps(model_object(model_id)), content_type="application/json")


def agent_turn(doc: dict[str, Any]) -> dict[str, Any]:
    """The next step of the agent loop: a tool call, or the answer once `AGENT_STEPS` tool
    results came back (each tool call id is new and random, as the real API's are)."""
    results = [m.get("content") for m in doc["messages"] if m.get("role") == "tool"]
    if len(results) < AGENT_STEPS:
        step = len(results) + 1
        call = {
            "id": f"call_{secrets.token_hex(8)}",
            "type": "function",
            "function": {"name": "get_weather", "arguments": f'{{"step": {step}}}'},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": "Done: " + " / ".join(map(str, results))}


async def agent_stream(request: Request, model: str, message: dict[str, Any]) -> None:
    response = await request.respond(headers=HEADERS, content_type="text/event-stream")
    calls = message.get("tool_calls")
    if calls:
        call = calls[0]
        arguments = call["function"]["arguments"]
        head = {**call, "index": 0, "function": {"name": "get_weather", "arguments": ""}}
        await response.send(
            chunk(model, {"role": "assistant", "content": None, "tool_calls": [head]})
        )
        for piece in (arguments[:4], arguments[4:]):
            part = {"index": 0, "function": {"arguments": piece}}
            await response.send(chunk(model, {"tool_calls": [part]}))
        await response.send(chunk(model, {}, "tool_calls"))
    else:
        await response.send(chunk(model, {"role": "assistant", "content": message["content"]}))
        await response.send(chunk(model, {}, "stop"))
    await response.send(b"data: [DONE]\n\n")
    await response.eof()


@app.post("/v1/chat/completions")
async def chat(request: Request) -> HTTPResponse | None:
    if request.headers.get("authorization") != f"Bearer {KEY}":
        error = {"error": {"message": "bad key", "type": "invalid_request_error"}}
        return HTTPResponse(orjson.dumps(error), status=401, content_type="application/json")
    doc = orjson.loads(request.body)
    model = doc["model"]
    if model == "agent-model" and doc.get("tools"):
        message = agent_turn(doc)
        if doc.get("stream"):
            await agent_stream(request, model, message)
            return None
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        answer = body(model, message, finish)
        answer["id"] = f"chatcmpl-{secrets.token_hex(6)}"
        return HTTPResponse(orjson.dumps(answer), headers=HEADERS, content_type="application/json")
    if model == "two-kinds" and doc.get("stream"):
        response = await request.respond(headers=HEADERS, content_type="text/event-stream")
        for piece in ("Stream", "ed ans", "wer."):
            await response.send(chunk(model, {"content": piece}))
        await response.send(chunk(model, {}, "stop"))
        await response.send(b"data: [DONE]\n\n")
        await response.eof()
        return None
    if not doc.get("stream"):
        if model == "two-kinds":
            answer = body(model, {"role": "assistant", "content": "Plain answer."}, "stop")
            return HTTPResponse(orjson.dumps(answer), content_type="application/json")
        if model == "tool-model":
            message = {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]}
            answer = body(model, message, "tool_calls")
        else:
            text = SECRET_CONTENT if model == "leaky" else "".join(PIECES)
            answer = body(model, {"role": "assistant", "content": text}, "stop")
        return HTTPResponse(orjson.dumps(answer), headers=HEADERS, content_type="application/json")
    include_usage = bool((doc.get("stream_options") or {}).get("include_usage"))
    response = await request.respond(headers=HEADERS, content_type="text/event-stream")
    loop = asyncio.get_running_loop()
    start = loop.time()
    due = start

    async def at(gap_ms: float, data: bytes) -> None:
        nonlocal due
        due += gap_ms / 1000
        await asyncio.sleep(max(0.0, due - loop.time()))
        await response.send(data)

    if model == "tool-model":
        head = {**TOOL_CALL, "index": 0, "function": {"name": "get_weather", "arguments": ""}}
        await at(30, chunk(model, {"role": "assistant", "content": None, "tool_calls": [head]}))
        for piece in TOOL_ARGS:
            part = {"index": 0, "function": {"arguments": piece}}
            await at(10, chunk(model, {"tool_calls": [part]}))
        await at(5, chunk(model, {}, "tool_calls"))
    elif model in ("hang", "cut"):
        await at(20, chunk(model, {"role": "assistant", "content": "Hello"}))
        await at(20, chunk(model, {"content": " there"}))
        if model == "hang":
            await asyncio.sleep(3600)
        await response.eof()
        return None
    else:
        await at(GAPS_MS[0], chunk(model, {"role": "assistant", "content": PIECES[0]}))
        for gap, piece in zip(GAPS_MS[1:], PIECES[1:], strict=True):
            await at(gap, chunk(model, {"content": piece}))
        await at(5, chunk(model, {}, "stop"))
    if include_usage:
        await at(1, usage_chunk(model))
    await at(1, b"data: [DONE]\n\n")
    await response.eof()
    return None


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, motd=False)
