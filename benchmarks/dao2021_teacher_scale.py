"""One protocol difference of `--preset dao2021-teacher`, measured: the KD students regress the
logit of p̂ (the paper's text, kd's `:logit`), where the paper's code regressed log p̂ and
predicted through exp (its `scale_logp` result files). Same splits, teachers and student seeds
for both; only the target's transform differs.

Per seed: a stratified 70/30 split of MAGIC; a 100-tree forest teacher at each max_depth; the
vanilla student (in-sample p̂) and the cross-fit student (10-fold out-of-fold p̂), 10-tree
forests, on either transform, p̂ floored at 1/500 as in both. Writes
results/bench/dao2021_teacher_scale.json: mean test AUC per depth, transform and curve, and the
paired difference logit − log p with its standard error over seeds.

    python benchmarks/dao2021_teacher_scale.py [PATH/magic.tsv.gz] [SEEDS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from bench_common import ROOT, write_bench
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

import kdcli

DEPTHS = [1, 2, 3, 5, 10, 15, 20]
EPS = 1 / 500


def student_auc(X, target, X_test, y_test, inverse, seed: int) -> float:
    forest = RandomForestRegressor(10, n_jobs=1, random_state=seed).fit(X, target)
    return float(roc_auc_score(y_test, inverse(forest.predict(X_test))))


def transforms(p1: np.ndarray) -> dict:
    p1 = np.clip(p1, EPS, 1 - EPS)
    return {
        "logit": (np.log(p1) - np.log1p(-p1), lambda z: 1 / (1 + np.exp(-z))),
        "logp": (np.log(p1), np.exp),
    }


def one_seed(X, y, seed: int) -> dict:
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    folds = list(StratifiedKFold(10, shuffle=True, random_state=seed).split(X_tr, y_tr))
    out = {}
    for depth in DEPTHS:

        def teacher(rows, d=depth):
            return RandomForestClassifier(100, max_depth=d, n_jobs=1, random_state=seed).fit(
                X_tr[rows], y_tr[rows]
            )

        p_in = teacher(np.arange(len(y_tr))).predict_proba(X_tr)[:, 1]
        p_oof = np.empty(len(y_tr))
        for fit_rows, held in folds:
            p_oof[held] = teacher(fit_rows).predict_proba(X_tr[held])[:, 1]
        for curve, p in (("vanilla", p_in), ("crossfit", p_oof)):
            for scale, (target, inverse) in transforms(p).items():
                out[f"{depth}/{curve}/{scale}"] = student_auc(
                    X_tr, target, X_te, y_te, inverse, seed
                )
    return out


def main(path: str, seeds: int) -> dict:
    ds = kdcli.load_dataset(f"file:{path}")
    X, y = ds.X.to_numpy(dtype=float), ds.y
    t0 = time.perf_counter()
    runs = [one_seed(X, y, s) for s in range(seeds)]
    table = {}
    for key in runs[0]:
        depth, curve, scale = key.split("/")
        if scale != "logit":
            continue
        logit = np.array([r[key] for r in runs])
        logp = np.array([r[f"{depth}/{curve}/logp"] for r in runs])
        diff = logit - logp
        table[f"{depth}/{curve}"] = {
            "logit": float(logit.mean()),
            "logp": float(logp.mean()),
            "logit_minus_logp": float(diff.mean()),
            "se": float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else None,
        }
        print(
            f"depth {depth:>2} {curve:8} logit {logit.mean():.4f} logp {logp.mean():.4f} "
            f"diff {diff.mean():+.4f}"
        )
    return {
        "dataset": Path(path).name,
        "seeds": seeds,
        "seconds": time.perf_counter() - t0,
        "cells": table,
    }


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else str(ROOT.parent / "shared/datasets/magic.tsv.gz")
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    write_bench("dao2021_teacher_scale.json", main(path, seeds))
