"""Run the app on granian, the default HTTP/2 engine: a Rust server, much faster than hypercorn.

granian serves the app through its RSGI interface (`serve/rsgi.py`: the hot routes answered
directly, paced streams through the loop's one `Pacer`, everything else by the Sanic app as ASGI);
RSGI costs less per request than granian's ASGI (HTTP2.md). With TLS granian negotiates `h2` or
`http/1.1` by ALPN on TLS 1.3 only; without TLS (`--http2`) it serves HTTP/1.1 and cleartext
HTTP/2 by prior knowledge on one port (`--http auto`). It does not serve HTTP/3 and does not
do the h2c `Upgrade` dance (an HTTP/1.1 request with `Upgrade: h2c` is answered on HTTP/1.1).

granian loads only PKCS#8 keys (`BEGIN PRIVATE KEY`); a PKCS#1 or SEC1 key (`BEGIN RSA/EC PRIVATE
KEY`) is rewritten to PKCS#8 into a private temporary directory for the server's lifetime.

granian's multi-threaded runtime is asked for: with the single-threaded one it picks for RSGI, a
worker that had served a load test did not stop on SIGTERM and was killed after the grace time.
granian is imported when serving, not with this module (start-up of the other runners).

Stop signals in a worker (`Worker`). granian's manager turns a SIGINT or SIGTERM into one
SIGTERM per worker (`_stop_workers`). In the worker granian's loop handler, for both signals,
calls `set()` on the worker's `WorkerSignal`: a crossbeam channel of capacity one, read once by
a thread that `serve` starts after `__rsgi_init__`. Before that thread reads it, a second `set()`
blocks for ever, holding the GIL. A Ctrl-C reaches the whole process group: a worker still
starting (its `__rsgi_init__` runs the lifespan that loads the corpus; with two workers one often
starts after the other already answers) got the terminal's SIGINT and the manager's SIGTERM,
hung in the second `set()` and was killed `STOP_GRACE_S` later (one Ctrl-C in four). And a
SIGTERM that came between the fork and granian's own handlers went to the manager's handlers
the fork had inherited, and was lost: the worker served until killed. So a worker ignores
SIGINT, as Sanic's workers do (`processes.stop_now_on_signals`); it is forked with SIGTERM
blocked, which ends it at once while it starts (it has served nothing), and is blocked again
from the end of its start-up until `serve` has started that thread, then handled by granian
once (a later SIGTERM is ignored: a third `set()` would block the same way).
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from types import FrameType
from typing import Any

from sanic_mock.run.processes import GRACE_S, STOP_SIGNALS, stop_now
from sanic_mock.serve.rsgi import RSGIApp, rsgi_app
from sanic_mock.settings import Settings, SettingsError

MAX_STREAMS = 1000  # concurrent HTTP/2 streams per connection (granian's default is 200)
BACKLOG = 4096
# After a stop signal, connections still open (a paced stream, an idle keep-alive client) get
# this many seconds (as on Sanic), then the worker is killed: granian's default waits for them
# forever. It also bounds a stop in which a worker does not end at all.
STOP_GRACE_S = int(GRACE_S)


def serve(settings: Settings) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes
    from granian.http import HTTP1Settings, HTTP2Settings
    from granian.log import LogLevels
    from granian.server import Server

    # granian itself panics on a taken port
    settings = settings.with_port(free_to_bind(settings.server.host, settings.server.port))
    with tempfile.TemporaryDirectory(prefix="mock-openai-") as tmp:
        key = None
        if settings.tls.key is not None:
            key = pkcs8_key(settings.tls.key, Path(tmp))
        server = Server(
            "sanic_mock.serve.rsgi:rsgi_app",  # only a label: the loader below builds the app
            address=settings.server.host,
            port=settings.server.port,
            interface=Interfaces.RSGI,
            runtime_mode=RuntimeModes.mt,
            workers=settings.server.workers,
            loop=Loops.uvloop,
            http=HTTPModes.auto,
            backlog=BACKLOG,
            workers_kill_timeout=STOP_GRACE_S,
            http1_settings=HTTP1Settings(keep_alive=True),
            http2_settings=HTTP2Settings(max_concurrent_streams=MAX_STREAMS),
            log_enabled=True,
            log_level=LogLevels.info if settings.server.verbose else LogLevels.warning,
            log_access=settings.server.verbose,
            ssl_cert=settings.tls.cert,
            ssl_key=key,
        )
        print(f"mock-openai listening on {describe(settings)}", file=sys.stderr, flush=True)
        # a worker is forked with the stop signals blocked (the manager unblocks them at once)
        os.register_at_fork(before=_block_stop_signals, after_in_parent=_unblock_stop_signals)
        server.serve(target_loader=functools.partial(worker_app, settings), wrap_loader=False)


def _block_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def _unblock_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def worker_app(settings: Settings) -> Worker:
    """granian's loader, called in each worker before granian sets its signal handlers (the
    worker was forked with the stop signals blocked; they stay so)."""
    _block_stop_signals()  # for a worker that was spawned, not forked
    return Worker(rsgi_app(settings))


class Worker:
    """`app` as granian's worker runs it, with the stop signals of the module docstring."""

    def __init__(self, app: RSGIApp) -> None:
        self.app = app
        self.__rsgi__ = app.__rsgi__  # as it is: no extra call per request

    def __call__(self, scope: Any, proto: Any) -> Awaitable[None]:
        """What granian's loader type asks for; granian calls `__rsgi__`."""
        return self.__rsgi__(scope, proto)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # granian's handlers are set (`set_loop_signals`); its `serve` comes after this
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the manager's SIGTERM follows a Ctrl-C
        signal.signal(signal.SIGTERM, stop_now)  # ends it while it starts (one since the fork too)
        _unblock_stop_signals()
        self.app.__rsgi_init__(loop)
        _block_stop_signals()
        signal.signal(signal.SIGTERM, _once)
        # The first callback of granian's next run of the loop, after `serve`: a SIGTERM that
        # came meanwhile is delivered then, when the loop listens for it (uvloop only sees a
        # signal while it runs; one that comes in between is not handled)
        loop.call_soon(_unblock_stop_signals)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.app.__rsgi_del__(loop)


def _once(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler of SIGTERM: the loop still runs granian's handler for this one
    (uvloop dispatches from its wakeup pipe); any later SIGTERM is ignored."""
    signal.signal(signum, signal.SIG_IGN)


def free_to_bind(host: str, port: int) -> int:
    """`port` (or, for 0, a port the kernel picks) once it is known to be free on `host`."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SettingsError(f"cannot listen on {host}:{port} TCP: {exc.strerror}") from None
        return int(probe.getsockname()[1])


def describe(settings: Settings) -> str:
    n = settings.server.workers
    workers = f"{n} worker{'s' if n > 1 else ''}"
    where = f"{settings.server.host}:{settings.server.port}"
    if settings.tls.cert is None:
        return f"http://{where}/v1 (granian: HTTP/1.1 and h2c prior knowledge; {workers})"
    return f"https://{where}/v1 (granian: TLS 1.3, HTTP/2 and HTTP/1.1; {workers})"


def pkcs8_key(key: Path, tmp: Path) -> Path:
    """`key` itself when it is PKCS#8 PEM, else a PKCS#8 copy of it written under `tmp`."""
    from cryptography.hazmat.primitives import serialization

    data = key.read_bytes()
    if b"-----BEGIN PRIVATE KEY-----" in data:
        return key
    try:
        loaded = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SettingsError(
            f"--tls-key {key}: cannot convert to PKCS#8 for granian: {exc}"
        ) from None
    out = tmp / "key.pem"
    out.write_bytes(
        loaded.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    out.chmod(0o600)
    return out
