"""The Makefile's install stamp: `make test` installs kd again when the Python's kdcli is not
this checkout's, and only then (`make -n` prints what it would run, and runs nothing)."""

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from support.paths import ROOT


def planned(tmp_path, pythonpath: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "test", f"PYTHON={sys.executable}"],
        capture_output=True, text=True, env=env, check=True, cwd=tmp_path,
    )  # fmt: skip
    return done.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_another_checkouts_kdcli_is_installed_over(tmp_path):
    other = tmp_path / "other-checkout"
    (other / "kdcli").mkdir(parents=True)
    (other / "kdcli" / "__init__.py").write_text("")
    assert "pip install" in planned(tmp_path, str(other))  # found first: not this checkout's
    here = planned(tmp_path, str(ROOT))  # this checkout's: the stamp alone decides
    stamp = ROOT / "build" / f".installed-{hashlib.sha1(sys.prefix.encode()).hexdigest()[:10]}"
    fresh = stamp.exists() and stamp.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime
    assert ("pip install" in here) == (not fresh)
