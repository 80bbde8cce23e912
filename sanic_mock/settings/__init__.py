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

The parts live in `modes.py` (the enums, `SettingsError`, the default models), `serving.py`
(server, generation, timing, TLS), `simulated.py` (faults, limits, tools, reasoning) and
`recorded.py` (replay, record); this module composes them and is what everything imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sanic_mock.settings.modes import (
    DEFAULT_MODELS,
    Http2Engine,
    LatencyDistribution,
    MissPolicy,
    ReplayIds,
    ReplayMode,
    ReplayTiming,
    SettingsError,
    TokenCount,
    _raise_first,
)
from sanic_mock.settings.recorded import (
    RecordSettings,
    ReplaySettings,
)
from sanic_mock.settings.serving import (
    GenerationSettings,
    ServerSettings,
    TimingSettings,
    TLSSettings,
)
from sanic_mock.settings.simulated import (
    DEFAULT_REASONING_TOKENS,
    FAULT_TYPES,
    REASONING_EFFORTS,
    REASONING_PREFIXES,
    FaultSettings,
    LimitSettings,
    ReasoningSettings,
    ToolSettings,
)

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_REASONING_TOKENS",
    "FAULT_TYPES",
    "FaultSettings",
    "GenerationSettings",
    "Http2Engine",
    "LatencyDistribution",
    "LimitSettings",
    "MissPolicy",
    "REASONING_EFFORTS",
    "REASONING_PREFIXES",
    "ReasoningSettings",
    "RecordSettings",
    "ReplayIds",
    "ReplayMode",
    "ReplaySettings",
    "ReplayTiming",
    "ServerSettings",
    "SettingsError",
    "TLSSettings",
    "TimingSettings",
    "TokenCount",
    "ToolSettings",
    "Settings",
]


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
