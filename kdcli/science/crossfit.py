"""Teacher predictions: in-sample (vanilla KD), out-of-fold (cross-fitting) and on the test rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold


@dataclass
class TeacherPredictions:
    """Everything the students need from one teacher configuration on one split."""

    in_sample: np.ndarray  # (n_train, K): full-data teacher on its own training rows
    out_of_fold: np.ndarray | None  # (n_train, K): row i from a teacher that never saw row i
    test: np.ndarray  # (n_test, K): full-data teacher on the held-out rows
    size: dict = field(default_factory=dict)  # trees, leaves, bytes of the full-data teacher
    ms_per_10k: float | None = None  # its prediction latency, when fitted in this run


def stratified_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def predict_full(model, X, n_classes: int) -> np.ndarray:
    """predict_proba with one column per class 0..K-1, even if the model saw fewer classes."""
    proba = np.asarray(model.predict_proba(X), dtype=float)
    proba /= proba.sum(axis=1, keepdims=True)  # float32 outputs (XGBoost) sum to 1 only roughly
    classes = np.asarray(model.classes_).astype(int)
    if len(classes) == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes] = proba
    return out


def _rows(X, idx):
    return X.iloc[idx] if isinstance(X, pd.DataFrame) else X[idx]


def out_of_fold_proba(
    make_teacher: Callable[[], object],
    X,
    y: np.ndarray,
    n_classes: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    on_fold: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Cross-fitting: each row's probabilities come from a teacher trained without its fold."""
    oof = np.full((len(y), n_classes), np.nan)
    for k, (fit_idx, held_idx) in enumerate(folds):
        teacher = make_teacher().fit(_rows(X, fit_idx), y[fit_idx])
        oof[held_idx] = predict_full(teacher, _rows(X, held_idx), n_classes)
        if on_fold is not None:
            on_fold(k)
    if np.isnan(oof).any():
        raise ValueError("folds do not cover every training row")
    return oof


def teacher_predictions(
    make_teacher: Callable[[], object],
    X_train,
    y_train: np.ndarray,
    X_test,
    n_classes: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    on_fit: Callable[[], None] | None = None,
    cross_fit: bool = True,
) -> TeacherPredictions:
    """Fit the full-data teacher once and (when ``cross_fit``) the K cross-fit teachers once."""
    from kdcli.science.model_size import model_size

    teacher = make_teacher().fit(X_train, y_train)
    in_sample = predict_full(teacher, X_train, n_classes)
    t0 = time.perf_counter()
    test = predict_full(teacher, X_test, n_classes)
    ms_per_10k = 1000.0 * (time.perf_counter() - t0) * 10_000 / max(len(test), 1)
    size = model_size(teacher)
    if on_fit is not None:
        on_fit()
    if not cross_fit:  # modes raw/vanilla only: the K cross-fit teachers would go unused
        return TeacherPredictions(
            in_sample=in_sample, out_of_fold=None, test=test, size=size, ms_per_10k=ms_per_10k
        )
    oof = out_of_fold_proba(
        make_teacher,
        X_train,
        y_train,
        n_classes,
        folds,
        on_fold=(lambda _k: on_fit()) if on_fit is not None else None,
    )
    return TeacherPredictions(
        in_sample=in_sample, out_of_fold=oof, test=test, size=size, ms_per_10k=ms_per_10k
    )
