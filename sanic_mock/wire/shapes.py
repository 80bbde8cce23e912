"""What a chat request asks the answer's shape to be: tool calls, a JSON value, reasoning.

`parse_shape(doc, last_role)` reads `tools`, `tool_choice`, `parallel_tool_calls`, the legacy
`functions` and `function_call`, `response_format` and `reasoning_effort`, with the real API's 400s
(`param` naming the field, e.g. `tools[0].function.name`). It is called only when one of
`SHAPE_FIELDS` is in the body, so a plain chat request pays one set test for all of this.

The rule for `tool_choice: "auto"` needs the conversation's last role (`after_result`): after a
tool (or function) result the answer is text, so an agent loop ends.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from sanic_mock.errors import InvalidRequest
from sanic_mock.settings import REASONING_EFFORTS
from sanic_mock.wire import fields
from sanic_mock.wire.fields import invalid_type

SHAPE_FIELDS = frozenset(
    {
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "functions",
        "function_call",
        "response_format",
        "reasoning_effort",
    }
)
_NAME = re.compile(r"[a-zA-Z0-9_-]+")
_NAME_MAX = 64
OPEN_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


class Tool(NamedTuple):
    """A function the model may call: its name and the JSON Schema of its arguments."""

    name: str
    parameters: dict[str, Any]
    strict: bool


class ToolUse(NamedTuple):
    """How tools may be called: `mode` is "none", "auto", "required" or "named" (`named` is
    then the one tool to call); `legacy` for `functions`/`function_call`."""

    tools: tuple[Tool, ...]
    mode: str
    named: Tool | None
    parallel: bool
    legacy: bool
    after_result: bool


class OutputFormat(NamedTuple):
    """`response_format`: a JSON object, or a value of `schema` (`json_schema`)."""

    schema: dict[str, Any] | None  # None: any JSON object (`json_object`)
    strict: bool


class Shape(NamedTuple):
    tools: ToolUse | None
    format: OutputFormat | None
    effort: str | None  # reasoning_effort


def parse_shape(doc: dict[str, Any], last_role: Any) -> Shape:
    effort = fields.string("reasoning_effort", doc.get("reasoning_effort"))
    if effort is not None and effort not in REASONING_EFFORTS:
        raise fields.unsupported_value("reasoning_effort", effort, REASONING_EFFORTS)
    after_result = last_role in ("tool", "function")
    return Shape(_tool_use(doc, after_result), _output_format(doc), effort)


def _tool_use(doc: dict[str, Any], after_result: bool) -> ToolUse | None:
    tools = doc.get("tools")
    if tools is None:
        if doc.get("functions") is not None:
            return _legacy(doc, after_result)
        for name in ("tool_choice", "parallel_tool_calls"):
            if doc.get(name) is not None:
                raise InvalidRequest(
                    f"Invalid value for '{name}': '{name}' is only allowed when 'tools' are "
                    "specified.",
                    param=name,
                )
        return None
    if not isinstance(tools, list):
        raise invalid_type("tools", "an array", tools)
    if not tools:
        raise fields.empty_array("tools")
    parsed = _function_tools(tools)
    parallel = fields.boolean("parallel_tool_calls", doc.get("parallel_tool_calls"))
    mode, named = _choice("tool_choice", doc.get("tool_choice"), parsed, nested=True)
    return ToolUse(parsed, mode, named, parallel is not False, False, after_result)


# Parsed `tools` lists and `response_format`s, by their JSON: an agent or a benchmark sends the
# same ones with every request, and checking them again costs ~20x the lookup. The values are
# shared between requests (and read only), so a schema's generated values can be found by the
# schema object (`Instances.values`). An invalid one raises, and is not kept.
def _function_tools(tools: list[Any]) -> tuple[Tool, ...]:
    return _function_tools_of(orjson.dumps(tools))


@lru_cache(maxsize=1024)
def _function_tools_of(key: bytes) -> tuple[Tool, ...]:
    every = [_tool(i, tool) for i, tool in enumerate(orjson.loads(key))]
    return tuple(tool for tool in every if tool is not None)


def _tool(index: int, tool: Any) -> Tool | None:
    """One `tools` entry; a `custom` tool (free-form input) is accepted and never called."""
    where = f"tools[{index}]"
    if not isinstance(tool, dict):
        raise invalid_type(where, "an object", tool)
    kind = tool.get("type")
    if kind is None:
        raise fields.missing(f"{where}.type")
    if kind == "custom":
        return None
    if kind != "function":
        raise fields.unsupported_value(f"{where}.type", kind, ("function", "custom"))
    function = tool.get("function")
    if function is None:
        raise fields.missing(f"{where}.function")
    return function_tool(f"{where}.function", function)


def function_tool(where: str, function: Any) -> Tool:
    if not isinstance(function, dict):
        raise invalid_type(where, "an object", function)
    if function.get("name") is None:
        raise fields.missing(f"{where}.name")
    name = fields.string(f"{where}.name", function["name"])
    assert name is not None
    if len(name) > _NAME_MAX:
        raise InvalidRequest(
            f"Invalid '{where}.name': string too long. Expected a string with maximum length "
            f"{_NAME_MAX}, but got a string with length {len(name)} instead.",
            param=f"{where}.name",
            code="string_above_max_length",
        )
    if not _NAME.fullmatch(name):
        raise InvalidRequest(
            f"Invalid '{where}.name': string does not match pattern. Expected a string that "
            "matches the pattern '^[a-zA-Z0-9_-]+$'.",
            param=f"{where}.name",
            code="invalid_value",
        )
    fields.string(f"{where}.description", function.get("description"))
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise invalid_type(f"{where}.parameters", "an object", parameters)
    strict = fields.boolean(f"{where}.strict", function.get("strict"))
    return Tool(name, parameters or OPEN_SCHEMA, bool(strict))


def _choice(
    param: str, value: Any, tools: tuple[Tool, ...], nested: bool
) -> tuple[str, Tool | None]:
    """`tool_choice` (or legacy `function_call`) as a mode and the named tool. Named, it is
    `{"type": "function", "function": {"name": X}}` (`nested`) or `{"name": X}` (legacy)."""
    if value is None:
        return ("auto" if tools else "none"), None
    if isinstance(value, str):
        allowed = ("none", "auto", "required") if nested else ("none", "auto")
        if value not in allowed:
            raise fields.unsupported_value(param, value, allowed)
        if value == "required" and not tools:
            return "none", None
        return value, None
    if not isinstance(value, dict):
        raise invalid_type(param, "a string or an object", value)
    if nested:
        kind = value.get("type")
        if kind != "function":
            raise fields.unsupported_value(f"{param}.type", kind, ("function",))
        function = value.get("function")
        if not isinstance(function, dict):
            raise fields.missing(f"{param}.function")
        value, param = function, f"{param}.function"
    if value.get("name") is None:
        raise fields.missing(f"{param}.name")
    name = fields.string(f"{param}.name", value["name"])
    for tool in tools:
        if tool.name == name:
            return "named", tool
    raise InvalidRequest(
        f"Invalid value for '{param}.name': no function named '{name}' was specified in the "
        f"'{'tools' if nested else 'functions'}' parameter.",
        param=f"{param}.name",
    )


def _legacy(doc: dict[str, Any], after_result: bool) -> ToolUse:
    functions = doc["functions"]
    if not isinstance(functions, list):
        raise invalid_type("functions", "an array", functions)
    if not functions:
        raise fields.empty_array("functions")
    parsed = tuple(function_tool(f"functions[{i}]", f) for i, f in enumerate(functions))
    mode, named = _choice("function_call", doc.get("function_call"), parsed, nested=False)
    return ToolUse(parsed, mode, named, False, True, after_result)


def _output_format(doc: dict[str, Any]) -> OutputFormat | None:
    value = doc.get("response_format")
    if value is None:
        return None
    return _output_format_of(orjson.dumps(value))


@lru_cache(maxsize=1024)
def _output_format_of(key: bytes) -> OutputFormat | None:
    value = orjson.loads(key)
    if not isinstance(value, dict):
        raise invalid_type("response_format", "an object", value)
    if value.get("type") is None:
        raise fields.missing("response_format.type")
    kind = value["type"]
    kinds = ("json_object", "json_schema", "text")
    if kind not in kinds:
        raise fields.unsupported_value("response_format.type", kind, kinds)
    if kind == "text":
        return None
    if kind == "json_object":
        return OutputFormat(None, False)
    spec = value.get("json_schema")
    if spec is None:
        raise fields.missing("response_format.json_schema")
    if not isinstance(spec, dict):
        raise invalid_type("response_format.json_schema", "an object", spec)
    if spec.get("name") is None:
        raise fields.missing("response_format.json_schema.name")
    name = fields.string("response_format.json_schema.name", spec["name"])
    if name is not None and not _NAME.fullmatch(name):
        raise InvalidRequest(
            "Invalid 'response_format.json_schema.name': string does not match pattern. "
            "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            param="response_format.json_schema.name",
            code="invalid_value",
        )
    schema = spec.get("schema")
    if schema is None:
        raise fields.missing("response_format.json_schema.schema")
    if not isinstance(schema, dict):
        raise invalid_type("response_format.json_schema.schema", "an object", schema)
    strict = fields.boolean("response_format.json_schema.strict", spec.get("strict"))
    return OutputFormat(schema, bool(strict))
