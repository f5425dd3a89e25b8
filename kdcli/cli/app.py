"""The `kd` Typer application; each command lives in a module of its own."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from kdcli import __version__

app = typer.Typer(
    name="kd",
    help="Knowledge distillation experiments for tabular data: which way of distilling a teacher "
    "into a cheap student gives the lowest held-out error, and by how much.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(
    help="List and fetch datasets: suites (openml-cc18, paper, demo, dir:PATH) and OpenML ids.",
    no_args_is_help=True,
)
app.add_typer(datasets_app, name="datasets")
invocation: list[str] = []  # the arguments main() was called with, for run records


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kd {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version_: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Knowledge distillation experiments for tabular data."""


def command_line() -> str:
    import shlex

    return shlex.join(["kd", *invocation])


def stdout_console() -> Console:
    """Tables on a terminal fit its width; piped, they are not cut to 80 columns. No emoji
    codes: a path or dataset named `x:smile:` prints as written (user text in markup is
    escaped where it is put, see :func:`plain`)."""
    width = None if sys.stdout.isatty() else 160
    return Console(width=width, emoji=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def plain(text: object) -> str:
    """User text (a dataset name, a path) made safe to put in rich markup: `[bold]` is shown,
    not read as a style."""
    return escape(str(text))
