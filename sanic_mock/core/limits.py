"""Rate limits: `--rate-limit-rpm` and `--rate-limit-tpm` as token buckets, with the real API's
`x-ratelimit-*` headers and its 429.

Each bucket holds up to its limit and refills continuously at limit/60 per second, as the real
API's limits do; a request takes one request and its tokens as the real API counts them ahead
(`requested`): its prompt tokens (`usage.prompt_tokens`, the exact count of `tokens.py`) plus
the completion tokens it allows (`max_tokens`, `max_completion_tokens`, `max_output_tokens`)
when it says. A request the answerer does not read (a replayed answer, a status fault) is
estimated from its body size, ~4 bytes a token. Past either bucket the request is refused
with a 429 `rate_limit_exceeded` naming the limit, and nothing is taken. Every POST answer
carries `x-ratelimit-limit-*`, `x-ratelimit-remaining-*` and `x-ratelimit-reset-*` (the time
until the bucket is full again, in the real API's Go-style durations: `20ms`, `1s`, `6m0s`,
`1m30.5s`).

The buckets are per worker process: with `--workers N` a client spread over all workers sees
N times the limit (README).
"""

from __future__ import annotations

from sanic_mock.core.reply import Tally
from sanic_mock.errors import OpenAIError

Head = tuple[tuple[bytes, bytes], ...]


class RateLimited(OpenAIError):
    """A 429 of a bucket: `kind` "requests" or "tokens", when to retry, the bucket headers."""

    status = 429

    def __init__(self, message: str, kind: str, retry_after: int, head: Head) -> None:
        super().__init__(message, code="rate_limit_exceeded")
        self.type = kind
        self.retry_after = retry_after
        self.head = head


def duration(seconds: float) -> bytes:
    """`seconds` as the real API writes a reset time (Go's `time.Duration` text)."""
    ms = round(seconds * 1000)
    if ms < 1000:
        return b"%dms" % max(ms, 0)
    whole, ms = divmod(ms, 1000)
    minutes, whole = divmod(whole, 60)
    text = b"%d.%03d" % (whole, ms) if ms else b"%d" % whole
    if ms:
        text = text.rstrip(b"0")
    if not minutes:
        return text + b"s"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return b"%dh%dm%bs" % (hours, minutes, text)
    return b"%dm%bs" % (minutes, text)


def requested(tally: Tally | None, body_size: int) -> int:
    """The tokens a request takes from the bucket (see the module docstring)."""
    if tally is None:
        return -(-body_size // 4)
    return tally.prompt + (tally.limit or 0)


class Bucket:
    __slots__ = ("limit", "rate", "level", "at", "names")

    def __init__(self, limit: int, kind: str) -> None:
        self.limit = limit
        self.rate = limit / 60.0  # per second
        self.level = float(limit)
        self.at = 0.0
        self.names = tuple(
            f"x-ratelimit-{part}-{kind}".encode() for part in ("limit", "remaining", "reset")
        )

    def refill(self, now: float) -> None:
        if now > self.at:
            self.level = min(self.limit, self.level + (now - self.at) * self.rate)
            self.at = now

    def head(self) -> Head:
        limit, remaining, reset = self.names
        full_in = (self.limit - self.level) / self.rate
        return (
            (limit, b"%d" % self.limit),
            (remaining, b"%d" % int(self.level)),
            (reset, duration(full_in)),
        )


class Limits:
    """One worker's request and token buckets (either may be off: 0)."""

    def __init__(self, rpm: int, tpm: int, now: float) -> None:
        self.requests = Bucket(rpm, "requests") if rpm else None
        self.tokens = Bucket(tpm, "tokens") if tpm else None
        for bucket in (self.requests, self.tokens):
            if bucket is not None:
                bucket.at = now

    def take(self, wanted: int, now: float) -> Head:
        """Take one request of `wanted` tokens at `now`; its headers. `RateLimited` (with the
        headers as `error.head`) when a bucket has not enough left."""
        for bucket, need in ((self.requests, 1), (self.tokens, wanted)):
            if bucket is not None:
                bucket.refill(now)
                if bucket.level < need:
                    raise self._refused(bucket, need)
        for bucket, need in ((self.requests, 1), (self.tokens, wanted)):
            if bucket is not None:
                bucket.level -= need
        return self.head()

    def head(self) -> Head:
        head: Head = ()
        for bucket in (self.requests, self.tokens):
            if bucket is not None:
                head += bucket.head()
        return head

    def _refused(self, bucket: Bucket, need: int) -> RateLimited:
        per = "requests per min (RPM)" if bucket is self.requests else "tokens per min (TPM)"
        wait = duration((need - bucket.level) / bucket.rate).decode()
        used = bucket.limit - int(bucket.level)
        return RateLimited(
            f"Rate limit reached on {per}: Limit {bucket.limit}, Used {used}, Requested {need}. "
            f"Please try again in {wait}.",
            "requests" if bucket is self.requests else "tokens",
            max(1, -(-int((need - bucket.level) / bucket.rate * 1000) // 1000)),
            self.head(),
        )
