"""Recorded answers as response bytes: bodies and SSE frames rebuilt from a recording.

`core/replayed.py` decides which recording answers a request; these pure functions render it,
keeping what was recorded — tool call ids, `system_fingerprint`, `service_tier`, refusals,
logprobs — and replacing only the response id and `created` (not even those with
`--replay-ids recorded`):

- `restream`: a recorded stream's own events, one frame each, byte for byte as recorded (the id
  and `created` swapped in the text); a usage chunk dropped or added to follow the request's
  `stream_options.include_usage` when the recording asked otherwise.
- `split`: a recorded JSON answer cut into events as the real API streams it (role chunk,
  content pieces — the recorded logprob tokens when there are any, `tokens.split_pieces`
  otherwise — refusal pieces, tool-call argument pieces, finish chunk, usage chunk).
- `assembled`: an answer as one `chat.completion` / `text_completion` body, in the live key
  order (a recorded stream's deltas, or a sampled miss fitted to the request).
- `live_order`: a recorded JSON body with its keys in the API's order (corpus files store maps
  with sorted keys).
- `as_sent`: an exchange's answer as replay with recorded ids sends it, as a stream or a body
  (`corpus show --exchange N --format sse|json`).

Stream frames are made once per (recording, request shape) with placeholders where the id and
`created` go (`Template`), then filled in per request with one `bytes.join`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from sanic_mock import endpoints
from sanic_mock.corpus.answers import Answer, ChoiceAnswer, answer
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.index import USAGE, shape_of
from sanic_mock.tokens import estimate_tokens, split_pieces
from sanic_mock.wire import replayed_responses
from sanic_mock.wire.replayed_responses import ordered as _ordered
from sanic_mock.wire.replayed_responses import parsed_events
from sanic_mock.wire.sse import DONE

CHAT = endpoints.CHAT.path

# Templates hold these where the id and `created` go (orjson writes NUL as \u0000, which recorded
# text cannot produce unescaped); `Template` replaces them.
RID_TEXT, CREATED_TEXT = "\x00rid\x00", "\x00created\x00"
_RID, _CREATED = orjson.dumps(RID_TEXT)[1:-1], orjson.dumps(CREATED_TEXT)


# The API's key order for each kind of object (anything else keeps its place, after these).
_BODY_ORDER = (
    "id",
    "object",
    "created",
    "model",
    "choices",
    "usage",
    "service_tier",
    "system_fingerprint",
)
_CHOICE_ORDER = ("index", "message", "logprobs", "finish_reason")
_TEXT_CHOICE_ORDER = ("text", "index", "logprobs", "finish_reason")  # legacy completions
_USAGE_ORDER = ("prompt_tokens", "completion_tokens", "total_tokens")
_MESSAGE_ORDER = ("role", "content", "refusal", "annotations", "audio", "function_call")


def live_order(body: Any) -> Any:
    """A recorded JSON answer with its keys in the order the API writes them."""
    if not isinstance(body, dict):
        return body
    doc = _ordered(body, _BODY_ORDER)
    if isinstance(doc.get("usage"), dict):
        doc["usage"] = _ordered(doc["usage"], _USAGE_ORDER)
    choices = doc.get("choices")
    if isinstance(choices, list):
        doc["choices"] = [_choice_order(c) for c in choices]
    return doc


def _choice_order(choice: Any) -> Any:
    if not isinstance(choice, dict):
        return choice
    out = _ordered(choice, _TEXT_CHOICE_ORDER if "text" in choice else _CHOICE_ORDER)
    if isinstance(out.get("message"), dict):
        out["message"] = _ordered(out["message"], _MESSAGE_ORDER)
    return out


def frame(doc: Any) -> bytes:
    return b"data: " + orjson.dumps(doc) + b"\n\n"


def verbatim(data: str, doc: dict[str, Any], fresh: bool) -> bytes:
    """A recorded event as it went over the wire; with `fresh`, the id and `created` replaced
    by the placeholders in its own text (an event written in a way this does not find is
    written again, with the same fields in the same order)."""
    raw = data.encode()
    if fresh:
        rid, created = doc.get("id"), doc.get("created")
        if isinstance(rid, str):
            old = b'"id":' + orjson.dumps(rid)
            if old not in raw:
                return frame({**doc, "id": RID_TEXT, "created": CREATED_TEXT})
            raw = raw.replace(old, b'"id":"' + _RID + b'"', 1)
        if isinstance(created, int):
            old = b'"created":%d' % created
            if old not in raw:
                return frame({**doc, "id": RID_TEXT, "created": CREATED_TEXT})
            raw = raw.replace(old, b'"created":' + _CREATED, 1)
    return b"data: " + raw + b"\n\n"


def usage_of(ans: Answer, prompt_tokens: int) -> dict[str, Any]:
    """The recorded usage, or one counted from the recorded text and tool calls."""
    if ans.usage:
        return ans.usage
    completion = sum(
        len(split_pieces(c.text))
        + sum(estimate_tokens(str(t.get("function"))) for t in c.tool_calls)
        for c in ans.choices
    )
    total = prompt_tokens + completion
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion, "total_tokens": total}


class Template:
    """A stream's frames with the id and `created` placeholders. `created` is filled once per
    second and the frames cut at the id placeholder, so a reply is one `bytes.join` (all
    frames in one piece when unpaced, per frame when paced)."""

    __slots__ = ("frames", "times", "_second", "_parts", "_frame_parts", "_offsets")

    def __init__(self, frames: list[bytes], times: list[int]) -> None:
        self.frames, self.times = frames, times
        self._offsets: tuple[float, ...] | None = None
        self._second = -1
        self._parts: list[bytes] = []
        self._frame_parts: list[list[bytes]] | None = None

    def _at(self, created: int) -> None:
        if created != self._second:
            self._second, self._frame_parts = created, None
            stamp = b"%d" % created
            self._parts = b"".join(self.frames).replace(_CREATED, stamp).split(_RID)

    def offsets(self, scale: float) -> tuple[float, ...]:
        """Each frame's due time in seconds after the request (the scale is fixed per API)."""
        if self._offsets is None:
            self._offsets = tuple(t / 1e6 * scale for t in self.times)
        return self._offsets

    def whole(self, rid: bytes, created: int) -> bytes:
        """All frames as one piece."""
        self._at(created)
        return rid.join(self._parts)

    def each(self, rid: bytes, created: int) -> list[bytes]:
        """The frames one by one."""
        self._at(created)
        if self._frame_parts is None:
            stamp = b"%d" % created
            self._frame_parts = [f.replace(_CREATED, stamp).split(_RID) for f in self.frames]
        return [rid.join(parts) for parts in self._frame_parts]


def _logprobs(c: ChoiceAnswer) -> Any:
    if c.logprobs is None:
        return None
    if "content" in c.logprobs:  # chat: both lists, as the API writes them
        return {"content": c.logprobs.get("content"), "refusal": c.logprobs.get("refusal")}
    return c.logprobs


def assembled(
    ans: Answer, endpoint: str, rid: str, created: int, model: str | None, prompt_tokens: int
) -> bytes:
    """An answer as one `chat.completion` or `text_completion` body, in the live key order."""
    choices: list[dict[str, Any]] = []
    for c in ans.choices:
        if endpoint == CHAT:
            message: dict[str, Any] = {
                "role": "assistant",
                "content": c.text if c.has_text or not (c.tool_calls or c.refusal) else None,
                "refusal": c.refusal,
                "annotations": [],
            }
            if c.tool_calls:
                message["tool_calls"] = c.tool_calls
            choices.append(
                {
                    "index": c.index,
                    "message": message,
                    "logprobs": _logprobs(c),
                    "finish_reason": c.finish_reason,
                }
            )
        else:
            choices.append(
                {
                    "text": c.text,
                    "index": c.index,
                    "logprobs": c.logprobs,
                    "finish_reason": c.finish_reason,
                }
            )
    doc = {
        "id": rid,
        "object": "chat.completion" if endpoint == CHAT else "text_completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": usage_of(ans, prompt_tokens),
    }
    if ans.service_tier is not None:
        doc["service_tier"] = ans.service_tier
    if ans.fingerprint is not None:
        doc["system_fingerprint"] = ans.fingerprint
    return orjson.dumps(doc)


def restream(
    events: Sequence[str],
    parsed: Sequence[Any],
    times_us: Sequence[int],
    endpoint: str,
    ans: Answer,
    include_usage: bool,
    prompt_tokens: int,
    fresh: bool = True,
) -> tuple[list[bytes], list[int]]:
    """A recorded stream's events (`parsed`: each one's JSON, None for `[DONE]` and unparsable
    ones) as frames — verbatim, with the placeholders when `fresh` — and each frame's time (µs
    after the request). Only a usage chunk the request did not ask for is dropped (and the
    `usage: null` of the other chunks), or one it asked for added."""
    frames: list[bytes] = []
    times: list[int] = []
    usage_sent = False
    for data, doc, t in zip(events, parsed, times_us, strict=True):
        if not isinstance(doc, dict):
            continue  # [DONE] is written once, at the end
        is_usage = doc.get("choices") == [] and doc.get("usage") is not None
        if is_usage and not include_usage:
            continue
        usage_sent = usage_sent or is_usage
        if not include_usage and "usage" in doc:
            doc = {k: v for k, v in doc.items() if k != "usage"}
            if fresh:
                doc.update(id=RID_TEXT, created=CREATED_TEXT)
            frames.append(frame(doc))
        else:
            frames.append(verbatim(data, doc, fresh))
        times.append(t)
    end = times_us[-1] if times_us else 0
    if include_usage and not usage_sent:
        usage: dict[str, Any] = {
            "id": RID_TEXT if fresh else ans.id,
            "object": "chat.completion.chunk" if endpoint == CHAT else "text_completion",
            "created": CREATED_TEXT if fresh else ans.created,
            "model": ans.model,
            "choices": [],
            "usage": usage_of(ans, prompt_tokens),
        }
        frames.append(frame(usage))
        times.append(end)
    frames.append(DONE)
    times.append(end)
    return frames, times


def _content_pieces(c: ChoiceAnswer) -> list[tuple[str, Any]]:
    """(text, logprobs) per content event: the recorded logprob tokens when they spell the
    text (as the API streams them, one token per event), else token pieces."""
    entries = (c.logprobs or {}).get("content")
    if isinstance(entries, list) and entries:
        if all(isinstance(e, dict) and isinstance(e.get("token"), str) for e in entries):
            if "".join(e["token"] for e in entries) == c.text:
                return [(e["token"], {"content": [e], "refusal": None}) for e in entries]
    return [(p, None) for p in split_pieces(c.text)]


def split(
    ans: Answer,
    endpoint: str,
    model: str | None,
    include_usage: bool,
    prompt_tokens: int,
    rid: str = RID_TEXT,
    created: Any = CREATED_TEXT,
) -> list[bytes]:
    """An answer as stream frames (with the placeholders unless given the id and `created`)."""
    chat = endpoint == CHAT
    base: dict[str, Any] = {
        "id": rid,
        "object": "chat.completion.chunk" if chat else "text_completion",
        "created": created,
        "model": model,
    }
    if ans.service_tier is not None:
        base["service_tier"] = ans.service_tier
    if ans.fingerprint is not None:
        base["system_fingerprint"] = ans.fingerprint
    tail = {"usage": None} if include_usage else {}

    def chunk(index: int, part: dict[str, Any], finish: str | None = None, lp: Any = None) -> bytes:
        if chat:
            choice = {"index": index, "delta": part, "logprobs": lp, "finish_reason": finish}
        else:
            choice = {"text": "", **part, "index": index, "logprobs": lp}
            choice["finish_reason"] = finish
        return frame({**base, "choices": [choice], **tail})

    frames: list[bytes] = []
    for c in ans.choices:
        if chat:
            content = "" if c.has_text or not (c.tool_calls or c.refusal) else None
            frames.append(
                chunk(c.index, {"role": "assistant", "content": content, "refusal": None})
            )
            frames.extend(chunk(c.index, {"content": p}, lp=lp) for p, lp in _content_pieces(c))
            frames.extend(chunk(c.index, {"refusal": p}) for p in split_pieces(c.refusal or ""))
            for k, call in enumerate(c.tool_calls):
                named = call.get("function")
                fn: dict[str, Any] = named if isinstance(named, dict) else {}
                head = {
                    "index": k,
                    "id": call.get("id"),
                    "type": call.get("type", "function"),
                    "function": {"name": fn.get("name", ""), "arguments": ""},
                }
                frames.append(chunk(c.index, {"tool_calls": [head]}))
                for piece in split_pieces(str(fn.get("arguments", ""))):
                    part = {"index": k, "function": {"arguments": piece}}
                    frames.append(chunk(c.index, {"tool_calls": [part]}))
            frames.append(chunk(c.index, {}, c.finish_reason))
        else:
            frames.extend(chunk(c.index, {"text": p}) for p in split_pieces(c.text))
            frames.append(chunk(c.index, {"text": ""}, c.finish_reason))
    if include_usage:
        frames.append(frame({**base, "choices": [], "usage": usage_of(ans, prompt_tokens)}))
    frames.append(DONE)
    return frames


def as_sent(ex: Exchange, stream: bool) -> bytes:
    """An exchange's answer as `serve --replay-ids recorded` sends it to a request of its
    kind: SSE frames (`stream`) or one JSON body, converted when recorded the other way
    (`corpus show --exchange N --format sse|json`)."""
    if ex.ok and ex.endpoint == replayed_responses.RESPONSES:
        return replayed_responses.as_sent(ex, stream)
    if not ex.ok or not (ex.endpoint == CHAT or ex.endpoint.endswith("/completions")):
        if stream:
            raise CorpusError(f"{ex.describe()} answered with JSON, not a stream")
        return orjson.dumps(live_order(ex.body)) if ex.text is None else ex.text.encode()
    ans = answer(ex)
    prompt = int((ans.usage or {}).get("prompt_tokens") or 0)
    model = ans.model or ex.model
    created = ans.created or 0
    if stream and ex.streamed:
        events = ex.events or ()
        parsed = parsed_events(events)
        usage = shape_of(ex.request) & USAGE != 0
        frames, _ = restream(events, parsed, ex.times_us, ex.endpoint, ans, usage, prompt, False)
        return b"".join(frames)
    if stream:
        return b"".join(split(ans, ex.endpoint, model, False, prompt, ans.id or "", created))
    if ex.streamed:
        return assembled(ans, ex.endpoint, ans.id or "", created, model, prompt)
    return orjson.dumps(live_order(ex.body))
