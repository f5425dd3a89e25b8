"""How students that need numbers see categorical features and missing values.

- ``tree`` and ``rf`` students (and the ``rf`` teacher): a categorical column becomes its integer
  category code (the order of the category levels); missing values stay NaN, which scikit-learn's
  trees route natively.
- ``linear``: numeric columns are median-imputed with a missing-indicator column and standardised;
  categorical columns are one-hot encoded with "missing" as a level of its own.
- ``gbdt`` (LightGBM) students see the frame as is: categories and NaN are handled natively.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def categorical_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]


class OrdinalCodes(TransformerMixin, BaseEstimator):
    """Categoricals to their category codes (missing → NaN); numbers unchanged. Stateless."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if not isinstance(X, pd.DataFrame):
            return np.asarray(X, dtype=float)
        cols = []
        for c in X.columns:
            s = X[c]
            if isinstance(s.dtype, pd.CategoricalDtype):
                codes = s.cat.codes.to_numpy().astype(float)
                codes[codes < 0] = np.nan
                cols.append(codes)
            else:
                cols.append(s.to_numpy(dtype=float, na_value=np.nan))
        return np.column_stack(cols) if cols else np.empty((len(X), 0))


def linear_encoder(X: pd.DataFrame) -> ColumnTransformer:
    cats = categorical_columns(X)
    nums = [c for c in X.columns if c not in cats]
    parts = []
    if nums:
        parts.append(
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                nums,
            )
        )
    if cats:
        parts.append(
            (
                "cat",
                make_pipeline(
                    _ToObject(), OneHotEncoder(handle_unknown="ignore", sparse_output=False)
                ),
                cats,
            )
        )
    return ColumnTransformer(parts, remainder="drop")


class _ToObject(TransformerMixin, BaseEstimator):
    """Categorical columns as strings with 'missing' for NaN, so one-hot gets one level per value."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.astype(object).where(X.notna(), "missing").astype(str).to_numpy()


def encode_for(family: str, X_train: pd.DataFrame, X_test: pd.DataFrame):
    """Features for one student family, fit on the training rows only."""
    if family == "gbdt":
        return X_train, X_test
    if family == "linear":
        enc = linear_encoder(X_train).fit(X_train)
        return enc.transform(X_train), enc.transform(X_test)
    enc = OrdinalCodes()
    return enc.transform(X_train), enc.transform(X_test)
