"""A `response` object as the Responses API streams it: its typed events, one delta a token.

What a replay sends when a stream is asked for and none was recorded — a recorded JSON
response, or a sampled miss fitted to the request (`wire/replayed_responses.py`):
`response.created` and `response.in_progress` (the response `in_progress`, no output), per
output item its `response.output_item.added`, then for a message each content part
(`content_part.added`, one `output_text.delta` per token — or `refusal.delta` — and the
`.done` events), for a function call its `function_call_arguments.delta`s and `.done`, for a
reasoning item each summary part with its `reasoning_summary_text.delta`s; any other item
(a hosted tool's call) added and done whole; `response.output_item.done`; and
`response.completed`, `response.incomplete` or `response.failed` by the response's status.
Every event is `event: <type>` + `data:` with `sequence_number` from 0, valid against the spec
(tests/wire/test_response_stream.py). Generated mode streams its own answers with the
faster templates of `wire/responses.py`; this builder takes any recorded item.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from sanic_mock import encodings
from sanic_mock.corpus.cuts import token_lengths
from sanic_mock.wire import responses


def sse(data: bytes, kind: Any) -> bytes:
    """One event as the Responses API frames it: `event: <type>` then `data:` (a recorded
    payload of several lines on as many `data:` lines, as it came)."""
    if b"\n" in data:
        data = data.replace(b"\n", b"\ndata: ")
    if isinstance(kind, str):
        return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"
    return b"data: " + data + b"\n\n"


def pieces(text: str, model: str) -> list[str]:
    """`text` cut into the tokens of `model`'s encoding (a character split across tokens kept
    whole), as the API streams it: one delta per token."""
    raw = text.encode()
    out, at = [], 0
    for length in token_lengths(text, encodings.encoding_name(model)):
        out.append(raw[at : at + length].decode())
        at += length
    return out


class _Events:
    """The events of one stream as they are made, numbered from 0."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def add(self, kind: str, **fields: Any) -> None:
        doc = {"type": kind, "sequence_number": len(self.frames), **fields}
        self.frames.append(sse(orjson.dumps(doc), kind))

    def text(
        self, kind: str, at: dict[str, Any], text: str, cut: Callable[[str], list[str]]
    ) -> None:
        """One `kind` delta event per token of `text`."""
        extra: dict[str, Any] = {"logprobs": []} if kind == "response.output_text.delta" else {}
        for piece in cut(text):
            self.add(kind, **at, delta=piece, **extra)


def _message(
    out: _Events, item: dict[str, Any], index: int, cut: Callable[[str], list[str]]
) -> None:
    item_id = item.get("id")
    out.add(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", "content": []},
    )
    content = item.get("content")
    for k, part in enumerate(content if isinstance(content, list) else []):
        at = {"item_id": item_id, "output_index": index, "content_index": k}
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "output_text" and isinstance(part.get("text"), str):
            out.add("response.content_part.added", **at, part={**part, "text": ""})
            out.text("response.output_text.delta", at, part["text"], cut)
            logprobs = part.get("logprobs") if isinstance(part.get("logprobs"), list) else []
            out.add("response.output_text.done", **at, text=part["text"], logprobs=logprobs)
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            out.add("response.content_part.added", **at, part={**part, "refusal": ""})
            out.text("response.refusal.delta", at, part["refusal"], cut)
            out.add("response.refusal.done", **at, refusal=part["refusal"])
        else:
            out.add("response.content_part.added", **at, part=part)
        out.add("response.content_part.done", **at, part=part)


def _call(out: _Events, item: dict[str, Any], index: int, cut: Callable[[str], list[str]]) -> None:
    arguments = item.get("arguments")
    arguments = arguments if isinstance(arguments, str) else ""
    out.add(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", "arguments": ""},
    )
    at = {"item_id": item.get("id"), "output_index": index}
    out.text("response.function_call_arguments.delta", at, arguments, cut)
    out.add(
        "response.function_call_arguments.done", **at, name=item.get("name"), arguments=arguments
    )


def _reasoning(
    out: _Events, item: dict[str, Any], index: int, cut: Callable[[str], list[str]]
) -> None:
    out.add("response.output_item.added", output_index=index, item={**item, "summary": []})
    summary = item.get("summary")
    for k, part in enumerate(summary if isinstance(summary, list) else []):
        text = part.get("text") if isinstance(part, dict) else None
        if not isinstance(text, str):
            continue
        at = {"item_id": item.get("id"), "output_index": index, "summary_index": k}
        empty = {"type": "summary_text", "text": ""}
        out.add("response.reasoning_summary_part.added", **at, part=empty)
        out.text("response.reasoning_summary_text.delta", at, text, cut)
        out.add("response.reasoning_summary_text.done", **at, text=text)
        out.add("response.reasoning_summary_part.done", **at, part=part)


_ITEMS = {"message": _message, "function_call": _call, "reasoning": _reasoning}


def events(final: dict[str, Any], cut: Callable[[str], list[str]]) -> list[bytes]:
    """A `response` object as its stream (see the module docstring); `cut` splits texts into
    the deltas' pieces."""
    out = _Events()
    started = responses.unfinished(final, "in_progress")
    out.add("response.created", response=started)
    out.add("response.in_progress", response=started)
    output = final.get("output")
    for index, item in enumerate(output if isinstance(output, list) else []):
        if not isinstance(item, dict):
            continue
        made = _ITEMS.get(str(item.get("type")))
        if made is not None:
            made(out, item, index, cut)
        else:  # another kind of item (a hosted tool's call): added and done whole
            out.add("response.output_item.added", output_index=index, item=item)
        out.add("response.output_item.done", output_index=index, item=item)
    status = final.get("status")
    done = {"incomplete": "response.incomplete", "failed": "response.failed"}
    out.add(done.get(str(status), "response.completed"), response=final)
    return out.frames
