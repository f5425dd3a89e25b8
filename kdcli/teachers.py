"""Teachers: accurate, expensive classifiers whose probabilities the students learn from.

Defaults are chosen so that a first run shows the regime where distillation matters: a large
boosted teacher (400 trees of 63 leaves, learning rate 0.05) that fits its training rows closely,
so its in-sample probabilities are over-confident and cross-fitting visibly helps.
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys
from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from kdcli.encoding import OrdinalCodes
from kdcli.errors import KDError

TEACHERS = ("lightgbm", "xgboost", "rf")

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


def parse_param(text: str) -> tuple[str, object]:
    """``key=value`` with value read as a Python literal when it is one (3, 0.1, True, None)."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw or not key.replace("_", "").replace(".", "", 1).isalnum():
        raise KDError(
            f"malformed --teacher-param '{text}'; write KEY=VALUE, e.g. --teacher-param num_leaves=31"
        )
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    if lowered == "none":
        return key, None
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return key, raw
    return key, value if isinstance(value, (int, float, str)) else raw


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
    raise KDError(f"unknown teacher '{name}'; use one of {', '.join(TEACHERS)}")


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


def teacher_params(name: str, overrides: dict) -> dict:
    """The defaults with the user's overrides; unknown names are refused with the valid ones."""
    if name not in TEACHERS:
        raise KDError(f"unknown teacher '{name}'; use one of {', '.join(TEACHERS)}")
    known = _known_params(name)
    reserved = {"random_state", "n_jobs", "seed", "nthread", "num_threads", "verbose"}
    for key in overrides:
        if key in ("objective", "application", "app", "objective_type"):
            raise KDError(
                f"--teacher-param {key}: a teacher must stay a probabilistic classifier; "
                "kd leaves the objective to the library's classifier"
            )
        if key in reserved:
            raise KDError(
                f"--teacher-param {key} is set by kd; use --seed for seeds and --threads for threads"
            )
        if known is not None and key not in known:
            raise KDError(
                f"teacher '{name}' has no parameter '{key}'; see the {name} documentation for "
                "valid names"
            )
    params = {**TEACHER_DEFAULTS[name], **overrides}
    if overrides:
        _try_params(name, params, overrides)
    return params


def _try_params(name: str, params: dict, overrides: dict) -> None:
    """Fit the teacher on 40 random rows, so a bad value is refused now, in one line, and not
    after minutes of work (the libraries check values only when they fit)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), np.arange(40) % 2
    model = _estimator_class(name)(**params, n_jobs=1, random_state=0)
    try:
        with _native_output_silenced():  # LightGBM prints its own "[Fatal]" line
            model.fit(X, y)
            proba = np.asarray(model.predict_proba(X))
        valid = np.all((proba >= 0) & (proba <= 1)) and np.allclose(proba.sum(axis=1), 1, atol=1e-4)
        if proba.shape != (40, 2) or not valid:
            raise ValueError("it no longer predicts class probabilities")
    except Exception as err:  # any library's own complaint, reported with the parameters named
        given = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
        detail = " ".join(str(err).split())[:200]
        raise KDError(f"teacher {name} does not accept --teacher-param {given}: {detail}") from None


@contextlib.contextmanager
def _native_output_silenced():
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def teacher_factory(
    name: str, overrides: dict, n_jobs: int, random_state: int
) -> Callable[[], object]:
    """A zero-argument constructor, so cross-fitting builds fresh, identically configured teachers."""
    cls = _estimator_class(name)
    params = teacher_params(name, overrides)

    def make():
        model = cls(**params, n_jobs=n_jobs, random_state=random_state)
        if name == "rf":  # scikit-learn forests need numbers: integer-code categoricals
            from sklearn.pipeline import make_pipeline

            return make_pipeline(OrdinalCodes(), model)
        if name == "xgboost":
            return DenseLabels(model)
        return model

    return make


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


def params_per_teacher(teachers: list[str], texts: list[str]) -> dict[str, dict]:
    """``--teacher-param KEY=V`` applies to every teacher; ``TEACHER.KEY=V`` to that one only."""
    out: dict[str, dict] = {t: {} for t in teachers}
    for text in texts:
        key, value = parse_param(text)
        scope, dot, name = key.partition(".")
        if dot:
            if scope not in TEACHERS:
                raise KDError(
                    f"--teacher-param '{text}': '{scope}' is not a teacher; write "
                    f"TEACHER.KEY=VALUE with TEACHER one of {', '.join(TEACHERS)}"
                )
            if scope not in out:
                raise KDError(
                    f"--teacher-param '{text}' is for {scope}, which is not a "
                    f"--teacher here ({', '.join(teachers)})"
                )
            out[scope][name] = value
        else:
            for t in teachers:
                out[t][key] = value
    for t in teachers:
        teacher_params(t, out[t])  # refuses unknown names now, not mid-run
    return out
