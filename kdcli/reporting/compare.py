"""Comparisons over a long-format results frame: per-dataset tables, tests, mean ranks, gaps.

Every function takes the frame `kd` writes (columns ``RESULT_COLUMNS`` of
:mod:`kdcli.experiment`: dataset, repeat, fold, seed, teacher, student, size, mode, metric,
value) and returns plain data (DataFrames or strings); nothing here prints.

Conventions shared by all functions:

* A *split* is one (repeat, fold) pair of a dataset; means and standard errors are taken over
  splits. Should several seeds share a split, their values are averaged first. Splits share
  training rows, so sd/sqrt(n) over them is a *naive* SE (columns ``*_naive_se``), too small.
* Tests across datasets (:func:`friedman_table`, :func:`mean_ranks`, :func:`versus_baseline`)
  take one value per dataset (:func:`dataset_means`); a test over one dataset's splits is
  :func:`within_dataset` (Nadeau–Bengio corrected). The formulas are in
  :mod:`kdcli.reporting.stats`.
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

from kdcli.records import size_key
from kdcli.reporting.stats import (
    ALPHA,
    cd_groups,
    corrected_resampled_t,
    friedman,
    holm,
    nemenyi_cd,
    rank_rows,
    wilcoxon_p,
)
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import mode_sort_key, ordered_modes

TEACHER_MODE = "teacher"
TIE_TOLERANCE = 1e-12  # two values closer than this are equal
SPLIT = ["repeat", "fold"]
CONFIG = ["teacher", "student", "size"]


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


def _sorted_configs(frame: pd.DataFrame, by_mode: bool = False) -> pd.DataFrame:
    """Rows sorted by teacher, student, size (numeric, "full" last) and, ``by_mode``, mode in
    kd's order; with a fresh index."""
    order = sorted(
        range(len(frame)),
        key=lambda i: (
            frame["teacher"].iat[i],
            frame["student"].iat[i],
            size_key(frame["size"].iat[i]),
            mode_sort_key(frame["mode"].iat[i]) if by_mode else 0,
        ),
    )
    return frame.iloc[order].reset_index(drop=True)


def _split_stats(values: pd.DataFrame) -> tuple[float, float, int]:
    """Mean, naive standard error (sd ddof=1 / sqrt(n), NaN for one split) and number of splits
    of a cell's rows."""
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
    mode present (raw, vanilla, crossfit, corrected): ``{mode}_mean``, ``{mode}_naive_se``
    (standard deviation over the (repeat, fold) splits with ddof=1, divided by sqrt(n); NaN when
    n == 1; naive because the splits overlap) and ``{mode}_n`` (the number of splits behind the
    cell, 0 when the mode has no value at that size). Then ``teacher_mean``,
    ``teacher_naive_se``, ``teacher_n`` — the teacher's own score,
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


def best_modes(means: dict[str, float], lower: bool) -> list[str]:
    """The mode(s) with the best mean, ties within 1e-12 all named; none when every mean is NaN.
    The one rule behind every ★ kd shows."""
    finite = {mode: m for mode, m in means.items() if not math.isnan(m)}
    if not finite:
        return []
    target = min(finite.values()) if lower else max(finite.values())
    return [mode for mode, m in finite.items() if abs(m - target) <= TIE_TOLERANCE]


def _split_values(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value per (dataset, teacher, student, size, mode, repeat, fold): seeds within a split
    averaged, NaNs and the teacher's own rows left out."""
    frame = _normalise(results)
    frame = frame[(frame["metric"] == metric) & (frame["mode"] != TEACHER_MODE)]
    frame = frame.dropna(subset=["value"])
    keys = ["dataset", *CONFIG, "mode", *SPLIT]
    return frame.groupby(keys, sort=False)["value"].mean().reset_index()


def dataset_means(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value per dataset, the unit of replication across datasets: each (dataset, teacher,
    student, size, mode)'s mean over its splits, with ``splits`` the number behind it.

    Splits of one dataset share training rows, so they are not independent replicates; tests
    across datasets take these means, never the splits (Demšar 2006). The teacher's own rows are
    left out. Columns: dataset, teacher, student, size, mode, value, splits.
    """
    _lower_is_better(metric)
    per_split = _split_values(results, metric)
    grouped = per_split.groupby(["dataset", *CONFIG, "mode"], sort=False)["value"]
    return grouped.agg(value="mean", splits="count").reset_index()


def _by_config(results: pd.DataFrame, metric: str):
    """Per (teacher, student, size): a datasets x modes table of per-dataset means (NaN where a
    dataset lacks the mode), modes in their fixed order, datasets sorted."""
    means = dataset_means(results, metric)
    for config, group in means.groupby(CONFIG, sort=False):
        wide = group.pivot_table(index="dataset", columns="mode", values="value", aggfunc="mean")
        yield config, wide[ordered_modes(wide.columns)].sort_index()


def paired_comparison(results: pd.DataFrame, metric: str, mode: str, baseline: str) -> pd.DataFrame:
    """``mode`` against ``baseline`` across datasets, one row per (teacher, student, size).

    A pair is the two per-dataset means (:func:`dataset_means`) of one dataset; datasets where
    either side is missing are left out. Columns: teacher, student, size, ``N`` (the datasets
    paired), ``wins`` / ``ties`` / ``losses`` (datasets where ``mode`` is better / equal within
    1e-12 / worse, in the metric's direction), ``mean_relative_reduction`` (mean over datasets of
    (baseline − mode) / baseline for lower-is-better metrics, (mode − baseline) / (1 − baseline)
    for AUC — the relative reduction of the loss or of 1 − AUC, positive when ``mode`` is better;
    zero denominators skipped; NaN when none is left) and ``p`` (two-sided Wilcoxon signed-rank
    test on the N differences, :func:`kdcli.reporting.stats.wilcoxon_p`; NaN with fewer than 2
    non-zero differences). Rows are sorted by teacher, student and size.
    """
    lower = _lower_is_better(metric)
    records = []
    for (teacher, student, size), wide in _by_config(results, metric):
        if mode not in wide.columns or baseline not in wide.columns:
            continue
        pair = wide[[mode, baseline]].dropna()
        if pair.empty:
            continue
        m = pair[mode].to_numpy(dtype=float)
        b = pair[baseline].to_numpy(dtype=float)
        diff = m - b
        diff[np.abs(diff) <= TIE_TOLERANCE] = 0.0
        better = diff < 0 if lower else diff > 0
        worse = diff > 0 if lower else diff < 0
        records.append(
            {
                "teacher": teacher,
                "student": student,
                "size": size,
                "N": len(pair),
                "wins": int(better.sum()),
                "ties": int((diff == 0).sum()),
                "losses": int(worse.sum()),
                "mean_relative_reduction": _relative_reduction(m, b, lower),
                "p": wilcoxon_p(diff),
            }
        )
    columns = [*CONFIG, "N", "wins", "ties", "losses", "mean_relative_reduction", "p"]
    return _sorted_configs(pd.DataFrame.from_records(records, columns=columns))


def versus_baseline(results: pd.DataFrame, metric: str, baseline: str = "raw") -> pd.DataFrame:
    """Every other mode against ``baseline`` across datasets (:func:`paired_comparison`), with
    Holm's adjustment over the modes compared for each (teacher, student, size): one family per
    configuration, so testing more modes does not inflate the chance of a false win.

    Columns: teacher, student, size, mode, N, wins, ties, losses, mean_relative_reduction, p
    (raw) and p_holm. Rows by configuration, then mode order.
    """
    modes = ordered_modes(dataset_means(results, metric)["mode"].unique())
    parts = []
    for mode in modes:
        if mode == baseline:
            continue
        table = paired_comparison(results, metric, mode, baseline)
        parts.append(table.assign(mode=mode))
    columns = [*CONFIG, "mode", "N", "wins", "ties", "losses", "mean_relative_reduction", "p"]
    if not parts or all(p.empty for p in parts):
        return pd.DataFrame(columns=[*columns, "p_holm"])
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True)[columns]
    table["p_holm"] = math.nan
    for _config, group in table.groupby(CONFIG, sort=False):
        table.loc[group.index, "p_holm"] = holm(group["p"].to_numpy(dtype=float))
    return _sorted_configs(table, by_mode=True)


def _relative_reduction(m: np.ndarray, b: np.ndarray, lower: bool) -> float:
    """Mean of (b − m)/b (losses) or (m − b)/(1 − b) (AUC), skipping zero denominators."""
    gain, denominator = (b - m, b) if lower else (m - b, 1.0 - b)
    keep = denominator != 0
    if not keep.any():
        return math.nan
    return float(np.mean(gain[keep] / denominator[keep]))


def mean_ranks(results: pd.DataFrame, metric: str, alpha: float = ALPHA) -> pd.DataFrame:
    """Each mode's mean rank across datasets per (teacher, student, size), with the Nemenyi
    critical difference; rank 1 is the best mode.

    On each dataset the per-dataset means (:func:`dataset_means`) of the modes are ranked in the
    metric's direction, ties sharing the average rank (1.5, 1.5 for a tie for first). Only
    datasets with a value for every mode seen for that configuration are ranked. Columns:
    teacher, student, size, one column per mode (raw, vanilla, crossfit, corrected order),
    ``N`` (datasets ranked), ``CD`` (:func:`kdcli.reporting.stats.nemenyi_cd` at ``alpha``; NaN
    with N < 2 or one mode) and ``groups``: the runs of modes whose mean ranks differ by less
    than CD (not significantly different), best first, modes joined by ", ", runs by " | ".
    A configuration with no complete dataset is left out; the teacher's own rows are ignored.
    """
    lower = _lower_is_better(metric)
    records = []
    all_modes: list[str] = []
    for (teacher, student, size), wide in _by_config(results, metric):
        table = wide.dropna()  # datasets with every mode: ranks out of k
        if table.empty:
            continue
        ranks = rank_rows(table.to_numpy(dtype=float), lower).mean(axis=0)
        modes = list(table.columns)
        all_modes += [m for m in modes if m not in all_modes]
        record: dict[str, object] = {"teacher": teacher, "student": student, "size": size}
        record.update({mode: float(r) for mode, r in zip(modes, ranks, strict=True)})
        n, k = len(table), len(modes)
        cd = nemenyi_cd(k, n, alpha)[0] if n >= 2 and k >= 2 else math.nan
        groups = cd_groups(ranks, cd) if not math.isnan(cd) else []
        record.update(
            {
                "N": n,
                "CD": cd,
                "groups": " | ".join(", ".join(modes[i] for i in g) for g in groups),
            }
        )
        records.append(record)
    columns = [*CONFIG, *ordered_modes(all_modes), "N", "CD", "groups"]
    return _sorted_configs(pd.DataFrame.from_records(records, columns=columns))


def friedman_table(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The Friedman test over the modes across datasets, per (teacher, student, size).

    Columns: teacher, student, size, ``N`` (datasets with every mode), ``k`` (modes), ``chi2``
    (Friedman's statistic), ``F`` (Iman–Davenport), ``df1`` = k − 1, ``df2`` = (k − 1)(N − 1)
    and ``p`` (of F); see :func:`kdcli.reporting.stats.friedman`. A configuration with fewer
    than 2 such datasets or 2 modes has NaN statistics (no test is possible); one with no
    complete dataset is left out.
    """
    lower = _lower_is_better(metric)
    records = []
    for (teacher, student, size), wide in _by_config(results, metric):
        table = wide.dropna()  # datasets with every mode: ranks out of k
        if table.empty:
            continue
        n, k = table.shape
        record: dict[str, object] = {"teacher": teacher, "student": student, "size": size}
        record.update({"N": n, "k": k})
        if n >= 2 and k >= 2:
            test = friedman(table.to_numpy(dtype=float), lower)
            record.update(
                {"chi2": test.chi2, "F": test.F, "df1": test.df1, "df2": test.df2, "p": test.p}
            )
        else:
            record.update(dict.fromkeys(("chi2", "F", "df1", "df2", "p"), math.nan))
        records.append(record)
    columns = [*CONFIG, "N", "k", "chi2", "F", "df1", "df2", "p"]
    return _sorted_configs(pd.DataFrame.from_records(records, columns=columns))


def within_dataset(
    results: pd.DataFrame,
    dataset: str,
    teacher: str,
    student: str,
    metric: str,
    baseline: str,
    test_train_ratio: float,
) -> pd.DataFrame:
    """Each mode against ``baseline`` over one dataset's splits: the Nadeau–Bengio corrected
    resampled t-test (:func:`kdcli.reporting.stats.corrected_resampled_t`), one row per size and
    mode. It speaks for this dataset only; across datasets see :func:`versus_baseline`.

    A difference is mode − baseline on one (repeat, fold) split (seeds averaged), within 1e-12
    counted as 0; splits missing either side are left out. ``test_train_ratio`` is n_test /
    n_train of the splits (NaN when unknown: the corrected columns are then NaN). Columns: size,
    mode, ``J`` (splits), ``mean_difference``, ``naive_se`` (sd/√J), ``corrected_se``, ``t``,
    ``df`` (J − 1), ``p`` (two-sided). Sizes in numeric order ("full" last), modes in order.
    """
    _lower_is_better(metric)
    values = _split_values(results, metric)
    values = values[
        (values["dataset"] == str(dataset))
        & (values["teacher"] == str(teacher))
        & (values["student"] == str(student))
    ]
    columns = ["size", "mode", "J", "mean_difference", "naive_se", "corrected_se", "t", "df", "p"]
    if baseline not in set(values["mode"]):
        return pd.DataFrame(columns=columns)
    wide = values.pivot_table(index=["size", *SPLIT], columns="mode", values="value")
    records = []
    for size in sorted(values["size"].unique(), key=size_key):
        at_size = wide.loc[size]
        for mode in ordered_modes(at_size.columns):
            if mode == baseline:
                continue
            pair = at_size[[mode, baseline]].dropna()
            if pair.empty:
                continue
            diff = np.array(pair[mode] - pair[baseline], dtype=float)
            diff[np.abs(diff) <= TIE_TOLERANCE] = 0.0
            test = corrected_resampled_t(diff, test_train_ratio)
            records.append(
                {
                    "size": size,
                    "mode": mode,
                    "J": test.J,
                    "mean_difference": test.mean,
                    "naive_se": test.naive_se,
                    "corrected_se": test.corrected_se,
                    "t": test.t,
                    "df": test.df,
                    "p": test.p,
                }
            )
    return pd.DataFrame.from_records(records, columns=columns)


def _cell_label(dataset: str, teacher: str, student: str, size: str, mode: str) -> str:
    """'adult lightgbm/tree 8 corrected', or 'adult lightgbm/teacher' for the teacher's row."""
    if mode == TEACHER_MODE:
        return f"{dataset} {teacher}/teacher"
    return f"{dataset} {teacher}/{student} {size} {mode}"


def coverage(
    results: pd.DataFrame,
    expected_units: list[str] | None = None,
    planned: dict[tuple[str, str], set[tuple[int, int]]] | None = None,
) -> list[str]:
    """What a partial study is missing, as lines a person reads; [] when nothing is missing.

    A cell is one (dataset, teacher, student, size, mode). For each dataset and teacher, the
    reference is the (repeat, fold) splits the study planned (``planned``, from its run.json),
    else every split that any of its cells has. When every cell of a dataset and teacher misses
    the same splits (units that did not run), one line says so, e.g. ``"wine lightgbm: 1 of 3
    splits (missing repeat/fold 1/0, 2/0); every cell of it is a mean over 1"``; otherwise each
    cell with fewer splits gets a line such as ``"adult lightgbm/tree 8 corrected: 3 of 5 folds
    (missing repeat/fold 0/3, 1/2)"``. A (student, size, mode) that the teacher has on another
    dataset but not on this one gets ``"0 of 5 folds"``, and likewise a missing teacher row
    (``"adult lightgbm/teacher: ..."``). A split counts for a cell when the cell has any row on
    it, whatever the metric. With ``expected_units`` (dataset names), each name without a single
    row gets ``"<name>: no results"``. Cell lines come first, sorted by dataset, teacher,
    student, size and mode; then the missing datasets in the order given.
    """
    frame = _normalise(results) if len(results) else results
    lines: list[str] = []
    if len(frame):
        lines += _cell_gaps(frame, planned or {})
    present = set(frame["dataset"].astype(str)) if len(frame) else set()
    for name in expected_units or []:
        if str(name) not in present:
            lines.append(f"{name}: no results")
    return lines


def _splits_text(splits) -> str:
    return ", ".join(f"{r}/{f}" for r, f in sorted(splits))


def _cell_gaps(frame: pd.DataFrame, planned: dict) -> list[str]:
    """The per-cell (or, when all cells miss the same splits, per dataset and teacher) lines of
    :func:`coverage`."""
    cell = ["student", "size", "mode"]
    splits = frame[["dataset", "teacher", *cell, *SPLIT]].drop_duplicates()
    lines: list[tuple[tuple, str]] = []
    for teacher, by_teacher in splits.groupby("teacher", sort=False):
        configs = set(by_teacher[cell].itertuples(index=False, name=None))
        for dataset, by_dataset in by_teacher.groupby("dataset", sort=False):
            present = set(by_dataset[SPLIT].itertuples(index=False, name=None))
            reference = present | planned.get((str(dataset), str(teacher)), set())
            have = {
                key: set(group[SPLIT].itertuples(index=False, name=None))
                for key, group in by_dataset.groupby(cell, sort=False)
            }
            if present < reference and all(have.get(c) == present for c in configs):
                lines.append(
                    (
                        (dataset, teacher, False, "", (0,), (0,)),
                        f"{dataset} {teacher}: {len(present)} of {len(reference)} splits "
                        f"(missing repeat/fold {_splits_text(reference - present)}); every cell "
                        f"of it is a mean over {len(present)}",
                    )
                )
                continue
            for student, size, mode in configs:
                got = have.get((student, size, mode), set())
                if len(got) >= len(reference):
                    continue
                label = _cell_label(dataset, teacher, student, size, mode)
                text = (
                    f"{label}: {len(got)} of {len(reference)} folds (missing repeat/fold "
                    f"{_splits_text(reference - got)})"
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
