"""CPU instructions per request, counted by callgrind: a figure that repeats, to compare changes.

    python tools/bench/instructions.py [--repo DIR] [--requests 2000] [--warmup 200]
        [--scenario chat-json|chat-stream|chat-tools|chat-json-schema|responses-json
                    |responses-stream|health|embeddings ...]
        [--bare] [-- SERVE_ARGS...]
    python tools/bench/instructions.py --replay [--repo DIR] ...   # replay of a recorded corpus

Starts `python -m sanic_mock serve --port P --pregen-count 4096 --seed 0 [SERVE_ARGS]` under
`valgrind --tool=callgrind` with the working directory at the repo root (`--repo`, default: the
checkout this file is in), so that checkout's own package is imported. For each scenario it
opens one keep-alive HTTP/1.1 connection (a raw socket; the client is another process, so it is
not counted), sends the warm-up requests, zeroes the counters (`callgrind_control -z`), sends
`--requests` requests one after another, dumps (`callgrind_control -d`) and divides the dump's
`Ir` (its `summary:` line) by the number of requests. `--bare` does the same for
`tools/bench/bare_sanic.py` (canned bytes: the mock's own answers, captured in the same run) as
the baseline; it serves `health`, `chat-json` and `chat-stream`. Servers run with
PYTHONHASHSEED=0 and without MOCK_OPENAI_* variables. The counts include the server's idle work
while the client runs (Sanic's timers), a small share of a request; they repeat within ~1%.
Everything binds 127.0.0.1.

`--replay` measures replay instead: a recorded corpus is written (by the checkout's own code, so
in its own format) with a JSON answer to `replay-json`'s request and a stream of 64 events to
`replay-stream`'s, both hits, and served with `--corpus`; those two scenarios are the default.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bodies import CHAT, RESPONSE, SCHEMA_FORMAT, TOOL  # tools/bench/bodies.py

HERE = Path(__file__).resolve().parent
SCENARIOS: dict[str, tuple[str, str, dict[str, object] | None]] = {
    "chat-json": ("POST", "/v1/chat/completions", CHAT),
    "chat-stream": ("POST", "/v1/chat/completions", {**CHAT, "stream": True}),
    "health": ("GET", "/health", None),
    "responses-json": ("POST", "/v1/responses", RESPONSE),
    "responses-stream": ("POST", "/v1/responses", {**RESPONSE, "stream": True}),
    "chat-tools": ("POST", "/v1/chat/completions", {**CHAT, "tools": [TOOL]}),
    "chat-json-schema": (
        "POST",
        "/v1/chat/completions",
        {**CHAT, "response_format": {"type": "json_schema", "json_schema": SCHEMA_FORMAT}},
    ),
    "embeddings": (
        "POST",
        "/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "Benchmark me."},
    ),
}
REPLAY_JSON = {"model": "bench", "messages": [{"role": "user", "content": "Replay me as JSON."}]}
REPLAY_STREAM = {
    "model": "bench",
    "messages": [{"role": "user", "content": "Replay me as a stream."}],
    "stream": True,
}
SCENARIOS["replay-json"] = ("POST", "/v1/chat/completions", REPLAY_JSON)
SCENARIOS["replay-stream"] = ("POST", "/v1/chat/completions", REPLAY_STREAM)
BARE = ("chat-json", "chat-stream", "health")  # what bare_sanic.py serves
# Writes the `--replay` corpus: argv[1] the file, argv[2] the two requests as JSON.
REPLAY_CORPUS = r"""
import sys
import orjson
from pathlib import Path
from sanic_mock.corpus import io
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus

plain, streamed = orjson.loads(sys.argv[2])
CHAT = "/v1/chat/completions"
words = [" word%d" % k for k in range(64)]
usage = {"prompt_tokens": 12, "completion_tokens": 64, "total_tokens": 76}
body = {"id": "chatcmpl-rec", "object": "chat.completion", "created": 1700000000,
        "model": "bench", "choices": [{"index": 0, "message": {"role": "assistant",
        "content": "".join(words)}, "logprobs": None, "finish_reason": "stop"}], "usage": usage}


def chunk(delta, finish=None):
    return orjson.dumps({"id": "chatcmpl-rec", "object": "chat.completion.chunk",
                         "created": 1700000000, "model": "bench", "system_fingerprint": "fp_b",
                         "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                      "finish_reason": finish}]}).decode()


events = [chunk({"role": "assistant", "content": ""})] + [chunk({"content": w}) for w in words]
events += [chunk({}, "stop"), "[DONE]"]
exchanges = (
    Exchange(CHAT, 200, plain, body=body, model="bench", usage=usage),
    Exchange(CHAT, 200, streamed, events=tuple(events), times_us=tuple(range(len(events))),
             model="bench"),
)
io.write(Path(sys.argv[1]), Corpus(kind="recorded", generator={}, exchanges=exchanges))
"""
IO_TIMEOUT = 60.0  # seconds for any one socket operation or callgrind_control call


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request_bytes(port: int, method: str, path: str, body: dict[str, object] | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body is None:
        return (head + "\r\n").encode()
    data = json.dumps(body).encode()  # `"stream": true`, as bare_sanic.py looks for it
    head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


class Client:
    """One keep-alive HTTP/1.1 connection; reads Content-Length and chunked answers."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def _more(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def _until(self, marker: bytes) -> bytes:
        while (i := self.buf.find(marker)) < 0:
            self._more()
        out, self.buf = self.buf[:i], self.buf[i + len(marker) :]
        return out

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def call(self, raw: bytes) -> tuple[int, bytes]:
        """Status and body of the answer to the request `raw`."""
        self.sock.sendall(raw)
        lines = self._until(b"\r\n\r\n").split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get(b"connection") == b"close":
            raise ConnectionError("server will close the connection (not keep-alive)")
        if headers.get(b"transfer-encoding") == b"chunked":
            parts = []
            while size := int(self._until(b"\r\n").split(b";")[0], 16):
                parts.append(self._take(size))
                self._take(2)
            self._until(b"\r\n")  # no trailers expected: the blank line
            return status, b"".join(parts)
        return status, self._take(int(headers.get(b"content-length", b"0")))


def child_env() -> dict[str, str]:
    """This environment without MOCK_OPENAI_* settings, with a fixed hash seed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_OPENAI_")}  # noqa: TID251
    env["PYTHONHASHSEED"] = "0"
    return env


def wait_health(proc: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    raw = request_bytes(port, "GET", "/health", None)
    while True:
        try:
            client = Client(port)
            try:
                client.sock.settimeout(5)
                if client.call(raw)[0] == 200:
                    return
            finally:
                client.close()
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before /health answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"/health did not answer within {timeout:.0f} s")
        time.sleep(0.5)


@contextmanager
def callgrind(
    cmd: list[str], cwd: Path, port: int, outdir: Path, start_timeout: float, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`cmd` running under callgrind, answering /health; stopped with SIGINT, then killed."""
    vg = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={outdir}/callgrind.out.%p",
        *cmd,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(vg, cwd=cwd, env=child_env(), stdout=out, stderr=out)
    try:
        wait_health(proc, port, start_timeout)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def control(flag: str, pid: int) -> None:
    subprocess.run(
        ["callgrind_control", flag, str(pid)],
        check=True,
        capture_output=True,
        timeout=IO_TIMEOUT,
    )


def total_ir(path: Path) -> int:
    """The `Ir` count of a callgrind dump: its `summary:` line (what callgrind_annotate calls
    PROGRAM TOTALS), the instructions run since the last zero or dump. The `totals:` line, only
    read if there is no summary, also adds the inclusive cost of the calls still active at the
    dump (the event loop's), which began before the zero."""
    events: list[str] = []
    found: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith(("summary:", "totals:")):
            found[line.split(":", 1)[0]] = line
    line = found.get("summary") or found.get("totals")
    if line is None or "Ir" not in events:
        raise RuntimeError(f"no Ir total in {path}")
    return int(line.split()[1 + events.index("Ir")])


def measure(
    proc: subprocess.Popen[bytes],
    port: int,
    outdir: Path,
    scenario: str,
    requests: int,
    warmup: int,
) -> float:
    """Instructions per request of `scenario`, on one fresh keep-alive connection."""
    method, path, body = SCENARIOS[scenario]
    raw = request_bytes(port, method, path, body)
    client = Client(port)
    try:
        for _ in range(warmup):
            check(scenario, *client.call(raw))
        control("-z", proc.pid)
        for _ in range(requests):
            status, _answer = client.call(raw)
            if status != 200:
                raise RuntimeError(f"{scenario}: status {status}")
        before = set(outdir.iterdir())
        control("-d", proc.pid)
    finally:
        client.close()
    # callgrind_control returns once the dump is written; wait for its last line all the same.
    deadline = time.monotonic() + IO_TIMEOUT
    while True:
        new = set(outdir.iterdir()) - before
        if new:
            newest = max(new, key=lambda p: p.stat().st_mtime_ns)
            if b"\ntotals:" in newest.read_bytes():
                return total_ir(newest) / requests
        if time.monotonic() > deadline:
            raise RuntimeError("callgrind_control -d wrote no complete dump")
        time.sleep(0.1)


def check(scenario: str, status: int, body: bytes) -> None:
    if status != 200:
        raise RuntimeError(f"{scenario}: status {status}: {body[:200]!r}")
    if scenario == "chat-stream" and not body.rstrip().endswith(b"data: [DONE]"):
        raise RuntimeError(f"{scenario}: not a finished event stream: {body[-200:]!r}")


def package_dir(repo: Path) -> Path:
    """Where `python -m sanic_mock` run in `repo` imports the package from."""
    out = subprocess.run(
        [sys.executable, "-c", "import sanic_mock; print(sanic_mock.__file__)"],
        cwd=repo,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=IO_TIMEOUT,
    )
    return Path(out.stdout.strip()).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Arguments after `--` are passed to `sanic_mock serve`.",
    )
    parser.add_argument("--repo", type=Path, default=HERE.parent.parent)
    parser.add_argument("--requests", "-n", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    parser.add_argument("--bare", action="store_true", help="also measure bare_sanic.py")
    parser.add_argument("--start-timeout", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true", help="keep the dumps and logs")
    parser.add_argument("--replay", action="store_true", help="replay a recorded corpus")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    repo = args.repo.resolve()
    default = ["replay-json", "replay-stream"] if args.replay else list(SCENARIOS)[:4]
    scenarios = args.scenario or default
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("valgrind and callgrind_control are needed")
    pkg = package_dir(repo)
    if pkg != repo / "sanic_mock":
        sys.exit(f"`python -m sanic_mock` in {repo} imports {pkg}, not the checkout's own")
    work = Path(tempfile.mkdtemp(prefix="mock-callgrind-"))
    if args.replay:
        corpus = work / "replay.msgpack"
        requests = json.dumps([REPLAY_JSON, REPLAY_STREAM])
        make = [sys.executable, "-c", REPLAY_CORPUS, str(corpus), requests]
        subprocess.run(make, cwd=repo, env=child_env(), check=True, timeout=IO_TIMEOUT)
        extra = ["--corpus", str(corpus), *extra]
    mock_ir: dict[str, float] = {}
    bare_ir: dict[str, float] = {}
    try:
        port = free_port()
        cmd = [sys.executable, "-m", "sanic_mock", "serve", "--port", str(port)]
        cmd += ["--pregen-count", "4096", "--seed", "0", *extra]
        (work / "mock").mkdir()
        (work / "canned").mkdir()
        print(f"mock-openai ({pkg}) under callgrind ...", file=sys.stderr, flush=True)
        with callgrind(
            cmd, repo, port, work / "mock", args.start_timeout, work / "mock.log"
        ) as proc:
            # The baseline's canned bytes: the mock's answers to the same requests.
            client = Client(port)
            try:
                for name, file in (("chat-json", "json.bin"), ("chat-stream", "sse.bin")):
                    status, body = client.call(request_bytes(port, *SCENARIOS[name]))
                    check(name, status, body)
                    (work / "canned" / file).write_bytes(body)
            finally:
                client.close()
            for name in scenarios:
                mock_ir[name] = measure(proc, port, work / "mock", name, args.requests, args.warmup)
                print(f"  {name}: {mock_ir[name]:,.0f}", file=sys.stderr, flush=True)
        if args.bare and any(name in BARE for name in scenarios):
            port = free_port()
            bare = repo / "tools" / "bench" / "bare_sanic.py"
            cmd = [sys.executable, str(bare), str(port), str(work / "canned")]
            (work / "bare").mkdir()
            print("bare Sanic under callgrind ...", file=sys.stderr, flush=True)
            with callgrind(
                cmd, repo, port, work / "bare", args.start_timeout, work / "bare.log"
            ) as proc:
                for name in scenarios:
                    if name in BARE:
                        bare_ir[name] = measure(
                            proc, port, work / "bare", name, args.requests, args.warmup
                        )
                        print(f"  {name}: {bare_ir[name]:,.0f}", file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"dumps and logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    def fmt(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}"

    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        timeout=IO_TIMEOUT,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=IO_TIMEOUT,
    ).stdout.strip()
    where = f"{commit or '?'}{' (modified)' if dirty else ''}"
    print(
        f"callgrind, {args.requests} requests after {args.warmup} warm-up ones on one "
        f"keep-alive HTTP/1.1 connection, at {where}; serve args: "
        f"--pregen-count 4096 --seed 0 {' '.join(extra)}".rstrip()
    )
    print()
    print("| scenario | mock-openai instructions/request | bare Sanic instructions/request |")
    print("|---|---:|---:|")
    for name in scenarios:
        print(f"| {name} | {fmt(mock_ir.get(name))} | {fmt(bare_ir.get(name))} |")


if __name__ == "__main__":
    main()
