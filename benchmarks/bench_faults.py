"""Faults, measured: kill -9 a study at random moments, resume it, compare with a clean run.

For each executor (local worker processes, a Dask LocalCluster), on the demo suite with 3 repeats
(18 units, --jobs 2):
  1. a clean run, timed;
  2. the same study in another folder (its own teacher cache), killed with SIGKILL (kd alone, not
     its process group, as a user's `kill -9 PID` does) at KILLS random moments, each uniform in
     2 s .. 1.5 x clean time / KILLS after a (re)start, restarted after each;
  3. a final resume to the end, timed.
It reports the rows lost, duplicated or different from the clean run (all must be 0), the
processes that outlived each kill by more than 5 s (must be 0), and the final resume's wall time
against the clean run's. Writes results/bench/faults.json.

    python benchmarks/bench_faults.py [--kills 5] [--seed 0] [--executors local,dask]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
from bench_common import write_bench
from paths import ROOT

KEY = ["dataset", "repeat", "fold", "teacher", "student", "size", "mode", "metric"]


def kd_args(out: Path, cache: Path, executor: str) -> list[str]:
    return [
        sys.executable, "-m", "kdcli", "benchmark", "--suite", "demo", "--out", str(out),
        "--cache-dir", str(cache), "--repeats", "3", "--jobs", "2", "--executor", executor,
        "--quiet",
    ]  # fmt: skip


def session(sid: int) -> list[int]:
    alive = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getsid(proc.pid) == sid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return alive


def run(args: list[str], kill_after: float | None = None) -> tuple[float, int | None, int]:
    """Wall seconds, exit code (None if killed) and processes alive 5 s after a kill."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        proc.wait(kill_after)
        return time.perf_counter() - t0, proc.returncode, 0
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        seconds = time.perf_counter() - t0
        time.sleep(5)
        survivors = session(proc.pid)
        for pid in survivors:  # count them, then clean up so the trial goes on fairly
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return seconds, None, len(survivors)


def compare(clean: pd.DataFrame, faulted: pd.DataFrame) -> dict:
    clean = clean.assign(size=clean["size"].astype(str))
    faulted = faulted.assign(size=faulted["size"].astype(str))
    duplicated = int(faulted.duplicated(KEY).sum())
    both = clean.merge(faulted.drop_duplicates(KEY), on=KEY, how="outer", indicator=True)
    lost = int((both["_merge"] == "left_only").sum())
    extra = int((both["_merge"] == "right_only").sum())
    matched = both[both["_merge"] == "both"]
    different = int((matched["value_x"] != matched["value_y"]).sum())
    return {"rows_clean": len(clean), "rows_faulted": len(faulted), "lost": lost,
            "extra": extra, "duplicated": duplicated, "different": different}  # fmt: skip


def trial(executor: str, kills: int, rng: random.Random, work: Path) -> dict:
    # each run its own teacher cache: a resume must not be sped up by the clean run's fits
    clean_out, faulted_out = work / f"clean-{executor}", work / f"faulted-{executor}"
    clean_seconds, code, _ = run(kd_args(clean_out, work / f"cache-clean-{executor}", executor))
    assert code == 0, f"clean {executor} run failed ({code})"
    cache = work / f"cache-faulted-{executor}"
    moments, survivors, finished_early, kept = [], [], 0, []
    for _ in range(kills):
        moment = rng.uniform(2.0, 1.5 * clean_seconds / kills)  # the kills spread over the run
        _, code, alive = run(kd_args(faulted_out, cache, executor), kill_after=moment)
        moments.append(round(moment, 1))
        survivors.append(alive)
        finished_early += code is not None
        kept.append(len(list((faulted_out / "units").glob("*.parquet"))))
    resume_seconds, code, _ = run(kd_args(faulted_out, cache, executor))
    assert code == 0, f"final {executor} resume failed ({code})"
    units = len(list((faulted_out / "units").glob("*.parquet")))
    diff = compare(
        pd.read_parquet(clean_out / "results.parquet"),
        pd.read_parquet(faulted_out / "results.parquet"),
    )
    return {
        "executor": executor,
        "clean_seconds": round(clean_seconds, 1),
        "kill_moments_s": moments,
        "units_on_disk_after_each_kill": kept,
        "runs_that_finished_before_their_kill": finished_early,
        "processes_alive_5s_after_each_kill": survivors,
        "final_resume_seconds": round(resume_seconds, 1),
        "final_resume_over_clean": round(resume_seconds / clean_seconds, 3),
        "units": units,
        "damaged_set_aside": len(list((faulted_out / "damaged").glob("*")))
        if (faulted_out / "damaged").exists()
        else 0,
        **diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--executors", default="local,dask")
    opts = parser.parse_args()
    rng = random.Random(opts.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kd-faults-") as tmp:
        for executor in opts.executors.split(","):
            row = trial(executor, opts.kills, rng, Path(tmp))
            print(row, flush=True)
            rows.append(row)
    ok = all(
        r["lost"] == r["duplicated"] == r["different"] == r["extra"] == 0
        and not any(r["processes_alive_5s_after_each_kill"])
        for r in rows
    )
    write_bench("faults.json", {"kills": opts.kills, "seed": opts.seed, "ok": ok, "trials": rows})
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
