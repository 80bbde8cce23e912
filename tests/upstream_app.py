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

Every answer carries headers a recording must drop (`set-cookie`, `openai-organization`).
"""

from __future__ import annotations

import asyncio
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


@app.post("/v1/chat/completions")
async def chat(request: Request) -> HTTPResponse | None:
    if request.headers.get("authorization") != f"Bearer {KEY}":
        error = {"error": {"message": "bad key", "type": "invalid_request_error"}}
        return HTTPResponse(orjson.dumps(error), status=401, content_type="application/json")
    doc = orjson.loads(request.body)
    model = doc["model"]
    if not doc.get("stream"):
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
