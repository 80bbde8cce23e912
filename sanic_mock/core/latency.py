"""When a generated answer's parts are due: the simulated engine's time to first token and
inter-token gaps, with their spread, the prefill time, and a request's own control headers.

The means are `--first-token-delay-ms` and `--response-delay-ms`; `--prefill-ms-per-token F`
adds F x prompt tokens to the first-token wait. With a stddev (`--first-token-stddev-ms`,
`--response-delay-stddev-ms`) every gap is drawn on its own, from a normal truncated at 0 or a
lognormal with that mean and stddev (`--latency-distribution`), from one generator per worker
seeded by `--seed`, so a server started the same way draws the same gaps. Jittered streams get
per-frame `offsets`; without jitter a stream keeps `first_delay`/`event_delay`, the path that
costs nothing per frame. A JSON answer waits as long as the same answer streamed would have: the
first-token wait plus one gap per further event, each drawn.

`x-mock-first-token-delay-ms` and `x-mock-response-delay-ms` set a request's mean exactly
(no jitter on what they set).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sanic_mock.core.control import Control
from sanic_mock.core.reply import Reply
from sanic_mock.settings import LatencyDistribution, TimingSettings


def draw(
    rng: np.random.Generator, mean: float, stddev: float, size: int, lognormal: bool
) -> NDArray[np.float64]:
    """`size` gaps around `mean` seconds: a normal truncated at 0, or a lognormal with that
    mean and `stddev` (sigma^2 = ln(1 + s^2/m^2), mu = ln m - sigma^2/2)."""
    if stddev <= 0 or mean <= 0 and lognormal:
        return np.full(size, max(mean, 0.0))
    if lognormal:
        sigma2 = math.log1p((stddev / mean) ** 2)
        return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), size)
    return np.maximum(rng.normal(mean, stddev, size), 0.0)


class Latency:
    """One worker's latency model (see the module docstring)."""

    def __init__(self, timing: TimingSettings, seed: int) -> None:
        self.first = timing.first_delay_s
        self.gap = timing.event_delay_s
        self.first_sd = timing.first_token_stddev_ms / 1000.0
        self.gap_sd = timing.response_delay_stddev_ms / 1000.0
        self.prefill = timing.prefill_ms_per_token / 1000.0
        self.lognormal = timing.distribution is LatencyDistribution.LOGNORMAL
        self.jitter = bool(self.first_sd or self.gap_sd)
        # Whether any answer waits without a control header asking for it.
        self.paced = bool(self.first or self.gap or self.prefill or self.jitter)
        self._rng = np.random.Generator(np.random.PCG64([seed, 0x1A7E]))

    def means(self, prompt_tokens: int, control: Control | None) -> tuple[float, float]:
        """(first-token wait, gap) in seconds, before any jitter."""
        first, gap = self.first, self.gap
        if control is not None:
            if control.first_ms is not None:
                first = control.first_ms / 1000.0
            if control.gap_ms is not None:
                gap = control.gap_ms / 1000.0
        return first + self.prefill * prompt_tokens, gap

    def paced_for(self, control: Control | None) -> bool:
        """Whether a request's answer waits or is cut into events (a fault needs its events)."""
        if control is None:
            return self.paced
        return self.paced or bool(control.first_ms or control.gap_ms or control.fault)

    def _spreads(self, control: Control | None) -> tuple[float, float]:
        if control is None:
            return self.first_sd, self.gap_sd
        return (
            0.0 if control.first_ms is not None else self.first_sd,
            0.0 if control.gap_ms is not None else self.gap_sd,
        )

    def stream(
        self,
        frames: list[bytes],
        prompt_tokens: int,
        control: Control | None = None,
        thinking: float = 0.0,
    ) -> Reply:
        """A stream of `frames`, `thinking` seconds of hidden reasoning before the first."""
        first, gap = self.means(prompt_tokens, control)
        first += thinking
        if not self.jitter:
            return Reply(b"", frames, first, gap)
        first_sd, gap_sd = self._spreads(control)
        gaps = self._gaps(first, first_sd, gap, gap_sd, len(frames))
        return Reply(b"", frames, offsets=tuple(np.cumsum(gaps).tolist()))

    def wait(
        self,
        steps: int,
        prompt_tokens: int,
        control: Control | None = None,
        thinking: float = 0.0,
    ) -> float:
        """Seconds a JSON answer of `steps` events waits."""
        first, gap = self.means(prompt_tokens, control)
        first += thinking
        if not self.jitter:
            return first + max(steps - 1, 0) * gap
        first_sd, gap_sd = self._spreads(control)
        return float(self._gaps(first, first_sd, gap, gap_sd, max(steps, 1)).sum())

    def _gaps(
        self, first: float, first_sd: float, gap: float, gap_sd: float, count: int
    ) -> NDArray[np.float64]:
        head = draw(self._rng, first, first_sd, 1, self.lognormal)
        rest = draw(self._rng, gap, gap_sd, count - 1, self.lognormal)
        return np.concatenate([head, rest])
