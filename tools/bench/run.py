"""One command for the benchmark table: mock-openai against baselines measured in the same run.

    python tools/bench/run.py [--repeat 3] [--duration 5] [--streams 1000] [--out bench.md]

Servers run on core 0, load generators on core 1 (taskset), everything on 127.0.0.1. Baselines:
a bare Sanic app returning canned bytes (the mock's own responses, captured first) and, when
nginx is installed, nginx serving the same bytes as static files. Throughput is measured with
wrk (HTTP/1.1, keep-alive, 64 connections, Lua for POST bodies); paced streams with
`sse_client.py`. Each figure is the median of `--repeat` runs; ratios compare medians.
"""

from __future__ import annotations

import argparse
import json
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from bodies import CHAT, RESPONSE, SCHEMA_FORMAT, TOOL  # tools/bench/bodies.py

HERE = Path(__file__).resolve().parent
SERVER_CPU, CLIENT_CPU = "0", "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def url_of(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def pinned(cpu: str | None, cmd: list[str]) -> list[str]:
    """`cmd` run on core `cpu` (None: anywhere)."""
    return ["taskset", "-c", cpu, *cmd] if cpu is not None and shutil.which("taskset") else cmd


@contextmanager
def process(cmd: list[str], health: str | None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if health:
            deadline = time.monotonic() + 30
            while True:  # over TLS too: the certificates of `mock-openai cert` are self-signed
                try:
                    if httpx.get(health, timeout=1, verify=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{cmd} did not start")
                time.sleep(0.05)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def mock(port: int, *extra: str, cpu: str | None = SERVER_CPU) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "sanic_mock",
        "serve",
        "--port",
        str(port),
        "--token-stddev",
        "0",
        "--token-mean",
        "256",
        *extra,
    ]
    return pinned(cpu, cmd)


def wrk(
    url: str,
    body: dict[str, object] | None,
    duration: float,
    conns: int = 64,
    threads: int = 1,
    cpu: str | None = CLIENT_CPU,
) -> float:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(duration))}s", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if body is not None:
            payload = json.dumps(body).replace("\\", "\\\\").replace("'", "\\'")
            lua.write(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = '{payload}'\n"
            )
        cmd[4:4] = ["-s", lua.name]
    try:
        out = subprocess.run(pinned(cpu, cmd), capture_output=True, text=True, check=True)
    finally:
        os.unlink(lua.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    if errors:
        raise RuntimeError(f"wrk saw errors: {out.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    assert match, out.stdout
    return float(match.group(1))


def sse(port: int, streams: int, duration: float, tokens: int) -> dict[str, float]:
    cmd = [
        sys.executable,
        str(HERE / "sse_client.py"),
        "--port",
        str(port),
        "--streams",
        str(streams),
        "--duration",
        str(duration),
        "--tokens",
        str(tokens),
        "--json",
    ]
    out = subprocess.run(pinned(CLIENT_CPU, cmd), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def write_floor() -> dict[str, float]:
    cmd = [sys.executable, str(HERE / "write_floor.py"), "--seconds", "3", "--json"]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    return {"user_us": out["user_us_per_write"], "system_us": out["system_us_per_write"]}


def startup(*extra: str) -> tuple[float, float]:
    """Seconds from starting `mock-openai serve` to its first answered chat request, and the
    process's peak memory by then (MB)."""
    port = free_port()
    started = time.monotonic()
    with process(mock(port, *extra), None) as proc:
        while True:
            try:
                answer = httpx.post(f"{url_of(port)}/v1/chat/completions", json=CHAT)
                if answer.status_code == 200:
                    return time.monotonic() - started, memory_mb(proc.pid)[1]
            except httpx.HTTPError:
                time.sleep(0.01)
            if proc.poll() is not None:
                raise RuntimeError("mock-openai did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a process and its peak, in MB (Linux /proc)."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def median(values: list[float]) -> float:
    return statistics.median(values)


def capture(port: int, canned: Path, tokens: int) -> None:
    """The mock's own answers of `tokens` tokens, as the baselines' canned bytes."""
    canned.mkdir(exist_ok=True)
    url = f"{url_of(port)}/v1/chat/completions"
    body = {**CHAT, "max_tokens": tokens, "ignore_eos": True}
    (canned / "json.bin").write_bytes(httpx.post(url, json=body).content)
    (canned / "sse.bin").write_bytes(httpx.post(url, json={**body, "stream": True}).content)


NGINX_CONF = """
worker_processes 1; daemon off; pid {dir}/nginx.pid; error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port}; root {dir};
    location = /health {{ default_type application/json; return 200 '{{"status":"ok"}}'; }}
    location = /json {{ default_type application/json; try_files /json.bin =404; }}
    location = /sse {{ default_type text/event-stream; try_files /sse.bin =404; }} }} }}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    r, d = args.repeat, args.duration
    rows: list[tuple[str, str, str, str]] = []
    canned = Path(tempfile.mkdtemp(prefix="mock-bench-"))
    json_body = {**CHAT, "max_tokens": 256}
    sse_body = {**json_body, "stream": True}

    # mock-openai and bare Sanic are up together and measured turn about, so a drift in the
    # machine's speed (a shared VM) hits both alike; `/health` is the control (~1.0 expected).
    port, bport = free_port(), free_port()
    bare = pinned(
        SERVER_CPU, [sys.executable, str(HERE / "bare_sanic.py"), str(bport), str(canned)]
    )
    scenarios = {
        "health": ("/health", None),
        "json": ("/v1/chat/completions", json_body),
        "sse": ("/v1/chat/completions", sse_body),
    }
    # Tools and structured outputs, on the mock only (bare Sanic has nothing to compare them with):
    # reported against the mock's own JSON chat row.
    shaped = {
        "responses": ("/v1/responses", {**RESPONSE, "max_output_tokens": 256}),
        "responses-sse": ("/v1/responses", {**RESPONSE, "max_output_tokens": 256, "stream": True}),
        "tools": ("/v1/chat/completions", {**json_body, "tools": [TOOL]}),
        "schema": (
            "/v1/chat/completions",
            {**json_body, "response_format": {"type": "json_schema", "json_schema": SCHEMA_FORMAT}},
        ),
    }
    s_rate: dict[str, list[float]] = {k: [] for k in shaped}
    m: dict[str, list[float]] = {k: [] for k in scenarios}
    b: dict[str, list[float]] = {k: [] for k in [*scenarios, "sends"]}
    with process(mock(port), f"{url_of(port)}/health") as proc:
        capture(port, canned, 256)
        canned64 = canned / "64"
        capture(port, canned64, 64)
        with process(bare, f"{url_of(bport)}/health"):
            for _ in range(r):
                for key, (path, body) in scenarios.items():
                    m[key].append(wrk(url_of(port) + path, body, d))
                    b[key].append(wrk(url_of(bport) + path, body, d))
                b["sends"].append(wrk(url_of(bport) + "/sse-sends", sse_body, d))
                for key, (path, body) in shaped.items():
                    s_rate[key].append(wrk(url_of(port) + path, body, d))
        rss, peak = memory_mb(proc.pid)
    m_health, m_json, m_sse = (median(m[k]) for k in scenarios)
    b_health, b_json, b_sse, b_sends = (median(b[k]) for k in b)

    cached = [startup() for _ in range(max(r, 5))]
    cold = [startup("--no-cache") for _ in range(max(r, 5))]
    startup_cached, startup_cold = (median([run[0] for run in runs]) for runs in (cached, cold))
    peak_cached, peak_cold = (median([run[1] for run in runs]) for runs in (cached, cold))

    # --workers N: N processes on one port. The load generator shares the cores with them (the
    # machine may have no spare core), so the ratio understates the scaling a little.
    ncpu = len(os.sched_getaffinity(0))
    w_json = {}
    w_rss = None
    for workers in (1, ncpu):
        port = free_port()
        cmd = mock(port, "--workers", str(workers), cpu=None)
        with process(cmd, f"{url_of(port)}/health") as proc:
            url = f"{url_of(port)}/v1/chat/completions"
            w_json[workers] = median([wrk(url, json_body, d, cpu=None) for _ in range(r)])
            if workers > 1:  # the largest worker process (the parent only supervises)
                children = subprocess.run(
                    ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
                ).stdout.split()
                w_rss = max(memory_mb(int(child))[0] for child in children)

    n_health = n_json = n_sse = None
    if shutil.which("nginx"):
        nport = free_port()
        (canned / "nginx.conf").write_text(NGINX_CONF.format(dir=canned, port=nport))
        canned.chmod(0o755)  # nginx workers run as nobody
        cmd = pinned(SERVER_CPU, ["nginx", "-c", str(canned / "nginx.conf"), "-p", str(canned)])
        with process(cmd, f"{url_of(nport)}/health"):
            url = url_of(nport)
            n_health = median([wrk(url + "/health", None, d) for _ in range(r)])
            n_json = median([wrk(url + "/json", None, d) for _ in range(r)])
            n_sse = median([wrk(url + "/sse", None, d) for _ in range(r)])

    size_json = len((canned / "json.bin").read_bytes())
    size_sse = len((canned / "sse.bin").read_bytes())

    def fmt(v: float | None) -> str:
        return "—" if v is None else f"{v:,.0f}"

    rows.append(("`GET /health`", fmt(m_health), fmt(b_health), f"{m_health / b_health:.2f}"))
    rows.append(
        (
            f"chat, JSON, 256 tokens ({size_json} B)",
            fmt(m_json),
            fmt(b_json),
            f"{m_json / b_json:.2f}",
        )
    )
    rows.append(
        (
            f"chat, stream, 256 tokens, no delay ({size_sse} B)",
            fmt(m_sse),
            fmt(b_sse),
            f"{m_sse / b_sse:.2f}",
        )
    )
    for key, label, against, of in (
        ("responses", "Responses API, JSON, 256 tokens", m_json, "JSON"),
        ("responses-sse", "Responses API, stream, 256 tokens", m_sse, "stream"),
        ("tools", "chat, JSON, a tool call", m_json, "JSON"),
        ("schema", "chat, JSON, a json_schema answer", m_json, "JSON"),
    ):
        rate = median(s_rate[key])
        name = f"{label} (ratio: to the chat {of} row)"
        rows.append((name, fmt(rate), "—", f"{rate / against:.2f}"))
    lines = [
        "| scenario (HTTP/1.1, 64 connections) | mock-openai req/s | bare Sanic req/s | ratio |",
        "|---|---:|---:|---:|",
        *[f"| {a} | {b} | {c} | {e} |" for a, b, c, e in rows],
        "",
        f"Streamed tokens per second (stream row): {m_sse * 256:,.0f}. "
        f"Bare Sanic with one `send()` per event: {b_sends:,.0f} req/s.",
    ]
    lines.append(
        f"`--workers {ncpu}` on {ncpu} cores (wrk unpinned, sharing them): JSON chat "
        f"{fmt(w_json[ncpu])} req/s against {fmt(w_json[1])} with one worker "
        f"({w_json[ncpu] / w_json[1]:.2f}x)."
    )
    lines.append(
        f"Start-up to the first answered request: {startup_cached:.2f} s with the generated "
        f"corpus cached, {startup_cold:.2f} s generating it (`--no-cache`)."
    )
    per_worker = "" if w_rss is None else f"; {w_rss:.0f} MB per worker with `--workers {ncpu}`"
    lines.append(
        f"Memory with the default corpus, after the runs above: {rss:.0f} MB resident "
        f"(peak {peak:.0f} MB){per_worker}. Peak at start-up: {peak_cached:.0f} MB with the "
        f"corpus cached, {peak_cold:.0f} MB generating it."
    )
    if n_health is not None:
        lines.append(
            f"nginx, same bytes as static files: health {fmt(n_health)}, JSON {fmt(n_json)}, "
            f"SSE {fmt(n_sse)} req/s."
        )

    # Paced streams: client-observed timing against the configured gap, and the server's CPU
    # time per delivered event (from /proc; robust to other load on the machine), against the
    # plain way of pacing (bare Sanic, one sleep + one send() per event) in the same run.
    lines += [
        "",
        "| paced streams (64 tokens each) | server | events/s | first token p50 / p99 "
        "| first token, new connection p50 / p99 | gap p50 / p99 | server CPU per event |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for streams, gap in ((args.streams // 5, 20), (args.streams, 20)):
        for name in ("mock-openai", "bare Sanic, sleep + send()"):
            results = []
            for _ in range(r):
                port = free_port()
                if name == "mock-openai":
                    cmd = mock(port, "--response-delay-ms", str(gap), "--token-mean", "64")
                else:
                    cmd = pinned(
                        SERVER_CPU,
                        [
                            sys.executable,
                            str(HERE / "bare_sanic.py"),
                            str(port),
                            str(canned64),
                            str(gap),
                        ],
                    )
                with process(cmd, f"{url_of(port)}/health") as proc:
                    before = cpu_seconds(proc.pid)
                    result = sse(port, streams, d, 64)
                    result["cpu_us_per_event"] = (
                        (cpu_seconds(proc.pid) - before) / max(result["events"], 1) * 1e6
                    )
                    results.append(result)
            med = {k: median([x[k] for x in results]) for k in results[0]}
            line = (
                f"| {streams} streams, {gap} ms gap | {name} | {med['events_per_s']:,.0f} "
                f"| {med['ttft_p50_ms']:.1f} / {med['ttft_p99_ms']:.1f} ms "
                f"| {med['ttft_warmup_p50_ms']:.1f} / {med['ttft_warmup_p99_ms']:.1f} ms "
                f"| {med['gap_p50_ms']:.1f} / {med['gap_p99_ms']:.1f} ms "
                f"| {med['cpu_us_per_event']:.1f} µs |"
            )
            lines.append(line)
            print(line, flush=True)
    # The kernel's share: one small write per paced event, whatever the server does.
    floors = [write_floor() for _ in range(r)]
    user, system = (median([f[k] for f in floors]) for k in ("user_us", "system_us"))
    lines += [
        "",
        f"Floor (`tools/bench/write_floor.py`): one 80-byte write to a loopback socket costs "
        f"{user + system:.1f} µs of CPU here ({system:.1f} µs in the kernel), so one core "
        f"delivers at most {1e6 / (user + system):,.0f} paced events/s with no other work.",
    ]
    print(lines[-1], flush=True)
    table = "\n".join(lines)
    if args.out:
        args.out.write_text(table + "\n")
    shutil.rmtree(canned, ignore_errors=True)


if __name__ == "__main__":
    main()
