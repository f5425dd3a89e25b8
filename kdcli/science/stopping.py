"""A boosted teacher's rounds chosen by early stopping, and dense labels for XGBoost: wrappers
around a library's classifier that behave as one (fit, predict_proba, classes_).

Kept apart from :mod:`kdcli.science.teachers`, whose names and defaults the command line reads
as it starts: these classes need scikit-learn to be defined, and ``kd --help`` need not load it.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from kdcli.science.crossfit import take_rows


class EarlyStopping(ClassifierMixin, BaseEstimator):
    """Boosting rounds chosen by log loss on a held-out part of the teacher's own training rows,
    then a refit on all of them, the rounds scaled by the rows (at most ``n_estimators``).

    A fixed number of rounds is too many for a small, noisy dataset (its probabilities drift to
    0 and 1) and wasted time where fewer serve. The validation rows come from the rows this
    teacher may see, so a cross-fit teacher still never sees its held-out fold.
    """

    def __init__(self, estimator, validation_fraction: float, rounds: int, random_state: int):
        self.estimator = estimator
        self.validation_fraction = validation_fraction
        self.rounds = rounds
        self.random_state = random_state

    def fit(self, X, y):
        most = int(self.estimator.get_params()["n_estimators"])
        try:
            fit_idx, val_idx = validation_split(y, self.validation_fraction, self.random_state)
        except TooFewRows:  # nothing to hold out: every row fits, for all the rounds
            self.n_rounds_ = most
        else:
            best = _best_rounds(
                clone(self.estimator),
                (take_rows(X, fit_idx), y[fit_idx]),
                (take_rows(X, val_idx), y[val_idx]),
                self.rounds,
            )
            # every row now serves the fit (small data cannot spare a fifth), with rounds in
            # proportion to the rows, as the best number of rounds grows with them
            self.n_rounds_ = min(most, max(1, round(best * len(y) / len(fit_idx))))
        self.estimator_ = clone(self.estimator).set_params(n_estimators=self.n_rounds_).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


def _best_rounds(model, fit: tuple, validation: tuple, patience: int) -> int:
    """Boost on ``fit`` until the log loss on ``validation`` has not improved for ``patience``
    rounds; the round where it was lowest."""
    (Xf, yf), (Xv, yv) = fit, validation
    if type(model).__name__.startswith("LGBM"):
        import lightgbm

        stop = lightgbm.early_stopping(patience, first_metric_only=True, verbose=False)
        if "eval_X" in inspect.signature(model.fit).parameters:  # LightGBM >= 4.6
            model.fit(Xf, yf, eval_X=(Xv,), eval_y=(yv,), callbacks=[stop])
        else:
            model.fit(Xf, yf, eval_set=[(Xv, yv)], callbacks=[stop])
        return int(model.best_iteration_ or model.n_estimators)
    model.set_params(early_stopping_rounds=patience)  # XGBoost: logloss / mlogloss
    model.fit(Xf, yf, eval_set=[(Xv, yv)], verbose=False)
    return int(model.best_iteration) + 1


class TooFewRows(ValueError):
    """Too few rows of some class to hold out a validation part."""


def validation_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified hold-out of about ``fraction`` of the rows; a class with a single row stays
    in the fitting part, so the model knows every class it is asked about."""
    from sklearn.model_selection import StratifiedShuffleSplit

    classes, counts = np.unique(y, return_counts=True)
    shared = np.flatnonzero(np.isin(y, classes[counts >= 2]))
    alone = np.flatnonzero(np.isin(y, classes[counts < 2]))
    if not 0 < fraction < 1:
        raise ValueError(f"validation_fraction must be between 0 and 1, not {fraction}")
    n_val = max(round(fraction * len(y)), len(np.unique(y[shared])))
    if len(shared) - n_val < len(np.unique(y[shared])):
        raise TooFewRows(f"{len(y)} rows are too few to hold out a validation part")
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=seed)
    fit_part, val_part = next(splitter.split(shared, y[shared]))
    return np.sort(np.concatenate([shared[fit_part], alone])), np.sort(shared[val_part])


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
