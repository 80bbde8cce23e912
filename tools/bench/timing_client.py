"""The timing bench's load client: N paced streams over HTTP/1.1, HTTP/2 or HTTP/3, each event
timestamped as it arrives.

    python tools/bench/timing_client.py --protocol h1|h2c|h2|h3 --port P --streams N
        [--per-connection M] [--tokens T] [--ramp S] [--duration 5] [--server-pid PID] [--json]

`tools/bench/timing.py` runs it, pinned to its own core. Cheap enough not to be the bottleneck,
as far as Python allows (the protocol clients are in `timing_streams.py`): one connection per
stream for HTTP/1.1, M streams multiplexed per connection for HTTP/2 (a frame reader of its own:
half the client CPU per event of the `h2` library) and per QUIC connection for HTTP/3.
Stream starts are spread evenly over `--ramp` seconds so their events do not all fall due in the
same millisecond; each stream's first request is a warm-up (connection set-up) and is not
measured. Each stream then sends requests back to back for `--duration` seconds.

Measured per request: time to first token (request written -> first event), the gaps between
token events 1..T, and the token events delivered per second in the measured window. So that a
reader can tell who was late, also: the client's CPU share and CPU per event, its own event-loop
lag (how late a 5 ms timer fires), p50/p99, and, with `--server-pid`, the server's CPU; for both,
how long they were runnable but waited for a core (other processes on the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from timing_streams import H1, H2, Stream, Tally, h3_connection, h3_protocol  # tools/bench/

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

PROBE_S = 0.005  # the client's own loop-lag probe interval
GRACE_S = 10.0  # after the window, how long requests under way may take to finish


def body_bytes(tokens: int) -> bytes:
    return json.dumps(
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "max_tokens": tokens,
            "ignore_eos": True,
        }
    ).encode()


Connection = tuple[list[Stream], "asyncio.Future[None]", Callable[[], None]]


async def connect(args: argparse.Namespace, tally: Tally) -> list[Connection]:
    """Open the connections: (their streams, a future done when closed, how to close it);
    each holds `per_connection` streams (HTTP/1.1: one)."""
    loop = asyncio.get_running_loop()
    body = body_bytes(args.tokens)
    per = 1 if args.protocol == "h1" else args.per_connection
    conns: list[Connection] = []
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    tls.set_alpn_protocols(["h2"])
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (args.port, len(body), body)
    )
    for first in range(0, args.streams, per):
        closed: asyncio.Future[None] = loop.create_future()
        n = min(per, args.streams - first)
        if args.protocol == "h1":
            transport, proto = await loop.create_connection(
                functools.partial(H1, tally, request, closed), "127.0.0.1", args.port
            )
            conns.append(([proto.stream], closed, transport.close))
            continue
        if args.protocol in ("h2c", "h2"):
            transport, conn = await loop.create_connection(
                functools.partial(H2, tally, args.port, body, closed),
                "127.0.0.1",
                args.port,
                ssl=tls if args.protocol == "h2" else None,
            )
            close = transport.close
        else:
            conn = await h3_connection(args.port, h3_protocol(tally, args.port, body, closed))
            close = conn.close
        conns.append(([conn.add() for _ in range(n)], closed, close))
    return conns


def sched(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of a process, its threads and
    its descendants, from the scheduler's own accounting (Linux /proc/PID/task/TID/schedstat).
    The wait is what other processes on the core cost it: on a shared machine, a late event
    whose process waited was the machine's, not the server's or the client's."""
    on = wait = 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            ran, waited, _ = (task / "schedstat").read_text().split()
            on, wait = on + int(ran) / 1e9, wait + int(waited) / 1e9
            for child in (task / "children").read_text().split():
                child_on, child_wait = sched(int(child))
                on, wait = on + child_on, wait + child_wait
    except OSError:  # it has just exited
        pass
    return on, wait


def percentiles(values: list[float], scale: float = 1000.0) -> dict[str, float | None]:
    if not values:  # null, not NaN: the JSON stays standard
        return {"p50": None, "p99": None, "max": None}
    p50, p99, top = np.percentile(np.array(values) * scale, [50, 99, 100])
    return {"p50": float(p50), "p99": float(p99), "max": float(top)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    tally = Tally(args.tokens, (float("inf"), float("inf")))
    lags: list[float] = []
    probe_due = time.monotonic() + PROBE_S

    def probe() -> None:  # time.monotonic: uvloop's loop.time() moves in whole milliseconds
        nonlocal probe_due
        now = time.monotonic()
        lags.append(now - probe_due)
        probe_due = now + PROBE_S
        loop.call_later(PROBE_S, probe)

    loop.call_later(PROBE_S, probe)
    started = time.monotonic()
    conns = await connect(args, tally)
    setup = time.monotonic() - started
    streams = [s for group, _, _ in conns for s in group]
    # The measured window opens when the last stream has started: from then on every stream
    # is busy (its first, warm-up request included) until the window closes.
    tally.window_start = time.monotonic() + args.ramp
    tally.stop_at = tally.window_start + args.duration
    ramp_from = loop.time()
    for i, stream in enumerate(streams):  # spread evenly over the ramp
        loop.call_at(ramp_from + args.ramp * i / len(streams), stream.begin)
    await asyncio.sleep(max(0.0, tally.window_start - time.monotonic()))
    lags.clear()  # the probe's lag inside the measured window only
    me, server = os.getpid(), args.server_pid
    (cpu0, wait0), (server0, server_wait0) = sched(me), sched(server) if server else (0, 0)
    await asyncio.sleep(max(0.0, tally.stop_at - time.monotonic()))
    (cpu1, wait1), (server1, server_wait1) = sched(me), sched(server) if server else (0, 0)
    window_cpu = cpu1 - cpu0
    window_lags = list(lags)
    # Requests under way at the deadline may finish; after `grace`, whatever is open is dropped.
    _, pending = await asyncio.wait([closed for _, closed, _ in conns], timeout=args.grace)
    for _, _, close in conns:
        close()
    return {
        "protocol": args.protocol,
        "streams": args.streams,
        "per_connection": 1 if args.protocol == "h1" else args.per_connection,
        "tokens": args.tokens,
        "setup_s": setup,
        "window_s": args.duration,
        "measured_requests": tally.measured,
        "warmup_requests": tally.warmups,
        "unfinished_connections": len(pending),
        "bad_requests": tally.bad,
        "token_events_per_s": tally.window_events / args.duration,
        "ttft_ms": percentiles(tally.ttft),
        "itl_ms": percentiles(tally.gaps),
        "client_lag_ms": percentiles(window_lags),
        "client_cpu_share": window_cpu / args.duration,
        "client_wait_share": (wait1 - wait0) / args.duration,
        "client_us_per_event": window_cpu / max(tally.window_events, 1) * 1e6,
        "server_cpu_share": (server1 - server0) / args.duration,
        "server_wait_share": (server_wait1 - server_wait0) / args.duration,
        "server_us_per_event": (server1 - server0) / max(tally.window_events, 1) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocol", choices=["h1", "h2c", "h2", "h3"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--per-connection", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds; best: one stream's")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--grace", type=float, default=GRACE_S)
    parser.add_argument("--server-pid", type=int, help="to report its CPU (default: none)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if uvloop is not None:
        uvloop.install()
    result = asyncio.new_event_loop().run_until_complete(run(args))
    print(json.dumps(result) if args.json else result, flush=True)
    # No loop teardown: it would finalize aioquic's `connect` generators, each awaiting a peer
    # that, overloaded, may take minutes to confirm the close. The kernel closes the sockets.
    os._exit(0)


if __name__ == "__main__":
    main()
