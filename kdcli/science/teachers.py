"""Teachers: accurate, expensive classifiers whose probabilities the students learn from.

Defaults are chosen so that a first run shows the regime where distillation matters: a large
boosted teacher (trees of 63 leaves, learning rate 0.1) that fits its training rows closely, so
its in-sample probabilities are over-confident and cross-fitting visibly helps. Its number of
rounds (at most 400) is chosen by early stopping on a fifth of its own training rows, so that a
small, noisy dataset does not get 400 rounds of over-confident probabilities, nor pay for them.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from kdcli.errors import SettingError
from kdcli.science.students import MAX_LEAVES, MAX_TREES

TEACHERS = ("lightgbm", "xgboost", "rf")
BAGGED = ("rf",)  # teachers with out-of-bag predictions
BOOSTED = ("lightgbm", "xgboost")  # teachers that stop early on a validation part

TEACHER_DEFAULTS: dict[str, dict] = {
    "lightgbm": {
        "n_estimators": 400,  # at most: the rounds stop early on a validation part
        "early_stopping_rounds": 25,
        "validation_fraction": 0.2,
        "num_leaves": 63,
        "learning_rate": 0.1,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    },
    "xgboost": {
        "n_estimators": 400,
        "early_stopping_rounds": 25,
        "validation_fraction": 0.2,
        "max_depth": 6,
        "learning_rate": 0.1,
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


def estimator_class(name: str):
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier
    raise SettingError("teacher", f"unknown {{opt}} '{name}'; use one of {', '.join(TEACHERS)}")


def _known_params(name: str) -> set[str] | None:
    known = set(estimator_class(name)().get_params())
    if name == "lightgbm":
        try:
            from lightgbm.basic import _ConfigAliases

            for names in _ConfigAliases._get_all_param_aliases().values():
                known.update(names)
        except Exception:  # private API moved: accept what LightGBM accepts
            return None
    if name == "xgboost":
        known |= _XGB_NATIVE
    if name in BOOSTED:
        known |= {"validation_fraction", "early_stopping_rounds"}
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


def check_param_names(name: str, keys, setting: str = "teacher_param") -> None:
    """Refuse names the library does not know, and those kd sets itself, without fitting:
    a fit here could start an OpenMP pool in a process that later forks workers."""
    if name not in TEACHERS:
        raise SettingError("teacher", f"unknown {{opt}} '{name}'; use one of {', '.join(TEACHERS)}")
    known = _known_params(name)
    reserved, objectives = _with_aliases(RESERVED), _with_aliases(OBJECTIVES)
    for key in keys:
        if key in objectives:
            raise SettingError(
                setting,
                f"{{opt}} {key}: a teacher must stay a probabilistic classifier; "
                "kd leaves the objective to the library's classifier",
            )
        if key in reserved:
            raise SettingError(
                setting,
                f"{{opt}} {key} is set by kd; use --seed for seeds and --threads for threads",
            )
        if known is not None and key not in known:
            raise SettingError(
                setting,
                f"teacher '{name}' has no parameter '{key}' ({{opt}}); see the {name} "
                "documentation for valid names",
            )


# Parameters that count trees or leaves, bounded like the students' sizes (a typo of 10**9
# trees would run for days; scikit-learn allocates room for max_leaf_nodes at once).
COUNTS = {"n_estimators": MAX_TREES, "num_iterations": MAX_TREES, "max_leaf_nodes": MAX_LEAVES}


def check_param_values(name: str, params: dict) -> None:
    """Refuse counts of trees (n_estimators and its LightGBM aliases) above 10,000, and of
    leaves above 10,000,000, before any fit; other values are the library's to judge."""
    for key, value in params.items():
        limit = next((v for k, v in COUNTS.items() if key in _with_aliases({k})), None)
        if limit is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if value > limit:
            what = "leaves" if limit == MAX_LEAVES else "trees"
            raise SettingError(
                "teacher_param",
                f"{{opt}} {key}={value}: the {name} teacher takes at most {limit:,} {what} here; "
                f"use {{opt}} {key}={limit} or less",
            )


# XGBoost's scikit-learn defaults are all None; the numeric parameters a grid would sweep.
_XGB_INTS = {
    "n_estimators", "max_depth", "max_leaves", "max_bin", "num_parallel_tree",
    "max_cat_to_onehot", "max_cat_threshold", "early_stopping_rounds",
}  # fmt: skip
_XGB_FLOATS = {
    "learning_rate", "eta", "min_child_weight", "gamma", "min_split_loss", "subsample",
    "colsample_bytree", "colsample_bylevel", "colsample_bynode", "reg_alpha", "reg_lambda",
    "alpha", "lambda", "scale_pos_weight", "max_delta_step", "validation_fraction",
}  # fmt: skip


def expected_type(name: str, key: str) -> type | tuple[type, ...] | None:
    """What a value of ``key`` must be, where kd can tell without fitting (None: the
    library's to judge)."""
    if key == "early_stopping_rounds":
        return int
    if key == "validation_fraction":
        return (int, float)
    if name == "xgboost":
        return int if key in _XGB_INTS else (int, float) if key in _XGB_FLOATS else None
    default = estimator_class(name)().get_params().get(key)
    if isinstance(default, bool):
        return bool
    if isinstance(default, int):
        return int
    if isinstance(default, float):
        return (int, float)
    return str if isinstance(default, str) else None


def check_param_types(name: str, params: dict, setting: str = "teacher_grid") -> None:
    """Refuse a value of the wrong type (max_depth=abc, max_depth=2.5) before any fit, so a
    sweep fails at once rather than at its one bad variant: scikit-learn's own parameter
    constraints for rf, the type of the library's default for LightGBM, a table for XGBoost.
    None always passes (the library's default, or no limit)."""
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.utils._param_validation import (
            InvalidParameterError,
            validate_parameter_constraints,
        )

        constraints = RandomForestClassifier._parameter_constraints
        try:
            validate_parameter_constraints(
                {k: v for k, v in constraints.items() if k in params},
                params,
                caller_name="RandomForestClassifier",
            )
        except InvalidParameterError as err:
            key = next((k for k in params if f"'{k}'" in str(err)), "a value")
            raise SettingError(
                setting,
                f"{{opt}} {name}.{key}: {' '.join(str(err).split())}",
            ) from None
        return
    for key, value in params.items():
        wanted = expected_type(name, key)
        if value is None or wanted is None:
            continue
        ok = isinstance(value, wanted) and (wanted is bool or not isinstance(value, bool))
        if not ok:
            kinds = wanted if isinstance(wanted, tuple) else (wanted,)
            what = (
                "a number" if float in kinds
                else {int: "a whole number", bool: "True or False", str: "text"}[kinds[0]]
            )  # fmt: skip
            raise SettingError(
                setting,
                f"{{opt}} {name}.{key}={value!r}: {key} of the {name} teacher must be "
                f"{what}, or None",
            )


def make_teacher(name: str, params: dict, n_jobs: int, random_state: int):
    """A fresh, unfitted teacher with its full parameters (defaults and overrides)."""
    from kdcli.science.stopping import DenseLabels, EarlyStopping

    params = dict(params)
    fraction = params.pop("validation_fraction", None)
    patience = params.pop("early_stopping_rounds", None) if name in BOOSTED else None
    model = estimator_class(name)(**params, n_jobs=n_jobs, random_state=random_state)
    if name == "rf":  # scikit-learn forests need numbers: integer-code categoricals
        from sklearn.pipeline import make_pipeline

        from kdcli.science.encoding import OrdinalCodes

        return make_pipeline(OrdinalCodes(), model)
    if patience:
        fraction = 0.2 if fraction is None else float(fraction)
        model = EarlyStopping(model, fraction, int(patience), random_state)
    if name == "xgboost":
        return DenseLabels(model)
    return model


PROBE_TREES = 10  # trees or rounds of a probe fit (fewer where the user asked for fewer)


def probe(name: str, params: dict, n_classes: int) -> Exception | None:
    """What the teacher raises when fitted with ``params`` on small, clean data (numbers and a
    categorical, every class well represented), or None when it fits.

    After a teacher fails on the user's data, this tells a parameter the library refuses from a
    failure the data caused: only the first is the fault of ``--teacher-param``. Counts of trees
    are capped at :data:`PROBE_TREES`, so a probe takes a moment whatever the teacher's size.
    """
    capped = _with_aliases({"n_estimators", "num_iterations"})
    params = {
        k: min(v, PROBE_TREES) if k in capped and _positive_int(v) else v for k, v in params.items()
    }
    X, y = probe_data(n_classes)
    try:
        with native_stderr_silenced():  # the library's own account of the failure
            make_teacher(name, params, 1, 0).fit(X, y)
    except Exception as err:
        return err
    return None


@contextlib.contextmanager
def native_stderr_silenced():
    """Discard what compiled code writes to file descriptor 2 meanwhile: LightGBM's core prints
    ``[LightGBM] [Fatal] ...`` there itself before it raises, past Python's ``sys.stderr``."""
    sys.stderr.flush()
    try:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no descriptor 2 to silence
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def probe_data(n_classes: int, per_class: int = 40):
    """Rows a sound teacher fits without complaint: three numeric columns that shift with the
    class and a categorical of three levels, ``per_class`` rows of each class."""
    import pandas as pd

    rng = np.random.default_rng(0)
    y = np.arange(n_classes * per_class) % n_classes
    X = pd.DataFrame(rng.normal(size=(len(y), 3)) + y[:, None], columns=["f0", "f1", "f2"])
    X["f3"] = pd.Categorical(np.array(["a", "b", "c"])[rng.integers(0, 3, len(y))])
    return X, y
