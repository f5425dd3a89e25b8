"""kd's headline cross-dataset result, timed: `kd benchmark --suite dir:../shared/datasets --jobs 2`
with defaults, 5 repeats and the `mixed` baseline among the modes (5 splits per dataset, so a
dataset's mean does not carry one split's luck; target: at most 60 min wall and 4 GiB peak
memory), then its `kd report` as Markdown with plots under results/shared28/ (committed).

    python benchmarks/bench_suite.py [OUT]     OUT: the study folder (default results/runs/shared28)

Peak memory is the largest sum of the resident sizes of kd and all its worker processes,
sampled every half second (workers are separate processes, so no one of them sees the total).
An interrupted run resumes from OUT. Writes results/bench/suite.json.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
from bench_common import write_bench
from paths import ROOT
from paths import SHARED_DATASETS as SHARED

from kdcli.study.run_folder import RunFolder

REPORT = Path("results/shared28")  # from ROOT


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:  # ended between listing and reading
            pass
    return total


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak process-tree RSS (bytes) of one command."""
    t0 = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT)
    process = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, tree_rss(process))
        except psutil.Error:
            pass
        time.sleep(0.5)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {child.returncode}")
    return time.perf_counter() - t0, peak


def main(argv: list[str]) -> None:
    # paths relative to the checkout (commands run there), so the report names no machine's
    out = Path(argv[0]) if argv else Path("results/runs/shared28")
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} not found: ../shared is not beside this checkout")
    suite = "dir:../shared/datasets"  # = SHARED, seen from ROOT
    benchmark = [
        "kd", "benchmark", "--suite", suite, "--jobs", "2", "--repeats", "5",
        "--modes", "raw,vanilla,crossfit,corrected,mixed", "--out", str(out),
    ]  # fmt: skip
    seconds, peak = timed([*benchmark, "--quiet"])
    print(f"kd benchmark: {seconds / 60:.1f} min, peak {peak / 2**30:.2f} GiB", flush=True)
    (ROOT / REPORT).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "kd", "report", str(out), "--format", "md",
            "--out", str(REPORT / "report.md"), "--plots", str(REPORT / "plots"),
        ],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    run = RunFolder(ROOT / out).record()
    report = {
        "command": " ".join(benchmark),
        "wall_minutes": round(seconds / 60, 1),
        "peak_gib": round(peak / 2**30, 2),
        "targets": {"wall_minutes": 60, "peak_gib": 4},
        "units": {"done": run["units_done"], "failed": run["units_failed"]},
    }
    write_bench("suite.json", report)


if __name__ == "__main__":
    main(sys.argv[1:])
