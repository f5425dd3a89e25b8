"""How big a fitted model is: trees, leaves and bytes, for the compression side of a report.

Bytes are the size of the library's native model file where it has one (LightGBM's model text,
XGBoost's JSON); for scikit-learn trees, the bytes of their node arrays; for ridge, its
coefficients. Deterministic for a given fit, so these are results like the scores.
"""

from __future__ import annotations

import re

import numpy as np
from sklearn.multioutput import MultiOutputRegressor


def model_size(model) -> dict[str, float]:
    rounds = getattr(model, "k", None)  # a booster's first k rounds (kdcli.science.nested)
    trees = leaves = size = 0
    for part in _parts(model):
        t, leaf, b = _one(part, rounds)
        trees, leaves, size = trees + t, leaves + leaf, size + b
    return {"n_trees": float(trees), "n_leaves": float(leaves), "model_bytes": float(size)}


def _parts(model) -> list:
    if hasattr(model, "named_steps"):  # a pipeline: the last step is the model
        model = model.steps[-1][1]
    # kd's wrappers (kdcli.science.stopping): DenseLabels, EarlyStopping
    while hasattr(model, "estimator_") and not hasattr(model, "estimators_"):
        model = model.estimator_
    if isinstance(model, MultiOutputRegressor) or type(model).__name__ == "BoosterPrefix":
        return list(model.estimators_)  # kd's gbdt students, `kd distill`'s among them
    if type(model).__name__.startswith("RandomForest"):
        return list(model.estimators_)
    return [model]


def _one(model, rounds: int | None = None) -> tuple[int, int, int]:
    if hasattr(model, "tree_"):  # scikit-learn decision tree
        state = model.tree_.__getstate__()
        return 1, int(model.tree_.n_leaves), int(state["nodes"].nbytes + state["values"].nbytes)
    if hasattr(model, "booster_"):  # LightGBM
        return _lightgbm_size(model.booster_.model_to_string(num_iteration=rounds))
    if hasattr(model, "get_booster"):  # XGBoost
        booster = model.get_booster()
        dump = booster.get_dump()
        return (
            len(dump),
            int(sum(d.count("leaf=") for d in dump)),
            len(bytes(booster.save_raw(raw_format="json"))),
        )
    if hasattr(model, "coef_"):  # ridge
        return 0, 0, int(np.asarray(model.coef_).nbytes + np.asarray(model.intercept_).nbytes)
    return 0, 0, 0


def _lightgbm_size(text: str) -> tuple[int, int, int]:
    """Trees, leaves and bytes from LightGBM's model text: a ``Tree=i`` line and a
    ``num_leaves=k`` line per tree (its JSON dump says the same, at five times the cost: 0.4 s
    for a 4,000-tree teacher)."""
    leaves = _NUM_LEAVES.findall(text)
    return len(_TREE.findall(text)), sum(map(int, leaves)), len(text.encode())


_TREE = re.compile(r"^Tree=\d+$", re.MULTILINE)
_NUM_LEAVES = re.compile(r"^num_leaves=(\d+)$", re.MULTILINE)
