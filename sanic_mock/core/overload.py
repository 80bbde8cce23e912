"""Honesty under overload: saying so when the server cannot keep the schedule it simulates.

A paced frame that leaves late adds latency the benchmark will blame on the system under test.
The transports report how late each frame left against its due time (`LagWatch.add`: the
`Pacer`, which paces every transport, once per timing-wheel slot for all the frames due in it).
Per second of frames the 99th percentile is taken from a histogram of whole milliseconds; above
1 ms, one warning a minute is logged with how late, so a benchmark user knows the mock added the
latency, not their system. Counting is a list increment per slot. Each window's counts are added
to the watch's running totals when it closes; `lag_counts` sums every watch of the process,
closed windows and open ones, for `GET /metrics` (`mock_openai_pacing_lag_seconds`,
`core/metrics.py`).
"""

from __future__ import annotations

import logging
import math

log = logging.getLogger("sanic_mock")

BUCKETS = 64  # lag in whole milliseconds 0..62, and 63+ in the last
THRESHOLD_MS = 1  # a p99 above this is reported
EVERY_S = 60.0  # at most one warning this often


_WATCHES: list[LagWatch] = []  # this process's, one per event loop that paced frames


def lag_counts() -> list[int]:
    """How many frames left 0, 1, .. 62 and 63+ whole milliseconds late, since start-up, over
    every event loop of the process."""
    total = [0] * BUCKETS
    for watch in _WATCHES:
        for i, (closed, now) in enumerate(zip(watch.totals, watch.counts, strict=True)):
            total[i] += closed + now
    return total


class LagWatch:
    """One event loop's pacing lag, in windows of a second (see the module docstring)."""

    def __init__(self, every: float = EVERY_S) -> None:
        self.every = every
        self.counts = [0] * BUCKETS
        self.totals = [0] * BUCKETS  # of the windows closed
        _WATCHES.append(self)
        self.window = -math.inf  # when the current second started
        self.warned = -math.inf
        self.warnings = 0

    def add(self, lag_ms: int, frames: int, now: float) -> None:
        """`frames` left `lag_ms` whole milliseconds late at `now` (seconds, any clock)."""
        if now - self.window >= 1.0:
            self._close(now)
        self.counts[min(max(lag_ms, 0), BUCKETS - 1)] += frames

    def p99(self) -> int:
        """The window's 99th percentile lag in whole milliseconds (0 when empty)."""
        counts = self.counts
        total = sum(counts)
        if not total:
            return 0
        seen, rank = 0, math.ceil(total * 0.99)
        for lag, count in enumerate(counts):
            seen += count
            if seen >= rank:
                return lag
        return BUCKETS - 1  # unreachable: the counts sum to total

    def _close(self, now: float) -> None:
        lag, frames = self.p99(), sum(self.counts)
        if lag > THRESHOLD_MS and now - self.warned >= self.every:
            self.warned = now
            self.warnings += 1
            shown = f"{lag}" if lag < BUCKETS - 1 else f"over {lag}"
            log.warning(
                "mock-openai cannot keep its schedule: paced frames left %s ms late (p99, %d "
                "frames over the last second); that latency is the mock's, not the system's "
                "under test (fewer streams per worker or more --workers)",
                shown,
                frames,
            )
        self.totals = [a + b for a, b in zip(self.totals, self.counts, strict=True)]
        self.counts = [0] * BUCKETS
        self.window = now
