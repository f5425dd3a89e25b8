"""Nested students: one fit of the largest size gives every smaller size, exactly.

- Random forests: scikit-learn draws a forest's per-tree seeds in order from ``random_state``,
  so the first k trees of ``RandomForestRegressor(n_estimators=K, random_state=s)`` are the trees
  of ``RandomForestRegressor(n_estimators=k, random_state=s)`` fitted on the same rows. A
  student's seed depends on its split and family, never its size
  (:meth:`kdcli.experiment.splits.Split.student_seed`), so every size shares s.
- Boosted trees: round k of a booster depends only on rounds 1..k-1 (LightGBM here draws no
  random numbers: no bagging, no feature sampling), so the first k rounds of a K-round booster
  are the k-round booster; it predicts through ``num_iteration=k``.

A study of sizes 1, 2, ..., 40 thus costs 40 trees, not 126, with the numbers of separate fits.
"""

from __future__ import annotations

import copy

import numpy as np

NESTED = ("rf", "gbdt")  # student families whose sizes nest


def _is_forest(model) -> bool:
    return hasattr(model, "estimators_") and hasattr(model.estimators_[0], "tree_")


def n_rounds(model) -> int:
    """Trees of a forest, or boosting rounds of a (per-column) booster."""
    if _is_forest(model):
        return len(model.estimators_)
    return int(model.estimators_[0].n_estimators)


def prefix_model(model, k: int):
    """The fitted model of the first ``k`` trees (forest) or rounds (booster)."""
    if not 1 <= k <= n_rounds(model):
        raise ValueError(f"a model of {n_rounds(model)} trees has no {k}-tree prefix")
    if not _is_forest(model):
        return BoosterPrefix(model, k)
    out = copy.copy(model)
    out.estimators_ = model.estimators_[:k]
    out.n_estimators = k
    out.n_jobs = 1  # sequential accumulation: the same sums as prefix_predictions
    return out


def prefix_predictions(model, X, sizes: list[int]) -> list[np.ndarray]:
    """Predictions of the ``k``-tree prefix for every k in ``sizes``."""
    if not _is_forest(model):
        return [BoosterPrefix(model, k).predict(X) for k in sizes]
    X32 = np.asarray(X, dtype=np.float32)
    total = None
    out: dict[int, np.ndarray] = {}
    wanted = set(sizes)
    for i, tree in enumerate(model.estimators_[: max(sizes)], start=1):
        pred = tree.predict(X32)
        total = pred.copy() if total is None else total + pred
        if i in wanted:
            out[i] = total / i
    return [out[k] for k in sizes]


class BoosterPrefix:
    """The first ``k`` rounds of fitted LightGBM regressors, one per target column (a
    ``MultiOutputRegressor``): predicts, and is measured, as the k-round model."""

    def __init__(self, model, k: int):
        self.model, self.k = model, k

    @property
    def estimators_(self) -> list:
        return self.model.estimators_

    def predict(self, X) -> np.ndarray:
        return np.column_stack([e.predict(X, num_iteration=self.k) for e in self.estimators_])
