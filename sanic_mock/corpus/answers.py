"""What a recorded chat or completions answer says, whichever way it was recorded.

`answer(exchange)` reads a JSON body or assembles a stream's deltas (content, refusal, tool calls
whose arguments arrive in pieces, finish reasons, the usage chunk) into one `Answer`. Replay uses
it to turn a recorded stream into a JSON body or a JSON body into a stream; `corpus inspect` uses
it for its one-line previews.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sanic_mock.corpus.exchanges import Exchange, final_response
from sanic_mock.tokens import split_pieces


@dataclass(slots=True)
class ChoiceAnswer:
    index: int
    text: str = ""  # the message content (chat) or the text (completions)
    has_text: bool = False  # false when a chat message's content was null (tool calls only)
    refusal: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None  # as the API sends it; a stream's chunks joined


@dataclass(slots=True)
class Answer:
    choices: list[ChoiceAnswer]
    usage: dict[str, Any] | None = None
    model: str | None = None
    fingerprint: str | None = None
    service_tier: str | None = None
    id: str | None = None  # the recorded response id and `created` (`--replay-ids recorded`)
    created: int | None = None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def from_body(body: Any) -> Answer:
    doc = _dict(body)
    out = Answer([], _dict(doc.get("usage")) or None, _str(doc.get("model")))
    out.fingerprint = _str(doc.get("system_fingerprint"))
    out.service_tier = _str(doc.get("service_tier"))
    out.id, out.created = _str(doc.get("id")), _int(doc.get("created"), 0) or None
    for i, c in enumerate(_list(doc.get("choices"))):
        c = _dict(c)
        choice = ChoiceAnswer(_int(c.get("index"), i), finish_reason=_str(c.get("finish_reason")))
        choice.logprobs = _dict(c.get("logprobs")) or None
        if "message" in c:
            message = _dict(c["message"])
            content = _str(message.get("content"))
            choice.text, choice.has_text = content or "", content is not None
            choice.refusal = _str(message.get("refusal"))
            choice.tool_calls = [_dict(t) for t in _list(message.get("tool_calls"))]
        else:
            text = _str(c.get("text"))
            choice.text, choice.has_text = text or "", text is not None
        out.choices.append(choice)
    return out


def _tool_delta(calls: dict[int, dict[str, Any]], delta: Any) -> None:
    delta = _dict(delta)
    slot = calls.setdefault(
        _int(delta.get("index"), len(calls)),
        {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
    )
    if _str(delta.get("id")):
        slot["id"] = delta["id"]
    if _str(delta.get("type")):
        slot["type"] = delta["type"]
    fn = _dict(delta.get("function"))
    slot["function"]["name"] += _str(fn.get("name")) or ""
    slot["function"]["arguments"] += _str(fn.get("arguments")) or ""


def _join_logprobs(into: dict[str, Any] | None, part: Any) -> dict[str, Any] | None:
    """A stream's per-chunk logprobs joined: every list field concatenated."""
    part = _dict(part)
    if not part:
        return into
    out = dict(into or {})
    for k, v in part.items():
        if isinstance(v, list):
            out[k] = [*_list(out.get(k)), *v]
        else:
            out.setdefault(k, v)
    return out


def from_chunks(chunks: list[Any]) -> Answer:
    out = Answer([])
    by_index: dict[int, ChoiceAnswer] = {}
    calls: dict[int, dict[int, dict[str, Any]]] = {}
    for chunk in chunks:
        doc = _dict(chunk)
        out.usage = _dict(doc.get("usage")) or out.usage
        out.model = out.model or _str(doc.get("model"))
        out.fingerprint = out.fingerprint or _str(doc.get("system_fingerprint"))
        out.service_tier = out.service_tier or _str(doc.get("service_tier"))
        out.id = out.id or _str(doc.get("id"))
        out.created = out.created or _int(doc.get("created"), 0) or None
        for c in _list(doc.get("choices")):
            c = _dict(c)
            index = _int(c.get("index"), 0)
            choice = by_index.setdefault(index, ChoiceAnswer(index))
            choice.finish_reason = _str(c.get("finish_reason")) or choice.finish_reason
            choice.logprobs = _join_logprobs(choice.logprobs, c.get("logprobs"))
            if "delta" in c:
                delta = _dict(c["delta"])
                content = _str(delta.get("content"))
                if content is not None:
                    choice.text += content
                    choice.has_text = True
                refusal = _str(delta.get("refusal"))
                if refusal:
                    choice.refusal = (choice.refusal or "") + refusal
                for tool in _list(delta.get("tool_calls")):
                    _tool_delta(calls.setdefault(index, {}), tool)
            elif _str(c.get("text")) is not None:
                choice.text += c["text"]
                choice.has_text = True
    for index, slots in calls.items():
        by_index[index].tool_calls = [slots[k] for k in sorted(slots)]
    out.choices = [by_index[k] for k in sorted(by_index)]
    return out


def answer(ex: Exchange) -> Answer:
    return from_chunks(ex.chunks()) if ex.streamed else from_body(ex.body)


def _fit_choice(c: ChoiceAnswer, index: int, limit: int | None) -> ChoiceAnswer:
    if c.tool_calls or limit is None:
        return replace(c, index=index)
    pieces = split_pieces(c.text)
    if len(pieces) > limit:
        text, finish = "".join(pieces[:limit]), "length"
    elif c.finish_reason == "length" and pieces and len(pieces) < limit:
        # cut short when it was recorded: padded from its own text up to the limit asked for
        text = "".join(pieces[k % len(pieces)] for k in range(limit))
        finish = "length"
    else:
        return replace(c, index=index)
    return replace(c, index=index, text=text, has_text=True, finish_reason=finish, logprobs=None)


def fit(ans: Answer, limit: int | None, n: int) -> Answer:
    """A recorded answer shaped to a request it was not recorded for (a sampled miss): `n`
    choices (the recorded ones in turn), each cut to `limit` tokens with finish reason
    `length`, or — if it was itself cut by a limit and `limit` asks for more — padded with its
    own text up to `limit`. Tool calls are kept whole. The usage is left to be counted."""
    if not ans.choices:
        return ans
    choices = [_fit_choice(ans.choices[k % len(ans.choices)], k, limit) for k in range(n)]
    return replace(ans, choices=choices, usage=None)


def _response_preview(ex: Exchange, limit: int) -> str:
    """A Responses API answer: its function calls, or its first output text."""
    final = _dict(final_response(ex.chunks()) if ex.streamed else ex.body)
    items = [_dict(i) for i in _list(final.get("output"))]
    calls = [str(i.get("name")) for i in items if i.get("type") == "function_call"]
    if calls:
        return f"function calls: {', '.join(calls)}"[:limit]
    for item in items:
        for part in _list(item.get("content")):
            text = _str(_dict(part).get("text"))
            if text is not None:
                text = text.replace("\n", " ")
                return repr(text if len(text) <= limit else text[: limit - 1] + "…")
    return f"status {final.get('status')}"[:limit]


def preview(ex: Exchange, limit: int = 60) -> str:
    """A one-line summary of what the answer says, for listings."""
    if not ex.ok:
        error = _dict(_dict(ex.body).get("error"))
        return f"error: {_str(error.get('message')) or ex.text or ''}"[:limit]
    if ex.endpoint.endswith("/embeddings"):
        return f"{len(_list(_dict(ex.body).get('data')))} embedding(s)"
    if ex.endpoint.endswith("/responses"):
        return _response_preview(ex, limit)
    if not ex.endpoint.endswith("completions"):
        return ""
    ans = answer(ex)
    if not ans.choices:
        return ""
    first = ans.choices[0]
    if first.tool_calls:
        names = ", ".join(str(_dict(t.get("function")).get("name")) for t in first.tool_calls)
        return f"tool calls: {names}"[:limit]
    text = first.text.replace("\n", " ")
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
