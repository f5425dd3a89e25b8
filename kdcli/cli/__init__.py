"""The `kd` command line: a thin layer over :mod:`kdcli.api`, a module per command.

Errors raised on purpose (:class:`kdcli.errors.KDError`) become one line and their exit code; a
setting named in Python (``sizes``) is named as its option (``--sizes``). Anything else is a bug
or a library failure: one line, exit 1, the traceback with --debug.

A command module imports kd's fitting and reporting code (and with it scikit-learn, SciPy,
Matplotlib) inside its command, not at the top: `kd --help`, `kd --version` and a refused option
answer in about 0.6 s instead of 1.7 (tests/cli/test_startup.py).
"""

from __future__ import annotations

import functools
import sys

import typer

from kdcli.cli import (  # noqa: F401 - register commands
    benchmark,
    check,
    datasets,
    distill,
    export,
    fit,
    predict,
    report,
)
from kdcli.cli.app import app, invocation, stderr_console
from kdcli.errors import KDError, SettingError, Terminated
from kdcli.study.signals import stop_signals_interrupt

try:  # typer >= 0.20 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer uses click itself
    from click.exceptions import UsageError  # type: ignore[assignment]  # click's own class

__all__ = ["app", "main", "tidied"]


def without_bool_placeholders(command):
    """Flags in --help as `--force`, not `--force <bool>`: a flag takes no value."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False):
            param.metavar = ""
    made = command.get_help_option  # --help is made afresh for each context

    def help_option(ctx):
        option = made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        without_bool_placeholders(sub)
    return command


def tidied(command):
    """The command as --help and the docs show it: flags without placeholders, and each
    paragraph of a command's description as one line for the terminal to wrap (a docstring's
    own line ends would otherwise break a sentence at the width of the source file)."""
    for cmd in _with_subcommands(command):
        if cmd.help:
            cmd.help = "\n\n".join(" ".join(p.split()) for p in cmd.help.split("\n\n"))
    return without_bool_placeholders(command)


def _with_subcommands(command) -> list:
    subs = getattr(command, "commands", {}).values()
    return [command, *(c for sub in subs for c in _with_subcommands(sub))]


@functools.cache
def _command():
    """The click command tree, built once per process: building it reads every option of every
    command (about 16 ms), which a notebook or test calling :func:`main` many times paid each
    time. Its objects keep no state between calls; each call parses in a context of its own."""
    return tidied(typer.main.get_command(app))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors are one line and exit 2; --debug shows tracebacks."""
    args = list(sys.argv[1:] if argv is None else argv)
    invocation[:] = args
    debug = "--debug" in args
    command = _command()
    try:
        with stop_signals_interrupt() as stop:  # SIGTERM: one line and exit 143, like Ctrl-C
            code = command.main(args=args, prog_name="kd", standalone_mode=False)
    except KDError as err:
        if debug:
            raise
        text = err.render(err.option) if isinstance(err, SettingError) else str(err)
        stderr_console().print(f"kd: error: {text}", markup=False)
        sys.exit(err.exit_code)
    except UsageError as err:
        if not err.format_message().strip():  # `kd` alone: the help was shown, nothing to add
            sys.exit(2)
        where = err.ctx.command_path if err.ctx is not None else "kd"
        print(f"kd: error: {err.format_message()} (see {where} --help)", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt) as err:  # click turns Ctrl-C (and SIGTERM) into Abort
        if stop.terminated or isinstance(err, Terminated):
            print("kd: terminated (SIGTERM)", file=sys.stderr)
            sys.exit(143)
        print("kd: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as err:  # a bug or a library failure: say so in one line
        if debug:
            raise
        print(
            f"kd: error: {type(err).__name__}: {err} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
    if code == 130 and stop.terminated:  # typer returned Ctrl-C's code for our SIGTERM
        code = 143
    if code in (130, 143):
        what = "interrupted" if code == 130 else "terminated (SIGTERM)"
        print(f"kd: {what}; nothing was written for unfinished work", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)
