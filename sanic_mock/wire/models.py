"""`GET /v1/models` and `GET /v1/models/{id}` bodies.

`created` is a fixed timestamp per model id (a hash), so listings are stable across restarts.
"""

from __future__ import annotations

import zlib

import orjson

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
