"""`POST /v1/embeddings` bodies: float and base64 vectors, sizes per model, `dimensions`."""

from __future__ import annotations

import base64

import numpy as np
import orjson
import pytest

from sanic_mock.errors import InvalidRequest
from sanic_mock.sampling import embedding
from sanic_mock.wire.embeddings import body, dimensions_for
from sanic_mock.wire.requests import EmbeddingRequest

SMALL = "text-embedding-3-small"


def request(
    model: str = SMALL,
    inputs: tuple[str | tuple[int, ...], ...] = ("hi",),
    b64: bool = False,
    dimensions: int | None = None,
    prompt_tokens: int = 1,
) -> EmbeddingRequest:
    return EmbeddingRequest(model, inputs, b64, dimensions, prompt_tokens)


def test_float_body_exact() -> None:
    assert body(request(dimensions=2)) == (
        b'{"object":"list","data":[{"object":"embedding","index":0,'
        b'"embedding":[-0.61404246,-0.789273]}],'
        b'"model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}'
    )


def test_base64_body_exact() -> None:
    assert body(request(b64=True, dimensions=2)) == (
        b'{"object":"list","data":[{"object":"embedding","index":0,'
        b'"embedding":"4zEdv8wNSr8="}],'
        b'"model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}'
    )


def test_base64_is_the_float_vector_as_little_endian_float32() -> None:
    floats = orjson.loads(body(request(inputs=("a", "b"))))["data"]
    packed = orjson.loads(body(request(inputs=("a", "b"), b64=True)))["data"]
    for f, p in zip(floats, packed, strict=True):
        vec = np.frombuffer(base64.b64decode(p["embedding"]), dtype="<f4")
        assert vec.tolist() == pytest.approx(f["embedding"], rel=1e-6)


def test_one_item_per_input_in_order() -> None:
    doc = orjson.loads(body(request(inputs=("hi", (1, 2)), dimensions=3, prompt_tokens=3)))
    assert [(d["object"], d["index"]) for d in doc["data"]] == [("embedding", 0), ("embedding", 1)]
    # orjson writes each float32 in its shortest form: equal to float32 precision
    first, second = (np.array(d["embedding"], dtype=np.float32) for d in doc["data"])
    assert first.tolist() == embedding(SMALL, "hi", 1536, 3).tolist()
    assert second.tolist() == embedding(SMALL, (1, 2), 1536, 3).tolist()
    assert doc["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert doc["object"] == "list"
    assert doc["model"] == SMALL


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("text-embedding-3-small", 1536),
        ("text-embedding-3-large", 3072),
        ("text-embedding-ada-002", 1536),
        ("my-embedder", 1536),
    ],
)
def test_full_size_per_model(model: str, size: int) -> None:
    assert dimensions_for(request(model)) == (size, None)
    vec = orjson.loads(body(request(model)))["data"][0]["embedding"]
    assert len(vec) == size
    assert float(np.linalg.norm(vec)) == pytest.approx(1.0, abs=1e-5)


def test_dimensions_shorten_and_renormalise() -> None:
    assert dimensions_for(request(dimensions=8)) == (1536, 8)
    vec = orjson.loads(body(request(dimensions=8)))["data"][0]["embedding"]
    assert len(vec) == 8
    assert float(np.linalg.norm(vec)) == pytest.approx(1.0, abs=1e-6)


def test_dimensions_up_to_the_full_size() -> None:
    assert dimensions_for(request("text-embedding-3-large", dimensions=3072)) == (3072, 3072)


def test_dimensions_above_the_model_size() -> None:
    with pytest.raises(InvalidRequest) as caught:
        dimensions_for(request(dimensions=1537))
    error = caught.value
    assert (error.param, error.code) == ("dimensions", "integer_above_max_value")
    assert error.message == (
        "Invalid 'dimensions': integer above maximum value. Expected a value <= 1536, "
        "but got 1537 instead."
    )


def test_ada_takes_no_dimensions() -> None:
    with pytest.raises(InvalidRequest) as caught:
        body(request("text-embedding-ada-002", dimensions=4))
    error = caught.value
    assert error.message == "This model does not support specifying dimensions."
    assert (error.status, error.param, error.code) == (400, "dimensions", None)


def test_same_input_same_vector_other_model_other_vector() -> None:
    assert body(request(dimensions=4)) == body(request(dimensions=4))
    a = orjson.loads(body(request(dimensions=4)))["data"][0]["embedding"]
    b = orjson.loads(body(request("my-embedder", dimensions=4)))["data"][0]["embedding"]
    assert a != b
