"""Extract the response schemas the tests validate against from the official OpenAI spec.

    python tools/extract_schemas.py ../shared/openai-openapi.yaml tests/spec/openai-schemas.json

Takes the named schemas and everything they reference, rewrites OpenAPI 3.0 `nullable: true` as
JSON-Schema `anyOf [..., null]`, and writes one JSON file (sorted keys) that jsonschema can use
with `{"$ref": "#/components/schemas/<Name>"}`. Keeping the subset in the repo makes the test
suite independent of where the full spec lives and fast to load.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOTS = [
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateCompletionResponse",
    "CreateEmbeddingResponse",
    "ListModelsResponse",
    "Model",
    "ErrorResponse",
    "Response",
    "ResponseStreamEvent",
    "ResponseItemList",
    "TokenCountsResource",
]


def refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= refs(value)
    return found


def denull(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: denull(v) for k, v in node.items() if k not in ("example", "x-oaiMeta")}
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [denull(v) for v in node]
    return node


def main(src: str, dst: str) -> None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(Path(src).read_text(), Loader=loader)
    schemas = spec["components"]["schemas"]
    todo, keep = list(ROOTS), {}
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = schemas[name]
        todo.extend(refs(schemas[name]) - keep.keys())
    doc = {"components": {"schemas": denull(keep)}}
    Path(dst).write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")
    print(f"wrote {dst}: {len(keep)} schemas")


if __name__ == "__main__":
    main(*sys.argv[1:3])
