"""What the commands share: `option`, the common options, and the environment.

With `cli/__init__.py`'s `main`, the only code that reads the environment: every option of
`serve`, `record` and `cert` also comes from `MOCK_OPENAI_<OPTION>` (`option` names it, typer
reads it), `--upstream-key-env` names a variable holding a key, and the generated-corpus cache
defaults under `$XDG_CACHE_HOME`.

A new option is declared as the others are: `Name = Annotated[type, option("--name", metavar=
"N", help="...")]`, a parameter `name: Name = default` of the command, and its variable is
`MOCK_OPENAI_NAME`. `metavar` names the value in `--help` (N, MS, FILE, URL; a choice of words
as `choices(Enum)`); a flag (a bool) has none. tests/cli/test_help.py checks every option of
every command for a whole variable name, a metavar and no Python type at 80 columns.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from sanic_mock import __version__
from sanic_mock.settings import SettingsError

ENV = "MOCK_OPENAI_"


def env_name(flag: str) -> str:
    """The variable of an option: `--response-delay-ms` -> `MOCK_OPENAI_RESPONSE_DELAY_MS`."""
    return ENV + flag.split("/")[0].lstrip("-").upper().replace("-", "_")


def option(
    flag: str,
    *short: str,
    help: str,
    metavar: str | None = None,
    also: tuple[str, ...] = (),
    **extra: Any,
) -> Any:
    """`typer.Option(flag, *short)`, also read from `env_name(flag)`, then each name in `also`.

    `flag` is the long name (`--http2/--no-http2` for an on/off pair, one name for a flag);
    `metavar` is what `--help` shows for the value; `extra` goes to `typer.Option` as it is
    (`show_default="..."` for a default that is not a plain value).
    """
    envvar = [env_name(flag), *also]
    return typer.Option(flag, *short, envvar=envvar, metavar=metavar, help=help, **extra)


def choices(enum: type[Enum]) -> str:
    """The metavar of a choice: `match|sample` (the values of `enum`)."""
    return "|".join(str(member.value) for member in enum)


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
    option(
        "--upstream-key-env",
        metavar="VAR",
        help="Name of an environment variable holding the upstream API key (sent as "
        "'Authorization: Bearer', replacing the client's).",
    ),
]
AllowSecretsOption = Annotated[
    bool,
    option(
        "--allow-secrets",
        help="Write or load recorded exchanges even if they hold key-like strings.",
    ),
]

ReplayIdsOption = Annotated[
    str,
    option(
        "--replay-ids",
        metavar="fresh|recorded",
        help="Recorded corpus: response id and created fresh per answer, or as recorded "
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
