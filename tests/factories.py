"""Shared test builders: `settings(**flat)`, recorded exchanges, request bodies, JSON strategies.

`settings(**flat)` builds a `Settings` from the flat option names tests use (one per serve option).

`settings(pregen_count=16, on_miss="error", replay_timing="scaled:2")` puts each keyword in its
part and parses mode strings as the CLI does (a bad one raises the CLI's `SettingsError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from hypothesis import strategies as st

from sanic_mock.core.answerers import answerer_for
from sanic_mock.core.replayed import ReplayAPI
from sanic_mock.corpus import io
from sanic_mock.corpus.cuts import cut_texts
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import ENCODINGS, Articles, Corpus
from sanic_mock.settings import (
    GenerationSettings,
    Http2Engine,
    MissPolicy,
    RecordSettings,
    ReplayIds,
    ReplayMode,
    ReplaySettings,
    ReplayTiming,
    ServerSettings,
    Settings,
    TimingSettings,
    TLSSettings,
)
from sanic_mock.wire import responses
from sanic_mock.wire.responses_in import parse_response

# flat name -> (part, field of that part)
FIELDS: dict[str, tuple[str, str]] = {
    **{name: ("server", name) for name in ServerSettings.__dataclass_fields__},
    **{name: ("generation", name) for name in GenerationSettings.__dataclass_fields__},
    **{name: ("timing", name) for name in TimingSettings.__dataclass_fields__},
    "replay": ("replay", "mode"),
    "on_miss": ("replay", "on_miss"),
    "match_ignore": ("replay", "match_ignore"),
    "replay_ids": ("replay", "ids"),
    "upstream": ("record", "upstream"),
    "upstream_key": ("record", "upstream_key"),
    "record_out": ("record", "out"),
    "record_append": ("record", "append"),
    "tls_cert": ("tls", "cert"),
    "tls_key": ("tls", "key"),
    "http2": ("tls", "http2"),
    "http2_engine": ("tls", "http2_engine"),
    "http3": ("tls", "http3"),
}
PARTS: dict[str, type[Any]] = {
    "server": ServerSettings,
    "generation": GenerationSettings,
    "timing": TimingSettings,
    "replay": ReplaySettings,
    "record": RecordSettings,
    "tls": TLSSettings,
}
PARSERS: dict[str, Any] = {
    "replay": ReplayMode.parse,
    "on_miss": MissPolicy.parse,
    "replay_ids": ReplayIds.parse,
    "http2_engine": Http2Engine.parse,
}


def settings(**flat: Any) -> Settings:
    """`Settings(...)` as it took flat keywords before it was split into parts."""
    parts: dict[str, dict[str, Any]] = {name: {} for name in PARTS}
    allow_secrets = bool(flat.pop("allow_secrets", False))
    if "replay_timing" in flat:
        timing, factor = ReplayTiming.parse(flat.pop("replay_timing"))
        parts["replay"].update(timing=timing, factor=factor)
    for name, value in flat.items():
        if name not in FIELDS:
            raise TypeError(f"settings() got an unexpected keyword argument {name!r}")
        part, field = FIELDS[name]
        if name in PARSERS and isinstance(value, str):
            value = PARSERS[name](value)
        parts[part][field] = value
    return Settings(
        **{name: PARTS[name](**fields) for name, fields in parts.items()},
        allow_secrets=allow_secrets,
    )


# -- recorded exchanges ------------------------------------------------------------------------
CHAT = "/v1/chat/completions"


def chat_request(content: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def chat_body(text: str, model: str = "gpt-4o-mini") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    doc = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return orjson.dumps(doc).decode()


def json_exchange(content: str, text: str, **extra: Any) -> Exchange:
    body = chat_body(text)
    return Exchange(
        CHAT,
        200,
        chat_request(content, **extra),
        body=body,
        model="gpt-4o-mini",
        usage=body["usage"],
    )


STREAM_EVENTS = (
    chunk({"role": "assistant", "content": "Hel"}),
    chunk({"content": "lo"}),
    chunk(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a"'},
                }
            ]
        }
    ),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
    chunk({}, "tool_calls"),
    "[DONE]",
)


def stream_exchange() -> Exchange:
    return Exchange(
        CHAT,
        200,
        chat_request("stream me", stream=True),
        events=STREAM_EVENTS,
        times_us=(100, 200, 300, 400, 500, 600),
        duration_us=600,
        model="gpt-4o-mini",
    )


# Any JSON value, small: for fuzzing readers.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def cut_articles(texts: list[str]) -> Articles:
    """`texts` as articles, cut by every encoding with tiktoken."""
    text = "".join(texts).encode("utf-8")
    first, *others = (Articles(text, *cut_texts(texts, name), name) for name in ENCODINGS)
    return Articles(text, first.piece_ends, first.article_ends, first.encoding, tuple(others))


RESPONSES = "/v1/responses"


def message_item(text: str, item_id: str = "msg_rec") -> dict[str, Any]:
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    return {
        "id": item_id,
        "type": "message",
        "status": "completed",
        "content": [part],
        "role": "assistant",
    }


def call_item(call_id: str = "call_rec", item_id: str = "fc_rec") -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": "completed",
        "arguments": '{"city":"Oslo"}',
        "call_id": call_id,
        "name": "get_weather",
    }


def response_exchange(
    request: dict[str, Any],
    output: list[dict[str, Any]],
    rid: str = "resp_rec",
    stream: bool = False,
) -> Exchange:
    """A recorded `POST /v1/responses`: the response generated mode would make of `output`
    (`wire/responses.py`), as JSON or, with `stream`, as its events 10 ms apart."""
    request = {**request, "stream": True} if stream else request
    echo = parse_response(orjson.dumps(request)).echo
    usage = responses.usage(7, 5, 0)
    final = responses.response(rid, 100, echo, "completed", output, usage, 101)
    if not stream:
        return Exchange(RESPONSES, 200, request, body=final, duration_us=40_000)
    items = [responses.Item(item, []) for item in output]
    steps = responses.events(responses.unfinished(final, "in_progress"), final, items)
    data = tuple(e.split("\ndata: ", 1)[1] for e in b"".join(steps).decode().split("\n\n")[:-1])
    times = tuple(10_000 * (k + 1) for k in range(len(data)))
    return Exchange(RESPONSES, 200, request, events=data, times_us=times, duration_us=times[-1])


def replay_api(path: Path, *exchanges: Exchange, **options: Any) -> ReplayAPI:
    """The `ReplayAPI` a worker builds for a corpus of `exchanges`, written to `path`."""
    io.write(path, Corpus(kind="recorded", generator={}, exchanges=exchanges))
    api = answerer_for(settings(corpus=path, **options))
    assert isinstance(api, ReplayAPI)
    return api
