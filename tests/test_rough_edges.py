"""The rough edges of issue 16, found by trying the CLI as a new user would, each against the
real CLI: the bearer scheme in any case, `HEAD` wherever `GET` is answered, one access-log line
per request with `-v`, a taken port as one line and exit 2, and `record --requests` exiting 1
when some requests failed."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from sanic_mock.core.service import authorize
from sanic_mock.corpus import io
from sanic_mock.errors import AuthenticationError, MethodNotAllowed
from tests import upstream_app as up
from tests.recording import mock_openai, recorder, stop, upstream_app
from tests.servers import Server, running

KEY = "sk-rough-edges-0123456789"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
GETS = ("/health", "/v1/models", "/v1/models/gpt-4o")


@pytest.fixture(scope="module")
def keyed() -> Any:
    with running("--pregen-count", "16", "--api-key", KEY) as srv:
        yield srv


# -- 1. the auth scheme is case-insensitive ----------------------------------------------------


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR", "Bearer"])
def test_bearer_scheme_in_any_case_is_accepted(keyed: Server, scheme: str) -> None:
    """On the HTTP/1.1 fast path (exact paths, keep-alive) and on Sanic's routes (a path
    parameter, `Connection: close`): the scheme in any case, more than one space before the
    key."""
    auth = {"authorization": f"{scheme}  {KEY}"}
    close = {**auth, "connection": "close"}
    with httpx.Client(base_url=keyed.url, timeout=10) as client:
        assert client.get("/v1/models", headers=auth).status_code == 200
        assert client.get("/v1/models/gpt-4o", headers=auth).status_code == 200
        for headers in (auth, close):
            answer = client.post("/v1/chat/completions", json=CHAT, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["object"] == "chat.completion"


@pytest.mark.parametrize("auth", ["bearer sk-wrong-key-0000", "Basic " + KEY, "bearer", KEY])
def test_a_wrong_key_or_scheme_is_still_401(keyed: Server, auth: str) -> None:
    for headers in ({"authorization": auth}, {"authorization": auth, "connection": "close"}):
        answer = httpx.get(keyed.base_url + "/models", headers=headers, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_api_key"


def test_authorize_reads_the_scheme_in_any_case() -> None:
    """The transports pass the header as they read it (the fast path left-stripped, ASGI raw)."""
    expected = f"Bearer {KEY}"
    for given in (expected, f"bearer {KEY}", f"BEARER   {KEY}", f" \tbearer {KEY} \t"):
        authorize(expected, given)
    for given in (f"Bearer {KEY}x", f"Basic {KEY}", KEY, f"Bearer{KEY}", "", "bearer "):
        with pytest.raises(AuthenticationError):
            authorize(expected, given)
    with pytest.raises(AuthenticationError) as wrong:
        authorize(expected, "bearer sk-wrong-key-1234")
    assert "Incorrect API key provided: sk-**********1234." in wrong.value.message


def test_the_official_sdk_still_authenticates(keyed: Server) -> None:
    client = openai.OpenAI(base_url=keyed.base_url, api_key=KEY, max_retries=0)
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    assert client.chat.completions.create(**CHAT).choices[0].message.content
    wrong = openai.OpenAI(base_url=keyed.base_url, api_key="sk-wrong-0000", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()


# -- 2. HEAD wherever GET is answered ----------------------------------------------------------


def _same_as_get(client: httpx.Client, path: str, headers: dict[str, str]) -> httpx.Response:
    head = client.head(path, headers=headers)
    got = client.get(path, headers=headers)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(got.content) > 0
    assert head.headers["content-type"] == got.headers["content-type"]
    ignored = {"x-request-id", "openai-processing-ms", "date"}
    assert set(head.headers) - ignored == set(got.headers) - ignored
    return head


def test_head_answers_like_get_on_sanics_http1(keyed: Server) -> None:
    auth = {"authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=keyed.url, timeout=10) as client:
        for path in GETS:
            head = _same_as_get(client, path, auth)
            assert head.http_version == "HTTP/1.1"
        # the key is still checked
        assert client.head("/v1/models").status_code == 401


def test_head_on_a_post_only_path_is_a_405_error_object(keyed: Server) -> None:
    path = "/v1/chat/completions"
    answer = httpx.head(keyed.url + path, headers={"authorization": f"Bearer {KEY}"}, timeout=10)
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"].startswith("req_")
    body = MethodNotAllowed(f"Invalid method for URL (HEAD {path})").render()
    assert int(answer.headers["content-length"]) == len(body)
    assert answer.content == b""


ENGINES = [
    pytest.param(["--http2-engine", "hypercorn"], id="hypercorn"),
    pytest.param([], id="granian"),  # the default engine
]


@pytest.mark.parametrize("engine", ENGINES)
def test_head_and_lower_case_bearer_on_h2c(engine: list[str]) -> None:
    """`--http2` (h2c by prior knowledge): the ASGI path gives HEAD the GET's headers and no
    body (granian's h2 used to send the body, which clients refuse) and reads the raw header."""
    args = ("--pregen-count", "16", "--api-key", KEY, "--http2", *engine)
    with running(*args) as srv, httpx.Client(base_url=srv.url, http2=True, http1=False) as c:
        auth = {"authorization": f"bearer {KEY}"}
        for path in GETS:
            assert _same_as_get(c, path, auth).http_version == "HTTP/2"
        answer = c.post("/v1/chat/completions", json=CHAT, headers=auth)
        assert answer.status_code == 200 and answer.http_version == "HTTP/2"
        head = c.head("/v1/chat/completions", headers=auth)
        assert head.status_code == 405 and head.content == b""


# -- 3. -v: one access-log line per request ----------------------------------------------------


def _access_lines(output: str) -> list[str]:
    """Sanic's access lines: `... INFO: 127.0.0.1:PORT GET http://HOST/PATH STATUS SIZE TIME`."""
    found = re.compile(r"\d+\.\d+\.\d+\.\d+:\d+ (GET|POST|HEAD) http://")
    return [line for line in output.splitlines() if found.search(line)]


def test_verbose_logs_each_request_once() -> None:
    with running("--pregen-count", "16", "-v") as srv:
        with httpx.Client(base_url=srv.url, timeout=10) as client:
            assert client.get("/v1/models").status_code == 200
            assert client.get("/v1/models/gpt-4o").status_code == 200
            assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
        output = stop(srv)
    lines = [line for line in _access_lines(output) if "/health" not in line]  # the start-up probe
    assert len(lines) == 3, output
    wants = ("/v1/models 200", "/v1/models/gpt-4o 200", "/v1/chat/completions 200")
    for line, want in zip(lines, wants, strict=True):
        assert want in line, output
    assert "sanic.access" not in output and output.count("Starting worker") == 1, output
    assert " DEBUG " not in output, output


def test_the_recorder_logs_each_request_once(tmp_path: Path) -> None:
    with (
        upstream_app() as upstream,
        recorder(upstream.base_url, tmp_path / "c.msgpack", "-v") as rec,
    ):
        auth = {"authorization": f"Bearer {up.KEY}"}
        body = {"model": "slow-stream", "messages": CHAT["messages"]}
        for _ in range(3):
            answer = httpx.post(rec.base_url + "/chat/completions", json=body, headers=auth)
            assert answer.status_code == 200
        output = stop(rec)
    lines = [line for line in _access_lines(output) if "/health" not in line]
    assert len(lines) == 3, output
    assert all("/v1/chat/completions 200" in line for line in lines), output
    assert "sanic.access" not in output and output.count("Starting worker") == 1, output
    # the upstream call: httpx's one line each, without httpcore's debug lines
    assert output.count("INFO httpx: HTTP Request: POST") == 3 and " DEBUG " not in output


@pytest.mark.parametrize(
    ("engine", "line"),
    [("granian", '"GET /v1/models HTTP/2" 200'), ("hypercorn", '"GET /v1/models 2" 200')],
)
def test_verbose_h2c_logs_each_request_once(engine: str, line: str) -> None:
    with running("--pregen-count", "16", "-v", "--http2", "--http2-engine", engine) as srv:
        with httpx.Client(base_url=srv.url, http2=True, http1=False, timeout=10) as client:
            for _ in range(3):
                assert client.get("/v1/models").status_code == 200
        output = stop(srv)
    assert output.count(line) == 3, output
    assert " DEBUG " not in output, output  # hpack's forty lines per request


# -- 4. a port already in use ------------------------------------------------------------------

RUNNERS = [
    pytest.param(["serve"], id="sanic"),
    pytest.param(["serve", "--workers", "2"], id="sanic-workers"),
    pytest.param(["record", "--upstream", "http://127.0.0.1:9/v1", "--out", "X"], id="record"),
    pytest.param(["serve", "--http2", "--http2-engine", "hypercorn"], id="hypercorn"),
    pytest.param(["serve", "--http2"], id="granian"),  # the default engine
]


@pytest.mark.parametrize("command", RUNNERS)
def test_a_taken_port_is_one_line_and_exit_2(command: list[str], tmp_path: Path) -> None:
    command = [str(tmp_path / "c.msgpack") if arg == "X" else arg for arg in command]
    if command[0] == "serve":
        command += ["--pregen-count", "16", "--no-cache"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = mock_openai(*command, "--port", str(port))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"mock-openai: error: cannot listen on 127.0.0.1:{port} TCP: {_in_use()}"]
    assert "listening" not in result.stdout + result.stderr


def _in_use() -> str:
    import errno
    import os

    return os.strerror(errno.EADDRINUSE)


# -- 5. record --requests with failures ------------------------------------------------------


def test_batch_with_failed_requests_exits_1_and_writes_the_rest(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    lines: list[dict[str, Any]] = [
        {"model": "slow-stream", "messages": [{"role": "user", "content": f"q{i}"}]}
        for i in range(2)
    ]
    # The test upstream answers chat completions only: these two get a 404 there.
    lines.append({"endpoint": "/v1/embeddings", "body": {"model": "m", "input": "x"}})
    lines.append({"endpoint": "/v1/completions", "body": {"model": "m", "prompt": "x"}})
    requests.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    out = tmp_path / "batch.msgpack"
    with upstream_app() as upstream:
        args = ["record", "--upstream", upstream.base_url, "--out", str(out)]
        args += ["--requests", str(requests), "--upstream-key-env", "K"]
        result = mock_openai(*args, env={"K": up.KEY})
    assert result.returncode == 1, result.stderr
    assert f"mock-openai: error: 2 requests of {requests} failed" in result.stderr
    assert "(2 failed)" in result.stdout and "4/4, 2 failed" in result.stderr
    recorded = io.read(out).exchanges
    assert sorted(e.status for e in recorded if e.endpoint == "/v1/chat/completions") == [200, 200]


def test_batch_against_an_unreachable_upstream_exits_1(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(orjson.dumps(CHAT) + b"\n")
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        upstream = f"http://127.0.0.1:{port}/v1"
        out = tmp_path / "batch.msgpack"
        result = mock_openai(
            "record", "--upstream", upstream, "--out", str(out), "--requests", str(requests)
        )
    assert result.returncode == 1, result.stderr
    assert "1 request of" in result.stderr and "(1 failed)" in result.stdout
