"""Scale: `kd fit` with its defaults on a 1,000,000-row by 20-feature binary file (wall time and
peak memory), and peak memory against rows for a lighter fit at 62.5k to 500k rows, to show that
memory grows linearly (no dense per-class copies beyond a small constant); the line it gives is
then checked against the 1M-row default fit.

    python benchmarks/bench_scale.py            both (the 1M default fit takes the longest)
    python benchmarks/bench_scale.py memory     only the memory series

Each fit runs as `kd fit` in a child process, so its peak RSS is its own. The file is the
synthetic binary design (known p0) with 20 features, written once to a temporary folder.
Writes results/bench/scale.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_common import write_bench

from kdcli.data.synthetic import make_synthetic
from kdcli.study.run_folder import RunFolder

ROWS = 1_000_000
SERIES = [62_500, 125_000, 250_000, 500_000]
LIGHT = ["--sizes", "8", "--c-grid", "0.01,1,100"]  # fewer student fits; the same data path


def write_file(folder: Path, n: int) -> Path:
    X, y, _ = make_synthetic("binary", n=n, d=20, noise=0.1, seed=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["target"] = y
    path = folder / f"binary-{n}.parquet"
    frame.to_parquet(path)
    return path


def kd_fit(path: Path, out: Path, extra: list[str]) -> dict:
    """One `kd fit` in a child process: wall seconds and that child's own peak RSS."""
    log = out.with_suffix(".log")
    t0 = time.perf_counter()
    with log.open("w") as sink:
        child = subprocess.Popen(
            ["kd", "fit", "--dataset", f"file:{path}", "--out", str(out), "--quiet", *extra],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"kd fit failed on {path.name}: {log.read_text()[-500:]}")
    peak = usage.ru_maxrss  # KiB on Linux
    run = RunFolder(out).record()
    return {
        "rows": int(pd.read_parquet(path, columns=["target"]).shape[0]),
        "wall_seconds": round(seconds, 1),
        "peak_mib": round(peak / 1024),
        "timings": run.get("timings"),
    }


def main(argv: list[str]) -> None:
    report: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        series = []
        for n in SERIES:  # increasing, so each child's peak is the largest so far
            row = kd_fit(write_file(folder, n), folder / f"light-{n}", LIGHT)
            series.append(row)
            print(f"light fit {n:>9,} rows: {row['wall_seconds']:7.1f} s {row['peak_mib']:6} MiB")
        rows = np.array([r["rows"] for r in series], dtype=float)
        mib = np.array([r["peak_mib"] for r in series], dtype=float)
        slope, intercept = np.polyfit(rows, mib, 1)
        worst = float(np.max(np.abs(mib - (slope * rows + intercept)) / mib))
        report["memory"] = {
            "settings": LIGHT,
            "series": series,
            "mib_per_million_rows": round(slope * 1e6),
            "intercept_mib": round(intercept),
            "largest_relative_deviation_from_line": round(worst, 3),
            "bytes_per_row_cell": round(slope * 2**20 / 21, 1),  # 20 features and the label
        }
        print(
            f"memory: {slope * 1e6:.0f} MiB per million rows + {intercept:.0f} MiB; "
            f"largest deviation from the line {worst:.1%}"
        )
        if argv[:1] != ["memory"]:
            row = kd_fit(write_file(folder, ROWS), folder / "default", [])
            row["line_predicts_mib"] = round(slope * ROWS + intercept)
            report["default_1m"] = row
            print(
                f"defaults, {ROWS:,} x 20: {row['wall_seconds']:.1f} s, {row['peak_mib']} MiB "
                f"(the line: {row['line_predicts_mib']} MiB)"
            )
    write_bench("scale.json", report)


if __name__ == "__main__":
    main(sys.argv[1:])
