"""Executors: units in worker processes (or on Dask) give the numbers of an in-process run;
a failing or slow unit is reported alone and never stops the others."""

import os
import signal
import threading
import time

import pytest

from kdcli.data.openml_source import OpenMLConfig
from kdcli.spec import study_spec
from kdcli.study.executors import DaskExecutor, LocalExecutor, Outcome
from kdcli.study.plan import plan_units
from kdcli.study.unit import payload, run_unit

from support.scripts import run_unguarded_script

SETTINGS = {"teacher_param": ["n_estimators=10"], "sizes": "4", "folds": 3}


def _manifest(folder, rows):
    path = folder / "suite.csv"
    path.write_text("name,spec\n" + "".join(f"{name},{spec}\n" for name, spec in rows))
    return str(path)


def _work(study, cache_dir):
    """(unit_id, payload) pairs of every unit, with their own teacher cache."""
    cfg = OpenMLConfig(cache_dir=cache_dir, offline=True)
    units, failures = plan_units(study, cfg)
    assert failures == []
    return [(u.unit_id, payload(study.fit, u, cfg, threads=1)) for u in units]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Four small units (two datasets x two repeats) and their records run in this process."""
    folder = tmp_path_factory.mktemp("small")
    suite = _manifest(folder, [("flowers", "sklearn:iris"), ("wine", "sklearn:wine")])
    study = study_spec(suite, repeats=2, **SETTINGS)
    direct = {uid: run_unit(work)["records"] for uid, work in _work(study, folder / "direct")}
    assert len(direct) == 4
    return study, folder, direct


def _run(executor, work):
    started = []
    outcomes = list(executor.run(work, started.append))
    return outcomes, started


def test_local_executor_gives_the_in_process_records(small):
    """Worker processes must not change a single number (same seeds, one thread per fit)."""
    study, folder, direct = small
    work = _work(study, folder / "local")
    outcomes, started = _run(LocalExecutor(jobs=2), work)
    assert sorted(started) == sorted(direct)
    assert sorted(o.unit_id for o in outcomes) == sorted(direct)
    for outcome in outcomes:
        assert isinstance(outcome, Outcome)
        assert outcome.error is None, outcome.detail
        assert outcome.seconds > 0
        assert outcome.result["records"] == direct[outcome.unit_id]
        assert outcome.result["timings"]["teacher_cached"] is False


def test_a_failing_unit_is_reported_and_the_others_run(tmp_path):
    """A unit whose data is missing fails alone, in one line; the units after it still run."""
    suite = _manifest(tmp_path, [("ghost", "file:/nonexistent.csv"), ("flowers", "sklearn:iris")])
    study = study_spec(suite, **SETTINGS)
    work = _work(study, tmp_path / "cache")
    assert [uid.split("__")[0] for uid, _ in work] == ["ghost", "flowers"]
    outcomes = {o.unit_id: o for o in LocalExecutor(jobs=1).run(work)}
    assert len(outcomes) == 2
    ghost, flowers = (outcomes[uid] for uid, _ in work)
    assert ghost.result is None
    assert ghost.error and "\n" not in ghost.error
    assert "nonexistent.csv" in ghost.error
    assert "Traceback" in ghost.detail
    assert flowers.error is None
    assert {r["dataset"] for r in flowers.result["records"]} == {"flowers"}


def test_a_unit_past_its_timeout_is_killed(tmp_path):
    """A unit that would run for many seconds is stopped after about one."""
    suite = _manifest(tmp_path, [("big", "synthetic:binary?n=20000")])
    study = study_spec(suite)  # the default teacher: 400 trees, 3 + 5 fits on 15000 rows
    work = _work(study, tmp_path / "cache")
    t0 = time.monotonic()
    executor = LocalExecutor(jobs=1, timeout=1)
    (outcome,) = list(executor.run(work))
    elapsed = time.monotonic() - t0
    assert executor.ctx.active_children() == []  # the worker was killed and reaped
    assert outcome.result is None
    assert "timed out" in outcome.error
    assert 1 <= outcome.seconds < 5
    assert elapsed < 15


@pytest.mark.slow
def test_dask_executor_gives_the_local_records(small):
    """A Dask cluster runs the same function on the same payloads: the same records."""
    distributed = pytest.importorskip("distributed")
    study, folder, direct = small
    work = _work(study, folder / "dask")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        executor = DaskExecutor(address=cluster.scheduler_address, jobs=1, timeout=None)
        outcomes, started = _run(executor, work)
    finally:
        cluster.close()
    assert sorted(started) == sorted(direct)
    assert sorted(o.unit_id for o in outcomes) == sorted(direct)
    for outcome in outcomes:
        assert outcome.error is None, outcome.detail
        assert outcome.result["records"] == direct[outcome.unit_id]


def test_a_unit_failure_always_has_a_detail_saying_why(tmp_path):
    """A worker that dies without a word, and a unit past its timeout, are recorded with a
    detail beyond the one line (it was empty)."""
    suite = _manifest(tmp_path, [("big", "synthetic:binary?n=20000")])
    work = _work(study_spec(suite), tmp_path / "cache")  # many seconds of fits
    victim = {}

    def kill_the_worker(executor):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not victim:
            for child in executor.ctx.active_children():
                victim["pid"] = child.pid
                os.kill(child.pid, signal.SIGKILL)
            time.sleep(0.01)

    executor = LocalExecutor(jobs=1)
    threading.Thread(target=kill_the_worker, args=(executor,), daemon=True).start()
    (died,) = list(executor.run(work))
    assert died.error == "worker process killed (signal 9: out of memory?)"
    assert f"worker process {victim['pid']} killed" in died.detail
    assert "before it sent back a result" in died.detail
    (late,) = list(LocalExecutor(jobs=1, timeout=0.5).run(work))
    assert "timed out" in late.error and "--timeout-per-unit 0.5 s" in late.detail


@pytest.mark.slow
def test_a_script_without_the_main_guard_runs_its_study_on_a_local_dask_cluster(tmp_path):
    """Dask starts its workers with spawn, which would run the caller's script in each."""
    pytest.importorskip("distributed")
    done = run_unguarded_script(tmp_path, "dask")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "units 2 failed 0" in done.stdout, done.stdout
