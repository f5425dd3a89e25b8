"""Shared helpers: run the CLI in-process, find ../shared."""

from pathlib import Path

import pytest

from kdcli.cli import main

from support.paths import SHARED


def pytest_collection_modifyitems(items):
    """Files marked ``heavy(seconds)`` first, longest first: under ``--dist loadfile
    --no-loadscope-reorder`` pytest-xdist hands files out in this order, so the long ones start
    at once instead of ending the run alone on one worker while the other idles."""

    def seconds(item) -> float:
        mark = item.get_closest_marker("heavy")
        if mark is not None and "seconds" not in mark.kwargs:
            raise pytest.UsageError(f"{item.nodeid}: write pytest.mark.heavy(seconds=...)")
        return 0.0 if mark is None else float(mark.kwargs["seconds"])

    items.sort(key=lambda item: -seconds(item))  # stable: a file's tests stay in order


@pytest.fixture(autouse=True, scope="session")
def _a_cache_of_the_tests_own(tmp_path_factory):
    """kd's default cache is the checkout's datasets/cache: the tests' datasets and teacher
    predictions go to a folder of their own instead, fresh for each run (as on CI's clean clone),
    so a run neither fills a user's cache nor is made faster by an earlier one. A test that sets
    KD_CACHE_DIR itself (monkeypatch) still wins; processes the tests start inherit it."""
    import os

    before = os.environ.get("KD_CACHE_DIR")
    os.environ["KD_CACHE_DIR"] = str(tmp_path_factory.mktemp("kd-cache"))
    yield
    if before is None:
        os.environ.pop("KD_CACHE_DIR", None)
    else:
        os.environ["KD_CACHE_DIR"] = before


def run_kd(args, capsys):
    """Run `kd ARGS` in-process; returns (exit code, stdout, stderr)."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def csv_with_an_empty_column(path: Path, column: str, rows: int = 150) -> Path:
    """Two informative features, one with no value at all (named ``column``), a binary label."""
    import numpy as np
    import pandas as pd

    x = np.random.default_rng(1).normal(size=(rows, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], column: np.nan, "y": x[:, 1] > 0})
    frame.to_csv(path, index=False)
    return path


def one_line_error(code, out, err, quiet_stdout: bool = True) -> str:
    """The one line of a refusal (exit 2, no traceback); returns it for the caller to read."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, (code, out, err)
    assert not quiet_stdout or out == "", out
    assert lines[0].startswith("kd: error: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture
def kd(capsys):
    return lambda *args: run_kd(args, capsys)


def shared_path(*parts) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: ../shared is not beside this checkout")
    return path
