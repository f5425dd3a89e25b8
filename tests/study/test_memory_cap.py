"""`kd benchmark --memory-per-unit SIZE`: sizes read once and refused in one line; a unit past
the cap fails as `memory` while the study goes on, and --retry-failed with more reruns it."""

import json
import time

import pandas as pd
import pytest

from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import KDError, SettingError
from kdcli.settings import Execution, study_settings
from kdcli.settings.execution import memory_mib, size_text
from kdcli.study.executors import LocalExecutor
from kdcli.study.memory_cap import failure, is_memory_error
from kdcli.study.plan import plan_units
from kdcli.study.unit import payload

from conftest import one_line_error
from support.workers import kill_its_first_worker

FAST = ["--teacher-param", "n_estimators=20", "--sizes", "4", "--threads", "1"]
# 800,000 x 100 float64 features: 610 MiB drawn at once, past a 1.1G cap (a worker starts at
# about 0.6 GiB of address space) and well inside 4G; --max-rows 300 keeps its fits quick
BIG = "synthetic:binary?n=800000&d=100"


def suite(folder, *rows):
    path = folder / "suite.csv"
    path.write_text("name,spec\n" + "".join(f"{name},{spec}\n" for name, spec in rows))
    return path


def bench(folder, manifest, *extra):
    return [
        "benchmark",
        "--suite",
        manifest,
        "--out",
        folder / "out",
        "--cache-dir",
        folder / "cache",
        *FAST,
        *extra,
    ]


@pytest.mark.parametrize(
    "text, mib",
    [("4G", 4096), ("1.5G", 1536), ("512M", 512), ("4096", 4096), ("4GiB", 4096), (" 2 gb", 2048)],
)
def test_sizes_are_read_in_mib_with_binary_units(text, mib):
    assert memory_mib("memory_per_unit", text) == mib


def test_the_cap_is_kept_in_mib_and_reads_back_as_it_was():
    execution = Execution(memory_per_unit="1.5G", threads=1)
    assert execution.memory_per_unit == 1536 and execution.memory_bytes == 1536 * 2**20
    assert Execution(memory_per_unit=execution.memory_per_unit).memory_per_unit == 1536
    assert Execution().memory_bytes is None
    assert size_text(4096) == "4G" and size_text(1536) == "1536M"


@pytest.mark.parametrize(
    "value, words",
    [
        ("4X", "--memory-per-unit '4X' is not a size; write e.g. 4G, 1.5G, 512M or 4096"),
        ("-1G", "is not a size"),
        ("1e3", "is not a size"),
        ("nan", "is not a size"),
        ("5000T", "is more than any machine has"),
        ("100M", "--memory-per-unit 100M is below the 1040M a worker with 1 fit thread needs"),
        ("0", "give at least 1040M"),
    ],
)
def test_a_bad_size_is_refused_in_one_line_before_the_folder_is_made(kd, tmp_path, value, words):
    manifest = suite(tmp_path, ("small", "sklearn:iris"))
    line = one_line_error(*kd(*bench(tmp_path, manifest, "--memory-per-unit", value)))
    assert words in line
    assert not (tmp_path / "out").exists()


def test_the_floor_grows_with_the_fit_threads():
    threads = Execution().threads_per_fit  # the usable cores, at most
    floor = 1024 + 16 * threads
    plural = "s" if threads > 1 else ""
    words = f"below the {floor}M a worker with {threads} fit thread{plural} needs"
    with pytest.raises(SettingError, match=words):
        Execution(memory_per_unit=f"{floor - 1}M")
    assert Execution(memory_per_unit=f"{floor}M").memory_per_unit == floor
    assert Execution(memory_per_unit="1040M", threads=1).memory_per_unit == 1040  # 1024 + 16
    # --threads past the usable cores runs no more threads, and needs no more
    assert Execution(memory_per_unit=f"{floor}M", threads=threads + 1).memory_per_unit == floor


def test_a_failed_allocation_is_told_apart_through_kds_own_wrapping():
    try:
        try:
            raise MemoryError("Unable to allocate 610. MiB")
        except MemoryError as inner:
            raise KDError("teacher lightgbm could not be fitted") from inner
    except KDError as wrapped:
        line, detail, kind = failure(wrapped, "could not be fitted", "TRACE", 2**31)
    assert kind == "memory" and line.startswith("failed: memory: past --memory-per-unit 2G")
    assert "--retry-failed --memory-per-unit 4G" in detail and detail.endswith("TRACE")
    assert is_memory_error(OSError("lib_lightgbm.so: failed to map segment from shared object"))
    assert not is_memory_error(ValueError("Input contains NaN"))
    # a thread that cannot start is the cap's doing only under a cap
    assert is_memory_error(RuntimeError("can't start new thread"), cap=2**31)
    assert not is_memory_error(RuntimeError("can't start new thread"))
    assert failure(ValueError("x"), "ValueError: x", "T", 2**31) == ("ValueError: x", "T", "error")


@pytest.mark.slow
def test_a_unit_past_its_cap_fails_as_memory_and_a_retry_with_more_runs_it(kd, tmp_path):
    manifest = suite(tmp_path, ("small", "sklearn:iris"), ("big", BIG))
    args = bench(tmp_path, manifest, "--max-rows", "300")
    started = time.monotonic()
    code, _, err = kd(*args, "--memory-per-unit", "1.1G")
    assert code == 1, err
    assert "big__r0_f0__lightgbm: failed: memory: past --memory-per-unit 1126M (MemoryError" in err
    record = json.loads((tmp_path / "out/failures/big__r0_f0__lightgbm.json").read_text())
    assert record["kind"] == "memory" and "Unable to allocate" in record["error"]
    assert "--retry-failed --memory-per-unit 3G" in record["detail"]
    out = tmp_path / "out"
    assert set(pd.read_parquet(out / "results.parquet")["dataset"]) == {"small"}  # went on
    run = json.loads((out / "run.json").read_text())
    assert run["memory_per_unit"] == 1126
    # another cap is the same study: resumed, not refused; only the failed unit runs
    code, stdout, err = kd(*args, "--memory-per-unit", "4G", "--retry-failed", "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["units_run"] == 1 and report["units_failed"] == 0
    assert set(pd.read_parquet(out / "results.parquet")["dataset"]) == {"small", "big"}
    again = json.loads((out / "run.json").read_text())
    assert again["fingerprint"] == run["fingerprint"] and again["memory_per_unit"] == 4096
    assert not (out / "failures/big__r0_f0__lightgbm.json").exists()
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_a_worker_that_dies_under_its_cap_is_a_memory_failure(tmp_path):
    """A compiled library that cannot allocate may end its process: no error comes back."""
    manifest = suite(tmp_path, ("big", "synthetic:binary?n=20000"))
    study = study_settings(str(manifest), sizes="4")
    cfg = OpenMLConfig(cache_dir=tmp_path / "cache", offline=True)
    (unit,), _ = plan_units(study, cfg)
    executor = LocalExecutor(jobs=1, memory=2 * 2**30)
    victim = kill_its_first_worker(executor)
    (died,) = list(executor.run([(unit.unit_id, payload(study.fit, unit, cfg, threads=1))]))
    assert victim and died.kind == "memory"
    assert died.error.startswith("failed: memory: past --memory-per-unit 2G? (worker process")
    assert "the worker ran under --memory-per-unit 2G" in died.detail


@pytest.mark.slow
def test_on_a_local_dask_cluster_the_cap_is_each_workers_memory_limit(kd, tmp_path):
    """The nanny restarts a worker past 95 % of its limit; the unit comes back as KilledWorker
    at once (kd's capped cluster allows no retry: each would draw 1.1 GiB and restart a worker
    to fail the same), recorded as memory, and the other unit is done."""
    pytest.importorskip("distributed")

    # 1,500,000 x 100 features: 1.1 GiB resident, past 95 % of a 1.1G limit
    manifest = suite(
        tmp_path, ("small", "sklearn:iris"), ("big", "synthetic:binary?n=1500000&d=100")
    )
    args = bench(tmp_path, manifest, "--max-rows", "300", "--executor", "dask", "--jobs", "2")
    code, stdout, err = kd(*args, "--memory-per-unit", "1.1G", "--json")
    assert code == 1, err
    report = json.loads(stdout)
    (failed,) = report["failures"]
    assert failed["kind"] == "memory", failed
    assert failed["error"].startswith("failed: memory: Dask workers killed running it (Killed")
    assert "on 1 different workers" in failed["error"]  # no retry on another worker
    assert set(pd.read_parquet(tmp_path / "out/results.parquet")["dataset"]) == {"small"}


@pytest.mark.slow
def test_with_an_address_kd_says_the_workers_keep_their_own_limit(kd, tmp_path):
    distributed = pytest.importorskip("distributed")
    manifest = suite(tmp_path, ("small", "sklearn:iris"))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        args = bench(tmp_path, manifest, "--executor", "dask", "--address", address)
        code, _, err = kd(*args, "--memory-per-unit", "2G", "--quiet")
    assert code == 0, err
    assert (
        f"kd: notice: --memory-per-unit 2G: the workers at {address} keep their own memory "
        "limit and kd does not change it"
    ) in err
    assert f"dask worker {address} --nthreads 1 --memory-limit 2GiB" in err
