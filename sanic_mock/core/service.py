"""The routes a load test hits, answered from a request's parts without a web framework.

Two transports parse requests their own way and call `get` / `post` here: `asgi_direct` (under
hypercorn and granian) and `h1_direct` (Sanic's own HTTP/1.1 server). Both answer the same way
the Sanic routes in `app.py` do: the same `MockAPI` calls, the same bytes, the same headers and
errors. Everything else (other paths and methods, `HEAD`, model lookups) is left to Sanic.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from sanic_mock.core.generated import JSON, MockAPI, Reply
from sanic_mock.errors import OpenAIError, ServerError
from sanic_mock.serve.sanic_app import SORRY, answer_head, authorize, error_answer

# The `MockAPI` method for each POST path, by name: a recorded corpus's `ReplayAPI` overrides them.
POSTS = {
    "/v1/chat/completions": "chat",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}
GETS = ("/health", "/v1/models")

_HEALTH = b'{"status":"ok"}'
_HEALTH_HEAD = ((b"content-type", JSON.encode()),)

Head = tuple[tuple[bytes, bytes], ...]


class Ready(NamedTuple):
    """An answer to send now: status, headers (without the framing ones) and body."""

    status: int
    head: Head
    body: bytes


class Later(NamedTuple):
    """A reply that waits: a delayed JSON body or a paced stream."""

    reply: Reply
    request_id: str


def failed(error: OpenAIError, where: str) -> Ready:
    """`error` as the real API's error answer; `where` (method and path) is logged for a
    `ServerError`, with the exception being handled."""
    body, status, request_id = error_answer(error, where)
    return Ready(status, answer_head(JSON, request_id, time.monotonic()), body)


def get(
    api: MockAPI, expected_auth: str | None, path: str, authorization: str | None, started: float
) -> Ready:
    """`GET` of one of `GETS`."""
    if path == "/health":
        return Ready(200, _HEALTH_HEAD, _HEALTH)
    try:
        authorize(expected_auth, authorization)
    except OpenAIError as error:
        return failed(error, f"GET {path}")
    return Ready(200, answer_head(JSON, api.ids.request(), started), api.models_body)


def post(
    api: MockAPI,
    expected_auth: str | None,
    path: str,
    authorization: str | None,
    body: bytes,
    started: float,
) -> Ready | Later:
    """`POST` of a whole request body to one of `POSTS`."""
    try:
        authorize(expected_auth, authorization)
        reply: Reply = getattr(api, POSTS[path])(body)
    except OpenAIError as error:
        return failed(error, f"POST {path}")
    except Exception:
        return failed(ServerError(SORRY), f"POST {path}")
    request_id = api.ids.request()
    now = reply.at_once()
    if now is None:
        return Later(reply, request_id)
    return Ready(200, answer_head(now[1], request_id, started), now[0])
