"""`MockAPI` without a server: request bytes in, a `Reply` of generated text out, with an
injected clock, ids and obfuscation table."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanic_mock.core.generated import MockAPI
from sanic_mock.core.reply import Clock
from sanic_mock.corpus.pool import Pools
from sanic_mock.corpus.pregen import generate
from sanic_mock.errors import InvalidRequest
from sanic_mock.wire.ids import IdSource
from tests.factories import settings as make_settings

POOLS = Pools(generate(16, 0))
CLOCK = Clock(wall=lambda: 1_700_000_123.9, monotonic=lambda: 5.0)
OBFUSCATION = (b"xx",)


def api(**flat: Any) -> MockAPI:
    s = make_settings(**flat)
    ids = IdSource(stem="b" * 21, request_stem="1" * 16)
    return MockAPI(POOLS, s.generation, s.timing, s.server.models, CLOCK, ids, OBFUSCATION)


def chat(**extra: Any) -> bytes:
    return orjson.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **extra}
    )


def stream_text(frames: list[bytes]) -> str:
    text = ""
    for event in b"".join(frames).split(b"\n\n"):
        if event.startswith(b"data: {"):
            for choice in orjson.loads(event[6:])["choices"]:
                text += choice["delta"].get("content") or ""
    return text


def test_chat_body_takes_its_id_and_created_from_the_injected_sources() -> None:
    reply = api().chat(chat(max_tokens=5))
    doc = orjson.loads(reply.body)
    assert doc["id"] == "chatcmpl-" + "b" * 21 + "10000001"
    assert doc["created"] == 1_700_000_123
    assert doc["object"] == "chat.completion" and doc["model"] == "gpt-4o-mini"
    assert doc["usage"]["completion_tokens"] == 5
    assert doc["choices"][0]["finish_reason"] == "length"
    assert reply.frames is None and reply.first_delay == 0


def test_a_seed_gives_the_same_text_from_two_apis_and_as_a_stream() -> None:
    body = orjson.loads(api().chat(chat(seed=9)).body)
    again = orjson.loads(api().chat(chat(seed=9)).body)
    text = body["choices"][0]["message"]["content"]
    assert text and text == again["choices"][0]["message"]["content"]
    streamed = api().chat(chat(seed=9, stream=True))
    assert streamed.frames is not None and stream_text(streamed.frames) == text
    other = orjson.loads(api().chat(chat(seed=10)).body)
    assert other["choices"][0]["message"]["content"] != text


def test_stream_chunks_carry_the_injected_obfuscation() -> None:
    reply = api().chat(chat(stream=True, max_tokens=3))
    assert reply.frames is not None and len(reply.frames) == 1  # unpaced: one write
    events = [e for e in reply.frames[0].split(b"\n\n") if e.startswith(b"data: {")]
    assert len(events) == 5  # role, three tokens, finish
    assert all(orjson.loads(e[6:])["obfuscation"] == "xx" for e in events)


def test_completions_and_embeddings() -> None:
    mock = api()
    doc = orjson.loads(mock.completions(orjson.dumps({"model": "m", "prompt": ["a", "b"]})).body)
    assert doc["object"] == "text_completion" and [c["index"] for c in doc["choices"]] == [0, 1]
    assert doc["id"].startswith("cmpl-" + "b" * 21)
    emb = orjson.loads(mock.embeddings(orjson.dumps({"model": "m", "input": "x"})).body)
    assert emb["object"] == "list" and len(emb["data"][0]["embedding"]) == 1536


def test_paced_settings_time_streams_and_bodies() -> None:
    paced = api(response_delay_ms=10, first_token_delay_ms=50)
    stream = paced.chat(chat(stream=True, max_tokens=5, ignore_eos=True))
    assert stream.first_delay == 0.05 and stream.event_delay == 0.01
    assert stream.frames is not None and len(stream.frames) == 5  # one frame per token
    body = paced.chat(chat(max_tokens=5, ignore_eos=True))
    assert body.frames is None
    assert body.first_delay == pytest.approx(0.05 + 4 * 0.01)  # as long as the stream takes


SCHEMA_PARTS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 40)
    | st.sampled_from(["object", "string", "integer", "array", "null", "number", "#/$defs/a"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "properties",
                    "required",
                    "items",
                    "anyOf",
                    "enum",
                    "$ref",
                    "$defs",
                    "minItems",
                    "maxLength",
                    "format",
                    "a",
                    "additionalProperties",
                    "$provider",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(schema=st.dictionaries(st.sampled_from(["type", "properties", "items"]), SCHEMA_PARTS))
def test_any_schema_gives_an_answer_or_a_400(schema: dict[str, Any]) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    for extra in (
        {"tools": [tool], "tool_choice": "required"},
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": schema},
            }
        },
    ):
        try:
            reply = API.chat(chat(**extra))
        except InvalidRequest:
            continue
        doc = orjson.loads(reply.body)
        message = doc["choices"][0]["message"]
        made = message["content"] or message["tool_calls"][0]["function"]["arguments"]
        orjson.loads(made)  # a JSON value, whatever the schema


API = api()


def test_a_chained_turn_counts_its_earlier_turns_with_the_tokenizer() -> None:
    from sanic_mock.tokens import count_chat_prompt

    mock = api()
    first = orjson.loads(
        mock.responses(
            orjson.dumps({"model": "gpt-4o", "input": "Hello there", "max_output_tokens": 20})
        ).body
    )
    said = first["output"][0]["content"][0]["text"]
    follow = {"model": "gpt-4o", "input": "And then?", "previous_response_id": first["id"]}
    second = orjson.loads(mock.responses(orjson.dumps(follow)).body)
    messages = [
        {"role": "user", "content": "Hello there"},
        {"role": "assistant", "content": said},
        {"role": "user", "content": "And then?"},
    ]
    expected = count_chat_prompt(messages, "gpt-4o")  # one conversation, as the API counts it
    assert second["usage"]["input_tokens"] == expected
    counted = orjson.loads(mock.input_tokens(orjson.dumps(follow)).body)
    assert counted["input_tokens"] == expected
    with pytest.raises(InvalidRequest) as caught:
        mock.input_tokens(orjson.dumps({**follow, "previous_response_id": "resp_nope"}))
    assert caught.value.code == "previous_response_not_found"
