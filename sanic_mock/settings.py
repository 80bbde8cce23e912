"""The one frozen `Settings` object: every serve option, validated once, passed down.

Built by `cli.py` from the command line and `MOCK_OPENAI_*` variables; nothing else reads the
environment. Defaults are the original Rust server's (port 3000, 4096 pre-generated articles,
completion length ~ Normal(256, 64), no delay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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


HTTP2_ENGINES: tuple[str, ...] = ("hypercorn", "granian")


class SettingsError(ValueError):
    """An option value that cannot be served; the CLI prints it on one line and exits 2."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3000
    pregen_count: int = 4096
    token_mean: float = 256.0
    token_stddev: float = 64.0
    response_delay_ms: float = 0.0
    # None: the first event waits the same as every other event (response_delay_ms).
    first_token_delay_ms: float | None = None
    stream_tokens_min: int = 1
    stream_tokens_max: int = 1
    corpus: Path | None = None
    seed: int = 0
    # Where generated article corpora are kept between runs (None: generate every time).
    cache_dir: Path | None = None
    models: tuple[str, ...] = field(default=DEFAULT_MODELS)
    api_key: str | None = None
    workers: int = 1
    max_body_bytes: int = 16 * 1024 * 1024
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # None: HTTP/2 (and HTTP/3) with TLS, plain Sanic HTTP/1.1 without; see HTTP2.md.
    http2: bool | None = None
    http2_engine: str = "hypercorn"
    http3: bool | None = None
    verbose: bool = False
    # Recorded corpora (replay) and the recording proxy (`record`, `serve --on-miss proxy`).
    replay: str = "match"  # match | sample
    on_miss: str = "sample"  # sample | error | proxy
    replay_timing: str = "none"  # none | recorded | scaled:F
    match_ignore: tuple[str, ...] = ()  # request fields left out of the match key (extra)
    upstream: str | None = None  # base URL of the upstream API (record; --on-miss proxy)
    upstream_key: str | None = None  # sent as the upstream's bearer key instead of the client's
    record_out: Path | None = None  # `record --out`; None: record into --corpus
    record_append: bool = False
    allow_secrets: bool = False

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (0 <= self.port <= 65535, f"--port must be between 0 and 65535, got {self.port}"),
            (self.pregen_count >= 1, f"--pregen-count must be at least 1, got {self.pregen_count}"),
            (self.token_mean >= 1, f"--token-mean must be at least 1, got {self.token_mean}"),
            (self.token_stddev >= 0, f"--token-stddev must be >= 0, got {self.token_stddev}"),
            (
                self.response_delay_ms >= 0,
                f"--response-delay-ms must be >= 0, got {self.response_delay_ms}",
            ),
            (
                self.first_token_delay_ms is None or self.first_token_delay_ms >= 0,
                f"--first-token-delay-ms must be >= 0, got {self.first_token_delay_ms}",
            ),
            (
                self.stream_tokens_min >= 1,
                f"--stream-tokens-min must be at least 1, got {self.stream_tokens_min}",
            ),
            (
                self.stream_tokens_max >= self.stream_tokens_min,
                f"--stream-tokens-max ({self.stream_tokens_max}) must be >= "
                f"--stream-tokens-min ({self.stream_tokens_min})",
            ),
            (self.seed >= 0, f"--seed must be >= 0, got {self.seed}"),
            (len(self.models) >= 1, "--model needs at least one model id"),
            (all(m.strip() for m in self.models), "--model ids must not be empty"),
            (self.api_key is None or self.api_key != "", "--api-key must not be empty"),
            (self.workers >= 1, f"--workers must be at least 1, got {self.workers}"),
            (self.max_body_bytes >= 1024, "--max-body-bytes must be at least 1024"),
            (
                (self.tls_cert is None) == (self.tls_key is None),
                "--tls-cert and --tls-key must be given together (missing: "
                + ("--tls-key" if self.tls_key is None else "--tls-cert")
                + ")",
            ),
        ]
        checks += self._protocol_checks()
        checks += self._replay_checks()
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)
        for path, name in ((self.tls_cert, "--tls-cert"), (self.tls_key, "--tls-key")):
            if path is not None and not path.is_file():
                raise SettingsError(f"{name} {path}: no such file")
        if self.corpus is not None and not self.corpus.is_file():
            raise SettingsError(f"--corpus {self.corpus}: no such file")

    def _protocol_checks(self) -> list[tuple[bool, str]]:
        tls = self.tls_cert is not None
        return [
            (
                self.http2_engine in HTTP2_ENGINES,
                f"--http2-engine must be one of {', '.join(HTTP2_ENGINES)}, "
                f"got {self.http2_engine!r}",
            ),
            (not self.http3 or tls, "--http3 needs --tls-cert and --tls-key (QUIC is encrypted)"),
            (
                not self.http3 or self.serves_http2,
                "--http3 is served next to HTTP/2; it cannot be combined with --no-http2",
            ),
            (
                not self.http3 or self.http2_engine == "hypercorn",
                "--http3 is served by hypercorn; drop it or use --http2-engine hypercorn",
            ),
        ]

    @property
    def authorization(self) -> str | None:
        """The `Authorization` header every request must carry (`--api-key`), or None."""
        return None if self.api_key is None else f"Bearer {self.api_key}"

    @property
    def serves_http2(self) -> bool:
        """HTTP/2 (and the ASGI engine) is on by default with TLS, off without (`--http2`)."""
        return self.tls_cert is not None if self.http2 is None else self.http2

    @property
    def serves_http3(self) -> bool:
        """HTTP/3 is on by default wherever hypercorn serves TLS."""
        if self.http3 is not None:
            return self.http3
        return self.tls_cert is not None and self.serves_http2 and self.http2_engine == "hypercorn"

    def _replay_checks(self) -> list[tuple[bool, str]]:
        timing = self.replay_timing
        scale = timing.removeprefix("scaled:")
        scaled_ok = scale.replace(".", "", 1).isdigit() and float(scale) > 0
        up = self.upstream
        return [
            (
                self.replay in ("match", "sample"),
                f"--replay must be match or sample, got {self.replay!r}",
            ),
            (
                self.on_miss in ("sample", "error", "proxy"),
                f"--on-miss must be sample, error or proxy, got {self.on_miss!r}",
            ),
            (
                timing in ("none", "recorded") or (timing.startswith("scaled:") and scaled_ok),
                f"--replay-timing must be none, recorded or scaled:F (F > 0), got {timing!r}",
            ),
            (
                up is None or up.startswith(("http://", "https://")),
                f"--upstream must be an http:// or https:// URL, got {up!r}",
            ),
            (
                self.on_miss != "proxy" or up is not None,
                "--on-miss proxy needs --upstream URL",
            ),
            (
                up is None or self.record_out is not None or self.on_miss == "proxy",
                "--upstream is used by `record` and by --on-miss proxy only",
            ),
            (
                up is None or self.workers == 1,
                "recording runs in one worker process (drop --workers)",
            ),
            (
                up is None or not self.serves_http2,
                "recording runs on Sanic's HTTP/1.1 server (drop --http2 and --tls-cert)",
            ),
            (
                self.on_miss != "proxy" or self.corpus is not None,
                "--on-miss proxy needs --corpus FILE (the recorded corpus it adds to)",
            ),
        ]

    @property
    def replay_scale(self) -> float | None:
        """Factor on recorded times (`--replay-timing`); None: send at once."""
        if self.replay_timing == "none":
            return None
        if self.replay_timing == "recorded":
            return 1.0
        return float(self.replay_timing.removeprefix("scaled:"))

    @property
    def first_delay_s(self) -> float:
        """Seconds before the first streamed event (the simulated time to first token)."""
        ms = (
            self.response_delay_ms
            if self.first_token_delay_ms is None
            else self.first_token_delay_ms
        )
        return ms / 1000.0

    @property
    def event_delay_s(self) -> float:
        """Seconds between two streamed events."""
        return self.response_delay_ms / 1000.0
