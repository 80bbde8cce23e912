"""`mock-openai serve`: its options, the `Settings` parts made from them, and the runner chosen.

Every option also comes from `MOCK_OPENAI_<NAME>` (the original server's names, e.g.
`MOCK_OPENAI_PREG_COUNT`). Mode options arrive as text and are parsed here, once, into the enums
of `sanic_mock.settings`; a bad value is a `SettingsError` (one line, exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sanic_mock.cli.options import (
    ENV,
    AllowSecretsOption,
    UpstreamKeyEnvOption,
    VersionOption,
    default_cache_dir,
    upstream_key,
)
from sanic_mock.settings import (
    DEFAULT_MODELS,
    FaultSettings,
    GenerationSettings,
    Http2Engine,
    LatencyDistribution,
    LimitSettings,
    MissPolicy,
    ReasoningSettings,
    RecordSettings,
    ReplayMode,
    ReplaySettings,
    ReplayTiming,
    ServerSettings,
    Settings,
    TimingSettings,
    TLSSettings,
    ToolSettings,
)

Port = Annotated[int, typer.Option("-p", "--port", envvar=ENV + "PORT", help="TCP port.")]
Host = Annotated[str, typer.Option(envvar=ENV + "HOST", help="Address to bind.")]
PregenCount = Annotated[
    int,
    typer.Option(
        envvar=[ENV + "PREG_COUNT", ENV + "PREGEN_COUNT"],
        help="Articles generated at start-up when no --corpus is given.",
    ),
]
TokenMean = Annotated[
    float, typer.Option(envvar=ENV + "TOKEN_MEAN", help="Mean completion length (tokens).")
]
TokenStddev = Annotated[
    float, typer.Option(envvar=ENV + "TOKEN_STDDEV", help="Stddev of completion length.")
]
ResponseDelayMs = Annotated[
    float,
    typer.Option(envvar=ENV + "RESPONSE_DELAY_MS", help="Delay between streamed events (ms)."),
]
FirstTokenDelayMs = Annotated[
    Optional[float],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option(
        envvar=ENV + "FIRST_TOKEN_DELAY_MS",
        help="Delay before the first event (ms); default: --response-delay-ms.",
    ),
]
StreamTokensMin = Annotated[
    int, typer.Option(envvar=ENV + "STREAM_TOKENS_MIN", help="Fewest tokens per SSE event.")
]
StreamTokensMax = Annotated[
    int, typer.Option(envvar=ENV + "STREAM_TOKENS_MAX", help="Most tokens per SSE event.")
]
CorpusFile = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(envvar=ENV + "CORPUS", help="Corpus file to serve (default: generated)."),
]
Seed = Annotated[int, typer.Option(envvar=ENV + "SEED", help="Seed for articles and draws.")]
CacheDir = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        envvar=ENV + "CACHE_DIR",
        help="Where the generated corpus is cached between runs "
        "[default: $XDG_CACHE_HOME/mock-openai or ~/.cache/mock-openai].",
    ),
]
NoCache = Annotated[
    bool, typer.Option(envvar=ENV + "NO_CACHE", help="Generate the corpus on every start.")
]
Models = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--model",
        envvar=ENV + "MODEL",
        help="Model id listed by /v1/models (repeatable; env: space-separated).",
    ),
]
ApiKey = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(envvar=ENV + "API_KEY", help="Require 'Authorization: Bearer <key>'."),
]
Workers = Annotated[int, typer.Option(envvar=ENV + "WORKERS", help="Worker processes.")]
MaxBodyBytes = Annotated[
    int, typer.Option(envvar=ENV + "MAX_BODY_BYTES", help="Largest request body (413 above).")
]
TLSCert = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(envvar=ENV + "TLS_CERT", help="PEM certificate (with --tls-key)."),
]
TLSKey = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(envvar=ENV + "TLS_KEY", help="PEM private key (with --tls-cert)."),
]
HTTP2 = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--http2/--no-http2",
        envvar=ENV + "HTTP2",
        help="Serve HTTP/2 (h2c without TLS). Default: on with TLS; --no-http2 with TLS "
        "serves HTTPS/1.1 on Sanic alone.",
        show_default=False,
    ),
]
HTTP2EngineName = Annotated[
    str, typer.Option(envvar=ENV + "HTTP2_ENGINE", help="HTTP/2 server: hypercorn or granian.")
]
HTTP3 = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--http3/--no-http3",
        envvar=ENV + "HTTP3",
        help="Serve HTTP/3 on UDP, same port. Default: on with TLS and hypercorn.",
        show_default=False,
    ),
]
Replay = Annotated[
    str,
    typer.Option(
        envvar=ENV + "REPLAY",
        help="Recorded corpus: 'match' requests to recorded ones, or 'sample' any answer.",
    ),
]
OnMiss = Annotated[
    str,
    typer.Option(
        envvar=ENV + "ON_MISS",
        help="Recorded corpus, unmatched request: sample | error | proxy (with --upstream).",
    ),
]
ReplayTimingText = Annotated[
    str,
    typer.Option(
        envvar=ENV + "REPLAY_TIMING",
        help="Recorded corpus: none | recorded | scaled:F (recorded gaps times F).",
    ),
]
MatchIgnore = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--match-ignore",
        envvar=ENV + "MATCH_IGNORE",
        help="Request field left out of matching, besides stream, user, metadata... (repeatable).",
    ),
]
Upstream = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(envvar=ENV + "UPSTREAM", help="Upstream base URL for --on-miss proxy."),
]
ToolCallRate = Annotated[
    float,
    typer.Option(
        envvar=ENV + "TOOL_CALL_RATE",
        help="Chance that tool_choice 'auto' calls a tool on a user turn (0-1).",
    ),
]
MaxParallelToolCalls = Annotated[
    int,
    typer.Option(
        envvar=ENV + "MAX_PARALLEL_TOOL_CALLS",
        help="Most tool calls in one answer when parallel_tool_calls is on.",
    ),
]
ReasoningModels = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--reasoning-model",
        envvar=ENV + "REASONING_MODEL",
        help="Model id that reasons, besides o1*, o3*, o4*, gpt-5* (repeatable).",
    ),
]
ReasoningTokens = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--reasoning-tokens",
        envvar=ENV + "REASONING_TOKENS",
        help="Hidden reasoning tokens per effort, EFFORT=N (repeatable); defaults: none=0 "
        "minimal=16 low=128 medium=384 high=1024 xhigh=2048.",
    ),
]
ReasoningDelay = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        envvar=ENV + "REASONING_DELAY_MS_PER_TOKEN",
        help="Time per reasoning token (ms); default: --response-delay-ms.",
    ),
]
ReasoningContent = Annotated[
    bool,
    typer.Option(
        "--reasoning-content",
        envvar=ENV + "REASONING_CONTENT",
        help="Show the reasoning as delta.reasoning_content (vLLM's field).",
    ),
]
FirstTokenStddevMs = Annotated[
    float,
    typer.Option(
        envvar=ENV + "FIRST_TOKEN_STDDEV_MS", help="Stddev of the time to first token (ms)."
    ),
]
ResponseDelayStddevMs = Annotated[
    float,
    typer.Option(
        envvar=ENV + "RESPONSE_DELAY_STDDEV_MS", help="Stddev of the gap between events (ms)."
    ),
]
LatencyDistributionName = Annotated[
    str,
    typer.Option(
        envvar=ENV + "LATENCY_DISTRIBUTION",
        help="How gaps are drawn with a stddev: normal (truncated at 0) or lognormal.",
    ),
]
PrefillMsPerToken = Annotated[
    float,
    typer.Option(
        envvar=ENV + "PREFILL_MS_PER_TOKEN",
        help="Added to the first-token wait per prompt token (ms); embeddings wait this long.",
    ),
]
FaultRate = Annotated[
    float,
    typer.Option(envvar=ENV + "FAULT_RATE", help="Share of POST requests that fail (0-1)."),
]
FaultTypes = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--fault-type",
        envvar=ENV + "FAULT_TYPE",
        help="How a faulty request fails: 429, 500, 503, stall, reset, truncate (repeatable, "
        "chosen uniformly; default 500).",
    ),
]
StallMs = Annotated[
    float, typer.Option(envvar=ENV + "STALL_MS", help="How long a stall fault stops (ms).")
]
NoControlHeaders = Annotated[
    bool,
    typer.Option(
        "--no-control-headers",
        envvar=ENV + "NO_CONTROL_HEADERS",
        help="Ignore the x-mock-* request headers (delays, tokens, faults).",
    ),
]
RateLimitRpm = Annotated[
    int,
    typer.Option(
        envvar=ENV + "RATE_LIMIT_RPM", help="Requests per minute per worker (0: no limit)."
    ),
]
RateLimitTpm = Annotated[
    int,
    typer.Option(envvar=ENV + "RATE_LIMIT_TPM", help="Tokens per minute per worker (0: no limit)."),
]
MaxConcurrency = Annotated[
    int,
    typer.Option(
        envvar=ENV + "MAX_CONCURRENCY",
        help="Requests served at once per worker; more wait in FIFO order (0: unlimited).",
    ),
]
LoadFactor = Annotated[
    float,
    typer.Option(
        envvar=ENV + "LOAD_FACTOR",
        help="Gap stretch under load: ITL x (1 + (F - 1) x running / max-concurrency).",
    ),
]
Verbose = Annotated[
    bool, typer.Option("-v", "--verbose", envvar=ENV + "VERBOSE", help="Log every request.")
]


def serve(
    port: Port = 3000,
    host: Host = "127.0.0.1",
    pregen_count: PregenCount = 4096,
    token_mean: TokenMean = 256,
    token_stddev: TokenStddev = 64,
    response_delay_ms: ResponseDelayMs = 0,
    first_token_delay_ms: FirstTokenDelayMs = None,
    stream_tokens_min: StreamTokensMin = 1,
    stream_tokens_max: StreamTokensMax = 1,
    corpus: CorpusFile = None,
    seed: Seed = 0,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    model: Models = None,
    api_key: ApiKey = None,
    workers: Workers = 1,
    max_body_bytes: MaxBodyBytes = 16 * 1024 * 1024,
    tls_cert: TLSCert = None,
    tls_key: TLSKey = None,
    http2: HTTP2 = None,
    http2_engine: HTTP2EngineName = "hypercorn",
    http3: HTTP3 = None,
    replay: Replay = "match",
    on_miss: OnMiss = "sample",
    replay_timing: ReplayTimingText = "none",
    match_ignore: MatchIgnore = None,
    upstream: Upstream = None,
    upstream_key_env: UpstreamKeyEnvOption = None,
    allow_secrets: AllowSecretsOption = False,
    tool_call_rate: ToolCallRate = 1.0,
    max_parallel_tool_calls: MaxParallelToolCalls = 1,
    reasoning_model: ReasoningModels = None,
    reasoning_tokens: ReasoningTokens = None,
    reasoning_delay_ms_per_token: ReasoningDelay = None,
    reasoning_content: ReasoningContent = False,
    first_token_stddev_ms: FirstTokenStddevMs = 0,
    response_delay_stddev_ms: ResponseDelayStddevMs = 0,
    latency_distribution: LatencyDistributionName = "normal",
    prefill_ms_per_token: PrefillMsPerToken = 0,
    fault_rate: FaultRate = 0,
    fault_type: FaultTypes = None,
    stall_ms: StallMs = 1000,
    no_control_headers: NoControlHeaders = False,
    rate_limit_rpm: RateLimitRpm = 0,
    rate_limit_tpm: RateLimitTpm = 0,
    max_concurrency: MaxConcurrency = 0,
    load_factor: LoadFactor = 1.0,
    verbose: Verbose = False,
    version: VersionOption = False,
) -> None:
    """Serve the mock OpenAI API."""
    settings = Settings(
        server=ServerSettings(
            host=host,
            port=port,
            workers=workers,
            max_body_bytes=max_body_bytes,
            api_key=api_key,
            verbose=verbose,
            models=tuple(model) if model else DEFAULT_MODELS,
        ),
        generation=GenerationSettings(
            pregen_count=pregen_count,
            token_mean=token_mean,
            token_stddev=token_stddev,
            stream_tokens_min=stream_tokens_min,
            stream_tokens_max=stream_tokens_max,
            corpus=corpus,
            seed=seed,
            cache_dir=None if no_cache else (cache_dir or default_cache_dir()),
        ),
        timing=TimingSettings(
            response_delay_ms=response_delay_ms,
            first_token_delay_ms=first_token_delay_ms,
            first_token_stddev_ms=first_token_stddev_ms,
            response_delay_stddev_ms=response_delay_stddev_ms,
            distribution=LatencyDistribution.parse(latency_distribution),
            prefill_ms_per_token=prefill_ms_per_token,
        ),
        faults=FaultSettings(
            rate=fault_rate,
            types=tuple(fault_type) if fault_type else ("500",),
            stall_ms=stall_ms,
            control_headers=not no_control_headers,
        ),
        limits=LimitSettings(
            rpm=rate_limit_rpm,
            tpm=rate_limit_tpm,
            max_concurrency=max_concurrency,
            load_factor=load_factor,
        ),
        tools=ToolSettings(call_rate=tool_call_rate, max_parallel=max_parallel_tool_calls),
        reasoning=ReasoningSettings(
            models=tuple(reasoning_model or ()),
            tokens=ReasoningSettings.parse_tokens(reasoning_tokens or []),
            delay_ms_per_token=reasoning_delay_ms_per_token,
            content=reasoning_content,
        ),
        tls=_tls(tls_cert, tls_key, http2, http2_engine, http3),
        replay=_replay(replay, on_miss, replay_timing, match_ignore),
        record=RecordSettings(upstream=upstream, upstream_key=upstream_key(upstream_key_env)),
        allow_secrets=allow_secrets,
    )
    _check_inputs(settings)
    _run(settings)


def _tls(
    cert: Path | None, key: Path | None, http2: bool | None, engine: str, http3: bool | None
) -> TLSSettings:
    return TLSSettings(cert, key, http2, Http2Engine.parse(engine), http3)


def _replay(mode: str, on_miss: str, timing_text: str, ignore: list[str] | None) -> ReplaySettings:
    timing, factor = ReplayTiming.parse(timing_text)
    return ReplaySettings(
        mode=ReplayMode.parse(mode),
        on_miss=MissPolicy.parse(on_miss),
        timing=timing,
        factor=factor,
        match_ignore=tuple(ignore or ()),
    )


def _check_inputs(settings: Settings) -> None:
    """Bad TLS files and a bad corpus fail here, on one line, before any worker starts."""
    from sanic_mock.corpus.loading import load_corpus

    tls = settings.tls
    if tls.cert is not None and tls.key is not None:
        from sanic_mock.run.tls import server_context

        server_context(tls.cert, tls.key)
    if settings.generation.corpus is not None or settings.server.workers > 1:
        # Several workers also find the generated corpus cached rather than each generating it.
        load_corpus(settings)


def _run(settings: Settings) -> None:
    if not settings.tls.serves_http2:
        from sanic_mock.run import sanic as run_sanic

        run_sanic.serve(settings)
    elif settings.tls.http2_engine is Http2Engine.GRANIAN:
        from sanic_mock.run import granian as run_granian

        run_granian.serve(settings)
    else:
        from sanic_mock.run import hypercorn as run_hypercorn

        run_hypercorn.serve(settings)
