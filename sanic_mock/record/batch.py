"""`mock-openai record --requests FILE.jsonl`: send a list of requests upstream, with a bounded
number in flight and a progress bar on stderr, and record the answers like the proxy does
(same `Recorder`, same journal, same corpus writing).

Each line of the file is a request body (the endpoint is told by its fields: `messages` ->
chat, `input` -> embeddings, else completions) or `{"endpoint": …, "method": …, "body": {…}}`.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import orjson

from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.journal import finish_corpus
from sanic_mock.endpoints import endpoint_for_body, split_endpoint
from sanic_mock.record.proxy import BadGateway, Recorder


def _batch_item(number: int, doc: Any) -> tuple[str, str, bytes]:
    """(method, endpoint, body) of one `--requests` line: a request body, or
    `{"endpoint": …, "method": …, "body": {…}}`."""
    if not isinstance(doc, dict):
        raise CorpusError(f"--requests line {number}: not a JSON object")
    if isinstance(doc.get("body"), dict):
        body = doc["body"]
        endpoint = doc.get("endpoint") or doc.get("url")
        method = str(doc.get("method", "POST")).upper()
    else:
        body, endpoint, method = doc, None, "POST"
    if not isinstance(endpoint, str):
        endpoint = endpoint_for_body(body)
    return method, split_endpoint(endpoint)[0], orjson.dumps(body)


def _progress(done: int, total: int, failed: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "." * (width - filled)
    tail = f", {failed} failed" if failed else ""
    end = "\n" if done == total else ""
    print(f"\rrecord: [{bar}] {done}/{total}{tail}", end=end, file=sys.stderr, flush=True)


async def _run_batch(rec: Recorder, items: list[tuple[str, str, bytes]], concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)
    done = failed = 0
    headers = rec.headers_out([("content-type", "application/json")])

    async def one(method: str, endpoint: str, body: bytes) -> None:
        nonlocal done, failed
        async with gate:
            try:
                cap, response = await rec.open(method, endpoint, "", headers, body)
                await rec.start(cap, response, None)
                failed += not (cap.finished and 200 <= cap.status < 300)
            except BadGateway as exc:
                rec.log(f"\nrecord: {endpoint}: {exc.message}")
                failed += 1
            done += 1
            _progress(done, len(items), failed)

    _progress(0, len(items), 0)
    try:
        await asyncio.gather(*(one(*item) for item in items))
    finally:
        await rec.stop()
    return failed


def run_batch(
    upstream: str,
    key: str | None,
    requests: Path,
    out: Path,
    append: bool,
    allow_secrets: bool,
    concurrency: int,
) -> tuple[int, int]:
    """Send every request of a JSONL file upstream and record the answers; Ctrl-C or SIGTERM
    stops early and still writes what was recorded. Returns (exchanges in `out`, failures)."""
    items = []
    for number, line in enumerate(requests.read_bytes().splitlines(), 1):
        if line.strip():
            try:
                items.append(_batch_item(number, orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                raise CorpusError(f"--requests line {number}: {exc}") from None
    failed = 0

    async def main() -> int:
        rec = Recorder(upstream, key, out, allow_secrets, log=lambda m: None)
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await _run_batch(rec, items, concurrency)

    try:
        failed = asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\nrecord: stopped; writing what was recorded", file=sys.stderr)
    return finish_corpus(out, append, allow_secrets, "mock-openai record"), failed
