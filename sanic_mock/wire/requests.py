"""Parse and validate request bodies into named tuples (immutable, and built in a third of the
time of a frozen dataclass: these are made on every request).

Error messages, `param` and `code` follow the real API's wording, e.g. "Invalid 'n': integer below
minimum value. Expected a value >= 1, but got 0 instead." with code `integer_below_min_value`.
Parsing raises only `InvalidRequest`, whatever the bytes. Unknown fields are accepted (benchmark
clients send vLLM extensions such as `ignore_eos` and `min_tokens`, which are honoured).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from sanic_mock.errors import InvalidRequest
from sanic_mock.tokens import estimate_tokens, tokens_for_chars

_NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
    "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
    "help center at help.openai.com.)"
)
_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a decimal",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
MAX_STOP = 4


def _kind(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), "an unsupported value")


def _invalid_type(name: str, expected: str, value: Any) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid type for '{name}': expected {expected}, but got {_kind(value)} instead.",
        param=name,
        code="invalid_type",
    )


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest(_NOT_JSON) from None
    if not isinstance(doc, dict):
        raise InvalidRequest(_NOT_JSON)
    return doc


def _required(doc: dict[str, Any], name: str) -> Any:
    if name not in doc or doc[name] is None:
        raise InvalidRequest(
            f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
        )
    return doc[name]


def _string(doc: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = _required(doc, name) if required else doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid_type(name, "a string", value)
    return value


def _bool(doc: dict[str, Any], name: str) -> bool | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _invalid_type(name, "a boolean", value)
    return value


def _int(
    doc: dict[str, Any], name: str, lo: int | None = None, hi: int | None = None
) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid_type(name, "an integer", value)
    _check_range(name, value, lo, hi, "integer")
    return value


def _number(doc: dict[str, Any], name: str, lo: float, hi: float) -> float | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid_type(name, "a decimal", value)
    _check_range(name, value, lo, hi, "decimal")
    return float(value)


def _check_range(name: str, value: float, lo: float | None, hi: float | None, what: str) -> None:
    if lo is not None and value < lo:
        raise InvalidRequest(
            f"Invalid '{name}': {what} below minimum value. Expected a value >= {lo:g}, "
            f"but got {value:g} instead.",
            param=name,
            code=f"{what}_below_min_value",
        )
    if hi is not None and value > hi:
        raise InvalidRequest(
            f"Invalid '{name}': {what} above maximum value. Expected a value <= {hi:g}, "
            f"but got {value:g} instead.",
            param=name,
            code=f"{what}_above_max_value",
        )


def _stop(doc: dict[str, Any]) -> tuple[bytes, ...]:
    value = doc.get("stop")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _invalid_type("stop", "a string or an array of strings", value)
    if len(value) > MAX_STOP:
        raise InvalidRequest(
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
            f"but got an array with length {len(value)} instead.",
            param="stop",
            code="array_above_max_length",
        )
    return tuple(s.encode("utf-8") for s in value if s)


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


def _generation(
    doc: dict[str, Any], prompt_tokens: int, limit_names: tuple[str, ...]
) -> Generation:
    model = doc.get("model")
    if type(model) is not str:
        model = _string(doc, "model", required=True)
        assert model is not None
    n, stream, min_tokens, ignore_eos = 1, False, 0, False
    options: Any = None
    limit: int | None = None
    seed: int | None = None
    stop: tuple[bytes, ...] = ()
    # One pass over the keys present (typical requests carry a handful); absent fields cost
    # nothing, and the common values take no function call.
    for name, value in doc.items():
        if name not in _GENERATION_FIELDS:
            continue
        if name in limit_names:
            if type(value) is not int or value < 1:
                value = _int(doc, name, 1)
            if value is not None and (limit is None or name == limit_names[0]):
                limit = value
        elif name == "stream":
            stream = value if value is True or value is False else bool(_bool(doc, name))
        elif name == "stream_options":
            options = value
        elif name in _RANGED:
            _number(doc, name, *_RANGED[name])
        elif name == "n":
            n = _int(doc, name, 1, 128) or 1
        elif name == "min_tokens":
            min_tokens = _int(doc, name, 0) or 0
        elif name == "seed":
            seed = _int(doc, name, -(2**63), 2**63 - 1)
        elif name == "ignore_eos":
            ignore_eos = bool(_bool(doc, name))
        elif name == "stop":
            stop = _stop(doc)
    include_usage, include_obfuscation = False, True
    if options is not None:
        if not isinstance(options, dict):
            raise _invalid_type("stream_options", "an object", options)
        if not stream:
            raise InvalidRequest(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
                code="invalid_value",
            )
        include_usage = bool(_bool(options, "include_usage"))
        include_obfuscation = _bool(options, "include_obfuscation") is not False
    return Generation(
        model,
        n,
        stream,
        include_usage,
        include_obfuscation,
        limit,
        min_tokens,
        ignore_eos,
        stop,
        seed,
        _seed_key(doc) if seed is not None else b"",
        prompt_tokens,
    )


_RANGED = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "presence_penalty": (-2, 2),
    "frequency_penalty": (-2, 2),
}
_GENERATION_FIELDS = frozenset(
    {
        "max_completion_tokens",
        "max_tokens",
        "stream",
        "stream_options",
        *_RANGED,
        "n",
        "min_tokens",
        "seed",
        "ignore_eos",
        "stop",
    }
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


def _message_chars(index: int, message: Any) -> int:
    name = f"messages[{index}]"
    if not isinstance(message, dict):
        raise _invalid_type(name, "an object", message)
    role = message.get("role")
    if role is None:
        raise InvalidRequest(
            f"Missing required parameter: '{name}.role'.",
            param=f"{name}.role",
            code="missing_required_parameter",
        )
    if role not in CHAT_ROLES:
        raise InvalidRequest(
            f"Invalid value: '{role}'. Supported values are: "
            + ", ".join(f"'{r}'" for r in CHAT_ROLES[:-1])
            + f", and '{CHAT_ROLES[-1]}'.",
            param=f"{name}.role",
            code="invalid_value",
        )
    content = message.get("content")
    if content is None:
        if role != "assistant":
            raise InvalidRequest(
                f"Missing required parameter: '{name}.content'.",
                param=f"{name}.content",
                code="missing_required_parameter",
            )
        return 0
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise _invalid_type(
                    f"{name}.content", "a string or an array of content parts", part
                )
            text = part.get("text")
            total += len(text) if isinstance(text, str) else 340 * 4  # a non-text part: ~340 tokens
        return total
    raise _invalid_type(f"{name}.content", "a string or an array of content parts", content)


def parse_chat(body: bytes) -> ChatRequest:
    doc = parse_body(body)
    messages = _required(doc, "messages")
    if not isinstance(messages, list):
        raise _invalid_type("messages", "an array", messages)
    if not messages:
        raise InvalidRequest(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    chars = 0
    for i, message in enumerate(messages):
        # The common shape inline; anything else (and every error) in `_message_chars`.
        if type(message) is dict:
            content = message.get("content")
            if type(content) is str and message.get("role") in CHAT_ROLES:
                chars += len(content)
                continue
        chars += _message_chars(i, message)
    # Chat formatting overhead as in OpenAI's token-counting cookbook: 3 per message, 3 to prime.
    prompt_tokens = tokens_for_chars(chars) + 3 * len(messages) + 3
    gen = _generation(doc, prompt_tokens, ("max_completion_tokens", "max_tokens"))
    logprobs, top = False, None
    if "logprobs" in doc or "top_logprobs" in doc:
        logprobs = bool(_bool(doc, "logprobs"))
        top = _int(doc, "top_logprobs", 0, 20)
        if top is not None and not logprobs:
            raise InvalidRequest(
                "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
                "'top_logprobs' is used.",
                param="top_logprobs",
                code="invalid_value",
            )
    tools = doc.get("tools")
    if tools is not None and type(tools) is not list:
        raise _invalid_type("tools", "an array", tools)
    return ChatRequest(gen, logprobs, top or 0)


class CompletionRequest(NamedTuple):
    gen: Generation
    prompts: int  # choices are `prompts * n`
    echo: tuple[bytes, ...]  # per prompt, JSON-escaped, when `echo` is true
    logprobs: int | None


_TEXT_OR_TOKENS = "a string, an array of strings, an array of tokens or an array of token arrays"


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _texts_or_tokens(value: Any) -> list[str | tuple[int, ...]] | None:
    """A `prompt` or `input`: a string, strings, one token array or token arrays, as a list of
    items (None when it is none of these, including an empty array)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, str) for v in value):
        return list(value)
    if all(_is_token(v) for v in value):
        return [tuple(value)]
    if all(isinstance(v, list) and v and all(_is_token(t) for t in v) for v in value):
        return [tuple(v) for v in value]
    return None


def _prompts(value: Any) -> list[str | tuple[int, ...]]:
    prompts = _texts_or_tokens(value)
    if prompts is None:
        raise _invalid_type("prompt", _TEXT_OR_TOKENS, value)
    return prompts


def parse_completion(body: bytes) -> CompletionRequest:
    doc = parse_body(body)
    prompts = _prompts(_required(doc, "prompt"))
    tokens = sum(estimate_tokens(p) if isinstance(p, str) else len(p) for p in prompts)
    gen = _generation(doc, max(tokens, 1), ("max_tokens",))
    logprobs = _int(doc, "logprobs", 0, 5)
    _int(doc, "best_of", 1, 20)
    echo = bool(_bool(doc, "echo"))
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


MAX_EMBEDDING_INPUTS = 2048


def parse_embedding(body: bytes) -> EmbeddingRequest:
    doc = parse_body(body)
    model = _string(doc, "model", required=True)
    assert model is not None
    value = _required(doc, "input")
    inputs = _texts_or_tokens(value)
    if value == []:
        raise InvalidRequest(
            "Invalid 'input': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param="input",
            code="empty_array",
        )
    if inputs is None:
        raise _invalid_type("input", _TEXT_OR_TOKENS, value)
    if len(inputs) > MAX_EMBEDDING_INPUTS:
        raise InvalidRequest(
            f"Invalid 'input': array too long. Expected an array with maximum length "
            f"{MAX_EMBEDDING_INPUTS}, but got an array with length {len(inputs)} instead.",
            param="input",
            code="array_above_max_length",
        )
    if any(isinstance(i, str) and not i for i in inputs):
        raise InvalidRequest(
            "'$.input' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference.",
            param="input",
            code="invalid_value",
        )
    fmt = _string(doc, "encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise InvalidRequest(
            f"Invalid value: '{fmt}'. Supported values are: 'float' and 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    dimensions = _int(doc, "dimensions", 1)
    tokens = sum(estimate_tokens(i) if isinstance(i, str) else len(i) for i in inputs)
    return EmbeddingRequest(
        model=model,
        inputs=tuple(inputs),
        base64=fmt == "base64",
        dimensions=dimensions,
        prompt_tokens=tokens,
    )
