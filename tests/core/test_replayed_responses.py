"""`ResponseReplay` without a server: recorded `/v1/responses` answers, chains and state."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from sanic_mock.core.recorded import RecordedError
from sanic_mock.core.replayed import ReplayAPI
from sanic_mock.core.reply import Unanswered
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.errors import InvalidRequest, NotFound
from tests import factories
from tests.factories import RESPONSES, call_item, message_item, response_exchange
from tests.spec import response_events, validate

TOOL = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
ASK = {"model": "gpt-4o", "input": "Weather in Oslo?", "tools": [TOOL]}
ANSWER = {
    "model": "gpt-4o",
    "previous_response_id": "resp_one",
    "input": [{"type": "function_call_output", "call_id": "call_rec", "output": "9C"}],
    "tools": [TOOL],
}


def make(tmp_path: Path, *exchanges: Exchange, **options: Any) -> ReplayAPI:
    return factories.replay_api(tmp_path / "r.corpus", *exchanges, **options)


def loop(stream: bool = False) -> tuple[Exchange, Exchange]:
    """A recorded two-turn tool loop: a function call, then (chained) the answer."""
    return (
        response_exchange(ASK, [call_item()], "resp_one", stream),
        response_exchange(ANSWER, [message_item("It is 9C.")], "resp_two", stream),
    )


def body(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc)


def frames_events(frames: list[bytes] | None) -> list[dict[str, Any]]:
    assert frames is not None
    return response_events(b"".join(frames))


@pytest.mark.parametrize("stream", [False, True])
def test_a_chained_loop_replays_with_the_fresh_ids_mapped_back(
    tmp_path: Path, stream: bool
) -> None:
    api = make(tmp_path, *loop(stream))
    first = api.responses(body({**ASK, "stream": stream}))
    assert first.headers[0] == (b"x-mock-replay", b"hit")
    one = orjson.loads(first.body) if not stream else frames_events(first.frames)[-1]["response"]
    validate("Response", one)
    assert one["id"] != "resp_one" and one["output"] == [call_item()]
    second = api.responses(body({**ANSWER, "previous_response_id": one["id"], "stream": stream}))
    assert second.headers[0] == (b"x-mock-replay", b"hit")
    two = orjson.loads(second.body) if not stream else frames_events(second.frames)[-1]["response"]
    assert two["output"][0]["content"][0]["text"] == "It is 9C."
    assert two["previous_response_id"] == one["id"]  # echoes the id the client sent
    stored = orjson.loads(api.store.retrieve(two["id"], ""))
    assert stored == two
    listed = orjson.loads(api.store.input_items(two["id"], ""))
    assert [i["type"] for i in listed["data"]] == ["function_call_output"]


def test_a_stream_asked_for_as_json_is_its_final_response(tmp_path: Path) -> None:
    api = make(tmp_path, response_exchange(ASK, [call_item()], "resp_one", stream=True))
    doc = orjson.loads(api.responses(body(ASK)).body)
    validate("Response", doc)
    assert doc["output"] == [call_item()] and doc["status"] == "completed"
    assert doc["completed_at"] - doc["created_at"] == 1  # moved with the fresh created_at


def test_the_same_kind_is_preferred(tmp_path: Path) -> None:
    plain = response_exchange(ASK, [message_item("plain")], "resp_a")
    streamed = response_exchange(ASK, [message_item("streamed")], "resp_b", stream=True)
    api = make(tmp_path, plain, streamed)
    assert b"plain" in api.responses(body(ASK)).body
    got = frames_events(api.responses(body({**ASK, "stream": True})).frames)
    assert got[-1]["response"]["output"][0]["content"][0]["text"] == "streamed"


def test_store_false_is_not_kept_and_replay_ids_recorded_keeps_the_ids(tmp_path: Path) -> None:
    api = make(tmp_path, *loop(), replay_ids="recorded")
    one = orjson.loads(api.responses(body({**ASK, "store": False})).body)
    assert one["id"] == "resp_one" and one["created_at"] == 100
    with pytest.raises(NotFound):
        api.store.retrieve("resp_one", "")
    two = orjson.loads(api.responses(body(ANSWER)).body)  # the recorded id, sent as recorded
    assert two["id"] == "resp_two" and two["previous_response_id"] == "resp_one"


def test_misses_follow_on_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    unknown = {**ASK, "input": "Something else"}
    strict = make(tmp_path, *loop(), on_miss="error")
    with caplog.at_level(logging.WARNING, logger="sanic_mock"):
        with pytest.raises(InvalidRequest) as caught:
            strict.responses(body(unknown))
    assert caught.value.code == "no_recorded_match" and "input" in caught.value.message
    assert caught.value.headers == ((b"x-mock-replay", b"miss"),)
    assert "replay miss on /v1/responses" in caplog.text
    with pytest.raises(Unanswered):
        proxied = make(tmp_path, *loop(), on_miss="proxy", upstream="http://127.0.0.1:9")
        proxied.responses(body(unknown))
    sampled = make(tmp_path, *loop())
    reply = sampled.responses(body({**unknown, "model": "gpt-4o-mini", "max_output_tokens": 16}))
    assert reply.headers == ((b"x-mock-replay", b"miss"),)
    doc = orjson.loads(reply.body)
    validate("Response", doc)
    assert doc["model"] == "gpt-4o-mini" and doc["usage"]["output_tokens"] <= 16
    assert not {i["id"] for i in doc["output"]} & {"fc_rec", "msg_rec"}  # fresh item ids
    with pytest.raises(InvalidRequest) as unknown_chain:  # the real API's 400, as generated
        sampled.responses(body({**unknown, "previous_response_id": "resp_nope"}))
    assert unknown_chain.value.code == "previous_response_not_found"


def test_a_sampled_answer_is_cut_to_max_output_tokens(tmp_path: Path) -> None:
    long = message_item(" ".join(["word"] * 40))
    api = make(tmp_path, response_exchange(ASK, [long]))
    request = {"model": "gpt-4o", "input": "unrecorded", "max_output_tokens": 16, "stream": True}
    got = frames_events(api.responses(body(request)).frames)
    final = got[-1]
    assert final["type"] == "response.incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    deltas = [e for e in got if e["type"] == "response.output_text.delta"]
    assert len(deltas) == 16 == final["response"]["usage"]["output_tokens"]


def test_recorded_timing_and_errors(tmp_path: Path) -> None:
    error = {"error": {"message": "Recorded failure.", "type": "server_error"}}
    failing = Exchange(RESPONSES, 500, {"model": "gpt-4o", "input": "fail"}, body=error)
    api = make(
        tmp_path,
        response_exchange(ASK, [call_item()], stream=True),
        failing,
        replay_timing="scaled:2",
    )
    reply = api.responses(body({**ASK, "stream": True}))
    assert reply.offsets is not None and reply.offsets[0] == pytest.approx(0.02)
    assert len(reply.offsets) == len(reply.frames or [])
    plain = api.responses(body(ASK))
    assert plain.first_delay == pytest.approx(reply.offsets[-1])  # as long as the stream
    with pytest.raises(RecordedError) as caught:
        api.responses(body({"model": "gpt-4o", "input": "fail"}))
    assert caught.value.status == 500


def test_input_tokens_hit_and_misses(tmp_path: Path) -> None:
    count = Exchange(
        RESPONSES + "/input_tokens",
        200,
        {"model": "gpt-4o", "input": "count me"},
        body={"input_tokens": 99, "object": "response.input_tokens"},
    )
    api = make(tmp_path, count)
    hit = api.input_tokens(body({"model": "gpt-4o", "input": "count me"}))
    assert hit.body == b'{"object":"response.input_tokens","input_tokens":99}'
    assert hit.headers[0] == (b"x-mock-replay", b"hit")
    counted = api.input_tokens(body({"model": "gpt-4o", "input": "other"}))
    assert counted.headers == ((b"x-mock-replay", b"miss"),)
    assert orjson.loads(counted.body)["input_tokens"] > 0
    with pytest.raises(InvalidRequest):
        make(tmp_path, count, on_miss="error").input_tokens(body({"model": "m", "input": "x"}))
