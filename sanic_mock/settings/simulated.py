"""What a simulated serving engine does besides answering: faults, rate limits, tool calls,
reasoning."""

from __future__ import annotations

from dataclasses import dataclass

from sanic_mock.settings.modes import SettingsError, _raise_first

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
