"""The recording proxy's recorder: forward a request to an upstream OpenAI-compatible API, hand
back what comes, and record each exchange (`record/app.py` is the Sanic app around it).

- Pass-through: status, body and the end-to-end headers go back unchanged; an SSE stream is cut
  into events as bytes arrive and each event is written to the client at once (never gathered
  into one write), while its arrival time (µs after the request went upstream) is recorded.
  No read timeout: a slow stream is never cut short (Sanic's response timeout is lifted too).
- An upstream answer is read by its own task, so a client that hangs up does not cut the
  recording short; on shutdown (Ctrl-C, SIGTERM) those tasks are cancelled and what they had
  is recorded as incomplete.
- Nothing is lost: each finished exchange is appended to `OUT.journal` (JSON lines, fsynced)
  right away; on shutdown the journal (plus, with `--append`, the existing corpus) is written to
  `OUT` through a temporary file and a rename, then removed. A journal left by a killed run is
  picked up by the next run with the same `--out` (or `corpus import OUT.journal`).
- Secrets: request headers are never stored, response headers pass an allowlist, credential
  body fields are dropped, and an exchange holding a key-like string is not recorded unless
  `--allow-secrets` (see `corpus/scrub.py`). The client's `Authorization` is forwarded, or
  replaced by `--upstream-key-env`.

The only module that imports an HTTP client (httpx); it knows no web framework.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from sanic_mock.corpus import sse
from sanic_mock.corpus.answers import from_chunks
from sanic_mock.corpus.exchanges import Exchange, final_response, parse_events, stream_finished
from sanic_mock.corpus.journal import Journal, journal_path
from sanic_mock.corpus.scrub import find_secret, kept_headers, request_body
from sanic_mock.endpoints import split_endpoint
from sanic_mock.errors import OpenAIError

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",  # ask for identity: events are cut from the bytes as they arrive
        "content-encoding",
    }
)


class BadGateway(OpenAIError):
    status = 502
    type = "server_error"


def upstream_base(url: str) -> str:
    """The upstream's base URL as an SDK takes it (`…/v1`); a bare origin gets `/v1`."""
    url = url.rstrip("/")
    return url if urlsplit(url).path else url + "/v1"


def response_headers(response: httpx.Response) -> tuple[list[tuple[str, str]], str | None]:
    """The upstream answer's end-to-end headers but `content-type`, and its content type."""
    pairs = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
    ctype = response.headers.get("content-type")
    return [(k, v) for k, v in pairs if k.lower() != "content-type"], ctype


@dataclass
class Capture:
    """One exchange while it is under way."""

    endpoint: str
    method: str
    request: Any
    sent: float = field(default_factory=time.monotonic)
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    data: bytes = b""
    events: list[str] | None = None
    times: list[int] = field(default_factory=list)
    done_us: int = 0
    finished: bool = False  # the whole answer arrived

    def exchange(self, complete: bool) -> Exchange:
        body, text, model, usage = None, None, None, None
        if self.events is not None:
            chunks = parse_events(self.events)
            final = final_response(chunks)  # a Responses API stream's last event
            if final is not None:
                model, usage = final.get("model"), final.get("usage")
                model = model if isinstance(model, str) else None
            else:
                answer = from_chunks(chunks)
                model, usage = answer.model, answer.usage
            complete = complete and stream_finished(self.events)
        elif self.data:
            try:
                body = orjson.loads(self.data)
            except orjson.JSONDecodeError:
                text = self.data.decode("utf-8", errors="replace")
            if isinstance(body, dict):
                model = body.get("model") if isinstance(body.get("model"), str) else None
                usage = body.get("usage")
        if model is None and isinstance(self.request, dict):
            named = self.request.get("model")
            model = named if isinstance(named, str) else None
        return Exchange(
            endpoint=self.endpoint,
            status=self.status or 502,
            request=self.request,
            method=self.method,
            headers=self.headers,
            body=body,
            text=text,
            events=None if self.events is None else tuple(self.events),
            times_us=tuple(self.times),
            duration_us=self.done_us,
            complete=complete,
            model=model,
            usage=usage,
        )


class Recorder:
    """Sends requests upstream, reads the answers in their own tasks and journals them."""

    def __init__(
        self,
        upstream: str,
        key: str | None,
        out: Path,
        allow_secrets: bool,
        log: Callable[[str], None] | None = None,
        on_recorded: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.base = upstream_base(upstream)
        self.key = key
        self.allow_secrets = allow_secrets
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=30.0))
        self.journal = Journal(journal_path(out))
        self.tasks: set[asyncio.Task[None]] = set()
        self.recorded = 0
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.on_recorded = on_recorded

    def headers_out(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        out = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        if self.key is not None:
            out = [(k, v) for k, v in out if k.lower() not in ("authorization", "api-key")]
            out.append(("authorization", f"Bearer {self.key}"))
        return out

    async def open(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[Capture, httpx.Response]:
        endpoint, rest = split_endpoint(path)
        cap = Capture(endpoint, method, request_body(body))
        url = self.base + rest + (f"?{query}" if query else "")
        request = self.client.build_request(method, url, headers=headers, content=body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BadGateway(
                f"The upstream API could not be reached ({type(exc).__name__}: {exc}).",
                code="upstream_unreachable",
            ) from None
        cap.status = response.status_code
        cap.headers = kept_headers(response.headers.multi_items())
        return cap, response

    def start(
        self, cap: Capture, response: httpx.Response, sink: asyncio.Queue[bytes | None] | None
    ) -> asyncio.Task[None]:
        """Read the answer in its own task; stream events also go to `sink` as they arrive."""
        task = asyncio.get_running_loop().create_task(self._consume(cap, response, sink))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _consume(
        self, cap: Capture, response: httpx.Response, sink: asyncio.Queue[bytes | None] | None
    ) -> None:
        try:
            if "text/event-stream" in response.headers.get("content-type", ""):
                cap.events = []
                async for raw in self._events(cap, response):
                    if sink is not None:
                        sink.put_nowait(raw)
            else:
                cap.data = await response.aread()
            cap.done_us = int((time.monotonic() - cap.sent) * 1e6)
            cap.finished = True
        except httpx.HTTPError as exc:
            self.log(f"record: upstream failed mid-answer ({type(exc).__name__}: {exc})")
        finally:
            if sink is not None:
                sink.put_nowait(None)
            self._journal(cap.exchange(cap.finished))
            await response.aclose()

    async def _events(self, cap: Capture, response: httpx.Response) -> AsyncIterator[bytes]:
        assert cap.events is not None
        buf = bytearray()
        async for chunk in response.aiter_bytes():
            buf += chunk
            while (end := sse.event_end(buf)) >= 0:
                raw = bytes(buf[:end])
                del buf[:end]
                self._note(cap, raw)
                yield raw
        if buf.strip():
            self._note(cap, bytes(buf))
            yield bytes(buf)

    @staticmethod
    def _note(cap: Capture, raw: bytes) -> None:
        assert cap.events is not None
        data = sse.event_data(raw)
        if data is not None:
            now = int((time.monotonic() - cap.sent) * 1e6)
            cap.events.append(data)
            cap.times.append(max(now, cap.times[-1] if cap.times else 0))
            cap.done_us = now

    def _journal(self, ex: Exchange) -> None:
        where = None if self.allow_secrets else find_secret(ex)
        if where is not None:
            self.log(
                f"record: NOT recorded: {ex.describe()} holds a key-like string in its {where} "
                "(--allow-secrets keeps it)"
            )
            return
        self.journal.append(ex)
        self.recorded += 1
        if self.on_recorded is not None:
            self.on_recorded(ex)
        state = "" if ex.complete else " (incomplete)"
        self.log(f"record: #{self.recorded} {ex.describe()} -> {ex.status}{state}")

    async def stop(self) -> None:
        """Cancel answers still under way (they are recorded as incomplete), close the client."""
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=10)
        await self.client.aclose()
        self.journal.close()
