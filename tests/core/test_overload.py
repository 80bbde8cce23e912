"""`core/overload.py`: the pacing lag's p99 per second, and one warning a minute above 1 ms."""

from __future__ import annotations

import logging

import pytest

from sanic_mock.core.overload import LagWatch


def test_p99_of_the_window() -> None:
    watch = LagWatch()
    watch.add(0, 990, 0.0)
    watch.add(7, 10, 0.5)
    assert watch.p99() == 0  # 1% at 7 ms: the 99th percentile is still on time
    watch.add(7, 1, 0.6)
    assert watch.p99() == 7
    watch.add(500, 1, 0.7)
    assert watch.counts[-1] == 1  # 63 ms and more share the last bucket


def test_one_warning_a_minute_saying_how_late(caplog: pytest.LogCaptureFixture) -> None:
    watch = LagWatch()
    caplog.set_level(logging.WARNING, logger="sanic_mock")
    for second in range(130):  # late every second for 130 s
        watch.add(5, 100, float(second))
    watch.add(0, 1, 131.0)
    assert watch.warnings == 3  # at 1 s, 61 s and 121 s
    assert len(caplog.records) == 3
    assert "5 ms late (p99, 100 frames" in caplog.records[0].getMessage()


def test_on_time_or_one_millisecond_late_is_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    watch = LagWatch()
    for second in range(5):
        watch.add(1, 100, float(second))
        watch.add(0, 100, second + 0.5)
    assert watch.warnings == 0 and not caplog.records
