"""Nested random forests: one fit of the largest size gives every smaller size, exactly.

scikit-learn draws a forest's per-tree seeds in order from ``random_state``, so the first k trees
of ``RandomForestRegressor(n_estimators=K, random_state=s)`` are the trees of
``RandomForestRegressor(n_estimators=k, random_state=s)`` fitted on the same rows. A study of
sizes 1, 2, …, 40 thus costs 40 trees, not 126, with the same numbers as separate fits.
"""

from __future__ import annotations

import copy

import numpy as np


def prefix_forest(forest, k: int):
    """The fitted forest of the first ``k`` trees (predicting in tree order, one thread)."""
    if not 1 <= k <= len(forest.estimators_):
        raise ValueError(f"a forest of {len(forest.estimators_)} trees has no {k}-tree prefix")
    out = copy.copy(forest)
    out.estimators_ = forest.estimators_[:k]
    out.n_estimators = k
    out.n_jobs = 1  # sequential accumulation: the same sums as prefix_predictions
    return out


def prefix_predictions(forest, X, sizes: list[int]) -> list[np.ndarray]:
    """Predictions of the ``k``-tree prefix for every k in ``sizes``, from one pass over trees."""
    X32 = np.asarray(X, dtype=np.float32)
    total = None
    out: dict[int, np.ndarray] = {}
    wanted = set(sizes)
    for i, tree in enumerate(forest.estimators_[: max(sizes)], start=1):
        pred = tree.predict(X32)
        total = pred.copy() if total is None else total + pred
        if i in wanted:
            out[i] = total / i
    return [out[k] for k in sizes]
