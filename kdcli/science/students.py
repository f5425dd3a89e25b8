"""Student families: cheap regressors with one capacity knob each.

Every mode fits the same regressor with squared loss; only the targets differ.

- ``tree``: DecisionTreeRegressor, size = maximum number of leaves (``full`` = grown to purity).
- ``rf``: RandomForestRegressor, size = number of trees (full-depth trees, as in the paper).
- ``gbdt``: LightGBM regressor (31 leaves, learning rate 0.1), size = number of trees;
  one model per target column when targets have several.
- ``linear``: ridge regression, size = 1/alpha (larger = less regularised).
"""

from __future__ import annotations

from kdcli.errors import SpecError

FAMILIES = ("tree", "rf", "gbdt", "linear")
DEFAULT_SIZES: dict[str, list[int | str]] = {
    "tree": [8, 64, 512, "full"],
    "rf": [1, 10, 100],
    "gbdt": [1, 10, 100],
    "linear": [1],
}
FULL = "full"


def check_sizes(family: str, sizes: list[int | str]) -> None:
    if FULL in sizes and family != "tree":
        raise SpecError(
            "sizes",
            f"size 'full' applies only to the tree student, not '{family}'; use integers for it",
        )
    if family == "tree" and any(s == 1 for s in sizes):
        raise SpecError("sizes", "a tree student needs at least 2 leaves; use {opt} >= 2 for it")


def make_student(family: str, size: int | str, n_jobs: int, random_state: int):
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
    raise SpecError("student", f"unknown {{opt}} '{family}'; use one of {', '.join(FAMILIES)}")


def fit_student(model, X, T):
    """Fit on targets of shape (n,) or (n, K); per-column wrappers need a 2-D target."""
    from sklearn.multioutput import MultiOutputRegressor

    if isinstance(model, MultiOutputRegressor) and T.ndim == 1:
        T = T[:, None]
    return model.fit(X, T)
