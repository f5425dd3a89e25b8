"""Student families: cheap regressors with one capacity knob each.

Every mode fits the same regressor with squared loss; only the targets differ.

- ``tree``: DecisionTreeRegressor, size = maximum number of leaves (``full`` = grown to purity).
- ``rf``: RandomForestRegressor, size = number of trees (full-depth trees, as in the paper).
- ``gbdt``: LightGBM regressor (31 leaves, learning rate 0.1), size = number of trees;
  one model per target column when targets have several.
- ``linear``: ridge regression, size = 1/alpha (larger = less regularised).

Sizes are bounded (:data:`MAX_SIZES`) so that a typo cannot ask for a model no machine holds or
finishes: a tree has at most one leaf per training row (more leaves are the full tree, which is
what kd grows), 10,000 trees or rounds are far past where held-out error stops changing, and
alpha below 1e-12 is ordinary least squares to machine precision. A forest's memory is also
checked against the rows, before any fit (:func:`check_memory`).
"""

from __future__ import annotations

import math

from kdcli.errors import SettingError

FAMILIES = ("tree", "rf", "gbdt", "linear")
DEFAULT_SIZES: dict[str, list[int | str]] = {
    "tree": [8, 64, 512, "full"],
    "rf": [1, 10, 100],
    "gbdt": [1, 10, 100],
    "linear": [1],
}
FULL = "full"
MAX_TREES = 10_000  # trees of a forest, rounds of a booster (students and teachers)
MAX_LEAVES = 10_000_000  # leaves of a tree; `full` is the unbounded tree
MAX_SIZES: dict[str, int] = {
    "tree": MAX_LEAVES,
    "rf": MAX_TREES,
    "gbdt": MAX_TREES,
    "linear": 10**12,  # 1/alpha: alpha >= 1e-12
}
UNITS = {"tree": "leaves", "rf": "trees", "gbdt": "rounds", "linear": "(1/alpha)"}
NODE_BYTES = 64  # one node of a scikit-learn tree, besides its values


def check_sizes(family: str, sizes: list[int | str]) -> None:
    """Sizes a family can take, checked without data: 'full' for trees only, and each at most
    :data:`MAX_SIZES` of its family."""
    if FULL in sizes and family != "tree":
        raise SettingError(
            "sizes",
            f"size 'full' applies only to the tree student, not '{family}'; use integers for it",
        )
    if family == "tree" and any(s == 1 for s in sizes):
        raise SettingError("sizes", "a tree student needs at least 2 leaves; use {opt} >= 2 for it")
    most = MAX_SIZES[family]
    over = [s for s in sizes if s != FULL and int(s) > most]
    if over:
        instead = " (full grows the whole tree)" if family == "tree" else ""
        raise SettingError(
            "sizes",
            f"{{opt}} {over[0]}: a {family} student has at most {most:,} {UNITS[family]}; "
            f"use {{opt}} {most} or less for it{instead}",
        )


def forest_bytes(trees: int, rows: int, outputs: int) -> int:
    """Memory of a fitted forest of full-depth regression trees, estimated: a bootstrap sample
    holds about 63 % of the rows as distinct rows, so a tree has about 1.3 nodes per row, each
    a node record and its ``outputs`` float64 values."""
    return math.ceil(trees * 1.3 * rows * (NODE_BYTES + 8 * outputs))


def check_memory(
    family: str, sizes: list, rows: int, outputs: int, held: int, available: int | None
) -> None:
    """Refuse, before any fit, an rf student whose forests cannot be held: ``held`` forests of
    the largest size (one per mode) on ``rows`` training rows against ``available`` bytes
    (None: unknown, nothing is refused)."""
    if family != "rf" or available is None or not sizes:
        return
    trees = max(int(s) for s in sizes)
    need = held * forest_bytes(trees, rows, outputs)
    if need <= available:
        return
    most = max(1, available // (held * forest_bytes(1, rows, outputs)))
    raise SettingError(
        "sizes",
        f"{{opt}} {trees}: {held} rf student(s) of {trees:,} trees on {rows:,} training rows "
        f"need about {need / 2**30:.1f} GiB of memory, more than the {available / 2**30:.1f} "
        f"GiB available; use {{opt}} {most} or less for rf (or --max-rows)",
    )


def make_student(family: str, size: int | str, n_jobs: int, random_state: int):
    """A fresh, unfitted student. ``random_state`` is its family's seed on the split, not the
    teacher's (a forest student would regrow the teacher's bootstrap samples) and not a function
    of ``size`` (so a forest's first k trees are the k-tree forest)."""
    if family == "tree":
        from sklearn.tree import DecisionTreeRegressor

        leaves = None if size == FULL else int(size)
        return DecisionTreeRegressor(max_leaf_nodes=leaves, random_state=random_state)
    if family == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(
            n_estimators=int(size), n_jobs=n_jobs, random_state=random_state
        )
    if family == "gbdt":
        from lightgbm import LGBMRegressor
        from sklearn.multioutput import MultiOutputRegressor

        return MultiOutputRegressor(
            LGBMRegressor(
                n_estimators=int(size),
                num_leaves=31,
                learning_rate=0.1,
                deterministic=True,
                force_row_wise=True,
                verbose=-1,
                n_jobs=n_jobs,
                random_state=random_state,
            )
        )
    if family == "linear":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=1.0 / float(size))
    raise SettingError("student", f"unknown {{opt}} '{family}'; use one of {', '.join(FAMILIES)}")


def fit_student(model, X, T):
    """Fit on targets of shape (n,) or (n, K); per-column wrappers need a 2-D target.

    A tree of more leaves than rows is the tree of one leaf per row (the same tree: best-first
    growth stops when no leaf can split), and scikit-learn allocates room for all the leaves
    asked for at once, so the bound is the rows.
    """
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.tree import DecisionTreeRegressor

    if isinstance(model, MultiOutputRegressor) and T.ndim == 1:
        T = T[:, None]
    rows = X.shape[0]
    if isinstance(model, DecisionTreeRegressor) and (model.max_leaf_nodes or 0) > rows:
        model.set_params(max_leaf_nodes=max(2, rows))
    return model.fit(X, T)
