"""`core/metrics.py` and `core/exposition.py`: the counters of one worker, their sum over the
workers' files, and the Prometheus text they render (read back with `prometheus_client`'s own
parser)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sanic_mock.core import exposition, overload
from sanic_mock.core.metrics import ITL_BUCKETS, Meter
from sanic_mock.core.reply import Kept, Reply, Tally
from sanic_mock.settings import FAULT_TYPES

TALLY = Tally("m", 10, 4, "stop")


class Asked(NamedTuple):
    model: str
    prompt_tokens: int
    limit: int | None = None


def told(
    model: str = "m", prompt: int = 10, tokens: int = 4, finish: str = "stop"
) -> tuple[Asked, list[Kept]]:
    """What an answerer's reply says: what was asked, what each choice spent."""
    return Asked(model, prompt), [Kept(tokens, 0, finish)]


def samples(meter: Meter, now: float = 0.0) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = exposition.render(meter.snapshot(now)).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return found[(name, tuple(sorted(labels.items())))]


def test_an_answer_sent_at_once_counts_its_tokens_and_latency() -> None:
    meter = Meter(FAULT_TYPES)
    meter.at_once(*told(), 0.0003)
    meter.at_once(*told(finish="length"), 0.007)
    found = samples(meter)
    assert value(found, "vllm:prompt_tokens_total", model_name="m") == 20
    assert value(found, "vllm:generation_tokens_total", model_name="m") == 8
    assert value(found, "vllm:request_success_total", model_name="m", finished_reason="stop") == 1
    ok = value(found, "vllm:request_success_total", model_name="m", finished_reason="length")
    assert ok == 1
    ttft = "vllm:time_to_first_token_seconds"
    assert value(found, ttft + "_bucket", model_name="m", le="0.001") == 1
    assert value(found, ttft + "_bucket", model_name="m", le="0.005") == 1
    assert value(found, ttft + "_bucket", model_name="m", le="0.01") == 2
    assert value(found, ttft + "_count", model_name="m") == 2
    assert value(found, ttft + "_sum", model_name="m") == pytest.approx(0.0073)
    e2e = "vllm:e2e_request_latency_seconds"
    assert value(found, e2e + "_bucket", model_name="m", le="0.3") == 2
    assert value(found, e2e + "_sum", model_name="m") == pytest.approx(0.0073)
    assert value(found, "vllm:inter_token_latency_seconds_count", model_name="m") == 0
    assert value(found, "vllm:num_requests_running", model_name="m") == 0


def test_a_reply_sent_later_counts_when_its_frames_left_and_its_gaps() -> None:
    meter = Meter(FAULT_TYPES)
    even = Reply(b"", [b"a", b"b", b"c", b"d"], 0.05, 0.02)
    meter.waits("m", 100.0, 100.0)
    assert value(samples(meter), "vllm:num_requests_running", model_name="m") == 1
    meter.sent(even, TALLY, 100.0, 100.06, 100.13, gone=False)
    uneven = even._replace(offsets=(0.05, 0.06, 0.2, 0.21))
    meter.waits("m", 200.5, 200.0)  # queued for a slot until 200.5
    found = samples(meter, 200.1)
    assert value(found, "vllm:num_requests_waiting", model_name="m") == 1
    assert value(found, "vllm:num_requests_running", model_name="m") == 0
    assert value(samples(meter, 200.6), "vllm:num_requests_running", model_name="m") == 1
    meter.sent(uneven, TALLY, 200.0, 200.55, 200.8, gone=True)
    found = samples(meter, 201.0)
    itl = "vllm:inter_token_latency_seconds"
    assert value(found, itl + "_count", model_name="m") == 6
    assert value(found, itl + "_sum", model_name="m") == pytest.approx(0.06 + 0.01 + 0.14 + 0.01)
    assert value(found, itl + "_bucket", model_name="m", le="0.01") == 2
    assert value(found, itl + "_bucket", model_name="m", le="0.025") == 5
    assert value(found, "vllm:time_per_output_token_seconds_count", model_name="m") == 6
    e2e = "vllm:e2e_request_latency_seconds"
    assert value(found, e2e + "_sum", model_name="m") == pytest.approx(0.13 + 0.8)
    assert value(found, "vllm:time_to_first_token_seconds_sum", model_name="m") == (
        pytest.approx(0.06 + 0.55)
    )
    abort = value(found, "vllm:request_success_total", model_name="m", finished_reason="abort")
    assert abort == 1  # the client went away
    assert value(found, "vllm:num_requests_waiting", model_name="m") == 0
    assert len(ITL_BUCKETS) == 19


def test_faults_by_type_every_type_present() -> None:
    meter = Meter(FAULT_TYPES)
    meter.fault("503")
    meter.fault("503")
    meter.fault("reset")
    found = samples(meter)
    counts = {kind: value(found, "mock_openai_faults_total", type=kind) for kind in FAULT_TYPES}
    assert counts == {kind: {"503": 2, "reset": 1}.get(kind, 0) for kind in FAULT_TYPES}


def test_the_pacing_lag_histogram_is_the_lag_watch_feed() -> None:
    before = overload.lag_counts()
    watch = overload.LagWatch()
    watch.add(0, 5, 0.0)
    watch.add(3, 2, 0.5)
    watch.add(70, 1, 1.2)  # a new window: the first one's counts move to the totals
    assert [a - b for a, b in zip(overload.lag_counts(), before, strict=True)][:4] == [5, 0, 0, 2]
    found = samples(Meter(FAULT_TYPES))
    lag = "mock_openai_pacing_lag_seconds"
    base = sum(before)
    assert value(found, lag + "_count") == base + 8
    low = sum(before[:1])
    assert value(found, lag + "_bucket", le="0.0") == low + 5
    assert value(found, lag + "_bucket", le="0.005") == sum(before[:6]) + 7
    assert value(found, lag + "_bucket", le="0.05") == sum(before[:51]) + 7  # 70 ms: past it


def test_the_workers_figures_add_up_through_their_files(tmp_path: Path) -> None:
    one, two = Meter(FAULT_TYPES, tmp_path), Meter(FAULT_TYPES, tmp_path)
    two._own = tmp_path / "other-worker.json"  # the same process plays both workers
    one.at_once(*told(), 0.002)
    two.at_once(*told(), 0.0004)
    two.at_once(*told("n", 1, 1, "length"), 0.004)
    two.fault("500")
    two.flush(0.0)
    assert (tmp_path / "other-worker.json").exists()
    found = samples(one)
    assert value(found, "vllm:prompt_tokens_total", model_name="m") == 20
    assert value(found, "vllm:prompt_tokens_total", model_name="n") == 1
    assert value(found, "mock_openai_faults_total", type="500") == 1
    one.flush(0.0)
    assert samples(two) == found  # either worker's scrape says the same
    (tmp_path / "broken.json").write_bytes(b"{not json")
    assert samples(one) == found  # a file being replaced is skipped


def test_model_names_past_the_most_are_counted_as_other() -> None:
    meter = Meter(FAULT_TYPES)
    for k in range(300):
        meter.at_once(*told(f"m{k}", 1, 1), 0.0)
    assert len(meter.series) == 257 and meter.series["other"][0] == 300 - 256
