"""Recorded exchanges: one request to an OpenAI-compatible API and the answer it got.

An `Exchange` is what the recorder keeps of one round trip: the endpoint, the canonical request
body (parsed JSON), the status, an allowlist of response headers, and the answer — a JSON body,
a non-JSON text body, or the `data:` payloads of an SSE stream with each event's arrival time in
microseconds after the request was sent. `complete` is false for a stream that ended without
`[DONE]` or a finish reason (cut short upstream, or the recorder stopped mid-stream).

`to_doc`/`from_doc` convert to and from plain maps (msgpack in corpus files, JSON lines in the
recorder's journal and JSONL imports); `from_doc` raises only `CorpusError`. Optional fields
that are unset are left out of the map, so files stay small and identical for identical input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from sanic_mock.corpus.errors import CorpusError

DONE = "[DONE]"
# The last event of a Responses API stream (it holds the whole response).
RESPONSE_ENDS = ("response.completed", "response.incomplete", "response.failed")


@dataclass(frozen=True, slots=True)
class Exchange:
    endpoint: str  # the OpenAI path, e.g. "/v1/chat/completions"
    status: int
    request: Any = field(default=None, hash=False)  # parsed JSON (a string if it was not)
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()  # allowlisted response headers, sorted
    body: Any = field(default=None, hash=False)  # a JSON answer
    text: str | None = None  # an answer that was not JSON
    events: tuple[str, ...] | None = None  # SSE `data:` payloads, `[DONE]` included
    times_us: tuple[int, ...] = ()  # arrival of each event, µs after the request was sent
    duration_us: int = 0  # until the whole answer had arrived
    complete: bool = True
    model: str | None = None
    usage: Any = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if not self.endpoint.startswith("/"):
            raise CorpusError(f"exchange endpoint {self.endpoint!r} does not start with '/'")
        if not 100 <= self.status <= 599:
            raise CorpusError(f"exchange status {self.status} is not an HTTP status")
        if self.events is not None:
            if len(self.times_us) != len(self.events):
                raise CorpusError("exchange has a different number of events and event times")
            if any(b < a for a, b in zip(self.times_us, self.times_us[1:], strict=False)):
                raise CorpusError("exchange event times go backwards")
        if any(t < 0 for t in self.times_us) or self.duration_us < 0:
            raise CorpusError("exchange has a negative time")

    @property
    def streamed(self) -> bool:
        return self.events is not None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def chunks(self) -> list[Any]:
        """The stream's events parsed as JSON, `[DONE]` and unparsable events left out."""
        return parse_events(self.events or ())

    def describe(self) -> str:
        """How messages name this exchange: method, endpoint, model."""
        model = f" model={self.model}" if self.model else ""
        return f"{self.method} {self.endpoint}{model}"


def parse_events(events: Iterable[str]) -> list[Any]:
    """SSE payloads parsed as JSON, `[DONE]` and unparsable events left out."""
    out = []
    for data in events:
        if data == DONE:
            continue
        try:
            out.append(orjson.loads(data))
        except orjson.JSONDecodeError:
            continue
    return out


def stream_finished(events: list[str] | tuple[str, ...]) -> bool:
    """Whether a stream reached its end: `[DONE]`, a finish reason, or the Responses API's
    last event (`response.completed`, `.incomplete` or `.failed`)."""
    for data in reversed(events):
        if data == DONE:
            return True
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(doc, dict):
            continue
        if doc.get("type") in RESPONSE_ENDS:
            return True
        choices = doc.get("choices")
        if isinstance(choices, list) and any(
            isinstance(c, dict) and c.get("finish_reason") for c in choices
        ):
            return True
    return False


def final_response(chunks: Iterable[Any]) -> dict[str, Any] | None:
    """The response object a Responses API stream ends with (its last event holds it), from
    the events parsed as JSON; None for another kind of stream."""
    for doc in reversed(list(chunks)):
        if isinstance(doc, dict) and doc.get("type") in RESPONSE_ENDS:
            response = doc.get("response")
            return response if isinstance(response, dict) else None
    return None


def to_doc(ex: Exchange) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "endpoint": ex.endpoint,
        "method": ex.method,
        "status": ex.status,
        "complete": ex.complete,
        "duration_us": ex.duration_us,
    }
    if ex.request is not None:
        doc["request"] = ex.request
    if ex.headers:
        doc["headers"] = dict(ex.headers)
    if ex.body is not None:
        doc["body"] = ex.body
    if ex.text is not None:
        doc["text"] = ex.text
    if ex.events is not None:
        doc["events"] = list(ex.events)
        doc["times_us"] = list(ex.times_us)
    if ex.model is not None:
        doc["model"] = ex.model
    if ex.usage is not None:
        doc["usage"] = ex.usage
    return doc


def _field(doc: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = doc.get(name, default)
    if value is default:
        return value
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CorpusError(f"field {name!r} has the wrong type ({type(value).__name__})")
    return value


def _json(doc: dict[str, Any], name: str) -> Any:
    value = doc.get(name)
    try:
        orjson.dumps(value)
    except TypeError:
        raise CorpusError(f"field {name!r} is not JSON data") from None
    return value


def from_doc(doc: Any) -> Exchange:
    if not isinstance(doc, dict):
        raise CorpusError("an exchange is not a map")
    endpoint = _field(doc, "endpoint", str, None)
    status = _field(doc, "status", int, None)
    if endpoint is None or status is None:
        raise CorpusError("an exchange needs 'endpoint' and 'status'")
    headers = _field(doc, "headers", dict, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise CorpusError("exchange headers must map strings to strings")
    events = _field(doc, "events", list, None)
    times = _field(doc, "times_us", list, [])
    if events is not None and not all(isinstance(e, str) for e in events):
        raise CorpusError("exchange events must be strings")
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in times):
        raise CorpusError("exchange event times must be integers")
    return Exchange(
        endpoint=endpoint,
        status=status,
        request=_json(doc, "request"),
        method=_field(doc, "method", str, "POST"),
        headers=tuple(sorted(headers.items())),
        body=_json(doc, "body"),
        text=_field(doc, "text", str, None),
        events=None if events is None else tuple(events),
        times_us=tuple(times),
        duration_us=_field(doc, "duration_us", int, 0),
        complete=_field(doc, "complete", bool, True),
        model=_field(doc, "model", str, None),
        usage=_json(doc, "usage"),
    )


def canonical_json(value: Any) -> bytes:
    """Sorted-key JSON, the order in which corpus files keep exchanges."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def ordered(exchanges: list[Exchange] | tuple[Exchange, ...]) -> tuple[Exchange, ...]:
    """Exchanges in file order: by endpoint and canonical request; the sort is stable, so
    repeated identical requests keep the order they were recorded in."""
    return tuple(sorted(exchanges, key=lambda e: (e.endpoint, canonical_json(e.request))))
