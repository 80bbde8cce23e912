"""Recorded corpora without a server: the exchange format, files, secrets, match keys, answer
assembly, importers and the review views."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sanic_mock.corpus import io, sse
from sanic_mock.corpus.answers import answer
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import Exchange, from_doc, stream_finished, to_doc
from sanic_mock.corpus.format import FORMAT_VERSION, Articles, Corpus
from sanic_mock.corpus.importers import endpoint_of, import_file
from sanic_mock.corpus.index import Index, request_key
from sanic_mock.corpus.journal import read_journal
from sanic_mock.corpus.review import check, listing, show
from sanic_mock.corpus.scrub import clean_request, find_secret, kept_headers
from sanic_mock.endpoints import split_endpoint
from sanic_mock.record.proxy import upstream_base

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


# -- format and files --------------------------------------------------------------------------
def test_exchange_doc_round_trip() -> None:
    for ex in (json_exchange("a", "b"), stream_exchange()):
        assert from_doc(orjson.loads(orjson.dumps(to_doc(ex)))) == ex


def test_file_bytes_do_not_depend_on_exchange_order(tmp_path: Path) -> None:
    exchanges = [json_exchange("b", "2"), stream_exchange(), json_exchange("a", "1")]
    one = Corpus(kind="recorded", generator={"tool": "t"}, exchanges=tuple(exchanges))
    two = Corpus(kind="recorded", generator={"tool": "t"}, exchanges=tuple(exchanges[::-1]))
    assert io.dumps(one) == io.dumps(two)
    io.write(tmp_path / "c", one)
    loaded = io.read(tmp_path / "c")
    assert loaded.exchanges == one.exchanges
    assert io.dumps(loaded) == io.dumps(one)


def test_repeated_requests_keep_their_recorded_order() -> None:
    first, second = json_exchange("same", "first"), json_exchange("same", "second")
    corpus = Corpus(
        kind="recorded", generator={}, exchanges=(first, second, json_exchange("a", ""))
    )
    same = [
        e
        for e in io.loads(io.dumps(corpus)).exchanges
        if e.request["messages"][0]["content"] == "same"
    ]
    assert [answer(e).choices[0].text for e in same] == ["first", "second"]


def test_an_empty_recorded_corpus_is_refused() -> None:
    with pytest.raises(CorpusError, match="no exchanges"):
        Corpus(kind="recorded", generator={})


def test_version_1_articles_file_still_loads() -> None:
    text = b"Hello world."
    ends = np.array([5, 11, 12], dtype="<u4")
    v1 = {
        "format": "mock-openai-corpus",
        "version": 1,
        "kind": "articles",
        "generator": {"seed": 0},
        "articles": {
            "text": text,
            "piece_ends": ends.tobytes(),
            "article_ends": np.array([3], dtype="<u4").tobytes(),
        },
    }
    corpus = io.loads(msgpack.packb(v1, use_bin_type=True))
    assert corpus.kind == "articles" and corpus.articles is not None
    assert corpus.articles.piece_ends.tolist() == [5, 11, 12]
    assert FORMAT_VERSION == 2


def test_articles_corpus_round_trips() -> None:
    articles = Articles(b"ab", np.array([1, 2], np.uint32), np.array([2], np.uint32))
    corpus = Corpus(kind="articles", generator={}, articles=articles)
    again = io.loads(io.dumps(corpus))
    assert again.articles is not None and again.articles.text == b"ab" and not again.exchanges


def test_a_newer_version_asks_for_an_upgrade() -> None:
    doc = {"format": "mock-openai-corpus", "version": 99, "kind": "recorded"}
    with pytest.raises(CorpusError, match="please upgrade"):
        io.loads(msgpack.packb(doc))


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["endpoint", "status", "request", "events", "times_us", "body", "complete", "headers"]
        ),
        _json | st.binary(max_size=4),
        max_size=8,
    )
)
def test_loading_any_exchange_map_raises_only_corpus_error(item: dict[str, Any]) -> None:
    doc = {"format": "mock-openai-corpus", "version": 2, "kind": "recorded", "exchanges": [item]}
    try:
        io.loads(msgpack.packb(doc, use_bin_type=True))
    except CorpusError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64))
def test_loading_any_bytes_raises_only_corpus_error(data: bytes) -> None:
    try:
        io.loads(data)
    except CorpusError:
        pass


# -- secrets ------------------------------------------------------------------------------------
def test_secret_scan_names_the_field() -> None:
    leaky = json_exchange("a", "here: sk-proj-abcdefghijklmnopqrstuvwx")
    assert find_secret(leaky) == "response body: sk-proj…uvwx"
    bearer = Exchange(CHAT, 200, {"note": "Bearer abcdefghijklmnopqrstu"}, body={})
    assert (find_secret(bearer) or "").startswith("request: ")
    assert find_secret(json_exchange("sk-learn is a library", "a Bearer token")) is None


def test_writing_and_loading_refuse_secrets(tmp_path: Path) -> None:
    leaky = json_exchange("a", "sk-abcdefghijklmnopqrstuvwxyz")
    corpus = Corpus(kind="recorded", generator={}, exchanges=(json_exchange("b", "ok"), leaky))
    with pytest.raises(CorpusError, match=r"exchange 0 \(POST /v1/chat/completions"):
        io.write(tmp_path / "x", corpus)
    assert not (tmp_path / "x").exists()
    io.write(tmp_path / "x", corpus, allow_secrets=True)
    with pytest.raises(CorpusError, match="--allow-secrets"):
        io.read(tmp_path / "x")
    assert len(io.read(tmp_path / "x", allow_secrets=True).exchanges) == 2


def test_header_allowlist_and_credential_fields() -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("Set-Cookie", "a=b"),
        ("OpenAI-Organization", "org"),
        ("openai-project", "p"),
        ("Authorization", "Bearer x"),
        ("openai-model", "m"),
    ]
    assert kept_headers(headers) == (("content-type", "application/json"), ("openai-model", "m"))
    assert clean_request({"model": "m", "api_key": "k"}) == {"model": "m"}


# -- matching -----------------------------------------------------------------------------------
def test_keys_ignore_streaming_and_volatile_fields_only() -> None:
    base = request_key(CHAT, chat_request(), frozenset({"stream", "user"}))
    same = chat_request(stream=True, user="u", temperature=1.0)
    assert request_key(CHAT, same, frozenset({"stream", "user"})) != base  # temperature counts
    assert (
        request_key(CHAT, chat_request(stream=True, user="x"), frozenset({"stream", "user"}))
        == base
    )
    assert request_key(CHAT, chat_request(temperature=1), frozenset()) == request_key(
        CHAT, chat_request(temperature=1.0), frozenset()
    )
    tools = chat_request(tools=[{"type": "function", "function": {"name": "f"}}])
    assert request_key(CHAT, tools, frozenset()) != request_key(CHAT, chat_request(), frozenset())


def test_repeats_walk_through_answers_then_cycle() -> None:
    index = Index([json_exchange("q", "one"), json_exchange("q", "two")])
    texts = [
        answer(index.match(CHAT, chat_request("q")) or stream_exchange()).choices[0].text
        for _ in range(5)
    ]
    assert texts == ["one", "two", "one", "two", "one"]
    assert index.match(CHAT, chat_request("other")) is None


def test_incomplete_exchanges_are_not_served() -> None:
    cut = Exchange(CHAT, 200, chat_request("q"), events=("{}",), times_us=(1,), complete=False)
    assert Index([cut]).match(CHAT, chat_request("q")) is None


def test_sample_is_stable_per_request_and_explain_names_fields() -> None:
    index = Index([json_exchange(str(i), str(i), temperature=0.5) for i in range(6)])
    picks = {index.sample(CHAT, chat_request("zzz")) for _ in range(3)}
    assert len(picks) == 1
    message, param = index.explain(CHAT, chat_request("3", temperature=0.7))
    assert "exchange 3" in message and "temperature (recorded 0.5, got 0.7)" in message
    assert param == "temperature"
    message, _ = index.explain("/v1/embeddings", {"input": "x"})
    assert "No recorded exchange for /v1/embeddings" in message


# -- answers ------------------------------------------------------------------------------------
def test_stream_assembles_content_and_tool_calls() -> None:
    ans = answer(stream_exchange())
    (choice,) = ans.choices
    assert choice.text == "Hello" and choice.finish_reason == "tool_calls"
    assert choice.tool_calls == [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    ]
    assert stream_finished(STREAM_EVENTS) and not stream_finished(STREAM_EVENTS[:2])


# -- proxy helpers ------------------------------------------------------------------------------
def test_proxy_paths_and_sse_parsing() -> None:
    assert upstream_base("http://h:1") == "http://h:1/v1"
    assert upstream_base("https://openrouter.ai/api/v1/") == "https://openrouter.ai/api/v1"
    assert split_endpoint("/v1/chat/completions") == (CHAT, "/chat/completions")
    assert split_endpoint("/chat/completions") == (CHAT, "/chat/completions")
    assert sse.event_data(b": keep-alive\n\n") is None
    assert sse.event_data(b"event: x\r\ndata: a\r\ndata: b\r\n\r\n") == "a\nb"


def test_journal_skips_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "j.journal"
    good = orjson.dumps(to_doc(json_exchange("a", "b")))
    path.write_bytes(good + b"\n" + good[:20])
    assert len(read_journal(path)) == 1


# -- importers ----------------------------------------------------------------------------------
def _sse(events: tuple[str, ...]) -> str:
    return "".join(f"data: {e}\n\n" for e in events)


def test_import_vcr_yaml_with_gzip_base64_and_streams(tmp_path: Path) -> None:
    gz = gzip.compress(orjson.dumps(chat_body("zipped")))
    cassette = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": "https://api.openai.com/v1/chat/completions",
                    "body": orjson.dumps(chat_request("a")).decode(),
                    "headers": {"Authorization": ["Bearer sk-should-never-be-imported-000"]},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Encoding": ["gzip"], "Set-Cookie": ["x=y"]},
                    "body": {"string": gz},
                },
            },
            {
                "request": {
                    "method": "POST",
                    "uri": "https://openrouter.ai/api/v1/chat/completions",
                    "body": orjson.dumps(chat_request("b", stream=True)),
                },
                "response": {
                    "status": {"code": 200},
                    "headers": {"Content-Type": ["text/event-stream"]},
                    "body": {"string": _sse(STREAM_EVENTS)},
                },
            },
            {
                "request": {
                    "method": "POST",
                    "uri": "http://localhost:11434/v1/embeddings",
                    "body": '{"model": "e", "input": "x"}',
                },
                "response": {
                    "status": {"code": 200},
                    "headers": {},
                    "body": {
                        "base64_string": base64.b64encode(
                            b'{"object":"list","data":[{"object":"embedding","index":0,'
                            b'"embedding":[0.5]}],"model":"e"}'
                        ).decode()
                    },
                },
            },
        ],
    }
    path = tmp_path / "cassette.yaml"
    path.write_text(yaml.safe_dump(cassette))
    json_path = tmp_path / "cassette.json"
    json_path.write_bytes(
        orjson.dumps({"interactions": cassette["interactions"][2:]})  # bytes-free part
    )
    one, two, three = import_file(path)
    assert answer(one).choices[0].text == "zipped" and one.headers == ()
    assert two.endpoint == CHAT and two.events == STREAM_EVENTS and two.complete
    assert three.endpoint == "/v1/embeddings" and three.model == "e"
    assert import_file(json_path)[0] == three
    corpus = Corpus(kind="recorded", generator={}, exchanges=(one, two, three))
    assert b"sk-should-never" not in io.dumps(corpus)


def test_import_jsonl_short_form(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    lines = [
        {"request": chat_request("a"), "response": chat_body("A")},
        {"request": chat_request("b", stream=True), "sse": _sse(STREAM_EVENTS)},
        to_doc(json_exchange("c", "C")),
    ]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    a, b, c = import_file(path)
    assert a.endpoint == CHAT and a.model == "gpt-4o-mini" and a.usage is not None
    assert b.streamed and answer(b).choices[0].text == "Hello"
    assert c == json_exchange("c", "C")


def test_helpers_of_importers() -> None:
    assert endpoint_of("https://x/api/v1/embeddings?x=1") == "/v1/embeddings"
    assert sse.events("data: a\r\n\r\n: c\n\ndata: b\n\n") == ["a", "b"]


# -- review -------------------------------------------------------------------------------------
def test_listing_show_and_check() -> None:
    bad = Exchange(CHAT, 200, chat_request("x"), body={"object": "nope"})
    corpus = Corpus(kind="recorded", generator={"tool": "t"}, exchanges=(stream_exchange(), bad))
    lines = listing(corpus)
    assert len(lines) == 2 and "stream 6 events, first 0ms" in "".join(lines)
    shown = orjson.loads(show(corpus))
    assert shown["kind"] == "recorded" and len(shown["exchanges"]) == 2
    problems = check(corpus)
    assert problems and all(p.startswith("exchange ") for p in problems)
    assert any("expected 'chat.completion'" in p for p in problems)
    assert check(Corpus(kind="recorded", generator={}, exchanges=(stream_exchange(),))) == []


# -- fuzzing ------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(st.lists(_json, min_size=1, max_size=3))
def test_importing_any_jsonl_raises_only_corpus_error(lines: list[Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.jsonl"
        path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
        try:
            import_file(path)
        except CorpusError:
            pass


@settings(max_examples=150, deadline=None)
@given(st.lists(_json, max_size=3))
def test_importing_any_cassette_raises_only_corpus_error(items: list[Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.json"
        path.write_bytes(orjson.dumps({"interactions": items}))
        try:
            import_file(path)
        except CorpusError:
            pass
