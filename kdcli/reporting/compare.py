"""Comparisons over a long-format results frame: per-dataset tables, paired tests, mean ranks, gaps.

Every function takes the frame `kd` writes (columns ``RESULT_COLUMNS`` of
:mod:`kdcli.experiment`: dataset, repeat, fold, seed, teacher, student, size, mode, metric,
value) and returns plain data (DataFrames or strings); nothing here prints.

Conventions shared by all functions:

* A *split* is one (repeat, fold) pair of a dataset; means and standard errors are taken over
  splits. Should several seeds share a split, their values are averaged first.
* ``size`` is compared as text ("8", "64", "full"); sizes read back from a CSV as numbers (8 or
  8.0) and the teacher's empty size (NaN) are normalised to that text first. Sizes sort
  numerically with "full" last.
* The teacher's own scores are the rows with mode "teacher" (student "teacher", size "").
  They are never one of the compared modes.
* The direction of a metric comes from :data:`kdcli.metrics.LOWER_IS_BETTER`; a metric without a
  direction (such as ``c``, the chosen correction constant) raises ``ValueError``.
* Missing values (NaN, e.g. an AUC on a split where a class is absent) are left out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from kdcli.records import size_key
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import mode_sort_key, ordered_modes

TEACHER_MODE = "teacher"
TIE_TOLERANCE = 1e-12  # two values closer than this are equal
SPLIT = ["repeat", "fold"]
BLOCK = ["dataset", "repeat", "fold", "seed"]
CONFIG = ["teacher", "student", "size"]
PAIR_KEYS = BLOCK + CONFIG


def _lower_is_better(metric: str) -> bool:
    """The metric's direction; ValueError for a column that is not a score."""
    if metric not in LOWER_IS_BETTER:
        known = ", ".join(sorted(LOWER_IS_BETTER))
        raise ValueError(f"metric {metric!r} has no direction to compare by; one of: {known}")
    return LOWER_IS_BETTER[metric]


def _size_text(size: object) -> str:
    """A size as text: NaN/None → "", 8.0 → "8", "full" stays "full"."""
    if size is None or (isinstance(size, float) and math.isnan(size)):
        return ""
    if isinstance(size, (int, np.integer)):
        return str(int(size))
    if isinstance(size, (float, np.floating)):
        return str(int(size)) if float(size).is_integer() else str(size)
    return str(size)


def _normalise(results: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``size`` as canonical text and the name columns as str."""
    out = results.copy()
    out["size"] = out["size"].map(_size_text)
    for column in ("dataset", "teacher", "student", "mode", "metric"):
        out[column] = out[column].astype(str)
    return out


def _sorted_configs(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by teacher, student, then size (numeric, "full" last), with a fresh index."""
    order = sorted(
        range(len(frame)),
        key=lambda i: (
            frame["teacher"].iat[i],
            frame["student"].iat[i],
            size_key(frame["size"].iat[i]),
        ),
    )
    return frame.iloc[order].reset_index(drop=True)


def _split_stats(values: pd.DataFrame) -> tuple[float, float, int]:
    """Mean, standard error (ddof=1, NaN for one split) and number of splits of a cell's rows."""
    per_split = values.dropna(subset=["value"]).groupby(SPLIT)["value"].mean()
    n = len(per_split)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(per_split.mean())
    se = float(per_split.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return mean, se, n


def per_dataset_table(
    results: pd.DataFrame, dataset: str, teacher: str, student: str, metric: str
) -> pd.DataFrame:
    """One dataset, teacher, student and metric: each size's mean, standard error and count per mode.

    Rows are the student's sizes (index ``size``; numeric order, "full" last). Columns, for each
    mode present (raw, vanilla, crossfit, corrected): ``{mode}_mean``, ``{mode}_se`` (standard
    deviation over the (repeat, fold) splits with ddof=1, divided by sqrt(n); NaN when n == 1)
    and ``{mode}_n`` (the number of splits behind the cell, 0 when the mode has no value at
    that size). Then ``teacher_mean``, ``teacher_se``, ``teacher_n`` — the teacher's own score,
    the same on every row (NaN/0 when the frame has no teacher row) — and ``best``: the mode with
    the best mean in the metric's direction, ties (within 1e-12) all named, joined by "=" in
    mode order; "" when no mode has a value. The teacher never counts as ``best``.
    """
    lower = _lower_is_better(metric)
    frame = _normalise(results)
    frame = frame[
        (frame["dataset"] == str(dataset))
        & (frame["teacher"] == str(teacher))
        & (frame["metric"] == metric)
    ]
    rows = frame[(frame["student"] == str(student)) & (frame["mode"] != TEACHER_MODE)]
    teacher_rows = frame[frame["mode"] == TEACHER_MODE]
    modes = ordered_modes(rows["mode"].unique())
    sizes = sorted(rows["size"].unique(), key=size_key)
    t_mean, t_se, t_n = _split_stats(teacher_rows)

    records = []
    for size in sizes:
        at_size = rows[rows["size"] == size]
        record: dict[str, object] = {"size": size}
        means = {}
        for mode in modes:
            mean, se, n = _split_stats(at_size[at_size["mode"] == mode])
            record.update({f"{mode}_mean": mean, f"{mode}_se": se, f"{mode}_n": n})
            means[mode] = mean
        record.update({"teacher_mean": t_mean, "teacher_se": t_se, "teacher_n": t_n})
        record["best"] = "=".join(best_modes(means, lower))
        records.append(record)

    columns = ["size"]
    for mode in modes:
        columns += [f"{mode}_mean", f"{mode}_se", f"{mode}_n"]
    columns += ["teacher_mean", "teacher_se", "teacher_n", "best"]
    table = pd.DataFrame.from_records(records, columns=columns).set_index("size")
    for column in [c for c in columns if c.endswith("_n")]:
        table[column] = table[column].astype(int)
    return table


def best_modes(means: dict[str, float], lower: bool) -> list[str]:
    """The mode(s) with the best mean, ties within 1e-12 all named; none when every mean is NaN.
    The one rule behind every ★ kd shows."""
    finite = {mode: m for mode, m in means.items() if not math.isnan(m)}
    if not finite:
        return []
    target = min(finite.values()) if lower else max(finite.values())
    return [mode for mode, m in finite.items() if abs(m - target) <= TIE_TOLERANCE]


def _one_value_per_key(frame: pd.DataFrame) -> pd.Series:
    """Values indexed by PAIR_KEYS, NaNs dropped, duplicates (should there be any) averaged."""
    frame = frame.dropna(subset=["value"])
    return frame.groupby(PAIR_KEYS, sort=False)["value"].mean()


def paired_comparison(results: pd.DataFrame, metric: str, mode: str, baseline: str) -> pd.DataFrame:
    """``mode`` against ``baseline`` on the same splits, one row per (teacher, student, size).

    A pair is the two values on one (dataset, repeat, fold, seed, teacher, student, size); keys
    where either side is missing are left out. Columns: teacher, student, size, ``pairs``,
    ``wins`` / ``ties`` / ``losses`` (``mode`` better / equal within 1e-12 / worse, in the
    metric's direction), ``mean_relative_reduction`` (mean over pairs of
    (baseline − mode) / baseline for lower-is-better metrics, (mode − baseline) / (1 − baseline)
    for AUC — the relative reduction of the loss or of 1 − AUC, positive when ``mode`` is
    better; pairs with a zero denominator are skipped; NaN when none is left), ``p_value`` (the
    two-sided Wilcoxon signed-rank test on mode − baseline with zero_method="wilcox", where
    differences within 1e-12 count as zero; NaN with fewer than 2 non-zero differences) and
    ``datasets`` (the number of distinct datasets among the pairs). Rows are sorted by teacher,
    student and size.
    """
    lower = _lower_is_better(metric)
    frame = _normalise(results)
    frame = frame[frame["metric"] == metric]
    ours = _one_value_per_key(frame[frame["mode"] == mode]).rename("mode_value")
    theirs = _one_value_per_key(frame[frame["mode"] == baseline]).rename("baseline_value")
    pairs = pd.concat([ours, theirs], axis=1, join="inner").reset_index()

    columns = [*CONFIG, "pairs", "wins", "ties", "losses", "mean_relative_reduction"]
    columns += ["p_value", "datasets"]
    records = []
    for (teacher, student, size), group in pairs.groupby(CONFIG, sort=False):
        m = group["mode_value"].to_numpy(dtype=float)
        b = group["baseline_value"].to_numpy(dtype=float)
        diff = m - b
        diff[np.abs(diff) <= TIE_TOLERANCE] = 0.0
        better = diff < 0 if lower else diff > 0
        worse = diff > 0 if lower else diff < 0
        records.append(
            {
                "teacher": teacher,
                "student": student,
                "size": size,
                "pairs": len(group),
                "wins": int(better.sum()),
                "ties": int((diff == 0).sum()),
                "losses": int(worse.sum()),
                "mean_relative_reduction": _relative_reduction(m, b, lower),
                "p_value": _wilcoxon_p(diff),
                "datasets": group["dataset"].nunique(),
            }
        )
    return _sorted_configs(pd.DataFrame.from_records(records, columns=columns))


def _relative_reduction(m: np.ndarray, b: np.ndarray, lower: bool) -> float:
    """Mean of (b − m)/b (losses) or (m − b)/(1 − b) (AUC), skipping zero denominators."""
    gain, denominator = (b - m, b) if lower else (m - b, 1.0 - b)
    keep = denominator != 0
    if not keep.any():
        return math.nan
    return float(np.mean(gain[keep] / denominator[keep]))


def _wilcoxon_p(diff: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value; NaN with fewer than 2 non-zero differences."""
    if np.count_nonzero(diff) < 2:
        return math.nan
    return float(wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue)


def mean_ranks(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each mode's mean rank per (teacher, student, size); rank 1 is the best mode.

    Within each block — one (dataset, repeat, fold, seed) — the modes are ranked in the metric's
    direction, ties sharing the average rank (1.5, 1.5 for a tie for first). Only blocks that
    have a value for every mode seen for that (teacher, student, size) are ranked, so every
    rank is out of the same number of modes. Columns: teacher, student, size, one column per
    mode (raw, vanilla, crossfit, corrected order) and ``blocks``, the number of blocks ranked.
    A configuration with no complete block is left out. The teacher's own rows are ignored.
    """
    lower = _lower_is_better(metric)
    frame = _normalise(results)
    frame = frame[(frame["metric"] == metric) & (frame["mode"] != TEACHER_MODE)]
    frame = frame.dropna(subset=["value"])
    all_modes = ordered_modes(frame["mode"].unique())

    records = []
    for (teacher, student, size), group in frame.groupby(CONFIG, sort=False):
        table = group.pivot_table(index=BLOCK, columns="mode", values="value", aggfunc="mean")
        table = table[[m for m in all_modes if m in table.columns]].dropna()
        if table.empty:
            continue
        ranks = table.rank(axis=1, method="average", ascending=lower).mean(axis=0)
        record: dict[str, object] = {"teacher": teacher, "student": student, "size": size}
        record.update({mode: float(ranks[mode]) for mode in table.columns})
        record["blocks"] = len(table)
        records.append(record)
    columns = [*CONFIG, *all_modes, "blocks"]
    return _sorted_configs(pd.DataFrame.from_records(records, columns=columns))


def _cell_label(dataset: str, teacher: str, student: str, size: str, mode: str) -> str:
    """'adult lightgbm/tree 8 corrected', or 'adult lightgbm/teacher' for the teacher's row."""
    if mode == TEACHER_MODE:
        return f"{dataset} {teacher}/teacher"
    return f"{dataset} {teacher}/{student} {size} {mode}"


def coverage(results: pd.DataFrame, expected_units: list[str] | None = None) -> list[str]:
    """What a partial study is missing, as lines a person reads; [] when nothing is missing.

    A cell is one (dataset, teacher, student, size, mode). For each dataset and teacher, the
    reference is every (repeat, fold) split that any of its cells has (at least the largest
    cell, and more when cells miss different splits). Each cell with fewer splits gets a line
    such as ``"adult lightgbm/tree 8 corrected: 3 of 5 folds (missing repeat/fold 0/3, 1/2)"``;
    a (student, size, mode) that the teacher has on another dataset but not on this one gets
    ``"0 of 5 folds"``, and likewise a missing teacher row (``"adult lightgbm/teacher: ..."``).
    A split counts for a cell when the cell has any row on it, whatever the metric. With
    ``expected_units`` (dataset names), each name without a single row gets
    ``"<name>: no results"``. Cell lines come first, sorted by dataset, teacher, student, size
    and mode; then the missing datasets in the order given.
    """
    frame = _normalise(results) if len(results) else results
    lines: list[str] = []
    if len(frame):
        lines += _cell_gaps(frame)
    present = set(frame["dataset"].astype(str)) if len(frame) else set()
    for name in expected_units or []:
        if str(name) not in present:
            lines.append(f"{name}: no results")
    return lines


def _cell_gaps(frame: pd.DataFrame) -> list[str]:
    """The per-cell lines of :func:`coverage`."""
    cell = ["student", "size", "mode"]
    splits = frame[["dataset", "teacher", *cell, *SPLIT]].drop_duplicates()
    lines: list[tuple[tuple, str]] = []
    for teacher, by_teacher in splits.groupby("teacher", sort=False):
        configs = set(by_teacher[cell].itertuples(index=False, name=None))
        for dataset, by_dataset in by_teacher.groupby("dataset", sort=False):
            reference = set(by_dataset[SPLIT].itertuples(index=False, name=None))
            have = {
                key: set(group[SPLIT].itertuples(index=False, name=None))
                for key, group in by_dataset.groupby(cell, sort=False)
            }
            for student, size, mode in configs:
                got = have.get((student, size, mode), set())
                if len(got) >= len(reference):
                    continue
                missing = ", ".join(f"{r}/{f}" for r, f in sorted(reference - got))
                label = _cell_label(dataset, teacher, student, size, mode)
                text = (
                    f"{label}: {len(got)} of {len(reference)} folds (missing repeat/fold {missing})"
                )
                key = (
                    dataset,
                    teacher,
                    mode == TEACHER_MODE,
                    student,
                    size_key(size),
                    mode_sort_key(mode),
                )
                lines.append((key, text))
    return [text for _, text in sorted(lines)]
