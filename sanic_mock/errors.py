"""The OpenAI error family and its one renderer.

Every error a client can cause is an `OpenAIError` carrying the HTTP status and the four fields of
the official error object; `render()` is the only place that turns one into bytes:
`{"error": {"message", "type", "param", "code"}}`.

- `InvalidRequest` (400, `invalid_request_error`): malformed JSON, missing, mistyped or
  out-of-range fields.
- `AuthenticationError` (401): missing or wrong API key when `--api-key` is set.
- `NotFound` (404): unknown route or model.
- `MethodNotAllowed` (405), `PayloadTooLarge` (413).
- `ServerError` (500, `server_error`): a bug of ours; the message never carries a traceback.
"""

from __future__ import annotations

import orjson


class OpenAIError(Exception):
    status: int = 400
    type: str = "invalid_request_error"
    # Extra response headers (a replayed answer's `x-mock-replay`), as the answer path sends them.
    headers: tuple[tuple[bytes, bytes], ...] = ()

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def render(self) -> bytes:
        return render_error(self.message, self.type, self.param, self.code)


class InvalidRequest(OpenAIError):
    status = 400


class AuthenticationError(OpenAIError):
    status = 401


class NotFound(OpenAIError):
    status = 404


class MethodNotAllowed(OpenAIError):
    status = 405


class PayloadTooLarge(OpenAIError):
    status = 413


def too_large() -> PayloadTooLarge:
    """The 413 for a request body past `--max-body-bytes`."""
    return PayloadTooLarge("Request body too large.", code="request_too_large")


class ServerError(OpenAIError):
    status = 500
    type = "server_error"


def render_error(message: str, type_: str, param: str | None, code: str | None) -> bytes:
    """The official error body, byte for byte as the API sends it (fields in this order)."""
    return orjson.dumps(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}
    )
