"""The import layers of ARCHITECTURE.md, and the one reader of the environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sanic_mock"


def test_import_contracts_hold() -> None:
    """The `[tool.importlinter]` contracts of pyproject.toml: the layers, no import circles, and
    which layer may import which third-party package. .ci/run runs `lint-imports` too; this makes
    `python -m pytest` alone enforce them."""
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    lint_imports = lint_imports or shutil.which("lint-imports")
    assert lint_imports, "lint-imports is missing: pip install -e '.[test]'"
    done = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_only_cli_reads_the_environment() -> None:
    readers = sorted(
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if "os.environ" in p.read_text() or "getenv(" in p.read_text()
    )
    # and the pytest plugin, which reads no variable: it copies the environment for the server
    # it starts, less the MOCK_OPENAI_* variables (the fixture's options are all it gets)
    assert readers == ["cli/options.py", "pytest_plugin.py"]
