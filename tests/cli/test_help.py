"""`--help` of every command at 80 columns, and an environment variable for every option.

Rendered by the real CLI in a subprocess with `COLUMNS=80`; the option table comes from the click
command itself, so a new option is checked without being listed here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sanic_mock.cli import click_command
from sanic_mock.corpus import io
from sanic_mock.corpus.format import Corpus
from tests.cli.test_cli import run_cli
from tests.factories import json_exchange
from tests.servers import running

COMMANDS = [
    (),
    ("serve",),
    ("record",),
    ("cert",),
    ("corpus",),
    *(("corpus", name) for name in ("build", "inspect", "import", "merge", "verify", "show")),
]
# Every option of these reads a MOCK_OPENAI_ variable; `corpus ...` takes files for one run.
WITH_ENV = {("serve",), ("record",), ("cert",)}
NO_ENV = {"help", "version"}  # eager options that only print


def _command(path: tuple[str, ...]) -> Any:
    command = click_command()
    for name in path:
        command = command.commands[name]
    return command


def _help(path: tuple[str, ...]) -> str:
    result = run_cli(*path, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "root")
def test_help_at_80_columns_shows_every_name_whole(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "…" not in text and "no-no-" not in text, text
    # typer's Python types as placeholders: <int>, <path>, <list[Path]>, ...
    assert not re.search(r"<(int|float|str|bool|path|file|list\[)", text), text
    assert "[default: no" not in text, text
    words = set(text.replace(",", " ").replace(";", " ").replace("]", " ").split())
    for param in _command(path).params:
        if param.param_type_name != "option":
            continue
        for name in param.opts + param.secondary_opts:
            assert name in words, f"{name} not whole in\n{text}"
        if not param.is_flag:  # a value: named by a metavar, not a type
            assert param.metavar and param.metavar.isupper() or "|" in param.metavar, param.name
        if path in WITH_ENV and param.name not in NO_ENV:
            envvars = param.envvar if isinstance(param.envvar, list) else [param.envvar]
            assert envvars and envvars[0] == "MOCK_OPENAI_" + param.name.upper(), param.name
            for var in envvars:
                assert var in words, f"{var} not whole in\n{text}"


def test_serve_help_shows_choices_and_defaults() -> None:
    text = _flat(_help(("serve",)))
    for shown in (
        "--replay match|sample",
        "--on-miss sample|error|proxy",
        "--http2-engine hypercorn|granian",
        "--replay-timing none|recorded|scaled:F",
        "--corpus FILE",
        "--response-delay-ms MS",
        "--match-ignore FIELD",
        "--model ID",
        "default: (gpt-4o-mini, gpt-4o, ... (8 ids))",
        "default: ($XDG_CACHE_HOME/mock-openai or ~/.cache/mock-openai)",
        "--no-cache Generate",  # one flag: no --no-no-cache, no default
        "--http2 / --no-http2",
        "MOCK_OPENAI_PREGEN_COUNT, MOCK_OPENAI_PREG_COUNT",
    ):
        assert shown in text, f"{shown!r} not in\n{text}"


def test_record_help_documents_the_requests_file() -> None:
    text = _flat(_help(("record",)))
    assert "--requests FILE Batch mode: send the requests of this JSONL file" in text
    assert '{"endpoint": ..., "body": ...}' in text


def test_upstream_key_env_comes_from_the_environment() -> None:
    result = run_cli(
        "serve", "--no-cache", env={"MOCK_OPENAI_UPSTREAM_KEY_ENV": "NOT_SET_ANYWHERE"}
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "mock-openai: error: --upstream-key-env NOT_SET_ANYWHERE: the variable is not set"
    )


def test_allow_secrets_comes_from_the_environment(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.msgpack"
    exchange = json_exchange("a", "sk-abcdefghijklmnopqrstuvwxyz")
    io.write(leaky, Corpus(kind="recorded", generator={}, exchanges=(exchange,)), True)
    refused = run_cli("serve", "--corpus", str(leaky))
    assert refused.returncode == 2 and "--allow-secrets" in refused.stderr
    with running("--corpus", str(leaky), env={"MOCK_OPENAI_ALLOW_SECRETS": "1"}) as srv:
        assert srv.process.poll() is None
