"""`POST /v1/completions` (legacy) response bytes: the `text_completion` body and stream frames.

The legacy endpoint streams the same object as it returns (`text_completion`), with no role
chunk; mid-stream chunks carry `finish_reason: null` as the real API does (the spec is stricter
than the API here), the last one the reason. Choices are `len(prompts) * n`, ordered prompt by
prompt; `echo` puts the prompt before the generated text.
"""

from __future__ import annotations

from sanic_mock.corpus.pool import SEP, TextPool
from sanic_mock.wire import sse
from sanic_mock.wire.chat import Meta
from sanic_mock.wire.logprobs import completion_logprobs
from sanic_mock.wire.plan import Choice
from sanic_mock.wire.requests import CompletionRequest
from sanic_mock.wire.sse import chunks
from sanic_mock.wire.usage import completion_usage


def _echo(req: CompletionRequest, index: int) -> bytes:
    return req.echo[index // req.gen.n] if req.echo else b""


def body(meta: Meta, req: CompletionRequest, choices: list[Choice], pool: TextPool) -> bytes:
    parts = [
        b'{"id":"%s","object":"text_completion","created":%d,"model":%s,"choices":['
        % (meta.id, meta.created, meta.model_json)
    ]
    for i, choice in enumerate(choices):
        if i:
            parts.append(b",")
        logprobs = (
            completion_logprobs(choice.raw_pieces(pool), req.logprobs, 0)
            if req.logprobs is not None
            else b"null"
        )
        parts.append(
            b'{"text":"%s%s","index":%d,"logprobs":%s,"finish_reason":"%s"}'
            % (_echo(req, i), choice.escaped(pool), i, logprobs, choice.finish_reason.encode())
        )
    parts.append(
        b'],"usage":%s,"system_fingerprint":"%s"}'
        % (
            completion_usage(req.gen.prompt_tokens, sum(c.tokens for c in choices)),
            meta.fingerprint,
        )
    )
    return b"".join(parts)


def stream(
    meta: Meta,
    req: CompletionRequest,
    choices: list[Choice],
    pool: TextPool,
    groups: list[list[int] | None],
    paced: bool,
) -> list[bytes]:
    gen = req.gen
    opening = b'data: {"id":"%s","object":"text_completion","created":%d,"choices":[' % (
        meta.id,
        meta.created,
    )
    # Unlike chat chunks, legacy chunks carry no `usage: null` (the spec's usage is not nullable).
    end = b'],"model":%s,"system_fingerprint":"%s"}\n\n' % (
        meta.model_json,
        meta.fingerprint,
    )
    per_choice: list[list[bytes]] = []
    for i, choice in enumerate(choices):
        content = opening + b'{"text":"'
        closing = b'","index":%d,"logprobs":null,"finish_reason":null}' % i + end
        if req.logprobs is not None:
            raw = choice.raw_pieces(pool)
            sizes = groups[i] or [1] * len(raw)
            escaped = choice.separated(pool).split(SEP) if raw else []
            events = [
                content
                + b"".join(text)
                + b'","index":%d,"logprobs":%s,"finish_reason":null}'
                % (i, completion_logprobs(run, req.logprobs, 0))
                + end
                for text, run in zip(chunks(escaped, sizes), chunks(raw, sizes), strict=True)
            ]
        else:
            events = sse.content_events(choice.separated(pool), groups[i], content, closing, paced)
        echo = _echo(req, i)
        if echo and events:  # the prompt goes out with the first event
            events[0] = events[0].replace(content, content + echo, 1)
        finish = (
            opening
            + b'{"text":"%s","index":%d,"logprobs":null,"finish_reason":"%s"}'
            % (b"" if events else echo, i, choice.finish_reason.encode())
            + end
        )
        per_choice.append(sse.with_finish(events, finish, paced))
    tail = b""
    if gen.include_usage:
        tail = b'%s],"model":%s,"system_fingerprint":"%s","usage":%s}\n\n' % (
            opening,
            meta.model_json,
            meta.fingerprint,
            completion_usage(gen.prompt_tokens, sum(c.tokens for c in choices)),
        )
    return sse.interleave(per_choice, b"", tail + sse.DONE, paced)
