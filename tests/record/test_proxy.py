"""The recorder's helpers: upstream base URLs, recorded paths, SSE events as they arrive."""

from __future__ import annotations

from sanic_mock.corpus import sse
from sanic_mock.endpoints import split_endpoint
from sanic_mock.record.proxy import upstream_base
from tests.factories import (
    CHAT,
)


def test_proxy_paths_and_sse_parsing() -> None:
    assert upstream_base("http://h:1") == "http://h:1/v1"
    assert upstream_base("https://openrouter.ai/api/v1/") == "https://openrouter.ai/api/v1"
    assert split_endpoint("/v1/chat/completions") == (CHAT, "/chat/completions")
    assert split_endpoint("/chat/completions") == (CHAT, "/chat/completions")
    assert sse.event_data(b": keep-alive\n\n") is None
    assert sse.event_data(b"event: x\r\ndata: a\r\ndata: b\r\n\r\n") == "a\nb"
