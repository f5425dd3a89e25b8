"""The `kd` command as click sees it, for mkdocs-click: the CLI reference is generated from the
same Typer app that answers `kd --help`, so the two cannot drift apart."""

from __future__ import annotations

import typer.main

from kdcli.cli import app, tidied

command = tidied(typer.main.get_command(app))
