"""`GET /v1/models` and `GET /v1/models/{id}` bodies, and the `Catalog`."""

from __future__ import annotations

import orjson
import pytest

from sanic_mock.errors import NotFound
from sanic_mock.wire.models import Catalog, list_body, model_body, model_object


def test_model_body_exact() -> None:
    assert model_body("gpt-4o-mini") == (
        b'{"id":"gpt-4o-mini","object":"model","created":1678522318,"owned_by":"openai"}'
    )


@pytest.mark.parametrize(
    ("model", "created"),
    [
        ("gpt-4o-mini", 1678522318),
        ("m1", 1682591535),
        ("text-embedding-3-small", 1699081924),
        ("o1-mini", 1694050411),
        ("llama-3", 1690399619),
    ],
)
def test_created_is_stable_per_id(model: str, created: int) -> None:
    """The same timestamp on every run and restart (a hash of the id, within 2023)."""
    assert model_object(model)["created"] == created
    assert 1672531200 <= created < 1672531200 + 31_536_000


@pytest.mark.parametrize(
    ("model", "owner"),
    [
        ("gpt-4o", "openai"),
        ("text-embedding-3-small", "openai"),
        ("o1-mini", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("gpt4", "system"),
        ("llama-3", "system"),
        ("m1", "system"),
        ("O1", "system"),
    ],
)
def test_owner(model: str, owner: str) -> None:
    assert model_object(model)["owned_by"] == owner


def test_list_body_exact() -> None:
    assert list_body(("m1", "gpt-4o-mini")) == (
        b'{"object":"list","data":['
        b'{"id":"m1","object":"model","created":1682591535,"owned_by":"system"},'
        b'{"id":"gpt-4o-mini","object":"model","created":1678522318,"owned_by":"openai"}]}'
    )


def test_list_body_empty() -> None:
    assert list_body(()) == b'{"object":"list","data":[]}'


def test_catalog() -> None:
    catalog = Catalog(("m1", "gpt-4o-mini"))
    assert catalog.models == ("m1", "gpt-4o-mini")
    assert catalog.list_body == list_body(("m1", "gpt-4o-mini"))
    assert catalog.model("m1") == model_body("m1")
    assert catalog.model("gpt-4o-mini") == model_body("gpt-4o-mini")


def test_catalog_unknown_model_is_the_real_404() -> None:
    with pytest.raises(NotFound) as caught:
        Catalog(("m1",)).model("nope")
    error = caught.value
    assert error.status == 404
    assert orjson.loads(error.render()) == {
        "error": {
            "message": "The model `nope` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }


def test_catalog_lists_only_its_models() -> None:
    with pytest.raises(NotFound):
        Catalog(("m1",)).model("gpt-4o-mini")
