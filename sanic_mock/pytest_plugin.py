"""The pytest plugin: a real mock-openai server for a test suite, installed with the package.

pytest loads it in every run of a project that has mock-openai installed (the `pytest11` entry
point), so loading it costs only the standard library: nothing of the server is imported and
nothing starts until a test asks for a fixture.

- `mock_openai` (session): one server for the whole session, with the corpus of
  `--mock-openai-corpus FILE` or the `mock_openai_corpus` ini option (default: generated).
- `mock_openai_server` (function): a factory, `mock_openai_server(**options)`, for a server
  with other options; use it as a context manager, or let the test's teardown stop it.

Each is a `MockOpenAI`: `.url`, `.base_url` (`.url + "/v1"`, for an SDK), `.port`, `.client()`
(an `openai.OpenAI` for it) and `.async_client()`. An option is any `mock-openai serve` option by
its parameter name: `response_delay_ms=5` is `--response-delay-ms 5`, `model=["a", "b"]` is
`--model a --model b`, `http2=False` is `--no-http2`, `no_cache=True` is `--no-cache`.

The server is `python -m sanic_mock serve --port 0` in a session of its own: it binds a free
port itself and its banner says which (no race for a port picked here), and no Ctrl-C aimed at
pytest reaches it before pytest's teardown stops it. Every server is stopped at its fixture's
teardown (SIGTERM, then SIGKILL to its process group), again at interpreter exit (`atexit`), and
on Linux the kernel sends it SIGTERM if pytest dies without either (`PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import openai

START_TIMEOUT_S = 60.0  # the first start generates the corpus (~0.4 s) and imports everything
STOP_TIMEOUT_S = 10.0  # the server stops within ~5 s of SIGTERM; then it is killed
BANNER = re.compile(rb"listening on (https?)://([^\s/]+):(\d+)/v1")
_RUNNING: set[MockOpenAI] = set()


class MockOpenAIError(RuntimeError):
    """The server did not start: its options, its exit code and what it printed."""


class MockOpenAI:
    """A `mock-openai serve` process and where to reach it."""

    def __init__(self, args: list[str], timeout: float = START_TIMEOUT_S) -> None:
        self.args = args
        self.api_key = _value(args, "--api-key")
        self._log: IO[bytes] = tempfile.TemporaryFile()  # closed by stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sanic_mock", "serve", *args],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("MOCK_OPENAI_")},
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        _RUNNING.add(self)
        try:
            self.scheme, self.host, self.port = self._wait_for_banner(timeout)
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`: the server's root (`/health` is there)."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/v1`: what an SDK takes as its base URL."""
        return self.url + "/v1"

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """An `openai.OpenAI` for this server (its `--api-key`, if any; no retries)."""
        _require_openai()
        import openai

        return openai.OpenAI(**self._client_args(kwargs))

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """An `openai.AsyncOpenAI` for this server."""
        _require_openai()
        import openai

        return openai.AsyncOpenAI(**self._client_args(kwargs))

    def output(self) -> str:
        """What the server printed so far."""
        if self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL to its process group. Idempotent."""
        _RUNNING.discard(self)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(self.process)
        self.process.wait()
        self._log.close()

    def __enter__(self) -> MockOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process.poll() is None else "stopped"
        return f"<MockOpenAI {self.base_url} {state}>"

    def _client_args(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"base_url": self.base_url, "api_key": self.api_key or "sk-mock", **kwargs}

    def _wait_for_banner(self, timeout: float) -> tuple[str, str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._log.seek(0)
            found = BANNER.search(self._log.read())
            if found:
                return found[1].decode(), found[2].decode(), int(found[3])
            self._check_alive()
            time.sleep(0.02)
        raise self._error(f"did not say where it listens within {timeout:.0f} s")

    def _wait_healthy(self, timeout: float) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.02)
        raise self._error(f"did not answer /health within {timeout:.0f} s")

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            raise self._error(f"exited with code {self.process.returncode}")

    def _error(self, what: str) -> MockOpenAIError:
        command = " ".join(["mock-openai serve", *self.args])
        return MockOpenAIError(f"{command}: {what}\n{self.output()}".rstrip())


def serve_args(options: dict[str, Any]) -> list[str]:
    """`mock-openai serve` arguments for keyword options (`response_delay_ms=5`, ...).

    Checked against the CLI itself, so every serve option works and a misspelt one fails here.
    Imports the CLI (typer), which is why only starting a server calls it.
    """
    from sanic_mock.cli import click_command

    params = {p.name: p for p in click_command().commands["serve"].params if p.name}
    args = []
    for name, value in options.items():
        param = params.get(name)
        if param is None or name in ("help", "version"):
            known = ", ".join(sorted(set(params) - {"help", "version"}))
            raise TypeError(f"mock-openai serve has no option {name!r}; options: {known}")
        if value is None:
            continue
        if param.is_flag:
            if value:
                args.append(param.opts[0])
            elif param.secondary_opts:  # --http2/--no-http2
                args.append(param.secondary_opts[0])
            continue
        flag = next(opt for opt in param.opts if opt.startswith("--"))
        for item in value if isinstance(value, (list, tuple)) else [value]:
            args += [flag, str(item)]
    if "port" not in options:
        args += ["--port", "0"]  # the server picks a free one and says which
    return args


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-openai")
    help_text = "Corpus file the mock_openai fixture serves (default: a generated one)."
    group.addoption("--mock-openai-corpus", metavar="FILE", default=None, help=help_text)
    parser.addini("mock_openai_corpus", help_text + " Relative to the ini file.", default="")


@pytest.fixture(scope="session")
def mock_openai(pytestconfig: pytest.Config) -> Iterator[MockOpenAI]:
    """One mock-openai server for the whole session."""
    corpus: Path | None = None
    if pytestconfig.getoption("mock_openai_corpus"):
        corpus = Path(pytestconfig.getoption("mock_openai_corpus")).resolve()
    elif pytestconfig.getini("mock_openai_corpus"):
        base = pytestconfig.inipath.parent if pytestconfig.inipath else pytestconfig.rootpath
        corpus = base / pytestconfig.getini("mock_openai_corpus")
    with MockOpenAI(serve_args({"corpus": corpus})) as server:
        yield server


@pytest.fixture
def mock_openai_server() -> Iterator[Callable[..., MockOpenAI]]:
    """`mock_openai_server(**options)`: start a server with serve options; stopped at the end
    of the `with` block or of the test."""
    started: list[MockOpenAI] = []

    def start(**options: Any) -> MockOpenAI:
        server = MockOpenAI(serve_args(options))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@atexit.register
def _stop_all() -> None:
    """What a fixture's teardown did not stop (pytest ended in the middle of a session)."""
    for server in list(_RUNNING):
        server.stop()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the server's own process group (its session: nothing else is in it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM when pytest's thread dies."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _value(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args[:-1] else None


def _require_openai() -> None:
    import importlib.util

    if importlib.util.find_spec("openai") is None:
        raise RuntimeError(
            "MockOpenAI.client() needs the official SDK: pip install openai "
            "(or give .base_url to any client)"
        )
