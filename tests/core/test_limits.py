"""`core/limits.py`: token buckets for requests and tokens per minute, their headers in the real
API's formats, and the 429 past them."""

from __future__ import annotations

import pytest

from sanic_mock.core.limits import Limits, RateLimited, duration, requested
from sanic_mock.core.reply import Tally


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.02, b"20ms"),
        (0.0004, b"0ms"),
        (1, b"1s"),
        (2.1834, b"2.183s"),
        (360, b"6m0s"),
        (90.5, b"1m30.5s"),
        (3600 + 120 + 3, b"1h2m3s"),
    ],
)
def test_durations_as_the_real_api_writes_them(seconds: float, text: bytes) -> None:
    assert duration(seconds) == text


def test_requests_per_minute() -> None:
    limits = Limits(3, 0, now=100.0)
    heads = [dict(limits.take(40, 100.0)) for _ in range(3)]
    assert [h[b"x-ratelimit-remaining-requests"] for h in heads] == [b"2", b"1", b"0"]
    assert heads[0][b"x-ratelimit-limit-requests"] == b"3"
    assert heads[0][b"x-ratelimit-reset-requests"] == b"20s"  # one request back per 20 s
    assert heads[2][b"x-ratelimit-reset-requests"] == b"1m0s"
    assert b"x-ratelimit-limit-tokens" not in heads[0]
    with pytest.raises(RateLimited) as refused:
        limits.take(40, 110.0)
    error = refused.value
    assert (error.status, error.type, error.code) == (429, "requests", "rate_limit_exceeded")
    assert "Limit 3, Used 3" in error.message and error.retry_after == 10
    assert dict(error.head)[b"x-ratelimit-remaining-requests"] == b"0"
    assert dict(limits.take(40, 120.0))[b"x-ratelimit-remaining-requests"] == b"0"  # refilled 1


def test_tokens_per_minute_take_what_the_request_asks_for() -> None:
    limits = Limits(0, 600, now=0.0)
    head = dict(limits.take(200, 0.0))  # e.g. 100 prompt tokens and max_tokens 100
    assert head[b"x-ratelimit-remaining-tokens"] == b"400"
    assert head[b"x-ratelimit-reset-tokens"] == b"20s"
    limits.take(200, 0.0)
    with pytest.raises(RateLimited) as refused:
        limits.take(1100, 0.0)  # 1100 wanted, 200 left: nothing is taken
    assert refused.value.type == "tokens"
    assert "Requested 1100" in refused.value.message
    assert dict(limits.head())[b"x-ratelimit-remaining-tokens"] == b"200"


def test_a_request_asks_for_its_prompt_and_its_completion_limit() -> None:
    assert requested(Tally("m", 120, 7, "stop", 50), 4000) == 170  # the body size is not used
    assert requested(Tally("m", 120, 7, "stop"), 4000) == 120  # no max_tokens: the prompt
    assert requested(None, 4001) == 1001  # not read by the answerer: ~4 bytes a token
