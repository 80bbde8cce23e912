"""Recorded Responses API answers as response bytes: the `response` object and its typed events.

`core/replayed_responses.py` decides which recording answers a `POST /v1/responses`; these pure
functions render it, keeping what was recorded — output item ids, `call_id`s, reasoning items,
usage, `sequence_number`s — and replacing only the response's own id, `created_at` (and
`completed_at`, moved with it) and the `previous_response_id` it echoes (the id the client
sent, which a replay with fresh ids gave it), not even those with `--replay-ids recorded`:

- `restream`: a recorded stream's own events, one frame each, byte for byte: each `data:`
  payload as recorded after an `event:` line naming its `type` (the API always names an event
  by its type, so the recorder keeps only the payload), the fields above swapped in the text
  for placeholders (`Fresh.fill` writes them per request).
- `wire/response_stream.events`: a recorded JSON response (or a sampled miss) as the stream the
  API sends for it (one delta per token of the model's encoding).
- `corpus/exchanges.final_response`: the response a recorded stream ends with (its
  `response.completed` / `.incomplete` / `.failed` event holds the whole object): a stream
  asked for as JSON is answered with it.
- `live_response`: a recorded JSON response with its keys in the API's order (corpus files
  store maps with sorted keys).
- `fitted`: a recorded response made the answer to a request it was not recorded for (a
  sampled miss): the request's settings echoed, fresh item ids, message text and arguments cut
  to `max_output_tokens` (then `incomplete`), the usage counted.
- `recording`: all of that for one exchange, made once per worker (`Recording`: the final
  response, the stream's frames with placeholders, their times); `as_sent`: an exchange as
  `--replay-ids recorded` sends it (`corpus show --exchange N --format sse|json`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from sanic_mock import endpoints
from sanic_mock.corpus.exchanges import DONE, RESPONSE_ENDS, Exchange, final_response
from sanic_mock.wire import responses
from sanic_mock.wire.response_stream import events, pieces, sse

RESPONSES = endpoints.RESPONSES.path

# Where the fresh values go in a template (orjson writes NUL as \u0000, which recorded text
# cannot hold unescaped; `Fresh.fill` replaces them).
_TEXTS = {
    "id": "\x00rid\x00",
    "created_at": "\x00created\x00",
    "completed_at": "\x00completed\x00",
    "previous_response_id": "\x00previous\x00",
}
_RID = orjson.dumps(_TEXTS["id"])[1:-1]  # inside the id's quotes
_CREATED, _COMPLETED, _PREVIOUS = (
    orjson.dumps(_TEXTS[k]) for k in ("created_at", "completed_at", "previous_response_id")
)

_RESPONSE_ORDER = (
    "id",
    "object",
    "created_at",
    "status",
    "background",
    "completed_at",
    "error",
    "incomplete_details",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "model",
    "output",
    "parallel_tool_calls",
    "previous_response_id",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "store",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "usage",
    "user",
    "metadata",
)
_ITEM_ORDER = {
    "message": ("id", "type", "status", "content", "role"),
    "function_call": ("id", "type", "status", "arguments", "call_id", "name"),
    "reasoning": ("id", "type", "summary"),
}
_PART_ORDER = ("type", "annotations", "logprobs", "text")
_TOOL_ORDER = ("type", "name", "description", "parameters", "strict")
_COUNT_ORDER = ("object", "input_tokens")  # `POST /v1/responses/input_tokens`
_USAGE_ORDER = (
    "input_tokens",
    "input_tokens_details",
    "output_tokens",
    "output_tokens_details",
    "total_tokens",
)
_ID_PREFIX = {"message": "msg", "function_call": "fc", "reasoning": "rs"}


def ordered(doc: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    """`doc` with the keys of `order` first, in that order (the others after, as they were):
    recorded maps come back from the file with sorted keys."""
    out = {k: doc[k] for k in order if k in doc}
    out.update((k, v) for k, v in doc.items() if k not in out)
    return out


def _item_order(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    out = ordered(item, _ITEM_ORDER.get(str(item.get("type")), ("id", "type")))
    if isinstance(out.get("content"), list):
        out["content"] = [
            ordered(p, _PART_ORDER) if isinstance(p, dict) else p for p in out["content"]
        ]
    return out


def live_response(body: Any) -> Any:
    """A recorded `response` object (or input token count) with its keys in the order the API
    writes them."""
    if not isinstance(body, dict):
        return body
    if body.get("object") == "response.input_tokens":
        return ordered(body, _COUNT_ORDER)
    doc = ordered(body, _RESPONSE_ORDER)
    if isinstance(doc.get("tools"), list):
        doc["tools"] = [ordered(t, _TOOL_ORDER) if isinstance(t, dict) else t for t in doc["tools"]]
    usage = doc.get("usage")
    if isinstance(usage, dict):
        doc["usage"] = usage = ordered(usage, _USAGE_ORDER)
        if isinstance(usage.get("input_tokens_details"), dict):
            details = usage["input_tokens_details"]
            usage["input_tokens_details"] = ordered(details, ("cached_tokens",))
    if isinstance(doc.get("output"), list):
        doc["output"] = [_item_order(item) for item in doc["output"]]
    return doc


def parsed_events(events: Sequence[str]) -> list[Any]:
    """Each recorded event's JSON value, None for `[DONE]` and unparsable ones (for this
    module's `restream` and chat's, `wire/replayed.py`)."""
    out: list[Any] = []
    for data in events:
        try:
            out.append(None if data == DONE else orjson.loads(data))
        except orjson.JSONDecodeError:
            out.append(None)
    return out


class Fresh(NamedTuple):
    """The recorded values a template replaces (`rid` None: nothing replaced) and how."""

    rid: str | None
    created: int | None
    completed: int | None
    previous: str | None

    @classmethod
    def of(cls, final: dict[str, Any] | None) -> Fresh:
        """What `final` (the recorded response) holds of the fields replay makes fresh."""
        doc = final or {}
        rid, created, completed = doc.get("id"), doc.get("created_at"), doc.get("completed_at")
        previous = doc.get("previous_response_id")
        return cls(
            rid if isinstance(rid, str) else None,
            created if _is_int(created) else None,
            completed if _is_int(completed) else None,
            previous if isinstance(previous, str) else None,
        )

    def mark(self, raw: bytes) -> bytes:
        """`raw` (JSON text) with the placeholders where the recorded values are."""
        if self.rid is None:
            return raw
        raw = raw.replace(b'"id":' + orjson.dumps(self.rid), b'"id":"' + _RID + b'"')
        if self.created is not None:
            raw = raw.replace(b'"created_at":%d' % self.created, b'"created_at":' + _CREATED)
        if self.completed is not None:
            old = b'"completed_at":%d' % self.completed
            raw = raw.replace(old, b'"completed_at":' + _COMPLETED)
        if self.previous is not None:
            old = b'"previous_response_id":' + orjson.dumps(self.previous)
            raw = raw.replace(old, b'"previous_response_id":' + _PREVIOUS)
        return raw

    def rewritten(self, doc: dict[str, Any]) -> bytes:
        """An event carrying the response, written again with the placeholders (its text
        spelled the fields in a way `mark` does not find: same fields, same order)."""
        response = doc.get("response")
        if self.rid is None or not isinstance(response, dict):
            return orjson.dumps(doc)
        response = {**response, "id": _TEXTS["id"]}
        for name, value in (
            ("created_at", self.created),
            ("completed_at", self.completed),
            ("previous_response_id", self.previous),
        ):
            if value is not None:
                response[name] = _TEXTS[name]
        return orjson.dumps({**doc, "response": response})

    def fill(self, raw: bytes, rid: str, created: int, previous: str | None) -> bytes:
        """`raw` with the placeholders replaced: the fresh id and `created_at`,
        `completed_at` as far after it as recorded, the `previous_response_id` sent."""
        if self.rid is None:
            return raw
        raw = raw.replace(_RID, rid.encode())
        if self.created is not None:
            raw = raw.replace(_CREATED, b"%d" % created)
            if self.completed is not None:
                raw = raw.replace(_COMPLETED, b"%d" % (created + self.completed - self.created))
        elif self.completed is not None:
            raw = raw.replace(_COMPLETED, b"%d" % self.completed)
        if self.previous is not None:
            raw = raw.replace(_PREVIOUS, orjson.dumps(previous))
        return raw

    def fresh(
        self, final: dict[str, Any], rid: str, created: int, previous: str | None
    ) -> dict[str, Any]:
        """The recorded response object with the fresh values (as `fill` writes them)."""
        doc = {**final, "id": rid}
        if self.created is not None:
            doc["created_at"] = created
            if self.completed is not None:
                doc["completed_at"] = created + self.completed - self.created
        if self.previous is not None:
            doc["previous_response_id"] = previous
        return doc


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def restream(events: Sequence[str], parsed: Sequence[Any], fresh: Fresh) -> list[bytes]:
    """A recorded stream's frames, verbatim, with the placeholders of `fresh` (see above)."""
    frames = []
    for data, doc in zip(events, parsed, strict=True):
        kind = doc.get("type") if isinstance(doc, dict) else None
        raw = data.encode()
        if isinstance(kind, str) and kind in _WITH_RESPONSE and fresh.rid is not None:
            marked = fresh.mark(raw)
            raw = marked if marked != raw else fresh.rewritten(doc)
        frames.append(sse(raw, kind))
    return frames


# The events that carry the response object (only these hold its id and times).
_WITH_RESPONSE = frozenset(
    ("response.created", "response.in_progress", "response.queued", *RESPONSE_ENDS)
)


def fitted(
    recorded: dict[str, Any],
    echo: dict[str, Any],
    ids: Any,
    rid: str,
    created: int,
    limit: int | None,
    input_tokens: int,
) -> dict[str, Any]:
    """A recorded response as the answer to another request (a sampled miss): see the module
    docstring. `ids` makes the item ids (`.item(prefix)`), `echo` is the request's settings
    (`wire/responses_in.py`)."""
    model = echo["model"]
    left = limit
    said = 0
    short = False  # cut by the limit

    def kept(text: str) -> str:
        """`text`, cut to the tokens left under the limit."""
        nonlocal left, said, short
        cut = pieces(text, model)
        if left is not None:
            if len(cut) > left:
                cut, short = cut[:left], True
            left -= len(cut)
        said += len(cut)
        return "".join(cut)

    output: list[dict[str, Any]] = []
    recorded_output = recorded.get("output")
    for item in recorded_output if isinstance(recorded_output, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        item = {**item, "id": ids.item(_ID_PREFIX.get(str(kind), "item"))}
        if kind == "message" and isinstance(item.get("content"), list):
            item["content"] = [
                {**part, "text": kept(part["text"])}
                if isinstance(part, dict) and isinstance(part.get("text"), str)
                else part
                for part in item["content"]
            ]
        elif kind == "function_call" and isinstance(item.get("arguments"), str):
            item["arguments"] = kept(item["arguments"])
        output.append(item)
    status = "incomplete" if short else "completed"
    if short:
        output = [{**i, "status": "incomplete"} if "status" in i else i for i in output]
    usage = responses.usage(input_tokens, said, 0)
    return responses.response(rid, created, echo, status, output, usage, None if short else created)


class Recording(NamedTuple):
    """A recorded response answer, read once: the response it ends with and its stream."""

    final: dict[str, Any]  # in the API's key order
    marks: Fresh  # the recorded values made fresh (none with --replay-ids recorded)
    frames: list[bytes]  # the stream, with the placeholders of `marks`
    times: list[int]  # each frame's time, µs after the request
    delay_us: int  # until the whole answer had arrived (what a JSON answer waits)


def recording(ex: Exchange, fresh: bool) -> Recording:
    """What replay sends of exchange `ex` (a 2xx answer to `POST /v1/responses`)."""
    if ex.streamed:
        recorded = ex.events or ()
        parsed = parsed_events(recorded)
        final = final_response(parsed) or {}
        marks = Fresh.of(final if fresh else None)
        times = list(ex.times_us)
        frames = restream(recorded, parsed, marks)
        delay = times[-1] if times else ex.duration_us
        return Recording(final, marks, frames, times, delay)
    final = live_response(ex.body) if isinstance(ex.body, dict) else {}
    marks = Fresh.of(final if fresh else None)
    named = final.get("model")
    model = named if isinstance(named, str) else ex.model or ""
    frames = [marks.mark(f) for f in events(final, lambda text: pieces(text, model))]
    step = ex.duration_us / len(frames)
    return Recording(
        final, marks, frames, [round(step * (k + 1)) for k in range(len(frames))], ex.duration_us
    )


def as_sent(ex: Exchange, stream: bool) -> bytes:
    """A `POST /v1/responses` exchange's answer as `serve --replay-ids recorded` sends it to a
    request of the kind `stream` asks for (`corpus show --exchange N --format sse|json`)."""
    made = recording(ex, False)
    return b"".join(made.frames) if stream else orjson.dumps(made.final)
