"""Speed of `kd fit` on bundled, synthetic and (when ../shared is beside the checkout) real data,
and of `kd benchmark` on the demo suite with each executor.

Writes results/bench/latest.json: wall time per case and the held-out errors it produced, so a
regression in speed or in the numbers shows up in review. Never part of the test suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"

CASES = [
    ("breast_cancer default", ["--dataset", "sklearn:breast_cancer"]),
    ("synthetic binary n=5000", ["--dataset", "synthetic:binary?n=5000&noise=0.2"]),
    (
        "digits tree+gbdt",
        ["--dataset", "sklearn:digits", "--student", "tree,gbdt", "--sizes", "10,100"],
    ),
]
if SHARED.exists():
    CASES.append(("magic default", ["--dataset", f"file:{SHARED / 'magic.tsv.gz'}"]))
    CASES.append(
        (
            "magic 70/30 paper-like",
            [
                "--dataset",
                f"file:{SHARED / 'magic.tsv.gz'}",
                "--test-size",
                "0.3",
                "--sizes",
                "full",
            ],
        )
    )


def run_case(name: str, args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kdcli", "fit", *args, "--out", tmp, "--quiet"],
            check=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - t0
        record = json.loads((Path(tmp) / "run.json").read_text())
    errors = {
        f"{r['student']}/{r['size']}/{r['mode']}": round(r["mean"], 4)
        for r in record["summary"]
        if r["metric"] == "error"
    }
    print(f"{name:<28} {seconds:7.1f} s", flush=True)
    return {
        "case": name,
        "args": args,
        "wall_seconds": round(seconds, 2),
        "timings": record["timings"],
        "error": errors,
    }


STUDY = ["--suite", "demo", "--sizes", "8,full", "--quiet"]
EXECUTIONS = [
    ("serial", ["--jobs", "1"]),
    ("jobs 2", ["--jobs", "2"]),
    ("dask local 2", ["--executor", "dask", "--jobs", "2"]),
]


def run_study(name: str, args: list[str]) -> dict:
    """The demo suite as a study, cold teacher cache each time, so executors are compared fairly;
    then a warm re-run with another student (teachers from the cache)."""
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "kdcli", "benchmark", *STUDY, "--cache-dir", f"{tmp}/cache"]
        t0 = time.perf_counter()
        subprocess.run([*base, *args, "--out", f"{tmp}/out"], check=True, cwd=ROOT)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run(
            [*base, *args, "--out", f"{tmp}/out2", "--modes", "raw,crossfit"], check=True, cwd=ROOT
        )
        warm = time.perf_counter() - t0
    print(f"study {name:<21} {cold:7.1f} s cold, {warm:5.1f} s with cached teachers", flush=True)
    return {
        "study": name,
        "args": args,
        "cold_seconds": round(cold, 2),
        "cached_teachers_seconds": round(warm, 2),
    }


def main() -> None:
    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    cases = [run_case(name, args) for name, args in CASES]
    studies = [run_study(name, args) for name, args in EXECUTIONS]
    report = {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "cases": cases,
        "studies": studies,
    }
    path = out / "latest.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(path)
    print(f"written {path}")


if __name__ == "__main__":
    main()
