"""Human and machine views of a recorded corpus: the `corpus inspect` listing, the `corpus show`
JSON dump for code review (and git's `textconv`), `corpus diff`, and the `corpus verify` checks.

`show` prints what the msgpack file holds (sorted keys, file order; for a recorded corpus each
exchange's map, not the packed bytes and index of format 3, which follow from them; for an
articles corpus each article's text) as indented JSON, so a diff of two dumps is a review of two
recordings. `diff` pairs the exchanges of two corpora by endpoint and request (repeats in
order) and says which were added, removed or answered differently, and where. `check` looks at
the shape of every answer — the fields clients read (`id`, `object`, `choices[].message` /
`delta` / `text`, `finish_reason`, embedding vectors, a `response` object's `id`, `status` and
`output`, error objects) — and at every event of a stream (a Responses API event's `type` and
`sequence_number`), and runs the secret scan.
"""

from __future__ import annotations

from typing import Any

import orjson

from sanic_mock.corpus.answers import preview
from sanic_mock.corpus.exchanges import DONE, Exchange, canonical_json, to_doc
from sanic_mock.corpus.format import FORMAT_NAME, FORMAT_VERSION, Corpus
from sanic_mock.corpus.index import CHANGE_WORDS, differences
from sanic_mock.corpus.scrub import find_secret

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def show(corpus: Corpus) -> bytes:
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "kind": corpus.kind,
        "generator": corpus.generator,
    }
    if corpus.articles is not None:
        a = corpus.articles
        doc["articles"] = [a.article_text(i) for i in range(a.article_count)]
    else:
        doc["exchanges"] = [to_doc(e) for e in corpus.exchanges]
    return orjson.dumps(doc, option=_PRETTY) + b"\n"


def show_exchange(ex: Exchange) -> bytes:
    return orjson.dumps(to_doc(ex), option=_PRETTY) + b"\n"


def _asked(ex: Exchange) -> str:
    """A request in a few words: what it is, and its last message or prompt."""
    request = ex.request if isinstance(ex.request, dict) else {}
    messages = request.get("messages")
    said: Any = request.get("prompt", request.get("input"))
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        said = messages[-1].get("content") or messages[-1].get("tool_calls")
    text = "" if said is None else orjson.dumps(said).decode()
    return ex.describe() + (f" {text[:57] + '…' if len(text) > 60 else text}" if text else "")


def _pairs(corpus: Corpus) -> dict[tuple[str, bytes], list[tuple[int, Exchange]]]:
    by_request: dict[tuple[str, bytes], list[tuple[int, Exchange]]] = {}
    for i, ex in enumerate(corpus.exchanges):
        key = (ex.endpoint, canonical_json(ex.request))
        by_request.setdefault(key, []).append((i, ex))
    return by_request


def diff(old: Corpus, new: Corpus) -> list[str]:
    """What changed from `old` to `new`, one line per exchange: `-` removed, `+` added, `~`
    answered differently (with the fields that differ); nothing when they hold the same."""
    before, after = _pairs(old), _pairs(new)
    lines: list[str] = []
    for key in sorted(set(before) | set(after)):  # the order of the files
        was, now = before.get(key, []), after.get(key, [])
        for k in range(max(len(was), len(now))):
            if k >= len(now):
                i, ex = was[k]
                lines.append(f"- #{i} {_asked(ex)}")
            elif k >= len(was):
                j, ex = now[k]
                lines.append(f"+ #{j} {_asked(ex)}")
            else:
                (i, a), (j, b) = was[k], now[k]
                answer_a = {f: v for f, v in to_doc(a).items() if f != "request"}
                answer_b = {f: v for f, v in to_doc(b).items() if f != "request"}
                changed = differences(answer_a, answer_b, words=CHANGE_WORDS)
                if changed:
                    shown = "; ".join(changed[:4]) + ("; …" if len(changed) > 4 else "")
                    lines.append(f"~ #{i} -> #{j} {_asked(b)}: {shown}")
    return lines


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


def _problems_response(doc: dict[str, Any], event: bool) -> list[str]:
    """A Responses API answer: a `response` object, or a stream event (typed, numbered, and
    those that carry the response, a `response` object)."""
    if event:
        if not isinstance(doc.get("type"), str):
            return ["an event has no type"]
        out = [] if isinstance(doc.get("sequence_number"), int) else ["no sequence_number"]
        if "response" not in doc:
            return out
        doc = doc["response"] if isinstance(doc["response"], dict) else {}
    else:
        out = []
    if doc.get("object") != "response":
        return [*out, f"object is {doc.get('object')!r}, expected 'response'"]
    if not isinstance(doc.get("id"), str) or not isinstance(doc.get("status"), str):
        out.append("the response has no id or status")
    if not isinstance(doc.get("output"), list):
        out.append("output is not a list")
    return out


def _problems_answer(endpoint: str, doc: Any, chunk: bool) -> list[str]:
    if not isinstance(doc, dict):
        return ["the answer is not a JSON object"]
    if endpoint.endswith("/responses"):
        return _problems_response(doc, chunk)
    if endpoint.endswith("/responses/input_tokens"):
        ok = isinstance(doc.get("input_tokens"), int)
        return [] if ok else ["input_tokens is not an integer"]
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
