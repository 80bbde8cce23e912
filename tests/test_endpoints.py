"""The endpoint table: exact lookups, replayable paths, route names, and how recorded paths and
request bodies are read."""

from __future__ import annotations

import pytest

from sanic_mock.endpoints import (
    CHAT,
    COMPLETIONS,
    EMBEDDINGS,
    ENDPOINTS,
    EXACT,
    HEALTH,
    INPUT_TOKENS,
    METRICS,
    MODEL,
    MODELS,
    REPLAYABLE,
    RESPONSE,
    RESPONSE_CANCEL,
    RESPONSE_DELETE,
    RESPONSE_ITEMS,
    RESPONSES,
    endpoint_for_body,
    split_endpoint,
    stored_response,
)


def test_route_names_are_unique() -> None:
    names = [e.name for e in ENDPOINTS]
    assert len(names) == len(set(names)) == 13


def test_route_names() -> None:
    assert [e.name for e in ENDPOINTS] == [
        "health",
        "metrics",
        "list_models",
        "get_model",
        "chat_completions",
        "legacy_completions",
        "create_embeddings",
        "create_response",
        "count_input_tokens",
        "get_response",
        "delete_response",
        "list_input_items",
        "cancel_response",
    ]


def test_method_and_route_pairs_are_unique() -> None:
    pairs = [(e.method, e.pattern) for e in ENDPOINTS]
    assert len(pairs) == len(set(pairs))


def test_route_patterns() -> None:
    patterns = {e.name: e.pattern for e in ENDPOINTS if e.param}
    assert patterns == {
        "get_model": "/v1/models/<param:path>",  # a model id may hold a slash
        "get_response": "/v1/responses/<param:str>",
        "delete_response": "/v1/responses/<param:str>",
        "list_input_items": "/v1/responses/<param:str>/input_items",
        "cancel_response": "/v1/responses/<param:str>/cancel",
    }


def test_exact_holds_every_endpoint_without_a_parameter() -> None:
    assert EXACT == {
        ("GET", "/health"): HEALTH,
        ("GET", "/metrics"): METRICS,
        ("GET", "/v1/models"): MODELS,
        ("POST", "/v1/chat/completions"): CHAT,
        ("POST", "/v1/completions"): COMPLETIONS,
        ("POST", "/v1/embeddings"): EMBEDDINGS,
        ("POST", "/v1/responses"): RESPONSES,
        ("POST", "/v1/responses/input_tokens"): INPUT_TOKENS,
    }
    assert MODEL not in EXACT.values()


def test_model_takes_a_parameter_after_its_prefix() -> None:
    assert MODEL.param is True
    assert (MODEL.method, MODEL.path) == ("GET", "/v1/models/")


def test_only_health_and_metrics_are_open() -> None:  # probes and Prometheus bring no key
    assert [e for e in ENDPOINTS if e.open] == [HEALTH, METRICS]


def test_replayable() -> None:
    assert REPLAYABLE == {
        "/v1/chat/completions": CHAT,
        "/v1/completions": COMPLETIONS,
        "/v1/embeddings": EMBEDDINGS,
        "/v1/responses": RESPONSES,
        "/v1/responses/input_tokens": INPUT_TOKENS,
    }


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v1/responses/resp_1", (RESPONSE, "resp_1")),
        ("DELETE", "/v1/responses/resp_1", (RESPONSE_DELETE, "resp_1")),
        ("GET", "/v1/responses/resp_1/input_items", (RESPONSE_ITEMS, "resp_1")),
        ("POST", "/v1/responses/resp_1/cancel", (RESPONSE_CANCEL, "resp_1")),
        ("POST", "/v1/responses/input_tokens", None),
        ("POST", "/v1/responses", None),
        ("GET", "/v1/responses/", None),
        ("GET", "/v1/responses/a/b", None),
    ],
)
def test_stored_response(method: str, path: str, expected: object) -> None:
    assert stored_response(method, path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/chat/completions", ("/v1/chat/completions", "/chat/completions")),
        ("/chat/completions", ("/v1/chat/completions", "/chat/completions")),
        ("chat/completions", ("/v1/chat/completions", "/chat/completions")),
        ("/v1/embeddings", ("/v1/embeddings", "/embeddings")),
        ("/v1", ("/v1/", "/")),
        ("/", ("/v1/", "/")),
        ("", ("/v1/", "/")),
        ("/v1x/models", ("/v1/v1x/models", "/v1x/models")),
        ("/v2/models", ("/v1/v2/models", "/v2/models")),
    ],
)
def test_split_endpoint(path: str, expected: tuple[str, str]) -> None:
    assert split_endpoint(path) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"model": "m", "messages": []}, "/v1/chat/completions"),
        ({"model": "m", "input": "x"}, "/v1/embeddings"),
        ({"model": "m", "prompt": "x"}, "/v1/completions"),
        ({"messages": [], "input": "x"}, "/v1/chat/completions"),
        ({}, "/v1/completions"),
        ([{"messages": []}], "/v1/completions"),
        ("messages", "/v1/completions"),
        (None, "/v1/completions"),
    ],
)
def test_endpoint_for_body(body: object, expected: str) -> None:
    assert endpoint_for_body(body) == expected
