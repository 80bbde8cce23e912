"""Paced streams against the real server: the first event waits for the first-token delay and
events are spaced by the response delay. Only lower bounds are asserted (a busy machine can make
events late, never early); accuracy under load is measured by tools/bench/run.py."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

from sanic_mock.serve.h1 import chunked
from sanic_mock.serve.pacing import BATCH, SLACK, Pacer, pacer, send_paced
from tests.servers import running

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 12}


@pytest.fixture(scope="module")
def paced_url() -> object:
    with running(
        "--pregen-count", "16", "--response-delay-ms", "30", "--first-token-delay-ms", "120"
    ) as srv:
        yield srv.url


def event_times(url: str, body: dict[str, object]) -> tuple[float, list[float], bytes]:
    """Seconds from sending the request to the headers and to each SSE event's arrival (events
    read together share a time), and the raw body."""
    start = time.monotonic()
    times: list[float] = []
    raw = b""
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=30) as resp:
        headers_at = time.monotonic() - start
        for chunk in resp.iter_raw():
            raw += chunk
            times += [time.monotonic() - start] * (raw.count(b"\n\n") - len(times))
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
    assert len(times) == 1 + 12 + 1 + 1  # role, tokens, finish, [DONE]
    # No event early (a busy machine may make one late). The role leaves with the first token,
    # token k (event k) is due 120 ms + (k - 1) * 30 ms after the request, and the finish and
    # [DONE] leave with the last token.
    due = [0.120] + [0.120 + (k - 1) * 0.030 for k in range(1, 13)] + [0.120 + 11 * 0.030] * 2
    for at, wanted in zip(times, due, strict=True):
        assert at >= wanted - 0.002
    gaps = [b - a for a, b in zip(times[1:12], times[2:13], strict=True)]
    assert statistics.median(gaps) >= 0.028  # one write per token when paced, not coalesced


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
        due = [at, at + 0.01, at + 0.02]
        done = [pacer.write(t, chunked(frames), due) for t in transports]
        closed = _Transport(closing=True)
        done.append(pacer.write(closed, chunked(frames), [at, at, at]))
        await asyncio.wait_for(asyncio.gather(*done), timeout=5)
        return transports, closed

    transports, closed = asyncio.run(run())
    for t in transports:
        assert t.written == [b"3\r\none\r\n", b"3\r\ntwo\r\n", b"5\r\nthree\r\n"]
    assert closed.written == []


def test_pacer_writes_head_and_end_with_the_first_and_last_frames() -> None:
    """How the fast path sends a whole response through the pacer: the status line and headers
    leave with the first frame, the closing chunk with the last; nothing to write resolves at
    once."""

    async def run() -> tuple[_Transport, _Transport]:
        loop = asyncio.get_running_loop()
        pacer = Pacer(loop)
        at = loop.time()
        some, none = _Transport(), _Transport()
        chunks = chunked([b"one", b"two"], b"HEAD", b"0\r\n\r\n")
        await pacer.write(some, chunks, [at, at + 0.01])
        await pacer.write(none, [], [])
        return some, none

    some, none = asyncio.run(run())
    assert some.written == [b"HEAD3\r\none\r\n", b"3\r\ntwo\r\n0\r\n\r\n"]
    assert none.written == []
    assert chunked([], b"HEAD", b"0\r\n\r\n") == [b"HEAD0\r\n\r\n"]


class _ClockedTransport(_Transport):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.at: list[float] = []

    def write(self, data: bytes) -> None:
        super().write(data)
        self.at.append(self.loop.time())


def test_pacer_never_writes_a_frame_early() -> None:
    """Irregular due times (a replayed stream's offsets: several frames in one millisecond, one
    repeated) and streams joining while others are waiting: each frame leaves in order, no more
    than SLACK before it is due."""

    async def run() -> list[tuple[list[float], _ClockedTransport]]:
        loop = asyncio.get_running_loop()
        pacer = Pacer(loop)
        runs = []
        for k in range(4):
            base = loop.time() + 0.005
            due = [base + t for t in (0.0, 0.0003, 0.0003, 0.0011, 0.0200, 0.0201, 0.0350)]
            transport = _ClockedTransport(loop)
            runs.append((due, transport, pacer.write(transport, [b"x"] * len(due), due)))
            await asyncio.sleep(0.004 * k)
        await asyncio.wait_for(asyncio.gather(*(done for _, _, done in runs)), timeout=5)
        return [(due, transport) for due, transport, _ in runs]

    for due, transport in asyncio.run(run()):
        assert len(transport.written) == len(due)
        for at, wanted in zip(transport.at, due, strict=True):
            assert at >= wanted - SLACK - 1e-6
        assert transport.at == sorted(transport.at)


def test_a_blocked_loop_is_reported_as_pacing_lag(caplog: pytest.LogCaptureFixture) -> None:
    """Frames due every millisecond while the loop is blocked for 30 ms at a time leave late:
    the pacer's watch sees a p99 above 1 ms and warns once."""

    async def run() -> Pacer:
        loop = asyncio.get_running_loop()
        pacer = Pacer(loop)
        at = loop.time() + 0.005
        frames = [b"x"] * 1200
        due = [at + k * 0.001 for k in range(len(frames))]
        done = pacer.write(_Transport(), chunked(frames), due)
        while not done.done():
            time.sleep(0.03)  # the loop cannot run the pacer meanwhile
            await asyncio.sleep(0)
        return pacer

    caplog.set_level("WARNING", logger="sanic_mock")
    pacer = asyncio.run(run())
    assert pacer.watch.warnings == 1
    assert "cannot keep its schedule" in caplog.text


def test_send_paced_sends_through_the_loops_one_pacer() -> None:
    """ASGI streams (hypercorn) are paced by the loop's `Pacer`, not by a sleep per event: 40
    streams of irregular due times each get every frame in order, `last` on the last only,
    never early, and the pacer's lag watch has counted every frame."""

    async def run() -> tuple[list[tuple[list[float], list[tuple[bytes, bool, float]]]], int]:
        loop = asyncio.get_running_loop()
        streams = []

        async def one(k: int) -> None:
            base = loop.time() + 0.002 * (k % 5)
            due = [base + t for t in (0.0, 0.0004, 0.003, 0.003, 0.009, 0.0125)]
            sent: list[tuple[bytes, bool, float]] = []

            async def send(frame: bytes, last: bool) -> None:
                sent.append((frame, last, loop.time()))
                await asyncio.sleep(0)  # an ASGI send yields to the loop

            streams.append((due, sent))
            await send_paced(send, [b"%d" % i for i in range(len(due))], due)

        await asyncio.wait_for(asyncio.gather(*(one(k) for k in range(40))), timeout=5)
        return streams, sum(pacer().watch.counts)

    streams, counted = asyncio.run(run())
    for due, sent in streams:
        assert [frame for frame, _, _ in sent] == [b"%d" % i for i in range(len(due))]
        assert [last for _, last, _ in sent] == [False] * (len(due) - 1) + [True]
        for (_, _, at), wanted in zip(sent, due, strict=True):
            assert at >= wanted - SLACK - 1e-6
    assert counted == sum(len(due) for due, _ in streams)


def test_send_paced_stops_pacing_when_the_sender_fails() -> None:
    """A client gone mid-stream (the send raises): send_paced raises it, and the pacer drops
    the stream's remaining frames instead of keeping them due."""

    async def run() -> tuple[list[bytes], int]:
        loop = asyncio.get_running_loop()
        at = loop.time() + 0.002
        due = [at + 0.002 * k for k in range(10)]
        sent: list[bytes] = []

        async def send(frame: bytes, last: bool) -> None:
            if len(sent) == 3:
                raise ConnectionError("gone")
            sent.append(frame)

        with pytest.raises(ConnectionError):
            await send_paced(send, [b"x"] * 10, due)
        await asyncio.sleep(0.03)  # past every due time: nothing left waiting in the wheel
        return sent, len(pacer()._slots)

    sent, waiting = asyncio.run(run())
    assert sent == [b"x"] * 3 and waiting == 0
