"""What the timing bench's client measures per stream, and the three protocol clients that feed
it: `Stream` counts a request's SSE events as they arrive and keeps its time to first token and
its gaps in a `Tally`; `H1`, `H2` and the class `h3_protocol` makes carry requests and answers
over one connection each (`timing_client.py` opens them and reports).

HTTP/1.1: a bare `asyncio.Protocol`, no parser (events are counted by their blank-line ends;
the answer ends with the closing chunk). HTTP/2: a frame reader of its own over a raw socket,
not the `h2` library (see `H2`). HTTP/3: aioquic's `H3Connection`.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from typing import Any, cast

CONNECT_S = 30.0  # the longest a QUIC handshake may take


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
