"""`core/latency.py`: the means, their spread (normal truncated at 0, lognormal), the prefill
time, control overrides, and reproducibility for a seed."""

from __future__ import annotations

import numpy as np
import pytest

from sanic_mock.core.control import Control
from sanic_mock.core.latency import Latency, draw
from sanic_mock.settings import LatencyDistribution, TimingSettings

FRAMES = [b"x"] * 5


def latency(seed: int = 0, **timing: object) -> Latency:
    return Latency(TimingSettings(**timing), seed)  # type: ignore[arg-type]


def test_without_jitter_a_stream_keeps_its_two_delays() -> None:
    reply = latency(first_token_delay_ms=100, response_delay_ms=10).stream(FRAMES, 50)
    assert (reply.first_delay, reply.event_delay, reply.offsets) == (0.1, 0.01, None)
    assert latency(response_delay_ms=10).wait(5, 50) == pytest.approx((0.05, 0.04))


def test_prefill_adds_per_prompt_token_to_the_first_wait() -> None:
    lat = latency(first_token_delay_ms=100, response_delay_ms=10, prefill_ms_per_token=0.5)
    assert lat.stream(FRAMES, 200).first_delay == pytest.approx(0.2)
    assert lat.wait(3, 200) == pytest.approx((0.2 + 2 * 0.01, 2 * 0.01))


def test_control_sets_the_means_exactly() -> None:
    lat = latency(first_token_delay_ms=100, response_delay_ms=10, first_token_stddev_ms=30)
    reply = lat.stream(FRAMES, 0, Control(first_ms=40, gap_ms=5))
    assert reply.due() == pytest.approx([0.04, 0.045, 0.05, 0.055, 0.06])
    assert lat.paced_for(Control(tokens=3)) and not latency().paced_for(Control(tokens=3))
    assert latency().paced_for(Control(gap_ms=1))


def test_jittered_gaps_have_the_mean_and_stddev_asked_for() -> None:
    lat = latency(
        first_token_delay_ms=200,
        first_token_stddev_ms=50,
        response_delay_ms=20,
        response_delay_stddev_ms=5,
    )
    firsts, gaps = [], []
    for _ in range(2000):
        due = lat.stream([b"x"] * 20, 0).due()
        firsts.append(due[0])
        gaps.extend(np.diff(due))
    assert np.mean(firsts) == pytest.approx(0.2, rel=0.03)
    assert np.std(firsts) == pytest.approx(0.05, rel=0.06)
    assert np.mean(gaps) == pytest.approx(0.02, rel=0.02)
    assert np.std(gaps) == pytest.approx(0.005, rel=0.05)


def test_the_same_seed_draws_the_same_gaps() -> None:
    def dues(seed: int) -> list[float]:
        lat = latency(seed, response_delay_ms=20, response_delay_stddev_ms=5)
        return lat.stream(FRAMES, 0).due() + [*lat.wait(10, 0)]

    assert dues(3) == dues(3) != dues(4)


def test_normal_is_truncated_at_zero() -> None:
    rng = np.random.Generator(np.random.PCG64(1))
    gaps = draw(rng, 0.01, 0.05, 10_000, lognormal=False)
    assert gaps.min() == 0.0 and (gaps == 0).mean() > 0.3


def test_lognormal_has_the_mean_and_stddev_and_a_right_skew() -> None:
    rng = np.random.Generator(np.random.PCG64(1))
    gaps = draw(rng, 0.1, 0.05, 200_000, lognormal=True)
    assert gaps.mean() == pytest.approx(0.1, rel=0.01)
    assert gaps.std() == pytest.approx(0.05, rel=0.02)
    assert gaps.min() > 0
    assert np.median(gaps) < gaps.mean()  # skewed right: the median below the mean
    lat = latency(
        response_delay_ms=10,
        response_delay_stddev_ms=5,
        distribution=LatencyDistribution.LOGNORMAL,
    )
    assert min(np.diff(lat.stream([b"x"] * 1000, 0).due())) > 0
