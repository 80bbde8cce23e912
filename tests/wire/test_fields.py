"""The field checkers of `sanic_mock.wire.fields`: the real API's wording for each error, and a
table row's fast path taking only what its checker would return unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanic_mock.errors import InvalidRequest
from sanic_mock.wire import fields
from sanic_mock.wire.requests import CHAT_GENERATION_FIELDS

# What orjson.loads can hand a checker.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=10,
)
# Values at and around every bound in the tables, which the fast path compares against.
EDGES = st.sampled_from(
    [0, 1, -1, 2, -2, 128, 129, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 0.0, -0.0, 1.0, 2.0]
    + [2.0000001, -2.0000001, 1.0000001, -1e-300, True, False, "", [], {}, [""]]
)


def raised(call: Any, *args: Any) -> tuple[str, str | None, str | None]:
    with pytest.raises(InvalidRequest) as caught:
        call(*args)
    return caught.value.message, caught.value.param, caught.value.code


@pytest.mark.parametrize("name", sorted(CHAT_GENERATION_FIELDS))
@settings(max_examples=300, deadline=None)
@given(value=JSON | EDGES)
def test_a_row_fast_path_takes_only_what_its_checker_returns_unchanged(
    name: str, value: Any
) -> None:
    kind, lo, hi, check = CHAT_GENERATION_FIELDS[name]
    if type(value) is kind and (lo is None or lo <= value <= hi):
        checked = check(name, value)
        assert checked == value and type(checked) is type(value)


@pytest.mark.parametrize("name", sorted(CHAT_GENERATION_FIELDS))
@settings(max_examples=200, deadline=None)
@given(value=JSON | EDGES)
def test_a_row_checker_raises_only_invalid_request_naming_its_field(name: str, value: Any) -> None:
    try:
        CHAT_GENERATION_FIELDS[name].check(name, value)
    except InvalidRequest as e:
        assert e.param == name and e.code is not None


@pytest.mark.parametrize("name", sorted(CHAT_GENERATION_FIELDS))
def test_a_row_checker_returns_none_for_null(name: str) -> None:
    assert CHAT_GENERATION_FIELDS[name].check(name, None) in (None, ())


@pytest.mark.parametrize("body", [b"", b"{", b"[1, 2]", b'"x"', b"null", b"1", b"\xff"])
def test_parse_body_rejects_anything_but_a_json_object_with_the_api_hint(body: bytes) -> None:
    assert raised(fields.parse_body, body) == (fields.NOT_JSON, None, None)


def test_parse_body_returns_the_object() -> None:
    assert fields.parse_body(b'{"a": [1]}') == {"a": [1]}


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (True, "a boolean"),
        (1, "an integer"),
        (1.5, "a decimal"),
        ("s", "a string"),
        ([], "an array"),
        ({}, "an object"),
        (None, "null"),
        (b"x", "an unsupported value"),
    ],
)
def test_kind_names_json_types_as_the_api_does(value: Any, name: str) -> None:
    assert fields.kind(value) == name


def test_required_rejects_absent_and_null() -> None:
    want = ("Missing required parameter: 'x'.", "x", "missing_required_parameter")
    assert raised(fields.required, {}, "x") == want
    assert raised(fields.required, {"x": None}, "x") == want
    assert fields.required({"x": 0}, "x") == 0


@pytest.mark.parametrize(
    ("check", "value", "expected", "got"),
    [
        (fields.string, 1, "a string", "an integer"),
        (fields.boolean, 0, "a boolean", "an integer"),
        (fields.boolean, "true", "a boolean", "a string"),
        (fields.integer, True, "an integer", "a boolean"),
        (fields.integer, 1.0, "an integer", "a decimal"),
        (fields.integer, "1", "an integer", "a string"),
        (lambda name, v: fields.number(name, v, 0, 2), False, "a decimal", "a boolean"),
        (lambda name, v: fields.number(name, v, 0, 2), [1], "a decimal", "an array"),
    ],
)
def test_the_value_checkers_reject_a_wrong_type(
    check: Any, value: Any, expected: str, got: str
) -> None:
    assert raised(check, "f", value) == (
        f"Invalid type for 'f': expected {expected}, but got {got} instead.",
        "f",
        "invalid_type",
    )


def test_the_value_checkers_pass_null_and_good_values() -> None:
    assert fields.string("f", None) is None and fields.string("f", "") == ""
    assert fields.boolean("f", None) is None and fields.boolean("f", False) is False
    assert fields.integer("f", None) is None and fields.integer("f", 10**30, 1) == 10**30
    number = fields.number("f", 1, 0, 2)
    assert number == 1.0 and type(number) is float
    assert fields.number("f", None, 0, 2) is None


@pytest.mark.parametrize(
    ("value", "message", "code"),
    [
        (0, "integer below minimum value. Expected a value >= 1, but got 0", "below_min"),
        (129, "integer above maximum value. Expected a value <= 128, but got 129", "above_max"),
    ],
)
def test_integer_range(value: int, message: str, code: str) -> None:
    assert raised(fields.integer, "n", value, 1, 128) == (
        f"Invalid 'n': {message} instead.",
        "n",
        f"integer_{code}_value",
    )
    assert fields.integer("n", 1, 1, 128) == 1 and fields.integer("n", 128, 1, 128) == 128


@pytest.mark.parametrize(
    ("value", "message", "code"),
    [
        (-0.5, "decimal below minimum value. Expected a value >= 0, but got -0.5", "below_min"),
        (2.5, "decimal above maximum value. Expected a value <= 2, but got 2.5", "above_max"),
    ],
)
def test_number_range(value: float, message: str, code: str) -> None:
    assert raised(fields.number, "t", value, 0, 2) == (
        f"Invalid 't': {message} instead.",
        "t",
        f"decimal_{code}_value",
    )


def test_stop_takes_a_string_or_up_to_four_strings_and_drops_empty_ones() -> None:
    assert fields.stop("stop", None) == ()
    assert fields.stop("stop", "\n") == (b"\n",)
    assert fields.stop("stop", ["a", "", "é", "d"]) == (b"a", "é".encode(), b"d")
    assert raised(fields.stop, "stop", ["a"] * 5) == (
        "Invalid 'stop': array too long. Expected an array with maximum length 4, "
        "but got an array with length 5 instead.",
        "stop",
        "array_above_max_length",
    )
    for bad, got in ((5, "an integer"), (["a", 1], "an array"), ({}, "an object")):
        assert raised(fields.stop, "stop", bad) == (
            f"Invalid type for 'stop': expected a string or an array of strings, but got {got} "
            "instead.",
            "stop",
            "invalid_type",
        )


@pytest.mark.parametrize(
    ("value", "items"),
    [
        ("a", ["a"]),
        (["a", ""], ["a", ""]),
        ([1, 2], [(1, 2)]),
        ([[1], [2, 3]], [(1,), (2, 3)]),
        ([], None),
        ([[]], None),
        ([True], None),
        (["a", 1], None),
        ([[1], "a"], None),
        (5, None),
        (None, None),
    ],
)
def test_texts_or_tokens(value: Any, items: list[Any] | None) -> None:
    assert fields.texts_or_tokens(value) == items


def test_the_array_errors() -> None:
    empty = fields.empty_array("input")
    assert (empty.message, empty.param, empty.code) == (
        "Invalid 'input': empty array. Expected an array with minimum length 1, "
        "but got an empty array instead.",
        "input",
        "empty_array",
    )
    error = fields.array_too_long("input", 2048, 2049)
    assert (error.message, error.param, error.code) == (
        "Invalid 'input': array too long. Expected an array with maximum length 2048, "
        "but got an array with length 2049 instead.",
        "input",
        "array_above_max_length",
    )


def test_unsupported_value_lists_the_choices_as_the_api_does() -> None:
    two = fields.unsupported_value("f", "hex", ("float", "base64"))
    assert (two.message, two.param, two.code) == (
        "Invalid value: 'hex'. Supported values are: 'float' and 'base64'.",
        "f",
        "invalid_value",
    )
    three = fields.unsupported_value("r", 5, ("a", "b", "c"))
    assert three.message == "Invalid value: '5'. Supported values are: 'a', 'b', and 'c'."
