"""`kd fit` with its defaults on every dataset of ../shared/datasets: wall time against the 60 s
target, peak memory, and the teacher's held-out scores (to compare teacher defaults before and
after a change). Each dataset runs in a child process, so its peak RSS is its own.

    python benchmarks/bench_defaults.py [LABEL]     writes results/bench/defaults-LABEL.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
CHILD = """
import json, resource, sys, kdcli
result = kdcli.fit("file:" + sys.argv[1])
s = result.summary
teacher = s[s.student == "teacher"].set_index("metric")["mean"]
scores = {m: float(teacher[m]) for m in ("error", "log_loss", "auc")}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"teacher": scores, "peak_mib": round(peak)}))
"""


def one(path: Path) -> dict:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    seconds = time.perf_counter() - t0
    row = {"dataset": path.name.split(".")[0], "seconds": round(seconds, 1)}
    if done.returncode != 0:
        return {**row, "error": done.stderr.strip().splitlines()[-1:]}
    return {**row, **json.loads(done.stdout.strip().splitlines()[-1])}


def main(label: str) -> None:
    rows = []
    for path in sorted(SHARED.glob("*.tsv.gz")):
        rows.append(one(path))
        r = rows[-1]
        print(
            f"{r['dataset']:<24} {r['seconds']:6.1f} s  {r.get('teacher', r.get('error'))}",
            flush=True,
        )
    over = [r["dataset"] for r in rows if r["seconds"] > 60]
    print(f"{len(rows)} datasets, {len(over)} over 60 s: {', '.join(over) or 'none'}")
    out = ROOT / "results" / "bench" / f"defaults-{label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "latest")
