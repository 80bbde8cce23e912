"""Token counts of prompts, the way the real API counts them, and the estimates they replace.

`count_text(text, encoding)` is the number of tokens of `text` in an encoding (`encodings.py`:
o200k_base or cl100k_base). `count_chat_prompt(messages, model, tools)` is a chat request's
`usage.prompt_tokens`, by the rule checked against real recorded traffic (tests/test_tokens.py
has the table and where each row comes from):

- every message costs 3 tokens, plus its role's and its content's tokens (a `name`: its tokens
  and 1 more), in the model's encoding;
- the reply is primed with 3 more tokens, 2 for the o3-mini and gpt-5 families;
- tool definitions are counted as the API is understood to render them into the prompt (a
  TypeScript-like `namespace functions` block, `_tool_text`, plus 9, and 4 fewer when there is a
  system message): an approximation, from community reverse-engineering (hmarr's
  openai-chat-tokens), within 4 tokens of every recorded gpt-4o/4.1 request with tools we
  found (a third exact), plus 81 for the gpt-5 family;
- an assistant message's tool calls count their names and arguments plus 3 each, also an
  approximation;
- content parts that are not text keep an estimate: an image 85 tokens at `detail: low`, 765
  otherwise (a 1024×1024 image at high detail: 4 tiles of 170 plus 85; the mock does not fetch
  images, so it cannot know their size), audio or a file 340.

Counts are cached per (text, encoding), so a benchmark's repeated prompts are encoded once
(`tools/bench/instructions.py`: exact counting adds ~2.6% to a benchmark JSON chat request).
`PromptCounter` is what request parsing calls: `EXACT` by these rules, or `ESTIMATE`, the
original server's ceil(chars / 4) (plus the same per-message overheads) for `--token-count
estimate`. `split_pieces` cuts recorded answers into ~4-character stream events for replay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from sanic_mock import encodings

_UNIT = re.compile(r" ?[^\W_]+| ?[^\s\w]+| ?_+|\n+|[^\S\n]+")
CHARS_PER_TOKEN = 4
PER_MESSAGE = 3
PER_NAME = 1
# Families whose replies are primed with 2 tokens, not 3 (recorded: o3-mini, gpt-5, gpt-5-nano).
_PRIMER_2 = ("o3-mini", "gpt-5")
IMAGE_LOW, IMAGE_HIGH, OTHER_PART = 85, 765, 340
# gpt-5 models with tools were billed 81 tokens more than the rule gives (39 of 44 recorded
# requests; the rest 79-91): a preamble of their own, added as a constant.
TOOLS_GPT5 = 81


def split_pieces(text: str) -> list[str]:
    """Cut `text` into ~4-character pieces; `"".join(split_pieces(t)) == t` for every string."""
    pieces: list[str] = []
    for unit in _UNIT.findall(text):
        n = len(unit)
        if n <= CHARS_PER_TOKEN + 1:
            pieces.append(unit)
            continue
        parts = -(-n // CHARS_PER_TOKEN)
        step, extra = divmod(n, parts)
        start = 0
        for i in range(parts):
            end = start + step + (1 if i < extra else 0)
            pieces.append(unit[start:end])
            start = end
    return pieces


def tokens_for_chars(chars: int) -> int:
    """The original server's estimate for `chars` characters: ceil(chars / 4)."""
    return -(-chars // CHARS_PER_TOKEN)


def estimate_tokens(text: str) -> int:
    return tokens_for_chars(len(text))


# Token counts of texts already seen, per encoding: a benchmark's prompts repeat, and a dict
# lookup costs a fraction of encoding even a short text. Cleared when full.
_SEEN: dict[str, dict[str, int]] = {name: {} for name in encodings.NAMES}
SEEN_MAX = 1 << 16


def count_text(text: str, encoding: str) -> int:
    """Tokens of `text` in `encoding`; special-token text such as `<|endoftext|>` is plain text,
    as in a real prompt."""
    seen = _SEEN[encoding]
    found = seen.get(text)
    if found is None:
        found = len(encodings.get(encoding).encode_ordinary(text))
        if len(seen) >= SEEN_MAX:
            seen.clear()
        seen[text] = found
    return found


def count_items(items: Sequence[str | Sequence[int]], encoding: str) -> int:
    """Tokens of completion prompts or embedding inputs: texts counted, token arrays as given."""
    return sum(count_text(i, encoding) if isinstance(i, str) else len(i) for i in items)


def primer(model: str) -> int:
    return 2 if model.startswith(_PRIMER_2) else 3


def count_chat_prompt(
    messages: Sequence[dict[str, Any]], model: str, tools: Sequence[Any] | None = None
) -> int:
    """`usage.prompt_tokens` of a chat request with valid `messages` (see the module docstring)."""
    enc = encodings.encoding_name(model)
    seen = _SEEN[enc]
    total = primer(model)
    system = False
    for message in messages:
        # The common message, {"role": ..., "content": "..."} with both seen before, in lookups.
        role, content = message.get("role"), message.get("content")
        if type(role) is str:
            n = seen.get(role)
            total += PER_MESSAGE + (count_text(role, enc) if n is None else n)
            system = system or role == "system"
        else:
            total += PER_MESSAGE
        if type(content) is str:
            n = seen.get(content)
            total += count_text(content, enc) if n is None else n
        elif isinstance(content, list):
            total += _parts(content, enc)
        if len(message) > 2:
            name = message.get("name")
            if isinstance(name, str):
                total += count_text(name, enc) + PER_NAME
            calls = message.get("tool_calls")
            if isinstance(calls, list):
                total += _tool_calls(calls, enc)
    if tools:
        total += count_text(tool_text(tools), enc) + 9 - (4 if system else 0)
        if model.startswith("gpt-5"):
            total += TOOLS_GPT5
    return total


def _parts(parts: list[Any], enc: str) -> int:
    total = 0
    for part in parts:
        text = part.get("text") if isinstance(part, dict) else None
        if isinstance(text, str):
            total += count_text(text, enc)
        elif isinstance(part, dict) and part.get("type") == "image_url":
            image = part.get("image_url")
            low = isinstance(image, dict) and image.get("detail") == "low"
            total += IMAGE_LOW if low else IMAGE_HIGH
        else:
            total += OTHER_PART
    return total


def _tool_calls(calls: list[Any], enc: str) -> int:
    total = 0
    for call in calls:
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict):
            for key in ("name", "arguments"):
                value = fn.get(key)
                total += count_text(value, enc) if isinstance(value, str) else 0
        total += PER_MESSAGE
    return total


def tool_text(tools: Sequence[Any]) -> str:
    """`_tool_text(tools)`, rendered once per distinct tool list (by its JSON): an agent sends
    the same tools with every turn, and rendering them costs ~10x the lookup."""
    return _tool_text_of(orjson.dumps(tools))


@lru_cache(maxsize=1024)
def _tool_text_of(key: bytes) -> str:
    return _tool_text(orjson.loads(key))


def _tool_text(tools: Sequence[Any]) -> str:
    """Function tools as the model is believed to see them (hmarr/openai-chat-tokens)."""
    lines = ["namespace functions {", ""]
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict):
            continue
        if fn.get("description"):
            lines.append(f"// {fn['description']}")
        params = fn.get("parameters")
        name = fn.get("name", "")
        if isinstance(params, dict) and params.get("properties"):
            lines += [f"type {name} = (_: {{", _properties(params, 0), "}) => any;"]
        else:
            lines.append(f"type {name} = () => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _properties(schema: dict[str, Any], indent: int) -> str:
    required = schema.get("required") or ()
    lines = []
    props = schema.get("properties")
    for key, prop in (props if isinstance(props, dict) else {}).items():
        if not isinstance(prop, dict):
            continue
        if prop.get("description") and indent < 2:
            lines.append(f"// {prop['description']}")
        optional = "" if key in required else "?"
        lines.append(f"{key}{optional}: {_type(prop, indent)},")
    return "\n".join(" " * indent + line for line in lines)


def _type(prop: dict[str, Any], indent: int) -> str:
    kind = prop.get("type")
    if isinstance(prop.get("enum"), list):
        return " | ".join(f'"{v}"' for v in prop["enum"])
    if kind == "array":
        items = prop.get("items")
        return f"{_type(items, indent)}[]" if isinstance(items, dict) else "any[]"
    if kind == "object":
        return "{\n" + _properties(prop, indent + 2) + "\n}"
    if kind in ("integer", "number"):
        return "number"
    if kind in ("string", "boolean", "null"):
        return str(kind)
    return "any"


def estimate_chat_prompt(messages: Sequence[dict[str, Any]]) -> int:
    """The original server's chat rule: ceil(content chars / 4) + 3 per message + 3, a
    non-text part as 340 tokens."""
    chars = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else None
                chars += len(text) if isinstance(text, str) else OTHER_PART * CHARS_PER_TOKEN
    return tokens_for_chars(chars) + PER_MESSAGE * len(messages) + 3


def estimate_items(items: Sequence[str | Sequence[int]]) -> int:
    return sum(estimate_tokens(i) if isinstance(i, str) else len(i) for i in items)


class PromptCounter(NamedTuple):
    """How request parsing counts prompts: `exact` (the model's tokenizer) or the estimate."""

    exact: bool = True

    def warm(self) -> PromptCounter:
        """Load the default tokenizer now (~0.35 s, once per process) rather than in the first
        request, whose frames would then all be late; cl100k_base, for gpt-4 and gpt-3.5, is
        still loaded when first asked for. Returns itself."""
        if self.exact:
            encodings.get(encodings.O200K)
        return self

    def chat(self, messages: Sequence[dict[str, Any]], model: str, tools: Any) -> int:
        if self.exact:
            return count_chat_prompt(messages, model, tools)
        return estimate_chat_prompt(messages)

    def items(self, items: Sequence[str | Sequence[int]], model: str) -> int:
        """A completions prompt: in the model's encoding."""
        if self.exact:
            return count_items(items, encodings.encoding_name(model))
        return estimate_items(items)

    def embedding(self, items: Sequence[str | Sequence[int]]) -> int:
        """Embedding inputs: always cl100k_base, the encoding of every embedding model."""
        return count_items(items, encodings.CL100K) if self.exact else estimate_items(items)


EXACT = PromptCounter(True)
ESTIMATE = PromptCounter(False)
