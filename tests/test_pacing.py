"""Paced streams against the real server: the first event waits for the first-token delay and
events are spaced by the response delay. Only lower bounds are asserted (a busy machine can make
events late, never early); accuracy under load is measured by tools/bench/run.py."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

from sanic_mock.streaming import BATCH, Pacer
from tests.servers import running

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 12}


@pytest.fixture(scope="module")
def paced_url() -> object:
    with running(
        "--pregen-count", "16", "--response-delay-ms", "30", "--first-token-delay-ms", "120"
    ) as srv:
        yield srv.url


def event_times(url: str, body: dict[str, object]) -> tuple[float, list[float], bytes]:
    start = time.monotonic()
    times, raw = [], b""
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=30) as resp:
        headers_at = time.monotonic() - start
        for chunk in resp.iter_raw():
            times.append(time.monotonic() - start)
            raw += chunk
    return headers_at, times, raw


def test_first_event_waits_for_the_first_token_delay(paced_url: str) -> None:
    headers_at, times, raw = event_times(paced_url, {**BODY, "stream": True})
    assert headers_at >= 0.119  # headers leave with the first event, not before
    assert times[0] >= 0.119
    events = [e for e in raw.split(b"\n\n") if e]
    assert events[0].startswith(b"data: {") and b'"role":"assistant"' in events[0]
    assert events[-1] == b"data: [DONE]" and len(events) == 1 + 12 + 1 + 1


def test_events_are_spaced_by_the_response_delay(paced_url: str) -> None:
    _, times, _ = event_times(paced_url, {**BODY, "stream": True})
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) >= 12  # one write per token: events are not coalesced when paced
    assert times[-1] - times[0] >= 11 * 0.030 - 0.002
    assert statistics.median(gaps) >= 0.028


def test_json_answer_waits_as_long_as_the_stream_would(paced_url: str) -> None:
    start = time.monotonic()
    resp = httpx.post(paced_url + "/v1/chat/completions", json=BODY, timeout=30)
    assert resp.status_code == 200
    assert time.monotonic() - start >= 0.120 + 11 * 0.030 - 0.002


def test_client_leaving_mid_stream_does_not_hurt_the_server(paced_url: str) -> None:
    body = {**BODY, "stream": True, "max_tokens": 200}
    for _ in range(3):
        with httpx.stream("POST", paced_url + "/v1/chat/completions", json=body) as resp:
            next(resp.iter_raw())  # read the first event, then hang up
    time.sleep(0.3)
    _, times, raw = event_times(paced_url, {**BODY, "stream": True})
    assert raw.endswith(b"data: [DONE]\n\n")
    assert httpx.get(paced_url + "/health").status_code == 200


class _Transport:
    def __init__(self, closing: bool = False) -> None:
        self.written: list[bytes] = []
        self.closing = closing

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing


def test_pacer_writes_every_due_frame_in_order_across_batches() -> None:
    """More streams due in one tick than one batch: all frames go out, in order, as chunks."""

    async def run() -> tuple[list[_Transport], _Transport]:
        loop = asyncio.get_running_loop()
        pacer = Pacer(loop)
        at = loop.time() + 0.01
        transports = [_Transport() for _ in range(3 * BATCH + 5)]
        frames = [b"one", b"two", b"three"]
        done = [pacer.write(t, frames, [at, at + 0.01, at + 0.02]) for t in transports]
        closed = _Transport(closing=True)
        done.append(pacer.write(closed, frames, [at, at, at]))
        await asyncio.wait_for(asyncio.gather(*done), timeout=5)
        return transports, closed

    transports, closed = asyncio.run(run())
    for t in transports:
        assert t.written == [b"3\r\none\r\n", b"3\r\ntwo\r\n", b"5\r\nthree\r\n"]
    assert closed.written == []
