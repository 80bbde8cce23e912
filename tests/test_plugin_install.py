"""The package installed into a fresh venv runs a user's test file that uses only the plugin.

The venv gets the package the way a user's does (`pip install`, built from a copy of this
checkout, so the checkout stays clean) and nothing else of ours. Its dependencies are not
downloaded again: a `.pth` file lets the venv import the packages of the interpreter running
this test (sanic, pytest, openai, ...), which are plain directories there. pip resolves
nothing (`--no-deps`); the build backend comes from the package index as pip's build isolation
fetches it (or its cache).
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
USER_TEST = """
import openai
import sanic_mock


def test_the_package_is_this_venvs():
    assert sanic_mock.__file__.startswith(VENV), sanic_mock.__file__


def test_chat_through_the_session_server(mock_openai):
    client = mock_openai.client()
    assert isinstance(client, openai.OpenAI)
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}], max_tokens=8
    )
    assert reply.usage.completion_tokens == 8 and reply.choices[0].message.content


def test_a_server_with_options(mock_openai_server):
    with mock_openai_server(api_key="sk-user-test", response_delay_ms=1) as server:
        stream = server.client().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}],
            max_tokens=3, stream=True,
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""


@pytest.mark.timeout(600)
def test_a_fresh_venv_runs_a_users_test_file_with_the_plugin(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(REPO / "sanic_mock", source / "sanic_mock", ignore=_caches)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # After the venv's own site-packages: the dependencies, never our package (it is an
    # editable install there, whose finder this plain path line does not load).
    here = [*site.getsitepackages(), site.getusersitepackages()]
    (Path(purelib) / "zz_dependencies.pth").write_text("\n".join(here) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q"]
    installed = subprocess.run([*pip, str(source)], capture_output=True, text=True, timeout=500)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    project = tmp_path / "project"
    project.mkdir()
    (project / "test_user.py").write_text(f"VENV = {str(env_dir)!r}\n" + textwrap.dedent(USER_TEST))
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout


def _caches(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name in ("__pycache__",) or name.endswith(".egg-info")]
