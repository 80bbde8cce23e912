"""The recording proxy's Sanic app: `mock-openai record`, and `serve --on-miss proxy`.

Every request is forwarded upstream by the `Recorder` (`record/proxy.py`) and its answer passed
back as it arrives: status, body and end-to-end headers unchanged, an SSE stream event by event.
With `serve --corpus FILE --on-miss proxy` the recorded corpus answers first, through the same
`Service` as `serve` (replies sent by `serve/sanic_app.respond`), and only what it does not
match goes upstream and is recorded into FILE, which then answers repeats.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from sanic import Request, Sanic
from sanic.compat import Header
from sanic.response import HTTPResponse

from sanic_mock.core.replayed import ReplayAPI
from sanic_mock.core.reply import Unanswered
from sanic_mock.core.service import HEALTHY, Service
from sanic_mock.corpus import io
from sanic_mock.corpus.journal import finish_corpus, journal_path, read_journal
from sanic_mock.endpoints import HEALTH, REPLAYABLE, split_endpoint, stored_response
from sanic_mock.record.proxy import BadGateway, Recorder, response_headers, upstream_base
from sanic_mock.sampling import fresh_seed
from sanic_mock.serve.sanic_app import Answer, arrival, respond, sanic_app
from sanic_mock.settings import Settings, TokenCount
from sanic_mock.tokens import PromptCounter


async def forward(
    rec: Recorder, request: Request, path: str, body: bytes | None = None
) -> HTTPResponse | None:
    """Send `request` (with `body` in place of its own, if given) upstream, its answer back."""
    cap, upstream = await rec.open(
        request.method,
        path,
        request.query_string,
        rec.headers_out(request.headers.items()),
        (request.body or b"") if body is None else body,
    )
    pairs, ctype = response_headers(upstream)
    headers = Header(pairs)
    if "text/event-stream" not in (ctype or ""):
        task = rec.start(cap, upstream, None)
        await asyncio.shield(task)  # a client hanging up does not stop the recording
        if not cap.finished:
            raise BadGateway("The upstream API broke off its answer.", code="upstream_failed")
        return HTTPResponse(cap.data, status=cap.status, headers=headers, content_type=ctype)
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    rec.start(cap, upstream, queue)
    response = await request.respond(status=cap.status, headers=headers, content_type=ctype)
    while (raw := await queue.get()) is not None:
        await response.send(raw)
    await response.eof()
    return None


def create_record_app(settings: Settings, name: str = "mock_openai") -> Sanic[Any, Any]:
    """The proxy app for `record` (and for `serve --on-miss proxy`, with replay first)."""
    rec, corpus = settings.record, settings.generation.corpus
    upstream = rec.upstream
    assert upstream is not None
    out = rec.out or corpus
    assert out is not None
    append = rec.append or rec.out is None
    replay: ReplayAPI | None = None
    service: Service | None = None
    if rec.out is None and corpus is not None:
        recorded = io.read(corpus, settings.allow_secrets)
        models, seed = settings.server.models, fresh_seed(settings.generation.seed)
        count = PromptCounter(settings.generation.token_count is TokenCount.EXACT)
        size = settings.server.response_store_size
        replay = ReplayAPI(recorded, settings.replay, models, seed, count=count, store_size=size)
        # The recording proxy never asked for --api-key on replayed answers; it still does not.
        service = Service(replay, None, forward=True)
    app = sanic_app(settings, name, configure_logging=True)
    app.config.RESPONSE_TIMEOUT = 7 * 24 * 3600  # never cut a slow upstream short
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 5.0
    state: dict[str, Recorder] = {}

    @app.before_server_start
    async def open_recorder(app: Sanic[Any, Any]) -> None:
        journal = journal_path(out)
        if journal.exists():
            left = len(read_journal(journal))
            print(f"record: continuing {journal} ({left} exchanges)", file=sys.stderr)
        state["rec"] = Recorder(
            upstream,
            rec.upstream_key,
            out,
            settings.allow_secrets,
            # --on-miss proxy: what was just recorded answers the next identical request
            on_recorded=None if replay is None else replay.index.add,
        )
        print(
            f"record: forwarding to {upstream_base(upstream)}, recording into "
            f"{out}{' (appending)' if append else ''}",
            file=sys.stderr,
            flush=True,
        )

    @app.before_server_stop
    async def stop_recorder(app: Sanic[Any, Any]) -> None:
        await state["rec"].stop()

    @app.after_server_stop
    async def write_corpus(app: Sanic[Any, Any]) -> None:
        count = finish_corpus(out, append, settings.allow_secrets, "mock-openai record")
        what = f"wrote {out} ({count} exchanges)" if count else "nothing recorded"
        print(f"record: {what}", file=sys.stderr, flush=True)

    @app.route(HEALTH.path, methods=list(HEALTH.methods))
    async def health(request: Request) -> HTTPResponse:
        return Answer(HEALTHY)

    async def proxy(request: Request, path: str = "") -> HTTPResponse | None:
        named = split_endpoint("/" + path)[0]
        endpoint = REPLAYABLE.get(named)
        body = request.body or b""
        if service is None or replay is None:
            return await forward(state["rec"], request, "/" + path)
        stored = stored_response(request.method, named)
        if stored is not None and stored[1] in replay.store:  # a response the replay gave
            answer = service.answer(
                stored[0], None, b"", arrival(request), stored[1], request.query_string
            )
            sent = respond(request, answer)
            return sent if isinstance(sent, HTTPResponse) else await sent
        if request.method == "POST" and endpoint is not None:
            try:
                answer = service.answer(endpoint, None, body, arrival(request))
            except Unanswered:
                # a chained turn goes upstream naming the recorded turn, not the fresh id
                body = replay.upstream_body(body)
            else:
                sent = respond(request, answer)
                return sent if isinstance(sent, HTTPResponse) else await sent
        return await forward(state["rec"], request, "/" + path, body)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app.add_route(proxy, "/", methods=methods, name="proxy_root")
    app.add_route(proxy, "/<path:path>", methods=methods, name="proxy")
    return app
