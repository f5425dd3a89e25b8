"""The long results format, owned here and nowhere else.

One row per (dataset, repeat, outer fold, teacher, student, size, mode, metric): ``results.csv``
of `kd fit`, ``results.parquet|csv`` of a study and every reference table share it. The teacher's
own scores are the rows with ``student == mode == "teacher"`` and an empty size; they also hold
the split's sizes, metrics ``n_train`` and ``n_test`` (:data:`SPLIT_SIZES`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kdcli.errors import KDError

RESULT_COLUMNS = [
    "dataset",
    "repeat",
    "fold",
    "seed",
    "teacher",
    "student",
    "size",
    "mode",
    "metric",
    "value",
]
CELL = ["dataset", "teacher", "student", "size", "mode", "metric"]  # a cell: mean over splits
SORT = ["dataset", "teacher", "repeat", "fold", "student", "size", "mode", "metric"]
TEACHER_ROW = ("teacher", "", "teacher")  # (student, size, mode) of the teacher's own scores
# the rows a split trains and tests on, metrics of the teacher's row (the Nadeau–Bengio
# correction's n_test/n_train, kdcli.reporting.split_sizes)
SPLIT_SIZES = ("n_train", "n_test")
LATENCY_COLUMNS = [c for c in RESULT_COLUMNS if c not in ("metric", "value")] + ["ms_per_10k"]


def value_text(value: object) -> str:
    """A teacher parameter's value as a variant label shows it: None, True, 3, 0.1, gini."""
    return repr(value) if isinstance(value, float) else str(value)


def teacher_label(name: str, variant: dict[str, Any]) -> str:
    """The ``teacher`` column of results: the library's name, and for a variant of a
    --teacher-grid sweep its swept values, ``rf[max_depth=3]`` (``rf[max_depth=3,
    min_samples_leaf=5]`` for several, in the grid's order)."""
    if not variant:
        return name
    return f"{name}[{','.join(f'{k}={value_text(v)}' for k, v in variant.items())}]"


def teacher_variant(label: str) -> tuple[str, dict[str, str]]:
    """:func:`teacher_label` read back: ``rf[max_depth=3]`` → ('rf', {'max_depth': '3'}); a
    plain name has no swept values. Values stay text, as the label shows them."""
    label = str(label)
    name, bracket, rest = label.partition("[")
    if not bracket or not rest.endswith("]"):
        return label, {}
    variant = {}
    for part in rest[:-1].split(","):
        key, eq, value = part.partition("=")
        if not eq or not key:
            return label, {}
        variant[key] = value
    return name, variant


def size_key(size: str) -> tuple[int, float, str]:
    """Sort key for sizes: "" (the teacher) first, then numeric order, then "full", then others."""
    if size == "":
        return (0, 0.0, "")
    if size == "full":
        return (2, 0.0, "")
    try:
        return (1, float(size), "")
    except ValueError:
        return (3, 0.0, size)


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as a results frame: the long columns first, sizes as text."""
    out = pd.DataFrame.from_records(records, columns=None if records else RESULT_COLUMNS)
    out["size"] = out["size"].astype(str)
    columns = RESULT_COLUMNS + [c for c in out.columns if c not in RESULT_COLUMNS]
    shaped: pd.DataFrame = out[columns]
    return shaped


def ordered(results: pd.DataFrame) -> pd.DataFrame:
    """The fixed row order of assembled results: equal for any executor and any unit order."""
    out: pd.DataFrame = results.sort_values(SORT, kind="stable").reset_index(drop=True)
    return out


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard error (NaN with one split) and count over repeats and outer folds, and
    ``nonfinite``, how many of those values are NaN or ±inf.

    Such a value is averaged like the others: the cell's mean is then NaN or inf, in every
    table, never a mean of the other splits passed off as the cell's.
    """
    if results.empty:
        empty: pd.DataFrame = pd.DataFrame(columns=[*CELL, "mean", "n", "se", "nonfinite"])
        return empty
    value = results["value"].astype(float)
    data = results.assign(value=value, nan=value.isna(), nonfinite=~np.isfinite(value))
    grouped = data.groupby(CELL, sort=False)
    out = grouped["value"].agg(mean="mean", std="std", n="size").reset_index()
    counts = grouped[["nan", "nonfinite"]].sum().reset_index(drop=True)
    out["se"] = out["std"] / out["n"].map(math.sqrt)
    out.loc[counts["nan"].to_numpy() > 0, ["mean", "se"]] = math.nan  # pandas would skip NaN
    out["nonfinite"] = counts["nonfinite"].astype(int).to_numpy()
    summary: pd.DataFrame = out.drop(columns="std")
    return summary


def cell_means(results: pd.DataFrame) -> pd.DataFrame:
    """Mean over repeats and outer folds of every cell, sizes as text ('' for the teacher); NaN
    where a split's value is NaN, as :func:`summarise` has it (pandas would skip it)."""
    data = results.assign(size=results["size"].fillna("").astype(str))
    grouped = data.groupby(CELL, sort=True)["value"]
    out: pd.DataFrame = grouped.mean().reset_index()
    out.loc[grouped.count().to_numpy() < grouped.size().to_numpy(), "value"] = math.nan
    return out


def latency_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Prediction latencies, kept apart from the results: wall-clock, not reproducible."""
    out: pd.DataFrame = pd.DataFrame(rows, columns=LATENCY_COLUMNS)
    return out


def load_results(path: Path) -> pd.DataFrame:
    """The long results of a `kd fit --out` or `kd benchmark --out` folder (or a CSV file)."""
    path = Path(path)
    if path.is_dir():
        for name in ("results.parquet", "results.csv"):
            if (path / name).exists():
                path = path / name
                break
        else:
            raise KDError(
                f"{path} holds no results.csv or results.parquet; give the --out folder "
                "of a kd fit or kd benchmark run"
            )
    if not path.exists():
        raise KDError(f"{path} does not exist; give a results folder or CSV")
    try:
        data = (
            pd.read_parquet(path)
            if path.suffix == ".parquet"
            else pd.read_csv(path, dtype={"size": str})
        )
    except (OSError, ValueError) as err:
        raise KDError(f"cannot read {path}: {' '.join(str(err).split())}") from None
    missing = [c for c in [*CELL, "value"] if c not in data.columns]
    if missing:
        raise KDError(f"{path} lacks the column(s) {', '.join(missing)}; it is not kd results")
    return data
