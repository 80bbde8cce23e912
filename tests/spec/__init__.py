"""Validation of response bodies against the official OpenAI schemas (extracted subset)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

_DOC = Path(__file__).with_name("openai-schemas.json")


@cache
def _components() -> dict[str, Any]:
    components: dict[str, Any] = json.loads(_DOC.read_text())["components"]
    return components


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": _components()}
    return jsonschema.Draft202012Validator(schema)


def validate(name: str, instance: Any) -> None:
    """Raise `jsonschema.ValidationError` unless `instance` matches schema `name`."""
    validator(name).validate(instance)
