"""The endpoint-independent field checkers and the real API's error wording.

`requests.py` builds its per-endpoint parsers from these: `parse_body` for the JSON object,
`required`, `string`, `boolean`, `integer` and `number` for single values (with the range check),
`stop` for stop sequences, `texts_or_tokens` for the shapes of `prompt` and `input`, and the
error factories (`invalid_type`, `missing`, `empty_array`, `array_too_long`, `unsupported_value`)
whose messages, `param` and `code` match the API's, e.g. "Invalid 'n': integer below minimum
value. Expected a value >= 1, but got 0 instead." with code `integer_below_min_value`.

`Field` is one row of a field table (field name -> row): a fast path that takes the common value
as it is, without a call, and the checker for everything else. `integer_field`, `number_field`,
`boolean_field` and `as_is` make the rows. Every checker raises only `InvalidRequest`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import inf
from typing import Any, NamedTuple

import orjson

from sanic_mock.errors import InvalidRequest

NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
    "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
    "help center at help.openai.com.)"
)
TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a decimal",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}
TEXT_OR_TOKENS = "a string, an array of strings, an array of tokens or an array of token arrays"
MAX_STOP = 4


# --- errors -------------------------------------------------------------------------------------


def kind(value: Any) -> str:
    """The API's name for a JSON value's type: "an integer", "a decimal", "null"..."""
    return TYPE_NAMES.get(type(value), "an unsupported value")


def invalid_type(name: str, expected: str, value: Any) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid type for '{name}': expected {expected}, but got {kind(value)} instead.",
        param=name,
        code="invalid_type",
    )


def missing(name: str) -> InvalidRequest:
    return InvalidRequest(
        f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


def empty_array(name: str) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid '{name}': empty array. Expected an array with minimum length 1, "
        "but got an empty array instead.",
        param=name,
        code="empty_array",
    )


def array_too_long(name: str, maximum: int, length: int) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid '{name}': array too long. Expected an array with maximum length {maximum}, "
        f"but got an array with length {length} instead.",
        param=name,
        code="array_above_max_length",
    )


def unsupported_value(param: str, value: Any, supported: Sequence[str]) -> InvalidRequest:
    """For two or more `supported`: "Invalid value: 'x'. Supported values are: 'a' and 'b'." or
    "...: 'a', 'b', and 'c'."."""
    *rest, last = (f"'{s}'" for s in supported)
    listed = f"{rest[0]} and {last}" if len(rest) == 1 else ", ".join(rest) + f", and {last}"
    return InvalidRequest(
        f"Invalid value: '{value}'. Supported values are: {listed}.",
        param=param,
        code="invalid_value",
    )


# --- the body and single values -----------------------------------------------------------------


def parse_body(body: bytes) -> dict[str, Any]:
    """The request's JSON object; anything else (bad JSON, an array...) is the API's NOT_JSON."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest(NOT_JSON) from None
    if not isinstance(doc, dict):
        raise InvalidRequest(NOT_JSON)
    return doc


def required(doc: dict[str, Any], name: str) -> Any:
    """`doc[name]`, which must be present and not null."""
    if name not in doc or doc[name] is None:
        raise missing(name)
    return doc[name]


# The value checkers take the field's name (for the error) and its value, and return the value,
# or None when it is null or absent (the callers apply the defaults).


def string(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_type(name, "a string", value)
    return value


def boolean(name: str, value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid_type(name, "a boolean", value)
    return value


def integer(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(name, "an integer", value)
    check_range(name, value, lo, hi, "integer")
    return value


def number(name: str, value: Any, lo: float, hi: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_type(name, "a decimal", value)
    check_range(name, value, lo, hi, "decimal")
    return float(value)


def check_range(name: str, value: float, lo: float | None, hi: float | None, what: str) -> None:
    """`what` is "integer" or "decimal", as in the API's codes (`integer_below_min_value`...)."""
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


def stop(name: str, value: Any) -> tuple[bytes, ...]:
    """Stop sequences: a string or up to MAX_STOP strings, UTF-8 encoded, empty ones dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise invalid_type(name, "a string or an array of strings", value)
    if len(value) > MAX_STOP:
        raise array_too_long(name, MAX_STOP, len(value))
    return tuple(s.encode("utf-8") for s in value if s)


def logit_bias(name: str, value: Any) -> dict[str, float] | None:
    """Token id (as a string) -> bias in [-100, 100]."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_type(name, "an object", value)
    for key, bias in value.items():
        if not key.isdigit():
            raise InvalidRequest(
                f"Invalid key in '{name}': {key}. Keys must be token ids (integers, as strings).",
                param=name,
                code="invalid_value",
            )
        try:
            number(f"{name}.{key}", bias, -100, 100)
        except InvalidRequest as error:  # the message names the key, `param` the field
            raise InvalidRequest(error.message, param=name, code=error.code) from None
    return value


def is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def texts_or_tokens(value: Any) -> list[str | tuple[int, ...]] | None:
    """A `prompt` or `input`: a string, strings, one token array or token arrays, as a list of
    items (None when it is none of these, including an empty array)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, str) for v in value):
        return list(value)
    if all(is_token(v) for v in value):
        return [tuple(value)]
    if all(isinstance(v, list) and v and all(is_token(t) for t in v) for v in value):
        return [tuple(v) for v in value]
    return None


# --- table rows ---------------------------------------------------------------------------------


class Field(NamedTuple):
    """One row of a field table: a value of exactly type `kind` (never a subclass: `True` is no
    integer) and, unless `lo` is None, within `lo <= value <= hi`, is taken as it is, without a
    call; anything else goes to `check(name, value)`, which returns the checked value (None when
    null) or raises. `kind` None sends every value to `check`. The fast path must only take values
    that `check` would return unchanged (tests/wire/test_fields.py checks this)."""

    kind: type | None
    lo: Any
    hi: Any
    check: Callable[[str, Any], Any]


def integer_field(lo: int, hi: int | None = None) -> Field:
    return Field(
        int, lo, inf if hi is None else hi, lambda name, value: integer(name, value, lo, hi)
    )


def number_field(lo: float, hi: float) -> Field:
    return Field(float, lo, hi, lambda name, value: number(name, value, lo, hi))


def boolean_field() -> Field:
    return Field(bool, None, None, boolean)


def as_is(kind: type) -> Field:
    """A field taken unchecked, whatever its value (checked later, against other fields)."""
    return Field(kind, None, None, lambda name, value: value)
