"""Parse and validate request bodies into named tuples (immutable, and built in a third of the
time of a frozen dataclass: these are made on every request): one parser per endpoint,
`parse_chat`, `parse_completion` and `parse_embedding`.

The fields every text-generating request shares are checked from a table, field name -> `Field`
(`GENERATION_FIELDS`, and `CHAT_GENERATION_FIELDS` which adds `max_completion_tokens`): adding a
field is one row. The checkers and the real API's error wording are in `fields.py`. Parsing raises
only `InvalidRequest`, whatever the bytes. A chat request's tools, `response_format` and
`reasoning_effort` are parsed by `shapes.py` into `ChatRequest.shape` (None, at the cost of one set
test, for a plain request). Unknown fields are accepted (benchmark clients send vLLM
extensions such as `ignore_eos` and `min_tokens`, which are honoured).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import orjson

from sanic_mock.errors import InvalidRequest
from sanic_mock.tokens import EXACT, PromptCounter
from sanic_mock.wire import fields
from sanic_mock.wire.fields import (
    MAX_STOP,
    TEXT_OR_TOKENS,
    Field,
    as_is,
    boolean_field,
    integer_field,
    invalid_type,
    number_field,
    parse_body,
)
from sanic_mock.wire.shapes import SHAPE_FIELDS, Shape, parse_shape

__all__ = [
    "CHAT_GENERATION_FIELDS",
    "CHAT_ROLES",
    "GENERATION_FIELDS",
    "MAX_EMBEDDING_INPUTS",
    "MAX_STOP",
    "ChatRequest",
    "CompletionRequest",
    "EmbeddingRequest",
    "Generation",
    "parse_body",
    "parse_chat",
    "parse_completion",
    "parse_embedding",
]

CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
MAX_EMBEDDING_INPUTS = 2048


class Generation(NamedTuple):
    """What every text-generating request shares: how many choices, how long, how to stream."""

    model: str
    n: int
    stream: bool
    include_usage: bool
    include_obfuscation: bool
    limit: int | None  # max_completion_tokens or max_tokens
    min_tokens: int
    ignore_eos: bool
    stop: tuple[bytes, ...]
    seed: int | None
    seed_key: bytes  # what `seed` is combined with: the request minus transport-only fields
    prompt_tokens: int
    # Checked against the model (reasoning models refuse both, `core/generated.py`):
    temperature: float | None = None
    max_tokens: bool = False  # the legacy `max_tokens` was given


# The generation fields of /v1/completions. A row's checked value is read by `_generation` under
# the field's name; the sampling parameters are only validated.
GENERATION_FIELDS: dict[str, Field] = {
    "max_tokens": integer_field(1),
    "n": integer_field(1, 128),
    "stream": boolean_field(),
    "stream_options": as_is(dict),  # checked once `stream` is known
    "temperature": number_field(0, 2),
    "top_p": number_field(0, 1),
    "presence_penalty": number_field(-2, 2),
    "frequency_penalty": number_field(-2, 2),
    "min_tokens": integer_field(0),
    "seed": integer_field(-(2**63), 2**63 - 1),
    "ignore_eos": boolean_field(),
    "stop": Field(None, None, None, fields.stop),
    # Only validated: the real API's 400 for a mistyped value.
    "user": Field(str, None, None, fields.string),
    "suffix": Field(str, None, None, fields.string),
    "logit_bias": Field(None, None, None, fields.logit_bias),
}
# Chat's: `max_completion_tokens`, which wins over `max_tokens` (ignored by /v1/completions).
CHAT_GENERATION_FIELDS = {**GENERATION_FIELDS, "max_completion_tokens": integer_field(1)}


def _generation(
    doc: dict[str, Any], count: Callable[[str], int], table: dict[str, Field]
) -> Generation:
    """The shared fields of `doc`; `count(model)` is the prompt's token count."""
    model = doc.get("model")
    if type(model) is not str:
        model = fields.string("model", fields.required(doc, "model"))
        assert model is not None
    prompt_tokens = count(model)
    # One pass over the keys present, in the body's order (the first bad one is reported); absent
    # fields cost nothing, and a common value (exact type, in range) takes no function call.
    got: dict[str, Any] = {}
    for name, value in doc.items():
        if name in table:
            kind, lo, hi, check = table[name]
            if type(value) is kind and (lo is None or lo <= value <= hi):
                got[name] = value
            else:
                got[name] = check(name, value)
    if not got:
        return Generation(
            model, 1, False, False, True, None, 0, False, (), None, b"", prompt_tokens
        )
    stream = got.get("stream") or False
    include_usage, include_obfuscation = False, True
    options = got.get("stream_options")
    if options is not None:
        if not isinstance(options, dict):
            raise invalid_type("stream_options", "an object", options)
        if not stream:
            raise InvalidRequest(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
                code="invalid_value",
            )
        include_usage = bool(fields.boolean("include_usage", options.get("include_usage")))
        include_obfuscation = (
            fields.boolean("include_obfuscation", options.get("include_obfuscation")) is not False
        )
    seed = got.get("seed")
    return Generation(
        model,
        got.get("n") or 1,
        stream,
        include_usage,
        include_obfuscation,
        got.get("max_completion_tokens") or got.get("max_tokens"),
        got.get("min_tokens") or 0,
        got.get("ignore_eos") or False,
        got.get("stop") or (),
        seed,
        _seed_key(doc) if seed is not None else b"",
        prompt_tokens,
        got.get("temperature"),
        got.get("max_tokens") is not None,
    )


# Fields that change how an answer is delivered or billed, not what it says.
_NOT_CONTENT = frozenset({"stream", "stream_options", "user", "metadata", "store", "service_tier"})


def _seed_key(doc: dict[str, Any]) -> bytes:
    """Same seed + same request -> same text, whether streamed or not."""
    content = {k: v for k, v in doc.items() if k not in _NOT_CONTENT}
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


class ChatRequest(NamedTuple):
    gen: Generation
    logprobs: bool
    top_logprobs: int
    shape: Shape | None = None  # tools, response_format, reasoning_effort (None: plain text)


def _check_message(index: int, message: Any) -> None:
    name = f"messages[{index}]"
    if not isinstance(message, dict):
        raise invalid_type(name, "an object", message)
    role = message.get("role")
    if role is None:
        raise fields.missing(f"{name}.role")
    if role not in CHAT_ROLES:
        raise fields.unsupported_value(f"{name}.role", role, CHAT_ROLES)
    content = message.get("content")
    if content is None:
        if role != "assistant":
            raise fields.missing(f"{name}.content")
        return
    if isinstance(content, str):
        return
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise invalid_type(f"{name}.content", "a string or an array of content parts", part)
        return
    raise invalid_type(f"{name}.content", "a string or an array of content parts", content)


def parse_chat(body: bytes, count: PromptCounter = EXACT) -> ChatRequest:
    """A chat request; `count` counts its prompt (`--token-count`)."""
    doc = parse_body(body)
    messages = fields.required(doc, "messages")
    if not isinstance(messages, list):
        raise invalid_type("messages", "an array", messages)
    if not messages:
        raise fields.empty_array("messages")
    for i, message in enumerate(messages):
        # The common shape inline; anything else (and every error) in `_check_message`.
        if type(message) is dict:
            if type(message.get("content")) is str and message.get("role") in CHAT_ROLES:
                continue
        _check_message(i, message)
    tools = doc.get("tools")
    if tools is not None and type(tools) is not list:
        raise invalid_type("tools", "an array", tools)
    gen = _generation(doc, lambda model: count.chat(messages, model, tools), CHAT_GENERATION_FIELDS)
    logprobs, top = False, None
    if "logprobs" in doc or "top_logprobs" in doc:
        logprobs = bool(fields.boolean("logprobs", doc.get("logprobs")))
        top = fields.integer("top_logprobs", doc.get("top_logprobs"), 0, 20)
        if top is not None and not logprobs:
            raise InvalidRequest(
                "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
                "'top_logprobs' is used.",
                param="top_logprobs",
                code="invalid_value",
            )
    if SHAPE_FIELDS.isdisjoint(doc):
        return ChatRequest(gen, logprobs, top or 0)
    last = messages[-1]
    shape = parse_shape(doc, last.get("role") if isinstance(last, dict) else None)
    return ChatRequest(gen, logprobs, top or 0, shape)


class CompletionRequest(NamedTuple):
    gen: Generation
    prompts: int  # choices are `prompts * n`
    echo: tuple[bytes, ...]  # per prompt, JSON-escaped, when `echo` is true
    logprobs: int | None


def parse_completion(body: bytes, count: PromptCounter = EXACT) -> CompletionRequest:
    doc = parse_body(body)
    value = fields.required(doc, "prompt")
    prompts = fields.texts_or_tokens(value)
    if prompts is None:
        raise invalid_type("prompt", TEXT_OR_TOKENS, value)
    gen = _generation(doc, lambda model: max(count.items(prompts, model), 1), GENERATION_FIELDS)
    logprobs = fields.integer("logprobs", doc.get("logprobs"), 0, 5)
    fields.integer("best_of", doc.get("best_of"), 1, 20)
    echo = bool(fields.boolean("echo", doc.get("echo")))
    echoed = tuple(
        orjson.dumps(p if isinstance(p, str) else "".join(f"<{t}>" for t in p))[1:-1]
        for p in prompts
    )
    return CompletionRequest(
        gen=gen, prompts=len(prompts), echo=echoed if echo else (), logprobs=logprobs
    )


class EmbeddingRequest(NamedTuple):
    model: str
    inputs: tuple[str | tuple[int, ...], ...]
    base64: bool
    dimensions: int | None
    prompt_tokens: int

    @property
    def limit(self) -> None:
        """An embedding asks for no completion tokens (`core.reply.Asked`)."""
        return None


def parse_embedding(body: bytes, count: PromptCounter = EXACT) -> EmbeddingRequest:
    doc = parse_body(body)
    model = fields.string("model", fields.required(doc, "model"))
    assert model is not None
    value = fields.required(doc, "input")
    inputs = fields.texts_or_tokens(value)
    if value == []:
        raise fields.empty_array("input")
    if inputs is None:
        raise invalid_type("input", TEXT_OR_TOKENS, value)
    if len(inputs) > MAX_EMBEDDING_INPUTS:
        raise fields.array_too_long("input", MAX_EMBEDDING_INPUTS, len(inputs))
    if any(isinstance(i, str) and not i for i in inputs):
        raise InvalidRequest(
            "'$.input' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference.",
            param="input",
            code="invalid_value",
        )
    fmt = fields.string("encoding_format", doc.get("encoding_format")) or "float"
    if fmt not in ("float", "base64"):
        raise fields.unsupported_value("encoding_format", fmt, ("float", "base64"))
    dimensions = fields.integer("dimensions", doc.get("dimensions"), 1)
    fields.string("user", doc.get("user"))
    tokens = count.embedding(inputs)
    return EmbeddingRequest(
        model=model,
        inputs=tuple(inputs),
        base64=fmt == "base64",
        dimensions=dimensions,
        prompt_tokens=tokens,
    )
