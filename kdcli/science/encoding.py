"""How students that need numbers see categorical features and missing values.

- ``tree`` and ``rf`` students (and the ``rf`` teacher): a categorical column becomes its integer
  category code (the order of the category levels); missing values stay NaN, which scikit-learn's
  trees route natively.
- ``linear``: numeric columns are median-imputed with a missing-indicator column and standardised;
  categorical columns are one-hot encoded with "missing" as a level of its own.
- ``gbdt`` (LightGBM) students see the frame as is: categories and NaN are handled natively.

Every model sees positional column names (:func:`model_names`), never the user's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def model_names(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with the column names the models see: f0, f1, … by position.

    A header may hold anything: LightGBM refuses ``[ ] , : { } "`` in a feature name and XGBoost
    ``[ ] <``, LightGBM turns spaces into underscores (so ``a b`` and ``a_b`` collide) and
    splits names at tabs and line breaks, scikit-learn wants every name to be a string, and a
    frame may repeat a name. No model shows its feature names to the user, so they get positional
    ones, and the user's names stay in the dataset (``X`` itself is not changed). A booster's
    ``model_bytes`` thus no longer counts the header's length.
    """
    return X.set_axis([f"f{i}" for i in range(X.shape[1])], axis=1)


def categorical_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]


class OrdinalCodes(TransformerMixin, BaseEstimator):
    """Categoricals to their category codes (missing → NaN); numbers unchanged. Stateless."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if not isinstance(X, pd.DataFrame):
            return np.asarray(X, dtype=float)
        # numbers as one block, categoricals column by column: a wide frame (100,000 columns)
        # would otherwise cost a Python step per column
        is_cat = np.array([isinstance(t, pd.CategoricalDtype) for t in X.dtypes], dtype=bool)
        out = np.empty(X.shape, dtype=float)
        if (~is_cat).any():
            numbers = X.iloc[:, np.flatnonzero(~is_cat)]
            out[:, ~is_cat] = numbers.to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero(is_cat).tolist():
            codes = X.iloc[:, i].cat.codes.to_numpy().astype(float)
            codes[codes < 0] = np.nan
            out[:, i] = codes
        return out


def linear_encoder(X: pd.DataFrame) -> ColumnTransformer:
    cats = categorical_columns(X)
    categorical = set(cats)  # a set: a wide frame of categoricals would make this quadratic
    nums = [c for c in X.columns if c not in categorical]
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
