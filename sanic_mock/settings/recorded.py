"""Answering from a recorded corpus, and the recording proxy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sanic_mock.settings.modes import (
    MissPolicy,
    ReplayIds,
    ReplayMode,
    ReplayTiming,
    SettingsError,
    _timing_error,
)


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
