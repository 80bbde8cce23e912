"""Turn other recordings into exchanges: VCR.py / pytest-recording cassettes and JSONL files.

Cassettes (YAML or JSON) hold `interactions`, each a `request` (method, uri, body) and a
`response` (status, headers, body). Bodies come as plain strings, YAML `!!binary` bytes, a
`base64_string`, or gzip-compressed bytes (by `Content-Encoding: gzip` or the gzip magic); a
streamed answer is raw SSE text, cut into events here. Cassettes keep no timing, so imported
streams have every event at time 0. Request headers are never imported (so a cassette's
`Authorization` goes nowhere); response headers pass the allowlist.

JSONL: one exchange per line, either as the recorder's journal writes it (`to_doc`), or in a
short form: `{"endpoint": …, "request": {…}, "status": 200, "response": {…}}` with `"sse":
"<raw SSE text>"` instead of `response` for a stream.
"""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from sanic_mock.corpus import sse
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import Exchange, from_doc, stream_finished
from sanic_mock.corpus.scrub import clean_request, kept_headers, request_body
from sanic_mock.endpoints import endpoint_for_body


def endpoint_of(uri: str) -> str:
    """The OpenAI path of a request URI: `https://openrouter.ai/api/v1/chat/completions` ->
    `/v1/chat/completions`."""
    path = urlsplit(uri).path or "/"
    at = path.find("/v1/")
    return path[at:] if at >= 0 else "/v1" + path


def _bytes(body: Any) -> bytes:
    """A cassette body (string, bytes, {"string": …} or {"base64_string": …}) as bytes."""
    if isinstance(body, dict):
        if "base64_string" in body:
            return base64.b64decode(body["base64_string"])
        body = body.get("string")
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    raise CorpusError(f"unsupported cassette body of type {type(body).__name__}")


def _headers(raw: Any) -> list[tuple[str, str]]:
    out = []
    for name, value in (raw or {}).items() if isinstance(raw, dict) else ():
        for v in value if isinstance(value, list) else [value]:
            out.append((str(name), str(v)))
    return out


def _interaction(item: Any) -> Exchange:
    if not isinstance(item, dict):
        raise CorpusError("an interaction is not a map")
    req, resp = item.get("request"), item.get("response")
    if not isinstance(req, dict) or not isinstance(resp, dict):
        raise CorpusError("an interaction needs 'request' and 'response'")
    status_doc = resp.get("status")
    status = status_doc.get("code") if isinstance(status_doc, dict) else status_doc
    if not isinstance(status, int):
        raise CorpusError("a response has no status code")
    headers = _headers(resp.get("headers"))
    data = _bytes(resp.get("body"))
    encoding = ",".join(v.lower() for k, v in headers if k.lower() == "content-encoding")
    if "gzip" in encoding or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise CorpusError(f"a gzip body does not decompress ({exc})") from None
    request = request_body(_bytes(req.get("body")))
    ctype = ",".join(v for k, v in headers if k.lower() == "content-type")
    text = data.decode("utf-8", errors="replace")
    doc: dict[str, Any] = {
        "endpoint": endpoint_of(str(req.get("uri", ""))),
        "method": str(req.get("method", "POST")).upper(),
        "status": status,
        "request": request,
        "headers": dict(kept_headers(headers)),
    }
    if "text/event-stream" in ctype or text.lstrip().startswith("data:"):
        events = sse.events(text)
        doc.update(events=events, times_us=[0] * len(events), complete=stream_finished(events))
    else:
        try:
            doc["body"] = orjson.loads(data) if data else None
        except orjson.JSONDecodeError:
            doc["text"] = text
    return _with_summary(from_doc(doc))


def _with_summary(ex: Exchange) -> Exchange:
    """Fill `model` and `usage` from the answer (or the request) when the source left them out."""
    from dataclasses import replace

    from sanic_mock.corpus.answers import answer

    if ex.model is not None and ex.usage is not None:
        return ex
    model, usage = ex.model, ex.usage
    if ex.ok and ex.endpoint.endswith("completions"):
        found = answer(ex)
        model, usage = model or found.model, usage or found.usage
    elif isinstance(ex.body, dict):
        named = ex.body.get("model")
        model = model or (named if isinstance(named, str) else None)
        usage = usage or ex.body.get("usage")
    if model is None and isinstance(ex.request, dict) and isinstance(ex.request.get("model"), str):
        model = ex.request["model"]
    return replace(ex, model=model, usage=usage)


def from_cassette(path: Path) -> list[Exchange]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise CorpusError(f"{path}: not a JSON cassette ({exc})") from None
    else:
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CorpusError(f"{path}: not a YAML cassette ({exc})") from None
    items = doc.get("interactions") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise CorpusError(f"{path}: no 'interactions' list (not a VCR cassette)")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(_interaction(item))
        except CorpusError as exc:
            raise CorpusError(f"{path}, interaction {i}: {exc}") from None
    return out


def _short_form(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    if "response" in doc and "body" not in doc:
        doc["body"] = doc.pop("response")
    if isinstance(doc.get("sse"), str):
        events = sse.events(doc.pop("sse"))
        doc.update(events=events, times_us=[0] * len(events), complete=stream_finished(events))
    doc.setdefault("status", 200)
    doc["request"] = clean_request(doc.get("request"))
    if "endpoint" not in doc:
        doc["endpoint"] = endpoint_for_body(doc["request"])
    return doc


def from_jsonl(path: Path) -> list[Exchange]:
    out = []
    lines = [(n, line) for n, line in enumerate(path.read_bytes().splitlines(), 1) if line.strip()]
    for number, line in lines:
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if number == lines[-1][0] and path.suffix == ".journal":
                break  # the last line of a journal torn by a kill
            raise CorpusError(f"{path}, line {number}: {exc}") from None
        try:
            if not isinstance(doc, dict):
                raise CorpusError("not a JSON object")
            out.append(_with_summary(from_doc(_short_form(doc))))
        except CorpusError as exc:
            raise CorpusError(f"{path}, line {number}: {exc}") from None
    return out


def import_file(path: Path) -> list[Exchange]:
    """Exchanges from a cassette (`.yaml`, `.yml`, `.json`) or a JSONL file (anything else,
    including a recorder's `.journal`)."""
    try:
        if path.suffix.lower() in (".yaml", ".yml", ".json"):
            return from_cassette(path)
        return from_jsonl(path)
    except OSError as exc:
        raise CorpusError(f"{path}: {exc.strerror or exc}") from None
