"""Start-up of `mock-openai serve --corpus` on large recorded corpora: time to the first
`/health` 200 and the server's resident memory then.

    python tools/bench/corpus_startup.py --counts 1000,20000,100000 --runs 3
    python tools/bench/corpus_startup.py --code /tmp/main-src --counts 20000   # another tree

For each count a corpus of that many chat exchanges is written once (by the code under test, so
in its own format; one in five a stream), then `serve --corpus FILE` is started `--runs` times;
the table gives the median start-up and RSS. `--code DIR` runs another source tree (a `git
archive` of main, say) with the same interpreter, so before and after are measured in one
sitting. The exchanges are about 1.6 KB each, as recorded chat traffic is (20,000 ≈ 32 MB).
Besides the wall time it gives the CPU time the server had used by then (user + system, from
/proc), which a busy machine moves far less.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

MAKE = r"""
import sys
from pathlib import Path
from sanic_mock.corpus import io
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus
import orjson

count, out = int(sys.argv[1]), Path(sys.argv[2])
words = "the quick brown fox jumps over a lazy dog while seven wise owls watch".split()
CHAT = "/v1/chat/completions"


def text(seed, n):
    return " ".join(words[(seed * 7 + k * 3) % len(words)] for k in range(n))


def chunk(i, delta, finish=None):
    return orjson.dumps({"id": f"chatcmpl-{i}", "object": "chat.completion.chunk",
                         "created": 1700000000, "model": "gpt-4o-mini",
                         "system_fingerprint": "fp_1",
                         "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                      "finish_reason": finish}]}).decode()


exchanges = []
for i in range(count):
    request = {"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": f"Question {i}: " + text(i, 40)}]}
    answer = text(i + 1, 90)
    usage = {"prompt_tokens": 60, "completion_tokens": 90, "total_tokens": 150}
    if i % 5 == 0:
        request["stream"] = True
        pieces = [" ".join(answer.split()[k:k + 9]) for k in range(0, 90, 9)]
        events = [chunk(i, {"role": "assistant", "content": ""})]
        events += [chunk(i, {"content": p}) for p in pieces]
        events += [chunk(i, {}, "stop"), "[DONE]"]
        times = tuple(1000 * (k + 1) for k in range(len(events)))
        exchanges.append(Exchange(CHAT, 200, request, events=tuple(events), times_us=times,
                                  duration_us=times[-1], model="gpt-4o-mini"))
    else:
        body = {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1700000000,
                "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": answer}, "logprobs": None,
                    "finish_reason": "stop"}], "usage": usage}
        exchanges.append(Exchange(CHAT, 200, request, body=body, duration_us=5000,
                                  model="gpt-4o-mini", usage=usage))
io.write(out, Corpus(kind="recorded", generator={"tool": "bench"}, exchanges=tuple(exchanges)))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ROOT = Path(__file__).resolve().parent.parent.parent  # this checkout


def env_for(code: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_OPENAI_")}
    env["PYTHONPATH"] = str(code)
    return env


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds the process has used (fields 14 and 15 of its stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_once(corpus: Path, code: Path, env: dict[str, str]) -> tuple[float, float, float]:
    port = free_port()
    cmd = [sys.executable, "-m", "sanic_mock", "serve", "--corpus", str(corpus)]
    began = time.monotonic()
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)],
        cwd=code,  # `-m` imports from the working directory first
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "exited")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
        took = time.monotonic() - began
        return took, cpu_s(proc.pid), rss_mb(proc.pid)
    finally:
        # A SIGTERM right after the first /health 200 is sometimes lost (main's code too): the
        # server goes on serving. Ask again, then kill.
        for stop in (proc.terminate, proc.terminate, proc.kill):
            stop()
            try:
                proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1000,20000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, default=None, help="source tree to run instead")
    parser.add_argument("--dir", type=Path, default=None, help="where corpora are written")
    args = parser.parse_args()
    code = (args.code or ROOT).resolve()
    env = env_for(code)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="corpus-startup-"))
    folder.mkdir(parents=True, exist_ok=True)
    where = subprocess.run(
        [sys.executable, "-c", "import sanic_mock; print(sanic_mock.__file__)"],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"code: {where}")
    print("| exchanges | file MB | start-up s, median (min) | CPU s | RSS MB | RSS / file |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in (int(c) for c in args.counts.split(",")):
        corpus = folder / f"chat-{count}.msgpack"
        if not corpus.exists():
            make = [sys.executable, "-c", MAKE, str(count), str(corpus)]
            subprocess.run(make, cwd=code, env=env, check=True)
        size = corpus.stat().st_size / 1e6
        runs = [start_once(corpus, code, env) for _ in range(args.runs)]
        took = statistics.median(r[0] for r in runs)
        least = min(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = statistics.median(r[2] for r in runs)
        cells = [f"{count:,}", f"{size:.1f}", f"{took:.2f} ({least:.2f})", f"{cpu:.2f}"]
        cells += [f"{rss:.0f}", f"{rss / size:.1f}"]
        print(f"| {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
