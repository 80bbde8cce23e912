"""Bad input gets the OpenAI error object with the right status, from the real server."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.servers import Server, running
from tests.spec import validate

CHAT = "/v1/chat/completions"
OK_MESSAGES = [{"role": "user", "content": "hi"}]
_CHAT_OK = {"model": "gpt-4o", "messages": OK_MESSAGES}

CASES: list[tuple[str, str, str, bytes | dict[str, Any], int, str | None, str | None]] = [
    # (id, method, path, body, status, param, code)
    ("malformed json", "POST", CHAT, b'{"model": "m", "messages": [', 400, None, None),
    ("json not an object", "POST", CHAT, b"[1, 2]", 400, None, None),
    ("empty body", "POST", CHAT, b"", 400, None, None),
    (
        "missing messages",
        "POST",
        CHAT,
        {"model": "m"},
        400,
        "messages",
        "missing_required_parameter",
    ),
    (
        "missing model",
        "POST",
        CHAT,
        {"messages": OK_MESSAGES},
        400,
        "model",
        "missing_required_parameter",
    ),
    (
        "empty messages",
        "POST",
        CHAT,
        {"model": "m", "messages": []},
        400,
        "messages",
        "empty_array",
    ),
    (
        "messages not a list",
        "POST",
        CHAT,
        {"model": "m", "messages": "hi"},
        400,
        "messages",
        "invalid_type",
    ),
    (
        "message without role",
        "POST",
        CHAT,
        {"model": "m", "messages": [{"content": "x"}]},
        400,
        "messages[0].role",
        "missing_required_parameter",
    ),
    (
        "bad role",
        "POST",
        CHAT,
        {"model": "m", "messages": [{"role": "robot", "content": "x"}]},
        400,
        "messages[0].role",
        "invalid_value",
    ),
    (
        "n zero",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "n": 0},
        400,
        "n",
        "integer_below_min_value",
    ),
    (
        "n string",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "n": "2"},
        400,
        "n",
        "invalid_type",
    ),
    (
        "temperature 3",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "temperature": 3},
        400,
        "temperature",
        "decimal_above_max_value",
    ),
    (
        "top_p negative",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "top_p": -0.1},
        400,
        "top_p",
        "decimal_below_min_value",
    ),
    (
        "max_tokens zero",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "max_tokens": 0},
        400,
        "max_tokens",
        "integer_below_min_value",
    ),
    (
        "stream not bool",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "stream": "yes"},
        400,
        "stream",
        "invalid_type",
    ),
    (
        "stream_options without stream",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "stream_options": {"include_usage": True}},
        400,
        "stream_options",
        "invalid_value",
    ),
    (
        "too many stops",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "stop": ["a", "b", "c", "d", "e"]},
        400,
        "stop",
        "array_above_max_length",
    ),
    (
        "top_logprobs without logprobs",
        "POST",
        CHAT,
        {"model": "m", "messages": OK_MESSAGES, "top_logprobs": 2},
        400,
        "top_logprobs",
        "invalid_value",
    ),
    (
        "prompt missing",
        "POST",
        "/v1/completions",
        {"model": "m"},
        400,
        "prompt",
        "missing_required_parameter",
    ),
    (
        "prompt mixed list",
        "POST",
        "/v1/completions",
        {"model": "m", "prompt": ["a", 1]},
        400,
        "prompt",
        "invalid_type",
    ),
    (
        "embedding input missing",
        "POST",
        "/v1/embeddings",
        {"model": "m"},
        400,
        "input",
        "missing_required_parameter",
    ),
    (
        "embedding empty string",
        "POST",
        "/v1/embeddings",
        {"model": "m", "input": ""},
        400,
        "input",
        "invalid_value",
    ),
    (
        "embedding empty list",
        "POST",
        "/v1/embeddings",
        {"model": "m", "input": []},
        400,
        "input",
        "empty_array",
    ),
    (
        "embedding bad format",
        "POST",
        "/v1/embeddings",
        {"model": "m", "input": "x", "encoding_format": "hex"},
        400,
        "encoding_format",
        "invalid_value",
    ),
    (
        "ada with dimensions",
        "POST",
        "/v1/embeddings",
        {"model": "text-embedding-ada-002", "input": "x", "dimensions": 8},
        400,
        "dimensions",
        None,
    ),
    (
        "dimensions too large",
        "POST",
        "/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "x", "dimensions": 5000},
        400,
        "dimensions",
        "integer_above_max_value",
    ),
    ("unknown route", "POST", "/v1/chat/completion", {}, 404, None, None),
    ("unknown GET route", "GET", "/v2/models", b"", 404, None, None),
    ("wrong method", "GET", CHAT, b"", 405, None, None),
    ("wrong method on models", "DELETE", "/v1/models", b"", 405, None, None),
    ("unknown model", "GET", "/v1/models/nope", b"", 404, None, "model_not_found"),
    # Fields the real API types strictly (issue 12)
    *(
        (f"chat {name} mistyped", "POST", CHAT, {**_CHAT_OK, name: value}, 400, param, code)
        for name, value, param, code in [
            ("logit_bias", "x", "logit_bias", "invalid_type"),
            ("logit_bias", {"50256": "high"}, "logit_bias", "invalid_type"),
            ("logit_bias", {"50256": 101}, "logit_bias", "decimal_above_max_value"),
            ("logit_bias", {"x": 1}, "logit_bias", "invalid_value"),
            ("user", 123, "user", "invalid_type"),
            ("response_format", "json", "response_format", "invalid_type"),
            ("response_format", {"type": "xml"}, "response_format.type", "invalid_value"),
            (
                "response_format",
                {"type": "json_schema", "json_schema": {"name": "x"}},
                "response_format.json_schema.schema",
                "missing_required_parameter",
            ),
            (
                "response_format",
                {"type": "json_schema", "json_schema": {"schema": {}}},
                "response_format.json_schema.name",
                "missing_required_parameter",
            ),
            ("tools", {"type": "function"}, "tools", "invalid_type"),
            ("tools", [], "tools", "empty_array"),
            ("tools", [{"type": "function"}], "tools[0].function", "missing_required_parameter"),
            ("tools", [{"type": "web"}], "tools[0].type", "invalid_value"),
            (
                "tools",
                [{"type": "function", "function": {"name": "a b"}}],
                "tools[0].function.name",
                "invalid_value",
            ),
            (
                "tools",
                [{"type": "function", "function": {"name": "f", "parameters": "x"}}],
                "tools[0].function.parameters",
                "invalid_type",
            ),
            ("tool_choice", "required", "tool_choice", None),
            ("parallel_tool_calls", True, "parallel_tool_calls", None),
            ("reasoning_effort", "low", "reasoning_effort", "unsupported_parameter"),
        ]
    ),
    (
        "chat tool_choice names a function not in tools",
        "POST",
        CHAT,
        {
            **_CHAT_OK,
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": {"type": "function", "function": {"name": "g"}},
        },
        400,
        "tool_choice.function.name",
        None,
    ),
    (
        "reasoning_effort not an effort",
        "POST",
        CHAT,
        {**_CHAT_OK, "model": "o3-mini", "reasoning_effort": "max"},
        400,
        "reasoning_effort",
        "invalid_value",
    ),
    (
        "completions suffix mistyped",
        "POST",
        "/v1/completions",
        {"model": "m", "prompt": "x", "suffix": 5},
        400,
        "suffix",
        "invalid_type",
    ),
    (
        "embeddings user mistyped",
        "POST",
        "/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "x", "user": 5},
        400,
        "user",
        "invalid_type",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input(
    server: Server,
    method: str,
    path: str,
    body: bytes | dict[str, Any],
    status: int,
    param: str | None,
    code: str | None,
) -> None:
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
    resp = httpx.request(method, server.url + path, timeout=10, **kwargs)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    doc = resp.json()
    validate("ErrorResponse", doc)
    error = doc["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and "Traceback" not in error["message"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["code"] == code
    # The server is still healthy afterwards.
    assert httpx.get(server.url + "/health").status_code == 200


def test_body_over_limit_is_413() -> None:
    with running("--pregen-count", "16", "--max-body-bytes", "65536") as srv:
        big = {"model": "m", "messages": [{"role": "user", "content": "x" * 70_000}]}
        resp = httpx.post(srv.url + CHAT, json=big, timeout=10)
        assert resp.status_code == 413
        assert resp.json()["error"]["type"] == "invalid_request_error"
        small = {"model": "m", "messages": [{"role": "user", "content": "x" * 1000}]}
        assert httpx.post(srv.url + CHAT, json=small, timeout=10).status_code == 200


def test_api_key_required_when_set() -> None:
    with running("--pregen-count", "16", "--api-key", "sk-right") as srv:
        body = {"model": "m", "messages": OK_MESSAGES, "max_tokens": 2}
        missing = httpx.post(srv.url + CHAT, json=body)
        assert missing.status_code == 401 and missing.json()["error"]["code"] is None
        wrong = httpx.post(srv.url + CHAT, json=body, headers={"authorization": "Bearer sk-wrong1"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_api_key"
        assert "sk-wrong1" not in wrong.text  # the key is masked in the message
        assert httpx.get(srv.url + "/health").status_code == 200  # health needs no key
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=srv.base_url, api_key="sk-bad", max_retries=0).models.list()
        good = openai.OpenAI(base_url=srv.base_url, api_key="sk-right", max_retries=0)
        assert good.chat.completions.create(model="m", messages=OK_MESSAGES, max_tokens=2).id
