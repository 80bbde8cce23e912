"""The `usage` object, as the real API writes it for each endpoint."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)  # a few distinct (prompt, completion) pairs in a typical load test
def chat_usage(prompt: int, completion: int, reasoning: int = 0) -> bytes:
    """`completion` includes the `reasoning` tokens, as the real API counts them."""
    return (
        b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,'
        b'"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},'
        b'"completion_tokens_details":{"reasoning_tokens":%d,"audio_tokens":0,'
        b'"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}'
    ) % (prompt, completion, prompt + completion, reasoning)


def completion_usage(prompt: int, completion: int) -> bytes:
    return b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}' % (
        prompt,
        completion,
        prompt + completion,
    )


def embedding_usage(prompt: int) -> bytes:
    return b'{"prompt_tokens":%d,"total_tokens":%d}' % (prompt, prompt)
