"""The one table of the OpenAI paths this server answers, and how recorded paths are read.

Every transport routes from here: Sanic registers a route per `Endpoint`, the HTTP/1.1 fast path
and the ASGI path look up `EXACT` by method and path, and the recorder asks `REPLAYABLE` which
recorded endpoints a corpus can serve. What each endpoint answers is decided in
`core/service.py` (`Service.answer`). Plain data, below every layer that routes or records.
"""

from __future__ import annotations

from typing import NamedTuple


class Endpoint(NamedTuple):
    name: str  # also the Sanic route name
    method: str
    path: str  # with `param`: the prefix before it
    param: bool = False  # a path parameter follows `path` (`/v1/models/{model}`)
    open: bool = False  # answered without an API key
    suffix: str = ""  # what follows the parameter (`/v1/responses/{id}/input_items`)

    @property
    def pattern(self) -> str:
        """The Sanic route pattern. A model id may hold a `/`; a response id never does."""
        if not self.param:
            return self.path
        return (
            self.path
            + ("<param:str>" if self.path.startswith("/v1/responses") else "<param:path>")
            + self.suffix
        )

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods routed to it: a `GET` also answers `HEAD` (the GET's status and
        headers, `content-length` included, and no body)."""
        return (self.method, "HEAD") if self.method == "GET" else (self.method,)


HEALTH = Endpoint("health", "GET", "/health", open=True)
METRICS = Endpoint("metrics", "GET", "/metrics", open=True)  # Prometheus' scrape
MODELS = Endpoint("list_models", "GET", "/v1/models")
MODEL = Endpoint("get_model", "GET", "/v1/models/", param=True)
CHAT = Endpoint("chat_completions", "POST", "/v1/chat/completions")
COMPLETIONS = Endpoint("legacy_completions", "POST", "/v1/completions")
EMBEDDINGS = Endpoint("create_embeddings", "POST", "/v1/embeddings")
RESPONSES = Endpoint("create_response", "POST", "/v1/responses")
INPUT_TOKENS = Endpoint("count_input_tokens", "POST", "/v1/responses/input_tokens")
RESPONSE = Endpoint("get_response", "GET", "/v1/responses/", param=True)
RESPONSE_DELETE = Endpoint("delete_response", "DELETE", "/v1/responses/", param=True)
RESPONSE_ITEMS = Endpoint(
    "list_input_items", "GET", "/v1/responses/", param=True, suffix="/input_items"
)
RESPONSE_CANCEL = Endpoint(
    "cancel_response", "POST", "/v1/responses/", param=True, suffix="/cancel"
)

ENDPOINTS = (
    HEALTH,
    METRICS,
    MODELS,
    MODEL,
    CHAT,
    COMPLETIONS,
    EMBEDDINGS,
    RESPONSES,
    INPUT_TOKENS,
    RESPONSE,
    RESPONSE_DELETE,
    RESPONSE_ITEMS,
    RESPONSE_CANCEL,
)
# The endpoints without a path parameter, by (method, path): what the fast paths answer.
EXACT: dict[tuple[str, str], Endpoint] = {(e.method, e.path): e for e in ENDPOINTS if not e.param}
# Recorded exchanges of these endpoints are served from a recorded corpus.
REPLAYABLE: dict[str, Endpoint] = {
    e.path: e for e in (CHAT, COMPLETIONS, EMBEDDINGS, RESPONSES, INPUT_TOKENS)
}

# The operations on a stored response, by a response id in the path.
STORED = (RESPONSE, RESPONSE_DELETE, RESPONSE_ITEMS, RESPONSE_CANCEL)

HEALTH_BODY = b'{"status":"ok"}'


def stored_response(method: str, path: str) -> tuple[Endpoint, str] | None:
    """(endpoint, response id) of an operation on a stored response (`GET /v1/responses/ID`,
    `…/input_items`, `DELETE`, `POST …/cancel`), or None for another path."""
    for e in STORED:
        if method == e.method and path.startswith(e.path) and path.endswith(e.suffix):
            response_id = path[len(e.path) : len(path) - len(e.suffix)]
            if response_id and "/" not in response_id:
                return e, response_id
    return None


def split_endpoint(path: str) -> tuple[str, str]:
    """(recorded endpoint, path under an upstream base) for a client path, with or without the
    `/v1` prefix: `/v1/chat/completions` and `/chat/completions` both give
    (`/v1/chat/completions`, `/chat/completions`)."""
    rest = path[3:] if path == "/v1" or path.startswith("/v1/") else path
    rest = rest if rest.startswith("/") else "/" + rest
    return "/v1" + rest, rest


def endpoint_for_body(request: object) -> str:
    """The endpoint a request body was meant for, told by its fields: `messages` is a chat
    completion, `input` an embedding, anything else a legacy completion."""
    fields = request if isinstance(request, dict) else {}
    if "messages" in fields:
        return CHAT.path
    return EMBEDDINGS.path if "input" in fields else COMPLETIONS.path
