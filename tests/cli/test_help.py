"""Every command's --help shows flags as flags: `--force`, never `--force <bool>`."""

import pytest

from conftest import run_kd

COMMANDS = [[], ["fit"], ["benchmark"], ["report"], ["check"], ["distill"], ["predict"]]
COMMANDS += [["datasets"], ["datasets", "list"], ["datasets", "fetch"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "kd")
def test_help_has_no_bool_placeholders(command, capsys):
    code, out, err = run_kd([*command, "--help"], capsys)
    assert code == 0, err
    assert "--help" in out and "<bool>" not in out


def _commands(command):
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


def test_help_text_has_no_hard_line_breaks_inside_a_paragraph():
    """A docstring's own line ends would break --help's sentences at the source's width."""
    import typer.main

    from kdcli.cli import app, tidied

    broken = []
    for command in _commands(tidied(typer.main.get_command(app))):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        for text in texts:
            broken += [p for p in text.split("\n\n") if "\n" in p]
    assert broken == []


def test_a_description_paragraph_is_one_line_on_a_wide_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run_kd(["benchmark", "--help"], capsys)
    assert code == 0
    assert any("resumes; exit code 1 if any unit failed" in line for line in out.splitlines())
