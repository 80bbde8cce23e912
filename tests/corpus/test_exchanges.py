"""corpus/exchanges.py: the `Exchange` record, its plain-map form and the stream checks."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import (
    Exchange,
    canonical_json,
    from_doc,
    ordered,
    parse_events,
    stream_finished,
    to_doc,
)
from tests.factories import CHAT, chunk, json_exchange, stream_exchange


def test_exchange_doc_round_trip() -> None:
    for ex in (json_exchange("a", "b"), stream_exchange()):
        assert from_doc(orjson.loads(orjson.dumps(to_doc(ex)))) == ex


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"endpoint": "v1/chat"}, "exchange endpoint 'v1/chat' does not start with '/'"),
        ({"status": 99}, "exchange status 99 is not an HTTP status"),
        ({"status": 600}, "exchange status 600 is not an HTTP status"),
        (
            {"events": ("a", "b"), "times_us": (1,)},
            "exchange has a different number of events and event times",
        ),
        ({"events": ("a", "b"), "times_us": (5, 4)}, "exchange event times go backwards"),
        ({"events": ("a",), "times_us": (-1,)}, "exchange has a negative time"),
        ({"duration_us": -1}, "exchange has a negative time"),
    ],
)
def test_an_impossible_exchange_is_refused(fields: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"endpoint": CHAT, "status": 200, **fields}
    with pytest.raises(CorpusError) as raised:
        Exchange(**args)
    assert str(raised.value) == message


def test_status_bounds_and_equal_times_are_accepted() -> None:
    Exchange(CHAT, 100)
    Exchange(CHAT, 599)
    Exchange(CHAT, 200, events=("a", "b"), times_us=(3, 3))


def test_streamed_ok_and_describe() -> None:
    assert stream_exchange().streamed and not json_exchange("a", "b").streamed
    assert [Exchange(CHAT, s).ok for s in (199, 200, 299, 300, 404)] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert json_exchange("a", "b").describe() == "POST /v1/chat/completions model=gpt-4o-mini"
    assert Exchange("/v1/models", 200, method="GET").describe() == "GET /v1/models"


def test_chunks_leave_out_done_and_unparsable_events() -> None:
    ex = Exchange(CHAT, 200, events=('{"a":1}', "not json", "[1]", "[DONE]"), times_us=(1, 2, 3, 4))
    assert ex.chunks() == [{"a": 1}, [1]]
    assert Exchange(CHAT, 200).chunks() == []
    assert parse_events(["[DONE]", "2", "{"]) == [2]


@pytest.mark.parametrize(
    ("events", "finished"),
    [
        ((), False),
        (("[DONE]",), True),
        ((chunk({"content": "a"}),), False),
        ((chunk({"content": "a"}), chunk({}, "stop")), True),
        ((chunk({}, "length"), "garbage after the end"), True),
        (('{"type":"response.output_text.delta"}', '{"type":"response.completed"}'), True),
        (('{"type":"response.output_text.delta"}',), False),
        (("[1, 2]", '"text"', "null"), False),
        (('{"choices":"x"}', '{"choices":[1, {"finish_reason":null}]}'), False),
    ],
)
def test_stream_finished(events: tuple[str, ...], finished: bool) -> None:
    assert stream_finished(events) is finished
    assert stream_finished(list(events)) is finished


def test_to_doc_leaves_out_what_is_unset() -> None:
    assert to_doc(Exchange(CHAT, 204)) == {
        "endpoint": CHAT,
        "method": "POST",
        "status": 204,
        "complete": True,
        "duration_us": 0,
    }
    ex = Exchange(
        CHAT,
        200,
        {"q": 1},
        headers=(("a", "1"), ("b", "2")),
        text="plain",
        events=("x",),
        times_us=(7,),
        duration_us=9,
        complete=False,
        model="m",
        usage={"total_tokens": 1},
    )
    assert to_doc(ex) == {
        "endpoint": CHAT,
        "method": "POST",
        "status": 200,
        "complete": False,
        "duration_us": 9,
        "request": {"q": 1},
        "headers": {"a": "1", "b": "2"},
        "text": "plain",
        "events": ["x"],
        "times_us": [7],
        "model": "m",
        "usage": {"total_tokens": 1},
    }
    assert from_doc(to_doc(ex)) == ex


def test_from_doc_fills_defaults_and_sorts_headers() -> None:
    ex = from_doc({"endpoint": CHAT, "status": 200, "headers": {"b": "2", "a": "1"}})
    assert ex == Exchange(CHAT, 200, headers=(("a", "1"), ("b", "2")))
    assert ex.method == "POST" and ex.complete and ex.events is None and ex.times_us == ()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "an exchange is not a map"),
        ({"status": 200}, "an exchange needs 'endpoint' and 'status'"),
        ({"endpoint": CHAT}, "an exchange needs 'endpoint' and 'status'"),
        ({"endpoint": CHAT, "status": "200"}, "field 'status' has the wrong type (str)"),
        ({"endpoint": CHAT, "status": True}, "field 'status' has the wrong type (bool)"),
        ({"endpoint": 1, "status": 200}, "field 'endpoint' has the wrong type (int)"),
        ({"endpoint": CHAT, "status": 200, "headers": {"a": 1}}, "exchange headers must map"),
        ({"endpoint": CHAT, "status": 200, "events": ["a", 1]}, "exchange events must be"),
        (
            {"endpoint": CHAT, "status": 200, "events": ["a"], "times_us": [False]},
            "exchange event times must be integers",
        ),
        ({"endpoint": CHAT, "status": 200, "request": b"\xff"}, "field 'request' is not JSON"),
        ({"endpoint": CHAT, "status": 200, "duration_us": 1.5}, "field 'duration_us' has"),
        ({"endpoint": CHAT, "status": 200, "complete": 1}, "field 'complete' has the wrong"),
        ({"endpoint": CHAT, "status": 200, "events": ["a"]}, "exchange has a different"),
    ],
)
def test_from_doc_raises_only_corpus_error(doc: Any, message: str) -> None:
    with pytest.raises(CorpusError) as raised:
        from_doc(doc)
    assert str(raised.value).startswith(message)


def test_canonical_json_sorts_keys() -> None:
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == b'{"a":{"c":3,"d":2},"b":1}'


def test_ordered_sorts_by_endpoint_then_request_and_keeps_repeats_in_order() -> None:
    first, second = json_exchange("same", "first"), json_exchange("same", "second")
    embed = Exchange("/v1/embeddings", 200, {"input": "a"})
    early = json_exchange("a", "x")
    assert ordered([embed, second, early, first]) == (early, second, first, embed)
    assert ordered((first, second)) == (first, second)
