"""Nested students: one fit of the largest size gives every smaller size, exactly.

- Random forests: scikit-learn draws a forest's per-tree seeds in order from ``random_state``,
  so the first k trees of ``RandomForestRegressor(n_estimators=K, random_state=s)`` are the trees
  of ``RandomForestRegressor(n_estimators=k, random_state=s)`` fitted on the same rows. A
  student's seed depends on its split and family, never its size
  (:meth:`kdcli.experiment.splits.Split.student_seed`), so every size shares s.
- Boosted trees: round k of a booster depends only on rounds 1..k-1 (LightGBM here draws no
  random numbers: no bagging, no feature sampling), so the first k rounds of a K-round booster
  are the k-round booster; it predicts through ``num_iteration=k``.
- Trees of at most k leaves: scikit-learn grows them best first, splitting the leaf of the
  largest impurity decrease next and numbering nodes as it adds them (a split's two children get
  the next two ids), so the k-leaf tree is the first k - 1 splits of a larger tree: its nodes
  0 .. 2k - 2, those whose children came later made leaves again (:func:`tree_prefix`). The
  unbounded tree (size ``full``) grows depth first, so it is fitted on its own.

A study of sizes 1, 2, ..., 40 thus costs 40 trees, not 126, with the numbers of separate fits;
tree sizes 8, 64 and 512 cost the 512-leaf tree.
"""

from __future__ import annotations

import copy
import sys

import numpy as np

from kdcli.science.students import FULL

NESTED = ("rf", "gbdt", "tree")  # student families whose sizes nest (tree: all but `full`)
TREE_LEAF, TREE_UNDEFINED = -1, -2  # scikit-learn's marks of a leaf's children and split


def size_groups(family: str, sizes: list) -> list[list]:
    """The sizes one fitted model serves, in groups: a nested family's in one (a tree's counted
    sizes in one, ``full`` alone), any other family's each alone."""
    if family not in NESTED:
        return [[size] for size in sizes]
    counted = [size for size in sizes if size != FULL]
    return [g for g in (counted, [size for size in sizes if size == FULL]) if g]


def largest(group: list):
    """The size of the one model that serves ``group`` (a group of :func:`size_groups`)."""
    return FULL if FULL in group else max(group, key=int)


def _is_tree(model) -> bool:
    return hasattr(model, "tree_") and hasattr(model, "max_leaf_nodes")


def _is_forest(model) -> bool:
    return hasattr(model, "estimators_") and hasattr(model.estimators_[0], "tree_")


def n_rounds(model) -> int:
    """Trees of a forest, boosting rounds of a (per-column) booster, or the leaves a tree was
    allowed: unbounded once that is a leaf per row (kdcli.science.students.fit_student bounds a
    larger size by the rows), as every larger size is then the same tree."""
    if _is_tree(model):
        if model.max_leaf_nodes is None:
            raise ValueError("a tree grown depth first (size full) holds no smaller tree")
        allowed = int(model.max_leaf_nodes)
        return allowed if allowed < int(model.tree_.n_node_samples[0]) else sys.maxsize
    if _is_forest(model):
        return len(model.estimators_)
    return int(model.estimators_[0].n_estimators)


def prefix_model(model, k: int):
    """The fitted model of the first ``k`` trees (forest), rounds (booster) or leaves (tree)."""
    if not 1 <= k <= n_rounds(model):
        raise ValueError(f"a model of size {n_rounds(model)} has no prefix of size {k}")
    if _is_tree(model):
        return tree_prefix(model, k)
    if not _is_forest(model):
        return BoosterPrefix(model, k)
    out = copy.copy(model)
    out.estimators_ = model.estimators_[:k]
    out.n_estimators = k
    out.n_jobs = 1  # sequential accumulation: the same sums as prefix_predictions
    return out


def prefix_predictions(model, X, sizes: list[int]) -> list[np.ndarray]:
    """Predictions of the ``k``-tree prefix for every k in ``sizes``."""
    if _is_tree(model):
        return [prefix_model(model, k).predict(X) for k in sizes]
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


def tree_prefix(model, leaves: int):
    """The best-first tree of at most ``leaves`` leaves within a fitted larger one: the same
    estimator, node arrays and depth as a fit with ``max_leaf_nodes=leaves`` on the same rows
    and seed (tests/science/test_nested.py compares them field by field)."""
    from sklearn.tree._tree import Tree

    keep = 2 * leaves - 1  # k - 1 splits: the root and two nodes per split
    grown = model.tree_
    out = copy.copy(model)
    out.max_leaf_nodes = min(leaves, model.max_leaf_nodes)  # as fit_student bounds it
    if grown.node_count <= keep:
        return out
    state = grown.__getstate__()
    nodes = state["nodes"][:keep].copy()
    cut = nodes["left_child"] >= keep  # split later: a leaf of the smaller tree
    nodes["left_child"][cut] = nodes["right_child"][cut] = TREE_LEAF
    nodes["feature"][cut] = TREE_UNDEFINED
    nodes["threshold"][cut] = TREE_UNDEFINED
    depth = np.zeros(keep, dtype=np.intp)
    for node in range(keep):  # a child's id is above its parent's
        if not cut[node] and nodes["left_child"][node] != TREE_LEAF:
            depth[nodes["left_child"][node]] = depth[nodes["right_child"][node]] = depth[node] + 1
    tree = Tree(grown.n_features, np.asarray(grown.n_classes, dtype=np.intp), grown.n_outputs)
    tree.__setstate__(
        {
            "max_depth": int(depth.max()),
            "node_count": keep,
            "nodes": nodes,
            "values": state["values"][:keep].copy(),
        }
    )
    out.tree_ = tree
    return out


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
