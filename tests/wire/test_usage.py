"""The `usage` object per endpoint, byte for byte."""

from __future__ import annotations

import orjson

from sanic_mock.wire.usage import chat_usage, completion_usage, embedding_usage


def test_chat_usage_exact() -> None:
    assert chat_usage(3, 5) == (
        b'{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8,'
        b'"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},'
        b'"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,'
        b'"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}'
    )


def test_chat_usage_parses() -> None:
    doc = orjson.loads(chat_usage(10, 0))
    assert (doc["prompt_tokens"], doc["completion_tokens"], doc["total_tokens"]) == (10, 0, 10)


def test_chat_usage_is_cached() -> None:
    assert chat_usage(7, 9) is chat_usage(7, 9)


def test_completion_usage_exact() -> None:
    assert completion_usage(4, 16) == (
        b'{"prompt_tokens":4,"completion_tokens":16,"total_tokens":20}'
    )


def test_embedding_usage_exact() -> None:
    assert embedding_usage(12) == b'{"prompt_tokens":12,"total_tokens":12}'
    assert embedding_usage(0) == b'{"prompt_tokens":0,"total_tokens":0}'
