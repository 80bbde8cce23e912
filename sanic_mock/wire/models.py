"""`GET /v1/models` and `GET /v1/models/{id}` bodies, and the `Catalog` of a worker's models.

`created` is a fixed timestamp per model id (a hash), so listings are stable across restarts.
"""

from __future__ import annotations

import zlib

import orjson

from sanic_mock.errors import NotFound

# 2023-01-01T00:00:00Z plus up to ~1 year, chosen by the id.
_EPOCH = 1672531200


def model_object(model_id: str) -> dict[str, object]:
    owner = "openai" if model_id.startswith(("gpt-", "text-", "o1", "o3", "o4")) else "system"
    return {
        "id": model_id,
        "object": "model",
        "created": _EPOCH + zlib.crc32(model_id.encode()) % 31_536_000,
        "owned_by": owner,
    }


def model_body(model_id: str) -> bytes:
    return orjson.dumps(model_object(model_id))


def list_body(models: tuple[str, ...]) -> bytes:
    return orjson.dumps({"object": "list", "data": [model_object(m) for m in models]})


Headers = tuple[tuple[bytes, bytes], ...]


class Catalog:
    """The models a worker lists (`--model`), their bodies made once. `listing` and `lookup`
    answer the two GETs with their extra headers (none here; a recorded corpus's catalog,
    `core/replayed.py`, replays recorded answers and says so)."""

    def __init__(self, models: tuple[str, ...]) -> None:
        self.models = models
        self.list_body = list_body(models)
        self._bodies = {m: model_body(m) for m in models}

    def listing(self) -> tuple[bytes, Headers]:
        """`GET /v1/models`."""
        return self.list_body, ()

    def lookup(self, model_id: str) -> tuple[bytes, Headers]:
        """`GET /v1/models/{model_id}`."""
        return self.model(model_id), ()

    def model(self, model_id: str) -> bytes:
        """`GET /v1/models/{model_id}`; the real API's 404 for a model it does not list."""
        found = self._bodies.get(model_id)
        if found is None:
            raise NotFound(
                f"The model `{model_id}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        return found
