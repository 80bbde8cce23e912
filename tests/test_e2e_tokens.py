"""Real tokens end to end: the server in a subprocess, the official SDK and raw SSE, tiktoken on
the client side. Generated content re-encodes to exactly `usage.completion_tokens`, a stream
sends one token per event, and `usage.prompt_tokens` is the model's own count."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import orjson
import pytest

from sanic_mock import encodings
from sanic_mock.tokens import count_chat_prompt
from tests.servers import Server, running

MESSAGES: list[Any] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Explain caching, with a code example. Merci, Zürich!"},
]
MODELS = [("gpt-4o-mini", "o200k_base"), ("gpt-3.5-turbo", "cl100k_base")]


@pytest.fixture(scope="module")
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


@pytest.mark.parametrize(("model", "encoding"), MODELS)
def test_json_content_re_encodes_to_the_completion_tokens(
    client: openai.OpenAI, model: str, encoding: str
) -> None:
    enc = encodings.get(encoding)
    for size in (1, 7, 64, 300):
        resp = client.chat.completions.create(
            model=model, messages=MESSAGES, max_tokens=size, extra_body={"ignore_eos": True}
        )
        content = resp.choices[0].message.content or ""
        assert resp.usage is not None and resp.usage.completion_tokens == size
        assert len(enc.encode_ordinary(content)) == size, content
        assert resp.usage.prompt_tokens == count_chat_prompt(MESSAGES, model)
    for _ in range(5):  # lengths drawn by the server
        resp = client.chat.completions.create(model=model, messages=MESSAGES, n=3)
        assert resp.usage is not None
        texts = [c.message.content or "" for c in resp.choices]
        assert sum(len(enc.encode_ordinary(t)) for t in texts) == resp.usage.completion_tokens


@pytest.mark.parametrize(("model", "encoding"), MODELS)
def test_a_stream_sends_one_token_per_event(server: Server, model: str, encoding: str) -> None:
    enc = encodings.get(encoding)
    body = {
        "model": model,
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    for _ in range(4):
        with httpx.stream("POST", server.base_url + "/chat/completions", json=body) as resp:
            raw = resp.read()
        events = [orjson.loads(b[6:]) for b in raw.split(b"\n\n") if b.startswith(b"data: {")]
        deltas = [
            e["choices"][0]["delta"]["content"]
            for e in events
            if e["choices"] and e["choices"][0]["delta"].get("content")
        ]
        usage = events[-1]["usage"]
        assert usage["completion_tokens"] == len(deltas)
        assert all(len(enc.encode_ordinary(d)) == 1 for d in deltas)
        assert len(enc.encode_ordinary("".join(deltas))) == len(deltas)
        assert usage["prompt_tokens"] == count_chat_prompt(MESSAGES, model)


def test_legacy_completions_and_embeddings_count_real_tokens(client: openai.OpenAI) -> None:
    enc = encodings.get("cl100k_base")
    resp = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say this is a test", max_tokens=40
    )
    assert resp.usage is not None and resp.usage.prompt_tokens == 5
    assert len(enc.encode_ordinary(resp.choices[0].text)) == resp.usage.completion_tokens
    emb = client.embeddings.create(model="text-embedding-3-small", input=["Hello world", "Hi"])
    assert emb.usage.prompt_tokens == 2 + 1


def test_answers_start_elsewhere_on_each_start_unless_seeded() -> None:
    def first_answer(*args: str) -> str:
        with running("--pregen-count", "64", "--no-cache", *args) as srv:
            resp = httpx.post(
                srv.base_url + "/chat/completions",
                json={"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 30},
            )
            return str(resp.json()["choices"][0]["message"]["content"])

    fresh = {first_answer() for _ in range(3)}
    assert len(fresh) > 1  # 3 starts at the same place: about 1 in 10^9 with ~1,000 blocks
    seeded = {first_answer("--seed", "5") for _ in range(2)}
    assert len(seeded) == 1


def test_estimate_mode_counts_a_quarter_of_the_characters() -> None:
    with running("--pregen-count", "16", "--seed", "1", "--token-count", "estimate") as srv:
        resp = httpx.post(
            srv.base_url + "/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 40}]},
        )
    assert resp.json()["usage"]["prompt_tokens"] == 10 + 3 + 3
