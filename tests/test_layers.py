"""The import layers of DESIGN.md: the pure layer knows no server, only cli.py knows typer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sanic_mock"
PURE = [
    "sanic_mock.settings",
    "sanic_mock.errors",
    "sanic_mock.sampling",
    "sanic_mock.tokens",
    "sanic_mock.wire.plan",
    "sanic_mock.core.generated",
    "sanic_mock.wire.requests",
    "sanic_mock.wire.chat",
    "sanic_mock.wire.completions",
    "sanic_mock.wire.embeddings",
    "sanic_mock.wire.models",
    "sanic_mock.corpus.io",
    "sanic_mock.corpus.pregen",
    "sanic_mock.corpus.pool",
    "sanic_mock.corpus.loading",
]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_server_or_cli(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = [m for m in ('sanic', 'hypercorn', 'aioquic', 'granian', 'typer', 'httpx')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_only_cli_reads_the_environment() -> None:
    readers = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if "os.environ" in p.read_text() or "getenv(" in p.read_text()
    ]
    assert readers == ["cli/__init__.py"]
