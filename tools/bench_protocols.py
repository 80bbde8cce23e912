"""Throughput of every protocol and engine, measured one way: `python tools/bench_protocols.py`.

Each configuration is started as a real `mock-openai serve` (one worker) on 127.0.0.1; the load
comes from h2load (HTTP/1.1 and HTTP/2; `apt install nghttp2-client`) or, for HTTP/3, from
curl_cffi with HTTP/3 only (h2load has no QUIC here). With `taskset` available the server is
pinned to CPU 0 and the client to CPU 1, so a figure is "requests per second on one server core".
Each cell is the median of `--runs` timed runs of `--duration` seconds after a 1 s warm-up;
nothing runs longer than that, and the whole table takes a few minutes.

Workloads: `chat` (POST /v1/chat/completions, max_tokens 256), `stream` (the same with
`stream: true`: 258 SSE events, no pacing delay) and `health` (GET /health). Shapes: `m1` is 64
connections with one stream (or HTTP/1.1 request) in flight each (`h2load -c 64 -m 1`), `m100`
is 4 HTTP/2 connections with 100 streams each (`-c 4 -m 100`; HTTP/1.1 rows repeat m1). With
nginx installed, a last row serves the mock's own answers as canned bytes over h2c (`nginx`,
one worker process, pinned like the server) as the ceiling of the client and the machine.
Prints a Markdown table (paste it into HTTP2.md) with each cell's ratio to our HTTP/1.1 and, with
`--json FILE`, the raw runs.
"""

from __future__ import annotations

import argparse
import asyncio
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
    "chat": ("/v1/chat/completions", {**CHAT, "max_tokens": 256}),
    "stream": ("/v1/chat/completions", {**CHAT, "max_tokens": 256, "stream": True}),
    "health": ("/health", None),
}
SHAPES = {"m1": ["-c", "64", "-m", "1"], "m100": ["-c", "4", "-m", "100"]}
# name -> (serve arguments beyond the port, scheme, client protocol)
ROWS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "HTTP/1.1, Sanic (baseline)": ((), "http", "h1"),
    # TLS costs every protocol the same encryption on the one server core: this row is what
    # the HTTP/2-over-TLS rows compare with, HTTP/1.1 on the same TLS 1.3 (h2load --h1, ALPN)
    "HTTP/1.1 over TLS, Sanic (--no-http2)": (("TLS", "--no-http2"), "https", "h1"),
    "h2c, granian (--http2, default)": (("--http2",), "http", "h2"),
    "HTTP/2 over TLS, granian (default)": (("TLS",), "https", "h2"),
    "h2c, hypercorn": (("--http2", "--http2-engine", "hypercorn"), "http", "h2"),
    "HTTP/2 over TLS, hypercorn": (("TLS", "--http2-engine", "hypercorn"), "https", "h2"),
    "HTTP/3, hypercorn + aioquic (--http3)": (("TLS", "--http3"), "https", "h3"),
}
NGINX_ROW = "h2c, nginx serving canned bytes"
NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    http2_max_concurrent_streams 1000;
    server {{
        listen 127.0.0.1:{port} http2;
        root {dir}/canned;
        # a POST to a static file is a 405: answered with the file instead
        error_page 405 =200 $uri;
        location = /health {{ default_type application/json; }}
        location = /chat {{ default_type application/json; }}
        location = /stream {{ default_type text/event-stream; }}
    }}
}}
"""


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


def h2load(
    url: str, proto: str, shape: str, body: Path | None, duration: float
) -> tuple[float, int]:
    """(requests per second, failed + errored requests) for one timed run. h2load 1.52 now and
    then hangs or dies without its summary when it stops its clients at the end of `-D`; such a
    run is retried (twice), and reported on stderr."""
    flags = ["--h1", "-c", "64", "-m", "1"] if proto == "h1" else SHAPES[shape]
    data = ["-d", str(body), "-H", "content-type: application/json"] if body else []
    cmd = [*pinned(1), "h2load", *flags, *data, "-t", "1", "--warm-up-time", "1",
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


def start_nginx(tmp: Path, canned: dict[str, bytes]) -> tuple[subprocess.Popen[bytes], str]:
    """nginx on h2c serving `canned` (path -> bytes), or an OSError if it cannot start."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    root = tmp / "nginx"
    (root / "canned").mkdir(parents=True, exist_ok=True)
    for path, data in canned.items():
        (root / "canned" / path.lstrip("/")).write_bytes(data)
    for folder in (tmp, root, root / "canned"):  # nginx's workers may run as another user
        folder.chmod(0o755)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=root, port=port))
    proc = subprocess.Popen(
        [*pinned(0), nginx, "-c", str(conf), "-p", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            with httpx.Client(http1=False, http2=True) as c:
                if c.get(url + "/health", timeout=1).status_code == 200:
                    return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise OSError("nginx did not start")


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


def measure(
    url: str, proto: str, paths: dict[str, str], bodies: dict[str, Path], opts: argparse.Namespace
) -> tuple[dict[str, float], int, dict[str, list[float]]]:
    """The median req/s per (workload, shape) cell of one server, its errors and raw runs."""
    cells: dict[str, float] = {}
    raw: dict[str, list[float]] = {}
    errors = 0
    for shape in SHAPES:
        for name in WORKLOADS:
            rates = []
            for _ in range(opts.runs):
                if proto == "h3":
                    body = bodies[name].read_bytes() if name in bodies else None
                    rate, bad = h3load(url + paths[name], body, opts.duration, SHAPE_H3[shape])
                elif proto == "h1" and shape != "m1":
                    rate, bad = cells[f"{name} m1"], 0  # HTTP/1.1 has one stream per connection
                else:
                    rate, bad = h2load(
                        url + paths[name], proto, shape, bodies.get(name), opts.duration
                    )
                rates.append(rate)
                errors += bad
            done = [r for r in rates if r == r] or [float("nan")]  # drop timed-out runs
            cells[f"{name} {shape}"] = statistics.median(done)
            raw[f"{name} {shape}"] = rates
    return cells, errors, raw


SHAPE_H3 = {"m1": 64, "m100": 100}  # curl_cffi: requests in flight on one QUIC connection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per timed run (≤10)")
    parser.add_argument("--only", default="", help="substring of the row names to run")
    parser.add_argument("--json", type=Path, help="also write the raw runs here")
    opts = parser.parse_args()
    if not shutil.which("h2load"):
        sys.exit("h2load is missing: apt-get install -y nghttp2-client")
    opts.duration = min(opts.duration, 10.0)
    raw: dict[str, dict[str, list[float]]] = {}
    columns = [f"{name} {shape}" for shape in SHAPES for name in WORKLOADS]
    base: dict[str, float] = {}
    nginx: dict[str, float] = {}
    mock_paths = {name: path for name, (path, _) in WORKLOADS.items()}
    canned: dict[str, bytes] = {}
    table: list[tuple[str, dict[str, float], int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        from sanic_mock.run import certs

        cert, key = certs.write(Path(tmp))
        bodies = {}
        for name, (_, payload) in WORKLOADS.items():
            if payload is not None:
                bodies[name] = Path(tmp, name + ".json")
                bodies[name].write_bytes(orjson.dumps(payload))
        for row, (args, scheme, proto) in ROWS.items():
            if opts.only not in row and not row.startswith("HTTP/1.1"):
                continue  # the HTTP/1.1 baseline always runs: the ratios need it
            proc, url = start(args, scheme, (str(cert), str(key)))
            try:
                if not canned:  # the mock's own answers, for nginx to serve
                    for name, (path, payload) in WORKLOADS.items():
                        answer = httpx.request(
                            "POST" if payload else "GET", url + path, json=payload, timeout=10
                        )
                        canned[f"/{name}"] = answer.content
                cells, errors, raw[row] = measure(url, proto, mock_paths, bodies, opts)
            finally:
                stop(proc)
            base = base or cells
            table.append((row, cells, errors))
            print(f"measured: {row}", file=sys.stderr, flush=True)
        if shutil.which("nginx") or Path("/usr/sbin/nginx").exists():
            try:
                proc, url = start_nginx(Path(tmp), canned)
            except OSError as exc:
                print(f"nginx row skipped: {exc}", file=sys.stderr)
            else:
                try:
                    paths = {name: f"/{name}" for name in WORKLOADS}
                    nginx, errors, raw[NGINX_ROW] = measure(url, "h2", paths, bodies, opts)
                finally:
                    proc.terminate()
                    proc.wait()
                table.append((NGINX_ROW, nginx, errors))

    def cell(column: str, rate: float) -> str:
        ratios = [f"{rate / ref[column]:.2f}×" for ref in (base, nginx) if ref.get(column)]
        return f"{rate:,.0f} ({' / '.join(ratios)})" if ratios else f"{rate:,.0f}"

    print("| protocol, server | " + " | ".join(f"{c} req/s" for c in columns) + " | errors |")
    print("|---|" + "---:|" * (len(columns) + 1))
    for row, cells, errors in table:
        print(f"| {row} | " + " | ".join(cell(c, cells[c]) for c in columns) + f" | {errors} |")
    print("\n(a / b): the ratio to our HTTP/1.1 row, and to nginx's canned bytes")
    if opts.json:
        opts.json.write_bytes(orjson.dumps(raw, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
