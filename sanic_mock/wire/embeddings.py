"""`POST /v1/embeddings` response bytes.

Vectors come from `sampling.embedding`: unit length, deterministic per (model, input). `float`
writes them as JSON numbers; `base64` as the little-endian float32 bytes, which is what the
official SDKs request by default and decode with numpy.
"""

from __future__ import annotations

import base64

import orjson

from sanic_mock.errors import InvalidRequest
from sanic_mock.sampling import embedding
from sanic_mock.wire.requests import EmbeddingRequest
from sanic_mock.wire.usage import embedding_usage

DEFAULT_DIMENSIONS = 1536
MODEL_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


def dimensions_for(req: EmbeddingRequest) -> tuple[int, int | None]:
    """(the model's full size, the requested size) after checking `dimensions`."""
    size = MODEL_DIMENSIONS.get(req.model, DEFAULT_DIMENSIONS)
    if req.dimensions is None:
        return size, None
    if req.model == "text-embedding-ada-002":
        raise InvalidRequest(
            "This model does not support specifying dimensions.", param="dimensions"
        )
    if req.dimensions > size:
        raise InvalidRequest(
            f"Invalid 'dimensions': integer above maximum value. Expected a value <= {size}, "
            f"but got {req.dimensions} instead.",
            param="dimensions",
            code="integer_above_max_value",
        )
    return size, req.dimensions


def body(req: EmbeddingRequest) -> bytes:
    size, dims = dimensions_for(req)
    items = []
    for i, item in enumerate(req.inputs):
        vec = embedding(req.model, item, size, dims)
        data = (
            b'"' + base64.b64encode(vec.astype("<f4").tobytes()) + b'"'
            if req.base64
            else orjson.dumps(vec, option=orjson.OPT_SERIALIZE_NUMPY)
        )
        items.append(b'{"object":"embedding","index":%d,"embedding":%s}' % (i, data))
    return b'{"object":"list","data":[%s],"model":%s,"usage":%s}' % (
        b",".join(items),
        orjson.dumps(req.model),
        embedding_usage(req.prompt_tokens),
    )
