"""Teachers: accurate, expensive classifiers whose probabilities the students learn from.

Defaults are chosen so that a first run shows the regime where distillation matters: a large
boosted teacher (400 trees of 63 leaves, learning rate 0.05) that fits its training rows closely,
so its in-sample probabilities are over-confident and cross-fitting visibly helps.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from kdcli.errors import SpecError
from kdcli.science.encoding import OrdinalCodes

TEACHERS = ("lightgbm", "xgboost", "rf")
BAGGED = ("rf",)  # teachers with out-of-bag predictions

TEACHER_DEFAULTS: dict[str, dict] = {
    "lightgbm": {
        "n_estimators": 400,
        "num_leaves": 63,
        "learning_rate": 0.05,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    },
    "xgboost": {
        "n_estimators": 400,
        "max_depth": 6,
        "learning_rate": 0.05,
        "tree_method": "hist",
        "enable_categorical": True,
        "max_cat_to_onehot": 1,
    },
    "rf": {"n_estimators": 500},
}

# Native XGBoost names that its scikit-learn wrapper passes through.
_XGB_NATIVE = {
    "eta",
    "lambda",
    "alpha",
    "min_split_loss",
    "seed",
    "nthread",
    "max_bin",
    "sampling_method",
    "num_class",
    "eval_metric",
    "max_cat_threshold",
}


def _estimator_class(name: str):
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier
    raise SpecError("teacher", f"unknown {{opt}} '{name}'; use one of {', '.join(TEACHERS)}")


def _known_params(name: str) -> set[str] | None:
    known = set(_estimator_class(name)().get_params())
    if name == "lightgbm":
        try:
            from lightgbm.basic import _ConfigAliases

            for names in _ConfigAliases._get_all_param_aliases().values():
                known.update(names)
        except Exception:  # private API moved: accept what LightGBM accepts
            return None
    if name == "xgboost":
        known |= _XGB_NATIVE
    return known


RESERVED = {"random_state", "n_jobs", "seed", "nthread", "num_threads", "verbose", "verbosity"}
OBJECTIVES = {"objective", "application", "app", "objective_type", "loss"}


def _with_aliases(names: set[str]) -> set[str]:
    """LightGBM takes any alias of a parameter (random_seed for seed, loss for objective): kd's
    own settings must be refused under every name they go by."""
    try:
        from lightgbm.basic import _ConfigAliases

        aliases = _ConfigAliases._get_all_param_aliases()
    except Exception:  # private API moved: the names above still hold
        return names
    out = set(names)
    for group in aliases.values():
        if names & set(group):
            out.update(group)
    return out


def check_param_names(name: str, keys) -> None:
    """Refuse names the library does not know, and those kd sets itself, without fitting:
    a fit here could start an OpenMP pool in a process that later forks workers."""
    if name not in TEACHERS:
        raise SpecError("teacher", f"unknown {{opt}} '{name}'; use one of {', '.join(TEACHERS)}")
    known = _known_params(name)
    reserved, objectives = _with_aliases(RESERVED), _with_aliases(OBJECTIVES)
    for key in keys:
        if key in objectives:
            raise SpecError(
                "teacher_param",
                f"{{opt}} {key}: a teacher must stay a probabilistic classifier; "
                "kd leaves the objective to the library's classifier",
            )
        if key in reserved:
            raise SpecError(
                "teacher_param",
                f"{{opt}} {key} is set by kd; use --seed for seeds and --threads for threads",
            )
        if known is not None and key not in known:
            raise SpecError(
                "teacher_param",
                f"teacher '{name}' has no parameter '{key}' ({{opt}}); see the {name} "
                "documentation for valid names",
            )


def make_teacher(name: str, params: dict, n_jobs: int, random_state: int):
    """A fresh, unfitted teacher with its full parameters (defaults and overrides)."""
    model = _estimator_class(name)(**params, n_jobs=n_jobs, random_state=random_state)
    if name == "rf":  # scikit-learn forests need numbers: integer-code categoricals
        from sklearn.pipeline import make_pipeline

        return make_pipeline(OrdinalCodes(), model)
    if name == "xgboost":
        return DenseLabels(model)
    return model


class DenseLabels(ClassifierMixin, BaseEstimator):
    """XGBoost insists on labels 0..m-1; a cross-fitting fold may lack a rare class.

    Fits on the labels present, renumbered densely; ``classes_`` keeps the original ones, so
    ``predict_full`` puts each column back in place.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.classes_, dense = np.unique(y, return_inverse=True)
        self.estimator_ = clone(self.estimator).fit(X, dense)
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)
