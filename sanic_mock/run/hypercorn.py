"""Run the app on hypercorn: HTTP/2 over TLS, cleartext h2c, and HTTP/3 over QUIC.

The same Sanic app runs as an ASGI application (`asgi.MockASGI` restores the body limit and
`content-length`). What hypercorn serves on the one port number:

- with TLS: TLS 1.3 only (our `tls.server_context`, not hypercorn's TLS 1.2 default), ALPN `h2`
  then `http/1.1` on TCP; HTTP/3 on UDP (unless `--no-http3`), advertised by `alt-svc`;
- without TLS (`--http2`): HTTP/1.1, h2c by prior knowledge and h2c by `Upgrade`.

hypercorn's defaults are for web sites, not load tests: connections were closed after 1,000
requests, 100 concurrent streams per connection, 5 s keep-alive and a listen backlog of 100 all
stall or fail benchmarks, so they are raised here.

With `--workers N` the parent binds the TCP socket once and hands it to N spawned workers; each
worker binds its own UDP socket with `SO_REUSEPORT`, so the kernel keeps every QUIC flow (by
address 4-tuple) on one worker. A shared UDP socket would scatter a connection's packets across
processes that do not know it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import socket
import ssl
import sys
import types
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from multiprocessing.connection import wait
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, cast

import uvloop
from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.typing import ASGIFramework

from sanic_mock.run.processes import exit_now
from sanic_mock.run.tls import server_context
from sanic_mock.serve.asgi import MockASGI, asgi_app
from sanic_mock.settings import Settings, SettingsError

KEEP_ALIVE_S = 120  # as Sanic's native server
MAX_STREAMS = 1000  # concurrent h2/h3 streams per connection
BACKLOG = 4096
GRACE_S = 8.0  # after a stop signal the process ends within this, finished or not
QUIC_QUEUE = 256  # incoming datagrams waiting for the QUIC loop (hypercorn: 10)


class MockConfig(Config):
    """hypercorn's `Config` with our TLS context and load-test limits."""

    def __init__(self, settings: Settings) -> None:
        if settings.tls.cert is not None and settings.tls.key is not None:
            self.certfile = str(settings.tls.cert)
            self.keyfile = str(settings.tls.key)
        self.keep_alive_timeout = KEEP_ALIVE_S
        self.keep_alive_max_requests = sys.maxsize
        self.h2_max_concurrent_streams = MAX_STREAMS
        self.backlog = BACKLOG
        self.loglevel = "INFO" if settings.server.verbose else "WARNING"
        self.accesslog = "-" if settings.server.verbose else None
        if settings.tls.serves_http3:
            self.alt_svc_headers = [f'h3=":{settings.server.port}"; ma=86400']

    def create_ssl_context(self) -> ssl.SSLContext | None:
        if self.certfile is None or self.keyfile is None:
            return None
        return server_context(Path(self.certfile), Path(self.keyfile))


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        # -v: INFO, the access lines; DEBUG let every library below log each request's
        # internals too (httpcore's ten lines per upstream call, hpack's forty per h2 one)
        level=logging.INFO if settings.server.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def serve(settings: Settings) -> None:
    _logging(settings)
    if settings.tls.serves_http3 and settings.tls.cert is not None and settings.tls.key is not None:
        check_quic(settings.tls.cert, settings.tls.key)
    tcp = _bind(settings.server.host, settings.server.port, socket.SOCK_STREAM)
    if settings.server.port == 0:  # let the kernel pick, then serve QUIC on the same number
        settings = settings.with_port(tcp.getsockname()[1])
    udp = None
    if settings.tls.serves_http3:  # taken or not, know it before saying we listen
        udp = _bind(settings.server.host, settings.server.port, socket.SOCK_DGRAM)
    print(f"mock-openai listening on {describe(settings)}", file=sys.stderr, flush=True)
    if settings.server.workers == 1:
        _worker(settings, tcp, udp, None)
        return
    if udp is not None:
        udp.close()  # each worker binds its own (see the module docstring)
    sys.exit(_supervise(settings, tcp))


def check_quic(cert: Path, key: Path) -> None:
    """aioquic loads keys itself (cryptography, not OpenSSL's ssl): fail here, not per worker."""
    from aioquic.quic.configuration import QuicConfiguration

    try:
        QuicConfiguration(is_client=False).load_cert_chain(cert, key)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"--tls-cert/--tls-key cannot serve HTTP/3: {exc}") from None


def describe(settings: Settings) -> str:
    """One line: URL, what is served on it, and by whom."""
    n = settings.server.workers
    workers = f"{n} worker{'s' if n > 1 else ''}"
    where = f"{settings.server.host}:{settings.server.port}"
    if settings.tls.cert is None:
        return f"http://{where}/v1 (hypercorn: HTTP/1.1 and h2c; {workers})"
    h3 = f", HTTP/3 on UDP {settings.server.port}" if settings.tls.serves_http3 else ""
    return f"https://{where}/v1 (hypercorn: TLS 1.3, HTTP/2 and HTTP/1.1{h3}; {workers})"


def _bind(host: str, port: int, kind: int, reuse_port: bool = False) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        what = "TCP" if kind == socket.SOCK_STREAM else "UDP (HTTP/3)"
        raise SettingsError(f"cannot listen on {host}:{port} {what}: {exc.strerror}") from None
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


def _worker(
    settings: Settings, tcp: socket.socket, udp: socket.socket | None, stop: Event | None
) -> None:
    """One serving process; `stop` is the supervisor's shutdown flag (None: own signals)."""
    if stop is not None:
        # Ctrl-C reaches the whole process group: the supervisor alone acts on it, through `stop`.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _logging(settings)
    tls = settings.tls.cert is not None
    if udp is None and settings.tls.serves_http3:
        udp = _bind(settings.server.host, settings.server.port, socket.SOCK_DGRAM, reuse_port=True)
    quic = [] if udp is None else [udp]
    sockets = Sockets([tcp] if tls else [], [] if tls else [tcp], quic)
    app = asgi_app(settings)
    _add_reason_phrases()
    _roomier_quic_queue()
    trigger = _signalled if stop is None else functools.partial(_stopped, stop)
    uvloop.run(_run(app, MockConfig(settings), sockets, trigger))
    if stop is not None:  # a spawned worker: not multiprocessing's exit, which frees it all first
        exit_now(0)


async def _run(
    app: MockASGI,
    config: MockConfig,
    sockets: Sockets,
    trigger: Callable[[], Awaitable[None]],
) -> None:
    loop = asyncio.get_running_loop()
    stopping = False

    def quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # A refused TLS 1.2 client or a port scanner is not worth a traceback (hypercorn does the
        # same). Nor is a connection torn down at shutdown: hypercorn cancels those still open
        # after its grace period, and its HTTP/2 code then fails inside a task group that is
        # shutting down (RuntimeError), logged as an unhandled exception.
        if not stopping and not isinstance(context.get("exception"), ssl.SSLError):
            loop.default_exception_handler(context)

    loop.set_exception_handler(quiet)

    async def shutdown() -> None:
        nonlocal stopping
        await trigger()
        stopping = True
        if sockets.quic_sockets:  # after hypercorn has marked itself terminated (a few ticks)
            loop.call_later(0.05, _poke, sockets.quic_sockets[0].getsockname())
        # hypercorn gives open requests `graceful_timeout` (3 s); its QUIC shutdown was once
        # seen to hang after heavy HTTP/3 load, so the process ends after GRACE_S regardless.
        loop.call_later(GRACE_S, os._exit, 0)

    wrapped = ASGIWrapper(cast(ASGIFramework, app))
    try:
        await worker_serve(wrapped, config, sockets=sockets, shutdown_trigger=shutdown)
    except Exception:
        # The same failure also reaches hypercorn's wait for its connections to close (as an
        # ExceptionGroup). Once stopping, the process is ending anyway.
        if not stopping:
            raise


def _poke(address: tuple[Any, ...]) -> None:
    """Wake hypercorn's QUIC loop, which otherwise sleeps in `queue.get()` through shutdown
    until `graceful_timeout` (3 s) ends it; the QUIC parser drops a junk datagram. Under
    `SO_REUSEPORT` the kernel picks the receiving worker by source port, so send a few."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    for _ in range(8):
        with socket.socket(family, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
            sock.sendto(b"\0", address)


async def _signalled() -> None:
    loop = asyncio.get_running_loop()
    received = asyncio.Event()

    def on_signal() -> None:
        if received.is_set():  # a second Ctrl-C: stop now
            os._exit(130)
        received.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    await received.wait()


def _add_reason_phrases() -> None:
    """hypercorn's HTTP/1.1 status lines carry no reason phrase (`HTTP/1.1 200 `): valid, but
    h2load and other http-parser based load generators then count every answer as failed. Give
    hypercorn's h11 module a view of h11 whose `Response` adds the standard phrase ("OK")."""
    import h11
    from hypercorn.protocol import h11 as protocol

    if getattr(protocol, "h11", None) is not h11:  # already done, or hypercorn changed
        return

    def response(**kwargs: Any) -> h11.Response:
        status = kwargs["status_code"]
        kwargs.setdefault("reason", HTTPStatus(status).phrase if status in _KNOWN else b"")
        return h11.Response(**kwargs)

    view = types.SimpleNamespace(**{k: getattr(h11, k) for k in dir(h11) if not k.startswith("_")})
    view.Response = response
    setattr(protocol, "h11", view)  # noqa: B010 - a module attribute, replaced on purpose


_KNOWN = frozenset(s.value for s in HTTPStatus)


def _roomier_quic_queue() -> None:
    """hypercorn's UDP server queues at most 10 incoming datagrams and drops the rest. Under
    load that dropped about half of all QUIC packets here, and the losses stalled streams for
    seconds (a request once waited 30 s). Serve QUIC with a queue of `QUIC_QUEUE` datagrams."""
    from hypercorn.asyncio import run
    from hypercorn.asyncio.udp_server import UDPServer

    if getattr(run, "UDPServer", None) is not UDPServer:  # already done, or hypercorn changed
        return

    class RoomierUDPServer(UDPServer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.protocol_queue = asyncio.Queue(QUIC_QUEUE)

    setattr(run, "UDPServer", RoomierUDPServer)  # noqa: B010 - replaced on purpose


async def _stopped(stop: Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.2)


def _supervise(settings: Settings, tcp: socket.socket) -> int:
    """Start `--workers` processes, stop them all on SIGINT/SIGTERM or when one dies."""
    ctx = multiprocessing.get_context("spawn")  # the app factory is not fork-safe (see DESIGN §3)
    stop = ctx.Event()
    procs = [
        ctx.Process(target=_worker, args=(settings, tcp, None, stop), daemon=True)
        for _ in range(settings.server.workers)
    ]
    for proc in procs:
        proc.start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    wait([p.sentinel for p in procs])  # returns when the first worker exits
    stop.set()
    for proc in procs:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    codes = [p.exitcode or 0 for p in procs]
    return next((c for c in codes if c != 0), 0)
