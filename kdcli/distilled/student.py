"""The student as ``kd distill`` builds it: one float64 matrix of codes in, raw outputs out.

The codes are what :class:`kdcli.science.encoding.OrdinalCodes` makes of a frame (numbers as
they are, a categorical as its category code 0..L-1, missing as NaN), so an exported model
needs one numeric input and nothing of pandas. Each family sees the codes as kd's own student
of that family sees its features:

- ``tree``, ``rf``: the codes themselves (scikit-learn's trees route NaN natively).
- ``gbdt``: one LightGBM booster per target column, told which columns are categories
  (LightGBM routes NaN and negative codes as missing).
- ``linear``: the encoding of :func:`kdcli.science.encoding.linear_encoder` rebuilt on codes:
  numbers median-imputed with missing indicators and standardised, categories one-hot with
  missing (-1) as a level of its own, then ridge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from kdcli.science import students

FAMILIES = students.FAMILIES
MISSING_CODE = -1.0  # the level a missing category one-hot encodes as (linear student)


class CategoricalBoosters(MultiOutputRegressor):
    """kd's gbdt student (one LightGBM booster per target column) told which code columns are
    categories: the codes are floats, so LightGBM would otherwise split them as numbers.

    A subclass rather than fit parameters so that the model carries what it needs and
    :func:`fit_student` stays the one call for every family."""

    def __init__(self, estimator, *, categorical: Sequence[int] = (), n_jobs=None):
        super().__init__(estimator, n_jobs=n_jobs)
        self.categorical = categorical

    def fit(self, X, y, **fit_params):
        fit_params.setdefault("categorical_feature", [int(i) for i in self.categorical])
        return super().fit(X, y, **fit_params)


def build_student(family: str, size: int | str, categorical: list[int], random_state: int):
    """A fresh, unfitted student of ``family`` for a code matrix whose ``categorical`` columns
    hold category codes."""
    if family in ("tree", "rf"):
        return students.make_student(family, size, n_jobs=1, random_state=random_state)
    if family == "gbdt":
        boosters = students.make_student("gbdt", size, n_jobs=1, random_state=random_state)
        return CategoricalBoosters(boosters.estimator, categorical=tuple(categorical))
    if family == "linear":
        ridge = students.make_student("linear", size, n_jobs=1, random_state=random_state)
        return Pipeline([("encode", linear_codes_encoder(categorical)), ("ridge", ridge)])
    # make_student raises kd's error for an unknown family
    return students.make_student(family, size, n_jobs=1, random_state=random_state)


def linear_codes_encoder(categorical: Sequence[int]) -> ColumnTransformer:
    """:func:`kdcli.science.encoding.linear_encoder` on codes. The numeric columns are the
    remainder, so the encoder needs no column count before it is fitted."""
    numbers = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    categories = make_pipeline(
        SimpleImputer(strategy="constant", fill_value=MISSING_CODE),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [("cat", categories, [int(i) for i in categorical])], remainder=numbers
    )


def fit_student(model, X_codes: np.ndarray, T: np.ndarray):
    """Fit on the code matrix and targets of shape (n,) or (n, k), as kd fits its students."""
    X = np.asarray(X_codes, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"codes must be a (rows, features) matrix, got shape {X.shape}")
    return students.fit_student(model, X, np.asarray(T, dtype=float))
