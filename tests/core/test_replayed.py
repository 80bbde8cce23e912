"""`ReplayAPI` without a server: what a recorded corpus answers, request bytes in, frames out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from sanic_mock.core.replayed import ReplayAPI
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.errors import InvalidRequest, OpenAIError
from sanic_mock.settings import SettingsError
from tests import factories
from tests.factories import CHAT, chat_request, json_exchange, stream_exchange

USAGE_CHUNK = orjson.dumps(
    {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
).decode()


def make(tmp_path: Path, *exchanges: Exchange, **options: Any) -> ReplayAPI:
    return factories.replay_api(tmp_path / "c.corpus", *exchanges, **options)


def events(frames: list[bytes] | None) -> list[Any]:
    assert frames is not None
    out = []
    for frame in b"".join(frames).split(b"\n\n"):
        if frame.startswith(b"data: "):
            data = frame[6:]
            out.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return out


def raw(**doc: Any) -> bytes:
    return orjson.dumps(doc)


def test_json_answer_with_fresh_id(tmp_path: Path) -> None:
    api = make(tmp_path, json_exchange("q", "Recorded text."))
    reply = api.chat(raw(**chat_request("q")))
    body = orjson.loads(reply.body)
    assert body["choices"][0]["message"]["content"] == "Recorded text."
    assert body["id"] != "chatcmpl-1" and body["id"].startswith("chatcmpl-")
    assert body["usage"]["total_tokens"] == 5
    assert reply.frames is None and reply.first_delay == 0


def test_json_answer_split_into_a_stream(tmp_path: Path) -> None:
    api = make(tmp_path, json_exchange("q", "Recorded text here."))
    request = chat_request("q", stream=True, stream_options={"include_usage": True})
    got = events(api.chat(raw(**request)).frames)
    assert got[-1] == "[DONE]"
    assert got[-2]["choices"] == [] and got[-2]["usage"]["total_tokens"] == 5
    deltas = [e["choices"][0]["delta"] for e in got[:-2]]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content", "") for d in deltas) == "Recorded text here."
    assert len(deltas) > 4
    assert got[-3]["choices"][0]["finish_reason"] == "stop"
    assert len({e["id"] for e in got[:-1]}) == 1


def test_stream_assembled_into_a_body(tmp_path: Path) -> None:
    api = make(tmp_path, stream_exchange())
    body = orjson.loads(api.chat(raw(**chat_request("stream me"))).body)
    message = body["choices"][0]["message"]
    assert message["content"] == "Hello"
    assert message["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a": 1}'}
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert body["usage"]["prompt_tokens"] > 0  # no usage recorded: estimated


def test_usage_chunk_follows_the_request(tmp_path: Path) -> None:
    ex = stream_exchange()
    assert ex.events is not None
    with_usage = Exchange(
        CHAT,
        200,
        ex.request,
        events=(*ex.events[:-1], USAGE_CHUNK, "[DONE]"),
        times_us=(1, 2, 3, 4, 5, 6, 7),
    )
    api = make(tmp_path, with_usage)
    plain = events(api.chat(raw(**chat_request("stream me", stream=True))).frames)
    assert all(e == "[DONE]" or e["choices"] for e in plain)
    asked = chat_request("stream me", stream=True, stream_options={"include_usage": True})
    with_chunk = events(api.chat(raw(**asked)).frames)
    assert with_chunk[-2]["usage"]["total_tokens"] == 3


def test_recorded_timing_becomes_frame_offsets(tmp_path: Path) -> None:
    api = make(tmp_path, stream_exchange(), replay_timing="scaled:2")
    reply = api.chat(raw(**chat_request("stream me", stream=True)))
    assert reply.offsets == (0.0002, 0.0004, 0.0006, 0.0008, 0.001, 0.0012)
    none = make(tmp_path, stream_exchange())
    assert none.chat(raw(**chat_request("stream me", stream=True))).offsets is None


def test_miss_policies(tmp_path: Path) -> None:
    exchanges = [json_exchange(str(i), f"answer {i}") for i in range(4)]
    sample = make(tmp_path, *exchanges)
    first = sample.chat(raw(**chat_request("unknown", model="gpt-4o"))).body
    again = sample.chat(raw(**chat_request("unknown", model="gpt-4o"))).body
    assert orjson.loads(first)["choices"] == orjson.loads(again)["choices"]
    assert orjson.loads(first)["model"] == "gpt-4o"  # a sampled answer echoes the asked model
    error = make(tmp_path, *exchanges, on_miss="error")
    with pytest.raises(InvalidRequest, match=r"differs in: messages\[0\]\.content") as caught:
        error.chat(raw(**chat_request("unknown")))
    assert caught.value.code == "no_recorded_match"
    with pytest.raises(OpenAIError, match="no successful answer for /v1/embeddings"):
        sample.embeddings(raw(model="e", input="x"))


def test_replay_sample_ignores_matching(tmp_path: Path) -> None:
    api = make(tmp_path, *[json_exchange(str(i), f"a{i}") for i in range(3)], replay="sample")
    texts = {
        orjson.loads(api.chat(raw(**chat_request("0"))).body)["choices"][0]["message"]["content"]
        for _ in range(30)
    }
    assert texts == {"a0", "a1", "a2"}


def test_recorded_error_keeps_its_status(tmp_path: Path) -> None:
    error = {"error": {"message": "Rate limit", "type": "requests", "param": None, "code": None}}
    api = make(tmp_path, Exchange(CHAT, 429, chat_request("q"), body=error))
    with pytest.raises(OpenAIError) as caught:
        api.chat(raw(**chat_request("q")))
    assert caught.value.status == 429 and orjson.loads(caught.value.render()) == error


def test_requests_are_validated_as_in_generated_mode(tmp_path: Path) -> None:
    api = make(tmp_path, json_exchange("q", "x"))
    with pytest.raises(InvalidRequest, match="messages"):
        api.chat(raw(model="gpt-4o-mini"))


def test_models_lists_the_recorded_ones(tmp_path: Path) -> None:
    api = make(tmp_path, json_exchange("q", "x"))
    ids = [m["id"] for m in orjson.loads(api.catalog.list_body)["data"]]
    assert ids[0] == "gpt-4o-mini"


def test_replay_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="--replay-timing"):
        factories.settings(replay_timing="scaled:0")
    with pytest.raises(SettingsError, match="--on-miss proxy needs --upstream"):
        factories.settings(on_miss="proxy")
    assert factories.settings(replay_timing="scaled:0.5").replay.scale == 0.5


def test_cached_stream_templates_get_fresh_ids_every_time(tmp_path: Path) -> None:
    import time

    for timing in ("none", "recorded"):
        api = make(
            tmp_path,
            stream_exchange(),
            json_exchange("q", "Some words here."),
            replay_timing=timing,
        )
        seen = set()
        for content in ("stream me", "q", "stream me", "q"):
            got = events(api.chat(raw(**chat_request(content, stream=True))).frames)
            assert got[-1] == "[DONE]"
            ids = {e["id"] for e in got[:-1]}
            assert len(ids) == 1 and not ids & seen
            seen |= ids
            assert all(abs(e["created"] - time.time()) < 5 for e in got[:-1])
        assert timing == "none" or api.scale == 1.0


def test_every_answer_says_hit_or_miss(tmp_path: Path) -> None:
    api = make(tmp_path, json_exchange("a", "one"), stream_exchange())
    assert api.chat(raw(**chat_request("a"))).headers == (
        (b"x-mock-replay", b"hit"),
        (b"x-mock-replay-exchange", b"0"),
    )
    streamed = api.chat(raw(**chat_request("stream me", stream=True)))
    assert dict(streamed.headers)[b"x-mock-replay-exchange"] == b"1"
    assert api.chat(raw(**chat_request("never"))).headers == ((b"x-mock-replay", b"miss"),)
    error = make(tmp_path, json_exchange("a", "one"), on_miss="error")
    with pytest.raises(InvalidRequest) as caught:
        error.chat(raw(**chat_request("never")))
    assert caught.value.headers == ((b"x-mock-replay", b"miss"),)


def test_a_miss_is_logged_once_per_distinct_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api = make(tmp_path, json_exchange("a", "one"))
    with caplog.at_level("WARNING", logger="sanic_mock"):
        for content in ("x", "x", "y", "x"):
            api.chat(raw(**chat_request(content)))
        api.chat(raw(**chat_request("a")))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all(r.levelname == "WARNING" for r in caplog.records)
    assert "exchange 0" in lines[0] and 'messages[0].content (recorded "a", got "x")' in lines[0]


def test_a_sampled_answer_is_fitted_to_the_request(tmp_path: Path) -> None:
    api = make(tmp_path, json_exchange("a", "One two three four five six."))
    request = chat_request("never", model="gpt-4o", max_completion_tokens=2, n=3)
    body = orjson.loads(api.chat(raw(**request)).body)
    assert list(body) == ["id", "object", "created", "model", "choices", "usage"]
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert {c["message"]["content"] for c in body["choices"]} == {"One two"}
    assert {c["finish_reason"] for c in body["choices"]} == {"length"}
    assert body["usage"]["completion_tokens"] == 6
    assert body["usage"]["prompt_tokens"] > 0  # the request's, not the recording's
    whole = orjson.loads(api.chat(raw(**chat_request("never"))).body)
    assert whole["choices"][0]["message"]["content"] == "One two three four five six."
    assert whole["choices"][0]["finish_reason"] == "stop"


def test_replay_ids_recorded_keeps_the_recorded_id_and_created(tmp_path: Path) -> None:
    api = make(tmp_path, json_exchange("a", "one"), stream_exchange(), replay_ids="recorded")
    body = orjson.loads(api.chat(raw(**chat_request("a"))).body)
    assert (body["id"], body["created"]) == ("chatcmpl-1", 1)
    frames = api.chat(raw(**chat_request("stream me", stream=True))).frames
    assert frames is not None
    ex = stream_exchange()
    assert b"".join(frames) == b"".join(b"data: %s\n\n" % e.encode() for e in ex.events or ())
    converted = orjson.loads(api.chat(raw(**chat_request("stream me"))).body)
    assert (converted["id"], converted["created"]) == ("c", 1)  # from the recorded chunks


def test_replayed_answers_tell_metrics_what_they_said(tmp_path: Path) -> None:
    """`/metrics` counts a replayed answer by its recorded usage (a hit) or the fitted one."""
    api = make(tmp_path, json_exchange("q", "Recorded text."), stream_exchange())
    hit = api.chat(raw(**chat_request("q"))).tally()
    recorded = json_exchange("q", "Recorded text.").usage
    assert hit is not None and hit.prompt == recorded["prompt_tokens"]
    assert (hit.completion, hit.finish) == (recorded["completion_tokens"], "stop")
    streamed = api.chat(raw(**chat_request("q", stream=True))).tally()
    assert streamed is not None and streamed.completion == hit.completion
    (tmp_path / "j").mkdir()
    only_json = make(tmp_path / "j", json_exchange("q", "Recorded text."))
    fitted = only_json.chat(raw(**chat_request("never", max_completion_tokens=1))).tally()
    assert fitted is not None and (fitted.completion, fitted.finish) == (1, "length")
    assert fitted.limit == 1


def test_a_hit_tells_metrics_the_limit_its_own_request_asked_for(tmp_path: Path) -> None:
    """With `max_tokens` off the match key, two requests with different limits hit the one
    recording; the token bucket charges each its own limit (`limits.cost`), not the first's."""
    api = make(tmp_path, json_exchange("q", "Recorded text."), match_ignore=("max_tokens",))
    limits = []
    for limit in (5, 500):
        tally = api.chat(raw(**chat_request("q", max_tokens=limit))).tally()
        assert tally is not None
        limits.append(tally.limit)
    assert limits == [5, 500]
