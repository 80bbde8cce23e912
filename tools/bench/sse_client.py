"""A cheap SSE load client: N concurrent streams over raw asyncio sockets (uvloop).

    python tools/bench/sse_client.py --port P --streams 1000 --duration 10 [--json]

Each connection sends a streaming chat request, timestamps every `data:` event as it arrives,
and starts the next request when `[DONE]` arrives. Reports first-token latency (request sent ->
first event) and the gaps between consecutive events of one stream, p50/p99, plus events/s.
First-token latency is reported apart for each connection's first request (`ttft_warmup_*`):
those are sent all at once while connections are being opened, so they measure the ramp, not
the steady state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import cast

import numpy as np

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]


def request_bytes(port: int, max_tokens: int) -> bytes:
    body = json.dumps(
        {
            "model": "bench",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "max_tokens": max_tokens,
            "ignore_eos": True,
        }
    ).encode()
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (port, len(body), body)
    )


class StreamConnection(asyncio.Protocol):
    """One keep-alive connection sending streaming requests back to back. A bare protocol,
    not asyncio streams: at tens of thousands of events per second a `StreamReader` per read
    would make this client, not the server, the bottleneck."""

    def __init__(self, payload: bytes, stop_at: float, out: dict[str, list[float]]) -> None:
        self.payload, self.stop_at, self.out = payload, stop_at, out
        self.ttft = out["warmup"]  # the connection's first request; then out["ttft"]
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        self.sent, self.last, self.tail = time.monotonic(), 0.0, b""
        self.transport.write(self.payload)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        n = data.count(b"data: ")
        if n:
            if self.last:
                self.out["gaps"].append(now - self.last)
            else:
                self.ttft.append(now - self.sent)
                self.ttft = self.out["ttft"]
            self.last = now
            self.out["events"][0] += n
        self.tail = (self.tail + data)[-64:]
        if b"[DONE]" in self.tail and self.tail.endswith(b"0\r\n\r\n"):
            if now < self.stop_at:
                self.send()
            else:
                assert self.transport is not None
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def stream_loop(
    port: int, payload: bytes, stop_at: float, out: dict[str, list[float]]
) -> None:
    loop = asyncio.get_running_loop()
    transport, connection = await loop.create_connection(
        lambda: StreamConnection(payload, stop_at, out), "127.0.0.1", port
    )
    try:
        await connection.closed
    finally:
        transport.close()


async def main_async(args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, list[float]] = {"warmup": [], "ttft": [], "gaps": [], "events": [0]}
    payload = request_bytes(args.port, args.tokens)
    stop_at = time.monotonic() + args.duration
    start = time.monotonic()
    tasks = []
    for i in range(args.streams):
        tasks.append(asyncio.create_task(stream_loop(args.port, payload, stop_at, out)))
        if i % 50 == 49:
            await asyncio.sleep(0.005)  # spread connection set-up
    # Streams started before the deadline may finish; an overloaded server gets `grace` more
    # seconds, then whatever is still open is dropped (its events so far are counted).
    _, pending = await asyncio.wait(
        tasks, timeout=max(0.0, stop_at + args.grace - time.monotonic())
    )
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.monotonic() - start
    ttft, gaps = np.array(out["ttft"]) * 1000, np.array(out["gaps"]) * 1000
    warmup = np.array(out["warmup"]) * 1000
    return {
        "streams": args.streams,
        "events": out["events"][0],
        "elapsed_s": elapsed,
        "events_per_s": out["events"][0] / elapsed,
        "ttft_p50_ms": float(np.percentile(ttft, 50)) if len(ttft) else float("nan"),
        "ttft_p99_ms": float(np.percentile(ttft, 99)) if len(ttft) else float("nan"),
        "gap_p50_ms": float(np.percentile(gaps, 50)) if len(gaps) else float("nan"),
        "gap_p99_ms": float(np.percentile(gaps, 99)) if len(gaps) else float("nan"),
        "ttft_warmup_p50_ms": float(np.percentile(warmup, 50)) if len(warmup) else float("nan"),
        "ttft_warmup_p99_ms": float(np.percentile(warmup, 99)) if len(warmup) else float("nan"),
        "completed_streams": len(ttft) + len(warmup),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--grace", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if uvloop is not None:
        uvloop.install()
    result = asyncio.run(main_async(args))
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
