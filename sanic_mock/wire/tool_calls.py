"""Tool calls in chat completion bytes: the message of a `chat.completion` and the stream deltas.

A message has `content: null` and `tool_calls` (or, legacy, one `function_call`). A stream opens
each call with a delta carrying its `index`, `id`, `type` and `function.name` with `arguments: ""`
(the first call's rides on the role chunk, as the real API sends it), then one delta per argument
token with only `index` and `function.arguments`; joined, the fragments are the arguments' JSON.
"""

from __future__ import annotations

from sanic_mock.corpus.pool import SEP
from sanic_mock.wire import sse
from sanic_mock.wire.made import Call, Calls
from sanic_mock.wire.plan import escape

_AFTER_DELTA = b',"logprobs":null,"finish_reason":null}'


def _call_json(call: Call, arguments: bytes) -> bytes:
    return b'{"name":"%s","arguments":"%s"}' % (call.name, arguments)


def message(choice: Calls) -> bytes:
    """The `message` object of a tool-call choice."""
    if choice.legacy:
        call = choice.calls[0]
        said = b'"function_call":' + _call_json(call, call.arguments())
    else:
        said = b'"tool_calls":[%s]' % b",".join(
            b'{"id":"%s","type":"function","function":%s}'
            % (call.id, _call_json(call, call.arguments()))
            for call in choice.calls
        )
    return b'{"role":"assistant","content":null,%s,"refusal":null,"annotations":[]}' % said


def _opening(choice: Calls, index: int, call: Call) -> bytes:
    """A call's first delta member: `"tool_calls":[{index, id, type, function}]`."""
    if choice.legacy:
        return b'"function_call":' + _call_json(call, b"")
    return b'"tool_calls":[{"index":%d,"id":"%s","type":"function","function":%s}]' % (
        index,
        call.id,
        _call_json(call, b""),
    )


def role_chunk(choice: Calls, opening: bytes, end: bytes) -> bytes:
    """The choice's first chunk: the role, `content: null` and the first call's opening."""
    first = _opening(choice, 0, choice.calls[0]) if choice.calls else b'"tool_calls":[]'
    return (
        opening
        + b'"delta":{"role":"assistant","content":null,%s,"refusal":null}' % first
        + _AFTER_DELTA
        + end
    )


def events(choice: Calls, opening: bytes, end: bytes, paced: bool) -> list[bytes]:
    """The deltas after the role chunk: each later call's opening, then its argument tokens."""
    out: list[bytes] = []
    for index, call in enumerate(choice.calls):
        if index:
            out.append(
                opening + b'"delta":{%s}' % _opening(choice, index, call) + _AFTER_DELTA + end
            )
        if choice.legacy:
            start = opening + b'"delta":{"function_call":{"arguments":"'
            close = b'"}}' + _AFTER_DELTA + end
        else:
            start = (
                opening + b'"delta":{"tool_calls":[{"index":%d,"function":{"arguments":"' % index
            )
            close = b'"}}]}' + _AFTER_DELTA + end
        separated = SEP.join(escape(p) for p in call.pieces)
        out += sse.content_events(separated, None, start, close, paced)
    return out
