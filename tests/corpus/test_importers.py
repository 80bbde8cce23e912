"""Importing VCR cassettes and JSONL exchanges, and what importing any input raises."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any

import orjson
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sanic_mock.corpus import io, sse
from sanic_mock.corpus.answers import answer
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import to_doc
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.importers import endpoint_of, import_file
from tests.factories import (
    CHAT,
    STREAM_EVENTS,
    chat_body,
    chat_request,
    json_exchange,
    json_values,
)


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


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=3))
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
@given(st.lists(json_values, max_size=3))
def test_importing_any_cassette_raises_only_corpus_error(items: list[Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.json"
        path.write_bytes(orjson.dumps({"interactions": items}))
        try:
            import_file(path)
        except CorpusError:
            pass
