"""The one answer path: a request's parts in, an answer to send (`Ready`) or to send later
(`Later`) out.

Every transport calls `Service.answer` with the endpoint it looked up in `endpoints.py`, the
`Authorization` header, the body and the request's arrival time: the HTTP/1.1 fast path, Sanic's
routes, the ASGI path and the recorder. Here, once, are the API-key check, the error boundary
(every exception becomes the real API's error object, a bug a logged 500 `server_error`), the
headers the real API sends with every answer, and the dispatch to the worker's `Answerer`
(generated text, `core/generated.py`, or a recorded corpus, `core/replayed.py`). Around the
dispatch, for the POST endpoints, the simulated engine: a request's `x-mock-*` control headers
(`core/control.py`), faults on purpose (`core/faults.py`), rate limits (`core/limits.py`) and the
engine's slots (`core/load.py`); each costs one check on the hot path when it is off. What
each answer told its client is counted for `GET /metrics` (`core/metrics.py`): here for an
answer sent at once, by `Later.sent` when the transport has sent one that waited.
Transports only frame and send the bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple, Protocol

from sanic_mock.core import control as controls
from sanic_mock.core.control import STATUS_FAULTS, Control, Fault, Pairs
from sanic_mock.core.faults import Faults, InjectedError, applied
from sanic_mock.core.limits import Limits, RateLimited, requested
from sanic_mock.core.load import Engine
from sanic_mock.core.metrics import Meter
from sanic_mock.core.reply import JSON, SYSTEM, Clock, Reply, Unanswered
from sanic_mock.core.store import ResponseStore
from sanic_mock.endpoints import (
    CHAT,
    COMPLETIONS,
    EMBEDDINGS,
    HEALTH,
    HEALTH_BODY,
    INPUT_TOKENS,
    METRICS,
    MODEL,
    MODELS,
    RESPONSE,
    RESPONSE_CANCEL,
    RESPONSE_DELETE,
    RESPONSE_ITEMS,
    RESPONSES,
    Endpoint,
)
from sanic_mock.errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    OpenAIError,
    ServerError,
)
from sanic_mock.settings import FaultSettings
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.models import Catalog

log = logging.getLogger("sanic_mock")

Head = tuple[tuple[bytes, bytes], ...]

_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
    "username) if you're accessing the API from your browser and are prompted for a username. "
    "You can obtain an API key from https://platform.openai.com/account/api-keys."
)
SORRY = "The server had an error while processing your request. Sorry about that!"


class Answerer(Protocol):
    """What answers the POST endpoints: generated text or a recorded corpus. `ids` is shared
    with the service, which takes each answer's request id from it."""

    ids: IdSource
    catalog: Catalog
    store: ResponseStore  # the Responses API's stored responses

    def chat(self, raw: bytes, control: Control | None = None) -> Reply: ...

    def completions(self, raw: bytes, control: Control | None = None) -> Reply: ...

    def embeddings(self, raw: bytes, control: Control | None = None) -> Reply: ...

    def responses(self, raw: bytes, control: Control | None = None) -> Reply: ...

    def input_tokens(self, raw: bytes, control: Control | None = None) -> Reply: ...


Handler = Callable[..., Reply]  # an answerer's method: (body) or (body, control)


class Ready(NamedTuple):
    """An answer to send now: status, headers (without the framing ones) and body."""

    status: int
    head: Head
    body: bytes


# What a 429 fault says besides its error object: retry in a second, no requests left.
RATE_LIMITED: Head = (
    (b"retry-after", b"1"),
    (b"x-ratelimit-limit-requests", b"10000"),
    (b"x-ratelimit-remaining-requests", b"0"),
    (b"x-ratelimit-reset-requests", b"1s"),
)

HEALTHY = Ready(200, ((b"content-type", JSON.encode()),), HEALTH_BODY)


class Later(NamedTuple):
    """A reply that waits: a delayed JSON body or a paced stream."""

    reply: Reply
    request_id: str
    started: float  # the request's arrival, on `clock.monotonic`
    clock: Clock
    extra: Head = ()  # the rate-limit headers (`core/limits.py`)
    meter: Meter | None = None  # counts it once sent (`sent`)

    def head(self) -> Head:
        """The answer's headers: a stream's as of now (they go out with its first frame), a
        JSON body's as of when it is due (they go out with it)."""
        reply = self.reply
        if reply.frames is None:
            now = self.started + reply.first_delay
        else:
            now = self.clock.monotonic()
        head = answer_head(reply.content_type, self.request_id, self.started, now)
        extra = reply.headers + self.extra if self.extra else reply.headers
        return head + extra if extra else head

    def sent(self, first: float, last: float, gone: bool = False) -> None:
        """The transport is done with it: its first frame (or JSON body) left at `first`, its
        last at `last` (`clock.monotonic`); `gone`: the client went away before the end. For
        `/metrics`, which counts what the client got."""
        meter, tally = self.meter, self.reply.tally()
        if meter is not None and tally is not None:
            meter.sent(self.reply, tally, self.started, first, max(last, first), gone)


def answer_head(content_type: str, request_id: str, started: float, now: float) -> Head:
    """The headers the real API sends with every answer, as bytes."""
    return (
        (b"content-type", content_type.encode()),
        (b"x-request-id", request_id.encode()),
        (b"openai-version", b"2020-10-01"),
        (b"openai-processing-ms", b"%d" % ((now - started) * 1000)),
    )


def authorize(expected: str | None, given: str | None) -> None:
    """Raise the real API's 401 unless `given` (the Authorization header, as the transport read
    it) carries the credentials of `expected` (`Bearer KEY`). The exact header is checked first,
    the hot path; then the scheme is compared case-insensitively and the whitespace around the
    credentials dropped (RFC 9110 11.1 and 5.5), so `bearer KEY` passes on every transport."""
    if expected is None or given == expected:
        return
    if given is None:
        raise AuthenticationError(_NO_KEY)
    scheme, _, credentials = given.strip().partition(" ")
    credentials = credentials.strip()
    want_scheme, _, want = expected.partition(" ")
    if scheme.lower() == want_scheme.lower() and credentials == want:
        return
    key = credentials if scheme.lower() == "bearer" else given.strip()
    shown = key[:3] + "*" * max(len(key) - 7, 0) + key[-4:] if len(key) > 8 else "***"
    raise AuthenticationError(
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def failure(error: OpenAIError, where: str, ids: IdSource, clock: Clock = SYSTEM) -> Ready:
    """`error` as the real API's error answer. A `ServerError` is logged with the exception
    being handled and `where` (method and path)."""
    if isinstance(error, ServerError):
        log.exception("unexpected error on %s", where)
    now = clock.monotonic()
    head = answer_head(JSON, ids.request(), now, now) + error.headers
    return Ready(error.status, head, error.render())


class Service:
    """One worker's answering: see the module docstring. `forward`: a request the answerer
    has no answer for raises `Unanswered` to the caller (the recorder forwards it upstream)
    instead of becoming a 400."""

    def __init__(
        self,
        answerer: Answerer,
        authorization: str | None,
        clock: Clock = SYSTEM,
        error_ids: IdSource | None = None,
        forward: bool = False,
        faults: FaultSettings | None = None,
        seed: int = 0,
        limits: Limits | None = None,
        engine: Engine | None = None,
        meter: Meter | None = None,
    ) -> None:
        self.answerer = answerer
        self.authorization = authorization
        self.clock = clock
        self.ids = answerer.ids
        self.error_ids = error_ids or IdSource()
        self.forward = forward
        faults = faults or FaultSettings()
        self.faults = Faults(faults, seed)
        self._fault_rate = faults.rate  # 0: no draw at all (the hot path)
        self._control_headers = faults.control_headers
        self.limits = limits
        self.engine = engine
        self.meter = meter  # None: --no-metrics
        # Nothing to simulate around the answerer unless a request brings control headers.
        self._plain = not (faults.rate or limits or engine)
        self._posts = {
            CHAT: answerer.chat,
            COMPLETIONS: answerer.completions,
            EMBEDDINGS: answerer.embeddings,
            RESPONSES: answerer.responses,
            INPUT_TOKENS: answerer.input_tokens,
        }
        store = answerer.store
        self._stored = {  # (response id, query string) -> body
            RESPONSE: store.retrieve,
            RESPONSE_DELETE: store.delete,
            RESPONSE_ITEMS: store.input_items,
            RESPONSE_CANCEL: store.cancel,
        }

    def failed(self, error: OpenAIError, where: str) -> Ready:
        return failure(error, where, self.error_ids, self.clock)

    def answer(
        self,
        endpoint: Endpoint,
        authorization: str | None,
        body: bytes,
        started: float,
        param: str = "",
        query: str = "",
        control: Pairs | None = None,
    ) -> Ready | Later:
        """The answer to one request; `param` is the path parameter (`MODEL`'s model id, a
        response id), `query` the query string (read by `RESPONSE_ITEMS`), `control` the
        request's `x-mock-*` headers (`core/control.py`), if it has any."""
        if endpoint is HEALTH:
            return HEALTHY
        if endpoint is METRICS:
            return self._metrics()
        try:
            authorize(self.authorization, authorization)
            handler = self._posts.get(endpoint)
            if handler is None:
                return self._read(endpoint, param, started, query)
            if control is None and self._plain:
                reply = handler(body)  # the hot path
                extra: Head = ()
            else:
                simulated = self._simulated(handler, body, control, started)
                if isinstance(simulated, Ready):
                    return simulated
                reply, extra = simulated
                if reply.reset:
                    return self._later(reply, self.ids.request(), started, extra)
        except Unanswered:
            if self.forward:
                raise
            return self.failed(InvalidRequest("No recorded exchange matches this request."), "")
        except RateLimited as error:
            head = answer_head(JSON, self.error_ids.request(), started, self.clock.monotonic())
            head += ((b"retry-after", b"%d" % error.retry_after), *error.head)
            return Ready(429, head, error.render())
        except OpenAIError as error:
            return self.failed(error, f"{endpoint.method} {endpoint.path}{param}")
        except Exception:
            return self.failed(ServerError(SORRY), f"{endpoint.method} {endpoint.path}{param}")
        request_id = self.ids.request()
        whole = reply.at_once()
        if whole is None:
            return self._later(reply, request_id, started, extra)
        now = self.clock.monotonic()
        meter, asked = self.meter, reply.asked
        if meter is not None and asked is not None:
            meter.at_once(asked, reply.said, now - started)
        head = answer_head(reply.content_type, request_id, started, now)
        extra = reply.headers + extra if reply.headers else extra
        return Ready(200, head + extra if extra else head, whole)

    def _later(self, reply: Reply, request_id: str, started: float, extra: Head) -> Later:
        meter, asked = self.meter, reply.asked
        if meter is None or asked is None:
            return Later(reply, request_id, started, self.clock, extra)
        engine = self.engine
        meter.waits(asked.model, started if engine is None else engine.queued_until, started)
        return Later(reply, request_id, started, self.clock, extra, meter)

    def _metrics(self) -> Ready:
        """`GET /metrics` (`core/metrics.py`), or the 404 of an unknown path (--no-metrics)."""
        if self.meter is None:
            return self.failed(NotFound(f"Invalid URL ({METRICS.method} {METRICS.path})"), "")
        # prometheus_client is imported at the first scrape: 18 ms less at every start-up
        from sanic_mock.core import exposition

        body = exposition.render(self.meter.snapshot(self.clock.monotonic()))
        return Ready(200, exposition.HEAD, body)

    def _simulated(
        self, handler: Handler, body: bytes, control: Pairs | None, started: float
    ) -> Ready | tuple[Reply, Head]:
        """The engine around the answerer: control headers, faults, rate limits, slots. A
        status fault's answer, or the reply and the rate-limit headers."""
        asked: Control | None = None
        if control and self._control_headers:
            asked = controls.parse(control)
        if self._fault_rate and (asked is None or asked.fault is None):
            drawn = self.faults.draw()
            if drawn is not None:
                asked = (asked or controls.NONE)._replace(fault=drawn)
        limits, meter = self.limits, self.meter
        fault = None if asked is None else asked.fault
        if fault is not None and fault.kind in STATUS_FAULTS:
            if limits is not None:
                limits.take(requested(None, len(body)), started)
            if meter is not None:
                meter.fault(fault.kind)
            return self._injected(fault, started)
        reply = handler(body) if asked is None else handler(body, asked)
        if fault is not None:
            reply = applied(fault, reply)
        # Taken once the request is read: its tokens are counted as the real API counts them.
        extra = () if limits is None else limits.take(requested(reply.tally(), len(body)), started)
        if fault is not None and meter is not None:
            meter.fault(fault.kind)
        if self.engine is not None:
            reply = self.engine.admit(reply, started)
        return reply, extra

    def _injected(self, fault: Fault, started: float) -> Ready:
        """A status fault's answer; a 429 says when to retry, as the real API does."""
        error = InjectedError(fault.kind)
        head = answer_head(JSON, self.error_ids.request(), started, self.clock.monotonic())
        if fault.kind == "429":
            head += RATE_LIMITED if self.limits is None else (RATE_LIMITED[0], *self.limits.head())
        return Ready(error.status, head, error.render())

    def _read(self, endpoint: Endpoint, param: str, started: float, query: str) -> Ready:
        """The endpoints that read (or delete, or cancel) what the worker holds: the model
        catalog and the stored responses."""
        catalog = self.answerer.catalog
        stored = self._stored.get(endpoint)
        extra: Head = ()
        if stored is not None:
            body = stored(param, query)
        elif endpoint is MODELS:
            body, extra = catalog.listing()
        elif endpoint is MODEL:
            body, extra = catalog.lookup(param)
        else:
            raise ServerError(f"no answer for {endpoint.method} {endpoint.path}")
        head = answer_head(JSON, self.ids.request(), started, self.clock.monotonic())
        return Ready(200, head + extra, body)
