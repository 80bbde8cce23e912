"""What the commands share: the `MOCK_OPENAI_` prefix, the common options, and the environment.

With `cli/__init__.py`'s `main`, the only code that reads the environment: each serve option also
comes from `MOCK_OPENAI_<NAME>` (typer reads those), `--upstream-key-env` names a variable
holding a key, and the generated-corpus cache defaults under `$XDG_CACHE_HOME`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from sanic_mock import __version__
from sanic_mock.settings import SettingsError

ENV = "MOCK_OPENAI_"


def _version(value: bool) -> None:
    if value:
        print(f"mock-openai {__version__}")
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option("-V", "--version", callback=_version, is_eager=True, help="Print the version."),
]
UpstreamKeyEnvOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        help="Name of an environment variable holding the upstream API key (sent as "
        "'Authorization: Bearer', replacing the client's).",
    ),
]
AllowSecretsOption = Annotated[
    bool,
    typer.Option(
        "--allow-secrets",
        help="Write or load recorded exchanges even if they hold key-like strings.",
    ),
]

ReplayIdsOption = Annotated[
    str,
    typer.Option(
        envvar=ENV + "REPLAY_IDS",
        help="Recorded corpus: response id and created 'fresh' per answer, or as 'recorded' "
        "(byte-exact stream replays).",
    ),
]


def upstream_key(variable: str | None) -> str | None:
    """The key held by the variable `--upstream-key-env` names (None: no option)."""
    if variable is None:
        return None
    key = os.environ.get(variable)
    if not key:
        raise SettingsError(f"--upstream-key-env {variable}: the variable is not set")
    return key


def default_cache_dir() -> Path:
    """Where generated corpora are cached when `--cache-dir` is not given."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mock-openai"
