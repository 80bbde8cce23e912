"""The Sanic application: a route per endpoint of `core/endpoints.py`, the error handler for
what Sanic itself refuses (unknown paths, methods, sizes), and sending `Ready`/`Later` answers
through Sanic's response objects.

Every route hands the request's parts to the worker's `Service` (`core/service.py`), which
decides the answer. `create_app(settings)` is the module-level factory Sanic's worker processes
call (it must be picklable under the `spawn` start method); each worker builds or loads its
corpus in its start-up. Sanic serves the requests the HTTP/1.1 fast path (`serve/h1_fast.py`)
and the ASGI path (`serve/asgi.py`) hand over, and all of them with `-v`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Iterator
from typing import Any

from sanic import Request, Sanic
from sanic.compat import Header
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.http import Http
from sanic.log import LOGGING_CONFIG_DEFAULTS
from sanic.response import HTTPResponse

from sanic_mock.core.answerers import service_for
from sanic_mock.core.metrics import FLUSH_S, Meter
from sanic_mock.core.service import SORRY, Later, Ready, Service, failure
from sanic_mock.endpoints import ENDPOINTS, Endpoint
from sanic_mock.errors import (
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    OpenAIError,
    ServerError,
    too_large,
)
from sanic_mock.serve.h1 import CHUNKED, chunked, head_bytes
from sanic_mock.serve.pacing import due_times, pacer, reset, send_paced, sleep_until
from sanic_mock.settings import Settings
from sanic_mock.wire.ids import IdSource

log = logging.getLogger("sanic_mock")

# Request ids of errors answered before a worker's `Service` exists.
_ERROR_IDS = IdSource()

# Sanic's logging with its loggers kept to its own handlers: by default they also propagate to
# the root logger, which the runners give a handler of their own (for `sanic_mock`'s log), so
# every line came out twice, and an access line the second time empty (Sanic's access records
# carry their text in `extra`, which only its access formatter prints).
LOG_CONFIG: dict[str, Any] = {
    **LOGGING_CONFIG_DEFAULTS,
    "loggers": {
        name: {**logger, "propagate": False}
        for name, logger in LOGGING_CONFIG_DEFAULTS["loggers"].items()
    },
}


class OpenAIErrorHandler(ErrorHandler):
    """Every exception becomes an OpenAI error object; never a traceback or an HTML page."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        error = to_openai_error(request, exception)
        where = f"{request.method} {request.path}"
        service: Service | None = getattr(request.app.ctx, "service", None)
        if service is not None:
            return Answer(service.failed(error, where))
        return Answer(failure(error, where, _ERROR_IDS))


def to_openai_error(request: Request, exc: Exception) -> OpenAIError:
    if isinstance(exc, OpenAIError):
        return exc
    status = getattr(exc, "status_code", 500) if isinstance(exc, SanicException) else 500
    where = f"({request.method} {request.path})"
    if status == 404:
        return NotFound(f"Invalid URL {where}")
    if status == 405:
        return MethodNotAllowed(f"Invalid method for URL {where}")
    if status == 413:
        return too_large()
    if 400 <= status < 500:
        return InvalidRequest(str(exc) or "Bad request.")
    return ServerError(SORRY)


class Answer(HTTPResponse):
    """A `Ready` answer as a Sanic response, its headers encoded to bytes once.

    Sanic's `processed_headers` re-sanitises and re-encodes every header of every response, which
    cost ~17 µs per request for these four; ours are built from our own ids and numbers, never
    from client input, so only the few Sanic adds itself (content-length, connection) go its way.
    `__init__` sets `HTTPResponse`'s attributes itself, without the two header dicts its
    constructors build (`tests/serve/test_sanic_app.py` checks that every attribute is set).
    """

    __slots__ = ("_head",)

    def __init__(self, ready: Ready) -> None:
        status, head, body = ready
        self.asgi = False
        self.body = body
        self.content_type = head[0][1].decode()  # every head starts with it
        self.stream = None
        self.status = status
        self.headers = Header()
        self._cookies = None
        self._head = head

    @property
    def processed_headers(self) -> Iterator[tuple[bytes, bytes]]:
        yield from self._head
        for name, value in self.headers.items():
            yield name.encode(), str(value).encode()


# What route handlers return: a response, or a coroutine Sanic awaits (see `respond`).
Handled = HTTPResponse | Coroutine[Any, Any, HTTPResponse | None]


def respond(request: Request, answer: Ready | Later) -> Handled:
    """`answer` as a response when it is ready, else as a coroutine that waits and sends it.

    Route handlers are plain functions returning this: Sanic awaits what a handler returns when
    it is awaitable, so the common case runs no coroutine of ours at all.
    """
    if isinstance(answer, Ready):
        return Answer(answer)
    return send_later(request, answer)


async def send_later(request: Request, later: Later) -> HTTPResponse | None:
    """A JSON body once it is due, or a paced stream: the status line, headers and first frame
    through Sanic's response (so its keep-alive bookkeeping stays right), the middle frames
    through the `Pacer` straight to the transport, the last frame through Sanic again."""
    reply = later.reply
    loop = asyncio.get_running_loop()
    due = due_times(reply.due(), loop, later.started)
    if reply.reset and isinstance(request.stream, Http):
        # A fault: the frames so far, then a TCP reset, straight to the transport (the
        # connection is not Sanic's to keep alive after that).
        raw = request.transport
        start = head_bytes(200, later.head(), CHUNKED)
        await pacer().write(raw, chunked(reply.frames, start) if reply.frames else [b""], due)
        reset(raw)
        later.sent(time.monotonic(), time.monotonic())
        return None
    if reply.frames is None:
        await sleep_until(loop, due[0])
        now = time.monotonic()  # Sanic writes the body as soon as this returns
        later.sent(now, now)
        return Answer(Ready(200, later.head(), reply.body))
    frames = reply.frames
    head = Answer(Ready(200, later.head(), b""))
    first, ended = 0.0, False
    try:
        await sleep_until(loop, due[0])
        response = await request.respond(head)
        await response.send(frames[0])
        first = time.monotonic()
        if len(frames) == 1:
            await response.eof()
            ended = True
            return None
        middle = slice(1, len(frames) - 1)
        # Sanic's own HTTP/1.1 (not ASGI, whose mock transport cannot be written to directly).
        transport = request.transport if isinstance(request.stream, Http) else None
        if transport is not None:
            await pacer().write(transport, chunked(frames[middle]), due[middle])
        else:

            async def send(frame: bytes, last: bool) -> None:
                await response.send(frame)

            await send_paced(send, frames[middle], due[middle])
        await sleep_until(loop, due[-1])
        if transport is not None and transport.is_closing():
            return None
        await response.send(frames[-1], end_stream=True)
        ended = True
    except ConnectionError:
        # The client went away mid-stream: stop writing, nothing else to clean up.
        pass
    finally:
        now = time.monotonic()
        later.sent(first or now, now, gone=not ended)
    return None


def arrival(request: Request) -> float:
    """When the request arrived, on the monotonic clock: Sanic's HTTP/1.1 protocol stamps every
    read (`_time`, for its timeouts), so under a burst of requests the simulated delays count
    from arrival, not from when the handler got its turn. Now, where there is no stamp (ASGI)."""
    stamp = getattr(getattr(request.stream, "protocol", None), "_time", None)
    return stamp if isinstance(stamp, float) else time.monotonic()


def sanic_app(
    settings: Settings, name: str, configure_logging: bool | None = None
) -> Sanic[Any, Any]:
    """A Sanic app with our error handler and limits, and no routes yet. Sanic's logging is
    configured with `-v` only unless `configure_logging` says otherwise (the recorder's)."""
    app: Sanic[Any, Any] = Sanic(
        name,
        env_prefix=None,
        error_handler=OpenAIErrorHandler(),
        # quiet unless -v: one start-up line is printed
        configure_logging=(
            settings.server.verbose if configure_logging is None else configure_logging
        ),
        log_config=LOG_CONFIG,
    )
    app.config.REQUEST_MAX_SIZE = settings.server.max_body_bytes
    app.config.KEEP_ALIVE_TIMEOUT = 120
    app.config.NOISY_EXCEPTIONS = False
    return app


def create_app(settings: Settings, name: str = "mock_openai") -> Sanic[Any, Any]:
    """The mock's app: a route per endpoint, each answered by the worker's `Service`."""
    app = sanic_app(settings, name)
    state = app.ctx

    @app.before_server_start
    async def load(app: Sanic[Any, Any]) -> None:
        # Each worker loads its corpus here; the main process of a multi-worker server does not.
        state.service = service_for(settings)
        meter = state.service.meter
        if meter is not None and meter.directory is not None:
            share(meter, asyncio.get_running_loop())

    for endpoint in ENDPOINTS:
        app.add_route(
            _route(state, endpoint),
            endpoint.pattern,
            methods=list(endpoint.methods),
            name=endpoint.name,
        )
    return app


def share(meter: Meter, loop: asyncio.AbstractEventLoop) -> None:
    """Write this worker's `/metrics` figures for the other workers' scrapes, every `FLUSH_S`
    (`core/metrics.py`)."""

    def flush() -> None:
        try:
            meter.flush(time.monotonic())
        except OSError as exc:
            log.warning("cannot share this worker's /metrics figures: %s", exc)
        loop.call_later(FLUSH_S, flush)

    loop.call_later(FLUSH_S, flush)


def _route(state: Any, endpoint: Endpoint) -> Any:
    def route(request: Request, param: str = "") -> Handled:
        service: Service = state.service
        authorization = request.headers.get("authorization")
        started = arrival(request)
        control = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in request.headers.items()
            if name.lower().startswith("x-mock-")
        ]
        answer = service.answer(
            endpoint,
            authorization,
            request.body,
            started,
            param,
            request.query_string,
            control or None,
        )
        return respond(request, answer)

    return route
