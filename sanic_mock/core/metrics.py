"""What `GET /metrics` counts: each worker's plain counters, and their sum over the workers.

Per model name a series is one flat list of numbers, updated on the hot path with a few list
additions per request, ~9k instructions (prometheus-client's `inc` and `observe` took 33k for
the same figures, 63k in its multiprocess mode; README, Metrics): the prompt and generation
tokens, the finished requests by `finished_reason`, and the buckets and sums of the
time-to-first-token, inter-token and end-to-end histograms with vLLM's bucket boundaries.
Besides them: the faults by type, the
requests in flight (`running`) and those queued for a slot (`waiting`, `core/load.py`), and the
pacing lag the transports report to `core/overload.py`. Nothing is formatted until a scrape
(`core/exposition.py` renders a `Snapshot` with `prometheus_client`).

What is counted is what the client got. An answer sent at once (`Ready`) is counted when it is
made: its first token and its end are now. One that waits (`Later`) is counted when the
transport has sent it (`Later.sent`): its time to first token is when its first frame (a JSON
body: the body) actually left, its end-to-end latency when its last one did, both from the
request's arrival. Its inter-token latencies are the gaps between the frames it was scheduled
to send apart (one per gap: an unpaced stream, one write, adds none); how late frames actually
left against that schedule is `mock_openai_pacing_lag_seconds`. Tokens are the answer's `usage`;
a stream cut by a fault (`reset`, `truncate`) or by the client going away finishes as `abort`,
with the tokens of the frames it kept. Finish reasons are vLLM's: `stop` (and `tool_calls`,
which is a stop to the engine), `length`, `abort`.

Across `--workers N`, each worker writes its numbers to its own file in a directory the command
made for the server (`ServerSettings.metrics_dir`) every `FLUSH_S` while they change; a scrape,
whichever worker it reaches, adds the other workers' last files to its own live numbers, so a
figure is at most `FLUSH_S` behind. One worker writes nothing.
"""

from __future__ import annotations

import heapq
import os
from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from sanic_mock.core import overload
from sanic_mock.core.reply import Asked, Reply, Spent, Tally

FLUSH_S = 0.5
MOST_MODELS = 256  # model names counted apiece; the rest are counted as OTHER
OTHER = "other"

# vLLM's bucket boundaries (vllm/v1/metrics/loggers.py), in seconds.
TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
ITL_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0,
)  # fmt: skip
E2E_BUCKETS = (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0,
    240.0, 480.0, 960.0, 1920.0, 7680.0,
)  # fmt: skip
REASONS = ("stop", "length", "abort")

# Where each figure sits in a series' list: the counters; the answers sent at once within 1 ms
# and their sum (both histograms' first bucket, folded into them by `_mine`); then per
# histogram its buckets (the last one past the highest boundary, +Inf) and its sum.
PROMPT, GENERATION, SUCCESS, RUNNING, ONCE, ONCE_SUM = 0, 1, 2, 5, 6, 7
_REASON = {"stop": SUCCESS, "tool_calls": SUCCESS, "content_filter": SUCCESS}
_REASON.update(length=SUCCESS + 1, abort=SUCCESS + 2)
TTFT = 8
E2E = TTFT + len(TTFT_BUCKETS) + 2
ITL = E2E + len(E2E_BUCKETS) + 2
SIZE = ITL + len(ITL_BUCKETS) + 2
_TTFT_SUM, _E2E_SUM, _ITL_SUM = E2E - 1, ITL - 1, SIZE - 1


class Snapshot(NamedTuple):
    """The figures of a scrape, summed over the workers: per model its series (`SIZE`
    numbers, laid out as above) and its queued requests; the faults by type; the pacing lag's
    counts per whole millisecond (`core/overload.py`)."""

    series: dict[str, list[float]]
    waiting: dict[str, int]
    faults: dict[str, int]
    lag: list[int]


class Meter:
    """One worker's counters (see the module docstring). `directory`: where the workers of a
    multi-worker server write their figures (None: one worker)."""

    def __init__(self, fault_types: tuple[str, ...], directory: Path | None = None) -> None:
        self.series: dict[str, list[float]] = {}
        self.faults = dict.fromkeys(fault_types, 0)
        self.directory = directory
        self._own = None if directory is None else directory / f"{os.getpid()}.json"
        self._queued: dict[str, list[float]] = {}  # per model, when each queued request starts
        self._flushed: bytes = b""

    def of(self, model: str) -> list[float]:
        found = self.series.get(model)
        if found is None:
            if len(self.series) >= MOST_MODELS and model != OTHER:
                return self.of(OTHER)
            found = self.series[model] = [0.0] * SIZE
        return found

    def at_once(self, asked: Asked, said: Sequence[Spent], took: float) -> None:
        """An answer sent as it was made, `took` seconds after its request arrived. The hot
        path (~5k instructions): the answerer's own objects read, no `Tally` built, and one
        count and sum for both histograms when it took at most 1 ms (`_mine` adds them to both
        first buckets)."""
        s = self.series.get(asked.model) or self.of(asked.model)
        spent = 0
        for choice in said:
            spent += choice.tokens + choice.reasoning
        s[PROMPT] += asked.prompt_tokens
        s[GENERATION] += spent
        s[_REASON.get(said[0].finish_reason, SUCCESS) if said else SUCCESS] += 1
        if took <= 0.001:  # nearly always
            s[ONCE] += 1
            s[ONCE_SUM] += took
            return
        s[TTFT + bisect_left(TTFT_BUCKETS, took)] += 1
        s[_TTFT_SUM] += took
        s[E2E + bisect_left(E2E_BUCKETS, took)] += 1
        s[_E2E_SUM] += took

    def waits(self, model: str, queued_until: float, now: float) -> None:
        """A reply that will be sent later starts running; `queued_until` > `now`: it waits
        for a slot until then."""
        self.of(model)[RUNNING] += 1
        if queued_until > now:
            heapq.heappush(self._queued.setdefault(model, []), queued_until)

    def sent(
        self, reply: Reply, tally: Tally, started: float, first: float, last: float, gone: bool
    ) -> None:
        """A reply that waited has been sent: its first frame left at `first`, its last at
        `last` (the clock of `started`, the arrival); `gone`: the client went away first."""
        s = self.of(tally.model)
        s[RUNNING] -= 1
        s[PROMPT] += tally.prompt
        s[GENERATION] += tally.completion
        s[SUCCESS + 2 if gone else _REASON.get(tally.finish, SUCCESS)] += 1
        ttft, e2e = first - started, last - started
        s[TTFT + bisect_left(TTFT_BUCKETS, ttft)] += 1
        s[_TTFT_SUM] += ttft
        s[E2E + bisect_left(E2E_BUCKETS, e2e)] += 1
        s[_E2E_SUM] += e2e
        frames = reply.frames
        if frames is None or len(frames) < 2:
            return
        if reply.offsets is None:  # even gaps
            gap, count = reply.event_delay, len(frames) - 1
            s[ITL + bisect_left(ITL_BUCKETS, gap)] += count
            s[_ITL_SUM] += gap * count
            return
        due = reply.offsets
        for k in range(1, len(due)):
            gap = due[k] - due[k - 1]
            s[ITL + bisect_left(ITL_BUCKETS, gap)] += 1
            s[_ITL_SUM] += gap

    def fault(self, kind: str) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + 1

    def _waiting(self, now: float) -> dict[str, int]:
        waiting = {}
        for model, starts in self._queued.items():
            while starts and starts[0] <= now:
                heapq.heappop(starts)
            waiting[model] = len(starts)
        return waiting

    def _mine(self, now: float) -> bytes:
        series = {}
        for model, values in self.series.items():
            folded = values.copy()
            once, took = folded[ONCE], folded[ONCE_SUM]
            folded[TTFT] += once
            folded[E2E] += once
            folded[_TTFT_SUM] += took
            folded[_E2E_SUM] += took
            folded[ONCE] = folded[ONCE_SUM] = 0.0
            series[model] = folded
        return orjson.dumps(
            {
                "series": series,
                "waiting": self._waiting(now),
                "faults": self.faults,
                "lag": overload.lag_counts(),
            }
        )

    def flush(self, now: float) -> None:
        """Write this worker's figures for the others' scrapes, if they changed."""
        if self._own is None:
            return
        mine = self._mine(now)
        if mine == self._flushed:
            return
        part = self._own.with_suffix(".part")
        part.write_bytes(mine)
        os.replace(part, self._own)
        self._flushed = mine

    def snapshot(self, now: float) -> Snapshot:
        """This worker's figures now, plus every other worker's last written ones."""
        total = Snapshot({}, {}, {}, [0] * overload.BUCKETS)
        _add(total, orjson.loads(self._mine(now)))
        if self.directory is not None:
            for path in self.directory.glob("*.json"):
                if path == self._own:
                    continue
                try:
                    _add(total, orjson.loads(path.read_bytes()))
                except (OSError, orjson.JSONDecodeError):
                    continue  # a worker that is being replaced or never wrote
        return total


def _add(total: Snapshot, part: dict[str, Any]) -> None:
    for model, values in part["series"].items():
        mine = total.series.get(model)
        if mine is None:
            total.series[model] = list(values)
        else:
            for i, value in enumerate(values):
                mine[i] += value
    for model, count in part["waiting"].items():
        total.waiting[model] = total.waiting.get(model, 0) + int(count)
    for kind, count in part["faults"].items():
        total.faults[kind] = total.faults.get(kind, 0) + int(count)
    for i, count in enumerate(part["lag"]):
        total.lag[i] += int(count)
