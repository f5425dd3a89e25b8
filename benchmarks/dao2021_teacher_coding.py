"""How much the coding of Adult's categories moves the shallow teachers of `--preset
dao2021-teacher`: kd reads the PMLB copy in ../shared (categories as integer codes in
alphabetical order), the paper OpenML's (its own codes, missing values mean-imputed). A forest of
depth-1 trees splits each feature once at a threshold, so the order of the codes decides which
groups of categories it can separate; deep trees can carve out any group.

Per seed (a stratified 70/30 split): the teacher (100 trees, max_depth 1), the vanilla and the
cross-fit (10-fold) KD students (10-tree forests on logit p̂), on kd's coding and on K random
re-codings of the 7 categorical columns (each a random permutation of its codes). Writes
results/bench/dao2021_teacher_coding.json.

    python benchmarks/dao2021_teacher_coding.py [PATH/adult.tsv.gz] [SEEDS] [RECODINGS] [DEPTH]
"""

from __future__ import annotations

import sys
import time

import numpy as np
from bench_common import ROOT, write_bench
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils.parallel import Parallel, delayed

import kdcli

CATEGORICAL = [
    "workclass", "education", "marital-status", "occupation", "relationship", "race",
    "native-country",
]  # fmt: skip
EPS = 1 / 500


def recode(X, columns: list[int], seed: int) -> np.ndarray:
    """Each listed column's codes mapped through a random permutation (seed 0: unchanged)."""
    if seed == 0:
        return X
    rng = np.random.default_rng(seed)
    X = X.copy()
    for j in columns:
        codes = np.unique(X[:, j])
        X[:, j] = rng.permutation(codes)[np.searchsorted(codes, X[:, j])]
    return X


def one(X, y, seed: int, coding: int, depth: int) -> dict:
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)

    def teacher(rows):
        forest = RandomForestClassifier(100, max_depth=depth, n_jobs=1, random_state=seed)
        return forest.fit(X_tr[rows], y_tr[rows])

    full = teacher(np.arange(len(y_tr)))
    p_in = full.predict_proba(X_tr)[:, 1]
    p_oof = np.empty(len(y_tr))
    for fit_rows, held in StratifiedKFold(10, shuffle=True, random_state=seed).split(X_tr, y_tr):
        p_oof[held] = teacher(fit_rows).predict_proba(X_tr[held])[:, 1]
    out = {"teacher": float(roc_auc_score(y_te, full.predict_proba(X_te)[:, 1]))}
    for curve, p in (("vanilla", p_in), ("crossfit", p_oof)):
        p = np.clip(p, EPS, 1 - EPS)
        student = RandomForestRegressor(10, n_jobs=1, random_state=seed)
        student.fit(X_tr, np.log(p) - np.log1p(-p))
        out[curve] = float(roc_auc_score(y_te, student.predict(X_te)))
    return {"seed": seed, "coding": coding, **out}


def main(path: str, seeds: int, codings: int, depth: int) -> dict:
    ds = kdcli.load_dataset(f"file:{path}")
    columns = [list(ds.X.columns).index(c) for c in CATEGORICAL]
    X, y = ds.X.to_numpy(dtype=float), ds.y
    t0 = time.perf_counter()
    rows = Parallel(n_jobs=2)(
        delayed(one)(recode(X, columns, c), y, s, c, depth)
        for s in range(seeds)
        for c in range(codings + 1)
    )
    summary = {}
    for curve in ("teacher", "vanilla", "crossfit"):
        kd = np.array([r[curve] for r in rows if r["coding"] == 0])
        other = np.array(
            [[r[curve] for r in rows if r["seed"] == s and r["coding"] > 0] for s in range(seeds)]
        )
        shift = other.mean(axis=0) - kd.mean()  # per re-coding: its mean over seeds − kd's
        summary[curve] = {
            "kd_coding": float(kd.mean()),
            "recodings_mean": float(other.mean()),
            "recoding_minus_kd": [float(x) for x in shift],
        }
        print(
            f"{curve:9} kd coding {kd.mean():.4f}  re-codings "
            + " ".join(f"{x:+.4f}" for x in shift)
        )
    return {
        "depth": depth,
        "seeds": seeds,
        "codings": codings,
        "seconds": time.perf_counter() - t0,
        "curves": summary,
        "runs": rows,
    }


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else str(ROOT.parent / "shared/datasets/adult.tsv.gz")
    args = [int(a) for a in sys.argv[2:5]] + [5, 5, 1][len(sys.argv[2:5]) :]
    write_bench("dao2021_teacher_coding.json", main(path, *args))
