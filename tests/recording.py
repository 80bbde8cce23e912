"""Processes for the recording tests: the test upstream (`tests/upstream_app.py`) and
`mock-openai record`, each started on a free port and stopped with a signal."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai

from tests import upstream_app as up
from tests.servers import Server, clean_env, free_port

UPSTREAM_APP = Path(__file__).with_name("upstream_app.py")


def wait_healthy(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{server.output()}")
        try:
            if httpx.get(server.url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("process did not answer /health in time")
        time.sleep(0.05)


def stop(server: Server, sig: int = signal.SIGINT, timeout: float = 20.0) -> str:
    """Signal the process, wait for it, and return what it printed."""
    proc = server.process
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return server.output()


@contextmanager
def started(cmd: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[Server]:
    proc = subprocess.Popen(
        cmd, env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Server(f"http://127.0.0.1:{port}", proc)
    try:
        wait_healthy(server)
        yield server
    finally:
        if proc.poll() is None:
            stop(server)
        if proc.stdout and not proc.stdout.closed:
            proc.stdout.close()


def client(server: Server, key: str = up.KEY) -> openai.OpenAI:
    """The official SDK against `server` (by default with the test upstream's key)."""
    return openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0, timeout=30)


@contextmanager
def upstream_app() -> Iterator[Server]:
    port = free_port()
    with started([sys.executable, str(UPSTREAM_APP), str(port)], port) as server:
        yield server


@contextmanager
def recorder(
    upstream: str, out: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`mock-openai record --upstream UPSTREAM --out OUT ARGS` on a free port."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "sanic_mock",
        "record",
        "--upstream",
        upstream,
        "--out",
        str(out),
        "--port",
        str(port),
        *args,
    ]
    with started(cmd, port, env) as server:
        yield server


def mock_openai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a `mock-openai` command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "sanic_mock", *args],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
