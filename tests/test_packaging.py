"""A normal install works away from the checkout: the wheel carries the suites, and its data cache
lands in the user's cache folder, not in site-packages."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from support.paths import ROOT

FAST = ("--teacher-param", "n_estimators=20", "--sizes", "4")


def _build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the sources (no build files left in the checkout)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "kdcli", src / "kdcli", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)]
    built = subprocess.run(pip, capture_output=True, text=True)
    if built.returncode:  # no package index to hand: build with this Python's setuptools
        isolated = built.stderr[-1000:]
        built = subprocess.run([*pip, "--no-build-isolation"], capture_output=True, text=True)
        assert built.returncode == 0, isolated + built.stderr[-1000:]
    (wheel,) = out.glob("kd-*.whl")
    return wheel


def _venv_with(wheel: Path, tmp_path: Path) -> Path:
    """A fresh virtual environment holding the wheel. kd's dependencies come from this Python's
    site-packages, added as a plain path: its .pth files (the editable install's finder, which
    maps kdcli to the checkout) are not run, so `import kdcli` finds the wheel's copy."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    (Path(site) / "dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    done = subprocess.run([*install, "--no-index", "--quiet", str(wheel)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return venv


@pytest.mark.slow
def test_an_installed_wheel_has_the_suites_and_runs_away_from_the_checkout(tmp_path):
    venv = _venv_with(_build_wheel(tmp_path), tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KD_", "PYTHON"))}
    env |= {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(a) for a in args], cwd=elsewhere, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    where = run(venv / "bin" / "python", "-c", "import kdcli; print(kdcli.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(venv), where  # the wheel, not the checkout
    kd = venv / "bin" / "kd"
    listed = run(kd, "datasets", "list", "--suite", "openml-cc18", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"name": "adult"' in listed.stdout
    fitted = run(kd, "fit", "--dataset", "sklearn:iris", "--quiet", *FAST)
    assert fitted.returncode == 0, fitted.stderr
    study = run(kd, "benchmark", "--datasets", "iris", "--out", "runs/b", "--quiet", *FAST)
    assert study.returncode == 0, study.stderr
    assert (elsewhere / "runs" / "b" / "results.csv").is_file()
    assert (tmp_path / "xdg" / "kd").is_dir()  # the cache: the user's, never site-packages
    assert not list(venv.rglob("cache"))
