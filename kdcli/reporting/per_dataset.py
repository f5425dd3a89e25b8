"""One dataset's table: each mode's mean over splits at each size, beside the teacher's, and the
★ rule that names the best mode. What a reader checks first, before any test.

A NaN or infinite value (e.g. an AUC on a split where a class is absent) makes its cell's mean
NaN or infinite, as in every kd table; conventions in :mod:`kdcli.reporting.results_frame`.
"""

from __future__ import annotations

import math

import pandas as pd

from kdcli.records import size_key
from kdcli.reporting.results_frame import (
    SPLIT,
    TEACHER_MODE,
    _lower_is_better,
    _normalise,
    named_rows,
)
from kdcli.reporting.stats import same
from kdcli.science.targets import ordered_modes


def _split_stats(values: pd.DataFrame) -> tuple[float, float, int]:
    """Mean, naive standard error (sd ddof=1 / sqrt(n), NaN for one split) and number of splits
    of a cell's rows; a NaN split makes the mean and SE NaN (pandas would skip it)."""
    value = pd.to_numeric(values["value"], errors="coerce").astype(float)
    grouped = values.assign(value=value).groupby(SPLIT)["value"]
    return _cell_stats(grouped.agg(mean="mean", count="count", rows="size"))


def _cell_stats(per_split: pd.DataFrame) -> tuple[float, float, int]:
    """:func:`_split_stats` from a cell's per-split ``mean``, ``count`` and ``rows``."""
    n = len(per_split)
    if n == 0:
        return math.nan, math.nan, 0
    if (per_split["count"] < per_split["rows"]).any():
        return math.nan, math.nan, n
    means = per_split["mean"]
    mean = float(means.mean())
    se = float(means.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return mean, se, n


def per_dataset_table(
    results: pd.DataFrame, dataset: str, teacher: str, student: str, metric: str
) -> pd.DataFrame:
    """One dataset, teacher, student and metric: each size's mean, standard error and count per mode.

    Rows are the student's sizes (index ``size``; numeric order, "full" last). Columns, for each
    mode present (raw, vanilla, crossfit, corrected): ``{mode}_mean``, ``{mode}_naive_se``
    (standard deviation over the (repeat, fold) splits with ddof=1, divided by sqrt(n); NaN when
    n == 1; naive because the splits overlap) and ``{mode}_n`` (the number of splits behind the
    cell, 0 when the mode has no value at that size). Then ``teacher_mean``,
    ``teacher_naive_se``, ``teacher_n`` — the teacher's own score,
    the same on every row (NaN/0 when the frame has no teacher row) — and ``best``: the mode with
    the best mean in the metric's direction, ties (:func:`~kdcli.reporting.stats.same`) all
    named, joined by "=" in mode order; "" when no mode has a value. The teacher never counts as
    ``best``. A NaN on one split makes its cell's mean and SE NaN, as in every kd table.
    """
    lower = _lower_is_better(metric)
    frame = _normalise(named_rows(results, dataset=dataset, teacher=teacher, metric=metric))
    rows = frame[(frame["student"] == str(student)) & (frame["mode"] != TEACHER_MODE)]
    teacher_rows = frame[frame["mode"] == TEACHER_MODE]
    modes = ordered_modes(rows["mode"].unique())
    sizes = sorted(rows["size"].unique(), key=size_key)
    t_mean, t_se, t_n = _split_stats(teacher_rows)
    cells = _per_split(rows)

    records = []
    for size in sizes:
        record: dict[str, object] = {"size": size}
        means = {}
        for mode in modes:
            mean, se, n = _cell_stats(cells.get((size, mode), _NO_SPLITS))
            record.update({f"{mode}_mean": mean, f"{mode}_naive_se": se, f"{mode}_n": n})
            means[mode] = mean
        record.update({"teacher_mean": t_mean, "teacher_naive_se": t_se, "teacher_n": t_n})
        record["best"] = "=".join(best_modes(means, lower))
        records.append(record)

    columns = ["size"]
    for mode in modes:
        columns += [f"{mode}_mean", f"{mode}_naive_se", f"{mode}_n"]
    columns += ["teacher_mean", "teacher_naive_se", "teacher_n", "best"]
    table = pd.DataFrame.from_records(records, columns=columns).set_index("size")
    for column in [c for c in columns if c.endswith("_n")]:
        table[column] = table[column].astype(int)
    return table


_NO_SPLITS = pd.DataFrame({"mean": [], "count": [], "rows": []})


def _per_split(rows: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """Each (size, mode) cell's per-split ``mean``, ``count`` and ``rows`` from one grouping of
    the student's rows (what :func:`_split_stats` computes cell by cell, splits in the same
    order)."""
    value = pd.to_numeric(rows["value"], errors="coerce").astype(float)
    grouped = rows.assign(value=value).groupby(["size", "mode", *SPLIT])["value"]
    per_split = grouped.agg(mean="mean", count="count", rows="size")
    return {
        (str(size), str(mode)): cell.droplevel([0, 1])
        for (size, mode), cell in per_split.groupby(level=[0, 1], sort=False)
    }


def best_modes(means: dict[str, float], lower: bool) -> list[str]:
    """The mode(s) with the best mean, ties (:func:`~kdcli.reporting.stats.same`) all named; none
    when every mean is NaN. The one rule behind every ★ kd shows."""
    finite = {mode: m for mode, m in means.items() if not math.isnan(m)}
    if not finite:
        return []
    target = min(finite.values()) if lower else max(finite.values())
    return [mode for mode, m in finite.items() if same(m, target)]
