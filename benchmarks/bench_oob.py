"""--crossfit oob against 10-fold cross-fitting under the paper's protocol (--preset dao2021).

MAGIC and Adult with 5 repeats, and six more binary datasets of ../shared/datasets with 5 repeats;
for each dataset, student size and mode, the mean AUC difference oob - folds over the paired
splits with its standard error, and the wall time of each variant. Writes results/bench/oob.json
and prints a Markdown table (not part of the tests).

    python benchmarks/bench_oob.py [DATASET ...]
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

from bench_common import BENCH, write_bench
from paths import SHARED_DATASETS as SHARED

import kdcli

DATASETS = ["magic", "adult", "diabetes", "credit-a", "breast-w", "spambase", "tic-tac-toe", "wdbc"]


def run(dataset: str, crossfit: str, tmp: Path) -> tuple[float, object]:
    spec = kdcli.study_settings(
        f"dir:{SHARED}", datasets=dataset, preset="dao2021", crossfit=crossfit
    )
    t0 = time.perf_counter()
    report = kdcli.run_study(
        spec, tmp / f"{dataset}-{crossfit}", openml=kdcli.OpenMLConfig(cache_dir=tmp / "cache")
    )
    return time.perf_counter() - t0, report.results


def differences(folds, oob) -> list[dict]:
    keys = ["repeat", "fold", "student", "size", "mode"]
    a = folds[folds.metric == "auc"].set_index(keys)["value"]
    b = oob[oob.metric == "auc"].set_index(keys)["value"]
    diff = (b - a).dropna().reset_index()
    rows = []
    for (mode, size), part in diff.groupby(["mode", "size"], sort=False):
        n = len(part)
        se = float(part.value.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        rows.append(
            {"mode": mode, "size": size, "n": n, "auc_diff": float(part.value.mean()), "se": se}
        )
    return rows


def main(names: list[str]) -> None:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in names or DATASETS:
            seconds = {}
            results = {}
            for crossfit in ("folds", "oob"):
                seconds[crossfit], results[crossfit] = run(dataset, crossfit, Path(tmp))
            rows = differences(results["folds"], results["oob"])
            out.append({"dataset": dataset, "seconds": seconds, "differences": rows})
            print(
                f"{dataset}: folds {seconds['folds']:.0f} s, oob {seconds['oob']:.0f} s", flush=True
            )
            for r in rows:
                print(
                    f"  {r['mode']:<14} {r['size']:>3}  {r['auc_diff']:+.4f} ± {r['se']:.4f}",
                    flush=True,
                )
    path = BENCH / "oob.json"
    # A run over some datasets replaces their entries and keeps the others.
    done = {entry["dataset"] for entry in out}
    kept = (
        [e for e in json.loads(path.read_text()) if e["dataset"] not in done]
        if path.exists()
        else []
    )
    write_bench(path.name, kept + out)


if __name__ == "__main__":
    main(sys.argv[1:])
