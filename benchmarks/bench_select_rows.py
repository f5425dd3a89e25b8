"""--select-rows: choosing c on a stratified subsample of a large split's training rows, against
choosing it on every training row.

`kd fit` defaults (LightGBM teacher, tree students of 8, 64, 512 and unlimited leaves, modes raw,
vanilla, crossfit, corrected) except ``select_rows``, through the API. Per dataset, split and
student size: the chosen c, held-out error and log loss of the corrected student (and its true
excess risk p0_kl on synthetic designs), and the wall seconds of that size's choice of c (timed
here; sizes choose side by side, so these overlap); per split the wall seconds of the whole fit,
its teachers and its students. Every variant sees the same splits, teachers and final students,
so they differ only where the chosen c does; a variant whose N is not below any split's training
rows is the full selection itself and is not run again.

    python benchmarks/bench_select_rows.py [--repeats R] [--rows N,N] [--no-full] [--scale-1m]
                                           [--threads T] [NAME ...]

Names: connect-4, adult, magic (../shared/datasets; below 100,000 rows, so N = 10,000 and
20,000 beside full), synth-200k (the binary design, 200,000 rows: N = 20,000, 50,000, 100,000
beside full; full takes long), and, only with --scale-1m, binary-1m (the 1,000,000 x 20 design of
bench_scale.py: N = 100,000 beside full, which takes about half an hour on 2 cores). Default: all
but binary-1m. Results are merged into results/bench/select_rows.json by dataset and variant, so
the long designs can be run later and apart.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass

import numpy as np
from bench_common import BENCH, write_bench
from paths import SHARED_DATASETS as SHARED

import kdcli
import kdcli.experiment.split_fit as split_fit
from kdcli.experiment.splits import derived_seed

OUT = "select_rows.json"
FULL = "all"
METRICS = ("c", "error", "log_loss", "p0_kl")


@dataclass(frozen=True)
class Design:
    spec: str
    rows: tuple[int, ...]  # the values of N beside full selection


DESIGNS = {
    **{
        name: Design(f"file:{SHARED / name}.tsv.gz", (10_000, 20_000))
        for name in ("connect-4", "adult", "magic")
    },
    "synth-200k": Design("synthetic:binary?n=200000&d=10&noise=0.1", (20_000, 50_000, 100_000)),
}
SCALE = {"binary-1m": Design("synthetic:binary?n=1000000&d=20&noise=0.1", (100_000,))}


class SelectionClock:
    """Wall seconds and rows of each choice of c, by (the students' seed, which names the split,
    and size). Sizes choose c side by side, so their seconds overlap: the cost is the fit's."""

    def __init__(self) -> None:
        self.calls: dict[tuple[int, str], tuple[float, int]] = {}
        self._choose_c = split_fit.StudentData.choose_c

    def __enter__(self) -> SelectionClock:
        choose_c = self._choose_c

        def timed(data: split_fit.StudentData, fit_predict, scale: str, fit) -> list:
            t0 = time.perf_counter()
            out = choose_c(data, fit_predict, scale, fit)
            rows = sum(len(held) for _fit, held in data.select_folds)
            for size in fit_predict.sizes:
                self.calls[(data.seed, str(size))] = (time.perf_counter() - t0, rows)
            return out

        split_fit.StudentData.choose_c = timed
        return self

    def __exit__(self, *_exc) -> None:
        split_fit.StudentData.choose_c = self._choose_c


def run_variant(spec: str, rows: int | str, repeats: int, threads: int) -> dict:
    """One `kd fit` with defaults and ``select_rows=rows``: per split and size the corrected
    student's numbers and its selection's seconds; per split the fit's seconds."""
    fit = kdcli.fit_settings(repeats=repeats, select_rows=rows)
    sizes = [str(s) for s in fit.sizes["tree"]]
    t0 = time.perf_counter()
    with SelectionClock() as clock:
        result = kdcli.fit(spec, fit, threads=threads)
    seconds = time.perf_counter() - t0
    r = result.results
    corrected = r[(r["mode"] == "corrected") & r["metric"].isin(METRICS)]
    wide = corrected.pivot_table(index=["repeat", "fold", "size"], columns="metric", values="value")
    splits = []
    for t in result.timings:
        cells = []
        for size in sizes:
            select_seconds, select_rows = clock.calls[
                (derived_seed(t["seed"], "student", "tree"), size)
            ]
            numbers = wide.loc[(t["repeat"], t["fold"], size)]
            cells.append(
                {
                    "size": size,
                    **{m: float(numbers[m]) for m in METRICS if m in numbers},
                    "select_seconds": round(select_seconds, 2),
                    "select_rows": select_rows,
                }
            )
        splits.append(
            {
                "repeat": t["repeat"],
                "fold": t["fold"],
                "seconds": round(t["seconds"], 1),
                "teacher_seconds": round(t["teacher"], 1),
                "student_seconds": round(t["students"], 1),
                "student_fits": t["fits"] - (0 if t["teacher_cached"] else fit.teacher_fits),
                "fit_seconds": round(t["fit_seconds"], 1),  # summed over fits side by side
                "sizes": cells,
            }
        )
    return {"select_rows": rows, "seconds": round(seconds, 1), "splits": splits}


def compare(full: dict, sub: dict) -> dict:
    """Subsample against full selection over (split, size) cells: how often c agrees, the mean
    change sub − full of each metric, and the selection's and the fit's wall time."""
    pairs = [
        (a, b)
        for sa, sb in zip(full["splits"], sub["splits"], strict=True)
        for a, b in zip(sa["sizes"], sb["sizes"], strict=True)
    ]
    out = {
        "cells": len(pairs),
        "c_same": float(np.mean([a["c"] == b["c"] for a, b in pairs])),
        "mean_abs_log10_c_change": float(
            np.mean([abs(np.log10(b["c"]) - np.log10(a["c"])) for a, b in pairs])
        ),
    }
    for metric in METRICS[1:]:
        if metric in pairs[0][0]:
            diff = np.array([b[metric] - a[metric] for a, b in pairs])
            out[f"delta_{metric}"] = float(diff.mean())
            out[f"delta_{metric}_max"] = float(diff.max())
    out["select_seconds"] = {"full": _select_seconds(full), "sub": _select_seconds(sub)}
    out["seconds"] = {"full": full["seconds"], "sub": sub["seconds"]}
    return out


def _select_seconds(run: dict) -> float:
    return round(sum(c["select_seconds"] for s in run["splits"] for c in s["sizes"]), 1)


def run_design(name: str, design: Design, rows: tuple[int, ...], args) -> dict:
    plan = kdcli.prepare_fit(design.spec, repeats=args.repeats)
    n_train = [len(s.train) for s in plan.splits]
    runs: dict = {}
    if not args.no_full:
        runs[FULL] = run_variant(design.spec, FULL, args.repeats, args.threads)
        print(f"{name}: full selection {runs[FULL]['seconds']:.0f} s", flush=True)
    for n in rows:
        if n >= max(n_train):  # nothing to subsample: the full selection, number for number
            runs[str(n)] = {"select_rows": n, "same_as": FULL}
            continue
        runs[str(n)] = run_variant(design.spec, n, args.repeats, args.threads)
        print(f"{name}: select_rows {n:,} {runs[str(n)]['seconds']:.0f} s", flush=True)
    return {"spec": design.spec, "rows": plan.dataset.n_rows, "n_train": n_train, "runs": runs}


def merged(old: dict, new: dict) -> dict:
    """A dataset's entry: this run's variants replacing the stored ones, and every subsample
    compared with the full selection where both are there."""
    runs = {**old.get("runs", {}), **new["runs"]}
    full = runs.get(FULL)
    comparisons = {
        key: compare(full, run) if "splits" in run else {"same_as": FULL}
        for key, run in runs.items()
        if key != FULL and full is not None
    }
    return {**new, "runs": runs, "compare": comparisons}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"designs (default: {', '.join(DESIGNS)})")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--rows", help="values of N, comma-separated (default: per design)")
    parser.add_argument("--no-full", action="store_true", help="skip the full selection")
    parser.add_argument("--scale-1m", action="store_true", help="add the 1,000,000 x 20 design")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    designs = {**DESIGNS, **(SCALE if args.scale_1m else {})}
    names = args.names or list(designs)
    unknown = [n for n in names if n not in designs]
    if unknown:
        parser.error(f"unknown design {unknown[0]}; use {', '.join(designs)} (1m: --scale-1m)")
    path = BENCH / OUT
    report = json.loads(path.read_text()) if path.exists() else {}
    if report.get("repeats") != args.repeats:
        report = {}  # other outer splits: nothing to compare with
    report.update(
        {
            "about": __doc__.splitlines()[0],
            "repeats": args.repeats,
            "threads": args.threads,
            "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
            "kd": kdcli.__version__,
        }
    )
    datasets = report.setdefault("datasets", {})
    for name in names:
        design = designs[name]
        rows = tuple(int(n) for n in args.rows.split(",")) if args.rows else design.rows
        datasets[name] = merged(datasets.get(name, {}), run_design(name, design, rows, args))
        write_bench(OUT, report)  # after each design: a long run keeps what it finished
    print(table(datasets))


def table(datasets: dict) -> str:
    lines = [
        "| dataset | training rows | N | c same | Δ log loss | Δ error | selection s, full → N "
        "| fit s, full → N |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, d in datasets.items():
        for key, c in d.get("compare", {}).items():
            if "same_as" in c:
                lines.append(f"| {name} | {max(d['n_train']):,} | {int(key):,} | full selection |")
                continue
            lines.append(
                f"| {name} | {max(d['n_train']):,} | {int(key):,} | {c['c_same']:.0%} | "
                f"{c['delta_log_loss']:+.4f} | {c['delta_error']:+.4f} | "
                f"{c['select_seconds']['full']:.0f} → {c['select_seconds']['sub']:.0f} | "
                f"{c['seconds']['full']:.0f} → {c['seconds']['sub']:.0f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
