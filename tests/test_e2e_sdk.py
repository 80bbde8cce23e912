"""The real server in a subprocess, driven by the official `openai` SDK; every body and every
stream chunk validated against the official spec's schemas."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import openai
import orjson
import pytest

from tests.servers import Server
from tests.spec import validate

MESSAGES: list[Any] = [{"role": "user", "content": "Tell me about caching."}]


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def sse_events(server: Server, path: str, body: dict[str, Any]) -> list[dict[str, Any] | str]:
    """POST and parse the raw SSE byte stream: JSON events, and the final `[DONE]` as a string."""
    events: list[dict[str, Any] | str] = []
    with httpx.stream("POST", server.base_url + path, json=body, timeout=30) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = resp.read()
    assert raw.endswith(b"\n\n")
    for block in raw.split(b"\n\n")[:-1]:
        assert block.startswith(b"data: "), block
        data = block[len(b"data: ") :]
        events.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return events


def test_models_list_and_retrieve(client: openai.OpenAI, server: Server) -> None:
    raw = httpx.get(server.base_url + "/models").json()
    validate("ListModelsResponse", raw)
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o-mini" in ids and "text-embedding-3-small" in ids
    model = client.models.retrieve("gpt-4o-mini")
    assert model.id == "gpt-4o-mini" and model.object == "model"
    validate("Model", httpx.get(server.base_url + "/models/gpt-4o-mini").json())


def test_unknown_model_is_404_model_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("no-such-model")
    assert info.value.code == "model_not_found"


def test_chat_completion(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, max_tokens=2000
    )
    body = orjson.loads(raw.content)
    validate("CreateChatCompletionResponse", body)
    assert raw.headers["x-request-id"].startswith("req_")
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    assert completion.system_fingerprint and completion.system_fingerprint.startswith("fp_")
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.message.refusal is None and choice.logprobs is None
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.completion_tokens >= 1
    assert usage.prompt_tokens_details and usage.completion_tokens_details


def test_max_tokens_caps_and_reports_length(client: openai.OpenAI) -> None:
    for kwargs in ({"max_tokens": 5}, {"max_completion_tokens": 5}):
        completion = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, **kwargs
        )
        assert completion.choices[0].finish_reason == "length"
        assert completion.usage is not None and completion.usage.completion_tokens == 5


def test_n_choices(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, n=3, max_tokens=8
    )
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert completion.usage is not None and completion.usage.completion_tokens == 24


def test_seed_reproduces_text(client: openai.OpenAI) -> None:
    def text(seed: int) -> str:
        c = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, seed=seed)
        return c.choices[0].message.content or ""

    assert text(42) == text(42)
    assert text(42) != text(43)


def test_ignore_eos_gives_exact_length(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        max_tokens=700,
        extra_body={"ignore_eos": True},
    )
    assert completion.usage is not None and completion.usage.completion_tokens == 700
    assert completion.choices[0].finish_reason == "length"
    floor = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, max_tokens=900, extra_body={"min_tokens": 800}
    )
    assert floor.usage is not None and floor.usage.completion_tokens >= 800


def test_stop_sequence_truncates(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stop=["\n", "."], seed=1, max_tokens=500
    )
    content = completion.choices[0].message.content or ""
    assert "\n" not in content and "." not in content
    assert completion.choices[0].finish_reason == "stop"


def test_logprobs(client: openai.OpenAI, server: Server) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, logprobs=True, top_logprobs=2, max_tokens=6
    )
    validate("CreateChatCompletionResponse", orjson.loads(raw.content))
    choice = raw.parse().choices[0]
    assert choice.logprobs is not None and choice.logprobs.content is not None
    tokens = choice.logprobs.content
    assert len(tokens) == 6 and all(len(t.top_logprobs) == 2 for t in tokens)
    assert "".join(t.token for t in tokens) == choice.message.content


def test_chat_stream_chunks(server: Server) -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 40,
    }
    events = sse_events(server, "/chat/completions", body)
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if isinstance(e, dict)]
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
        assert chunk["object"] == "chat.completion.chunk"
    assert len({c["id"] for c in chunks}) == 1
    first, finish, usage = chunks[0], chunks[-2], chunks[-1]
    assert first["choices"][0]["delta"]["role"] == "assistant"
    content = chunks[1:-2]
    assert all(len(c["choices"][0]["delta"]["content"]) > 0 for c in content)
    assert len(content) == 40  # one token per event
    assert finish["choices"][0]["delta"] == {} and finish["choices"][0]["finish_reason"] == "length"
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 40
    assert all(c["usage"] is None for c in chunks[:-1])


def test_chat_stream_without_usage_has_no_usage_chunk(server: Server) -> None:
    body = {"model": "m", "messages": MESSAGES, "stream": True, "max_tokens": 3}
    events = sse_events(server, "/chat/completions", body)
    chunks = [e for e in events if isinstance(e, dict)]
    assert all(c["choices"] for c in chunks) and all("usage" not in c for c in chunks)


def test_chat_stream_with_sdk(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        seed=5,
        max_tokens=64,
    )
    text, usage = [], None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
    assert usage is not None and usage.completion_tokens == 64
    whole = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, seed=5, max_tokens=64
    )
    assert "".join(text) == whole.choices[0].message.content


def test_legacy_completion(client: openai.OpenAI, server: Server) -> None:
    raw = client.completions.with_raw_response.create(
        model="gpt-3.5-turbo-instruct", prompt="Say this is a test", max_tokens=7
    )
    validate("CreateCompletionResponse", orjson.loads(raw.content))
    completion = raw.parse()
    assert completion.id.startswith("cmpl-") and completion.object == "text_completion"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 7
    many = client.completions.create(model="m", prompt=["a", "b"], n=2, max_tokens=2)
    assert [c.index for c in many.choices] == [0, 1, 2, 3]
    echoed = client.completions.create(model="m", prompt="Echo me", echo=True, max_tokens=2)
    assert echoed.choices[0].text.startswith("Echo me")


def test_legacy_completion_stream(server: Server) -> None:
    body = {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": "hello",
        "stream": True,
        "max_tokens": 10,
        "stream_options": {"include_usage": True},
    }
    events = sse_events(server, "/completions", body)
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if isinstance(e, dict)]
    for chunk in chunks[:-2]:
        # The real API sends finish_reason null mid-stream; the spec does not allow null there.
        assert chunk["choices"][0]["finish_reason"] is None
        validate("CreateCompletionResponse", _with_finish(chunk, "length"))
    finish, usage = chunks[-2], chunks[-1]
    validate("CreateCompletionResponse", finish)
    assert finish["choices"][0]["finish_reason"] == "length"
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 10


def _with_finish(chunk: dict[str, Any], reason: str) -> dict[str, Any]:
    return {**chunk, "choices": [{**c, "finish_reason": reason} for c in chunk["choices"]]}


@pytest.mark.parametrize(
    ("model", "size"),
    [("text-embedding-3-small", 1536), ("text-embedding-3-large", 3072), ("other", 1536)],
)
def test_embeddings_sizes_and_unit_length(client: openai.OpenAI, model: str, size: int) -> None:
    result = client.embeddings.create(model=model, input=["hello", "world"])  # base64 by default
    assert [d.index for d in result.data] == [0, 1]
    for item in result.data:
        vec = np.asarray(item.embedding)
        assert vec.shape == (size,) and abs(float(np.linalg.norm(vec)) - 1) < 1e-5
    assert result.usage.prompt_tokens == result.usage.total_tokens == 2  # cl100k: 1 + 1


def test_embeddings_float_format_deterministic_and_dimensions(server: Server) -> None:
    url = server.base_url + "/embeddings"
    body = {"model": "text-embedding-3-small", "input": "hi", "encoding_format": "float"}
    first, second = httpx.post(url, json=body).json(), httpx.post(url, json=body).json()
    validate("CreateEmbeddingResponse", first)
    assert first["data"][0]["embedding"] == second["data"][0]["embedding"]
    short = httpx.post(url, json={**body, "dimensions": 256}).json()["data"][0]["embedding"]
    assert len(short) == 256 and abs(np.linalg.norm(short) - 1) < 1e-5
    tokens = httpx.post(url, json={**body, "input": [[1, 2, 3], [4, 5]]}).json()
    assert len(tokens["data"]) == 2 and tokens["usage"]["prompt_tokens"] == 5


def test_health(server: Server) -> None:
    resp = httpx.get(server.url + "/health")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
