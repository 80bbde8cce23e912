"""Recorded Responses API answers rendered: verbatim streams, JSON made a stream, key order."""

from __future__ import annotations

from typing import Any

import orjson

from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.wire.replayed_responses import Fresh, as_sent, live_response, recording, restream
from tests.factories import call_item, message_item, response_exchange
from tests.spec import response_events

ASK = {"model": "gpt-4o", "input": "hi"}


def parsed(frames: list[bytes]) -> list[dict[str, Any]]:
    return response_events(b"".join(frames))


def test_a_recorded_stream_is_sent_verbatim_with_fresh_fields() -> None:
    ex = response_exchange({**ASK, "previous_response_id": "resp_zero"}, [call_item()])
    recorded = response_exchange(
        {**ASK, "previous_response_id": "resp_zero"}, [call_item()], stream=True
    )
    assert ex.body is not None and recorded.events is not None
    made = recording(recorded, fresh=True)
    frames = [made.marks.fill(f, "resp_new", 500, "resp_sent") for f in made.frames]
    got = parsed(frames)
    assert {e["response"]["id"] for e in got if "response" in e} == {"resp_new"}
    assert got[-1]["response"]["created_at"] == 500
    assert got[-1]["response"]["completed_at"] == 501  # as far after as recorded
    assert got[-1]["response"]["previous_response_id"] == "resp_sent"
    as_recorded = restream(
        recorded.events, [orjson.loads(e) for e in recorded.events], Fresh.of(None)
    )
    assert b"".join(as_recorded) == as_sent(recorded, stream=True)
    assert [f.split(b"\ndata: ", 1)[1][:-2].decode() for f in as_recorded] == list(recorded.events)


def test_json_bodies_get_the_api_key_order() -> None:
    ex = response_exchange(ASK, [message_item("x")])
    shuffled = orjson.loads(orjson.dumps(ex.body, option=orjson.OPT_SORT_KEYS))
    assert list(shuffled)[0] == "background"
    doc = live_response(shuffled)
    assert orjson.dumps(doc) == orjson.dumps(ex.body)
    count = live_response({"input_tokens": 3, "object": "response.input_tokens"})
    assert list(count) == ["object", "input_tokens"]
    assert orjson.loads(as_sent(ex, stream=False)) == ex.body
    assert parsed([as_sent(ex, stream=True)])[-1]["response"] == ex.body


def test_a_stream_spelled_another_way_still_gets_fresh_fields() -> None:
    recorded = response_exchange(ASK, [message_item("x")], stream=True)
    assert recorded.events is not None
    spaced = tuple(  # what a pretty-printing upstream might send
        orjson.dumps(orjson.loads(e), option=orjson.OPT_INDENT_2).decode() for e in recorded.events
    )
    made = recording(
        Exchange(
            recorded.endpoint, 200, recorded.request, events=spaced, times_us=recorded.times_us
        ),
        fresh=True,
    )
    got = [made.marks.fill(f, "resp_new", 500, None) for f in made.frames]
    finals = [orjson.loads(f.split(b"data: ", 1)[1]) for f in got if b"response.completed" in f]
    assert finals[0]["response"]["id"] == "resp_new"
    assert finals[0]["response"]["created_at"] == 500
    lines = b"".join(got).split(b"\n\n")[2].split(b"\n")  # output_item.added, indented
    assert lines[0] == b"event: response.output_item.added"
    assert all(line.startswith(b"data: ") for line in lines[1:]) and len(lines) > 3
