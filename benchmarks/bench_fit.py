"""Speed of `kd fit` on bundled, synthetic and (when ../shared is beside the checkout) real data.

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


def main() -> None:
    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    cases = [run_case(name, args) for name, args in CASES]
    report = {"cores": os.cpu_count(), "python": sys.version.split()[0], "cases": cases}
    path = out / "latest.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(path)
    print(f"written {path}")


if __name__ == "__main__":
    main()
