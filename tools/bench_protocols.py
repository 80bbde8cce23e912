"""Throughput of every protocol and engine, measured one way: `python tools/bench_protocols.py`.

Each configuration is started as a real `mock-openai serve` (one worker) on 127.0.0.1; the load
comes from h2load (HTTP/1.1 and HTTP/2; `apt install nghttp2-client`) or, for HTTP/3, from
curl_cffi with HTTP/3 only (h2load has no QUIC here). With `taskset` available the server is
pinned to CPU 0 and the client to CPU 1, so a figure is "requests per second on one server core".
Each cell is the median of `--runs` timed runs of `--duration` seconds after a 1 s warm-up;
nothing runs longer than that, and the whole table takes a few minutes.

Workloads: `models` (GET /v1/models, 700 B of JSON), `chat` (POST /v1/chat/completions,
max_tokens 64) and `stream` (the same with `stream: true`: 66 SSE events, no pacing delay).
Prints a Markdown table (paste it into HTTP2.md) and, with `--json FILE`, the raw runs.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}
WORKLOADS: dict[str, tuple[str, dict[str, object] | None]] = {
    "models": ("/v1/models", None),
    "chat": ("/v1/chat/completions", {**CHAT, "max_tokens": 64}),
    "stream": ("/v1/chat/completions", {**CHAT, "max_tokens": 64, "stream": True}),
}
# name -> (serve arguments beyond the port, scheme, client protocol)
ROWS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "HTTP/1.1, Sanic (baseline)": ((), "http", "h1"),
    "HTTPS/1.1, Sanic (--no-http2)": (("TLS", "--no-http2"), "https", "h1"),
    "HTTPS/1.1, hypercorn": (("TLS",), "https", "h1"),
    "HTTP/2 over TLS, hypercorn": (("TLS",), "https", "h2"),
    "h2c, hypercorn (--http2)": (("--http2",), "http", "h2"),
    "HTTP/3, hypercorn + aioquic": (("TLS",), "https", "h3"),
    "HTTPS/1.1, granian": (("TLS", "--http2-engine", "granian"), "https", "h1"),
    "HTTP/2 over TLS, granian": (("TLS", "--http2-engine", "granian"), "https", "h2"),
    "h2c, granian": (("--http2", "--http2-engine", "granian"), "http", "h2"),
}


def pinned(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    args: tuple[str, ...], scheme: str, tls: tuple[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [
        a
        for arg in args
        for a in (("--tls-cert", tls[0], "--tls-key", tls[1]) if arg == "TLS" else (arg,))
    ]
    cmd = [*pinned(0), sys.executable, "-m", "sanic_mock", "serve", "--port", str(port), *argv]
    # The server's log goes to a file: a pipe nobody reads fills up (a client cut off at the end
    # of a timed run makes Sanic log) and then blocks the server in the middle of the table.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    url = f"{scheme}://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read().decode(errors='replace')}")
        try:
            if httpx.get(url + "/health", verify=False, timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def h2load(url: str, proto: str, body: Path | None, duration: float) -> tuple[float, int]:
    """(requests per second, failed + errored requests) for one timed run. h2load 1.52 now and
    then hangs or dies without its summary when it stops its clients at the end of `-D`; such a
    run is retried (twice), and reported on stderr."""
    shape = ["--h1", "-c", "32", "-m", "1"] if proto == "h1" else ["-c", "4", "-m", "32"]
    data = ["-d", str(body), "-H", "content-type: application/json"] if body else []
    cmd = [*pinned(1), "h2load", *shape, *data, "-t", "1", "--warm-up-time", "1",
           "-D", f"{duration:g}", "-N", "5s", url]  # fmt: skip
    for _ in range(3):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
        except subprocess.TimeoutExpired:
            out = ""
        rate = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
        bad = re.search(r"(\d+) failed, (\d+) errored", out)
        if rate is not None and bad is not None:
            return float(rate.group(1)), int(bad.group(1)) + int(bad.group(2))
        print(f"h2load gave no summary, run again: {' '.join(cmd)}", file=sys.stderr)
    return float("nan"), 0


def h3load(
    url: str, body: bytes | None, duration: float, concurrency: int = 32
) -> tuple[float, int]:
    """HTTP/3 with curl_cffi: `concurrency` requests in flight on one QUIC connection."""
    from curl_cffi.const import CurlHttpVersion
    from curl_cffi.requests import AsyncSession

    if shutil.which("taskset"):
        os.sched_setaffinity(0, {1})

    async def run() -> tuple[float, int]:
        headers = {"content-type": "application/json"} if body else {}
        method = "POST" if body else "GET"
        async with AsyncSession(
            verify=False, http_version=CurlHttpVersion.V3ONLY, max_clients=concurrency
        ) as s:
            done = bad = 0
            measuring = False

            async def worker(until: float) -> None:
                nonlocal done, bad
                while time.monotonic() < until:
                    r = await s.request(method, url, data=body, headers=headers)
                    ok = r.status_code == 200 and r.http_version == 30
                    if measuring:
                        done, bad = done + ok, bad + (not ok)

            warm = time.monotonic() + 1
            await asyncio.gather(*(worker(warm) for _ in range(concurrency)))
            measuring, started = True, time.monotonic()
            await asyncio.gather(*(worker(started + duration) for _ in range(concurrency)))
            return done / (time.monotonic() - started), bad

    try:
        return asyncio.run(run())
    finally:
        if shutil.which("taskset"):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per timed run (≤10)")
    parser.add_argument("--only", default="", help="substring of the row names to run")
    parser.add_argument("--json", type=Path, help="also write the raw runs here")
    opts = parser.parse_args()
    if not shutil.which("h2load"):
        sys.exit("h2load is missing: apt-get install -y nghttp2-client")
    duration = min(opts.duration, 10.0)
    raw: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        from sanic_mock.run import certs

        cert, key = certs.write(Path(tmp))
        bodies = {}
        for name, (_, payload) in WORKLOADS.items():
            if payload is not None:
                bodies[name] = Path(tmp, name + ".json")
                bodies[name].write_bytes(orjson.dumps(payload))
        print("| protocol, server | " + " | ".join(f"{w} req/s" for w in WORKLOADS) + " | errors |")
        print("|---|" + "---:|" * (len(WORKLOADS) + 1))
        for row, (args, scheme, proto) in ROWS.items():
            if opts.only not in row:
                continue
            if "granian" in row and importlib.util.find_spec("granian") is None:
                print(
                    f"| {row} | "
                    + " | ".join("n/a" for _ in WORKLOADS)
                    + " | granian not installed |"
                )
                continue
            proc, url = start(args, scheme, (str(cert), str(key)))
            errors, cells = 0, []
            try:
                for name, (path, _) in WORKLOADS.items():
                    rates = []
                    for _ in range(opts.runs):
                        if proto == "h3":
                            body = bodies[name].read_bytes() if name in bodies else None
                            rate, bad = h3load(url + path, body, duration)
                        else:
                            rate, bad = h2load(url + path, proto, bodies.get(name), duration)
                        rates.append(rate)
                        errors += bad
                    raw.setdefault(row, {})[name] = rates
                    done = [r for r in rates if r == r] or [float("nan")]  # drop timed-out runs
                    cells.append(f"{statistics.median(done):,.0f}")
            finally:
                stop(proc)
            print(f"| {row} | " + " | ".join(cells) + f" | {errors} |", flush=True)
    if opts.json:
        opts.json.write_bytes(orjson.dumps(raw, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
