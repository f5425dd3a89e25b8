"""Destinations that cannot be written: one line naming the path and the fix (exit 2), and a
`kd fit --out` folder that is whole or absent, never results without their run.json.

Real failures, no mocks: a full and a read-only file system are small tmpfs mounts in a private
user and mount namespace (`unshare -Urm`, no root needed, nothing seen outside), /dev/full for
ENOSPC, /sys (which refuses new files even to root), a path through a regular file, a name too
long. Permission bits are tested only when not root, since root writes through them. The
commands on small file systems share one namespace and one Python process, each run as
`python -m kdcli` runs it, on its own mount, with its own stderr.
"""

from __future__ import annotations

import errno
import json
import os
import runpy
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path

import pytest

import kdcli
from kdcli import api
from kdcli.atomic import atomic_write_text, destination_error, translated, written_together
from kdcli.errors import KDError

from conftest import one_line_error, run_kd
from support.paths import ROOT as PROJECT

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
    kdcli.save_fit(out, result, record=api.fit_record(plan, result, seconds=0.0))
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


@dataclass(frozen=True)
class SmallFsJob:
    """`kd ARGS` on a fresh tmpfs mounted with ``options``; MNT in an argument is the mount."""

    args: list
    options: str


@dataclass(frozen=True)
class SmallFsRun:
    """What the command did: its exit code, its stderr, the paths its mount holds after it."""

    code: int
    err: str
    left: list[str]
    mnt: Path


def run_as_python_m_kdcli(args: list[str]) -> int:
    """``args`` as `python -m kdcli ARGS` runs them (``kdcli.__main__`` as ``__main__``); the exit
    code that process would end with, a traceback on stderr for an uncaught exception."""
    import traceback

    sys.argv = ["kd", *args]
    try:
        runpy.run_module("kdcli", run_name="__main__", alter_sys=True)
    except SystemExit as end:
        if end.code is None or isinstance(end.code, int):
            return end.code or 0
        print(end.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _run_small_fs_jobs(plan: str, result: str) -> None:
    """Inside the namespace: each job of ``plan`` (JSON) with fd 2 to its own file, then the
    listing of its mount; the exit codes and listings written to ``result``."""
    done = {}
    for name, job in json.loads(Path(plan).read_text()).items():
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(2)
        err = os.open(job["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(err, 2)
        os.close(err)
        try:
            code = run_as_python_m_kdcli(job["args"])
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        listing = subprocess.run(
            f"cd '{job['mnt']}' && find . | sort", shell=True, capture_output=True, text=True
        )
        done[name] = {"code": code, "left": listing.stdout.splitlines()}
    Path(result).write_text(json.dumps(done))


DRIVER = (
    "import sys; sys.path[:0] = [{tests!r}, {here!r}]; "
    "from test_destinations import _run_small_fs_jobs; _run_small_fs_jobs(*sys.argv[1:])"
)


def kd_in_small_fs(tmp_path: Path, jobs: dict[str, SmallFsJob]) -> dict[str, SmallFsRun]:
    """Run each job's `kd ARGS` with a fresh tmpfs of its own at a new folder, seen only by the
    one process that runs them all, one after another (one start of Python and kd, not one
    each). Skips where no private tmpfs can be mounted."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare here")
    plan, mounts = {}, []
    for name, job in jobs.items():
        mnt = Path(tempfile.mkdtemp(dir=tmp_path))
        args = [str(a).replace("MNT", str(mnt)) for a in job.args]
        plan[name] = {"args": args, "mnt": str(mnt), "err": str(tmp_path / f"{name}.err")}
        mounts.append(f"mount -t tmpfs -o {job.options} none '{mnt}' || exit 99; ")
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    result = tmp_path / "result.json"
    driver = DRIVER.format(tests=str(PROJECT / "tests"), here=str(Path(__file__).parent))
    script = (
        "echo in-namespace; "
        + "".join(mounts)
        + f"exec {sys.executable} -c \"$0\" '{tmp_path}/plan.json' '{result}'"
    )
    proc = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script, driver],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=300,
        check=False,
    )
    if proc.returncode == 99 or "in-namespace" not in proc.stdout:
        pytest.skip(f"no private tmpfs mount here (unshare -Urm): {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0 and result.exists(), (proc.returncode, proc.stderr[-3000:])
    done = json.loads(result.read_text())
    return {
        name: SmallFsRun(
            done[name]["code"],
            Path(plan[name]["err"]).read_text(),
            done[name]["left"],
            Path(plan[name]["mnt"]),
        )
        for name in jobs
    }


STUDY_ON_A_FULL_DISK = SmallFsJob(
    ["benchmark", "--suite", "demo", "--datasets", "wine", "--student", "tree", "--sizes", "2",
     "--modes", "raw", "--teacher-param", "n_estimators=5", "--out", "MNT/study"],
    "size=16k",
)  # fmt: skip


@pytest.fixture(scope="module")
def small_fs(request, tmp_path_factory, run_dir) -> dict[str, SmallFsRun]:
    """kd fit and kd report on full and read-only file systems, in one namespace and process;
    with them the study on a full disk, when its (slow) test is among those run."""
    jobs = {
        "fit-full": SmallFsJob([*FIT, "-q", "--out", "MNT/run"], "size=16k"),
        "fit-ro": SmallFsJob([*FIT, "--out", "MNT/run"], "size=16k,ro"),
        "report-out-ro": SmallFsJob(
            ["report", run_dir, "--no-plots", "--out", "MNT/report.md"], "size=16k,ro"
        ),
        "report-plots-ro": SmallFsJob(
            ["report", run_dir, "--plots", "MNT/plots", "--format", "md"], "size=16k,ro"
        ),
    }
    study_test = test_a_study_on_a_full_disk_names_a_real_fix.__name__
    if any(item.name == study_test for item in request.session.items):
        jobs["study-full"] = STUDY_ON_A_FULL_DISK
    return kd_in_small_fs(tmp_path_factory.mktemp("small-fs"), jobs)


def test_fit_out_on_a_full_disk_leaves_nothing(small_fs):
    """16 kB: results.csv, summary.csv and latency.csv fit, run.json does not. Before, those
    three were left behind without their run.json."""
    rc, err, left, mnt = astuple(small_fs["fit-full"])
    assert rc == 2, err
    assert err.strip() == (
        f"kd: error: the disk is full at {mnt}/run; free space or choose another --out"
    )
    assert left == ["."], f"a failed --out must leave nothing, found {left}"


def test_fit_out_on_a_read_only_file_system_is_refused_before_work(small_fs):
    rc, err, left, mnt = astuple(small_fs["fit-ro"])
    assert rc == 2, err
    assert err == f"kd: error: --out {mnt}/run: {mnt} is not writable; choose another folder\n"
    assert left == ["."]


def test_report_out_and_plots_on_a_read_only_file_system(small_fs):
    for name in ("report-out-ro", "report-plots-ro"):
        rc, err, left, mnt = astuple(small_fs[name])
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


# ---------------------------------------------------------------- special files and links
# Every FIFO, device node and link here is made by the test in tmp_path: the system's own /dev
# entries are never touched.


class PipeReader:
    """Drains a FIFO made by the test, so a writer never blocks: the read end is opened first
    (non-blocking), and a thread collects what arrives until :meth:`text` is asked for."""

    def __init__(self, fifo: Path):
        self.fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.chunks: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:  # a writer is there, nothing to read yet
                time.sleep(0.01)
                continue
            if chunk:
                self.chunks.append(chunk)
            elif self.stop.is_set():
                return
            else:
                time.sleep(0.01)

    def text(self) -> str:
        self.stop.set()
        self.thread.join(10)
        os.close(self.fd)
        return b"".join(self.chunks).decode()


@contextmanager
def readers_released(fifo: Path) -> Iterator[None]:
    """While the block runs, any reader blocked on ``fifo`` is given end-of-file at once, so a
    command that (wrongly) reads a FIFO fails instead of hanging the test."""
    stop = threading.Event()

    def release() -> None:
        while not stop.is_set():
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader yet (ENXIO), or the FIFO is gone
                pass
            time.sleep(0.02)

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def device_node(path: Path, minor: int) -> Path:
    """A character device with the numbers of the kernel's memory devices (1, minor): 3 is the
    null device, 7 the full one. Skips where this process may not make or open one."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        os.close(os.open(path, os.O_WRONLY))  # a file system mounted nodev refuses to open it
    except OSError as err:
        pytest.skip(f"cannot make a device node here: {err}")
    return path


def is_fifo(path: Path) -> bool:
    return stat.S_ISFIFO(os.lstat(path).st_mode)


def is_char_device(path: Path) -> bool:
    return stat.S_ISCHR(os.lstat(path).st_mode)


REPORT_MD = ["--no-plots", "--format", "md", "--out"]


def test_report_out_writes_through_a_fifo(capsys, tmp_path, run_dir):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = PipeReader(fifo)
    code, _, err = run_kd_(capsys, ["report", run_dir, *REPORT_MD, fifo])
    text = reader.text()
    assert code == 0, err
    assert is_fifo(fifo), "the FIFO was replaced by a regular file"
    assert "| size |" in text


def test_report_out_writes_through_a_device(capsys, tmp_path, run_dir):
    null = device_node(tmp_path / "null", 3)
    code, _, err = run_kd_(capsys, ["report", run_dir, *REPORT_MD, null])
    assert code == 0, err
    assert is_char_device(null), "the device was replaced by a regular file"


def test_a_device_that_refuses_the_write_is_one_line_and_kept(capsys, tmp_path, run_dir):
    full = device_node(tmp_path / "full", 7)
    line = one_line_error_(*run_kd_(capsys, ["report", run_dir, *REPORT_MD, full]))
    assert line.startswith(f"kd: error: cannot write to {full} (a character device)"), line
    assert "another --out" in line
    assert is_char_device(full)


def test_report_out_through_a_symlink_writes_its_target(capsys, tmp_path, run_dir):
    target = tmp_path / "real.md"
    target.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    code, _, err = run_kd_(capsys, ["report", run_dir, *REPORT_MD, link])
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "| size |" in target.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file


def test_report_out_through_a_dangling_symlink_creates_its_target(capsys, tmp_path, run_dir):
    link = tmp_path / "link.md"
    link.symlink_to("made.md")  # relative, to a file not there yet
    code, _, err = run_kd_(capsys, ["report", run_dir, *REPORT_MD, link])
    assert code == 0, err
    assert link.is_symlink() and "| size |" in (tmp_path / "made.md").read_text()


def test_report_out_dash_is_stdout(capsys, tmp_path, run_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_kd_(capsys, ["report", run_dir, *REPORT_MD, "-"])
    assert code == 0, err
    assert "| size |" in out and "wrote" not in err
    assert list(tmp_path.iterdir()) == [], "no file named '-' is made"


def test_kd_s_own_files_never_replace_a_special_file(tmp_path):
    """Plots, a fit's files, a study's records: a FIFO there is refused, not replaced."""
    fifo = tmp_path / "rank.png"
    os.mkfifo(fifo)
    with pytest.raises(KDError) as err:
        atomic_write_text(fifo, "x", "--plots")
    assert str(err.value) == (
        f"{fifo} is a named pipe (FIFO), not a regular file, so kd will not replace it; "
        "move it away or choose another --plots"
    )
    with pytest.raises(KDError) as err:
        atomic_write_text(fifo, "x")  # a study's own file: no option to name
    assert "move it away" in str(err.value)
    assert is_fifo(fifo)


def test_kd_s_own_files_follow_a_symlink_to_its_target(tmp_path):
    target = tmp_path / "elsewhere" / "results.csv"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "results.csv"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(KDError) as err:
        atomic_write_text(loop, "x", "--out")
    assert "symbolic link" in str(err.value) and loop.is_symlink()


# ---------------------------------------------------------------- a kd fit --out of others' files


def fit_into(capsys, out: Path, *extra) -> tuple:
    return run_kd_(capsys, [*FIT, "-q", "--out", out, *extra])


def test_fit_out_holding_the_user_s_own_results_csv_is_refused(capsys, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "results.csv").write_text("my numbers\n")
    for extra in ([], ["--force"]):  # --force replaces kd's files only: these are not kd's
        line = one_line_error_(*fit_into(capsys, out, *extra))
        assert line == (
            f"kd: error: --out {out} is not empty and holds no kd fit results; "
            "use a new or empty folder"
        )
    assert [p.name for p in out.iterdir()] == ["results.csv"]
    assert (out / "results.csv").read_text() == "my numbers\n"


def test_fit_out_holding_an_earlier_fit_needs_force(capsys, tmp_path, run_dir):
    out = tmp_path / "earlier"
    shutil.copytree(run_dir, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    line = one_line_error_(*run_kd_(capsys, [*FIT[:2], "sklearn:wine", *FIT[3:], "--out", out]))
    assert line == (
        f"kd: error: --out {out} holds an earlier kd fit (of sklearn:iris); add --force to "
        "replace its results.csv, summary.csv, latency.csv and run.json (nothing else), or use "
        "another folder"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_force_replaces_only_kd_s_own_files(capsys, tmp_path, run_dir):
    out = tmp_path / "earlier"
    shutil.copytree(run_dir, out)
    (out / "notes.txt").write_text("mine")
    wine = [*FIT[:2], "sklearn:wine", *FIT[3:]]
    code, _, err = run_kd_(capsys, [*wine, "-q", "--force", "--out", out])
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "run.json").read_text())["dataset"]["name"] == "sklearn:wine"
    assert sorted(p.name for p in out.iterdir()) == [
        "latency.csv", "notes.txt", "results.csv", "run.json", "summary.csv",
    ]  # fmt: skip


def test_fit_out_an_empty_existing_folder_is_fine(capsys, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    code, _, err = fit_into(capsys, out)
    assert code == 0, err
    assert (out / "run.json").is_file()


# ---------------------------------------------------------------- a fix that exists


@pytest.mark.parametrize(
    ("number", "fix"),
    [
        (errno.ENOSPC, "the disk is full at D/run.json; free space there, then run the command "
         "again"),
        (errno.EACCES, "D/run.json is not writable (permission denied); make D writable, then "
         "run the command again"),
        (errno.ENOTDIR, "D/run.json: a part of this path is a file, not a folder; move that file "
         "away, then run the command again"),
    ],
)  # fmt: skip
def test_without_an_option_the_fix_offered_is_one_that_exists(number, fix):
    """kd's own files (a study's run.json, its units) are placed by no option of their own."""
    err = destination_error(OSError(number, os.strerror(number)), Path("D/run.json"))
    assert str(err) == fix
    assert "another place to write" not in str(err)


@pytest.mark.slow
def test_a_study_on_a_full_disk_names_a_real_fix(small_fs):
    rc, err, _left, _mnt = astuple(small_fs["study-full"])  # STUDY_ON_A_FULL_DISK
    assert rc == 2, err
    lines = [line for line in err.splitlines() if line.startswith("kd: error:")]
    assert len(lines) == 1 and "the disk is full" in lines[0], err
    assert "another place to write" not in err and "free space there" in lines[0], err


# ---------------------------------------------------------------- a reference is a regular file


@pytest.fixture
def results_csv(tmp_path) -> Path:
    """A results file of one cell per metric (no run.json): enough for kd check."""
    rows = [
        f"d,{r},0,{r},lightgbm,tree,8,raw,{metric},{value}"
        for r in (0, 1)
        for metric, value in (("error", 0.1 + r / 10), ("auc", 0.9 - r / 10))
    ]
    path = tmp_path / "results.csv"
    path.write_text("dataset,repeat,fold,seed,teacher,student,size,mode,metric,value\n")
    path.write_text(path.read_text() + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("update", [False, True], ids=["check", "update"])
def test_a_fifo_as_the_reference_is_refused_unread(capsys, tmp_path, results_csv, update):
    fifo = tmp_path / "ref.csv"
    os.mkfifo(fifo)
    with readers_released(fifo):
        code, out, err = run_kd_(
            capsys, ["check", results_csv, "--against", fifo, *(["--update"] if update else [])]
        )
    line = one_line_error_(code, out, err)
    assert line == (
        f"kd: error: reference {fifo} is a named pipe (FIFO), not a regular file; give the "
        "reference CSV file"
    )
    assert is_fifo(fifo)


@pytest.mark.parametrize("update", [False, True], ids=["check", "update"])
def test_a_device_as_the_reference_is_refused_unread(capsys, tmp_path, results_csv, update):
    null = device_node(tmp_path / "null", 3)
    code, out, err = run_kd_(
        capsys, ["check", results_csv, "--against", null, *(["--update"] if update else [])]
    )
    line = one_line_error_(code, out, err)
    assert "is a character device, not a regular file" in line
    assert is_char_device(null)


def test_update_through_a_symlink_writes_its_target(capsys, tmp_path, results_csv):
    target = tmp_path / "refs" / "ref.csv"
    target.parent.mkdir()
    link = tmp_path / "ref.csv"
    link.symlink_to(target)  # dangling: --update makes the reference
    for _ in range(2):  # and then rewrites it, through the link
        code, _, err = run_kd_(capsys, ["check", results_csv, "--against", link, "--update"])
        assert code == 0, err
        assert link.is_symlink() and "d,lightgbm,tree,8,raw" in target.read_text()


def test_report_out_through_a_link_to_a_pipe_like_dev_stdout(capsys, tmp_path, run_dir):
    """/dev/stdout is a link to /proc/self/fd/1; when that is a pipe, its name is no path
    (pipe:[N]), so the pipe is written through the link, never a file made beside it."""
    read, write = os.pipe()
    link = tmp_path / "stdout"
    link.symlink_to(f"/proc/self/fd/{write}")
    try:
        code, _, err = run_kd_(capsys, ["report", run_dir, *REPORT_MD, link])
    finally:
        os.close(write)  # so the read below ends
    with os.fdopen(read, "rb") as fh:
        text = fh.read().decode()
    assert code == 0, err
    assert "| size |" in text and link.is_symlink()
