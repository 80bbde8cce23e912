"""`POST /v1/chat/completions` response bytes: the `chat.completion` body and the stream frames.

Bodies are byte templates filled with pre-escaped text (see `corpus/pool.py`); they produce the
same JSON as `orjson.dumps` of the equivalent dict (a unit test checks it), in the field order of
the real API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sanic_mock.corpus.pool import TextPool
from sanic_mock.generation import Choice
from sanic_mock.wire import sse
from sanic_mock.wire.logprobs import chat_logprobs
from sanic_mock.wire.requests import ChatRequest
from sanic_mock.wire.sse import chunks, group
from sanic_mock.wire.usage import chat_usage


@dataclass(frozen=True, slots=True)
class Meta:
    """What identifies one response: id, creation time, echoed model (JSON), fingerprint."""

    id: str
    created: int
    model_json: bytes
    fingerprint: str


def body(meta: Meta, req: ChatRequest, choices: list[Choice], pool: TextPool) -> bytes:
    parts = [
        b'{"id":"%s","object":"chat.completion","created":%d,"model":%s,"choices":['
        % (meta.id.encode(), meta.created, meta.model_json)
    ]
    for i, choice in enumerate(choices):
        if i:
            parts.append(b",")
        logprobs = (
            chat_logprobs(choice.raw_pieces(pool), req.top_logprobs) if req.logprobs else b"null"
        )
        parts.append(
            b'{"index":%d,"message":{"role":"assistant","content":"%s","refusal":null,'
            b'"annotations":[]},"logprobs":%s,"finish_reason":"%s"}'
            % (i, choice.escaped(pool), logprobs, choice.finish_reason.encode())
        )
    completion_tokens = sum(c.tokens for c in choices)
    parts.append(
        b'],"usage":%s,"service_tier":"default","system_fingerprint":"%s"}'
        % (chat_usage(req.gen.prompt_tokens, completion_tokens), meta.fingerprint.encode())
    )
    return b"".join(parts)


def stream(
    meta: Meta,
    req: ChatRequest,
    choices: list[Choice],
    pool: TextPool,
    groups: list[list[int]],
) -> list[bytes]:
    """SSE frames: role chunks and the first tokens in frame 0, one token group per frame after,
    each choice's finish chunk with its last tokens, then the usage chunk (when asked) and
    `[DONE]`. `groups[i]` gives the token counts per event for choice `i`."""
    gen = req.gen
    usage_null = b',"usage":null' if gen.include_usage else b""
    obf = gen.include_obfuscation
    common = (
        b'data: {"id":"%s","object":"chat.completion.chunk","created":%d,"model":%s,'
        b'"service_tier":"default","system_fingerprint":"%s","choices":['
        % (meta.id.encode(), meta.created, meta.model_json, meta.fingerprint.encode())
    )
    # Closing bytes of a content event, one per obfuscation length (chosen by piece size).
    content_tails = [
        b'"},"logprobs":null,"finish_reason":null}]%s%s}\n\n'
        % (usage_null, sse.obfuscation_field(k) if obf else b"")
        for k in range(16)
    ]
    head = b""
    per_choice: list[list[bytes]] = []
    for i, choice in enumerate(choices):
        opening = common + b'{"index":%d,' % i
        head += (
            opening + b'"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,'
            b'"finish_reason":null}]%s%s}\n\n'
            % (usage_null, sse.obfuscation_field(0) if obf else b"")
        )
        content = opening + b'"delta":{"content":"'
        pieces = choice.escaped_pieces(pool)
        events = group(pieces, groups[i])
        if req.logprobs:
            raw = chunks(choice.raw_pieces(pool), groups[i])
            steps = [
                content
                + text
                + b'"},"logprobs":%s,"finish_reason":null}]%s%s}\n\n'
                % (
                    chat_logprobs(r, req.top_logprobs),
                    usage_null,
                    sse.obfuscation_field(len(text)) if obf else b"",
                )
                for text, r in zip(events, raw, strict=True)
            ]
        else:
            steps = [content + text + content_tails[len(text) & 15] for text in events]
        finish = opening + b'"delta":{},"logprobs":null,"finish_reason":"%s"}]%s%s}\n\n' % (
            choice.finish_reason.encode(),
            usage_null,
            sse.obfuscation_field(15) if obf else b"",
        )
        if steps:
            steps[-1] += finish
        else:
            steps = [finish]
        per_choice.append(steps)
    tail = b""
    if gen.include_usage:
        tail = b'%s],"usage":%s%s}\n\n' % (
            common,
            chat_usage(gen.prompt_tokens, sum(c.tokens for c in choices)),
            sse.obfuscation_field(15) if obf else b"",
        )
    return sse.interleave(per_choice, head, tail + sse.DONE)
