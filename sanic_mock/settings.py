"""The frozen settings of every command: small parts, each validated once, composed and passed down.

`ServerSettings` (where and how to listen), `GenerationSettings` (what answers are made from),
`TimingSettings` (the pacing of generated streams), `FaultSettings` (failures on purpose and
per-request control headers), `LimitSettings` (rate limits), `ToolSettings` (when generated
answers call tools), `ReasoningSettings` (which models reason, and for how long),
`ReplaySettings` (answering from a recorded corpus), `RecordSettings` (the recording proxy) and
`TLSSettings` (TLS and the HTTP/2 and HTTP/3 engines) are composed by `Settings`, which checks
what spans parts. Mode options are `Enum`s, parsed from their option text once, by their
`parse`, with the one-line message of a bad value.

Built by `sanic_mock.cli` from the command line and `MOCK_OPENAI_*` variables; nothing else reads
the environment. Defaults are the original Rust server's (port 3000, 4096 pre-generated articles,
completion length ~ Normal(256, 64), no delay), so `Settings()` serves as `mock-openai serve`;
unlike it, answers start at a different place on every start unless `--seed` is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
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


class LatencyDistribution(Enum):
    """`--latency-distribution`: how each gap is drawn around its mean (with a stddev)."""

    NORMAL = "normal"  # truncated at 0
    LOGNORMAL = "lognormal"  # with the given mean and stddev

    @classmethod
    def parse(cls, text: str) -> LatencyDistribution:
        return _choice(
            cls, text, f"--latency-distribution must be normal or lognormal, got {text!r}"
        )


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


FAULT_TYPES: tuple[str, ...] = ("429", "500", "503", "stall", "reset", "truncate")


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Failures on purpose: the share of requests that fail (`rate`), how (`types`, chosen
    uniformly), how long a stall lasts, and whether `x-mock-*` request headers are obeyed."""

    rate: float = 0.0
    types: tuple[str, ...] = ("500",)
    stall_ms: float = 1000.0
    control_headers: bool = True

    def __post_init__(self) -> None:
        _raise_first(
            [
                (0 <= self.rate <= 1, f"--fault-rate must be between 0 and 1, got {self.rate}"),
                (len(self.types) >= 1, "--fault-type needs at least one type"),
                (
                    all(t in FAULT_TYPES for t in self.types),
                    "--fault-type must be one of "
                    + ", ".join(FAULT_TYPES)
                    + f", got {', '.join(t for t in self.types if t not in FAULT_TYPES)}",
                ),
                (self.stall_ms >= 0, f"--stall-ms must be >= 0, got {self.stall_ms}"),
            ]
        )


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Capacity and rate limits per worker (0: none): concurrent requests and the gap's stretch
    under load, requests and tokens per minute."""

    rpm: int = 0
    tpm: int = 0
    max_concurrency: int = 0
    load_factor: float = 1.0

    def __post_init__(self) -> None:
        _raise_first(
            [
                (self.rpm >= 0, f"--rate-limit-rpm must be >= 0, got {self.rpm}"),
                (self.tpm >= 0, f"--rate-limit-tpm must be >= 0, got {self.tpm}"),
                (
                    self.max_concurrency >= 0,
                    f"--max-concurrency must be >= 0, got {self.max_concurrency}",
                ),
                (self.load_factor > 0, f"--load-factor must be > 0, got {self.load_factor}"),
                (
                    self.load_factor == 1 or self.max_concurrency > 0,
                    "--load-factor needs --max-concurrency N (the load is running / N)",
                ),
            ]
        )


# `reasoning_effort` values, and the hidden reasoning tokens each spends by default.
REASONING_EFFORTS: tuple[str, ...] = ("none", "minimal", "low", "medium", "high", "xhigh")
DEFAULT_REASONING_TOKENS: tuple[tuple[str, int], ...] = (
    ("none", 0),
    ("minimal", 16),
    ("low", 128),
    ("medium", 384),
    ("high", 1024),
    ("xhigh", 2048),
)
# Model ids that reason, by prefix (as the real API's o-series and gpt-5 families).
REASONING_PREFIXES: tuple[str, ...] = ("o1", "o3", "o4", "gpt-5")


@dataclass(frozen=True, slots=True)
class ToolSettings:
    """When a generated answer calls tools: `call_rate` is the chance that `tool_choice: "auto"`
    calls one on a user turn; `max_parallel` the most calls in one answer."""

    call_rate: float = 1.0
    max_parallel: int = 1

    def __post_init__(self) -> None:
        rate, most = self.call_rate, self.max_parallel
        _raise_first(
            [
                (0 <= rate <= 1, f"--tool-call-rate must be between 0 and 1, got {rate}"),
                (most >= 1, f"--max-parallel-tool-calls must be at least 1, got {most}"),
            ]
        )


@dataclass(frozen=True, slots=True)
class ReasoningSettings:
    """Reasoning models: the ids (`REASONING_PREFIXES` and `models`), the hidden tokens spent per
    `reasoning_effort`, how long each takes (None: one `--response-delay-ms`), and whether the
    reasoning is streamed as `delta.reasoning_content`."""

    models: tuple[str, ...] = ()
    tokens: tuple[tuple[str, int], ...] = DEFAULT_REASONING_TOKENS
    delay_ms_per_token: float | None = None
    content: bool = False

    def __post_init__(self) -> None:
        delay = self.delay_ms_per_token
        _raise_first(
            [
                (
                    all(effort in REASONING_EFFORTS for effort, _ in self.tokens),
                    "--reasoning-tokens takes EFFORT=N with EFFORT one of "
                    + ", ".join(REASONING_EFFORTS),
                ),
                (all(n >= 0 for _, n in self.tokens), "--reasoning-tokens must be >= 0"),
                (
                    delay is None or delay >= 0,
                    f"--reasoning-delay-ms-per-token must be >= 0, got {delay}",
                ),
            ]
        )

    def reasons(self, model: str) -> bool:
        return model.startswith(REASONING_PREFIXES) or model in self.models

    def tokens_for(self, effort: str) -> int:
        return dict(self.tokens).get(effort, dict(DEFAULT_REASONING_TOKENS)[effort])

    @staticmethod
    def parse_tokens(items: list[str]) -> tuple[tuple[str, int], ...]:
        """`EFFORT=N` items over the defaults (a bad item is a `SettingsError`)."""
        table = dict(DEFAULT_REASONING_TOKENS)
        for item in items:
            effort, _, count = item.partition("=")
            if effort not in table or not count.isdigit():
                raise SettingsError(
                    f"--reasoning-tokens takes EFFORT=N with EFFORT one of "
                    f"{', '.join(REASONING_EFFORTS)}, got {item!r}"
                )
            table[effort] = int(count)
        return tuple(table.items())


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    """How a recorded corpus answers: matching, a miss, the timing, the fields not matched."""

    mode: ReplayMode = ReplayMode.MATCH
    on_miss: MissPolicy = MissPolicy.SAMPLE
    timing: ReplayTiming = ReplayTiming.NONE
    factor: float = 1.0  # `scaled:F`: F (the other timings ignore it)
    match_ignore: tuple[str, ...] = ()  # request fields left out of the match key (extra)
    ids: ReplayIds = ReplayIds.FRESH

    def __post_init__(self) -> None:
        if self.timing is ReplayTiming.SCALED and not self.factor > 0:
            raise SettingsError(_timing_error(f"scaled:{self.factor:g}"))

    @property
    def scale(self) -> float | None:
        """Factor on recorded times (`--replay-timing`); None: send at once."""
        if self.timing is ReplayTiming.NONE:
            return None
        return self.factor if self.timing is ReplayTiming.SCALED else 1.0


@dataclass(frozen=True, slots=True)
class RecordSettings:
    """The recording proxy (`record`, `serve --on-miss proxy`): its upstream and its output."""

    upstream: str | None = None  # base URL of the upstream API (record; --on-miss proxy)
    upstream_key: str | None = None  # sent as the upstream's bearer key instead of the client's
    out: Path | None = None  # `record --out`; None: record into --corpus
    append: bool = False

    def __post_init__(self) -> None:
        up = self.upstream
        if up is not None and not up.startswith(("http://", "https://")):
            raise SettingsError(f"--upstream must be an http:// or https:// URL, got {up!r}")


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """TLS files and the protocols served: HTTP/2 (hypercorn or granian) and HTTP/3."""

    cert: Path | None = None
    key: Path | None = None
    # None: HTTP/2 (and HTTP/3) with TLS, plain Sanic HTTP/1.1 without; see HTTP2.md.
    http2: bool | None = None
    http2_engine: Http2Engine = Http2Engine.HYPERCORN
    http3: bool | None = None

    def __post_init__(self) -> None:
        tls = self.cert is not None
        hypercorn = self.http2_engine is Http2Engine.HYPERCORN
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
    def serves_http3(self) -> bool:
        """HTTP/3 is on by default wherever hypercorn serves TLS."""
        if self.http3 is not None:
            return self.http3
        hypercorn = self.http2_engine is Http2Engine.HYPERCORN
        return self.cert is not None and self.serves_http2 and hypercorn


@dataclass(frozen=True, slots=True)
class Settings:
    """Every part of one command's settings, checked together where the parts meet."""

    server: ServerSettings = field(default_factory=ServerSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    timing: TimingSettings = field(default_factory=TimingSettings)
    tools: ToolSettings = field(default_factory=ToolSettings)
    reasoning: ReasoningSettings = field(default_factory=ReasoningSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    replay: ReplaySettings = field(default_factory=ReplaySettings)
    record: RecordSettings = field(default_factory=RecordSettings)
    tls: TLSSettings = field(default_factory=TLSSettings)
    # Write or load recorded exchanges even if they hold key-like strings (corpus loading,
    # replay and recording all read it).
    allow_secrets: bool = False

    def __post_init__(self) -> None:
        up = self.record.upstream
        proxy = self.replay.on_miss is MissPolicy.PROXY
        _raise_first(
            [
                (not proxy or up is not None, "--on-miss proxy needs --upstream URL"),
                (
                    up is None or self.record.out is not None or proxy,
                    "--upstream is used by `record` and by --on-miss proxy only",
                ),
                (
                    up is None or self.server.workers == 1,
                    "recording runs in one worker process (drop --workers)",
                ),
                (
                    up is None or not self.tls.serves_http2,
                    "recording runs on Sanic's HTTP/1.1 server (drop --http2 and --tls-cert)",
                ),
                (
                    not proxy or self.generation.corpus is not None,
                    "--on-miss proxy needs --corpus FILE (the recorded corpus it adds to)",
                ),
            ]
        )

    def with_port(self, port: int) -> Settings:
        """The same settings listening on `port` (the one a runner actually bound)."""
        return replace(self, server=replace(self.server, port=port))
