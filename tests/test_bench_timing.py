"""The timing bench (`tools/bench/timing.py`) end to end, small: a real server over HTTP/1.1 and
h2c, a handful of short streams, the JSON report. It asserts what holds on any machine, however
loaded: every stream had the exact events of its configured length, none of them early."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "bench" / "timing.py"
STREAMS, TOKENS, FIRST_MS, GAP_MS = 8, 8, 50, 10


@pytest.mark.parametrize(
    "protocol",
    [
        "h1",
        pytest.param(
            "h2c-granian",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("granian") is None, reason="granian is not installed"
            ),
        ),
    ],
)
def test_timing_bench_measures_real_streams(protocol: str) -> None:
    cmd = [sys.executable, str(TOOL), "--protocols", protocol, "--streams", str(STREAMS)]
    cmd += ["--floor-streams", "0", "--tokens", str(TOKENS), "--first-ms", str(FIRST_MS)]
    cmd += ["--gap-ms", str(GAP_MS), "--duration", "0.5", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    (result,) = json.loads(out.stdout)
    assert result["name"] == protocol and result["streams"] == STREAMS
    # Each stream's warm-up request, then at least one measured request each, all complete and
    # each of exactly TOKENS + 3 events (role, the tokens, finish, [DONE]).
    assert result["warmup_requests"] == STREAMS
    assert result["measured_requests"] >= STREAMS
    assert result["bad_requests"] == 0 and result["unfinished_connections"] == 0
    # The mock never answers early: the first token comes at least the configured delay after
    # the request was written (the client stamps it before the server can read it). 1 ms of
    # slack: uvloop's timers run on a clock that moves in whole milliseconds.
    assert result["ttft_ms"]["p50"] >= FIRST_MS - 1
    assert result["ttft_excess_ms"]["p50"] == pytest.approx(result["ttft_ms"]["p50"] - FIRST_MS)
    assert result["token_events_per_s"] > 0
    assert 0 < result["server_cpu_share"] and 0 < result["client_cpu_share"]
