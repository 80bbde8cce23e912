"""`mock-openai serve`: its options, the `Settings` parts made from them, and the runner chosen.

Every option also comes from `MOCK_OPENAI_<OPTION>` (`--token-mean`: `MOCK_OPENAI_TOKEN_MEAN`;
the original server's names, such as `MOCK_OPENAI_PREG_COUNT`, too). A new option: an
`Annotated` alias made by `option` below (see cli/options.py), a parameter of `serve` with its
default, and its place in the `Settings` part it belongs to. Mode options arrive as text and
are parsed here, once, into the enums of `sanic_mock.settings`; a bad value is a
`SettingsError` (one line, exit 2).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

from sanic_mock.cli.options import (
    ENV,
    AllowSecretsOption,
    ReplayIdsOption,
    UpstreamKeyEnvOption,
    VersionOption,
    choices,
    default_cache_dir,
    option,
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
    ReplayIds,
    ReplayMode,
    ReplaySettings,
    ReplayTiming,
    ServerSettings,
    Settings,
    TimingSettings,
    TLSSettings,
    TokenCount,
    ToolSettings,
)

# Each option as `option` in cli/options.py declares it: the long name, its MOCK_OPENAI_
# variable from that name, a metavar for its value, and the help line.
Port = Annotated[int, option("--port", "-p", metavar="PORT", help="TCP port.")]
Host = Annotated[str, option("--host", metavar="HOST", help="Address to bind.")]
PregenCount = Annotated[
    int,
    option(
        "--pregen-count",
        metavar="N",
        also=(ENV + "PREG_COUNT",),  # the original server's name
        help="Articles generated at start-up when no --corpus is given.",
    ),
]
TokenMean = Annotated[
    float, option("--token-mean", metavar="TOKENS", help="Mean completion length.")
]
TokenStddev = Annotated[
    float, option("--token-stddev", metavar="TOKENS", help="Stddev of completion length.")
]
ResponseDelayMs = Annotated[
    float, option("--response-delay-ms", metavar="MS", help="Delay between streamed events.")
]
FirstTokenDelayMs = Annotated[
    Optional[float],  # noqa: UP045 - typer needs Optional on Python 3.10
    option(
        "--first-token-delay-ms",
        metavar="MS",
        help="Delay before the first event.",
        show_default="--response-delay-ms",
    ),
]
StreamTokensMin = Annotated[
    int, option("--stream-tokens-min", metavar="N", help="Fewest tokens per SSE event.")
]
StreamTokensMax = Annotated[
    int, option("--stream-tokens-max", metavar="N", help="Most tokens per SSE event.")
]
CorpusFile = Annotated[
    Optional[Path],  # noqa: UP045
    option("--corpus", metavar="FILE", help="Corpus file to serve.", show_default="generated"),
]
Seed = Annotated[
    Optional[int],  # noqa: UP045
    option(
        "--seed",
        metavar="N",
        help="Seed for the articles and every draw, for reproducible answers.",
        show_default="the articles of seed 0, answers that differ on every start",
    ),
]
TokenCountText = Annotated[
    str,
    option(
        "--token-count",
        metavar=choices(TokenCount),
        help="Prompt tokens: exact (the model's tokenizer, as the API counts) or estimate "
        "(~4 characters a token, cheaper).",
    ),
]
CacheDir = Annotated[
    Optional[Path],  # noqa: UP045
    option(
        "--cache-dir",
        metavar="DIR",
        help="Where the generated corpus is cached between runs.",
        show_default="$XDG_CACHE_HOME/mock-openai or ~/.cache/mock-openai",
    ),
]
NoCache = Annotated[
    bool, option("--no-cache", help="Generate the corpus on every start, write no cache.")
]
Models = Annotated[
    Optional[list[str]],  # noqa: UP045
    option(
        "--model",
        metavar="ID",
        help="Model id listed by /v1/models (repeatable; in the variable: space-separated).",
        show_default=f"{DEFAULT_MODELS[0]}, {DEFAULT_MODELS[1]}, ... ({len(DEFAULT_MODELS)} ids)",
    ),
]
ApiKey = Annotated[
    Optional[str],  # noqa: UP045
    option("--api-key", metavar="KEY", help="Require 'Authorization: Bearer KEY'."),
]
Workers = Annotated[int, option("--workers", metavar="N", help="Worker processes.")]
MaxBodyBytes = Annotated[
    int, option("--max-body-bytes", metavar="BYTES", help="Largest request body (413 above).")
]
TLSCert = Annotated[
    Optional[Path],  # noqa: UP045
    option("--tls-cert", metavar="FILE", help="PEM certificate (with --tls-key)."),
]
TLSKey = Annotated[
    Optional[Path],  # noqa: UP045
    option("--tls-key", metavar="FILE", help="PEM private key (with --tls-cert)."),
]
HTTP2 = Annotated[
    Optional[bool],  # noqa: UP045
    option(
        "--http2/--no-http2",
        help="Serve HTTP/2 (h2c without TLS). Default: on with TLS; --no-http2 with TLS "
        "serves HTTPS/1.1 on Sanic alone.",
        show_default=False,
    ),
]
HTTP2EngineName = Annotated[
    Optional[str],  # noqa: UP045
    option(
        "--http2-engine",
        metavar=choices(Http2Engine),
        help="HTTP/2 server. Default: granian; hypercorn with --http3, which only it serves.",
        show_default=False,
    ),
]
HTTP3 = Annotated[
    Optional[bool],  # noqa: UP045
    option(
        "--http3/--no-http3",
        help="Serve HTTP/3 on UDP, same port. Default: on with TLS and hypercorn.",
        show_default=False,
    ),
]
Replay = Annotated[
    str,
    option(
        "--replay",
        metavar=choices(ReplayMode),
        help="Recorded corpus: 'match' requests to recorded ones, or 'sample' any answer.",
    ),
]
OnMiss = Annotated[
    str,
    option(
        "--on-miss",
        metavar=choices(MissPolicy),
        help="Recorded corpus, a request that matches none: answer a sample, an error, or "
        "proxy it (with --upstream).",
    ),
]
ReplayTimingText = Annotated[
    str,
    option(
        "--replay-timing",
        metavar="none|recorded|scaled:F",
        help="Recorded corpus: at once, at the recorded times, or those times F.",
    ),
]
MatchIgnore = Annotated[
    Optional[list[str]],  # noqa: UP045
    option(
        "--match-ignore",
        metavar="FIELD",
        help="Request field left out of matching, besides stream, user, metadata... "
        "(repeatable; in the variable: space-separated).",
    ),
]
Upstream = Annotated[
    Optional[str],  # noqa: UP045
    option("--upstream", metavar="URL", help="Upstream base URL for --on-miss proxy."),
]
ResponseStoreSize = Annotated[
    int,
    option(
        "--response-store-size",
        metavar="N",
        help="Responses API responses kept per worker (oldest evicted).",
    ),
]
ToolCallRate = Annotated[
    float,
    option(
        "--tool-call-rate",
        metavar="P",
        help="Chance that tool_choice auto calls a tool on a user turn (0-1).",
    ),
]
MaxParallelToolCalls = Annotated[
    int,
    option(
        "--max-parallel-tool-calls",
        metavar="N",
        help="Most tool calls in one answer when parallel_tool_calls is on.",
    ),
]
ReasoningModels = Annotated[
    Optional[list[str]],  # noqa: UP045
    option(
        "--reasoning-model",
        metavar="ID",
        help="Model id that reasons, besides o1*, o3*, o4*, gpt-5* (repeatable).",
    ),
]
ReasoningTokens = Annotated[
    Optional[list[str]],  # noqa: UP045
    option(
        "--reasoning-tokens",
        metavar="EFFORT=N",
        help="Hidden reasoning tokens of an effort (repeatable).",
        show_default="none=0 minimal=16 low=128 medium=384 high=1024 xhigh=2048",
    ),
]
ReasoningDelay = Annotated[
    Optional[float],  # noqa: UP045
    option(
        "--reasoning-delay-ms-per-token",
        metavar="MS",
        help="Time per reasoning token.",
        show_default="--response-delay-ms",
    ),
]
ReasoningContent = Annotated[
    bool,
    option(
        "--reasoning-content",
        help="Show the reasoning as delta.reasoning_content (vLLM's field).",
    ),
]
FirstTokenStddevMs = Annotated[
    float,
    option("--first-token-stddev-ms", metavar="MS", help="Stddev of the time to first token."),
]
ResponseDelayStddevMs = Annotated[
    float,
    option("--response-delay-stddev-ms", metavar="MS", help="Stddev of the gap between events."),
]
LatencyDistributionName = Annotated[
    str,
    option(
        "--latency-distribution",
        metavar="normal|lognormal",
        help="How gaps are drawn with a stddev: normal (truncated at 0) or lognormal.",
    ),
]
PrefillMsPerToken = Annotated[
    float,
    option(
        "--prefill-ms-per-token",
        metavar="MS",
        help="Added to the first-token wait per prompt token; embeddings wait this long.",
    ),
]
FaultRate = Annotated[
    float, option("--fault-rate", metavar="P", help="Share of POST requests that fail (0-1).")
]
FaultTypes = Annotated[
    Optional[list[str]],  # noqa: UP045
    option(
        "--fault-type",
        metavar="429|500|503|stall|reset|truncate",
        help="How a faulty request fails (repeatable, chosen uniformly).",
        show_default="500",
    ),
]
StallMs = Annotated[float, option("--stall-ms", metavar="MS", help="How long a stall fault stops.")]
NoControlHeaders = Annotated[
    bool,
    option(
        "--no-control-headers",
        help="Ignore the x-mock-* request headers (delays, tokens, faults).",
    ),
]
RateLimitRpm = Annotated[
    int,
    option("--rate-limit-rpm", metavar="N", help="Requests per minute per worker (0: no limit)."),
]
RateLimitTpm = Annotated[
    int,
    option("--rate-limit-tpm", metavar="N", help="Tokens per minute per worker (0: no limit)."),
]
MaxConcurrency = Annotated[
    int,
    option(
        "--max-concurrency",
        metavar="N",
        help="Requests served at once per worker; more wait in FIFO order (0: unlimited).",
    ),
]
LoadFactor = Annotated[
    float,
    option(
        "--load-factor",
        metavar="F",
        help="Gap stretch under load: ITL x (1 + (F - 1) x running / max-concurrency).",
    ),
]
NoMetrics = Annotated[
    bool,
    option("--no-metrics", help="Do not serve GET /metrics (vLLM's Prometheus metrics)."),
]
Verbose = Annotated[bool, option("--verbose", "-v", help="Log every request.")]


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
    seed: Seed = None,
    token_count: TokenCountText = "exact",
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    model: Models = None,
    api_key: ApiKey = None,
    workers: Workers = 1,
    max_body_bytes: MaxBodyBytes = 16 * 1024 * 1024,
    tls_cert: TLSCert = None,
    tls_key: TLSKey = None,
    http2: HTTP2 = None,
    http2_engine: HTTP2EngineName = None,
    http3: HTTP3 = None,
    replay: Replay = "match",
    on_miss: OnMiss = "sample",
    replay_timing: ReplayTimingText = "none",
    match_ignore: MatchIgnore = None,
    replay_ids: ReplayIdsOption = "fresh",
    upstream: Upstream = None,
    upstream_key_env: UpstreamKeyEnvOption = None,
    allow_secrets: AllowSecretsOption = False,
    response_store_size: ResponseStoreSize = 10_000,
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
    no_metrics: NoMetrics = False,
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
            response_store_size=response_store_size,
            metrics=not no_metrics,
        ),
        generation=GenerationSettings(
            pregen_count=pregen_count,
            token_mean=token_mean,
            token_stddev=token_stddev,
            stream_tokens_min=stream_tokens_min,
            stream_tokens_max=stream_tokens_max,
            corpus=corpus,
            seed=seed,
            token_count=TokenCount.parse(token_count),
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
        replay=_replay(replay, on_miss, replay_timing, match_ignore, replay_ids),
        record=RecordSettings(upstream=upstream, upstream_key=upstream_key(upstream_key_env)),
        allow_secrets=allow_secrets,
    )
    _check_inputs(settings)
    _run(_shared_metrics(settings))


def _tls(
    cert: Path | None, key: Path | None, http2: bool | None, engine: str | None, http3: bool | None
) -> TLSSettings:
    return TLSSettings(
        cert, key, http2, None if engine is None else Http2Engine.parse(engine), http3
    )


def _replay(
    mode: str, on_miss: str, timing_text: str, ignore: list[str] | None, ids: str = "fresh"
) -> ReplaySettings:
    timing, factor = ReplayTiming.parse(timing_text)
    return ReplaySettings(
        mode=ReplayMode.parse(mode),
        on_miss=MissPolicy.parse(on_miss),
        timing=timing,
        factor=factor,
        match_ignore=tuple(ignore or ()),
        ids=ReplayIds.parse(ids),
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


METRICS_PREFIX = "mock-openai-metrics-"


def _shared_metrics(settings: Settings) -> Settings:
    """With several workers, the directory where they leave their `/metrics` figures for each
    other (`core/metrics.py`), one per server. The process ends without its interpreter's
    teardown, so the directories of servers that have ended are removed here, at the next
    start."""
    server = settings.server
    if not server.metrics or server.workers == 1:
        return settings
    base = Path(tempfile.gettempdir())
    for old in base.glob(METRICS_PREFIX + "*"):
        pid = old.name[len(METRICS_PREFIX) :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    made = Path(tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-"))
    return replace(settings, server=replace(server, metrics_dir=made))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's
    return True


def _run(settings: Settings) -> None:
    """Serve with the runner the settings call for; the process ends here once it stops."""
    from sanic_mock.run.processes import exit_now

    if not settings.tls.serves_http2:
        from sanic_mock.run import sanic as run_sanic

        run_sanic.serve(settings)  # ends the process itself
    elif settings.tls.engine is Http2Engine.GRANIAN:
        from sanic_mock.run import granian as run_granian

        run_granian.serve(settings)
    else:
        from sanic_mock.run import hypercorn as run_hypercorn

        # With --workers N this exits (SystemExit) through the interpreter's teardown, which
        # releases the supervisor's multiprocessing objects.
        run_hypercorn.serve(settings)
    # Stopped: leave without the interpreter's teardown (0.2-0.5 s of freeing the corpus).
    exit_now(0)
