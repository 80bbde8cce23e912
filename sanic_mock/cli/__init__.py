"""The `mock-openai` command line: the typer app, its command table, and `main`.

Each command lives in its own module: `serve` (cli/serve.py), `cert` (cli/cert.py), `record`
(cli/record.py) and `corpus build|inspect|import|merge|verify|show` (cli/corpus.py); what they
share is in cli/options.py. Only this package reads the environment: each option also comes from
`MOCK_OPENAI_<NAME>` (the original server's names, e.g. `MOCK_OPENAI_PREG_COUNT`). The command
line beats the environment, which beats the default. Bad values exit with code 2 and a one-line
message.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from sanic_mock.cli import cert, corpus, record, serve
from sanic_mock.cli.options import VersionOption
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.settings import SettingsError

# Help as click writes it (rich_markup_mode=None), not in Rich's boxes: at 80 columns those cut
# long option and variable names, and Rich markup ate bracketed text ("[default: ...]").
HELP = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    name="mock-openai",
    help="A high-performance mock of the OpenAI API for benchmarking and local development.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=HELP,
)
corpus_app = typer.Typer(
    help="Build and inspect corpus files.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=HELP,
)
app.add_typer(corpus_app, name="corpus")

try:  # typer >= 0.24 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer on click
    from click import UsageError  # type: ignore[assignment]


@app.callback()
def root(version: VersionOption = False) -> None:
    """mock-openai: serve, record and inspect OpenAI API mocks."""


# The command table, in the order `--help` lists it.
app.command()(serve.serve)
app.command()(cert.cert)
app.command()(record.record)
corpus_app.command("build")(corpus.corpus_build)
corpus_app.command("inspect")(corpus.corpus_inspect)
corpus_app.command("import")(corpus.corpus_import)
corpus_app.command("merge")(corpus.corpus_merge)
corpus_app.command("verify")(corpus.corpus_verify)
corpus_app.command("show")(corpus.corpus_show)
corpus_app.command("diff")(corpus.corpus_diff)


def click_command() -> Any:
    """The click command of the whole CLI, every value named (see `_name_values`)."""
    root = typer.main.get_command(app)
    _name_values(root)
    return root


def _name_values(command: Any) -> None:
    """An option or argument declared without a metavar shows its name in capitals in `--help`
    (`--count COUNT`, `PATH`), not typer's Python type (`<int>`, `<list[Path]>`)."""
    for param in command.params:
        if param.metavar is None and not getattr(param, "is_flag", False) and param.name:
            param.metavar = param.name.upper()
        if param.param_type_name == "argument":  # typer adds the type to an argument's name
            param.display_type_rich = lambda ctx: None
    for sub in getattr(command, "commands", {}).values():
        _name_values(sub)


def main(argv: list[str] | None = None) -> None:
    command = click_command()
    try:
        # Outside standalone mode click returns a command's `typer.Exit` code instead of exiting.
        code = command.main(args=argv, prog_name="mock-openai", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except UsageError as exc:
        if exc.format_message():  # empty when help was shown for a bare command
            print(f"mock-openai: error: {exc.format_message()}", file=sys.stderr)
        sys.exit(2)
    except (SettingsError, CorpusError) as exc:
        print(f"mock-openai: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
