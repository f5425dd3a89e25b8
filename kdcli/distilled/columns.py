"""The columns a distilled model reads, as its card records them, and how new data is made
into the one numeric matrix its ONNX graph takes.

Column i of the matrix is the card's column i: a number as it is (dates as seconds, true/false
as 1/0, as kd read them when it fitted), a category as its code (the position of its level in
the card's list), a missing value as NaN. A level the model never saw is treated as missing, as
a tree routes a missing value, and counted; it is not an error: new data brings new levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kdcli.data.dataset import feature_column
from kdcli.errors import KDError
from kdcli.text import shown

NUMBER, CATEGORY = "number", "category"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # NUMBER or CATEGORY
    levels: tuple[str, ...] = ()  # a category's levels; level i has code i

    def to_dict(self) -> dict:
        out: dict = {"name": self.name, "kind": self.kind}
        if self.kind == CATEGORY:
            out["levels"] = list(self.levels)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Column:
        return cls(str(d["name"]), str(d["kind"]), tuple(str(v) for v in d.get("levels", ())))


def schema_of(X: pd.DataFrame) -> list[Column]:
    """The columns of a dataset's features (kd's dtypes: float64 or category of text levels)."""
    out = []
    for name in X.columns:
        dtype = X[name].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            out.append(Column(str(name), CATEGORY, tuple(str(v) for v in dtype.categories)))
        else:
            out.append(Column(str(name), NUMBER))
    return out


@dataclass
class Coded:
    """New data as the model's matrix, and what a user should hear of."""

    codes: np.ndarray  # (n, F) float64
    unseen: dict  # column -> rows whose level the model never saw (treated as missing)


def to_codes(
    frame: pd.DataFrame,
    columns: list[Column],
    target: str | None = None,
    ignore_extra: bool = False,
    source: str = "the data",
) -> Coded:
    """``frame``'s columns, by name, as the card's matrix; KDError (one line) for a missing
    column, an extra one (unless ``ignore_extra``; the card's target column is always allowed)
    or a column whose values are not of the card's kind."""
    names = [str(c) for c in frame.columns]
    if len(frame) == 0:
        raise KDError(f"{source} has no rows; give a file with at least one row to predict")
    wanted = [c.name for c in columns]
    missing = [n for n in wanted if n not in names]
    if missing:
        raise KDError(
            f"{source} lacks column(s) {_listed(missing)} that the model reads; add them "
            "(empty values are allowed: they are missing)"
        )
    extra = [n for n in names if n not in set(wanted) and n != target]
    if extra and not ignore_extra:
        raise KDError(
            f"{source} has column(s) {_listed(extra)} that the model does not read; drop them "
            "or add --ignore-extra"
        )
    frame = frame.set_axis(names, axis=1)
    codes = np.empty((len(frame), len(columns)), dtype=float)
    unseen: dict[str, int] = {}
    for i, col in enumerate(columns):
        values = _read(frame[col.name], col, source)
        if col.kind == NUMBER:
            codes[:, i] = values
            continue
        codes[:, i], count = _category_codes(values, col)
        if count:
            unseen[col.name] = count
    return Coded(codes, unseen)


def _read(s: pd.Series, col: Column, source: str):
    """The column as kd reads a feature (kdcli.data.dataset.feature_column), checked against
    the card's kind."""
    try:
        values, _treatment = feature_column(s, col.name)
    except KDError as err:
        raise KDError(f"{source}: {err}") from None
    is_category = isinstance(values.dtype, pd.CategoricalDtype)
    if col.kind == NUMBER and is_category:
        examples = [str(v) for v in values.dropna().unique()[:3]]
        raise KDError(
            f"{source}: column {shown(col.name)} holds text ({', '.join(examples)}) where the "
            "model reads numbers; fix those values or leave them empty (missing)"
        )
    if col.kind == CATEGORY and not is_category:
        values = _as_levels(values)
    return values


def _as_levels(values: pd.Series) -> pd.Series:
    """Numbers in a category column, as the text levels kd would have read them: 3.0 as '3'."""

    def text(v) -> str | float:
        if pd.isna(v):
            return np.nan
        f = float(v)
        return str(int(f)) if f.is_integer() else str(v)

    return values.map(text).astype("category")


def _category_codes(values: pd.Series, col: Column) -> tuple[np.ndarray, int]:
    position = {level: i for i, level in enumerate(col.levels)}
    text = values.astype(object)
    present = text.notna().to_numpy()
    mapped = text.map(lambda v: position.get(str(v), -1) if pd.notna(v) else -1)
    out = mapped.to_numpy(dtype=float)
    new = present & (out < 0)
    out[out < 0] = np.nan
    return out, int(new.sum())


def _listed(names: list[str], most: int = 5) -> str:
    shown_names = ", ".join(f"'{shown(n)}'" for n in names[:most])
    return shown_names + (f" and {len(names) - most} more" if len(names) > most else "")
