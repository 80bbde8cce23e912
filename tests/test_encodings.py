"""The shipped BPE files are OpenAI's, and load offline into tiktoken encodings."""

from __future__ import annotations

import base64
import hashlib

import pytest

from sanic_mock import encodings

# tiktoken 0.14.0, tiktoken_ext/openai_public.py: the SHA-256 it pins for each `.tiktoken` file.
OPENAI_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}


@pytest.mark.parametrize("name", encodings.NAMES)
def test_the_shipped_ranks_are_openais_file(name: str) -> None:
    ranks = encodings.read_ranks(name)
    lines = b"".join(
        base64.b64encode(token) + b" %d\n" % rank
        for token, rank in sorted(ranks.items(), key=lambda kv: kv[1])
    )
    assert hashlib.sha256(lines).hexdigest() == OPENAI_SHA256[name]


def test_encodings_load_without_network_and_tokenize_as_expected() -> None:
    o200k, cl100k = encodings.get("o200k_base"), encodings.get("cl100k_base")
    assert o200k.n_vocab == 200019 and cl100k.n_vocab == 100277
    # Known ids: "hello world" in both (tiktoken's README example for cl100k_base).
    assert cl100k.encode("hello world") == [15339, 1917]
    assert o200k.encode("hello world") == [24912, 2375]
    assert o200k.encode("<|endoftext|>", allowed_special="all") == [199999]
    assert encodings.get("o200k_base") is o200k  # loaded once


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-4.5-preview", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo-0125", "cl100k_base"),
        ("gpt-3.5-turbo-instruct", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("text-embedding-ada-002", "cl100k_base"),
        ("ft:gpt-3.5-turbo:acme::abc", "cl100k_base"),
        ("bench", "o200k_base"),
    ],
)
def test_models_map_to_encodings_as_the_api_does(model: str, name: str) -> None:
    assert encodings.encoding_name(model) == name


def test_an_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown encoding"):
        encodings.get("p50k_base")
