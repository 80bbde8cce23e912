"""Recorded answers as response bytes: bodies and SSE frames rebuilt from a recording.

`core/replayed.py` decides which recording answers a request; these pure functions render it:

- `restream`: a recorded stream's own events, one frame each, with the id, `created` and (on a
  sampled miss) `model` replaced; a usage chunk dropped or added to follow the request's
  `stream_options.include_usage`.
- `split`: a recorded JSON answer cut into token events (`tokens.split_pieces`), as the real
  API streams it (role chunk, content pieces, tool-call argument pieces, finish chunk).
- `assembled`: a recorded stream's deltas as one `chat.completion` / `text_completion` body.

Stream frames are made once per (recording, request shape) with placeholders where the id and
`created` go (`Template`), then filled in per request with one `bytes.join`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from sanic_mock import endpoints
from sanic_mock.corpus.answers import Answer
from sanic_mock.tokens import estimate_tokens, split_pieces
from sanic_mock.wire.sse import DONE

CHAT = endpoints.CHAT.path

# Templates hold these where the id and `created` go (orjson writes NUL as \u0000, which recorded
# text cannot produce unescaped); `Template` replaces them.
RID_TEXT, CREATED_TEXT = "\x00rid\x00", "\x00created\x00"
_RID, _CREATED = orjson.dumps(RID_TEXT)[1:-1], orjson.dumps(CREATED_TEXT)


def frame(doc: Any) -> bytes:
    return b"data: " + orjson.dumps(doc) + b"\n\n"


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


def assembled(
    ans: Answer, endpoint: str, rid: str, created: int, model: str | None, prompt_tokens: int
) -> bytes:
    """A recorded stream's deltas as one `chat.completion` or `text_completion` body."""
    choices: list[dict[str, Any]] = []
    for c in ans.choices:
        if endpoint == CHAT:
            message: dict[str, Any] = {
                "role": "assistant",
                "content": c.text if c.has_text or not c.tool_calls else None,
                "refusal": c.refusal,
                "annotations": [],
            }
            if c.tool_calls:
                message["tool_calls"] = c.tool_calls
            choices.append(
                {
                    "index": c.index,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": c.finish_reason,
                }
            )
        else:
            choices.append(
                {
                    "text": c.text,
                    "index": c.index,
                    "logprobs": None,
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
    if ans.fingerprint is not None:
        doc["system_fingerprint"] = ans.fingerprint
    return orjson.dumps(doc)


def restream(
    events: Sequence[Any],
    times_us: Sequence[int],
    endpoint: str,
    ans: Answer,
    model: str | None,
    fallback_model: str | None,
    include_usage: bool,
    prompt_tokens: int,
) -> tuple[list[bytes], list[int]]:
    """A recorded stream's events (parsed; None for `[DONE]` and unparsable ones) as frames with
    the placeholders, and each frame's time (µs after the request)."""
    frames: list[bytes] = []
    times: list[int] = []
    usage_sent = False
    for doc, t in zip(events, times_us, strict=True):
        if not isinstance(doc, dict):
            continue  # [DONE] is written once, at the end
        doc = dict(doc)
        is_usage = doc.get("choices") == [] and doc.get("usage") is not None
        if is_usage and not include_usage:
            continue
        if not include_usage:
            doc.pop("usage", None)
        usage_sent = usage_sent or is_usage
        for name, value in (("id", RID_TEXT), ("created", CREATED_TEXT), ("model", model)):
            if name in doc and value is not None:
                doc[name] = value
        frames.append(frame(doc))
        times.append(t)
    end = times_us[-1] if times_us else 0
    if include_usage and not usage_sent:
        usage: dict[str, Any] = {
            "id": RID_TEXT,
            "object": "chat.completion.chunk" if endpoint == CHAT else "text_completion",
            "created": CREATED_TEXT,
            "model": model or fallback_model,
            "choices": [],
            "usage": usage_of(ans, prompt_tokens),
        }
        frames.append(frame(usage))
        times.append(end)
    frames.append(DONE)
    times.append(end)
    return frames, times


def split(
    ans: Answer, endpoint: str, model: str | None, include_usage: bool, prompt_tokens: int
) -> list[bytes]:
    """A recorded JSON answer as stream frames with the placeholders, one token per event."""
    chat = endpoint == CHAT
    base: dict[str, Any] = {
        "id": RID_TEXT,
        "object": "chat.completion.chunk" if chat else "text_completion",
        "created": CREATED_TEXT,
        "model": model,
    }
    if ans.fingerprint is not None:
        base["system_fingerprint"] = ans.fingerprint
    if include_usage:
        base["usage"] = None

    def chunk(index: int, part: dict[str, Any], finish: str | None = None) -> bytes:
        if chat:
            choice = {"index": index, "delta": part, "logprobs": None, "finish_reason": finish}
        else:
            choice = {"text": "", **part, "index": index, "logprobs": None}
            choice["finish_reason"] = finish
        return frame({**base, "choices": [choice]})

    frames: list[bytes] = []
    for c in ans.choices:
        if chat:
            frames.append(chunk(c.index, {"role": "assistant", "content": "", "refusal": None}))
            frames.extend(chunk(c.index, {"content": p}) for p in split_pieces(c.text))
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
