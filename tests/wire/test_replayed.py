"""Recorded answers as response bytes: `restream`, `split`, `assembled` and the `Template`
that fills in the id and `created`."""

from __future__ import annotations

from typing import Any

import orjson

from sanic_mock.corpus.answers import Answer, ChoiceAnswer, from_chunks
from sanic_mock.wire.replayed import (
    CHAT,
    CREATED_TEXT,
    RID_TEXT,
    Template,
    assembled,
    frame,
    restream,
    split,
    usage_of,
)
from sanic_mock.wire.sse import DONE

COMPLETIONS = "/v1/completions"
HI = Answer([ChoiceAnswer(0, "Hi there", True, finish_reason="stop")])  # "Hi", " th", "ere"
TOOL = Answer(
    [
        ChoiceAnswer(
            0,
            tool_calls=[
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a": 1}'},
                }
            ],
            finish_reason="tool_calls",
        )
    ],
    fingerprint="fp_1",
)


def docs(frames: list[bytes], rid: str = "chatcmpl-R", created: int = 7) -> list[Any]:
    """The frames filled in and parsed; `[DONE]` as the string."""
    out: list[Any] = []
    for f in Template(frames, [0] * len(frames)).each(rid.encode(), created):
        assert f.startswith(b"data: ") and f.endswith(b"\n\n")
        payload = f[6:-2]
        out.append("[DONE]" if payload == b"[DONE]" else orjson.loads(payload))
    return out


def chat_chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-R",
        "object": "chat.completion.chunk",
        "created": 7,
        "model": "gpt-4o-mini",
        **extra,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


# -- frame, usage_of ---------------------------------------------------------------------------
def test_frame() -> None:
    assert frame({"a": 1}) == b'data: {"a":1}\n\n'


def test_placeholders_are_escaped_nul_strings() -> None:
    assert orjson.dumps({"id": RID_TEXT, "created": CREATED_TEXT}) == (
        b'{"id":"\\u0000rid\\u0000","created":"\\u0000created\\u0000"}'
    )


def test_usage_of_prefers_the_recorded_usage() -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    assert usage_of(Answer([], usage=usage), 3) == usage


def test_usage_of_counts_pieces() -> None:
    assert usage_of(HI, 4) == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}


def test_usage_of_estimates_tool_calls() -> None:
    # str() of the function object is 38 characters: 10 tokens
    assert usage_of(TOOL, 2) == {"prompt_tokens": 2, "completion_tokens": 10, "total_tokens": 12}


# -- split -------------------------------------------------------------------------------------
def test_split_chat_frame_bytes() -> None:
    frames = split(HI, CHAT, "gpt-4o-mini", False, 3)
    assert frames[1] == (
        b'data: {"id":"\\u0000rid\\u0000","object":"chat.completion.chunk",'
        b'"created":"\\u0000created\\u0000","model":"gpt-4o-mini","choices":[{"index":0,'
        b'"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}\n\n'
    )
    assert frames[-1] == DONE


def test_split_chat() -> None:
    assert docs(split(HI, CHAT, "gpt-4o-mini", False, 3)) == [
        chat_chunk({"role": "assistant", "content": "", "refusal": None}),
        chat_chunk({"content": "Hi"}),
        chat_chunk({"content": " th"}),
        chat_chunk({"content": "ere"}),
        chat_chunk({}, "stop"),
        "[DONE]",
    ]


def test_split_chat_with_usage() -> None:
    got = docs(split(HI, CHAT, "gpt-4o-mini", True, 3))
    assert got[0] == chat_chunk({"role": "assistant", "content": "", "refusal": None}, usage=None)
    assert got[4] == chat_chunk({}, "stop", usage=None)
    assert got[5] == {
        "id": "chatcmpl-R",
        "object": "chat.completion.chunk",
        "created": 7,
        "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
        "choices": [],
    }
    assert got[6] == "[DONE]"
    assert len(got) == 7


def test_split_chat_tool_calls() -> None:
    got = docs(split(TOOL, CHAT, "gpt", False, 3))
    fp = {"system_fingerprint": "fp_1"}

    def c(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**chat_chunk(delta, finish, **fp), "model": "gpt"}

    def args(piece: str) -> dict[str, Any]:
        return c({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})

    head = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "f", "arguments": ""},
    }
    assert got == [
        c({"role": "assistant", "content": None, "refusal": None}),  # null, as the API sends
        c({"tool_calls": [head]}),
        args('{"'),
        args("a"),
        args('":'),
        args(" 1"),
        args("}"),
        c({}, "tool_calls"),
        "[DONE]",
    ]


def test_split_completions() -> None:
    def c(text: str, finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "cmpl-R",
            "object": "text_completion",
            "created": 7,
            "model": "m",
            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
        }

    assert docs(split(HI, COMPLETIONS, "m", False, 3), "cmpl-R") == [
        c("Hi"),
        c(" th"),
        c("ere"),
        c("", "stop"),
        "[DONE]",
    ]


def test_split_reassembles_to_the_answer() -> None:
    chunks = [d for d in docs(split(TOOL, CHAT, "gpt", True, 3)) if d != "[DONE]"]
    again = from_chunks(chunks)
    # (has_text is not compared: the role chunk carries "content": "" even for tool calls)
    [choice] = again.choices
    assert (choice.text, choice.tool_calls, choice.finish_reason) == (
        "",
        TOOL.choices[0].tool_calls,
        "tool_calls",
    )
    assert again.fingerprint == "fp_1"


# -- Template ----------------------------------------------------------------------------------
def test_template_whole_is_the_frames_filled_in() -> None:
    frames = [frame({"id": RID_TEXT, "created": CREATED_TEXT, "n": k}) for k in range(2)]
    template = Template([*frames, DONE], [10, 20, 30])
    assert template.whole(b"X", 5) == (
        b'data: {"id":"X","created":5,"n":0}\n\n'
        b'data: {"id":"X","created":5,"n":1}\n\n'
        b"data: [DONE]\n\n"
    )
    # a new second and another id
    assert template.whole(b"Y", 6) == (
        b'data: {"id":"Y","created":6,"n":0}\n\n'
        b'data: {"id":"Y","created":6,"n":1}\n\n'
        b"data: [DONE]\n\n"
    )


def test_template_each_matches_whole() -> None:
    template = Template(split(HI, CHAT, "gpt", True, 3), [0] * 7)
    each = template.each(b"chatcmpl-A", 9)
    assert len(each) == 7
    assert b"".join(each) == template.whole(b"chatcmpl-A", 9)
    assert each[1] == (
        b'data: {"id":"chatcmpl-A","object":"chat.completion.chunk","created":9,"model":"gpt",'
        b'"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,'
        b'"finish_reason":null}],"usage":null}\n\n'
    )
    # whole first, then each, at another second
    assert template.whole(b"B", 10).count(b'"created":10') == 6
    assert [f.count(b'"id":"B"') for f in template.each(b"B", 10)] == [1] * 6 + [0]


def test_template_offsets_scale_microseconds() -> None:
    template = Template([b"a", b"b", b"c"], [0, 250_000, 1_000_000])
    assert template.offsets(2.0) == (0.0, 0.5, 2.0)
    assert template.times == [0, 250_000, 1_000_000]


# -- restream ----------------------------------------------------------------------------------
def recorded(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-old",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-2024",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


EVENTS = [recorded({"role": "assistant", "content": "Hel"}), recorded({"content": "lo"}), None]
USAGE = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
WITH_USAGE = [
    recorded({"content": "Hel"}, usage=None),
    recorded({}, "stop", usage=None),
    {**recorded({}), "choices": [], "usage": USAGE},
    None,
]


def fresh(doc: dict[str, Any], model: str = "gpt-4o-2024") -> dict[str, Any]:
    return {**doc, "id": "chatcmpl-R", "created": 7, "model": model}


def raw_events(parsed: list[Any]) -> list[str]:
    return [orjson.dumps(e).decode() if e is not None else "[DONE]" for e in parsed]


def test_restream_keeps_the_events_with_new_id_and_created() -> None:
    frames, times = restream(
        raw_events(EVENTS), EVENTS, [100, 200, 300], CHAT, from_chunks(EVENTS), False, 3
    )
    assert frames[0] == (
        b'data: {"id":"\\u0000rid\\u0000","object":"chat.completion.chunk",'
        b'"created":"\\u0000created\\u0000","model":"gpt-4o-2024","choices":[{"index":0,'
        b'"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}\n\n'
    )
    assert docs(frames) == [fresh(EVENTS[0]), fresh(EVENTS[1]), "[DONE]"]
    assert times == [100, 200, 300]


def test_restream_keeps_the_recorded_bytes() -> None:
    # as an upstream wrote it: raw UTF-8, a float orjson would write otherwise, odd key order
    data = (
        '{"id":"chatcmpl-old","created":1,"object":"chat.completion.chunk","model":"m",'
        '"choices":[{"index":0,"delta":{"content":"café"},"logprobs":{"content":'
        '[{"token":"café","logprob":-1.0E-5}]},"finish_reason":null}],"obfuscation":"x1"}'
    )
    doc = orjson.loads(data)
    frames, _ = restream([data, "[DONE]"], [doc, None], [1, 2], CHAT, from_chunks([doc]), False, 3)
    filled = Template(frames, [0, 0]).whole(b"chatcmpl-R", 7)
    assert (
        filled
        == b"data: "
        + data.replace("chatcmpl-old", "chatcmpl-R").replace('"created":1', '"created":7').encode()
        + b"\n\ndata: [DONE]\n\n"
    )
    kept, _ = restream([data], [doc], [1], CHAT, from_chunks([doc]), False, 3, fresh=False)
    assert kept[0] == b"data: " + data.encode() + b"\n\n"
    # spacing this cannot find its id in is written again, with the same fields
    spaced = '{"id": "chatcmpl-old", "created": 1, "choices": []}'
    again, _ = restream([spaced], [orjson.loads(spaced)], [1], CHAT, Answer([]), False, 3)
    assert docs(again) == [{"id": "chatcmpl-R", "created": 7, "choices": []}, "[DONE]"]


def test_restream_adds_a_usage_chunk_when_asked() -> None:
    frames, times = restream(
        raw_events(EVENTS), EVENTS, [100, 200, 300], CHAT, from_chunks(EVENTS), True, 3
    )
    got = docs(frames)
    assert got[2] == {
        "id": "chatcmpl-R",
        "object": "chat.completion.chunk",
        "created": 7,
        "model": "gpt-4o-2024",
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    assert got[3] == "[DONE]"
    assert times == [100, 200, 300, 300]


def test_restream_drops_the_recorded_usage_when_not_asked() -> None:
    frames, times = restream(
        raw_events(WITH_USAGE), WITH_USAGE, [1, 2, 3, 4], CHAT, from_chunks(WITH_USAGE), False, 3
    )
    got = docs(frames)
    assert got == [
        fresh({k: v for k, v in WITH_USAGE[0].items() if k != "usage"}),
        fresh({k: v for k, v in WITH_USAGE[1].items() if k != "usage"}),
        "[DONE]",
    ]
    assert times == [1, 2, 4]


def test_restream_keeps_the_recorded_usage_when_asked() -> None:
    frames, times = restream(
        raw_events(WITH_USAGE), WITH_USAGE, [1, 2, 3, 4], CHAT, from_chunks(WITH_USAGE), True, 3
    )
    got = docs(frames)
    assert got[2] == fresh(WITH_USAGE[2])
    assert got[2]["usage"] == USAGE
    assert len(got) == 4
    assert times == [1, 2, 3, 4]


def test_restream_of_nothing() -> None:
    assert restream([], [], [], CHAT, Answer([]), False, 0) == ([DONE], [0])


# -- assembled ---------------------------------------------------------------------------------
def test_assembled_chat_exact() -> None:
    assert assembled(HI, CHAT, "chatcmpl-1", 5, "gpt", 4) == (
        b'{"id":"chatcmpl-1","object":"chat.completion","created":5,"model":"gpt","choices":'
        b'[{"index":0,"message":{"role":"assistant","content":"Hi there","refusal":null,'
        b'"annotations":[]},"logprobs":null,"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}'
    )


def test_assembled_chat_tool_calls() -> None:
    assert orjson.loads(assembled(TOOL, CHAT, "chatcmpl-1", 5, None, 4)) == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 5,
        "model": None,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "annotations": [],
                    "tool_calls": TOOL.choices[0].tool_calls,
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 10, "total_tokens": 14},
        "system_fingerprint": "fp_1",
    }


def test_assembled_completions_exact() -> None:
    assert assembled(HI, COMPLETIONS, "cmpl-1", 5, "gpt", 4) == (
        b'{"id":"cmpl-1","object":"text_completion","created":5,"model":"gpt","choices":'
        b'[{"text":"Hi there","index":0,"logprobs":null,"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}'
    )


def test_assembled_of_a_restreamed_recording() -> None:
    events = [*WITH_USAGE[:3]]
    body = orjson.loads(assembled(from_chunks(events), CHAT, "chatcmpl-1", 5, "gpt", 1))
    assert body["choices"][0]["message"]["content"] == "Hel"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == USAGE


def test_live_order_puts_a_sorted_body_back_in_the_api_order() -> None:
    from sanic_mock.wire.replayed import live_order

    stored = {
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "logprobs": None,
                "message": {"content": "x", "refusal": None, "role": "assistant"},
            }
        ],
        "created": 1,
        "extra": True,
        "id": "i",
        "model": "m",
        "object": "chat.completion",
        "system_fingerprint": "fp",
        "usage": {"completion_tokens": 1, "prompt_tokens": 2, "total_tokens": 3},
    }
    doc = live_order(stored)
    assert list(doc) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "system_fingerprint",
        "extra",
    ]
    assert list(doc["choices"][0]) == ["index", "message", "logprobs", "finish_reason"]
    assert list(doc["choices"][0]["message"]) == ["role", "content", "refusal"]
    assert list(doc["usage"]) == ["prompt_tokens", "completion_tokens", "total_tokens"]
    assert list(live_order({"choices": [{"index": 0, "text": "t"}]})["choices"][0]) == [
        "text",
        "index",
    ]
    assert live_order([1]) == [1]
