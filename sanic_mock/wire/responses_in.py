"""Parse and validate `POST /v1/responses` (and `/v1/responses/input_tokens`) bodies.

`parse_response(body)` gives a `ResponseRequest`: what the answer is made from (a `Generation` of
one choice and the `Shape` that tools, `text.format` and `reasoning.effort` ask for, as in chat)
and what the response echoes (`echo`: the request's settings, with the real API's defaults).
`input` is a string or a list of items — messages (`input_text` parts; images and files counted
as chat counts them, not read), `function_call`, `function_call_output`, reasoning items and
earlier output messages passed back — normalized into `items` (ids added when they are stored,
as `input_items` lists them); the input is counted as the same conversation in chat messages.
Tools have the flat shape `{type: "function", name, parameters, strict}`; hosted tools
(`web_search`, `file_search`, ...) are accepted and never called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from sanic_mock.errors import InvalidRequest
from sanic_mock.settings import REASONING_EFFORTS
from sanic_mock.tokens import EXACT, PromptCounter
from sanic_mock.wire import fields
from sanic_mock.wire.fields import invalid_type, parse_body
from sanic_mock.wire.requests import Generation
from sanic_mock.wire.shapes import OPEN_SCHEMA, OutputFormat, Shape, Tool, ToolUse, function_tool

MIN_OUTPUT_TOKENS = 16  # the real API's floor for max_output_tokens
_ROLES = ("user", "assistant", "system", "developer")
_ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning")
# A stored conversation by response id (`core/store.py`'s `ResponseStore.conversation`).
Conversation = Callable[[str], tuple[dict[str, Any], ...]]


class ResponseRequest(NamedTuple):
    gen: Generation
    items: tuple[dict[str, Any], ...]  # the input, normalized (ids as given: None if none)
    shape: Shape
    echo: dict[str, Any]  # the settings the response echoes, in the real API's order
    store: bool
    background: bool
    previous: str | None  # previous_response_id
    summary: str | None  # reasoning.summary
    history: tuple[dict[str, Any], ...]  # the stored conversation `previous` continues


def _parts(content: Any, where: str) -> list[dict[str, Any]]:
    """A message's content as parts."""
    if isinstance(content, str):
        return [{"type": "input_text", "text": content}]
    if not isinstance(content, list):
        raise invalid_type(f"{where}.content", "a string or an array of content parts", content)
    for i, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise invalid_type(f"{where}.content[{i}]", "an object", part)
    return list(content)


def _items(value: Any) -> tuple[list[dict[str, Any]], str | None]:
    """(items, the last item's kind: a role or an item type)."""
    if isinstance(value, str):
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": value}],
        }
        return [{"id": None, **item, "status": "completed"}], "user"
    if not isinstance(value, list):
        raise invalid_type("input", "a string or an array of input items", value)
    items: list[dict[str, Any]] = []
    last = None
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise invalid_type(where, "an object", item)
        kind = item.get("type", "message")
        if kind not in _ITEM_TYPES:
            raise fields.unsupported_value(f"{where}.type", kind, _ITEM_TYPES)
        if kind == "message":
            role = item.get("role")
            if role is None:
                raise fields.missing(f"{where}.role")
            if role not in _ROLES:
                raise fields.unsupported_value(f"{where}.role", role, _ROLES)
            parts = _parts(fields.required(item, "content"), where)
            items.append(
                {
                    "id": item.get("id"),
                    "type": "message",
                    "role": role,
                    "content": parts,
                    "status": "completed",
                }
            )
            last = role
        elif kind == "function_call":
            for name in ("call_id", "name", "arguments"):
                fields.string(f"{where}.{name}", fields.required(item, name))
            items.append({"id": None, **item, "status": "completed"})
            last = kind
        elif kind == "function_call_output":
            fields.string(f"{where}.call_id", fields.required(item, "call_id"))
            fields.required(item, "output")
            items.append({"id": None, **item, "status": "completed"})
            last = kind
        else:  # a reasoning item passed back: kept, not counted
            items.append({"id": None, "summary": [], **item})
    return items, last


def _tools(value: Any) -> tuple[list[dict[str, Any]], tuple[Tool, ...]]:
    if value is None:
        return [], ()
    if not isinstance(value, list):
        raise invalid_type("tools", "an array", value)
    echoed, tools = [], []
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise invalid_type(where, "an object", tool)
        if tool.get("type") is None:
            raise fields.missing(f"{where}.type")
        if tool["type"] != "function":  # a hosted tool: accepted, echoed, never called
            echoed.append(tool)
            continue
        parsed = function_tool(where, {**tool, "strict": tool.get("strict", True)})
        tools.append(parsed)
        echoed.append(
            {
                "type": "function",
                "name": parsed.name,
                "description": tool.get("description"),
                "parameters": tool.get("parameters") or OPEN_SCHEMA,
                "strict": parsed.strict,
            }
        )
    return echoed, tuple(tools)


def _choice(value: Any, tools: tuple[Tool, ...]) -> tuple[str, Tool | None]:
    if value is None:
        return ("auto" if tools else "none"), None
    if isinstance(value, str):
        modes = ("none", "auto", "required")
        if value not in modes:
            raise fields.unsupported_value("tool_choice", value, modes)
        return (value if tools or value != "required" else "none"), None
    if not isinstance(value, dict):
        raise invalid_type("tool_choice", "a string or an object", value)
    if value.get("type") != "function":
        return "none", None  # a hosted tool's choice: no function is called
    name = fields.string("tool_choice.name", fields.required(value, "name"))
    for tool in tools:
        if tool.name == name:
            return "named", tool
    raise InvalidRequest(
        f"Tool choice 'function' not found in 'tools' parameter: '{name}'.",
        param="tool_choice",
    )


def _format(text: Any) -> tuple[dict[str, Any], OutputFormat | None]:
    if text is None:
        return {"format": {"type": "text"}, "verbosity": "medium"}, None
    if not isinstance(text, dict):
        raise invalid_type("text", "an object", text)
    fmt = text.get("format") or {"type": "text"}
    if not isinstance(fmt, dict):
        raise invalid_type("text.format", "an object", fmt)
    kinds = ("text", "json_object", "json_schema")
    kind = fmt.get("type")
    if kind not in kinds:
        raise fields.unsupported_value("text.format.type", kind, kinds)
    echo = {"format": fmt, "verbosity": text.get("verbosity") or "medium"}
    if kind == "text":
        return echo, None
    if kind == "json_object":
        return echo, OutputFormat(None, False)
    if fmt.get("name") is None:
        raise fields.missing("text.format.name")
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise (
            fields.missing("text.format.schema")
            if schema is None
            else invalid_type("text.format.schema", "an object", schema)
        )
    return echo, OutputFormat(schema, bool(fmt.get("strict")))


def _reasoning(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise invalid_type("reasoning", "an object", value)
    effort = fields.string("reasoning.effort", value.get("effort"))
    if effort is not None and effort not in REASONING_EFFORTS:
        raise fields.unsupported_value("reasoning.effort", effort, REASONING_EFFORTS)
    summary = fields.string("reasoning.summary", value.get("summary"))
    if summary is not None and summary not in ("auto", "concise", "detailed"):
        raise fields.unsupported_value(
            "reasoning.summary", summary, ("auto", "concise", "detailed")
        )
    return effort, summary


def input_tokens_body(
    body: bytes, count: PromptCounter = EXACT, conversation: Conversation | None = None
) -> bytes:
    """`POST /v1/responses/input_tokens`: the input tokens of a `responses` request body (with
    the conversation its `previous_response_id` continues)."""
    doc = parse_body(body)
    model = fields.string("model", doc.get("model")) or ""
    tokens = _prompt_tokens(doc, model, count, conversation)[3]
    return b'{"object":"response.input_tokens","input_tokens":%d}' % tokens


def _history(previous: Any, conversation: Conversation | None) -> tuple[dict[str, Any], ...]:
    """The stored items a `previous_response_id` continues."""
    previous = fields.string("previous_response_id", previous)
    return conversation(previous) if previous and conversation is not None else ()


def _as_messages(items: list[dict[str, Any]], instructions: str | None) -> list[dict[str, Any]]:
    """The input as chat messages, for counting it as a chat prompt is counted."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "developer", "content": instructions})
    for item in items:
        kind = item.get("type", "message")
        # `.get`: a stored conversation may hold a replayed answer's items, as recorded
        if kind == "message":
            messages.append({"role": item.get("role"), "content": item.get("content")})
        elif kind == "function_call":
            said = [item.get("name"), item.get("arguments")]
            content = "".join(s for s in said if isinstance(s, str))
            messages.append({"role": "assistant", "content": content})
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append({"role": "tool", "content": output if isinstance(output, str) else ""})
    return messages


def _prompt_tokens(
    doc: dict[str, Any],
    model: str,
    count: PromptCounter,
    conversation: Conversation | None = None,
) -> tuple[list[dict[str, Any]], str | None, Any, int, tuple[dict[str, Any], ...]]:
    """(items, instructions, the last item's kind, input tokens, history) of a request: counted
    as the same conversation in chat messages — the stored items its `previous_response_id`
    continues (`history`) first, as the API prepends them — with the function tools in chat's
    shape."""
    items, last = _items(fields.required(doc, "input"))
    instructions = fields.string("instructions", doc.get("instructions"))
    tools = doc.get("tools")
    functions = [
        {"type": "function", "function": {k: v for k, v in t.items() if k != "type"}}
        for t in (tools if isinstance(tools, list) else [])
        if isinstance(t, dict) and t.get("type") == "function"
    ]
    previous = doc.get("previous_response_id")
    history = () if previous is None else _history(previous, conversation)
    said = [*history, *items] if history else items
    tokens = count.chat(_as_messages(said, instructions), model, functions or None)
    return items, instructions, last, tokens, history


def parse_response(
    body: bytes, count: PromptCounter = EXACT, conversation: Conversation | None = None
) -> ResponseRequest:
    """A `responses` request; `count` counts its input (`--token-count`), with the stored
    items its `previous_response_id` continues (`conversation` finds them; raises the real
    API's 400 for an unknown id)."""
    doc = parse_body(body)
    model = fields.string("model", fields.required(doc, "model"))
    assert model is not None
    items, instructions, last, prompt_tokens, history = _prompt_tokens(
        doc, model, count, conversation
    )
    limit = fields.integer("max_output_tokens", doc.get("max_output_tokens"), MIN_OUTPUT_TOKENS)
    temperature = fields.number("temperature", doc.get("temperature"), 0, 2)
    top_p = fields.number("top_p", doc.get("top_p"), 0, 1)
    stream = bool(fields.boolean("stream", doc.get("stream")))
    store = fields.boolean("store", doc.get("store")) is not False
    background = bool(fields.boolean("background", doc.get("background")))
    parallel = fields.boolean("parallel_tool_calls", doc.get("parallel_tool_calls")) is not False
    previous = doc.get("previous_response_id")  # checked by `_history`
    user = fields.string("user", doc.get("user"))
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise invalid_type("metadata", "an object", metadata)
    truncation = fields.string("truncation", doc.get("truncation")) or "disabled"
    if truncation not in ("auto", "disabled"):
        raise fields.unsupported_value("truncation", truncation, ("auto", "disabled"))
    echoed_tools, tools = _tools(doc.get("tools"))
    mode, named = _choice(doc.get("tool_choice"), tools)
    text, fmt = _format(doc.get("text"))
    effort, summary = _reasoning(doc.get("reasoning"))
    after_result = last == "function_call_output"
    use = ToolUse(tools, mode, named, parallel, False, after_result) if tools else None
    gen = Generation(model, 1, stream, False, False, limit, 0, False, (), None, b"", prompt_tokens)
    echo = {
        "instructions": instructions,
        "max_output_tokens": limit,
        "model": model,
        "parallel_tool_calls": parallel,
        "previous_response_id": previous,
        "reasoning": {"effort": effort, "summary": summary},
        "store": store,
        "temperature": 1.0 if temperature is None else temperature,
        "text": text,
        "tool_choice": doc.get("tool_choice") or "auto",
        "tools": echoed_tools,
        "top_p": 1.0 if top_p is None else top_p,
        "truncation": truncation,
        "user": user,
        "metadata": metadata,
        "background": background,
    }
    shape = Shape(use, fmt, effort)
    return ResponseRequest(
        gen, tuple(items), shape, echo, store, background, previous, summary, history
    )
