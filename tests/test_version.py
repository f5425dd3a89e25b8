"""One version source (the installed metadata), and the commit of a checkout in run.json."""

import json
import subprocess
from importlib.metadata import version

import pytest

import kdcli

from conftest import run_kd
from support.paths import ROOT


def test_the_version_has_one_source(capsys):
    assert kdcli.__version__ == version("kd") != "0+unknown"
    code, out, _ = run_kd(["--version"], capsys)
    assert code == 0 and out.strip() == f"kd {version('kd')}"
    assert f'version = "{version("kd")}"' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_run_json_records_the_checkouts_commit(tmp_path, capsys):
    out = tmp_path / "fit"
    args = ["fit", "--sizes", "4", "--modes", "raw", "--teacher-param", "n_estimators=5"]
    assert run_kd([*args, "--out", out], capsys)[0] == 0
    versions = json.loads((out / "run.json").read_text())["versions"]
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert versions["kd"] == version("kd")
    assert versions["kd_commit"].removesuffix("+dirty") == head
