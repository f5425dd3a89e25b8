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
