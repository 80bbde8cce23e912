"""`GET /metrics` as bytes: a `core.metrics.Snapshot` in the Prometheus text format, through
`prometheus_client` (a custom collector over the snapshot, rendered by `generate_latest`), with
vLLM's metric names, help texts and `model_name` label, so dashboards made for vLLM read it.

`vllm:time_per_output_token_seconds` is the same histogram as `vllm:inter_token_latency_seconds`
under its older name (vLLM renamed it in 0.11 and sent both for a release), which the published
vLLM Grafana dashboards still query. The format is text 0.0.4, which every Prometheus reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import CollectorRegistry

from sanic_mock.core import metrics
from sanic_mock.core.metrics import Snapshot

HEAD = ((b"content-type", CONTENT_TYPE_PLAIN_0_0_4.encode()), (b"cache-control", b"no-store"))
MODEL = ["model_name"]
# The pacing lag is counted in whole milliseconds (`core/overload.py`): k ms late is below k+1.
LAG_BUCKETS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05)


def _buckets(bounds: Sequence[float], counts: list[float]) -> list[tuple[str, float]]:
    """Cumulative `le` buckets of per-bucket `counts` (the last one is +Inf)."""
    out, seen = [], 0.0
    for bound, count in zip(bounds, counts, strict=False):
        seen += count
        out.append((repr(float(bound)), seen))
    out.append(("+Inf", seen + counts[-1]))
    return out


def _histogram(
    name: str, doc: str, snapshot: Snapshot, start: int, bounds: Sequence[float]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=MODEL)
    end = start + len(bounds) + 1
    for model, values in snapshot.series.items():
        family.add_metric([model], _buckets(bounds, values[start:end]), values[end])
    return family


class _Collector:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        series = snap.series
        running = GaugeMetricFamily(
            "vllm:num_requests_running", "Number of requests in model execution batches.",
            labels=MODEL,
        )  # fmt: skip
        waiting = GaugeMetricFamily(
            "vllm:num_requests_waiting", "Number of requests waiting to be processed.",
            labels=MODEL,
        )  # fmt: skip
        prompt = CounterMetricFamily(
            "vllm:prompt_tokens", "Number of prefill tokens processed.", labels=MODEL
        )
        generation = CounterMetricFamily(
            "vllm:generation_tokens", "Number of generation tokens processed.", labels=MODEL
        )
        success = CounterMetricFamily(
            "vllm:request_success",
            "Count of successfully processed requests.",
            labels=[*MODEL, "finished_reason"],
        )
        for model, values in series.items():
            queued = snap.waiting.get(model, 0)
            running.add_metric([model], max(values[metrics.RUNNING] - queued, 0))
            waiting.add_metric([model], queued)
            prompt.add_metric([model], values[metrics.PROMPT])
            generation.add_metric([model], values[metrics.GENERATION])
            for i, reason in enumerate(metrics.REASONS):
                success.add_metric([model, reason], values[metrics.SUCCESS + i])
        yield from (running, waiting, prompt, generation, success)
        yield _histogram(
            "vllm:time_to_first_token_seconds",
            "Histogram of time to first token in seconds.",
            snap,
            metrics.TTFT,
            metrics.TTFT_BUCKETS,
        )
        for name, doc in (
            ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds."),
            (
                "vllm:time_per_output_token_seconds",
                "Histogram of time per output token in seconds."
                "DEPRECATED: Use vllm:inter_token_latency_seconds instead.",
            ),
        ):
            yield _histogram(name, doc, snap, metrics.ITL, metrics.ITL_BUCKETS)
        yield _histogram(
            "vllm:e2e_request_latency_seconds",
            "Histogram of e2e request latency in seconds.",
            snap,
            metrics.E2E,
            metrics.E2E_BUCKETS,
        )
        faults = CounterMetricFamily(
            "mock_openai_faults", "Requests failed on purpose, by fault type.", labels=["type"]
        )
        for kind, count in sorted(snap.faults.items()):
            faults.add_metric([kind], count)
        yield faults
        yield _lag(snap.lag)


def _lag(counts: list[int]) -> HistogramMetricFamily:
    """Whole-millisecond lag counts as a histogram in seconds."""
    family = HistogramMetricFamily(
        "mock_openai_pacing_lag_seconds",
        "How late each paced frame left against its schedule (whole milliseconds).",
    )
    per_bucket = [0.0] * (len(LAG_BUCKETS) + 1)
    for ms, count in enumerate(counts):
        late = ms / 1000.0
        i = next((k for k, bound in enumerate(LAG_BUCKETS) if late <= bound), len(LAG_BUCKETS))
        per_bucket[i] += count
    total = sum(ms * count for ms, count in enumerate(counts)) / 1000.0
    family.add_metric([], _buckets(LAG_BUCKETS, per_bucket), total)
    return family


def render(snapshot: Snapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(snapshot))
    return generate_latest(registry)
