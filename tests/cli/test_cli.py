"""The command line: environment variables, precedence, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sanic_mock import __version__
from tests.servers import clean_env, free_port, running

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sanic_mock", *args],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def completion_tokens(url: str) -> int:
    resp = httpx.post(url + "/v1/chat/completions", json=BODY, timeout=10)
    return int(resp.json()["usage"]["completion_tokens"])


def test_version_and_help() -> None:
    for args in (["-V"], ["--version"], ["serve", "-V"]):
        out = run_cli(*args)
        assert out.returncode == 0 and out.stdout.strip() == f"mock-openai {__version__}"
    help_text = run_cli("serve", "-h").stdout
    for option in (
        "--port",
        "--pregen-count",
        "--token-mean",
        "--token-stddev",
        "--response-delay-ms",
        "--tls-cert",
        "--tls-key",
        "--verbose",
        "--corpus",
        "--seed",
        "--stream-tokens-min",
        "--stream-tokens-max",
        "--model",
        "--api-key",
        "--workers",
    ):
        assert option in help_text


def test_environment_beats_default_and_command_line_beats_environment() -> None:
    env = {
        "MOCK_OPENAI_TOKEN_MEAN": "5",
        "MOCK_OPENAI_TOKEN_STDDEV": "0",
        "MOCK_OPENAI_PREG_COUNT": "8",
    }
    with running(env=env) as srv:
        assert completion_tokens(srv.url) == 5
    with running("--token-mean", "9", env=env) as srv:
        assert completion_tokens(srv.url) == 9


def test_port_and_models_from_environment() -> None:
    port = free_port()
    env = {
        "MOCK_OPENAI_PORT": str(port),
        "MOCK_OPENAI_PREGEN_COUNT": "8",
        "MOCK_OPENAI_MODEL": "alpha beta",
    }
    with running(env=env, port=port, port_arg=False) as srv:
        ids = [m["id"] for m in httpx.get(srv.url + "/v1/models").json()["data"]]
        assert ids == ["alpha", "beta"]
    with running("--pregen-count", "8", "--model", "one", "--model", "two/three") as srv:
        assert httpx.get(srv.url + "/v1/models/two/three").json()["id"] == "two/three"


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--token-stddev", "-1"], {}, "--token-stddev"),
        (["--port", "70000"], {}, "--port"),
        (["--port", "abc"], {}, "port"),
        (["--stream-tokens-min", "4", "--stream-tokens-max", "2"], {}, "--stream-tokens-max"),
        (["--pregen-count", "0"], {}, "--pregen-count"),
        (["--workers", "0"], {}, "--workers"),
        (["--tls-cert", "cert.pem"], {}, "--tls-key"),
        ([], {"MOCK_OPENAI_PORT": "-5"}, "--port"),
        ([], {"MOCK_OPENAI_TOKEN_MEAN": "lots"}, "token"),
        (["--corpus", "/nonexistent/corpus.msgpack"], {}, "--corpus"),
        (["--latency-distribution", "uniform"], {}, "--latency-distribution"),
        (["--fault-type", "404"], {}, "--fault-type"),
        ([], {"MOCK_OPENAI_FAULT_RATE": "2"}, "--fault-rate"),
        (["--load-factor", "3"], {}, "--load-factor"),
    ],
)
def test_invalid_values_exit_2_with_one_line(
    args: list[str], env: dict[str, str], needle: str
) -> None:
    out = run_cli("serve", *args, env=env)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mock-openai: error:"), out.stderr
    assert needle in lines[0] and "Traceback" not in out.stderr


def test_broken_corpus_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.msgpack"
    bad.write_bytes(b"\x93not a corpus")
    out = run_cli("serve", "--corpus", str(bad))
    assert out.returncode == 2 and "not a" in out.stderr and "Traceback" not in out.stderr
    assert str(bad) in out.stderr


def test_corpus_build_and_inspect(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    built = run_cli("corpus", "build", "--count", "12", "--seed", "3", "--out", str(path))
    assert built.returncode == 0, built.stderr
    shown = run_cli("corpus", "inspect", str(path))
    assert shown.returncode == 0
    assert "articles:    12" in shown.stdout and "mock-openai-corpus v4" in shown.stdout
    assert "o200k_base (" in shown.stdout and "cl100k_base (" in shown.stdout
    with running("--corpus", str(path)) as srv:
        assert completion_tokens(srv.url) >= 1


def test_generated_corpus_is_cached_where_asked_and_not_with_no_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with running("--pregen-count", "8", env=clean_env({"MOCK_OPENAI_CACHE_DIR": str(cache)})):
        pass
    (cached,) = cache.iterdir()
    assert cached.name.startswith("articles-") and cached.name.endswith("-8-0.msgpack")
    other = tmp_path / "other"
    with running("--pregen-count", "8", "--cache-dir", str(other), "--no-cache", env=clean_env()):
        pass
    assert not other.exists()


def test_replay_ids_from_the_environment(tmp_path: Path) -> None:
    from sanic_mock.corpus import io
    from sanic_mock.corpus.format import Corpus
    from tests.factories import chat_request, json_exchange

    corpus = tmp_path / "rec.msgpack"
    io.write(corpus, Corpus("recorded", {}, exchanges=(json_exchange("q", "Recorded."),)))
    env = {"MOCK_OPENAI_REPLAY_IDS": "recorded"}
    with running("--corpus", str(corpus), env=env) as server:
        body = httpx.post(server.base_url + "/chat/completions", json=chat_request("q")).json()
    assert (body["id"], body["created"]) == ("chatcmpl-1", 1)
    bad = run_cli("serve", "--corpus", str(corpus), env={"MOCK_OPENAI_REPLAY_IDS": "old"})
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "mock-openai: error: --replay-ids must be fresh or recorded, got 'old'"
    ]
