"""The per-endpoint parsers of `sanic_mock.wire.requests` and their generation-field tables.

`API_GENERATION_FIELDS` is written here, from the API reference, independently of the tables:
each generation field with a wrong-typed value and the real API's answer. A field missing from a
table (it would be silently accepted), an extra row, or a row with the wrong checker fails."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanic_mock.errors import InvalidRequest
from sanic_mock.wire import requests
from sanic_mock.wire.fields import Field
from sanic_mock.wire.requests import (
    CHAT_GENERATION_FIELDS,
    GENERATION_FIELDS,
    Generation,
    parse_chat,
    parse_completion,
)

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
COMPLETION = {"model": "m", "prompt": "hi"}

# field -> (a wrong-typed value, the expected type as the API words it, the value's type)
API_GENERATION_FIELDS: dict[str, tuple[Any, str, str]] = {
    "max_completion_tokens": ("8", "an integer", "a string"),  # chat only
    "max_tokens": (8.0, "an integer", "a decimal"),
    "n": (True, "an integer", "a boolean"),
    "min_tokens": ("0", "an integer", "a string"),
    "seed": (1.5, "an integer", "a decimal"),
    "stream": ("true", "a boolean", "a string"),
    "ignore_eos": (1, "a boolean", "an integer"),
    "stream_options": (["include_usage"], "an object", "an array"),
    "temperature": ("0.7", "a decimal", "a string"),
    "top_p": (True, "a decimal", "a boolean"),
    "presence_penalty": ([], "a decimal", "an array"),
    "frequency_penalty": ({}, "a decimal", "an object"),
    "stop": (5, "a string or an array of strings", "an integer"),
    "user": (123, "a string", "an integer"),
    "suffix": (5, "a string", "an integer"),
    "logit_bias": ("x", "an object", "a string"),
}
# field -> (lowest, highest) accepted; None: no bound
RANGES: dict[str, tuple[float | None, float | None]] = {
    "max_completion_tokens": (1, None),
    "max_tokens": (1, None),
    "n": (1, 128),
    "min_tokens": (0, None),
    "seed": (-(2**63), 2**63 - 1),
    "temperature": (0, 2),
    "top_p": (0, 1),
    "presence_penalty": (-2, 2),
    "frequency_penalty": (-2, 2),
}


def error(parse: Any, doc: dict[str, Any]) -> tuple[str, str | None, str | None]:
    with pytest.raises(InvalidRequest) as caught:
        parse(orjson.dumps(doc))
    return caught.value.message, caught.value.param, caught.value.code


def test_the_tables_have_a_row_for_every_generation_field_and_no_other() -> None:
    assert set(CHAT_GENERATION_FIELDS) == set(API_GENERATION_FIELDS)
    assert set(GENERATION_FIELDS) == set(API_GENERATION_FIELDS) - {"max_completion_tokens"}
    assert all(isinstance(row, Field) for row in CHAT_GENERATION_FIELDS.values())


@pytest.mark.parametrize(
    ("parse", "base", "name"),
    [(parse_chat, CHAT, name) for name in sorted(CHAT_GENERATION_FIELDS)]
    + [(parse_completion, COMPLETION, name) for name in sorted(GENERATION_FIELDS)],
)
def test_every_row_rejects_a_wrong_type_as_the_api_does(parse: Any, base: Any, name: str) -> None:
    bad, expected, got = API_GENERATION_FIELDS[name]
    assert error(parse, {**base, name: bad}) == (
        f"Invalid type for '{name}': expected {expected}, but got {got} instead.",
        name,
        "invalid_type",
    )


def range_error(name: str, value: float) -> tuple[str, str | None, str | None]:
    if isinstance(value, int) and not -(2**63) <= value < 2**64:  # JSON would make it a float
        with pytest.raises(InvalidRequest) as caught:
            CHAT_GENERATION_FIELDS[name].check(name, value)
        return caught.value.message, caught.value.param, caught.value.code
    return error(parse_chat, {**CHAT, name: value})


@pytest.mark.parametrize("name", sorted(RANGES))
def test_every_ranged_row_takes_its_bounds_and_rejects_beyond_them(name: str) -> None:
    lo, hi = RANGES[name]
    what = "decimal" if CHAT_GENERATION_FIELDS[name].kind is float else "integer"
    for bound in (lo, hi):
        if bound is not None:
            assert parse_chat(orjson.dumps({**CHAT, name: bound}))
    if lo is not None:
        below = lo - 1 if what == "integer" else lo - 0.5
        message, param, code = range_error(name, below)
        assert (param, code) == (name, f"{what}_below_min_value")
        if name != "seed":  # its bounds print as 9.22337e+18
            assert message == (
                f"Invalid '{name}': {what} below minimum value. Expected a value >= {lo:g}, "
                f"but got {below:g} instead."
            )
    if hi is not None:
        above = hi + 1 if what == "integer" else hi + 0.5
        message, param, code = range_error(name, above)
        assert (param, code) == (name, f"{what}_above_max_value")
        if name != "seed":
            assert message == (
                f"Invalid '{name}': {what} above maximum value. Expected a value <= {hi:g}, "
                f"but got {above:g} instead."
            )


@pytest.mark.parametrize("name", sorted(CHAT_GENERATION_FIELDS))
def test_null_is_the_same_as_absent(name: str) -> None:
    assert parse_chat(orjson.dumps({**CHAT, name: None})) == parse_chat(orjson.dumps(CHAT))


def gen(**fields: Any) -> Generation:
    return parse_chat(orjson.dumps({**CHAT, **fields})).gen


def test_the_defaults() -> None:
    tokens = gen().prompt_tokens
    assert gen() == Generation("m", 1, False, False, True, None, 0, False, (), None, b"", tokens)


def test_each_row_reaches_the_generation() -> None:
    assert gen(n=3).n == 3
    assert gen(stream=True).stream is True and gen(stream=False).stream is False
    assert gen(max_tokens=7).limit == 7
    assert gen(max_completion_tokens=9).limit == 9
    assert gen(min_tokens=4).min_tokens == 4
    assert gen(ignore_eos=True).ignore_eos is True
    assert gen(stop=["a", "b"]).stop == (b"a", b"b") and gen(stop="\n").stop == (b"\n",)
    seeded = gen(seed=-5)
    assert seeded.seed == -5 and seeded.seed_key
    assert gen(seed=-5, stream=True, stream_options={}).seed_key == seeded.seed_key
    streamed = gen(stream=True, stream_options={"include_usage": True})
    assert streamed.include_usage is True and streamed.include_obfuscation is True
    assert (
        gen(stream=True, stream_options={"include_obfuscation": False}).include_obfuscation is False
    )
    sampled = gen(temperature=0.7, top_p=1, presence_penalty=-2, frequency_penalty=2.0)
    assert sampled._replace(temperature=None) == gen()  # validated only (temperature: kept)
    assert sampled.temperature == 0.7 and gen(max_tokens=7).max_tokens
    assert not gen(max_completion_tokens=9).max_tokens


def test_max_completion_tokens_wins_over_max_tokens_and_completions_ignore_it() -> None:
    assert gen(max_tokens=5, max_completion_tokens=7).limit == 7
    assert gen(max_completion_tokens=7, max_tokens=5).limit == 7
    assert gen(max_completion_tokens=None, max_tokens=5).limit == 5
    completion = parse_completion(orjson.dumps({**COMPLETION, "max_completion_tokens": "x"}))
    assert completion.gen.limit is None
    completion = parse_completion(orjson.dumps({**COMPLETION, "max_tokens": 3}))
    assert completion.gen.limit == 3


def test_the_first_bad_field_in_the_body_is_reported() -> None:
    assert error(parse_chat, {**CHAT, "top_p": 5, "n": 0})[1] == "top_p"
    assert error(parse_chat, {**CHAT, "n": 0, "top_p": 5})[1] == "n"
    # `stream_options` is checked once `stream` is known, after every other row
    assert error(parse_chat, {**CHAT, "stream_options": 5, "n": 0})[1] == "n"
    assert error(parse_chat, {**CHAT, "stream_options": {}, "n": 0})[1] == "n"
    # and the chat-only fields after the generation fields
    assert error(parse_chat, {**CHAT, "top_logprobs": 1, "n": 0})[1] == "n"
    assert error(parse_chat, {"messages": [], "n": 0})[1] == "messages"


def test_stream_options_need_stream() -> None:
    assert error(parse_chat, {**CHAT, "stream_options": {"include_usage": True}}) == (
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "stream_options",
        "invalid_value",
    )
    assert error(parse_chat, {**CHAT, "stream": True, "stream_options": {"include_usage": 1}}) == (
        "Invalid type for 'include_usage': expected a boolean, but got an integer instead.",
        "include_usage",
        "invalid_type",
    )


def test_the_chat_role_error_lists_the_roles() -> None:
    assert error(parse_chat, {**CHAT, "messages": [{"role": "robot", "content": "x"}]}) == (
        "Invalid value: 'robot'. Supported values are: 'system', 'developer', 'user', "
        "'assistant', 'tool', and 'function'.",
        "messages[0].role",
        "invalid_value",
    )


# Any body the parsers may meet: generation fields with values around their bounds, and noise.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-300, 300),
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 2.5, -2.0, -0.0, 2**63 - 1, -(2**63), 2**64 - 1]),
    st.text(max_size=3),
    st.lists(st.text(max_size=2), max_size=5),
    st.dictionaries(st.sampled_from(["include_usage", "include_obfuscation"]), st.booleans()),
)
DOCS = st.dictionaries(
    st.sampled_from([*CHAT_GENERATION_FIELDS, "logprobs", "top_logprobs", "user", "tools"]),
    VALUES,
    max_size=8,
)
SLOW = {name: Field(None, None, None, row.check) for name, row in CHAT_GENERATION_FIELDS.items()}


def outcome(call: Any) -> Any:
    try:
        return call()
    except InvalidRequest as e:
        return e.message, e.param, e.code


@settings(max_examples=1000, deadline=None)
@given(DOCS)
def test_the_fast_path_changes_no_answer(fields: dict[str, Any]) -> None:
    """Every row without its fast path (each value through its checker) parses the same."""
    doc = {**CHAT, **fields}
    fast = outcome(lambda: requests._generation(doc, lambda _: 12, CHAT_GENERATION_FIELDS))
    assert fast == outcome(lambda: requests._generation(doc, lambda _: 12, SLOW))


@settings(max_examples=500, deadline=None)
@given(DOCS, st.sampled_from([CHAT, COMPLETION, {"model": "m", "input": "x"}, {}]))
def test_parsing_raises_only_invalid_request(fields: dict[str, Any], base: Any) -> None:
    body = orjson.dumps({**base, **fields})
    for parse in (parse_chat, parse_completion, requests.parse_embedding):
        outcome(lambda: parse(body))  # noqa: B023 (called at once)


SHAPE_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(
        [
            "auto",
            "none",
            "required",
            "function",
            "custom",
            "json_schema",
            "json_object",
            "f",
            "text",
            "low",
            "xhigh",
            "name",
            "a b",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "function",
                    "name",
                    "parameters",
                    "strict",
                    "json_schema",
                    "schema",
                    "description",
                    "properties",
                    "required",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=1500, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(requests.SHAPE_FIELDS)), SHAPE_VALUES, min_size=1, max_size=4
    ),
    st.sampled_from(["user", "tool", "assistant"]),
)
def test_shapes_raise_only_invalid_request(fields: dict[str, Any], role: str) -> None:
    """tools, tool_choice, response_format, functions...: arbitrary JSON is a 400 or parses."""
    messages = [{"role": role, "content": "x"}]
    outcome(lambda: parse_chat(orjson.dumps({**CHAT, "messages": messages, **fields})))


@settings(max_examples=1500, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "model",
                "input",
                "instructions",
                "tools",
                "tool_choice",
                "text",
                "reasoning",
                "max_output_tokens",
                "store",
                "metadata",
                "truncation",
                "previous_response_id",
                "background",
                "stream",
                "temperature",
            ]
        ),
        SHAPE_VALUES,
        max_size=5,
    )
)
def test_responses_raise_only_invalid_request(doc: dict[str, Any]) -> None:
    from sanic_mock.wire.responses_in import input_tokens_body, parse_response

    body = orjson.dumps({"model": "m", "input": "x", **doc})
    outcome(lambda: parse_response(body))
    outcome(lambda: input_tokens_body(body))
