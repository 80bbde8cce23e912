"""Schema values: valid, deterministic per seed, strings from the text source, and a schema's
own keywords never evaluated."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from sanic_mock.wire.instances import PER_SCHEMA, Instances, sanitized


def words(rng: random.Random, low: int, high: int) -> str:
    text = " ".join(rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(6))
    while len(text) < low:
        text += " omega"
    return text[:high]


BOUNDED = {
    "type": "object",
    "properties": {
        "short": {"type": "string", "minLength": 3, "maxLength": 8},
        "long": {"type": "string", "minLength": 40},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "level": {"type": "integer", "minimum": 2, "maximum": 4},
        "mode": {"enum": ["a", "b"]},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "maybe": {"type": ["string", "null"]},
    },
    "required": ["short", "long", "tags", "level", "mode", "code", "maybe"],
    "additionalProperties": False,
}


def test_values_validate_and_strings_come_from_the_text_source() -> None:
    values = Instances(words, seed=3).values(BOUNDED)
    assert 1 < len(values) <= PER_SCHEMA
    for raw in values:
        value = orjson.loads(raw)
        jsonschema.validate(value, BOUNDED)
        assert set(value["long"].split()) <= {"alpha", "beta", "gamma", "delta", "omega"}
        assert value["tags"] and len(value["tags"]) <= 2  # arrays are not left empty


def test_values_depend_only_on_the_schema_and_the_seed() -> None:
    assert Instances(words, 1).values(BOUNDED) == Instances(words, 1).values(BOUNDED)
    assert Instances(words, 1).values(BOUNDED) != Instances(words, 2).values(BOUNDED)


def test_a_schema_cannot_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"__import__('pathlib').Path({str(marker)!r}).touch"
    evil: dict[str, Any] = {
        "type": "object",
        "$state": {"x": code},
        "properties": {"x": {"type": "integer", "$provider": code}},
        "required": ["x"],
    }
    values = Instances(words).values(evil)
    assert not marker.exists()
    assert isinstance(orjson.loads(values[0])["x"], int)
    assert "$provider" not in sanitized(evil)["properties"]["x"]
    assert "$state" not in sanitized(evil)


def test_an_impossible_schema_gives_an_empty_object() -> None:
    impossible = {"type": "object", "properties": {"x": {"not": {}}}, "required": ["x"]}
    assert Instances(words).values(impossible) == (b"{}",)


def test_huge_counts_and_repeats_are_capped() -> None:
    huge = {
        "type": "object",
        "properties": {
            "xs": {"type": "array", "items": {"type": "integer"}, "minItems": 10**9},
            "code": {"type": "string", "pattern": "^a{100000000}$"},
        },
        "required": ["xs", "code"],
    }
    assert sanitized(huge)["properties"]["xs"]["minItems"] == 32
    assert "pattern" not in sanitized(huge)["properties"]["code"]
    assert Instances(words).values(huge)  # returns at once: `{}` (no value validates)
