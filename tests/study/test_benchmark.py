"""`kd benchmark`: resume after kill -9 and Ctrl-C, teacher reuse, failures, executors agree."""

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kdcli.cli import main
from kdcli.study.runner import StudyProgress

from conftest import csv_with_an_empty_column, one_line_error
from support.paths import ROOT as PROJECT

pytestmark = pytest.mark.heavy(seconds=100)  # its file starts early under pytest-xdist

FAST = ["--teacher-param", "n_estimators=20", "--sizes", "4", "--threads", "1"]
SUITE = "name,spec\niris,sklearn:iris\nwine,sklearn:wine\ncancer,sklearn:breast_cancer\n"


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "suite.csv"
    path.write_text(SUITE)
    return path


def bench_args(manifest, out, cache, *extra):
    return [
        "benchmark",
        "--suite",
        str(manifest),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        *FAST,
        *extra,
    ]


def results(out):
    return pd.read_parquet(Path(out) / "results.parquet")


def kd_once(args) -> tuple[int, str, str]:
    """`kd ARGS` in-process outside any test (the ``kd`` fixture needs a test's capsys):
    (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


@dataclass(frozen=True)
class Clean:
    """A finished study of ``bench_args(manifest, out, cache)``, run once with ``--json``."""

    manifest: Path
    out: Path
    cache: Path
    report: dict

    def args(self, out, cache, *extra):
        return bench_args(self.manifest, out, cache, *extra)

    def copy(self, tmp_path) -> tuple[Path, Path]:
        """A copy of its folder and of its cache, for a test that writes into them."""
        return Path(shutil.copytree(self.out, tmp_path / "out")), self.copy_cache(tmp_path)

    def copy_cache(self, tmp_path) -> Path:
        """A copy of its cache: every unit's teacher predictions, fitted once."""
        return Path(shutil.copytree(self.cache, tmp_path / "cache"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Clean:
    """The three datasets, one unit each, fitted once for the tests that start from a clean
    study (they copy it where they write; its teacher cache holds every unit's teacher)."""
    root = tmp_path_factory.mktemp("clean")
    manifest = root / "suite.csv"
    manifest.write_text(SUITE)
    code, stdout, err = kd_once([*bench_args(manifest, root / "out", root / "cache"), "--json"])
    assert code == 0, err
    return Clean(manifest, root / "out", root / "cache", json.loads(stdout))


def _as_from_a_shell() -> None:
    """kd starts as a shell starts it: SIGINT at its default, so Python turns Ctrl-C into
    KeyboardInterrupt. (A pytest-xdist worker may have come to ignore SIGINT by the time these
    tests run, and a child would inherit that: then no Ctrl-C could reach kd.)"""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def spawn(args):
    return subprocess.Popen(
        [sys.executable, "-m", "kdcli", *map(str, args)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_as_from_a_shell,
    )


def wait_for_units(out, n, proc, limit=120):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len(list((Path(out) / "units").glob("*.parquet"))) >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("units did not appear")


@pytest.mark.slow
def test_kill_9_loses_only_units_in_flight_and_resume_equals_a_clean_run(kd, manifest, tmp_path):
    """Six units (three datasets, two repeats), killed once two are done: the resume runs the
    rest."""
    args = bench_args(manifest, tmp_path / "killed", tmp_path / "cache-a", "--repeats", "2")
    proc = spawn(args)
    wait_for_units(tmp_path / "killed", 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    finished = list((tmp_path / "killed" / "units").glob("*.parquet"))
    assert 2 <= len(finished) < 6
    for path in finished:  # every unit file on disk is complete
        assert len(pd.read_parquet(path)) > 0
    code, _, err = kd(*args, "--quiet")
    assert code == 0, err
    record = json.loads((tmp_path / "killed" / "run.json").read_text())
    assert record["units_done"] == 6 and len(record["commands"]) == 2
    code, _, err = kd(
        *bench_args(manifest, tmp_path / "clean", tmp_path / "cache-b", "--repeats", "2"), "--quiet"
    )
    assert code == 0, err
    pd.testing.assert_frame_equal(results(tmp_path / "killed"), results(tmp_path / "clean"))


def session_processes(sid: int) -> list[str]:
    """Live processes of the session ``sid`` (kd and everything it started), as 'pid cmdline'."""
    import psutil

    alive = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if os.getsid(proc.pid) == sid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])[:120]}")
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return alive


def slow_study(tmp_path, *extra):
    """A study whose units run for minutes: a process of it is alive while a test acts."""
    suite = tmp_path / "slow.csv"
    suite.write_text("name,spec\na,synthetic:binary?n=200000\nb,synthetic:binary?n=200001\n")
    out = tmp_path / "out"
    args = ["benchmark", "--suite", suite, "--out", out, "--cache-dir", tmp_path / "cache"]
    return out, [*args, "--threads", "1", *extra]


def wait_for_workers(proc, n, limit=60):
    deadline = time.monotonic() + limit
    while len(session_processes(proc.pid)) < 2 + n and time.monotonic() < deadline:
        time.sleep(0.2)  # kd, the fork server and the workers
    time.sleep(2)  # the workers are fitting now
    assert proc.poll() is None and len(session_processes(proc.pid)) >= 2 + n


@pytest.mark.slow
@pytest.mark.parametrize("jobs,executor", [(1, "local"), (2, "local"), (2, "dask")])
def test_workers_die_with_a_parent_killed_by_sigkill(tmp_path, jobs, executor):
    """kill -9 of kd alone (not its process group): no worker outlives it by a few seconds."""
    _, args = slow_study(tmp_path, "--jobs", jobs, "--executor", executor)
    proc = spawn(args)
    wait_for_workers(proc, jobs)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 5
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = session_processes(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a failing run leaves no CPU hog behind
    assert survivors == []


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_resumes(kd, manifest, tmp_path):
    """Six units (three datasets, two repeats), interrupted after the first."""
    out = tmp_path / "out"
    args = bench_args(manifest, out, tmp_path / "cache", "--repeats", "2")
    proc = spawn(args)
    wait_for_units(out, 1, proc)
    proc.send_signal(signal.SIGINT)
    stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "resume" in err and "Traceback" not in err
    kept = len(list((out / "units").glob("*.parquet")))
    assert f"6 units, {kept} with results" in stdout  # the summary counts what is on disk
    code, stdout, err = kd(*args, "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["units_total"] == 6 and report["units_skipped"] >= 1
    assert report["units_run"] == 6 - report["units_skipped"]


def test_a_rerun_or_a_new_student_fits_no_teacher(kd, clean, tmp_path):
    assert clean.report["teacher_predictions_reused"] == 0  # the first run fitted them all
    cache = clean.copy_cache(tmp_path)
    code, stdout, err = kd(
        "benchmark",
        "--suite",
        clean.manifest,
        "--out",
        tmp_path / "b",
        "--cache-dir",
        cache,
        "--teacher-param",
        "n_estimators=20",
        "--threads",
        "1",
        "--student",
        "tree,linear",
        "--sizes",
        "tree=4;linear=1",
        "--json",
    )
    assert code == 0, err
    report = json.loads(stdout)
    assert report["teacher_predictions_reused"] == report["units_run"] == 3
    a, b = results(clean.out), results(tmp_path / "b")
    b_tree = b[b.student.isin(["tree", "teacher"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b_tree)
    assert set(b.student) == {"teacher", "tree", "linear"}


def test_conflicting_settings_are_refused(kd, clean, tmp_path):
    out, cache = clean.copy(tmp_path)  # a finished study
    before = (out / "run.json").read_text()
    code, _, err = kd(*clean.args(out, cache), "--folds", "3")
    assert code == 2 and "other settings (fit.folds differs)" in err
    assert len(err.strip().splitlines()) == 1
    assert (out / "run.json").read_text() == before


def test_failed_units_are_recorded_the_study_goes_on_and_retry_failed(kd, tmp_path):
    data = tmp_path / "later.csv"
    suite = tmp_path / "suite.csv"
    suite.write_text(f"name,spec\niris,sklearn:iris\nlater,file:{data}\n")
    out = tmp_path / "out"
    args = bench_args(suite, out, tmp_path / "cache")
    code, stdout, err = kd(*args)
    assert code == 1
    assert "1 unit(s) failed" in err and "later__r0_f0__lightgbm" in err
    assert "does not exist" in err
    failure = json.loads((out / "failures" / "later__r0_f0__lightgbm.json").read_text())
    assert failure["dataset"] == "later" and "does not exist" in failure["error"]
    assert set(results(out)["dataset"]) == {"iris"}
    pd.DataFrame({"x": range(60), "target": [0, 1, 2] * 20}).to_csv(data, index=False)
    code, stdout, err = kd(*args, "--retry-failed", "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["units_run"] == 1 and report["units_failed"] == 0
    assert not (out / "failures" / "later__r0_f0__lightgbm.json").exists()
    assert set(results(out)["dataset"]) == {"iris", "later"}


def test_a_unit_past_its_timeout_is_stopped_and_recorded(kd, tmp_path):
    suite = tmp_path / "suite.csv"
    suite.write_text("name,spec\nbig,synthetic:binary?n=20000\n")
    code, _, err = kd(
        "benchmark",
        "--suite",
        suite,
        "--out",
        tmp_path / "out",
        "--cache-dir",
        tmp_path / "cache",
        "--timeout-per-unit",
        "1",
        "--threads",
        "1",
    )
    assert code == 1
    assert "timed out after 1 s" in err


@pytest.mark.slow
def test_a_killed_worker_is_recorded_as_failed(tmp_path):
    """A worker killed mid-unit (as the kernel does when memory runs out) fails only its unit."""
    import multiprocessing
    import threading

    from kdcli.data.openml_source import OpenMLConfig
    from kdcli.settings import study_settings
    from kdcli.study.executors import LocalExecutor
    from kdcli.study.plan import plan_units
    from kdcli.study.unit import payload

    suite = tmp_path / "suite.csv"
    suite.write_text("name,spec\nbig,synthetic:binary?n=20000\nsmall,sklearn:iris\n")
    study = study_settings(str(suite), sizes="4")
    cfg = OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)
    units, _ = plan_units(study, cfg)
    work = [(u.unit_id, payload(study.fit, u, cfg, threads=1)) for u in units]
    victim = {}

    def kill_first_child():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            children = multiprocessing.active_children()
            if children:
                time.sleep(0.5)  # well inside the unit's fits
                victim["pid"] = children[0].pid
                os.kill(children[0].pid, signal.SIGKILL)
                return
            time.sleep(0.01)

    threading.Thread(target=kill_first_child).start()
    outcomes = {o.unit_id: o for o in LocalExecutor(jobs=1).run(work)}
    big, small = outcomes[units[0].unit_id], outcomes[units[1].unit_id]
    assert victim and big.result is None
    assert big.error == "worker process killed (signal 9: out of memory?)"
    assert small.error is None and small.result["records"]  # the study went on


@pytest.mark.slow
def test_serial_jobs_and_dask_give_identical_tables(kd, clean, tmp_path):
    """The clean study ran serially; each executor here fits its own teachers."""
    from distributed import LocalCluster

    manifest = clean.manifest
    code, _, err = kd(
        *bench_args(manifest, tmp_path / "jobs", tmp_path / "c2"), "--jobs", "2", "--quiet"
    )
    assert code == 0, err
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        code, _, err = kd(
            *bench_args(manifest, tmp_path / "dask", tmp_path / "c3"),
            "--executor",
            "dask",
            "--address",
            cluster.scheduler_address,
            "--quiet",
        )
    assert code == 0, err
    code, _, err = kd(
        *bench_args(manifest, tmp_path / "dask-local", tmp_path / "c4"),
        "--executor",
        "dask",
        "--jobs",
        "2",
        "--quiet",
    )
    assert code == 0, err
    serial = results(clean.out)
    assert len(serial) > 0
    pd.testing.assert_frame_equal(serial, results(tmp_path / "dask-local"))
    pd.testing.assert_frame_equal(serial, results(tmp_path / "jobs"))
    pd.testing.assert_frame_equal(serial, results(tmp_path / "dask"))


def test_plain_output_when_not_a_terminal_and_quiet(kd, clean, tmp_path):
    cache = clean.copy_cache(tmp_path)  # its teachers are fitted: the run fits students
    code, stdout, err = kd(*clean.args(tmp_path / "out", cache))
    assert code == 0, err
    mode = (tmp_path / "out" / "results.csv").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # results are readable by others as the umask allows
    assert "[1/3] ok" in stdout and "mean rank" in stdout  # the summary table of kd report
    latency = pd.read_csv(tmp_path / "out" / "latency.csv")
    assert set(latency.dataset) == {"iris", "wine", "cancer"} and (latency.ms_per_10k > 0).all()
    code, stdout, err = kd(*clean.args(tmp_path / "out2", cache), "-q")
    assert code == 0 and stdout == ""


@pytest.mark.slow
def test_one_live_process_per_study_folder_and_a_stale_lock_is_taken_over(kd, tmp_path):
    out, args = slow_study(tmp_path)
    first = spawn(args)
    try:
        wait_for_workers(first, 1)
        code, _, err = kd(*args, "--quiet")  # a second start on the same folder
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert f"is in use by kd process {first.pid} on " in err
        code, _, err = kd(*slow_study(tmp_path, "--sizes", "3")[1])  # whatever its settings
        assert code == 2 and f"kd process {first.pid}" in err
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    second = spawn(args)  # the first died holding the lock: taken over, with a notice
    try:
        wait_for_workers(second, 1)
        second.send_signal(signal.SIGINT)
        _, err = second.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(second.pid, signal.SIGKILL)
    assert f"took over the lock of kd process {first.pid}" in err
    assert second.returncode == 130
    assert (out / ".kd.lock").read_text() == ""  # released cleanly this time


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_with_exit_143(manifest, tmp_path):
    out = tmp_path / "out"
    args = bench_args(manifest, out, tmp_path / "cache", "--repeats", "3")
    proc = spawn(args)
    wait_for_units(out, 1, proc)
    proc.send_signal(signal.SIGTERM)  # to kd alone, as `timeout` does
    stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "resume" in err and "Traceback" not in err
    kept = len(list((out / "units").glob("*.parquet")))
    assert f"9 units, {kept} with results" in stdout
    assert len(results(out)) > 0  # the tables were written
    assert session_processes(proc.pid) == []  # no worker left running its unit


@pytest.mark.slow
def test_sigterm_to_a_slow_unit_leaves_no_worker(tmp_path):
    _, args = slow_study(tmp_path)
    proc = spawn(args)
    try:
        wait_for_workers(proc, 1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143 and "terminated (SIGTERM)" in err
        assert session_processes(proc.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_resume_runs_damaged_units_again_and_recovers_a_damaged_record(kd, clean, tmp_path):
    out, cache = clean.copy(tmp_path)  # a finished study, and the cache that made it
    args = clean.args(out, cache)
    finished = results(out)
    victim = sorted((out / "units").glob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:200])  # e.g. a copy cut short
    record = out / "run.json"
    record.write_text(record.read_text()[:300])  # and a truncated record
    code, stdout, err = kd(*args, "--json")
    assert code == 0, err
    assert "run.json was damaged" in err and f"unit {victim.stem}: " in err
    report = json.loads(stdout)
    assert report["units_skipped"] == 2 and report["units_run"] == 1  # only the damaged one
    pd.testing.assert_frame_equal(results(out), finished)
    aside = sorted(p.name.split(".")[0] for p in (out / "damaged").iterdir())
    assert aside == sorted(["run", *[victim.stem] * 3])


def test_what_loading_did_to_a_dataset_is_told_once(kd, tmp_path):
    """An all-empty column is dropped with a notice, not silently (once, however many units)."""
    data = csv_with_an_empty_column(tmp_path / "odd.csv", "empty")
    suite = tmp_path / "suite.csv"
    suite.write_text(f"name,spec\nodd,file:{data}\n")
    out = tmp_path / "out"
    code, _, err = kd(*bench_args(suite, out, tmp_path / "cache", "--repeats", "2"), "--quiet")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("kd: notice: odd: ")]
    assert len(lines) == 1 and "empty" in lines[0]
    assert "empty" in json.loads((out / "run.json").read_text())["notices"]["odd"][0]


def test_kd_report_reads_units_past_damaged_tables_and_names_a_damaged_record(kd, clean, tmp_path):
    out = Path(shutil.copytree(clean.out, tmp_path / "out"))  # a finished study
    code, expected, err = kd("report", out, "--format", "csv", "--no-plots")
    assert code == 0, err
    (out / "results.parquet").write_bytes(b"PAR1 cut short")
    (out / "latency.csv").write_bytes(b'"unclosed\n1,2,3\n')
    code, text, err = kd("report", out, "--format", "csv", "--no-plots")
    assert code == 0, err
    assert text == expected  # the units hold the results and the latencies
    assert (out / "results.parquet").read_bytes() == b"PAR1 cut short"  # kd report writes none
    (out / "units" / "wine__r0_f0__lightgbm.latency.csv").write_bytes(b'"unclosed\n1,2,3\n')
    code, text, err = kd("report", out, "--format", "json", "--no-plots")
    assert code == 0, err
    report = json.loads(text)
    assert "wine: no results" in report["missing"]
    assert any("1 unit file(s) left out" in n and "latency.csv" in n for n in report["notes"])
    (out / "run.json").write_text('{"kind": "kd-benchmark", "sett')
    code, _, err = kd("report", out, "--no-plots")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "run.json is damaged" in err and "same kd benchmark command" in err


def test_a_killed_worker_leaves_no_semaphore_behind(tmp_path):
    """A forest teacher fits on threads (joblib's pools make semaphores); a worker killed at its
    timeout mid-fit must leave none for the resource tracker to warn about at exit. One unit of
    2,000 trees: its forests fit for far longer than the timeout on any machine."""
    suite = tmp_path / "suite.csv"
    suite.write_text("name,spec\niris,sklearn:iris\n")
    done = subprocess.run(
        [sys.executable, "-m", "kdcli", "benchmark", "--suite", str(suite), "--out",
         str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--teacher", "rf",
         "--teacher-param", "n_estimators=2000", "--timeout-per-unit", "3", "--jobs", "1",
         "--threads", "2"],
        cwd=PROJECT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "timed out after 3 s" in done.stderr, done.stderr
    assert "leaked" not in done.stderr and "resource_tracker" not in done.stderr, done.stderr


def test_retry_failed_needs_a_study_and_says_when_nothing_failed(kd, clean, tmp_path):
    out = tmp_path / "new"
    cache = clean.copy_cache(tmp_path)  # iris's teacher is fitted
    args = clean.args(out, cache, "--datasets", "iris")
    line = one_line_error(*kd(*args, "--retry-failed"))
    assert "--retry-failed" in line and "holds no study" in line
    assert not out.exists()  # nothing was made
    assert kd(*args, "--quiet")[0] == 0
    code, _, err = kd(*args, "--retry-failed")
    assert code == 0 and "no unit of this study has failed; nothing to retry" in err


def test_a_dask_address_that_is_not_one_is_one_line(kd, manifest, tmp_path):
    out = tmp_path / "out"
    for address in ("notaurl", "foo://host:1"):
        args = bench_args(manifest, out, tmp_path / "cache", "--executor", "dask")
        line = one_line_error(*kd(*args, "--address", address))
        assert f"--address '{address}' is not a Dask scheduler address" in line
        assert "tcp://HOST:8786" in line
    assert not out.exists()


def _table(path, rows=90, shift=0):
    x = np.random.default_rng(rows + shift).normal(size=(rows, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["target"] = (x[:, 0] + 0.5 * x[:, 1] > shift * 0.3).astype(int)
    frame.to_csv(path, index=False)


def test_a_resume_redoes_the_units_of_a_data_file_that_changed(kd, tmp_path):
    """Old units of changed data are never mixed with new ones: set aside, redone, told."""
    data = tmp_path / "data"
    data.mkdir()
    _table(data / "one.csv")
    _table(data / "two.csv", shift=1)
    out = tmp_path / "out"
    args = bench_args(f"dir:{data}", out, tmp_path / "cache", "--repeats", "2")
    assert kd(*args, "--quiet")[0] == 0
    before = results(out)
    _table(data / "one.csv", shift=2)  # the user's file changes
    code, stdout, err = kd(*args, "--json")
    assert code == 0, err
    assert "one: its data changed since 2 finished unit(s)" in err and "stale" in err
    assert json.loads(stdout)["units_run"] == 2  # two's units are kept
    assert len(list((out / "stale").glob("one__*.parquet.*"))) == 2
    fresh = tmp_path / "fresh"
    assert kd(*bench_args(f"dir:{data}", fresh, tmp_path / "cache2", "--repeats", "2"))[0] == 0
    pd.testing.assert_frame_equal(results(out), results(fresh))
    two = results(out)[lambda f: f.dataset == "two"].reset_index(drop=True)
    pd.testing.assert_frame_equal(two, before[lambda f: f.dataset == "two"].reset_index(drop=True))
    code, stdout, err = kd(*args, "--json")  # nothing changed since: nothing redone
    assert code == 0 and json.loads(stdout)["units_run"] == 0 and "changed" not in err


@pytest.fixture(scope="module")
def three_repeats(tmp_path_factory):
    """iris and wine with 3 repeats each, run once through the API."""
    import kdcli

    root = tmp_path_factory.mktemp("study")
    suite = root / "suite.csv"
    suite.write_text("name,spec\niris,sklearn:iris\nwine,sklearn:wine\n")
    spec = kdcli.study_settings(
        str(suite), teacher_param=["n_estimators=20"], sizes="4", modes="raw,vanilla", repeats=3
    )
    kdcli.run_study(spec, root / "out", threads=1)
    return root / "out"


def _copy(study, tmp_path):
    import shutil

    return Path(shutil.copytree(study, tmp_path / "study"))


def test_report_and_check_read_the_units_not_a_stale_table(kd, three_repeats, tmp_path):
    out = _copy(three_repeats, tmp_path)
    ref = tmp_path / "ref.csv"
    assert kd("check", out, "--against", ref, "--update")[0] == 0
    code, whole, err = kd("report", out, "--format", "json", "--no-plots")
    assert code == 0, err
    stale = results(out)[lambda f: f.dataset == "iris"]  # as a run stopped early left it
    stale.to_parquet(out / "results.parquet")
    kept = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    code, text, err = kd("report", out, "--format", "json", "--no-plots")
    assert code == 0, err
    assert text == whole  # both datasets, from the units
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == kept  # wrote nothing
    code, text, _ = kd("check", out, "--against", ref)
    assert code == 0 and "MISSING" not in text, text
    for name in ("results.parquet", "results.csv", "summary.csv", "latency.csv"):
        (out / name).unlink()  # killed before its tables were written: units only
    code, text, err = kd("check", out, "--against", ref)
    assert code == 0 and "MISSING" not in text, (text, err)
    (out / "run.json").unlink()
    code, text, err = kd("check", out, "--against", ref)
    assert code == 0 and "no readable run.json" in text, (text, err)


def test_a_partial_study_flags_every_cell_with_fewer_splits_than_planned(
    kd, three_repeats, tmp_path
):
    """Stopped at 2 of 3 repeats for iris and 1 of 3 for wine: both are flagged, and the note
    says to resume, not to ask for the repeats the study already asked for."""
    out = _copy(three_repeats, tmp_path)
    for unit in ("iris__r2_f0__lightgbm", "wine__r1_f0__lightgbm", "wine__r2_f0__lightgbm"):
        for part in (out / "units").glob(f"{unit}.*"):
            part.unlink()
    code, text, err = kd("report", out, "--format", "json", "--no-plots")
    assert code == 0, err
    report = json.loads(text)
    assert report["missing"] == [
        "iris lightgbm: 2 of 3 splits (missing repeat/fold 2/0); every cell of it is a mean over 2",
        "wine lightgbm: 1 of 3 splits (missing repeat/fold 1/0, 2/0); every cell of it is a "
        "mean over 1",
    ]
    notes = " ".join(report["notes"])
    assert "--repeats 2 or more" not in notes
    assert "no within-dataset test yet for wine" in notes and "resume" in notes


class _Seen(StudyProgress):
    """Records the order units start in and the estimates the runner gives."""

    def __init__(self):
        self.started, self.estimates = [], {}

    def estimated(self, estimates, parallel):
        self.estimates = {u.dataset: e for u, e in estimates.items()}

    def unit_started(self, unit):
        self.started.append(unit.dataset)


def _small_study(tmp_path, repeats: int = 1):
    import kdcli

    suite = tmp_path / "suite.csv"
    suite.write_text("name,spec\niris,sklearn:iris\nwine,sklearn:wine\ndigits,sklearn:digits\n")
    return kdcli.study_settings(
        str(suite),
        teacher_param=["n_estimators=20"],
        sizes="4",
        modes="raw,vanilla",
        repeats=repeats,
    )


def test_units_start_longest_first_and_the_tables_do_not_change(tmp_path, monkeypatch):
    """digits (1,797 x 64, 10 classes) starts first though the plan lists it last; the tables
    equal those of a run in plan order (the old order), number for number."""
    import kdcli
    from kdcli.study import runner

    spec = _small_study(tmp_path)
    cfg = kdcli.OpenMLConfig(cache_dir=tmp_path / "c1", offline=True)
    new = _Seen()
    kdcli.run_study(spec, tmp_path / "new", threads=1, openml=cfg, progress=new)
    assert new.started == ["digits", "wine", "iris"]
    assert new.estimates["digits"] > new.estimates["wine"] > new.estimates["iris"] > 0

    monkeypatch.setattr(runner, "longest_first", lambda units, _estimates: list(units))
    old = _Seen()
    cfg = kdcli.OpenMLConfig(cache_dir=tmp_path / "c2", offline=True)
    kdcli.run_study(spec, tmp_path / "old", threads=1, openml=cfg, progress=old)
    assert old.started == ["iris", "wine", "digits"]
    pd.testing.assert_frame_equal(results(tmp_path / "new"), results(tmp_path / "old"))
    for name in ("results.csv", "summary.csv"):
        assert (tmp_path / "new" / name).read_bytes() == (tmp_path / "old" / name).read_bytes()


def test_each_units_estimate_and_time_are_recorded_and_a_resume_uses_them(tmp_path):
    """run.json and units/<id>.timings.json hold each unit's estimated and measured seconds;
    a unit run again is estimated at the time its dataset's finished units took."""
    import kdcli

    spec = _small_study(tmp_path, repeats=2)
    cfg = kdcli.OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)
    out = tmp_path / "out"
    kdcli.run_study(spec, out, threads=1, openml=cfg)
    record = json.loads((out / "run.json").read_text())
    for uid, entry in record["units"].items():
        timings = json.loads((out / "units" / f"{uid}.timings.json").read_text())
        assert entry["estimated_seconds"] == timings["estimated_seconds"] > 0
        assert entry["seconds"] == timings["seconds"] > 0
        assert timings["seconds"] >= timings["teacher"] + timings["students"] - 0.01
    for part in (out / "units").glob("digits__r1_f0__lightgbm.*"):
        part.unlink()  # lost: the resume runs it again
    seen = _Seen()
    kdcli.run_study(spec, out, threads=1, openml=cfg, progress=seen)
    assert seen.started == ["digits"]
    first = record["units"]["digits__r0_f0__lightgbm"]["seconds"]
    assert seen.estimates == {"digits": first}
    again = json.loads((out / "run.json").read_text())["units"]["digits__r1_f0__lightgbm"]
    assert again["estimated_seconds"] == round(first, 2)


def test_a_units_trace_is_kept_in_its_timings(tmp_path):
    """Per-fit traces (written by the unit, under "trace") survive into units/<id>.timings.json;
    keys kd does not know do not."""
    from kdcli.study.plan import Unit
    from kdcli.study.results_dir import ResultsDir

    spec = _small_study(tmp_path)
    store = ResultsDir(tmp_path / "out")
    store.open(spec, "test", {})
    unit = Unit("iris", "sklearn:iris", 0, 0, "lightgbm")
    trace = [{"stage": "teacher", "start": 0.0, "end": 1.5, "after": []}]
    timings = {"teacher": 1.5, "students": 2.0, "fits": 3, "trace": trace, "scratch": 1}
    store.write_unit(unit, {"records": [], "latency": [], "timings": timings})
    kept = json.loads((store.units / f"{unit.unit_id}.timings.json").read_text())
    assert kept == {"teacher": 1.5, "students": 2.0, "fits": 3, "trace": trace}
