"""Run the app on Sanic's own server: one process, or `--workers N` processes on one port."""

from __future__ import annotations

import functools
import logging
import socket
import sys

# Sanic imports aioquic, and with it cryptography and pyOpenSSL (~0.2 s of start-up), only for
# its own HTTP/3, which this runner does not serve (HTTP/3 is hypercorn's, see HTTP2.md). Hide
# aioquic while Sanic is imported, then let it be imported normally again.
_HIDDEN = "aioquic" not in sys.modules
if _HIDDEN:
    sys.modules["aioquic"] = None  # type: ignore[assignment]
from sanic import Sanic  # noqa: E402
from sanic.worker.loader import AppLoader  # noqa: E402

from sanic_mock.record.app import create_record_app  # noqa: E402
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
    logging.basicConfig(
        # -v: INFO, the access lines; DEBUG let every library below log each request's
        # internals too (httpcore's ten lines per upstream call, hpack's forty per h2 one)
        level=logging.INFO if settings.server.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ssl_ctx = None
    if settings.tls.cert is not None and settings.tls.key is not None:
        # HTTP/2 by ALPN needs the hypercorn runner; Sanic serves HTTPS/1.1 only.
        ssl_ctx = server_context(settings.tls.cert, settings.tls.key, alpn=("http/1.1",))
    # Bound here, before anything is said: a taken port is one line and exit 2, not a banner
    # and Sanic's traceback (Sanic serves on this socket, in every worker).
    sock = listen(settings.server.host, settings.server.port)
    if settings.server.port == 0:
        settings = settings.with_port(sock.getsockname()[1])
    # `record` and `serve --on-miss proxy` run the recording proxy, everything else the mock.
    factory = create_record_app if settings.record.upstream is not None else create_app
    loader = AppLoader(factory=functools.partial(factory, settings))
    app = loader.load()
    app.prepare(
        sock=sock,
        workers=settings.server.workers,
        ssl=ssl_ctx,
        motd=False,
        access_log=settings.server.verbose,
        # The direct path answers without Sanic's request objects, so without its access log:
        # -v logs every request through Sanic's own protocol.
        protocol=None if settings.server.verbose or settings.record.upstream else DirectProtocol,
        single_process=settings.server.workers == 1,
        backlog=BACKLOG,
    )
    scheme = "https" if ssl_ctx else "http"
    print(
        f"mock-openai listening on {scheme}://{settings.server.host}:{settings.server.port}/v1 "
        f"({settings.server.workers} worker{'s' if settings.server.workers > 1 else ''})",
        file=sys.stderr,
        flush=True,
    )
    if settings.server.workers == 1:
        Sanic.serve_single(app)
    else:
        Sanic.serve(primary=app, app_loader=loader)
