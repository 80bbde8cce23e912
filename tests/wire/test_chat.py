"""wire/chat.py: the byte templates produce exactly what orjson would for the equivalent objects."""

from __future__ import annotations

import orjson
import pytest

from sanic_mock.corpus.pool import TextPool
from sanic_mock.corpus.pregen import generate
from sanic_mock.wire import chat
from sanic_mock.wire.chat import Meta
from sanic_mock.wire.plan import Choice
from sanic_mock.wire.requests import parse_chat

POOL = TextPool(generate(8, 0))
META = Meta(b"chatcmpl-abc", 1700000000, orjson.dumps('m "quoted"'), b"fp_0123456789")


def test_chat_body_equals_orjson_of_the_object() -> None:
    req = parse_chat(b'{"model":"m","messages":[{"role":"user","content":"hi"}],"n":2}')
    choices = [Choice(10, 30, "stop"), Choice(500, 4, "length")]
    body = chat.body(META, req, choices, POOL)
    doc = orjson.loads(body)
    assert orjson.dumps(doc) == body
    assert doc["choices"][1]["message"]["content"] == POOL.raw_text(500, 4).decode()
    assert doc["usage"]["completion_tokens"] == 34
    assert doc["model"] == 'm "quoted"'


def test_chat_stream_frames_parse_and_reassemble() -> None:
    req = parse_chat(
        b'{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,'
        b'"stream_options":{"include_usage":true}}'
    )
    choice = Choice(123, 9, "length")
    frames = chat.stream(META, req, [choice], POOL, [[2, 3, 4]], paced=True)
    assert len(frames) == 3  # one frame per token group
    events = b"".join(frames).split(b"\n\n")[:-1]
    assert events[-1] == b"data: [DONE]"
    chunks = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == POOL.raw_text(123, 9).decode()
    assert chunks[-1]["usage"]["completion_tokens"] == 9


@pytest.mark.parametrize("usage", [False, True])
@pytest.mark.parametrize(
    "choices",
    [
        [Choice(40, 12, "stop")],
        [Choice(40, 0, "stop", ())],  # a stop sequence cut everything
        [Choice(40, 12, "stop"), Choice(7, 3, "length")],
    ],
)
def test_unpaced_stream_is_one_frame_with_the_same_events(
    usage: bool, choices: list[Choice]
) -> None:
    options = b',"stream_options":{"include_usage":true}' if usage else b""
    req = parse_chat(
        b'{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true%s}' % options
    )
    groups: list[list[int] | None] = [None] * len(choices)
    paced = chat.stream(META, req, choices, POOL, groups, paced=True)
    (whole,) = chat.stream(META, req, choices, POOL, groups, paced=False)
    if len(choices) == 1:
        assert b"".join(paced) == whole
    else:  # unpaced, each choice's events run together; paced, they alternate step by step
        assert sorted(b"".join(paced).split(b"\n\n")) == sorted(whole.split(b"\n\n"))
    tokens = sum(c.tokens for c in choices)
    assert whole.count(b"data: ") == 2 * len(choices) + tokens + usage + 1  # role, finish, [DONE]
    for event in whole.split(b"\n\n")[:-2]:
        orjson.loads(event.removeprefix(b"data: "))
