"""The Sanic application: routes, the OpenAI error boundary, and sending `Reply`s.

`create_app(settings)` is the module-level factory Sanic's worker processes call (it must be
picklable under the `spawn` start method); each worker builds or loads its corpus here.
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
from sanic.response import HTTPResponse

from sanic_mock.core.generated import EVENT_STREAM, JSON, Reply
from sanic_mock.core.replayed import api_for
from sanic_mock.errors import (
    AuthenticationError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    OpenAIError,
    ServerError,
    too_large,
)
from sanic_mock.serve.pacing import paced
from sanic_mock.settings import Settings
from sanic_mock.wire.ids import IdSource

log = logging.getLogger("sanic_mock")

_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
    "username) if you're accessing the API from your browser and are prompted for a username. "
    "You can obtain an API key from https://platform.openai.com/account/api-keys."
)

SORRY = "The server had an error while processing your request. Sorry about that!"


class OpenAIErrorHandler(ErrorHandler):
    """Every exception becomes an OpenAI error object; never a traceback or an HTML page."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        error = to_openai_error(request, exception)
        body, status, request_id = error_answer(error, f"{request.method} {request.path}")
        return Answer(body, JSON, request_id, time.monotonic(), status=status)


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


_ERROR_IDS = IdSource()


class Answer(HTTPResponse):
    """A response carrying the headers the real API sends with every answer (the SDKs read
    `x-request-id`), encoded to bytes once here.

    Sanic's `processed_headers` re-sanitises and re-encodes every header of every response, which
    cost ~17 µs per request for these four; ours are built from our own ids and numbers, never
    from client input, so only the few Sanic adds itself (content-length, connection) go its way.
    `__init__` sets `HTTPResponse`'s attributes itself, without the two header dicts its
    constructors build (`tests/test_answer.py` checks that every attribute is set).
    """

    __slots__ = ("_head",)

    def __init__(
        self,
        body: bytes | None,
        content_type: str,
        request_id: str,
        started: float,
        status: int = 200,
    ) -> None:
        self.asgi = False
        self.body = body or b""
        self.content_type = content_type
        self.stream = None
        self.status = status
        self.headers = Header()
        self._cookies = None
        self._head = answer_head(content_type, request_id, started)

    @property
    def processed_headers(self) -> Iterator[tuple[bytes, bytes]]:
        yield from self._head
        for name, value in self.headers.items():
            yield name.encode(), str(value).encode()


def answer_head(
    content_type: str, request_id: str, started: float
) -> tuple[tuple[bytes, bytes], ...]:
    """The headers the real API sends with every answer, as bytes."""
    return (
        (b"content-type", content_type.encode()),
        (b"x-request-id", request_id.encode()),
        (b"openai-version", b"2020-10-01"),
        (b"openai-processing-ms", b"%d" % ((time.monotonic() - started) * 1000)),
    )


def error_answer(error: OpenAIError, where: str) -> tuple[bytes, int, str]:
    """An error's body, status and request id; a `ServerError` is logged with the traceback
    being handled and `where` (method and path)."""
    if isinstance(error, ServerError):
        log.exception("unexpected error on %s", where)
    return error.render(), error.status, _ERROR_IDS.request()


def authorize(expected: str | None, given: str | None) -> None:
    """Raise the real API's 401 unless `given` (the Authorization header) is `expected`."""
    if expected is None or given == expected:
        return
    if given is None:
        raise AuthenticationError(_NO_KEY)
    key = given.removeprefix("Bearer ").strip()
    shown = key[:3] + "*" * max(len(key) - 7, 0) + key[-4:] if len(key) > 8 else "***"
    raise AuthenticationError(
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


# What route handlers return: a response, or a coroutine Sanic awaits (see `respond`).
Handled = HTTPResponse | Coroutine[Any, Any, HTTPResponse | None]


def respond(request: Request, reply: Reply, request_id: str, started: float) -> Handled:
    """A `Reply` as a response when it is due now (a JSON body, or an unpaced stream in one
    write), else as a coroutine that waits and sends it (`send_later`).

    Route handlers are plain functions returning this: Sanic awaits what a handler returns when
    it is awaitable, so the common case runs no coroutine of ours at all.
    """
    now = reply.at_once()
    if now is not None:
        return Answer(now[0], now[1], request_id, started)
    return send_later(request, reply, request_id, started)


async def send_later(
    request: Request, reply: Reply, request_id: str, started: float
) -> HTTPResponse | None:
    """A JSON body after its delay, or a paced stream frame by frame (`streaming.paced`)."""
    if reply.frames is None:
        await asyncio.sleep(reply.first_delay - (time.monotonic() - started))
        return Answer(reply.body, JSON, request_id, started)
    await paced(request, reply, Answer(None, EVENT_STREAM, request_id, started), started)
    return None


def arrival(request: Request) -> float:
    """When the request arrived, on the monotonic clock: Sanic's HTTP/1.1 protocol stamps every
    read (`_time`, for its timeouts), so under a burst of requests the simulated delays count
    from arrival, not from when the handler got its turn. Now, where there is no stamp (ASGI)."""
    stamp = getattr(getattr(request.stream, "protocol", None), "_time", None)
    return stamp if isinstance(stamp, float) else time.monotonic()


def create_app(settings: Settings, name: str = "mock_openai") -> Sanic[Any, Any]:
    if settings.upstream is not None:  # `record`, `serve --on-miss proxy`: the recording proxy
        from sanic_mock.record.proxy import create_record_app

        return create_record_app(settings, name)
    app: Sanic[Any, Any] = Sanic(
        name,
        env_prefix=None,
        error_handler=OpenAIErrorHandler(),
        configure_logging=settings.verbose,  # quiet unless -v: one start-up line is printed
    )
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    app.config.KEEP_ALIVE_TIMEOUT = 120
    app.config.NOISY_EXCEPTIONS = False
    state = app.ctx
    state.settings = settings

    @app.before_server_start
    async def load(app: Sanic[Any, Any]) -> None:
        # Each worker loads its corpus here; the main process of a multi-worker server does not.
        state.api = api_for(settings)

    expected_auth = settings.authorization  # made once, not per request

    def check(request: Request) -> None:
        # The body limit is enforced below the app: Sanic's REQUEST_MAX_SIZE natively,
        # `asgi.MockASGI` under hypercorn and granian.
        authorize(expected_auth, request.headers.get("authorization"))

    def json_reply(body: bytes) -> HTTPResponse:
        return Answer(body, JSON, state.api.ids.request(), time.monotonic())

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return HTTPResponse(b'{"status":"ok"}', content_type=JSON)

    @app.get("/v1/models")
    async def list_models(request: Request) -> HTTPResponse:
        check(request)
        return json_reply(state.api.models_body)

    @app.get("/v1/models/<model_id:path>")
    async def get_model(request: Request, model_id: str) -> HTTPResponse:
        check(request)
        return json_reply(state.api.model(model_id))

    @app.post("/v1/chat/completions")
    def chat_completions(request: Request) -> Handled:
        started = arrival(request)
        check(request)
        return respond(request, state.api.chat(request.body), state.api.ids.request(), started)

    @app.post("/v1/completions")
    def legacy_completions(request: Request) -> Handled:
        started = arrival(request)
        check(request)
        return respond(
            request, state.api.completions(request.body), state.api.ids.request(), started
        )

    @app.post("/v1/embeddings")
    def create_embeddings(request: Request) -> Handled:
        started = arrival(request)
        check(request)
        return respond(
            request, state.api.embeddings(request.body), state.api.ids.request(), started
        )

    return app
