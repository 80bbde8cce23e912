"""The timing bench's load client: N paced streams over HTTP/1.1, HTTP/2 or HTTP/3, each event
timestamped as it arrives.

    python tools/bench/timing_client.py --protocol h1|h2c|h2|h3 --port P --streams N
        [--per-connection M] [--tokens T] [--ramp S] [--duration 5] [--server-pid PID] [--json]

`tools/bench/timing.py` runs it, pinned to its own core. Cheap enough not to be the bottleneck,
as far as Python allows: a bare `asyncio.Protocol` per TCP connection for HTTP/1.1 (no parser:
events are counted by their blank-line ends); for HTTP/2 a frame reader of its own over a raw
socket (`H2` below: half the client CPU per event of the `h2` library), M streams multiplexed
per connection; aioquic's `H3Connection` for HTTP/3, M streams per QUIC connection.
Stream starts are spread evenly over `--ramp` seconds so their events do not all fall due in the
same millisecond; each stream's first request is a warm-up (connection set-up) and is not
measured. Each stream then sends requests back to back for `--duration` seconds.

Measured per request: time to first token (request written -> first event), the gaps between
token events 1..T, and the token events delivered per second in the measured window. Measured
on the client itself, so a reader can tell who was late: its CPU share, its CPU per event, and
its own event-loop lag (how late a 5 ms timer fires), p50/p99.
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
from typing import Any, cast

import numpy as np

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

PROBE_S = 0.005  # the client's own loop-lag probe interval
CONNECT_S = 30.0  # the longest a QUIC handshake may take
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


class Tally:
    """What every stream records. A chat stream of T tokens is T + 3 events: the role and the
    first token (due together, at the first-token delay), tokens 2..T (one gap apart), then the
    finish chunk and `[DONE]` (due with token T)."""

    def __init__(self, tokens: int, window: tuple[float, float]) -> None:
        self.tokens, self.expected = tokens, tokens + 3
        self.window_start, self.stop_at = window
        self.ttft: list[float] = []
        self.gaps: list[float] = []
        self.window_events = 0  # token events that arrived inside the measured window
        self.measured = self.warmups = self.bad = 0


class Stream:
    """One stream slot: sends a request, counts its events as they arrive, sends the next."""

    __slots__ = ("tally", "send", "warm", "sent", "count", "last", "newline")

    def __init__(self, tally: Tally, send: Callable[[Stream], None]) -> None:
        self.tally, self.send, self.warm = tally, send, False
        self.sent = self.last = 0.0
        self.count, self.newline = 0, False

    def begin(self) -> None:
        self.count, self.newline = 0, False
        self.sent = time.monotonic()
        self.send(self)

    def feed(self, data: bytes, now: float) -> None:
        # An SSE event ends with a blank line; JSON inside an event never holds a raw newline.
        n = data.count(b"\n\n") + (self.newline and data[:1] == b"\n")
        self.newline = data[-1:] == b"\n" and data[-2:] != b"\n\n"
        if not n:
            return
        tally = self.tally
        for _ in range(n):
            i = self.count
            self.count = i + 1
            if i > tally.tokens or not i:
                if not i and self.warm:
                    tally.ttft.append(now - self.sent)
                continue
            if self.warm and i > 1:
                tally.gaps.append(now - self.last)
            if tally.window_start <= now < tally.stop_at:
                tally.window_events += 1
            self.last = now

    def done(self) -> bool:
        """The request ended: True if another should follow."""
        tally = self.tally
        if self.count != tally.expected:
            tally.bad += 1
        if self.warm:
            tally.measured += 1
        else:
            tally.warmups += 1
        self.warm = True
        return time.monotonic() < tally.stop_at


class H1(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection, one stream on it."""

    def __init__(self, tally: Tally, request: bytes, closed: asyncio.Future[None]) -> None:
        self.request, self.closed = request, closed
        self.stream = Stream(tally, self._write)
        self.transport: asyncio.Transport | None = None
        self.tail, self.head = b"", False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def _write(self, _: Stream) -> None:
        assert self.transport is not None
        self.tail, self.head = b"", True
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        stream = self.stream
        if self.head:  # the answer's first read starts with its status line
            if not data.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"not a 200 answer: {data[:200]!r}")
            self.head = False
        stream.feed(data, time.monotonic())
        if stream.count >= stream.tally.expected:
            self.tail = (self.tail + data)[-8:]
            if self.tail.endswith(b"\r\n0\r\n\r\n"):  # the closing chunk
                if stream.done():
                    stream.begin()
                else:
                    assert self.transport is not None
                    self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def literal(name: bytes, value: bytes) -> bytes:
    """An HPACK literal field without indexing, new name (RFC 7541 6.2.2): the same bytes on
    every request, so no encoder state is kept. Names and values here are under 127 bytes."""
    return b"\x00%c%s%c%s" % (len(name), name, len(value), value)


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return (
        len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream.to_bytes(4, "big") + payload
    )


DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 1, 1, 4, 8, 32
WINDOW = 2**31 - 1
PREFACE = (
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    # SETTINGS: no push, the largest stream window; then the connection window opened as wide
    + frame(SETTINGS, 0, 0, b"\x00\x02\x00\x00\x00\x00\x00\x04" + WINDOW.to_bytes(4, "big"))
    + frame(8, 0, 0, (WINDOW - 65535).to_bytes(4, "big"))
)


class H2(asyncio.Protocol):
    """One HTTP/2 connection (h2c by prior knowledge, or TLS with ALPN h2), M streams on it.

    A frame reader of its own, not the `h2` library: measured here at 100 h2c streams, `h2`'s
    state machine cost the client ~50 µs per DATA frame (more than the server under test spends
    on it); this reads frame headers and hands DATA payloads to their stream, answers SETTINGS
    and PING, decodes response headers with `hpack` (once per request, for the status), and
    fails on RST_STREAM or GOAWAY. Windows are opened once (2^31 - 1) and topped up per GB."""

    def __init__(self, tally: Tally, port: int, body: bytes, closed: asyncio.Future[None]) -> None:
        import hpack

        self.decoder = hpack.Decoder()
        self.tally, self.port, self.body, self.closed = tally, port, body, closed
        self.streams: dict[int, Stream] = {}
        self.next_id, self.open, self.unacked = 1, 0, 0
        self.buffer, self.block = b"", b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        tls = transport.get_extra_info("ssl_object")
        if tls is not None and tls.selected_alpn_protocol() != "h2":
            raise RuntimeError("the server did not choose h2 by ALPN")
        head = b"".join(
            literal(name, value)
            for name, value in (
                (b":method", b"POST"),
                (b":scheme", b"http" if tls is None else b"https"),
                (b":authority", b"127.0.0.1:%d" % self.port),
                (b":path", b"/v1/chat/completions"),
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(self.body)),
            )
        )
        self.head = len(head).to_bytes(3, "big") + bytes((HEADERS, END_HEADERS))
        self.data = len(self.body).to_bytes(3, "big") + bytes((DATA, END_STREAM))
        self.header_block = head
        self.transport.write(PREFACE)

    def add(self) -> Stream:
        self.open += 1
        return Stream(self.tally, self._write)

    def _write(self, stream: Stream) -> None:
        assert self.transport is not None
        sid = self.next_id
        self.next_id += 2
        self.streams[sid] = stream
        ident = sid.to_bytes(4, "big")
        self.transport.write(self.head + ident + self.header_block + self.data + ident + self.body)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buf = self.buffer + data if self.buffer else data
        at, size = 0, len(buf)
        while size - at >= 9:
            length = int.from_bytes(buf[at : at + 3], "big")
            end = at + 9 + length
            if end > size:
                break
            kind, flags = buf[at + 3], buf[at + 4]
            sid = int.from_bytes(buf[at + 5 : at + 9], "big") & 0x7FFFFFFF
            payload = buf[at + 9 : end]
            at = end
            if kind == DATA:
                self.unacked += length
                if flags & PADDED:
                    payload = payload[1 : len(payload) - payload[0]]
                if payload:
                    self.streams[sid].feed(payload, now)
            elif kind in (HEADERS, CONTINUATION):
                if kind == HEADERS:
                    skip = (1 if flags & PADDED else 0) + (5 if flags & PRIORITY else 0)
                    pad = payload[0] if flags & PADDED else 0
                    payload = payload[skip : len(payload) - pad]
                self.block += payload
                if flags & END_HEADERS:
                    headers = dict(self.decoder.decode(self.block, raw=True))
                    self.block = b""
                    status = headers.get(b":status")
                    if status is not None and status != b"200":
                        raise RuntimeError(f"not a 200 answer: {headers}")
            elif kind == SETTINGS:
                if not flags & ACK:
                    self._send(frame(SETTINGS, ACK, 0))
            elif kind == PING:
                if not flags & ACK:
                    self._send(frame(PING, ACK, 0, payload))
            elif kind in (RST_STREAM, GOAWAY):
                raise RuntimeError(f"HTTP/2 frame {kind} from the server: {payload!r}")
            if flags & END_STREAM and kind in (DATA, HEADERS):
                stream = self.streams.pop(sid)
                if stream.done():
                    stream.begin()
                else:
                    self.open -= 1
        self.buffer = buf[at:]
        if self.unacked > 2**30:  # keep the connection window open: one update a GB
            self._send(frame(8, 0, 0, self.unacked.to_bytes(4, "big")))
            self.unacked = 0
        if not self.open:
            assert self.transport is not None
            self.transport.close()

    def _send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def h3_protocol(tally: Tally, port: int, body: bytes, closed: asyncio.Future[None]) -> Any:
    """A QuicConnectionProtocol class speaking HTTP/3 with M streams (aioquic)."""
    from aioquic.asyncio.protocol import QuicConnectionProtocol
    from aioquic.h3.connection import H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived

    headers = [
        (b":method", b"POST"),
        (b":scheme", b"https"),
        (b":authority", b"127.0.0.1:%d" % port),
        (b":path", b"/v1/chat/completions"),
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
    ]

    class H3(QuicConnectionProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.http = H3Connection(self._quic)
            self.streams: dict[int, Stream] = {}
            self.open = 0

        def add(self) -> Stream:
            self.open += 1
            return Stream(tally, self._write)

        def _write(self, stream: Stream) -> None:
            sid = self._quic.get_next_available_stream_id()
            self.streams[sid] = stream
            self.http.send_headers(sid, headers)
            self.http.send_data(sid, body, end_stream=True)
            self.transmit()

        def quic_event_received(self, event: Any) -> None:
            now = time.monotonic()
            for h3_event in self.http.handle_event(event):
                if isinstance(h3_event, DataReceived):
                    stream = self.streams[h3_event.stream_id]
                    if h3_event.data:
                        stream.feed(h3_event.data, now)
                    if h3_event.stream_ended:
                        del self.streams[h3_event.stream_id]
                        if stream.done():
                            stream.begin()
                        else:
                            self.open -= 1
                            if not self.open and not closed.done():
                                closed.set_result(None)
                elif isinstance(h3_event, HeadersReceived):
                    if dict(h3_event.headers).get(b":status") != b"200":
                        raise RuntimeError(f"not a 200 answer: {h3_event.headers}")

    return H3


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


async def h3_connection(port: int, protocol: Any) -> Any:
    from aioquic.asyncio.client import connect as quic_connect
    from aioquic.h3.connection import H3_ALPN
    from aioquic.quic.configuration import QuicConfiguration

    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE)
    config.max_data = config.max_stream_data = 2**30
    # `connect` is an async context manager: entered here, never left (the connection is
    # closed by `close()` at the end, and the process exits). It is kept on the connection:
    # collected, its generator's `finally` would close the connection at once.
    manager = quic_connect("127.0.0.1", port, configuration=config, create_protocol=protocol)
    conn = await asyncio.wait_for(manager.__aenter__(), CONNECT_S)
    conn.manager = manager  # type: ignore[attr-defined]
    return conn


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
