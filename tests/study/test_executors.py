"""Executors: units in worker processes (or on Dask) give the numbers of an in-process run;
a failing or slow unit is reported alone and never stops the others."""

import importlib
import itertools
import os
import signal
import threading
import time

import pandas as pd
import pytest

import kdcli
from kdcli.data.openml_source import OpenMLConfig
from kdcli.settings import Execution, study_settings
from kdcli.settings.execution import usable_cores
from kdcli.study.dask_executor import DaskExecutor
from kdcli.study.executors import UNIT_MODULES, LocalExecutor, Outcome
from kdcli.study.plan import plan_units
from kdcli.study.unit import payload, run_unit

from support.scripts import run_unguarded_script
from support.workers import imported, kill_its_first_worker

SETTINGS = {"teacher_param": ["n_estimators=10"], "sizes": "4", "folds": 3}


def _manifest(folder, rows):
    path = folder / "suite.csv"
    path.write_text("name,spec\n" + "".join(f"{name},{spec}\n" for name, spec in rows))
    return str(path)


def _work(study, cache_dir, threads: int = 1):
    """(unit_id, payload) pairs of every unit, with their own teacher cache."""
    cfg = OpenMLConfig(cache_dir=cache_dir, offline=True)
    units, failures = plan_units(study, cfg)
    assert failures == []
    return [(u.unit_id, payload(study.fit, u, cfg, threads=threads)) for u in units]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Four small units (two datasets x two repeats) and their records run in this process."""
    folder = tmp_path_factory.mktemp("small")
    suite = _manifest(folder, [("flowers", "sklearn:iris"), ("wine", "sklearn:wine")])
    study = study_settings(suite, repeats=2, **SETTINGS)
    direct = {uid: run_unit(work)["records"] for uid, work in _work(study, folder / "direct")}
    assert len(direct) == 4
    return study, folder, direct


def _run(executor, work):
    started = []
    outcomes = list(executor.run(work, started.append))
    return outcomes, started


def test_every_module_the_fork_server_loads_exists():
    """The fork server skips a module it cannot import without a word, so a misspelt name would
    only make each unit import it again."""
    assert UNIT_MODULES[0] == "kdcli.study.unit"
    for name in UNIT_MODULES:
        importlib.import_module(name)


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
    study = study_settings(suite, **SETTINGS)
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
    study = study_settings(suite)  # the default teacher: 400 trees, 3 + 5 fits on 15000 rows
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
    """The local Dask cluster kd starts runs the same function on the same payloads: the same
    records. Its worker was forked with kd's unit code imported, before it ran any task (a
    spawned worker imports it on its first task: 2-3 s of CPU per worker)."""
    pytest.importorskip("distributed")
    study, folder, direct = small
    work = _work(study, folder / "dask")
    executor = DaskExecutor(jobs=1, timeout=None)
    executor.connect()
    assert list(executor.client.run(imported, "kdcli.study.unit").values()) == [True]
    outcomes, started = _run(executor, work)  # closes the cluster
    assert executor.client is None
    assert sorted(started) == sorted(direct)
    assert sorted(o.unit_id for o in outcomes) == sorted(direct)
    for outcome in outcomes:
        assert outcome.error is None, outcome.detail
        assert outcome.result["records"] == direct[outcome.unit_id]


def test_a_unit_failure_always_has_a_detail_saying_why(tmp_path):
    """A worker that dies without a word, and a unit past its timeout, are recorded with a
    detail beyond the one line (it was empty)."""
    suite = _manifest(tmp_path, [("big", "synthetic:binary?n=20000")])
    work = _work(study_settings(suite), tmp_path / "cache")  # many seconds of fits
    executor = LocalExecutor(jobs=1)
    victim = kill_its_first_worker(executor)
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


# -- one core budget for the whole study --------------------------------------------------------

BUDGET_SETTINGS = {
    "teacher": "lightgbm,rf",
    "teacher_param": ["n_estimators=12"],
    "student": "rf,gbdt",
    "sizes": "rf=2,5;gbdt=2,5",
    "modes": "raw,vanilla,crossfit,corrected,mixed",
    "folds": 3,
    "c_grid": "0.01,10",
    "alpha_grid": "0.2,0.8",
}


def _busiest(outcomes, tolerance: float = 1e-3) -> int:
    """The most tokens the fits of all units held at one instant, from their traces (clocks
    of processes side by side agree; ``tolerance`` covers the rounding of their times)."""
    events = []
    for outcome in outcomes:
        trace = outcome.result["timings"]["trace"]
        for fit in trace["fits"]:
            events.append((trace["origin"] + fit["start"], fit["tokens"]))
            events.append((trace["origin"] + fit["end"] - tolerance, -fit["tokens"]))
    held = most = 0
    for _when, change in sorted(events):
        held += change
        most = max(most, held)
    return most


def test_a_study_gives_the_same_numbers_on_the_shared_budget_as_one_fit_at_a_time(tmp_path):
    """Fits side by side across units on one budget (a forest teacher on whatever tokens are
    free) must not move a number from a run of one unit and one fit at a time. Four units (two
    datasets x two teachers), two at a time."""
    suite = _manifest(tmp_path, [("flowers", "sklearn:iris"), ("wine", "sklearn:wine")])
    spec = study_settings(suite, **BUDGET_SETTINGS)
    runs = {}
    for name, jobs, threads in (("serial", 1, 1), ("shared", 2, None)):
        cfg = OpenMLConfig(cache_dir=tmp_path / f"{name}-cache", offline=True)  # fit teachers
        report = kdcli.run_study(spec, tmp_path / name, jobs=jobs, threads=threads, openml=cfg)
        assert report.done == 4 and not report.failures and report.teacher_fits_reused == 0
        keys = ["dataset", "repeat", "fold", "teacher", "student", "size", "mode", "metric"]
        runs[name] = report.results.sort_values(keys).reset_index(drop=True)
    assert {"corrected", "mixed"} <= set(runs["serial"]["mode"])
    pd.testing.assert_frame_equal(runs["shared"], runs["serial"])


def test_the_fits_of_a_study_never_hold_more_tokens_than_its_budget(small):
    """Two units at once, each allowed two fits side by side, on a budget of two: the traces
    never show more than two tokens held, and the numbers are the in-process ones."""
    study, folder, direct = small
    executor = LocalExecutor(jobs=2, budget=2)
    outcomes, _started = _run(executor, _work(study, folder / "budget", threads=2))
    assert all(o.error is None for o in outcomes), [o.detail for o in outcomes]
    assert {o.unit_id: o.result["records"] for o in outcomes} == direct
    assert _busiest(outcomes) <= 2
    assert executor.broker.most_lent == 2


def test_a_lone_unit_runs_its_fits_on_every_core_of_the_budget(tmp_path):
    """With --jobs 2 and one unit left, its fits take the cores the other unit would have
    used: a unit may run as many fits side by side as there are usable cores."""
    if usable_cores() < 2:
        pytest.skip("needs two usable cores")
    threads = Execution(jobs=2).threads_per_fit
    assert threads == usable_cores()  # was usable cores // jobs
    suite = _manifest(tmp_path, [("wine", "sklearn:wine")])
    executor = LocalExecutor(jobs=2)
    (outcome,) = list(executor.run(_work(study_settings(suite, **SETTINGS), tmp_path, threads)))
    assert outcome.error is None, outcome.detail
    fits = sorted(outcome.result["timings"]["trace"]["fits"], key=lambda f: f["start"])
    overlaps = sum(b["start"] < a["end"] for a, b in itertools.pairwise(fits))
    assert overlaps > 0 and executor.broker.most_lent >= 2
    assert _busiest([outcome], tolerance=0) <= usable_cores()


def test_a_killed_worker_gives_back_the_tokens_it_held(tmp_path):
    """A worker killed mid-fit (a timeout, Ctrl-C, the OOM killer) never releases its tokens
    itself; the budget must get them back, or the next unit would wait forever."""
    suite = _manifest(tmp_path, [("big", "synthetic:binary?n=20000"), ("flowers", "sklearn:iris")])
    study = study_settings(suite, folds=3, sizes="4")  # the default teacher: seconds of fits
    work = _work(study, tmp_path / "cache")
    assert [uid.split("__")[0] for uid, _ in work] == ["big", "flowers"]
    executor = LocalExecutor(jobs=1, timeout=60, budget=1)
    killed = {}

    def kill_while_it_holds_the_token():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            broker = executor.broker
            children = executor.ctx.active_children()
            if broker is not None and broker.free == 0 and children:
                killed["pid"] = children[0].pid
                os.kill(children[0].pid, signal.SIGKILL)
            time.sleep(0.01)

    threading.Thread(target=kill_while_it_holds_the_token, daemon=True).start()
    big, flowers = list(executor.run(work))
    assert killed and big.error == "worker process killed (signal 9: out of memory?)"
    assert flowers.error is None, flowers.detail  # it got the token back, and ran
    assert executor.ctx.active_children() == []


def test_threads_mean_fits_side_by_side_in_a_unit_up_to_every_usable_core():
    """Locally the shared budget keeps the study to the usable cores, so a unit may use them
    all; on Dask, with no budget across workers, a unit keeps its share."""
    cores = usable_cores()
    assert Execution(jobs=4).threads_per_fit == cores
    assert Execution(jobs=4, threads=1).threads_per_fit == 1
    assert Execution(jobs=1, threads=cores + 5).threads_per_fit == cores
    assert Execution(jobs=4, executor="dask").threads_per_fit == max(1, cores // 4)
    assert LocalExecutor(jobs=3).budget == cores
