"""`kd fit` with its defaults on every dataset of ../shared/datasets: wall time against the 60 s
target, peak memory, and the teacher's held-out scores (to compare teacher defaults before and
after a change). Each dataset runs in a child process, so its peak RSS is its own.

    python benchmarks/bench_defaults.py [LABEL]     writes results/bench/defaults-LABEL.json
    python benchmarks/bench_defaults.py compare A B   a Markdown table of run B against run A
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench_common import write_bench
from paths import BENCH, ROOT
from paths import SHARED_DATASETS as SHARED
from scipy.stats import wilcoxon

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
    write_bench(f"defaults-{label}.json", rows)


def compare(a: str, b: str) -> None:
    """Per dataset: seconds and the teacher's held-out error and log loss, A → B; then means."""
    runs = [
        {r["dataset"]: r for r in json.loads((BENCH / f"defaults-{x}.json").read_text())}
        for x in (a, b)
    ]
    names = sorted(set(runs[0]) & set(runs[1]))
    keys = ("error", "log_loss", "auc")
    print(f"| dataset | seconds, {a} → {b} | teacher error | teacher log loss | teacher AUC |")
    print("|---|---|---|---|---|")
    for name in names:
        x, y = runs[0][name], runs[1][name]
        cells = " | ".join(f"{x['teacher'][k]:.4f} → {y['teacher'][k]:.4f}" for k in keys)
        print(f"| {name} | {x['seconds']:.1f} → {y['seconds']:.1f} | {cells} |")

    def summary(key: str) -> str:
        """Means, counts and the Wilcoxon signed-rank p over datasets (one value each)."""
        x = [runs[0][n]["teacher"][key] for n in names]
        y = [runs[1][n]["teacher"][key] for n in names]
        up = sum(v > u + 1e-12 for u, v in zip(x, y, strict=True))
        down = sum(v < u - 1e-12 for u, v in zip(x, y, strict=True))
        p = wilcoxon(x, y).pvalue
        return (
            f"{sum(x) / len(x):.4f} → {sum(y) / len(y):.4f} ({down} lower, {up} higher; p={p:.2g})"
        )

    total = [sum(r[n]["seconds"] for n in names) for r in runs]
    slowest = [max(r[n]["seconds"] for n in names) for r in runs]
    print(
        f"| **mean over {len(names)}** | total {total[0]:.0f} → {total[1]:.0f} s, slowest "
        f"{slowest[0]:.1f} → {slowest[1]:.1f} s | " + " | ".join(summary(k) for k in keys) + " |"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["compare"]:
        compare(*sys.argv[2:4])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "latest")
