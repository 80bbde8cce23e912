"""Reviewing recorded corpora with the real CLI: `corpus show --exchange N [--format sse|json]`,
`corpus diff A B`, and `corpus show` as git's textconv driver in a scratch repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from sanic_mock.corpus import io
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus
from tests.factories import STREAM_EVENTS, json_exchange, stream_exchange
from tests.recording import mock_openai


def write(path: Path, *exchanges: Exchange) -> Path:
    io.write(path, Corpus(kind="recorded", generator={"tool": "test"}, exchanges=exchanges))
    return path


def test_show_one_exchange_as_recorded_and_as_sent(tmp_path: Path) -> None:
    corpus = write(tmp_path / "c.msgpack", json_exchange("q", "Plain text."), stream_exchange())
    listed = mock_openai("corpus", "inspect", str(corpus)).stdout
    assert "   0  POST /v1/chat/completions" in listed and "stream 6 events" in listed
    shown = mock_openai("corpus", "show", str(corpus), "--exchange", "1")
    assert shown.returncode == 0
    assert orjson.loads(shown.stdout)["events"] == list(STREAM_EVENTS)
    sse = mock_openai("corpus", "show", str(corpus), "--exchange", "1", "--format", "sse").stdout
    assert sse == "".join(f"data: {e}\n\n" for e in STREAM_EVENTS)  # as it went over the wire
    body = mock_openai("corpus", "show", str(corpus), "-e", "1", "--format", "json").stdout
    message = orjson.loads(body)["choices"][0]["message"]
    assert message["content"] == "Hello" and message["tool_calls"][0]["id"] == "call_1"
    plain = mock_openai("corpus", "show", str(corpus), "-e", "0", "--format", "json").stdout
    assert list(orjson.loads(plain)) == ["id", "object", "created", "model", "choices", "usage"]
    split = mock_openai("corpus", "show", str(corpus), "-e", "0", "--format", "sse").stdout
    assert split.endswith("data: [DONE]\n\n")
    chunks = [orjson.loads(f[6:]) for f in split.split("\n\n") if f.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "Plain text." and len(chunks) > 3  # a role chunk, pieces, the finish
    for bad, message_part in (
        (["-e", "2"], "no exchange 2 (it holds 2)"),
        (["-e", "0", "--format", "xml"], "--format must be sse or json"),
        (["--format", "sse"], "--format needs --exchange N"),
    ):
        out = mock_openai("corpus", "show", str(corpus), *bad)
        assert out.returncode == 2 and message_part in out.stderr
        assert "Traceback" not in out.stderr


def test_diff_names_what_was_added_removed_and_answered_differently(tmp_path: Path) -> None:
    old = write(
        tmp_path / "old.msgpack",
        json_exchange("kept", "Same."),
        json_exchange("changed", "Before."),
        json_exchange("dropped", "Gone."),
    )
    new = write(
        tmp_path / "new.msgpack",
        json_exchange("kept", "Same."),
        json_exchange("changed", "After."),
        json_exchange("added", "New."),
    )
    out = mock_openai("corpus", "diff", str(old), str(new))
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0] == f"--- {old} (3 exchanges)" and lines[1] == f"+++ {new} (3 exchanges)"
    assert lines[2:] == [
        '+ #0 POST /v1/chat/completions model=gpt-4o-mini "added"',
        '~ #0 -> #1 POST /v1/chat/completions model=gpt-4o-mini "changed": '
        'body.choices[0].message.content (was "Before.", now "After.")',
        '- #1 POST /v1/chat/completions model=gpt-4o-mini "dropped"',
    ]
    assert "1 added, 1 removed, 1 changed" in out.stderr
    same = mock_openai("corpus", "diff", str(old), str(old))
    assert same.returncode == 0 and same.stdout.splitlines()[-1] == "no changes"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_diff_shows_a_corpus_change_as_readable_json(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    # what corpus/README.md documents, with this interpreter for `mock-openai`
    (repo / ".gitattributes").write_text("*.msgpack diff=mock-openai\n")
    git(repo, "config", "diff.mock-openai.textconv", f"{sys.executable} -m sanic_mock corpus show")
    corpus = repo / "rec.msgpack"
    write(corpus, json_exchange("q", "The old answer."), stream_exchange())
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    write(corpus, json_exchange("q", "The new answer."), stream_exchange())
    shown = git(repo, "diff", "--", "rec.msgpack")
    assert "Binary files" not in shown
    changed = [line for line in shown.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert changed == [
        '-              "content": "The old answer.",',
        '+              "content": "The new answer.",',
    ]
    git(repo, "commit", "-q", "-am", "two")
    assert '+              "content": "The new answer.",' in git(repo, "log", "-p", "-1")
    # deterministic: the same corpus written again is no change at all
    write(corpus, json_exchange("q", "The new answer."), stream_exchange())
    assert git(repo, "status", "--porcelain") == ""
