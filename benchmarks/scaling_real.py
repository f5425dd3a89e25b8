"""Issue 22's measured sections of bench_scaling.py: real runs, old code beside new, on this
machine (the simulated ones replay traces: benchmarks/replay.py).

``two_cores``: the study where one unit dominates (letter beside five small datasets), kd
defaults, ``--jobs 2``. The old code is the commit before issue 22 (:data:`OLD`), checked out
in a temporary git worktree and run with ``PYTHONPATH``; both runs fit their teachers (fresh
cache folders), one after the other. The ideal is the new run's fit seconds (each fit's wall
seconds times its cores, from the traces) over 2; the numbers of both runs must be identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from paths import ROOT
from paths import SHARED_DATASETS as SHARED

OLD = "a0cc5ad"  # correctness round 2: the last commit before the scale-out work
DOMINATED = "letter,diabetes,credit-a,breast-w,tic-tac-toe,wdbc"
KEYS = ["dataset", "repeat", "fold", "teacher", "student", "size", "mode", "metric"]


def study(tree: Path, out: Path, datasets: str, jobs: int) -> float:
    """Wall seconds of ``kd benchmark`` run from the source tree ``tree`` (fresh cache)."""
    command = [
        sys.executable, "-m", "kdcli", "benchmark", "--suite", f"dir:{SHARED}",
        "--datasets", datasets, "--jobs", str(jobs), "--out", str(out / "study"),
        "--cache-dir", str(out / "cache"), "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    subprocess.run(command, cwd=tree, env=env, check=True)
    return time.perf_counter() - t0


def results(out: Path) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in sorted((out / "study" / "units").glob("*.parquet"))]
    return pd.concat(frames).sort_values(KEYS).reset_index(drop=True)


def fit_seconds(out: Path) -> float:
    """Seconds of every fit times the cores it held, from the units' traces."""
    total = 0.0
    for path in (out / "study" / "units").glob("*.timings.json"):
        for f in json.loads(path.read_text())["trace"]["fits"]:
            total += (f["end"] - f["start"]) * f["tokens"]
    return total


def unit_seconds(out: Path) -> dict[str, float]:
    """Each unit's seconds (the old code recorded only its two stages)."""
    seconds = {}
    for path in (out / "study" / "units").glob("*.timings.json"):
        t = json.loads(path.read_text())
        seconds[path.name.split("__")[0]] = round(t.get("seconds", t["teacher"] + t["students"]), 2)
    return seconds


def two_cores(datasets: str = DOMINATED, jobs: int = 2) -> dict:
    with tempfile.TemporaryDirectory(prefix="kd-scaling-") as tmp:
        tmp = Path(tmp)
        old_tree = tmp / "old-tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-f", str(old_tree), OLD],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        try:
            old = study(old_tree, tmp / "old", datasets, jobs)
            new = study(ROOT, tmp / "new", datasets, jobs)
            same = results(tmp / "old").equals(results(tmp / "new"))
            work = fit_seconds(tmp / "new")
            units = {"old": unit_seconds(tmp / "old"), "new": unit_seconds(tmp / "new")}
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(old_tree)],
                cwd=ROOT, capture_output=True,
            )  # fmt: skip
    out = {
        "datasets": datasets,
        "jobs": jobs,
        "old_commit": OLD,
        "old_seconds": round(old, 1),
        "new_seconds": round(new, 1),
        "new_over_old": round(new / old, 3),
        "fit_core_seconds": round(work, 1),
        "ideal_seconds": round(work / 2, 1),
        "new_over_ideal": round(new / (work / 2), 3),
        "identical_numbers": bool(same),
        "unit_seconds": units,
        "targets": {"new_over_old": 0.6, "new_over_ideal": 1.25},
    }
    print(
        f"2 cores, {datasets}: old {old:.1f} s, new {new:.1f} s ({new / old:.2f}x); fits "
        f"{work:.1f} core-s, new / (fits/2) = {out['new_over_ideal']:.2f}; identical: {same}"
    )
    return out
