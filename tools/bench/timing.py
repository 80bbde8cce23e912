"""The timing-accuracy table: how far the latency clients see drifts from the configured one,
per protocol and concurrency, and the events/s the server delivers meanwhile.

    python tools/bench/timing.py [--protocols h1,h2c-granian,h2c-hypercorn,h3]
        [--streams 100,500,1000] [--floor-streams 10] [--gap-ms 20] [--first-ms 200]
        [--tokens 64] [--per-connection 100] [--duration 5] [--json] [--out timing.md]

For each protocol one `mock-openai serve` runs pinned to core 0 (`--response-delay-ms`,
`--first-token-delay-ms`, `--token-stddev 0`: every stream has exactly `--tokens` tokens, the
first due at the first-token delay and each next one a gap later); `timing_client.py` runs
pinned to core 1 and holds N streams open, back to back, for `--duration` seconds. Their starts
are spread over one stream's length, so events fall due evenly in time (started within less,
their events bunch into the same milliseconds every cycle). The excess is observed minus
configured: time to first token (request written -> first event) against `--first-ms`, each
gap between tokens against `--gap-ms`; p50 and p99. A late server sends the frames that fell
due meanwhile together (the schedule is kept from the request's arrival, not from the previous
frame), so under overload the ITL p50 drops towards -gap: tokens arrive in bursts.

Who was late, per row: the server's CPU share of its core and its CPU per delivered event; the
share of the window it was runnable but waiting for its core ("waited": other processes on a
shared machine; from the scheduler's /proc/PID/schedstat); the same two for the client, and its
own event-loop lag (how late a 5 ms timer fires on the client: any excess up to that much may be
the client's). The first row of each protocol, at `--floor-streams` streams, is the floor: both
sides nearly idle, what timers and loopback cost. Each row runs after the server has gone idle.

Protocols (servers; each its own process):
  h1             Sanic's HTTP/1.1 fast path, one stream per connection
  h2c-granian    h2c by prior knowledge, `--http2-engine granian`   } `--per-connection`
  h2c-hypercorn  h2c by prior knowledge, `--http2-engine hypercorn` } streams multiplexed on
  h2-granian     HTTP/2 over TLS (ALPN), granian                    } each connection
  h2-hypercorn   HTTP/2 over TLS (ALPN), hypercorn                  } (default 100)
  h3             HTTP/3 over QUIC, hypercorn (aioquic on both sides)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from run import CLIENT_CPU, SERVER_CPU, free_port, mock, pinned, process  # tools/bench/run.py
from timing_client import GRACE_S, sched

HERE = Path(__file__).resolve().parent
# On one core the server and the client share it (unpinned): the table says so.
SERVER, CLIENT = (SERVER_CPU, CLIENT_CPU) if len(os.sched_getaffinity(0)) > 1 else (None, None)

# protocol -> (serve arguments, whether they need the certificate, the client's protocol)
PROTOCOLS: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "h1": ((), False, "h1"),
    "h2c-granian": (("--http2", "--http2-engine", "granian"), False, "h2c"),
    "h2c-hypercorn": (("--http2", "--http2-engine", "hypercorn"), False, "h2c"),
    "h2-granian": (("--http2-engine", "granian"), True, "h2"),
    "h2-hypercorn": (("--http2-engine", "hypercorn", "--no-http3"), True, "h2"),
    "h3": (("--http2-engine", "hypercorn", "--http3"), True, "h3"),
}
DEFAULT = "h1,h2c-granian,h2c-hypercorn,h3"


def serve_command(port: int, protocol: str, args: argparse.Namespace, certs: Path) -> list[str]:
    """`mock-openai serve` for a protocol, pinned (`max_tokens` with `ignore_eos` gives every
    stream exactly `--tokens`, whatever the length distribution)."""
    extra, tls, _ = PROTOCOLS[protocol]
    if tls:
        extra += ("--tls-cert", str(certs / "cert.pem"), "--tls-key", str(certs / "key.pem"))
    delays = ("--response-delay-ms", str(args.gap_ms), "--first-token-delay-ms", str(args.first_ms))
    return mock(port, "--pregen-count", "256", *delays, *extra, cpu=SERVER)


def stream_s(args: argparse.Namespace) -> float:
    """How long one stream lasts as configured: first token, then a gap per further token."""
    return float(args.first_ms + (args.tokens - 1) * args.gap_ms) / 1000


def excess(observed: dict[str, float | None], configured: float) -> dict[str, float | None]:
    return {k: None if v is None else v - configured for k, v in observed.items()}


def ms(values: dict[str, float | None]) -> str:
    """`p50 / p99` of an excess, signed, in ms (a dash when nothing was measured)."""
    p50, p99 = values["p50"], values["p99"]
    return "—" if p50 is None or p99 is None else f"{p50:+.1f} / {p99:+.1f} ms"


def settle(pid: int, limit: float = 60.0) -> None:
    """Until the server is idle (under 5% of a core over half a second): an overloaded one
    may still be sending the last row's streams, which would be charged to the next."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = sched(pid)[0]
        time.sleep(0.5)
        if sched(pid)[0] - before < 0.025:
            return


def measure(
    protocol: str, port: int, pid: int, streams: int, args: argparse.Namespace
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(HERE / "timing_client.py"),
        "--protocol",
        PROTOCOLS[protocol][2],
        "--port",
        str(port),
        "--streams",
        str(streams),
        "--per-connection",
        str(args.per_connection),
        "--tokens",
        str(args.tokens),
        "--duration",
        str(args.duration),
        "--ramp",
        str(args.ramp),
        "--server-pid",
        str(pid),
        "--json",
    ]
    budget = args.ramp + args.duration + GRACE_S + 60  # ramp, window, grace, set-up
    try:
        out = subprocess.run(
            pinned(CLIENT, cmd), capture_output=True, text=True, check=True, timeout=budget
        )
    except subprocess.TimeoutExpired:
        return {"name": protocol, "streams": streams, "error": f"no answer in {budget:.0f} s"}
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {"name": protocol, "streams": streams, "error": last[0]}
    result: dict[str, Any] = json.loads(out.stdout)
    result.update(
        name=protocol,
        offered_events_per_s=streams * args.tokens / stream_s(args),
        ttft_excess_ms=excess(result["ttft_ms"], args.first_ms),
        itl_excess_ms=excess(result["itl_ms"], args.gap_ms),
    )
    return result


HEADER = (
    "| protocol | streams | token events/s (of offered) | TTFT excess p50 / p99 "
    "| ITL excess p50 / p99 | server CPU, per event | server waited "
    "| client CPU, waited | client loop lag p99 |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def row(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"| {r['name']} | {r['streams']:,} | failed: {r['error']} | | | | | | |"
    flags = []
    if r["bad_requests"]:
        flags.append(f"{r['bad_requests']} wrong event counts")
    if r["unfinished_connections"]:
        flags.append(f"{r['unfinished_connections']} connections unfinished")
    note = f" ({'; '.join(flags)})" if flags else ""
    share = r["token_events_per_s"] / r["offered_events_per_s"]
    return (
        f"| {r['name']}{note} | {r['streams']:,} "
        f"| {r['token_events_per_s']:,.0f} ({share:.0%}) "
        f"| {ms(r['ttft_excess_ms'])} | {ms(r['itl_excess_ms'])} "
        f"| {r['server_cpu_share']:.0%}, {r['server_us_per_event']:.0f} µs "
        f"| {r['server_wait_share']:.0%} "
        f"| {r['client_cpu_share']:.0%}, {r['client_wait_share']:.0%} "
        f"| {r['client_lag_ms']['p99'] or 0:.1f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--protocols", default=DEFAULT, help=f"comma-separated (default {DEFAULT})")
    parser.add_argument("--streams", default="100,500,1000", help="concurrencies, comma-separated")
    parser.add_argument("--floor-streams", type=int, default=10, help="the floor row (0: none)")
    parser.add_argument("--gap-ms", type=float, default=20)
    parser.add_argument("--first-ms", type=float, default=200)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--per-connection", type=int, default=100, help="HTTP/2 and HTTP/3")
    parser.add_argument("--duration", type=float, default=5, help="measured seconds per row")
    parser.add_argument(
        "--ramp", type=float, help="seconds over which streams start (default: one stream's)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    parser.add_argument("--out", type=Path, help="also write the table (or JSON) here")
    args = parser.parse_args()
    if args.ramp is None:  # starts spread over one stream's length: events due evenly in time
        args.ramp = stream_s(args)
    protocols = args.protocols.split(",")
    unknown = set(protocols) - set(PROTOCOLS)
    if unknown:
        parser.error(f"unknown protocols {sorted(unknown)}; choose from {list(PROTOCOLS)}")
    concurrencies = [int(n) for n in args.streams.split(",")]
    if args.floor_streams:
        concurrencies.insert(0, args.floor_streams)

    results: list[dict[str, Any]] = []
    lines = [
        f"Configured: first token {args.first_ms:g} ms, then a token every {args.gap_ms:g} ms, "
        f"{args.tokens} tokens a stream; "
        + (f"server on core {SERVER}, client on core {CLIENT}" if SERVER else "one core, shared")
        + f"; HTTP/2 and HTTP/3: {args.per_connection} streams per connection.",
        "",
        HEADER,
    ]
    if not args.json:
        print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="mock-timing-") as tmp:
        certs = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "sanic_mock", "cert", "--out-dir", tmp],
            check=True,
            capture_output=True,
        )
        for protocol in protocols:
            port = free_port()
            tls = PROTOCOLS[protocol][1]
            health = f"{'https' if tls else 'http'}://127.0.0.1:{port}/health"
            with process(serve_command(port, protocol, args, certs), health) as server:
                for n, streams in enumerate(concurrencies):
                    if n:
                        settle(server.pid)
                    result = measure(protocol, port, server.pid, streams, args)
                    results.append(result)
                    lines.append(row(result))
                    if not args.json:
                        print(lines[-1], flush=True)
    text = json.dumps(results, indent=1) if args.json else "\n".join(lines)
    if args.json:
        print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the servers and clients are stopped by then (`process`, `run`)
        sys.exit(130)
