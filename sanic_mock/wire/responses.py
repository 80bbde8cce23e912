"""`/v1/responses` response bytes: the `response` object and its stream of typed events.

`output_items()` turns what a choice says (`wire/made.py`: text, a JSON value or tool calls, and
the hidden reasoning before it) into output items: a `reasoning` item (with a `summary` when
`reasoning.summary` asks for one), then a `message` with one `output_text` part or one
`function_call` item per call. `response()` is the whole object in the real API's field order,
`status` "completed" or "incomplete" (`incomplete_details.reason: "max_output_tokens"`).

`events()` is the stream, each event `event: <type>` + `data: {...}` with `sequence_number` from 0:
`response.created`, `response.in_progress`, then per item `output_item.added`, its parts and
deltas (`output_text.delta` per token, `function_call_arguments.delta` per argument token,
`reasoning_summary_text.delta` per summary token) and their `.done` events, `output_item.done`,
and `response.completed` (or `response.incomplete`). It comes back as steps: the events sent at
once, then one step per token, so the pacing is that of a chat stream.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, NamedTuple

import orjson

from sanic_mock.corpus.pool import SEP, TextPool
from sanic_mock.wire.made import Calls, Said
from sanic_mock.wire.plan import escape


class Item(NamedTuple):
    """An output item (as the JSON object of the final response) and its streamed tokens."""

    body: dict[str, Any]
    tokens: list[bytes]  # JSON-escaped token texts (empty for an item without deltas)


def output_items(
    said: Said, pool: TextPool, ids: Any, summary: bool, complete: bool, streamed: bool
) -> list[Item]:
    """`ids` makes item ids (`.item(prefix)`); the tokens are cut out only when `streamed`."""
    items: list[Item] = []
    if said.reasoning or summary:
        summaries: list[dict[str, str]] = []
        tokens: list[bytes] = []
        if summary:
            count = max(min(said.reasoning, 48), 8)
            raw = pool.raw_pieces(said.reasoning_start, count)
            text = b"".join(raw).decode("utf-8", "replace")
            summaries = [{"type": "summary_text", "text": text}]
            tokens = [escape(p) for p in raw] if streamed else []
        items.append(
            Item({"id": ids.item("rs"), "type": "reasoning", "summary": summaries}, tokens)
        )
    status = "completed" if complete else "incomplete"
    if isinstance(said, Calls):
        for call in said.calls:
            arguments = b"".join(call.pieces).decode("utf-8")
            body = {
                "id": ids.item("fc"),
                "type": "function_call",
                "status": status,
                "arguments": arguments,
                "call_id": call.id.decode(),
                "name": orjson.loads(b'"%s"' % call.name),
            }
            items.append(Item(body, [escape(p) for p in call.pieces] if streamed else []))
        return items
    text = said.raw(pool).decode("utf-8", "replace")
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    body = {"id": ids.item("msg"), "type": "message", "status": status, "content": [part]}
    body["role"] = "assistant"
    tokens = said.separated(pool).split(SEP) if streamed and said.tokens else []
    items.append(Item(body, tokens))
    return items


def usage(input_tokens: int, output_tokens: int, reasoning: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def response(
    response_id: str,
    created: int,
    echo: dict[str, Any],
    status: str,
    output: list[dict[str, Any]],
    usage_: dict[str, Any],
    completed_at: int | None,
) -> dict[str, Any]:
    """The `response` object in the real API's field order."""
    incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
    doc = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": echo["background"],
        "completed_at": completed_at,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": echo["instructions"],
        "max_output_tokens": echo["max_output_tokens"],
        "max_tool_calls": None,
        "model": echo["model"],
        "output": output,
        "parallel_tool_calls": echo["parallel_tool_calls"],
        "previous_response_id": echo["previous_response_id"],
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "reasoning": echo["reasoning"],
        "safety_identifier": None,
        "service_tier": "default",
        "store": echo["store"],
        "temperature": echo["temperature"],
        "text": echo["text"],
        "tool_choice": echo["tool_choice"],
        "tools": echo["tools"],
        "top_logprobs": 0,
        "top_p": echo["top_p"],
        "truncation": echo["truncation"],
        "usage": usage_,
        "user": echo["user"],
        "metadata": echo["metadata"],
    }
    if echo["user"] is None:  # the spec types `user` as a string: left out rather than null
        del doc["user"]
    return doc


def unfinished(final: dict[str, Any], status: str) -> dict[str, Any]:
    """`final` as it reads while `queued`, `in_progress` or `cancelled`: no output, no usage."""
    doc = {**final, "status": status, "output": [], "completed_at": None}
    doc["incomplete_details"] = None
    doc.pop("usage", None)
    return doc


def _event(kind: str, seq: int, fields: dict[str, Any]) -> bytes:
    data = orjson.dumps({"type": kind, "sequence_number": seq, **fields})
    return b"event: %s\ndata: %s\n\n" % (kind.encode(), data)


_TEXT_DELTA = (
    b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
    b'"sequence_number":%d,"item_id":"%s","output_index":%d,"content_index":0,"delta":"%s",'
    b'"logprobs":[]}\n\n'
)
_ARGUMENTS_DELTA = (
    b"event: response.function_call_arguments.delta\ndata: "
    b'{"type":"response.function_call_arguments.delta","sequence_number":%d,"item_id":"%s",'
    b'"output_index":%d,"delta":"%s"}\n\n'
)
_SUMMARY_DELTA = (
    b"event: response.reasoning_summary_text.delta\ndata: "
    b'{"type":"response.reasoning_summary_text.delta","sequence_number":%d,"item_id":"%s",'
    b'"output_index":%d,"summary_index":0,"delta":"%s"}\n\n'
)


def _numbers(start: int, count: int) -> list[bytes]:
    """`sequence_number` values as bytes, `start` .. `start + count - 1`."""
    if start + count > len(_NUMBERS):
        _NUMBERS.extend(b"%d" % i for i in range(len(_NUMBERS), 2 * (start + count)))
    return _NUMBERS[start : start + count]


_NUMBERS: list[bytes] = []


def events(started: dict[str, Any], final: dict[str, Any], items: list[Item]) -> list[bytes]:
    """The stream as steps (see the module docstring): step 0 is `response.created` and
    `response.in_progress`; every token's delta is a step, carrying the events before it; the
    closing events end the last step.
    """
    steps: list[bytes] = []
    pending: list[bytes] = []  # events that leave with the next delta (or at the end)
    seq = 0

    def add(kind: str, **fields: Any) -> None:
        nonlocal seq
        pending.append(_event(kind, seq, fields))
        seq += 1

    def deltas(template: bytes, item_id: bytes, index: int, tokens: list[bytes]) -> None:
        """One event per token, made by C-level joins: `before` + number + `middle` + token +
        `after` for each (the sequence number is the only other part that changes)."""
        nonlocal seq
        if not tokens:
            return
        before, rest = template.split(b"%d", 1)
        middle, after = (rest % (item_id, index, b"\x00")).split(b"\x00")
        numbers = _numbers(seq, len(tokens))
        made = list(
            map(b"".join, zip(repeat(before), numbers, repeat(middle), tokens, repeat(after)))
        )
        made[0] = b"".join(pending) + made[0]
        pending.clear()
        steps.extend(made)
        seq += len(tokens)

    add("response.created", response=started)
    add("response.in_progress", response=started)
    steps.append(b"".join(pending))
    pending.clear()
    for index, (body, tokens) in enumerate(items):
        item_id = body["id"].encode()
        kind = body["type"]
        if kind == "message":
            add(
                "response.output_item.added",
                output_index=index,
                item={**body, "status": "in_progress", "content": []},
            )
            empty = {**body["content"][0], "text": ""}
            at = {"item_id": body["id"], "output_index": index, "content_index": 0}
            add("response.content_part.added", **at, part=empty)
            deltas(_TEXT_DELTA, item_id, index, tokens)
            text = body["content"][0]["text"]
            add("response.output_text.done", **at, text=text, logprobs=[])
            add("response.content_part.done", **at, part=body["content"][0])
        elif kind == "function_call":
            add(
                "response.output_item.added",
                output_index=index,
                item={**body, "status": "in_progress", "arguments": ""},
            )
            deltas(_ARGUMENTS_DELTA, item_id, index, tokens)
            add(
                "response.function_call_arguments.done",
                item_id=body["id"],
                output_index=index,
                name=body["name"],
                arguments=body["arguments"],
            )
        else:  # reasoning
            add("response.output_item.added", output_index=index, item={**body, "summary": []})
            if body["summary"]:
                at = {"item_id": body["id"], "output_index": index, "summary_index": 0}
                add(
                    "response.reasoning_summary_part.added",
                    **at,
                    part={"type": "summary_text", "text": ""},
                )
                deltas(_SUMMARY_DELTA, item_id, index, tokens)
                text = body["summary"][0]["text"]
                add("response.reasoning_summary_text.done", **at, text=text)
                add("response.reasoning_summary_part.done", **at, part=body["summary"][0])
        add("response.output_item.done", output_index=index, item=body)
    done = "response.completed" if final["status"] == "completed" else "response.incomplete"
    add(done, response=final)
    tail = b"".join(pending)
    if len(steps) > 1:
        steps[-1] += tail
    else:
        steps.append(tail)
    return steps
