"""A `response` object as its event stream: every item kind, each event valid to the spec."""

from __future__ import annotations

from typing import Any

from sanic_mock.wire.response_stream import events, pieces
from tests.factories import call_item, message_item, response_exchange
from tests.spec import response_events, validate

ASK = {"model": "gpt-4o", "input": "hi"}


def parsed(frames: list[bytes]) -> list[dict[str, Any]]:
    return response_events(b"".join(frames))


def final(output: list[dict[str, Any]], status: str = "completed") -> dict[str, Any]:
    doc = response_exchange(ASK, output).body
    assert isinstance(doc, dict)
    return {**doc, "status": status}


def test_a_json_response_becomes_the_spec_stream_of_every_item_kind() -> None:
    reasoning = {
        "id": "rs_rec",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Thought about it."}],
    }
    refusal = {**message_item(""), "content": [{"type": "refusal", "refusal": "No, sorry."}]}
    action = {"type": "search", "query": "oslo weather", "sources": []}
    hosted = {"id": "ws_rec", "type": "web_search_call", "status": "completed", "action": action}
    output = [reasoning, message_item("Text, é 漢字."), call_item(), refusal, hosted]
    got = parsed(events(final(output), lambda t: pieces(t, "gpt-4o")))
    kinds = [e["type"] for e in got]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed" and got[-1]["response"]["output"] == output
    text = "".join(e["delta"] for e in got if e["type"] == "response.output_text.delta")
    assert text == "Text, é 漢字."
    args = "".join(e["delta"] for e in got if e["type"] == "response.function_call_arguments.delta")
    assert args == call_item()["arguments"]
    summary = "".join(
        e["delta"] for e in got if e["type"] == "response.reasoning_summary_text.delta"
    )
    assert summary == "Thought about it."
    assert "response.refusal.done" in kinds
    done = [e["item"] for e in got if e["type"] == "response.output_item.done"]
    assert done == output
    validate("Response", got[-1]["response"])
    assert parsed(events(final(output, "incomplete"), list))[-1]["type"] == "response.incomplete"


def test_pieces_are_the_tokens_of_the_model() -> None:
    assert pieces("Hello world", "gpt-4o") == ["Hello", " world"]
    assert "".join(pieces("漢字 é ok", "gpt-4")) == "漢字 é ok"
