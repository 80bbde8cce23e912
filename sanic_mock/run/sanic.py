"""Run the app on Sanic's own server: one process, or `--workers N` processes on one port.

The port is bound here, before anything is said, and each serving process serves on that socket;
how they start and stop on signals is `run/processes.py`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import socket
import sys
from types import FrameType
from typing import Any

# Sanic imports aioquic, and with it cryptography and pyOpenSSL (~0.2 s of start-up), only for
# its own HTTP/3, which this runner does not serve (HTTP/3 is hypercorn's, see HTTP2.md). Hide
# aioquic while Sanic is imported, then let it be imported normally again.
_HIDDEN = "aioquic" not in sys.modules
if _HIDDEN:
    sys.modules["aioquic"] = None  # type: ignore[assignment]
from sanic import Sanic  # noqa: E402
from sanic.server import runners  # noqa: E402
from sanic.worker.loader import AppLoader  # noqa: E402

from sanic_mock.run.processes import (  # noqa: E402
    GRACE_S,
    exit_now,
    stop_now,
    stop_now_on_signals,
    supervise,
)
from sanic_mock.run.tls import server_context  # noqa: E402
from sanic_mock.serve.h1_fast import DirectProtocol  # noqa: E402
from sanic_mock.serve.sanic_app import create_app  # noqa: E402
from sanic_mock.settings import Settings, SettingsError  # noqa: E402

if _HIDDEN:
    del sys.modules["aioquic"]


BACKLOG = 4096  # load tests open thousands of connections at once


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on `host:port`, or the one-line `SettingsError` saying why not."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise SettingsError(f"cannot listen on {host}:{port} TCP: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings) -> None:
    """Serve until a signal; the process ends here (`exit_now`), it does not return."""
    _logging(settings)
    # Bound here, before anything is said: a taken port is one line and exit 2, not a banner
    # and Sanic's traceback (Sanic serves on this socket, in every worker).
    sock = listen(settings.server.host, settings.server.port)
    if settings.server.port == 0:
        settings = settings.with_port(sock.getsockname()[1])
    scheme = "https" if settings.tls.cert is not None else "http"
    n = settings.server.workers
    print(
        f"mock-openai listening on {scheme}://{settings.server.host}:{settings.server.port}/v1 "
        f"({n} worker{'s' if n > 1 else ''})",
        file=sys.stderr,
        flush=True,
    )
    if n == 1:
        _serve(settings, sock, worker=False)
        exit_now(0)
    exit_now(supervise(n, _worker, (settings, sock)))


def _worker(settings: Settings, sock: socket.socket) -> None:
    """One of `--workers N` (a spawned process): SIGINT is the supervisor's, SIGTERM stops it."""
    _logging(settings)
    _serve(settings, sock, worker=True)
    exit_now(0)  # not multiprocessing's exit, which frees everything first


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        # -v: INFO, the access lines; DEBUG let every library below log each request's
        # internals too (httpcore's ten lines per upstream call, hpack's forty per h2 one)
        level=logging.INFO if settings.server.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _serve(settings: Settings, sock: socket.socket, worker: bool) -> None:
    """Serve on `sock` in this process until Sanic stops on a signal (SIGTERM in a worker)."""
    # Until Sanic's loop handles the signals, and again once its shutdown has begun, they end
    # the process at once (see run/processes.py for what they did instead).
    stop_now_on_signals(worker)
    ssl_ctx = None
    if settings.tls.cert is not None and settings.tls.key is not None:
        # HTTP/2 by ALPN needs the hypercorn runner; Sanic serves HTTPS/1.1 only.
        ssl_ctx = server_context(settings.tls.cert, settings.tls.key, alpn=("http/1.1",))
    # `record` and `serve --on-miss proxy` run the recording proxy, everything else the mock.
    factory = create_app
    if settings.record.upstream is not None:
        # imported only for the proxy: httpx and what it loads cost ~0.3 s of a cold start
        from sanic_mock.record.app import create_record_app

        factory = create_record_app
    app = AppLoader(factory=functools.partial(factory, settings)).load()
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = min(app.config.GRACEFUL_SHUTDOWN_TIMEOUT, GRACE_S)
    # Sanic's runner (sanic/server/runners.py) calls this by name as the server starts
    if not hasattr(runners, "_setup_system_signals"):
        raise RuntimeError("this Sanic sets up its stop signals elsewhere: see `_stop_signals`")
    runners._setup_system_signals = functools.partial(_stop_signals, worker=worker)

    @app.before_server_stop
    async def stop_at_the_next_signal(app: Sanic[Any, Any]) -> None:
        stop_now_on_signals(worker)  # Sanic has just removed its own handlers

    app.prepare(
        sock=sock,
        ssl=ssl_ctx,
        motd=False,
        access_log=settings.server.verbose,
        # The direct path answers without Sanic's request objects, so without its access log:
        # -v logs every request through Sanic's own protocol.
        protocol=None if settings.server.verbose or settings.record.upstream else DirectProtocol,
        single_process=True,
        backlog=BACKLOG,
    )
    Sanic.serve_single(app)


def _stop_signals(
    app: Sanic[Any, Any],
    run_multiple: bool,
    register: bool,
    loop: asyncio.AbstractEventLoop,
    worker: bool,
) -> None:
    """Sanic's runner calls this (in place of its own) once its server answers, before the
    `after_server_start` event: from here the stop signals are Sanic's graceful stop.

    Sanic's own version set both signals to SIG_IGN, then to uvloop handlers that stop the
    loop. A signal between the two was dropped; one while no loop ran (uvloop listens for
    signals only while it runs, and the runner runs it several times) was lost; one during the
    event stopped only the event's run of the loop. In each case the server served on, deaf
    to signals (about once in 60 starts of a loaded machine, and in CI). A plain handler
    replaces `stop_now` here in one step and runs whether a loop runs or not.
    """
    del run_multiple, register

    def on_stop(signum: int, frame: FrameType | None) -> None:
        if not app.state.is_running:  # still starting: nothing was served, nothing to drain
            stop_now(signum)
        elif loop.is_running():  # serving: Sanic's graceful stop
            app.stop(terminate=False)
        else:  # about to serve: the loop's next run returns at once, into the graceful stop
            loop.stop()

    signal.signal(signal.SIGTERM, on_stop)
    # a worker leaves SIGINT to the supervisor (run/processes.py)
    signal.signal(signal.SIGINT, signal.SIG_IGN if worker else on_stop)
