"""The in-memory dataset every experiment starts from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from kdcli.errors import KDError
from kdcli.text import shown


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
    # what loading did that a user should hear of (a dropped empty column, dates read as
    # seconds, mixed types read as text): one line each, for the commands to print
    notices: list[str] = field(default_factory=list)

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
            notices=list(self.notices),
        )


def encode_labels(
    labels: pd.Series | np.ndarray, column: str = "target"
) -> tuple[np.ndarray, list[str]]:
    """Map labels of any type to 0..K-1 (sorted order of the observed values), keeping their names.

    Classes with no instance (e.g. an unused category level) are dropped: they cannot be learned
    or scored, and keeping them would break stratified folds.
    """
    s = pd.Series(labels).reset_index(drop=True)
    if len(s) == 0:
        raise KDError(
            f"the target column '{shown(column)}' has no rows; a dataset needs labelled rows"
        )
    if s.isna().any():
        n = int(s.isna().sum())
        raise KDError(
            f"the target column '{shown(column)}' has {n} missing label(s); drop those rows or "
            "choose another column with --target"
        )
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.cat.remove_unused_categories()
        codes = s.cat.codes.to_numpy().astype(np.int64)
        names = [str(c) for c in s.cat.categories]
    else:
        _refuse_unusable(s, f"the target column '{shown(column)}'")
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
            f"the target column '{shown(column)}' holds non-integer numbers ({len(names)} distinct "
            "values): it looks like a regression target; choose a class column with --target"
        )
    if len(names) > 20 and len(names) > n / 2:
        raise KDError(
            f"the target column '{shown(column)}' has {len(names)} distinct values in {n} rows: it "
            "looks continuous or like an id; choose a class column with --target"
        )
    if len(names) < 2:
        raise KDError(
            f"the target column '{shown(column)}' has only one class ({names[0]!r}); distillation "
            "needs at least two classes: choose another column with --target"
        )
    return codes, names


def _label_name(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------------------------
# features: every column becomes float64 or a category with text levels
# --------------------------------------------------------------------------------------------

FEATURE_KINDS = "numbers, text, true/false, dates and durations"
NUMBER_KINDS = ("integer", "floating", "mixed-integer-float", "decimal", "boolean")
DATE_KINDS = ("datetime", "datetime64", "date")
DURATION_KINDS = ("timedelta", "timedelta64")
PLAIN_KINDS = ("string", "empty", *NUMBER_KINDS, *DATE_KINDS, *DURATION_KINDS)
# what a notice says of the columns that got each treatment (see feature_column)
TREATMENTS = {
    "empty": "no observed value, dropped",
    "dates": "dates, read as seconds since 1970-01-01 UTC (missing stays missing)",
    "durations": "durations, read as seconds (missing stays missing)",
    "mixed": "mixed types (e.g. numbers and text), each value read as text (a category)",
    "text": "values that are neither numbers nor dates (e.g. times of day), read as text",
}


def prepare_features(X: pd.DataFrame, notices: list[str] | None = None) -> pd.DataFrame:
    """Give features the dtypes the learners understand (see :func:`feature_column`).

    A column with no observed value is dropped: it carries no information, and XGBoost refuses
    a categorical without categories. What was done to which columns is appended to ``notices``,
    one line per treatment, so a user learns of it rather than finding a column gone.
    """
    names = [str(c) for c in X.columns]
    _refuse_duplicate_names(names)
    X = X.reset_index(drop=True)  # rows are matched by position, whatever index X came with
    index = pd.RangeIndex(len(X))
    plain = _plain_number_positions(X)
    columns: dict[str, pd.Series] = {}
    treated: dict[str, list[str]] = {}
    for i in sorted(set(range(len(names))) - set(plain)):
        columns[names[i]], treatment = feature_column(X.iloc[:, i], names[i])
        if treatment:
            treated.setdefault(treatment, []).append(names[i])
    frame = pd.DataFrame(columns, index=index)
    if plain:  # one block for all of them: a Series per column took minutes on wide files
        chosen = X if len(plain) == X.shape[1] else X.iloc[:, plain]
        numbers = chosen.to_numpy(dtype="float64", copy=True)
        numbers[~np.isfinite(numbers)] = np.nan  # as feature_column's _finite
        block = pd.DataFrame(numbers, columns=[names[i] for i in plain], index=index)
        frame = pd.concat([block, frame], axis=1)[names] if columns else block
    frame = _drop_empty(frame, treated)
    if notices is not None:
        notices.extend(_notice(cols, TREATMENTS[key]) for key, cols in treated.items())
    return frame


def _plain_number_positions(X: pd.DataFrame) -> list[int]:
    """Positions of the columns of NumPy numbers and booleans, which :func:`feature_column` only
    makes float64 (±inf missing): they are converted together. Decided once per dtype, not per
    column (a wide file has 100,000 columns and a handful of dtypes)."""
    dtypes = list(X.dtypes)
    plain = {dt: isinstance(dt, np.dtype) and dt.kind in "biuf" for dt in set(dtypes)}
    return [i for i, dt in enumerate(dtypes) if plain[dt]]


def feature_column(s: pd.Series, name: str) -> tuple[pd.Series, str | None]:
    """One feature as float64 or a category with text levels, and its treatment if a user should
    hear of it (a key of ``TREATMENTS``).

    Numbers and true/false are floats (±inf is no measurement: missing). Dates are seconds since
    1970-01-01 UTC and durations seconds, NaT missing: numbers keep their order, so trees split on
    them. Text is a category. A column that mixes types (numbers and text, as a CSV read in chunks
    or a hand-made parquet has) is read as text, each value's ``str`` a level: refusing it would
    stop a whole suite for one odd column, and its notice says what happened. Lists, records and
    binary values have no meaning as one feature: refused, naming the column.
    """
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(s)
    if pd.api.types.is_bool_dtype(dtype):
        return s.astype("float64"), None
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _seconds_since_epoch(s), "dates"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return _seconds(s), "durations"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return _finite(s), None
    return _objects(s, name)


def _categorical(s: pd.Series) -> tuple[pd.Series, str | None]:
    s = s.cat.remove_unused_categories()
    kind = infer_dtype(s.cat.categories, skipna=True)
    if kind in ("string", "empty"):
        return s, None
    # other levels (numbers, timestamps) as text: the learners store levels as JSON
    return _as_text(s), "mixed" if kind.startswith("mixed") else None


def _objects(s: pd.Series, name: str) -> tuple[pd.Series, str | None]:
    """A column of Python objects (or pandas strings): what its values are decides."""
    kind = infer_dtype(s, skipna=True)
    if kind == "string":
        return s.astype("category"), None
    if kind == "empty":
        return pd.Series(np.nan, index=s.index), None
    _refuse_unusable(s, f"column '{shown(name)}'")
    try:
        if kind in NUMBER_KINDS:
            return _finite(pd.to_numeric(s)), None
        if kind in DATE_KINDS:
            return _seconds_since_epoch(pd.to_datetime(s, utc=True)), "dates"
        if kind in DURATION_KINDS:
            return _seconds(pd.to_timedelta(s)), "durations"
    except (ValueError, TypeError, ArithmeticError):  # an int too large for a float, sNaN
        return _as_text(s), "mixed"
    return _as_text(s), "mixed" if kind.startswith("mixed") else "text"


def _refuse_unusable(s: pd.Series, what: str) -> None:
    """Lists, records and binary values are not one feature or label: say which column."""
    if infer_dtype(s, skipna=True) in PLAIN_KINDS:  # the common case, without a Python loop
        return
    for value in s:
        if isinstance(value, (bytes, bytearray, memoryview)):
            kind = "binary values"
        elif isinstance(value, (Mapping, Set, np.ndarray)) or (
            isinstance(value, Sequence) and not isinstance(value, str)
        ):
            kind = "lists or records"
        else:
            continue
        raise KDError(
            f"{what} holds {kind} ({type(value).__name__}); kd reads {FEATURE_KINDS}: "
            "drop that column or flatten it into plain columns"
        )


def _finite(s: pd.Series) -> pd.Series:
    values = pd.to_numeric(s, errors="coerce").astype("float64")
    return values.where(np.isfinite(values))


def _seconds_since_epoch(s: pd.Series) -> pd.Series:
    if s.dt.tz is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    seconds = (s.to_numpy() - np.datetime64(0, "s")) / np.timedelta64(1, "s")  # NaT -> NaN
    return pd.Series(seconds, index=s.index, dtype="float64")


def _seconds(s: pd.Series) -> pd.Series:
    return pd.Series(s.to_numpy() / np.timedelta64(1, "s"), index=s.index, dtype="float64")


def _as_text(s: pd.Series) -> pd.Series:
    return s.astype(object).map(str, na_action="ignore").astype("category")


def _refuse_duplicate_names(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise KDError(
                f"the column '{shown(name)}' appears more than once; give each column its own name"
            )
        seen.add(name)


def _drop_empty(frame: pd.DataFrame, treated: dict[str, list[str]]) -> pd.DataFrame:
    if len(frame) == 0:
        return frame
    missing = frame.isna().all(axis=0).to_numpy()  # all columns at once, not one by one
    empty = [c for c, gone in zip(frame.columns, missing, strict=True) if gone]
    if not empty:
        return frame
    if len(empty) == frame.shape[1]:
        raise KDError(
            f"none of the {len(empty)} feature column(s) has an observed value; kd needs at "
            "least one feature with values"
        )
    dropped = set(empty)
    for cols in treated.values():  # a dropped column's other treatment is moot
        cols[:] = [c for c in cols if c not in dropped]
    for key in [k for k, cols in treated.items() if not cols]:
        del treated[key]
    treated["empty"] = empty
    return frame.drop(columns=empty)


def _notice(columns: list[str], what: str, first: int = 5) -> str:
    """``columns 'a', 'b': what`` (the first few names, then how many more)."""
    names = ", ".join(f"'{shown(c)}'" for c in columns[:first])
    more = f" and {len(columns) - first} more" if len(columns) > first else ""
    return f"{'column' if len(columns) == 1 else 'columns'} {names}{more}: {what}"
