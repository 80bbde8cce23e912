"""The settings' shared parts: the default models, `SettingsError`, and the mode enums, each
parsed from its option text once by its `parse`."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1-mini",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-instruct",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
)


class SettingsError(ValueError):
    """An option value that cannot be served; the CLI prints it on one line and exits 2."""


def _raise_first(checks: list[tuple[bool, str]]) -> None:
    for ok, message in checks:
        if not ok:
            raise SettingsError(message)


E = TypeVar("E", bound=Enum)


def _choice(kind: type[E], text: str, message: str) -> E:
    try:
        return kind(text)
    except ValueError:
        raise SettingsError(message) from None


class ReplayMode(Enum):
    """`--replay`: answer with the recorded exchange matching the request, or sample any."""

    MATCH = "match"
    SAMPLE = "sample"

    @classmethod
    def parse(cls, text: str) -> ReplayMode:
        return _choice(cls, text, f"--replay must be match or sample, got {text!r}")


class MissPolicy(Enum):
    """`--on-miss`: a request no recorded exchange matches is sampled, refused or proxied."""

    SAMPLE = "sample"
    ERROR = "error"
    PROXY = "proxy"

    @classmethod
    def parse(cls, text: str) -> MissPolicy:
        return _choice(cls, text, f"--on-miss must be sample, error or proxy, got {text!r}")


class ReplayIds(Enum):
    """`--replay-ids`: replayed answers get a fresh response id and `created`, or keep the
    recorded ones (byte-exact replays of streams)."""

    FRESH = "fresh"
    RECORDED = "recorded"

    @classmethod
    def parse(cls, text: str) -> ReplayIds:
        return _choice(cls, text, f"--replay-ids must be fresh or recorded, got {text!r}")


class ReplayTiming(Enum):
    """`--replay-timing`: recorded answers at once, at the recorded times, or those times F."""

    NONE = "none"
    RECORDED = "recorded"
    SCALED = "scaled"

    @classmethod
    def parse(cls, text: str) -> tuple[ReplayTiming, float]:
        """`none | recorded | scaled:F` (F > 0) as the timing and its factor (1.0 unscaled)."""
        if text in ("none", "recorded"):
            return cls(text), 1.0
        factor = text.removeprefix("scaled:")
        if text.startswith("scaled:") and factor.replace(".", "", 1).isdigit():
            if float(factor) > 0:
                return cls.SCALED, float(factor)
        raise SettingsError(_timing_error(text))


def _timing_error(text: str) -> str:
    return f"--replay-timing must be none, recorded or scaled:F (F > 0), got {text!r}"


class TokenCount(Enum):
    """`--token-count`: prompts counted with the model's tokenizer, or ~4 characters a token."""

    EXACT = "exact"
    ESTIMATE = "estimate"

    @classmethod
    def parse(cls, text: str) -> TokenCount:
        return _choice(cls, text, f"--token-count must be exact or estimate, got {text!r}")


class Http2Engine(Enum):
    """`--http2-engine`: the ASGI server behind HTTP/2 (and, with hypercorn, HTTP/3)."""

    HYPERCORN = "hypercorn"
    GRANIAN = "granian"

    @classmethod
    def parse(cls, text: str) -> Http2Engine:
        names = ", ".join(engine.value for engine in cls)
        return _choice(cls, text, f"--http2-engine must be one of {names}, got {text!r}")


class LatencyDistribution(Enum):
    """`--latency-distribution`: how each gap is drawn around its mean (with a stddev)."""

    NORMAL = "normal"  # truncated at 0
    LOGNORMAL = "lognormal"  # with the given mean and stddev

    @classmethod
    def parse(cls, text: str) -> LatencyDistribution:
        return _choice(
            cls, text, f"--latency-distribution must be normal or lognormal, got {text!r}"
        )
