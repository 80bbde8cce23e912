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


@cache
def _event_schemas() -> dict[str, str]:
    """Stream event type -> the name of its schema (`ResponseStreamEvent`'s members)."""
    out = {}
    for name, schema in _components()["schemas"].items():
        kinds = schema.get("properties", {}).get("type", {}).get("enum", [])
        if name.endswith("Event") and len(kinds) == 1:
            out[kinds[0]] = name
    return out


def validate_event(event: dict[str, Any]) -> None:
    """A Responses API stream event against the schema of its own `type` (a clearer error than
    the union's), and against `ResponseStreamEvent`."""
    validate(_event_schemas()[event["type"]], event)
    validate("ResponseStreamEvent", event)


def response_events(raw: bytes) -> list[dict[str, Any]]:
    """A Responses API stream's events, each checked: its `event:` line names its `type`, it is
    valid against the spec, and the `sequence_number`s count from 0."""
    events = []
    for block in raw.split(b"\n\n")[:-1]:
        head, data = block.split(b"\n")
        event = json.loads(data.removeprefix(b"data: "))
        assert head == b"event: " + event["type"].encode()
        validate_event(event)
        events.append(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events
