"""--select-c nested (leak-free choice of c) against the paper's procedure (--select-c paper).

`kd fit` defaults (LightGBM teacher, tree students of 8, 64, 512 and unlimited leaves, 5 folds),
mode `corrected` only, on real datasets of ../shared/datasets and synthetic designs with known
p0, a few repeats (outer splits) each; both variants see the same splits, teachers and students,
so they differ only where the chosen c differs. Per dataset: how often c differs, the mean change
nested − paper of held-out log loss, error and (synthetic) true excess risk p0_kl / p0_mse over
repeats and sizes, and what it costs (extra teacher fits, seconds); a Wilcoxon signed-rank test
over datasets (one value each). Writes results/bench/select_c.json and prints a Markdown table.

    python benchmarks/bench_select_c.py [--repeats R] [SPEC ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_common import write_bench
from paths import SHARED_DATASETS as SHARED
from scipy.stats import wilcoxon

import kdcli
from kdcli.science.optimism import cv_optimism

SHARED_NAMES = (
    "diabetes",
    "credit-a",
    "cmc",
    "breast-w",
    "wdbc",
    "tic-tac-toe",
    "balance-scale",
    "vowel",
    "car",
    "spambase",
    "magic",
)
DATASETS = {
    **{name: f"file:{SHARED / name}.tsv.gz" for name in SHARED_NAMES},
    "synth-binary-noisy": "synthetic:binary?n=2000&noise=0.2",
    "synth-binary": "synthetic:binary?n=5000&noise=0.1",
    "synth-multiclass": "synthetic:multiclass?n=3000&k=4&noise=0.1",
}
METRICS = ("log_loss", "error", "p0_kl", "p0_mse")
VARIANTS = ("paper", "nested")


def run(spec: str, select_c: str, repeats: int) -> tuple[float, kdcli.FitResult, dict]:
    fit = kdcli.fit_settings(modes="corrected", repeats=repeats, select_c=select_c)
    t0 = time.perf_counter()
    result = kdcli.fit(spec, fit, threads=2)
    return time.perf_counter() - t0, result, {"teacher_fits_per_split": fit.teacher_fits}


def compare(results: dict) -> dict:
    """Per (repeat, size) cell: c of each variant and nested − paper of each metric."""
    keys = ["repeat", "size"]
    wide = {
        v: r[(r.student != "teacher")].pivot_table(index=keys, columns="metric", values="value")
        for v, r in results.items()
    }
    paper, nested = wide["paper"], wide["nested"]
    cells = paper.index
    out = {
        "cells": len(cells),
        "c_differs": float((paper["c"] != nested["c"]).mean()),
        "c_nested_larger": float((nested["c"] > paper["c"]).mean()),
        "c_nested_smaller": float((nested["c"] < paper["c"]).mean()),
        "log10_c_paper": float(np.log10(paper["c"]).mean()),
        "log10_c_nested": float(np.log10(nested["c"]).mean()),
    }
    for metric in METRICS:
        if metric in paper:
            diff = nested[metric] - paper[metric]
            out[f"paper_{metric}"] = float(paper[metric].mean())
            out[f"delta_{metric}"] = float(diff.mean())
            out[f"delta_{metric}_se"] = float(diff.std(ddof=1) / np.sqrt(len(diff)))
            out[f"delta_{metric}_by_size"] = {
                str(size): float(part.mean()) for size, part in diff.groupby(level="size")
            }
    return out


GRID = (1e-5, 1e-3, 1e-1, 10.0, 1e3)


def optimism(n: int = 2000, noise: float = 0.2, leaves: int = 64, seeds=range(6)) -> dict:
    """What the leak does to the CV estimate itself, on the binary design with known p0: per c,
    the expected held-out log loss of the final student (labels drawn from p0 on 20,000 new x's)
    minus each procedure's CV estimate of it (positive = optimistic). Default LightGBM teacher,
    5 folds, one tree student."""
    rows = [_optimism_one(n, noise, leaves, seed) for seed in seeds]
    mean = {
        kind: {str(c): float(np.mean([r[kind][str(c)] for r in rows])) for c in GRID}
        for kind in ("optimism_paper", "optimism_nested")
    }
    return {
        "design": f"synthetic:binary?n={n}&noise={noise}",
        "tree_leaves": leaves,
        "mean": mean,
        "seeds": rows,
    }


def _optimism_one(n: int, noise: float, leaves: int, seed: int) -> dict:
    out = cv_optimism(n, noise, leaves, seed, GRID)
    return {
        "seed": seed,
        "c": out["c"],
        **{
            key: {str(c): v for c, v in out[key].items()}
            for key in ("truth", "optimism_paper", "optimism_nested")
        },
    }


def signed_rank(values: list[float]) -> dict:
    values = [v for v in values if v == v]
    nonzero = [v for v in values if v != 0]
    p = float(wilcoxon(nonzero).pvalue) if len(nonzero) >= 5 else None
    return {
        "n": len(values),
        "lower": sum(v < 0 for v in values),
        "higher": sum(v > 0 for v in values),
        "mean": float(np.mean(values)) if values else None,
        "p": p,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("names", nargs="*", help=f"datasets (default: {', '.join(DATASETS)})")
    args = parser.parse_args()
    rows = []
    for name in args.names or list(DATASETS):
        spec = DATASETS.get(name, name)
        results, seconds, teacher_seconds, fits = {}, {}, {}, {}
        for variant in VARIANTS:
            seconds[variant], result, info = run(spec, variant, args.repeats)
            results[variant] = result.results
            teacher_seconds[variant] = sum(t["teacher"] for t in result.timings)
            fits[variant] = info["teacher_fits_per_split"]
        row = {
            "dataset": name,
            "spec": spec,
            "repeats": args.repeats,
            "seconds": seconds,
            "teacher_seconds": teacher_seconds,
            "teacher_fits_per_split": fits,
            "extra_teacher_fits_per_split": fits["nested"] - fits["paper"],
            **compare(results),
        }
        rows.append(row)
        print(
            f"{name}: c differs in {row['c_differs']:.0%} of cells, Δ log loss "
            f"{row['delta_log_loss']:+.4f}, {seconds['paper']:.0f} → {seconds['nested']:.0f} s",
            flush=True,
        )
    tests = {
        metric: signed_rank([r[f"delta_{metric}"] for r in rows if f"delta_{metric}" in r])
        for metric in METRICS
    }
    tests["c_differs"] = {"mean": float(np.mean([r["c_differs"] for r in rows]))}
    leak = optimism()
    write_bench("select_c.json", {"datasets": rows, "over_datasets": tests, "optimism": leak})
    print(table(rows, tests))
    print("\nCV optimism (expected held-out log loss − CV estimate), mean over 6 seeds:")
    for c in leak["mean"]["optimism_paper"]:
        print(
            f"  c={float(c):g}: paper {leak['mean']['optimism_paper'][c]:+.4f}, "
            f"nested {leak['mean']['optimism_nested'][c]:+.4f}"
        )


def table(rows: list[dict], tests: dict) -> str:
    def delta(r, m):
        return f"{r[f'delta_{m}']:+.4f}" if f"delta_{m}" in r else "—"

    lines = [
        "| dataset | c differs | mean log10 c, paper → nested | Δ log loss | Δ error "
        "| Δ p0_kl | Δ p0_mse | teacher fits per split | seconds, paper → nested |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['c_differs']:.0%} | {r['log10_c_paper']:.2f} → "
            f"{r['log10_c_nested']:.2f} | {delta(r, 'log_loss')} | {delta(r, 'error')} | "
            f"{delta(r, 'p0_kl')} | {delta(r, 'p0_mse')} | "
            f"{r['teacher_fits_per_split']['paper']} → {r['teacher_fits_per_split']['nested']} | "
            f"{r['seconds']['paper']:.0f} → {r['seconds']['nested']:.0f} |"
        )

    def summary(m):
        t = tests[m]
        if not t["n"]:
            return "—"
        p = f"p={t['p']:.2g}" if t["p"] is not None else "n<5"
        return f"{t['mean']:+.4f} ({t['lower']} lower, {t['higher']} higher; {p})"

    lines.append(
        f"| **over {len(rows)}** | {tests['c_differs']['mean']:.0%} | | {summary('log_loss')} "
        f"| {summary('error')} | {summary('p0_kl')} | {summary('p0_mse')} | | |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
