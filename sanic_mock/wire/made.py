"""Choices made for the request rather than cut from the text pool: tool calls and JSON values.

`shaped()` turns the planned choices of a chat request with a `Shape` (see `shapes.py`) into what
each choice says:

- tool calls (`Calls`) when `tool_choice` asks for them: "required" and a named function always,
  "auto" on a user turn with probability `--tool-call-rate`, never after a tool result (so an
  agent loop ends with a text answer); `parallel_tool_calls` allows 1..`--max-parallel-tool-calls`
  calls. Arguments are a value of the function's `parameters` schema (`instances.py`);
- a JSON value (`Made`) for `response_format` `json_object` (`{"answer": text}`) or `json_schema`;
- otherwise the planned text (`plan.Choice`), unchanged.

Made text is cut into the tokens of the model's encoding (`encodings.py`), as the corpus text is,
so streams send one token per event and `usage.completion_tokens` is what tiktoken counts;
`max_tokens` cuts the pieces, and the choice finishes with "length" as the real API's does (the
JSON is then incomplete).
`Made` answers the same text interface as `Choice` (`escaped`, `separated`, `raw_pieces`), so the
chat bytes treat a JSON answer as any other text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from sanic_mock.corpus.cuts import token_lengths
from sanic_mock.corpus.pool import SEP, TextPool
from sanic_mock.sampling import Sampler
from sanic_mock.settings import ToolSettings
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.instances import Instances
from sanic_mock.wire.plan import Choice, escape
from sanic_mock.wire.shapes import Shape, Tool, ToolUse


class Made(NamedTuple):
    """A JSON value as the answer's content, in raw UTF-8 token pieces."""

    pieces: tuple[bytes, ...]
    finish_reason: str
    reasoning: int = 0
    reasoning_start: int = 0

    @property
    def tokens(self) -> int:
        return len(self.pieces)

    def escaped(self, pool: TextPool) -> bytes:
        return escape(b"".join(self.pieces))

    def separated(self, pool: TextPool) -> bytes:
        return SEP.join(escape(p) for p in self.pieces)

    def raw_pieces(self, pool: TextPool) -> list[bytes]:
        return list(self.pieces)

    def raw(self, pool: TextPool) -> bytes:
        return b"".join(self.pieces)


class Call(NamedTuple):
    id: bytes
    name: bytes  # JSON-escaped
    pieces: tuple[bytes, ...]  # the arguments' JSON text in raw token pieces

    def arguments(self) -> bytes:
        """The arguments as the inside of a JSON string."""
        return escape(b"".join(self.pieces))


class Calls(NamedTuple):
    """Tool calls as the answer (`legacy`: one `function_call`)."""

    calls: tuple[Call, ...]
    finish_reason: str
    legacy: bool
    reasoning: int = 0
    reasoning_start: int = 0

    @property
    def tokens(self) -> int:
        return sum(len(c.pieces) for c in self.calls)


Said = Choice | Made | Calls


class Env(NamedTuple):
    """What making choices draws on: the text pool and tokenizer of the request's model,
    schema values, tool-call ids, settings."""

    pool: TextPool
    instances: Instances
    ids: IdSource
    tools: ToolSettings
    encoding: str  # the model's tokenizer, which cuts made text into tokens


@lru_cache(maxsize=4096)  # schema values repeat (`instances.py` keeps 16 per schema)
def pieces_of(text: bytes, encoding: str) -> tuple[bytes, ...]:
    """`text` (UTF-8) in the tokens of `encoding`, as UTF-8 pieces (a token that ends inside a
    character is joined to the next, so every piece is whole text: `cuts.token_lengths`)."""
    pieces, at = [], 0
    for length in token_lengths(text.decode("utf-8"), encoding):
        pieces.append(text[at : at + length])
        at += length
    return tuple(pieces)


def _cut(pieces: tuple[bytes, ...], limit: int | None) -> tuple[tuple[bytes, ...], bool]:
    if limit is not None and len(pieces) > limit:
        return pieces[:limit], True
    return pieces, False


def to_call(use: ToolUse, tools: ToolSettings, sampler: Sampler) -> list[Tool]:
    """The tools one choice calls (none: it answers in text)."""
    if use.mode == "named":
        return [use.named] if use.named is not None else []
    if use.mode == "none" or not use.tools:
        return []
    if use.mode == "auto":
        if use.after_result:
            return []
        if tools.call_rate < 1 and sampler.unit() >= tools.call_rate:
            return []
    most = 1 if use.legacy or not use.parallel else tools.max_parallel
    count = 1 if most == 1 else 1 + sampler.below(most)
    return [use.tools[sampler.below(len(use.tools))] for _ in range(count)]


def _value(instances: Instances, schema: dict[str, Any], sampler: Sampler) -> bytes:
    values = instances.values(schema)
    return values[sampler.below(len(values))] if len(values) > 1 else values[0]


def _calls(
    use: ToolUse, chosen: list[Tool], limit: int | None, env: Env, sampler: Sampler
) -> Calls:
    calls, left, cut = [], limit, False
    for tool in chosen:
        value = _value(env.instances, tool.parameters, sampler)
        pieces, cut = _cut(pieces_of(value, env.encoding), left)
        name = orjson.dumps(tool.name)[1:-1]
        calls.append(Call(env.ids.call().encode(), name, pieces))
        if left is not None:
            left -= len(pieces)
        if cut:
            break
    if cut:
        finish = "length"
    elif use.mode == "named":
        finish = "stop"  # as the real API: a forced function finishes with "stop"
    else:
        finish = "function_call" if use.legacy else "tool_calls"
    return Calls(tuple(calls), finish, use.legacy)


def shaped(
    shape: Shape, planned: list[Choice], limit: int | None, env: Env, sampler: Sampler
) -> list[Said]:
    """Each planned choice as a tool call, a JSON value or its text (see the module docstring);
    `limit` caps the tokens of what is made."""
    out: list[Said] = []
    for choice in planned:
        chosen = to_call(shape.tools, env.tools, sampler) if shape.tools is not None else []
        if chosen:
            assert shape.tools is not None
            out.append(_calls(shape.tools, chosen, limit, env, sampler))
        elif shape.format is not None:
            schema = shape.format.schema
            if schema is None:  # json_object: the planned text, as an object
                text = env.pool.raw_text(choice.start, choice.tokens).decode("utf-8", "replace")
                value = orjson.dumps({"answer": text.strip()})
            else:
                value = _value(env.instances, schema, sampler)
            pieces, cut = _cut(pieces_of(value, env.encoding), limit)
            out.append(Made(pieces, "length" if cut else "stop"))
        else:
            out.append(choice)
    return out
