"""Baseline: a bare Sanic app returning canned bytes, to compare mock-openai against.

    python tools/bench/bare_sanic.py PORT CANNED_DIR [GAP_MS]

Serves `GET /health`, and for POST `/v1/chat/completions` the canned file chosen by the
request's `"stream"` flag: `json.bin` (a real mock response body) or `sse.bin` (a real mock
stream, written at once). With GAP_MS the stream is paced the plain way instead: one
`asyncio.sleep` and one `send()` per event, deadlines on the monotonic clock.
`POST /sse-sends` writes the stream one `send()` per event, unpaced.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sanic import Request, Sanic
from sanic.response import HTTPResponse

port, canned = int(sys.argv[1]), Path(sys.argv[2])
GAP = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.0
JSON_BODY = (canned / "json.bin").read_bytes()
SSE_BODY = (canned / "sse.bin").read_bytes()
EVENTS = [e + b"\n\n" for e in SSE_BODY.split(b"\n\n")[:-1]]

app = Sanic("bare", env_prefix=None)


@app.get("/health")
async def health(request: Request) -> HTTPResponse:
    return HTTPResponse(b'{"status":"ok"}', content_type="application/json")


@app.post("/v1/chat/completions")
async def chat(request: Request) -> HTTPResponse | None:
    if b'"stream": true' not in request.body and b'"stream":true' not in request.body:
        return HTTPResponse(JSON_BODY, content_type="application/json")
    if not GAP:
        return HTTPResponse(SSE_BODY, content_type="text/event-stream; charset=utf-8")
    loop = asyncio.get_running_loop()
    due = loop.time() + GAP
    await asyncio.sleep(GAP)
    response = await request.respond(content_type="text/event-stream; charset=utf-8")
    for event in EVENTS:
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        await response.send(event)
        due += GAP
    await response.eof()
    return None


@app.post("/sse-sends")
async def sse_sends(request: Request) -> None:
    response = await request.respond(content_type="text/event-stream; charset=utf-8")
    for event in EVENTS:
        await response.send(event)
    await response.eof()


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)
