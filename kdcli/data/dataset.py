"""The in-memory dataset every experiment starts from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kdcli.errors import KDError


@dataclass
class OuterSplit:
    """Official train/test rows of an OpenML task (one repeat and fold)."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


@dataclass
class Dataset:
    """Features, integer labels 0..K-1 and, for synthetic designs, the Bayes probabilities p0.

    ``X`` keeps categorical columns as pandas ``category`` dtype and missing values as NaN so that
    LightGBM/XGBoost can use them natively; students that need numbers encode them (``encoding``).
    """

    name: str
    X: pd.DataFrame
    y: np.ndarray
    class_names: list[str]
    p0: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    outer_splits: list[OuterSplit] | None = None  # a task's official folds; else kd splits

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_rows(self) -> int:
        return len(self.y)

    def subsample(self, max_rows: int, seed: int) -> Dataset:
        """A stratified subsample of ``max_rows`` rows (official splits restricted to them)."""
        if max_rows >= self.n_rows:
            return self
        from sklearn.model_selection import train_test_split

        counts = np.bincount(self.y, minlength=self.n_classes)
        stratify = self.y if counts.min() >= 2 and max_rows >= self.n_classes else None
        keep, _ = train_test_split(
            np.arange(self.n_rows), train_size=max_rows, stratify=stratify, random_state=seed
        )
        keep = np.sort(keep)
        position = np.full(self.n_rows, -1)
        position[keep] = np.arange(len(keep))
        splits = None
        if self.outer_splits is not None:
            splits = [
                OuterSplit(
                    s.repeat,
                    s.fold,
                    position[s.train][position[s.train] >= 0],
                    position[s.test][position[s.test] >= 0],
                )
                for s in self.outer_splits
            ]
        present = np.unique(self.y[keep])  # a rare class may not survive: renumber, keep order
        y = np.searchsorted(present, self.y[keep])
        names = [self.class_names[k] for k in present]
        p0 = None
        if self.p0 is not None and len(present) == self.n_classes:
            p0 = self.p0[keep]
        return Dataset(
            name=self.name,
            X=self.X.iloc[keep].reset_index(drop=True),
            y=y,
            class_names=names,
            p0=p0,
            outer_splits=splits,
            meta={**self.meta, "max_rows": max_rows, "rows_before_subsample": self.n_rows},
        )


def encode_labels(
    labels: pd.Series | np.ndarray, column: str = "target"
) -> tuple[np.ndarray, list[str]]:
    """Map labels of any type to 0..K-1 (sorted order of the observed values), keeping their names.

    Classes with no instance (e.g. an unused category level) are dropped: they cannot be learned
    or scored, and keeping them would break stratified folds.
    """
    s = pd.Series(labels)
    if s.isna().any():
        n = int(s.isna().sum())
        raise KDError(
            f"the target column '{column}' has {n} missing label(s); drop those rows or choose "
            "another column with --target"
        )
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.cat.remove_unused_categories()
        codes = s.cat.codes.to_numpy().astype(np.int64)
        names = [str(c) for c in s.cat.categories]
    else:
        values = s.to_numpy()
        try:
            uniques, codes = np.unique(values, return_inverse=True)
        except TypeError:  # mixed types: compare as strings
            uniques, codes = np.unique(values.astype(str), return_inverse=True)
        names = [_label_name(u) for u in uniques]
        codes = codes.astype(np.int64)
    n = len(codes)
    numeric = pd.api.types.is_float_dtype(s.dtype)
    if numeric and not np.all(np.mod(s.to_numpy(dtype=float), 1) == 0):
        raise KDError(
            f"the target column '{column}' holds non-integer numbers ({len(names)} distinct "
            "values): it looks like a regression target; choose a class column with --target"
        )
    if len(names) > 20 and len(names) > n / 2:
        raise KDError(
            f"the target column '{column}' has {len(names)} distinct values in {n} rows: it looks "
            "continuous or like an id; choose a class column with --target"
        )
    if len(names) < 2:
        raise KDError(
            f"the target column '{column}' has only one class ({names[0]!r}); distillation needs "
            "at least two classes: choose another column with --target"
        )
    return codes, names


def _label_name(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def prepare_features(X: pd.DataFrame) -> pd.DataFrame:
    """Give features the dtypes the learners understand: numbers stay float (±inf becomes
    missing), text becomes category; all-missing columns are dropped."""
    out = {}
    for col in X.columns:
        s = X[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[str(col)] = s.cat.remove_unused_categories()
        elif pd.api.types.is_bool_dtype(s):
            out[str(col)] = s.astype("float64")
        elif pd.api.types.is_numeric_dtype(s):  # ±inf is no measurement: treat it as missing
            values = pd.to_numeric(s, errors="coerce").astype("float64")
            out[str(col)] = values.where(np.isfinite(values))
        else:
            out[str(col)] = s.astype("category")
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(X)))
    # a column with no observed value carries no information (and XGBoost refuses a
    # categorical without categories): drop it
    empty = [c for c in frame.columns if frame[c].isna().all()]
    return frame.drop(columns=empty) if empty and len(empty) < frame.shape[1] else frame
