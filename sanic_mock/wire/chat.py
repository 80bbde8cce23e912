"""`POST /v1/chat/completions` response bytes: the `chat.completion` body and the stream frames.

Bodies are byte templates filled with pre-escaped text (see `corpus/pool.py`); they produce the
same JSON as `orjson.dumps` of the equivalent dict (a unit test checks it), in the field order of
the real API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sanic_mock.corpus.pool import SEP, TextPool
from sanic_mock.wire import sse, tool_calls
from sanic_mock.wire.logprobs import chat_logprobs
from sanic_mock.wire.made import Calls, Made, Said
from sanic_mock.wire.plan import Choice
from sanic_mock.wire.requests import ChatRequest, Generation
from sanic_mock.wire.sse import chunks
from sanic_mock.wire.usage import chat_usage


class Meta(NamedTuple):
    """What identifies one response: id, creation time, echoed model (JSON), fingerprint, and
    the stream chunks' `obfuscation` field (`sse.obfuscation_field`)."""

    id: bytes
    created: int
    model_json: bytes
    fingerprint: bytes
    obfuscation: bytes = b""
    reasoning_content: bool = False  # show the reasoning as `reasoning_content` (vLLM's field)


def body(meta: Meta, req: ChatRequest, choices: list[Choice], pool: TextPool) -> bytes:
    # One join of constant and variable parts: cheaper than `%`-formatting the text twice.
    parts = [
        b'{"id":"',
        meta.id,
        b'","object":"chat.completion","created":%d,"model":' % meta.created,
        meta.model_json,
        b',"choices":[',
    ]
    tokens = 0
    for i, choice in enumerate(choices):
        parts += (
            b',{"index":%d' % i if i else b'{"index":0',
            b',"message":{"role":"assistant","content":"',
            choice.escaped(pool),
            b'","refusal":null,"annotations":[]},"logprobs":',
            chat_logprobs(choice.raw_pieces(pool), req.top_logprobs) if req.logprobs else b"null",
            b',"finish_reason":"',
            choice.finish_reason.encode(),
            b'"}',
        )
        tokens += choice.tokens
    parts += (
        b'],"usage":',
        chat_usage(req.gen.prompt_tokens, tokens),
        b',"service_tier":"default","system_fingerprint":"',
        meta.fingerprint,
        b'"}',
    )
    return b"".join(parts)


def _opening(meta: Meta) -> bytes:
    return b'{"id":"%s","object":"chat.completion","created":%d,"model":%s,"choices":[' % (
        meta.id,
        meta.created,
        meta.model_json,
    )


def shaped_body(meta: Meta, req: ChatRequest, choices: Sequence[Said], pool: TextPool) -> bytes:
    """`body` for choices that may be tool calls or JSON values, and may have reasoned."""
    reasoning = sum(c.reasoning for c in choices)
    return b"".join(
        (
            _opening(meta),
            *(_shaped_choice(meta, req, i, c, pool) for i, c in enumerate(choices)),
            b'],"usage":',
            chat_usage(
                req.gen.prompt_tokens, sum(c.tokens for c in choices) + reasoning, reasoning
            ),
            b',"service_tier":"default","system_fingerprint":"%s"}' % meta.fingerprint,
        )
    )


def _shaped_choice(meta: Meta, req: ChatRequest, i: int, choice: Said, pool: TextPool) -> bytes:
    if isinstance(choice, Calls):
        message = tool_calls.message(choice)
    else:
        thought = b""
        if meta.reasoning_content and choice.reasoning:
            text = pool.escaped_text(choice.reasoning_start, choice.reasoning)
            thought = b',"reasoning_content":"%s"' % text
        message = b'{"role":"assistant","content":"%s"%s,"refusal":null,"annotations":[]}' % (
            choice.escaped(pool),
            thought,
        )
    logprobs = b"null"
    if req.logprobs and not isinstance(choice, Calls):
        logprobs = chat_logprobs(choice.raw_pieces(pool), req.top_logprobs)
    return b'%s{"index":%d,"message":%s,"logprobs":%s,"finish_reason":"%s"}' % (
        b"," if i else b"",
        i,
        message,
        logprobs,
        choice.finish_reason.encode(),
    )


def stream(
    meta: Meta,
    req: ChatRequest,
    choices: Sequence[Said],
    pool: TextPool,
    groups: list[list[int] | None],
    paced: bool,
) -> list[bytes]:
    """SSE frames: role chunks and the first tokens in frame 0, one token group per frame after,
    each choice's finish chunk with its last tokens, then the usage chunk (when asked) and
    `[DONE]`. `groups[i]` gives the token counts per event for choice `i` (None: one each);
    unless `paced`, everything is one frame."""
    gen = req.gen
    usage_null = b',"usage":null' if gen.include_usage else b""
    obfuscation = meta.obfuscation if gen.include_obfuscation else b""
    common = (
        b'data: {"id":"%s","object":"chat.completion.chunk","created":%d,"model":%s,'
        b'"service_tier":"default","system_fingerprint":"%s","choices":['
        % (meta.id, meta.created, meta.model_json, meta.fingerprint)
    )
    end = b"]%s%s}\n\n" % (usage_null, obfuscation)
    closing = b'"},"logprobs":null,"finish_reason":null}' + end
    head = b""
    per_choice: list[list[bytes]] = []
    for i, choice in enumerate(choices):
        opening = common + b'{"index":%d,' % i
        finish = opening + b'"delta":{},"logprobs":null,"finish_reason":"%s"}' % (
            choice.finish_reason.encode()
        )
        if isinstance(choice, Calls):
            head += tool_calls.role_chunk(choice, opening, end)
            events = tool_calls.events(choice, opening, end, paced)
            per_choice.append(sse.with_finish(events, finish + end, paced))
            continue
        head += (
            opening + b'"delta":{"role":"assistant","content":"","refusal":null},'
            b'"logprobs":null,"finish_reason":null}' + end
        )
        content = opening + b'"delta":{"content":"'
        thinking = meta.reasoning_content and choice.reasoning
        if not paced and len(choices) == 1 and groups[0] is None and not (req.logprobs or thinking):
            after = finish + end + _usage_chunk(gen, choices, common, obfuscation) + sse.DONE
            return [sse.one_frame(head, content, choice.separated(pool), closing, after)]
        if req.logprobs:
            events = _with_logprobs(choice, pool, groups[i], content, end, req.top_logprobs)
        else:
            events = sse.content_events(choice.separated(pool), groups[i], content, closing, paced)
        if thinking:
            events = _reasoning_events(choice, pool, opening, end, paced) + events
        per_choice.append(sse.with_finish(events, finish + end, paced))
    tail = _usage_chunk(gen, choices, common, obfuscation)
    return sse.interleave(per_choice, head, tail + sse.DONE, paced)


def _reasoning_events(
    choice: Said, pool: TextPool, opening: bytes, end: bytes, paced: bool
) -> list[bytes]:
    """The reasoning as `delta.reasoning_content` events, one token each, before the content."""
    separated = pool.escaped_separated(choice.reasoning_start, choice.reasoning)
    start = opening + b'"delta":{"reasoning_content":"'
    return sse.content_events(separated, None, start, b'"}' + _AFTER + end, paced)


_AFTER = b',"logprobs":null,"finish_reason":null}'


def _usage_chunk(
    gen: Generation, choices: Sequence[Said], common: bytes, obfuscation: bytes
) -> bytes:
    if not gen.include_usage:
        return b""
    reasoning = sum(c.reasoning for c in choices)
    usage = chat_usage(gen.prompt_tokens, sum(c.tokens for c in choices) + reasoning, reasoning)
    return b'%s],"usage":%s%s}\n\n' % (common, usage, obfuscation)


def _with_logprobs(
    choice: Choice | Made,
    pool: TextPool,
    sizes: list[int] | None,
    content: bytes,
    end: bytes,
    top: int,
) -> list[bytes]:
    """Content events that carry their tokens' logprobs (slow path: only when asked)."""
    raw = choice.raw_pieces(pool)
    escaped = choice.separated(pool).split(SEP) if raw else []
    runs = [[p] for p in raw] if sizes is None else chunks(raw, sizes)
    texts = escaped if sizes is None else [b"".join(r) for r in chunks(escaped, sizes)]
    return [
        content + text + b'"},"logprobs":%s,"finish_reason":null}' % chat_logprobs(run, top) + end
        for text, run in zip(texts, runs, strict=True)
    ]
