"""Secrets never reach a corpus file: the scan, the refusal, the header allowlist."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanic_mock.corpus import io
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.scrub import clean_request, find_secret, kept_headers
from tests.factories import (
    CHAT,
    json_exchange,
)


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
