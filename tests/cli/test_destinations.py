"""Destinations that cannot be written: one line naming the path and the fix (exit 2), and a
`kd fit --out` folder that is whole or absent, never results without their run.json.

Real failures, no mocks: a full and a read-only file system are small tmpfs mounts in a private
user and mount namespace (`unshare -Urm`, no root needed, nothing seen outside), /dev/full for
ENOSPC, /sys (which refuses new files even to root), a path through a regular file, a name too
long. Permission bits are tested only when not root, since root writes through them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import kdcli
from kdcli import api
from kdcli.atomic import atomic_write_text, translated, written_together
from kdcli.errors import KDError

from conftest import one_line_error, run_kd

PROJECT = Path(__file__).resolve().parents[2]
FIT = ["fit", "--dataset", "sklearn:iris", "--student", "tree", "--sizes", "2", "--modes", "raw"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def one_line_error_(code, out, err) -> str:
    return one_line_error(code, out, err, quiet_stdout=False)


def run_kd_(capsys, args):
    return run_kd(args, capsys)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished `kd fit --out` folder to report on."""
    out = tmp_path_factory.mktemp("run") / "run"
    plan = kdcli.prepare_fit("sklearn:iris", student="tree", sizes="2", modes="raw")
    result = kdcli.execute_fit(plan)
    kdcli.save_fit(out, result, api.fit_record(plan, result, 0.0))
    return out


def sys_refuses_files() -> Path:
    """/sys takes no new files, even from root; skip where it does."""
    probe = Path("/sys/kd-probe-test")
    try:
        probe.write_text("x")
    except OSError:
        return Path("/sys")
    probe.unlink()
    pytest.skip("/sys accepts new files here")


# ---------------------------------------------------------------- the one translation


def test_a_full_disk_is_named_with_the_fix():
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with pytest.raises(KDError) as err, translated("runs/x", "--out"):
        with open("/dev/full", "w") as fh:
            fh.write("x")
            fh.flush()
    assert str(err.value) == "the disk is full at runs/x; free space or choose another --out"


def test_a_path_through_a_file_is_named(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(KDError) as err:
        atomic_write_text(tmp_path / "afile" / "report.md", "text", "--out")
    assert "is a file, not a folder; choose another --out" in str(err.value)
    assert (tmp_path / "afile").read_text() == ""


def test_files_written_together_appear_together_or_not_at_all(tmp_path):
    out = tmp_path / "new" / "run"
    with pytest.raises(RuntimeError), written_together(out, "--out"):
        atomic_write_text(out / "results.csv", "a\n")
        assert not (out / "results.csv").exists()  # not before the block ends
        raise RuntimeError("the disk filled up")
    assert not (tmp_path / "new").exists(), "the folders the block made are removed"
    with written_together(out, "--out"):
        atomic_write_text(out / "results.csv", "a\n")
        with written_together(out):  # a nested block joins the outer one
            atomic_write_text(out / "run.json", "{}\n")
        assert not (out / "run.json").exists()
    assert sorted(p.name for p in out.iterdir()) == ["results.csv", "run.json"]


# ---------------------------------------------------------------- real file systems


def kd_in_small_fs(tmp_path: Path, args: list, options: str) -> tuple:
    """Run `kd ARGS` with a fresh tmpfs (mount ``options``) at a new folder, seen only by that
    process; MNT in an argument is the mount. Returns (exit code, stderr, the paths the mount
    holds afterwards, the mount)."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare here")
    mnt = Path(tempfile.mkdtemp(dir=tmp_path))
    quoted = " ".join(f"'{str(a).replace('MNT', str(mnt))}'" for a in args)
    script = (
        f"mount -t tmpfs -o {options} none '{mnt}' || exit 99; "
        f"{sys.executable} -m kdcli {quoted}; echo \"rc=$?\"; cd '{mnt}' && find . | sort"
    )
    proc = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=300,
        check=False,
    )
    if proc.returncode == 99 or "rc=" not in proc.stdout:
        pytest.skip(f"no private tmpfs mount here (unshare -Urm): {proc.stderr.strip()[:200]}")
    rc = next(line for line in proc.stdout.splitlines() if line.startswith("rc="))
    left = [line for line in proc.stdout.splitlines() if line.startswith(".")]
    return int(rc[3:]), proc.stderr, left, mnt


def test_fit_out_on_a_full_disk_leaves_nothing(tmp_path):
    """16 kB: results.csv, summary.csv and latency.csv fit, run.json does not. Before, those
    three were left behind without their run.json."""
    rc, err, left, mnt = kd_in_small_fs(tmp_path, [*FIT, "-q", "--out", "MNT/run"], "size=16k")
    assert rc == 2, err
    assert err.strip() == (
        f"kd: error: the disk is full at {mnt}/run; free space or choose another --out"
    )
    assert left == ["."], f"a failed --out must leave nothing, found {left}"


def test_fit_out_on_a_read_only_file_system_is_refused_before_work(tmp_path):
    rc, err, left, mnt = kd_in_small_fs(tmp_path, [*FIT, "--out", "MNT/run"], "size=16k,ro")
    assert rc == 2, err
    assert err == f"kd: error: --out {mnt}/run: {mnt} is not writable; choose another folder\n"
    assert left == ["."]


def test_report_out_and_plots_on_a_read_only_file_system(tmp_path, run_dir):
    for args in (
        ["report", run_dir, "--no-plots", "--out", "MNT/report.md"],
        ["report", run_dir, "--plots", "MNT/plots", "--format", "md"],
    ):
        rc, err, left, mnt = kd_in_small_fs(tmp_path, args, "size=16k,ro")
        assert rc == 2 and err.count("\n") == 1, err
        assert str(mnt) in err and "not writable" in err, err
        assert left == ["."]


def test_fit_out_under_sys_is_refused_before_any_fit(capsys):
    sys_dir = sys_refuses_files()
    line = one_line_error_(*run_kd_(capsys, [*FIT, "--out", sys_dir / "kd-test-run"]))
    assert line == f"kd: error: {sys_dir}/kd-test-run is not writable (permission denied); " + (
        "choose another --out"
    )


def test_report_out_and_plots_under_sys(capsys, run_dir):
    sys_dir = sys_refuses_files()
    line = one_line_error_(
        *run_kd_(capsys, ["report", run_dir, "--no-plots", "--out", sys_dir / "kd-report.md"])
    )
    assert f"{sys_dir}/kd-report.md is not writable" in line and "another --out" in line
    line = one_line_error_(
        *run_kd_(capsys, ["report", run_dir, "--plots", sys_dir / "kd-plots", "--format", "md"])
    )
    assert f"{sys_dir}/kd-plots is not writable" in line and "--plots" in line


def test_a_name_too_long_is_one_line(capsys, tmp_path):
    out = tmp_path / ("a" * 300)
    line = one_line_error_(*run_kd_(capsys, [*FIT, "--out", out]))
    assert "the name is too long" in line and "--out" in line


@pytest.mark.skipif(IS_ROOT, reason="root writes through permission bits")
def test_read_only_folders_by_permission(capsys, tmp_path, run_dir):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        line = one_line_error_(*run_kd_(capsys, [*FIT, "--out", locked / "run"]))
        assert f"{locked} is not writable" in line
        line = one_line_error_(
            *run_kd_(capsys, ["report", run_dir, "--no-plots", "--out", locked / "r.md"])
        )
        assert f"{locked} is not writable" in line
        line = one_line_error_(
            *run_kd_(capsys, ["report", run_dir, "--plots", locked / "plots", "--format", "md"])
        )
        assert f"{locked} is not writable" in line and "--no-plots" in line
    finally:
        locked.chmod(0o755)


def test_a_good_out_is_whole(capsys, tmp_path):
    out = tmp_path / "run"
    code, _out, err = run_kd_(capsys, [*FIT, "-q", "--out", out])
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "latency.csv",
        "results.csv",
        "run.json",
        "summary.csv",
    ]
