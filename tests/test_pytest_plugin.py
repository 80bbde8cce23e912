"""The pytest plugin (`sanic_mock/pytest_plugin.py`), as a user's test suite meets it.

Each test writes a user's test file and runs it with `pytester` in a pytest subprocess, where
the plugin is loaded from the installed package's `pytest11` entry point (nothing here loads
it by hand); the fixtures start real servers. Afterwards no server of that run may be left, also
when a test failed, the session was interrupted, or pytest was killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sanic_mock.corpus import io
from sanic_mock.corpus.format import Corpus
from tests.factories import json_exchange

pytestmark = pytest.mark.timeout(180)


def _servers_with(marker: str) -> list[int]:
    """Running processes whose command line holds `marker` (zombies do not count)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and b"sanic_mock" in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _recorded_corpus(path: Path, text: str) -> Path:
    corpus = Corpus(kind="recorded", generator={}, exchanges=(json_exchange("ping", text),))
    io.write(path, corpus)
    return path


def test_loading_the_plugin_starts_and_imports_nothing_of_the_server() -> None:
    code = (
        "import sys, sanic_mock.pytest_plugin\n"
        "heavy = [m for m in ('sanic', 'typer', 'numpy', 'openai', 'httpx', 'sanic_mock.cli')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_entry_point_names_the_plugin() -> None:
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group="pytest11") if ep.name == "mock_openai"]
    assert [ep.value for ep in found] == ["sanic_mock.pytest_plugin"]


def test_the_session_fixture_serves_the_official_sdk(pytester: pytest.Pytester) -> None:
    ports = pytester.path / "ports"
    pytester.makepyfile(
        f"""
        import openai

        def test_chat(mock_openai):
            assert mock_openai.base_url == f"http://127.0.0.1:{{mock_openai.port}}/v1"
            assert mock_openai.url + "/v1" == mock_openai.base_url
            client = mock_openai.client()
            assert isinstance(client, openai.OpenAI)
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}], max_tokens=5
            )
            assert reply.choices[0].finish_reason == "length"
            assert reply.usage.completion_tokens == 5
            with open({str(ports)!r}, "a") as f:
                f.write(f"{{mock_openai.port}}\\n")

        def test_stream_on_the_same_server(mock_openai):
            chunks = list(mock_openai.client().chat.completions.create(
                model="m", messages=[{{"role": "user", "content": "hi"}}], max_tokens=3,
                stream=True, stream_options={{"include_usage": True}},
            ))
            assert chunks[-1].usage.completion_tokens == 3
            with open({str(ports)!r}, "a") as f:
                f.write(f"{{mock_openai.port}}\\n")
        """
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=2)
    first, second = ports.read_text().split()
    assert first == second  # one server for the session
    assert _refused(int(first))  # and it is gone


def test_the_factory_starts_servers_with_serve_options(pytester: pytest.Pytester) -> None:
    marker = str(uuid.uuid4().int % 10**9)
    pytester.makepyfile(
        f"""
        import openai
        import pytest

        def test_options(mock_openai_server):
            with mock_openai_server(
                api_key="sk-plugin-test-key", model=["m-one", "m-two"], pregen_count=16,
                no_cache=True, seed={marker}, token_mean=4, token_stddev=0,
            ) as server:
                assert server.api_key == "sk-plugin-test-key"
                assert [m.id for m in server.client().models.list()] == ["m-one", "m-two"]
                reply = server.client().chat.completions.create(
                    model="x", messages=[{{"role": "user", "content": "hi"}}]
                )
                assert reply.usage.completion_tokens == 4
                keyless = openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0)
                with pytest.raises(openai.AuthenticationError):
                    keyless.models.list()
            assert server.process.poll() is not None  # stopped by the with block

        def test_left_to_the_teardown(mock_openai_server):
            server = mock_openai_server(pregen_count=16, seed={marker}, http2=False)
            assert "--no-http2" in server.args and "--seed" in server.args

        def test_a_misspelt_option(mock_openai_server):
            with pytest.raises(TypeError, match="no option 'response_delay'.*response_delay_ms"):
                mock_openai_server(response_delay=5)

        def test_a_bad_value_shows_the_servers_error(mock_openai_server):
            with pytest.raises(RuntimeError, match="--token-stddev must be"):
                mock_openai_server(token_stddev=-1)
        """
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=4)
    assert _servers_with(f"--seed {marker}") == []


@pytest.mark.parametrize("where", ["command-line", "ini"])
def test_the_corpus_option(pytester: pytest.Pytester, where: str) -> None:
    _recorded_corpus(pytester.path / "recorded.msgpack", "the recorded answer")
    pytester.makepyfile(
        """
        def test_replay(mock_openai):
            reply = mock_openai.client().chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}]
            )
            assert reply.choices[0].message.content == "the recorded answer"
        """
    )
    if where == "ini":
        pytester.makeini("[pytest]\nmock_openai_corpus = recorded.msgpack\n")
        result = pytester.runpytest_subprocess("-q")
    else:
        result = pytester.runpytest_subprocess("-q", "--mock-openai-corpus", "recorded.msgpack")
    result.assert_outcomes(passed=1)


def test_a_missing_corpus_is_the_servers_one_line_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_it(mock_openai):\n    pass\n")
    result = pytester.runpytest_subprocess("-q", "--mock-openai-corpus", "nowhere.msgpack")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*MockOpenAIError: mock-openai serve --corpus *nowhere.msgpack*"])
    result.stdout.fnmatch_lines(["*mock-openai: error: *nowhere.msgpack*"])


def test_no_server_outlives_a_failed_test_or_an_interrupted_session(
    pytester: pytest.Pytester,
) -> None:
    corpus = _recorded_corpus(pytester.path / f"c-{uuid.uuid4().hex}.msgpack", "x")
    pytester.makepyfile(
        """
        def test_fails(mock_openai, mock_openai_server):
            mock_openai_server(corpus=mock_openai.args[1], seed=1)
            assert False, "a failing test"

        def test_interrupts(mock_openai, mock_openai_server):
            mock_openai_server(corpus=mock_openai.args[1], seed=2)
            raise KeyboardInterrupt

        def test_never_runs():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-q", "--mock-openai-corpus", str(corpus))
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    result.assert_outcomes(failed=1)
    assert _servers_with(corpus.name) == []


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_no_server_outlives_a_killed_pytest(pytester: pytest.Pytester) -> None:
    corpus = _recorded_corpus(pytester.path / f"c-{uuid.uuid4().hex}.msgpack", "x")
    ready = pytester.path / "ready"
    pytester.makepyfile(
        f"""
        import time

        def test_hangs(mock_openai, mock_openai_server):
            mock_openai_server(corpus=mock_openai.args[1], workers=2)
            open({str(ready)!r}, "w").close()
            time.sleep(120)
        """
    )
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    cmd += ["--mock-openai-corpus", str(corpus)]
    with subprocess.Popen(cmd, cwd=pytester.path, stdout=subprocess.DEVNULL) as inner:
        deadline = time.monotonic() + 90
        while not ready.exists():
            assert inner.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        assert len(_servers_with(corpus.name)) >= 2  # the session's and the factory's
        os.kill(inner.pid, signal.SIGKILL)  # no teardown, no atexit
        inner.wait()
    deadline = time.monotonic() + 15
    while _servers_with(corpus.name) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _servers_with(corpus.name) == []


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## In a test suite", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(test_my_app=example)
    pytester.runpytest_subprocess("-q").assert_outcomes(passed=3)
