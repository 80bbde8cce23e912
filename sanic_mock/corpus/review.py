"""Human and machine views of a recorded corpus: the `corpus inspect` listing, the `corpus show`
JSON dump for code review, and the `corpus verify` checks.

`show` prints the same document the msgpack file holds (sorted keys, file order), as indented
JSON, so a diff of two dumps is a review of two recordings. `check` looks at the shape of every
answer — the fields clients read (`id`, `object`, `choices[].message` / `delta` / `text`,
`finish_reason`, embedding vectors, error objects) — and at every event of a stream, and runs the
secret scan.
"""

from __future__ import annotations

from typing import Any

import orjson

from sanic_mock.corpus.answers import preview
from sanic_mock.corpus.exchanges import DONE, Exchange, to_doc
from sanic_mock.corpus.format import FORMAT_NAME, FORMAT_VERSION, Corpus
from sanic_mock.corpus.scrub import find_secret


def show(corpus: Corpus) -> bytes:
    doc = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "kind": corpus.kind,
        "generator": corpus.generator,
        "exchanges": [to_doc(e) for e in corpus.exchanges],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def _ms(us: int) -> str:
    return f"{us / 1000:.0f}ms"


def listing(corpus: Corpus) -> list[str]:
    lines = []
    for i, ex in enumerate(corpus.exchanges):
        if ex.streamed:
            first = _ms(ex.times_us[0]) if ex.times_us else "-"
            shape = f"stream {len(ex.events or ())} events, first {first}"
        else:
            shape = "json"
        flag = "" if ex.complete else " INCOMPLETE"
        lines.append(
            f"{i:>4}  {ex.method} {ex.endpoint}  {ex.model or '-'}  {ex.status}  {shape}, "
            f"{_ms(ex.duration_us)}{flag}  {preview(ex)}"
        )
    return lines


def _problems_chat(doc: dict[str, Any], chunk: bool) -> list[str]:
    out = []
    expected = "chat.completion.chunk" if chunk else "chat.completion"
    if doc.get("object") != expected:
        out.append(f"object is {doc.get('object')!r}, expected {expected!r}")
    choices = doc.get("choices")
    if not isinstance(choices, list):
        return [*out, "choices is not a list"]
    for c in choices:
        if not isinstance(c, dict) or not isinstance(c.get("index"), int):
            out.append("a choice has no index")
            continue
        part = "delta" if chunk else "message"
        if not isinstance(c.get(part), dict):
            out.append(f"choice {c['index']} has no {part}")
        if not chunk and not isinstance(c.get("finish_reason"), str):
            out.append(f"choice {c['index']} has no finish_reason")
    return out


def _problems_completion(doc: dict[str, Any], chunk: bool) -> list[str]:
    if doc.get("object") != "text_completion":
        return [f"object is {doc.get('object')!r}, expected 'text_completion'"]
    choices = doc.get("choices")
    if not isinstance(choices, list):
        return ["choices is not a list"]
    return [
        "a choice has no text"
        for c in choices
        if not isinstance(c, dict) or not isinstance(c.get("text"), str)
    ]


def _problems_embeddings(doc: dict[str, Any]) -> list[str]:
    data = doc.get("data")
    if doc.get("object") != "list" or not isinstance(data, list):
        return ["not an embedding list"]
    return [
        "an item has no embedding"
        for item in data
        if not isinstance(item, dict) or not isinstance(item.get("embedding"), (list, str))
    ]


def _problems_answer(endpoint: str, doc: Any, chunk: bool) -> list[str]:
    if not isinstance(doc, dict):
        return ["the answer is not a JSON object"]
    if endpoint.endswith("/chat/completions"):
        problems = _problems_chat(doc, chunk)
    elif endpoint.endswith("/completions"):
        problems = _problems_completion(doc, chunk)
    elif endpoint.endswith("/embeddings"):
        problems = _problems_embeddings(doc)
    else:
        return []
    if not chunk or doc.get("choices"):
        if not isinstance(doc.get("model"), str):
            problems.append("model is missing")
    return problems


def problems(ex: Exchange) -> list[str]:
    """What is wrong with one exchange (empty: nothing)."""
    out = []
    if not ex.ok:
        error = ex.body.get("error") if isinstance(ex.body, dict) else None
        if ex.body is not None and not (isinstance(error, dict) and "message" in error):
            out.append("error answer without an error object")
    elif ex.streamed:
        for k, data in enumerate(ex.events or ()):
            if data == DONE:
                continue
            try:
                doc = orjson.loads(data)
            except orjson.JSONDecodeError:
                out.append(f"event {k} is not JSON")
                continue
            out.extend(f"event {k}: {p}" for p in _problems_answer(ex.endpoint, doc, True))
        if not ex.complete:
            out.append("the stream is incomplete (replay skips it)")
    elif ex.text is not None:
        out.append("the answer is not JSON")
    else:
        out.extend(_problems_answer(ex.endpoint, ex.body, False))
    where = find_secret(ex)
    if where is not None:
        out.append(f"key-like string in its {where}")
    return out


def check(corpus: Corpus) -> list[str]:
    """Every problem of the corpus, one line each, naming the exchange."""
    return [
        f"exchange {i} ({ex.describe()}): {p}"
        for i, ex in enumerate(corpus.exchanges)
        for p in problems(ex)
    ]
