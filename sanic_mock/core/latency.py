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
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from sanic_mock.core.control import Control
from sanic_mock.core.reply import Asked, Reply, Spent
from sanic_mock.settings import LatencyDistribution, TimingSettings

BLOCK = 4096  # standard normals drawn at a time for the first-token gaps


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
        self._normals: list[float] = []

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
        asked: Asked | None = None,
        said: Sequence[Spent] = (),
    ) -> Reply:
        """A stream of `frames`, `thinking` seconds of hidden reasoning before the first;
        `asked` and `said` go to the `Reply` as they are."""
        first, gap = self.means(prompt_tokens, control)
        first += thinking
        if not self.jitter:
            return Reply(b"", frames, first, gap, asked=asked, said=said)
        first_sd, gap_sd = self._spreads(control)
        start = self._one(first, first_sd)
        count = len(frames) - 1
        if not gap_sd or count <= 0:
            return Reply(b"", frames, start, gap, asked=asked, said=said)
        gaps = draw(self._rng, gap, gap_sd, count, self.lognormal)
        offsets = np.cumsum(gaps) + start
        return Reply(b"", frames, offsets=(start, *offsets.tolist()), asked=asked, said=said)

    def wait(
        self,
        steps: int,
        prompt_tokens: int,
        control: Control | None = None,
        thinking: float = 0.0,
    ) -> tuple[float, float]:
        """Seconds a JSON answer of `steps` events waits, and how many of them are the gaps
        between its events (the decode time, which `--load-factor` stretches)."""
        first, gap = self.means(prompt_tokens, control)
        first += thinking
        count = max(steps - 1, 0)
        if not self.jitter:
            return first + count * gap, count * gap
        first_sd, gap_sd = self._spreads(control)
        start = self._one(first, first_sd)
        if not gap_sd or not count:
            return start + count * gap, count * gap
        decode = float(draw(self._rng, gap, gap_sd, count, self.lognormal).sum())
        return start + decode, decode

    def _one(self, mean: float, stddev: float) -> float:
        """One gap (the first token's), from a block of standard normals: no numpy call."""
        if not stddev or mean <= 0 and self.lognormal:
            return max(mean, 0.0)
        if not self._normals:
            self._normals = self._rng.standard_normal(BLOCK).tolist()
        z = self._normals.pop()
        if self.lognormal:
            sigma2 = math.log1p((stddev / mean) ** 2)
            return math.exp(math.log(mean) - sigma2 / 2 + math.sqrt(sigma2) * z)
        return max(mean + stddev * z, 0.0)
