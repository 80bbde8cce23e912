"""Where and how to listen, what answers are made from, their pacing, and TLS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sanic_mock.settings.modes import (
    DEFAULT_MODELS,
    Http2Engine,
    LatencyDistribution,
    SettingsError,
    TokenCount,
    _raise_first,
)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Where to listen, in how many workers, and what every request must bring."""

    host: str = "127.0.0.1"
    port: int = 3000
    workers: int = 1
    max_body_bytes: int = 16 * 1024 * 1024
    api_key: str | None = None
    verbose: bool = False
    models: tuple[str, ...] = DEFAULT_MODELS  # listed by /v1/models
    response_store_size: int = 10_000  # stored Responses API responses per worker
    metrics: bool = True  # GET /metrics (--no-metrics)
    # Where the workers of a multi-worker server leave their /metrics figures for each other;
    # made by the command for the server's lifetime (core/metrics.py). None: one worker.
    metrics_dir: Path | None = None

    def __post_init__(self) -> None:
        _raise_first(
            [
                (0 <= self.port <= 65535, f"--port must be between 0 and 65535, got {self.port}"),
                (len(self.models) >= 1, "--model needs at least one model id"),
                (all(m.strip() for m in self.models), "--model ids must not be empty"),
                (self.api_key is None or self.api_key != "", "--api-key must not be empty"),
                (self.workers >= 1, f"--workers must be at least 1, got {self.workers}"),
                (self.max_body_bytes >= 1024, "--max-body-bytes must be at least 1024"),
                (self.response_store_size >= 0, "--response-store-size must be >= 0"),
            ]
        )

    @property
    def authorization(self) -> str | None:
        """The `Authorization` header every request must carry (`--api-key`), or None."""
        return None if self.api_key is None else f"Bearer {self.api_key}"


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    """What answers are made from: a corpus file, or articles generated at start-up, and the
    draws of completion lengths and stream groups."""

    pregen_count: int = 4096
    token_mean: float = 256.0
    token_stddev: float = 64.0
    stream_tokens_min: int = 1
    stream_tokens_max: int = 1
    corpus: Path | None = None  # a corpus file (articles or recorded); None: generated
    # --seed: the articles and every draw (lengths, positions). None: the articles of seed 0 and
    # draws that differ on every start (each worker its own).
    seed: int | None = None
    token_count: TokenCount = TokenCount.EXACT
    # Where generated article corpora are kept between runs (None: generate every time).
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        n, low, high = self.pregen_count, self.stream_tokens_min, self.stream_tokens_max
        _raise_first(
            [
                (n >= 1, f"--pregen-count must be at least 1, got {n}"),
                (self.token_mean >= 1, f"--token-mean must be at least 1, got {self.token_mean}"),
                (
                    self.token_stddev >= 0,
                    f"--token-stddev must be >= 0, got {self.token_stddev}",
                ),
                (low >= 1, f"--stream-tokens-min must be at least 1, got {low}"),
                (
                    high >= low,
                    f"--stream-tokens-max ({high}) must be >= --stream-tokens-min ({low})",
                ),
                (self.seed is None or self.seed >= 0, f"--seed must be >= 0, got {self.seed}"),
            ]
        )
        if self.corpus is not None and not self.corpus.is_file():
            raise SettingsError(f"--corpus {self.corpus}: no such file")

    @property
    def article_seed(self) -> int:
        """The seed the generated articles are written from (0 unless --seed)."""
        return 0 if self.seed is None else self.seed


@dataclass(frozen=True, slots=True)
class TimingSettings:
    """The pacing of generated streams (replayed ones follow `ReplaySettings.timing`): the mean
    gaps, their spread, and the prefill time per prompt token."""

    response_delay_ms: float = 0.0
    # None: the first event waits the same as every other event (response_delay_ms).
    first_token_delay_ms: float | None = None
    first_token_stddev_ms: float = 0.0
    response_delay_stddev_ms: float = 0.0
    distribution: LatencyDistribution = LatencyDistribution.NORMAL
    prefill_ms_per_token: float = 0.0

    def __post_init__(self) -> None:
        first = self.first_token_delay_ms
        _raise_first(
            [
                (
                    self.response_delay_ms >= 0,
                    f"--response-delay-ms must be >= 0, got {self.response_delay_ms}",
                ),
                (first is None or first >= 0, f"--first-token-delay-ms must be >= 0, got {first}"),
                (
                    self.first_token_stddev_ms >= 0,
                    f"--first-token-stddev-ms must be >= 0, got {self.first_token_stddev_ms}",
                ),
                (
                    self.response_delay_stddev_ms >= 0,
                    f"--response-delay-stddev-ms must be >= 0, got {self.response_delay_stddev_ms}",
                ),
                (
                    self.prefill_ms_per_token >= 0,
                    f"--prefill-ms-per-token must be >= 0, got {self.prefill_ms_per_token}",
                ),
            ]
        )

    @property
    def first_delay_s(self) -> float:
        """Seconds before the first streamed event (the simulated time to first token)."""
        first = self.first_token_delay_ms
        return (self.response_delay_ms if first is None else first) / 1000.0

    @property
    def event_delay_s(self) -> float:
        """Seconds between two streamed events."""
        return self.response_delay_ms / 1000.0


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """TLS files and the protocols served: HTTP/2 (granian or hypercorn) and HTTP/3."""

    cert: Path | None = None
    key: Path | None = None
    # None: HTTP/2 with TLS, plain Sanic HTTP/1.1 without; see HTTP2.md.
    http2: bool | None = None
    http2_engine: Http2Engine | None = None  # None: granian, or hypercorn for --http3 (`engine`)
    http3: bool | None = None

    def __post_init__(self) -> None:
        tls = self.cert is not None
        hypercorn = self.engine is Http2Engine.HYPERCORN
        _raise_first(
            [
                (
                    (self.cert is None) == (self.key is None),
                    "--tls-cert and --tls-key must be given together (missing: "
                    + ("--tls-key" if self.key is None else "--tls-cert")
                    + ")",
                ),
                (
                    not self.http3 or tls,
                    "--http3 needs --tls-cert and --tls-key (QUIC is encrypted)",
                ),
                (
                    not self.http3 or self.serves_http2,
                    "--http3 is served next to HTTP/2; it cannot be combined with --no-http2",
                ),
                (
                    not self.http3 or hypercorn,
                    "--http3 is served by hypercorn; drop it or use --http2-engine hypercorn",
                ),
            ]
        )
        for path, name in ((self.cert, "--tls-cert"), (self.key, "--tls-key")):
            if path is not None and not path.is_file():
                raise SettingsError(f"{name} {path}: no such file")

    @property
    def serves_http2(self) -> bool:
        """HTTP/2 (and the ASGI engine) is on by default with TLS, off without (`--http2`)."""
        return self.cert is not None if self.http2 is None else self.http2

    @property
    def engine(self) -> Http2Engine:
        """The HTTP/2 server: the one asked for; else granian (the fast one, HTTP2.md), or
        hypercorn when HTTP/3 is asked for, which only hypercorn serves."""
        if self.http2_engine is not None:
            return self.http2_engine
        return Http2Engine.HYPERCORN if self.http3 else Http2Engine.GRANIAN

    @property
    def serves_http3(self) -> bool:
        """HTTP/3 is on by default wherever hypercorn serves TLS."""
        if self.http3 is not None:
            return self.http3
        hypercorn = self.engine is Http2Engine.HYPERCORN
        return self.cert is not None and self.serves_http2 and hypercorn
