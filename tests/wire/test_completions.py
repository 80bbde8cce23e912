"""wire/completions.py: the byte templates produce exactly what orjson would for the objects."""

from __future__ import annotations

import orjson

from sanic_mock.corpus.pool import TextPool
from sanic_mock.corpus.pregen import generate
from sanic_mock.wire import completions
from sanic_mock.wire.chat import Meta
from sanic_mock.wire.plan import Choice
from sanic_mock.wire.requests import parse_completion

POOL = TextPool(generate(8, 0))
META = Meta(b"chatcmpl-abc", 1700000000, orjson.dumps('m "quoted"'), b"fp_0123456789")


def test_completion_body_with_echo() -> None:
    req = parse_completion(b'{"model":"m","prompt":"Say \\"hi\\"","echo":true}')
    body = completions.body(META, req, [Choice(0, 3, "stop")], POOL)
    doc = orjson.loads(body)
    assert doc["choices"][0]["text"] == 'Say "hi"' + POOL.raw_text(0, 3).decode()
    assert orjson.dumps(doc) == body


def _events(frames: list[bytes]) -> list[bytes]:
    return b"".join(frames).split(b"\n\n")[:-1]


def test_stream_has_no_role_chunk_and_the_reason_only_at_the_end() -> None:
    req = parse_completion(
        b'{"model":"m","prompt":"hi","stream":true,"stream_options":{"include_usage":true}}'
    )
    frames = completions.stream(META, req, [Choice(5, 3, "length")], POOL, [None], paced=True)
    events = _events(frames)
    assert events[-1] == b"data: [DONE]"
    docs = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    text_chunks, finish, usage = docs[:3], docs[3], docs[4]
    assert len(docs) == 5
    assert [d["choices"][0]["text"] for d in text_chunks] == [
        p.decode() for p in POOL.raw_pieces(5, 3)
    ]
    for d in docs:
        assert d["object"] == "text_completion" and d["id"] == "chatcmpl-abc"
        assert d["created"] == 1700000000 and d["model"] == 'm "quoted"'
        assert d["system_fingerprint"] == "fp_0123456789"
    for d in text_chunks:
        assert "usage" not in d  # legacy chunks carry no `usage: null`
        assert d["choices"][0]["finish_reason"] is None
        assert d["choices"][0]["logprobs"] is None
    assert finish["choices"] == [
        {"text": "", "index": 0, "logprobs": None, "finish_reason": "length"}
    ]
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 3
    assert usage["usage"]["total_tokens"] == usage["usage"]["prompt_tokens"] + 3


def test_stream_echo_goes_out_with_the_first_event() -> None:
    req = parse_completion(b'{"model":"m","prompt":"Say","echo":true,"stream":true}')
    frames = completions.stream(META, req, [Choice(0, 2, "stop")], POOL, [None], paced=True)
    docs = [orjson.loads(e.removeprefix(b"data: ")) for e in _events(frames)[:-1]]
    texts = [d["choices"][0]["text"] for d in docs]
    first, second = (p.decode() for p in POOL.raw_pieces(0, 2))
    assert texts == ["Say" + first, second, ""]


def test_stream_with_nothing_generated_puts_the_echo_in_the_finish_chunk() -> None:
    req = parse_completion(b'{"model":"m","prompt":"Say","echo":true,"stream":true}')
    frames = completions.stream(META, req, [Choice(0, 0, "stop", ())], POOL, [None], paced=True)
    (finish,) = (orjson.loads(e.removeprefix(b"data: ")) for e in _events(frames)[:-1])
    assert finish["choices"] == [
        {"text": "Say", "index": 0, "logprobs": None, "finish_reason": "stop"}
    ]


def test_choices_are_ordered_prompt_by_prompt_and_echo_follows_the_prompt() -> None:
    req = parse_completion(b'{"model":"m","prompt":["A","B"],"n":2,"echo":true}')
    choices = [Choice(i * 10, 1, "stop") for i in range(4)]
    doc = orjson.loads(completions.body(META, req, choices, POOL))
    texts = [c["text"] for c in doc["choices"]]
    pieces = [POOL.raw_text(i * 10, 1).decode() for i in range(4)]
    assert texts == ["A" + pieces[0], "A" + pieces[1], "B" + pieces[2], "B" + pieces[3]]
    assert [c["index"] for c in doc["choices"]] == [0, 1, 2, 3]
    assert doc["usage"]["completion_tokens"] == 4
