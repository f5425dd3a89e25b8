"""n_test / n_train of each dataset's outer splits: the Nadeau–Bengio correction needs it.

Results record each split's sizes as the teacher row's metrics ``n_train`` and ``n_test``
(:data:`kdcli.records.SPLIT_SIZES`); a dataset's ratio is the mean of its splits' n_test/n_train
(the splits a task's uneven folds make differ a little). Results written before kd recorded them
(or a ``n_train``/``n_test`` column) fall back to what a run records: a `kd fit` run.json has the
dataset's rows and the test size, a study's run.json the test size of every member; a task's
official folds (openml-task:) are k-fold, where n_test / n_train = 1 / (k − 1), k guessed from the
folds present. Every answer says where it came from, since the report prints it beside the test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from kdcli.records import SPLIT_SIZES
from kdcli.study.run_folder import migrate


@dataclass(frozen=True)
class SplitRatio:
    ratio: float  # n_test / n_train; NaN when it cannot be told
    source: str  # how it is known, for the report's note


def split_ratios(results: pd.DataFrame, record: dict) -> dict[str, SplitRatio]:
    """dataset name → its n_test / n_train, from the split sizes the results record if they
    do, else from ``record`` (the run's run.json as a dict; {} for a bare CSV)."""
    record = migrate(record) if record else {}  # a record of any kd, as format 2
    settings = record.get("settings") or {}
    test_size = (settings.get("fit") or {}).get("test_size")
    specs = {str(m["name"]): str(m.get("spec", "")) for m in settings.get("members") or []}
    one = record.get("dataset") or {}  # kd fit: the one dataset, with its rows
    if one.get("name") is not None:
        specs.setdefault(str(one["name"]), str(one.get("spec") or ""))
    names = results["dataset"].astype(str)
    out = {}
    for name in sorted(set(names)):
        rows = results[names == name]
        out[name] = _ratio(rows, specs.get(name, ""), test_size, one, name)
    return out


def recorded_ratio(rows: pd.DataFrame) -> SplitRatio | None:
    """The mean n_test/n_train of the splits whose sizes ``rows`` (one dataset's results) record
    as metrics; None when none do. A split counts once, whatever its teachers."""
    if "metric" not in rows.columns:
        return None
    sizes = rows[rows["metric"].isin(SPLIT_SIZES)]
    if sizes.empty:
        return None
    per_split = sizes.pivot_table(
        index=["repeat", "fold"], columns="metric", values="value", aggfunc="first"
    ).reindex(columns=list(SPLIT_SIZES))
    per_split = per_split.dropna()
    per_split = per_split[per_split["n_train"] > 0]
    if per_split.empty:
        return None
    ratios = per_split["n_test"] / per_split["n_train"]
    ratio = float(ratios.mean())
    if len(ratios) == 1 or ratios.nunique() == 1:
        n_test, n_train = per_split.iloc[0]["n_test"], per_split.iloc[0]["n_train"]
        shown = f"{n_test:.0f}/{n_train:.0f}"
    else:
        shown = f"{ratio:.4g}, the mean over {len(ratios)} splits"
    return SplitRatio(ratio, f"n_test/n_train = {shown} (recorded per split in the results)")


def _ratio(rows: pd.DataFrame, spec: str, test_size, one: dict, name: str) -> SplitRatio:
    recorded = recorded_ratio(rows)
    if recorded is not None:
        return recorded
    if {"n_train", "n_test"} <= set(rows.columns):
        sizes = rows[["n_train", "n_test"]].dropna().astype(float)
        sizes = sizes[sizes["n_train"] > 0]
        if len(sizes):
            ratio = float((sizes["n_test"] / sizes["n_train"]).mean())
            return SplitRatio(ratio, f"n_test/n_train = {ratio:.4g} (recorded in the results)")
    folds = pd.to_numeric(rows["fold"], errors="coerce")
    if spec.lower().startswith("openml-task:") or (folds > 0).any():
        k = int(folds.max()) + 1 if folds.notna().any() else 0
        if k < 2:
            return SplitRatio(math.nan, "official folds of unknown number: n_test/n_train unknown")
        return SplitRatio(
            1.0 / (k - 1),
            f"n_test/n_train = 1/{k - 1} (official {k}-fold splits; k = folds in the results)",
        )
    if not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        return SplitRatio(math.nan, "no test size recorded: n_test/n_train unknown")
    rows_total = one.get("rows") if str(one.get("name")) == name else None
    if isinstance(rows_total, int) and rows_total > 1:
        n_test = math.ceil(test_size * rows_total)  # as scikit-learn's train_test_split
        n_train = rows_total - n_test
        if n_train > 0:
            return SplitRatio(
                n_test / n_train,
                f"n_test/n_train = {n_test}/{n_train} ({rows_total} rows, test size {test_size})",
            )
    ratio = test_size / (1 - test_size)
    return SplitRatio(ratio, f"n_test/n_train ≈ {ratio:.4g} (test size {test_size})")
