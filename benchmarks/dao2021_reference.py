"""The reference procedure of Dao et al. (2021) for one repeat on MAGIC, re-stated from the paper
and its public code's description, to time kd's `--preset dao2021` against it side by side.

Per repeat: a 70/30 split; a 500-tree random-forest teacher (all cores) on the training rows for
the in-sample probabilities; ten KFold teachers (500 trees each) for the cross-fit ones; then, for
every student size, a fresh forest per fit: on the labels, on log p̂ (vanilla KD, logit scale), on
the cross-fit p̂, and on corrected targets with c chosen by a 5-fold grid search over nine values
(AUC), refitted at the best c.

    python benchmarks/dao2021_reference.py PATH/magic.tsv.gz [SEED]   prints JSON timings and AUCs
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, train_test_split

SIZES = [1, 2, 3, 5, 10, 15, 20, 30, 40]
C_GRID = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3]


class CorrectedForest(RegressorMixin, BaseEstimator):
    """A forest regressing t = p̂ + γ(y − p̂), γ = c / (c + (y − p̂)²); ``y`` columns: label, p̂."""

    def __init__(self, n_estimators: int = 10, c: float = 1.0):
        self.n_estimators, self.c = n_estimators, c

    def fit(self, X, y2):
        y, p = y2[:, 0], y2[:, 1]
        gamma = self.c / (self.c + (y - p) ** 2)
        self.forest_ = RandomForestRegressor(self.n_estimators, n_jobs=-1).fit(
            X, p + gamma * (y - p)
        )
        return self

    def predict(self, X):
        return self.forest_.predict(X)

    def score(self, X, y2):
        return roc_auc_score(y2[:, 0], self.predict(X))


def main(path: str, seed: int = 0) -> dict:
    data = pd.read_csv(path, sep="\t")
    y = data.pop("target").to_numpy()
    y = (y == np.unique(y)[1]).astype(int)
    X = data.to_numpy(dtype=float)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    t0 = time.perf_counter()
    teacher = RandomForestClassifier(500, n_jobs=-1).fit(X_train, y_train)
    p_in = teacher.predict_proba(X_train)[:, 1]
    p_oof = np.empty(len(y_train))
    for fit_rows, held in KFold(10, shuffle=True, random_state=seed).split(X_train):
        fold_teacher = RandomForestClassifier(500, n_jobs=-1).fit(
            X_train[fit_rows], y_train[fit_rows]
        )
        p_oof[held] = fold_teacher.predict_proba(X_train[held])[:, 1]
    teacher_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    auc: dict[str, list[float]] = {"raw": [], "vanilla_logit": [], "crossfit": [], "corrected": []}
    both = np.column_stack([y_train, p_oof])
    for size in SIZES:
        for name, target in (
            ("raw", y_train.astype(float)),
            ("vanilla_logit", np.log(np.maximum(p_in, 1 / 500))),
            ("crossfit", p_oof),
        ):
            student = RandomForestRegressor(size, n_jobs=-1).fit(X_train, target)
            auc[name].append(roc_auc_score(y_test, student.predict(X_test)))
        search = GridSearchCV(CorrectedForest(size), {"c": C_GRID}, cv=5, refit=False, n_jobs=-1)
        best = search.fit(X_train, both).best_params_["c"]
        student = CorrectedForest(size, best).fit(X_train, both)
        auc["corrected"].append(roc_auc_score(y_test, student.predict(X_test)))
    student_seconds = time.perf_counter() - t0
    return {
        "teacher_seconds": round(teacher_seconds, 1),
        "student_seconds": round(student_seconds, 1),
        "seconds": round(teacher_seconds + student_seconds, 1),
        "sizes": SIZES,
        "auc": {k: [round(v, 4) for v in vs] for k, vs in auc.items()},
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0), indent=2))
