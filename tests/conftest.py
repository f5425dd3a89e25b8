"""Shared helpers: run the CLI in-process, find ../shared."""

from pathlib import Path

import pytest

from kdcli.cli import main

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def run_kd(args, capsys):
    """Run `kd ARGS` in-process; returns (exit code, stdout, stderr)."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def kd(capsys):
    return lambda *args: run_kd(args, capsys)


def shared_path(*parts) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: ../shared is not beside this checkout")
    return path
