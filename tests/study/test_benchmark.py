"""`kd benchmark`: resume after kill -9 and Ctrl-C, teacher reuse, failures, executors agree."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import csv_with_an_empty_column

PROJECT = Path(__file__).resolve().parents[2]
FAST = ["--teacher-param", "n_estimators=20", "--sizes", "4", "--threads", "1"]


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "suite.csv"
    path.write_text(
        "name,spec\niris,sklearn:iris\nwine,sklearn:wine\ncancer,sklearn:breast_cancer\n"
    )
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


def spawn(args):
    return subprocess.Popen(
        [sys.executable, "-m", "kdcli", *map(str, args)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
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
    args = bench_args(manifest, tmp_path / "killed", tmp_path / "cache-a", "--repeats", "3")
    proc = spawn(args)
    wait_for_units(tmp_path / "killed", 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    finished = list((tmp_path / "killed" / "units").glob("*.parquet"))
    assert 2 <= len(finished) < 9
    for path in finished:  # every unit file on disk is complete
        assert len(pd.read_parquet(path)) > 0
    code, _, err = kd(*args, "--quiet")
    assert code == 0, err
    record = json.loads((tmp_path / "killed" / "run.json").read_text())
    assert record["units_done"] == 9 and len(record["commands"]) == 2
    code, _, err = kd(
        *bench_args(manifest, tmp_path / "clean", tmp_path / "cache-b", "--repeats", "3"), "--quiet"
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
    out = tmp_path / "out"
    args = bench_args(manifest, out, tmp_path / "cache", "--repeats", "3")
    proc = spawn(args)
    wait_for_units(out, 1, proc)
    proc.send_signal(signal.SIGINT)
    stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "resume" in err and "Traceback" not in err
    kept = len(list((out / "units").glob("*.parquet")))
    assert f"9 units, {kept} with results" in stdout  # the summary counts what is on disk
    code, stdout, err = kd(*args, "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["units_total"] == 9 and report["units_skipped"] >= 1
    assert report["units_run"] == 9 - report["units_skipped"]


def test_a_rerun_or_a_new_student_fits_no_teacher(kd, manifest, tmp_path):
    cache = tmp_path / "cache"
    code, stdout, _ = kd(*bench_args(manifest, tmp_path / "a", cache), "--json")
    assert code == 0 and json.loads(stdout)["teacher_predictions_reused"] == 0
    code, stdout, err = kd(
        "benchmark",
        "--suite",
        manifest,
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
    a, b = results(tmp_path / "a"), results(tmp_path / "b")
    b_tree = b[b.student.isin(["tree", "teacher"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b_tree)
    assert set(b.student) == {"teacher", "tree", "linear"}


def test_conflicting_settings_are_refused(kd, manifest, tmp_path):
    out = tmp_path / "out"
    assert kd(*bench_args(manifest, out, tmp_path / "cache"), "--quiet")[0] == 0
    before = (out / "run.json").read_text()
    code, _, err = kd(*bench_args(manifest, out, tmp_path / "cache"), "--folds", "3")
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
    from kdcli.spec import study_spec
    from kdcli.study.executors import LocalExecutor
    from kdcli.study.plan import plan_units
    from kdcli.study.unit import payload

    suite = tmp_path / "suite.csv"
    suite.write_text("name,spec\nbig,synthetic:binary?n=20000\nsmall,sklearn:iris\n")
    study = study_spec(str(suite), sizes="4")
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
def test_serial_jobs_and_dask_give_identical_tables(kd, manifest, tmp_path):
    from distributed import LocalCluster

    code, _, err = kd(*bench_args(manifest, tmp_path / "serial", tmp_path / "c1"), "--quiet")
    assert code == 0, err
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
    serial = results(tmp_path / "serial")
    assert len(serial) > 0
    pd.testing.assert_frame_equal(serial, results(tmp_path / "dask-local"))
    pd.testing.assert_frame_equal(serial, results(tmp_path / "jobs"))
    pd.testing.assert_frame_equal(serial, results(tmp_path / "dask"))


def test_plain_output_when_not_a_terminal_and_quiet(kd, manifest, tmp_path):
    code, stdout, err = kd(*bench_args(manifest, tmp_path / "out", tmp_path / "cache"))
    assert code == 0, err
    mode = (tmp_path / "out" / "results.csv").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # results are readable by others as the umask allows
    assert "[1/3] ok" in stdout and "best on (datasets)" in stdout
    latency = pd.read_csv(tmp_path / "out" / "latency.csv")
    assert set(latency.dataset) == {"iris", "wine", "cancer"} and (latency.ms_per_10k > 0).all()
    code, stdout, err = kd(*bench_args(manifest, tmp_path / "out2", tmp_path / "cache"), "-q")
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


def test_a_resume_runs_damaged_units_again_and_recovers_a_damaged_record(kd, manifest, tmp_path):
    out = tmp_path / "out"
    args = bench_args(manifest, out, tmp_path / "cache")
    assert kd(*args, "--quiet")[0] == 0
    clean = results(out)
    victim = sorted((out / "units").glob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:200])  # e.g. a copy cut short
    record = out / "run.json"
    record.write_text(record.read_text()[:300])  # and a truncated record
    code, stdout, err = kd(*args, "--json")
    assert code == 0, err
    assert "run.json was damaged" in err and f"unit {victim.stem}: " in err
    report = json.loads(stdout)
    assert report["units_skipped"] == 2 and report["units_run"] == 1  # only the damaged one
    pd.testing.assert_frame_equal(results(out), clean)
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


def test_kd_report_rebuilds_damaged_tables_and_names_a_damaged_record(kd, manifest, tmp_path):
    out = tmp_path / "out"
    assert kd(*bench_args(manifest, out, tmp_path / "cache"), "--quiet")[0] == 0
    clean = results(out)
    code, expected, err = kd("report", out, "--format", "csv", "--no-plots")
    assert code == 0, err
    (out / "results.parquet").write_bytes(b"PAR1 cut short")
    code, text, err = kd("report", out, "--format", "csv", "--no-plots")
    assert code == 0, err
    assert text == expected
    pd.testing.assert_frame_equal(results(out), clean)  # written back whole
    (out / "latency.csv").write_bytes(b'"unclosed\n1,2,3\n')
    code, _, err = kd("report", out, "--no-plots")
    assert code == 2 and "latency.csv is damaged" in err and len(err.strip().splitlines()) == 1
    (out / "latency.csv").unlink()
    (out / "run.json").write_text('{"kind": "kd-benchmark", "sett')
    code, _, err = kd("report", out, "--no-plots")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "run.json is damaged" in err and "same kd benchmark command" in err
