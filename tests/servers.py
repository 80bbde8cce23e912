"""Start the real `mock-openai` as a subprocess on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def output(self) -> str:
        """What the server printed (only after it stopped)."""
        out, _ = self.process.communicate(timeout=10)
        return out.decode(errors="replace")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_OPENAI_")}
    env.update(extra or {})
    return env


@contextmanager
def running(
    *args: str,
    env: dict[str, str] | None = None,
    scheme: str = "http",
    port: int | None = None,
    timeout: float = 30.0,
    port_arg: bool = True,
) -> Iterator[Server]:
    """`mock-openai serve ARGS` on a free port, yielded once /health answers; stopped after.

    With `port_arg=False` the port is not put on the command line (it must come from `env`).
    """
    port = port or free_port()
    cmd = [sys.executable, "-m", "sanic_mock", "serve", *args]
    if port_arg:
        cmd[4:4] = ["--port", str(port)]
    proc = subprocess.Popen(
        cmd, env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Server(f"{scheme}://127.0.0.1:{port}", proc)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{server.output()}")
            try:
                if httpx.get(server.url + "/health", timeout=1, verify=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /health in time")
            time.sleep(0.05)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()
