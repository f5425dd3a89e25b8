"""Comparisons over a long-format results frame: per-dataset tables, tests, mean ranks, gaps.

Every function takes the frame `kd` writes (columns ``RESULT_COLUMNS`` of
:mod:`kdcli.experiment`: dataset, repeat, fold, seed, teacher, student, size, mode, metric,
value) and returns plain data (DataFrames or strings); nothing here prints.

Conventions shared by all functions:

* A *split* is one (repeat, fold) pair of a dataset; means and standard errors are taken over
  splits. Should several seeds share a split, their values are averaged first. Splits share
  training rows, so sd/sqrt(n) over them is a *naive* SE (columns ``*_naive_se``), too small.
* Tests across datasets (:func:`friedman_table`, :func:`mean_ranks`, :func:`versus_baseline`)
  take one value per dataset (:func:`dataset_means`), each mode's mean over the splits that all
  the modes of that dataset, teacher, student and size share (:func:`left_out_splits` names the
  others); a test over one dataset's splits is :func:`within_dataset` (Nadeau–Bengio
  corrected). The formulas are in :mod:`kdcli.reporting.stats`.
* Two values are equal when :func:`kdcli.reporting.stats.same` says so: one rule for the ★,
  ranks, wins / ties / losses and the zero differences of the tests.
* ``size`` is compared as text ("8", "64", "full"); sizes read back from a CSV as numbers (8 or
  8.0) and the teacher's empty size (NaN) are normalised to that text first. Sizes sort
  numerically with "full" last.
* The teacher's own scores are the rows with mode "teacher" (student "teacher", size "").
  They are never one of the compared modes.
* The direction of a metric comes from :data:`kdcli.metrics.LOWER_IS_BETTER`; a metric without a
  direction (such as ``c``, the chosen correction constant) raises ``ValueError``.
* A NaN or infinite value (e.g. an AUC on a split where a class is absent) makes its cell's
  mean in :func:`per_dataset_table` NaN or infinite, as in every kd table; the comparisons leave
  its split out, for every mode of that dataset.
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
    same,
    same_values,
    wilcoxon_p,
)
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import mode_sort_key, ordered_modes

TEACHER_MODE = "teacher"
SPLIT = ["repeat", "fold"]
CONFIG = ["teacher", "student", "size"]
VERSUS = ["N", "n", "wins", "ties", "losses", "geo_mean_ratio", "set_aside", "p"]


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
    of a cell's rows; a NaN split makes the mean and SE NaN (pandas would skip it)."""
    value = pd.to_numeric(values["value"], errors="coerce").astype(float)
    grouped = values.assign(value=value).groupby(SPLIT)["value"]
    per_split = grouped.agg(mean="mean", count="count", rows="size")
    n = len(per_split)
    if n == 0:
        return math.nan, math.nan, 0
    if (per_split["count"] < per_split["rows"]).any():
        return math.nan, math.nan, n
    per_split = per_split["mean"]
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
    the best mean in the metric's direction, ties (:func:`~kdcli.reporting.stats.same`) all
    named, joined by "=" in mode order; "" when no mode has a value. The teacher never counts as
    ``best``. A NaN on one split makes its cell's mean and SE NaN, as in every kd table.
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
    """The mode(s) with the best mean, ties (:func:`~kdcli.reporting.stats.same`) all named; none
    when every mean is NaN. The one rule behind every ★ kd shows."""
    finite = {mode: m for mode, m in means.items() if not math.isnan(m)}
    if not finite:
        return []
    target = min(finite.values()) if lower else max(finite.values())
    return [mode for mode, m in finite.items() if same(m, target)]


def _split_frame(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value per (dataset, teacher, student, size, mode, repeat, fold), seeds within a split
    averaged; NaN where any of them is NaN or infinite. The teacher's own rows are left out."""
    frame = _normalise(results)
    frame = frame[(frame["metric"] == metric) & (frame["mode"] != TEACHER_MODE)]
    value = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame = frame.assign(value=value.where(np.isfinite(value)))
    keys = ["dataset", *CONFIG, "mode", *SPLIT]
    grouped = frame.groupby(keys, sort=False)["value"]
    out = grouped.agg(mean="mean", count="count", rows="size").reset_index()
    out["value"] = out["mean"].where(out["count"] == out["rows"])
    return out[[*keys, "value"]]


def _split_values(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """:func:`_split_frame` without the splits that have no finite value."""
    return _split_frame(results, metric).dropna(subset=["value"]).reset_index(drop=True)


def _shared_splits(results: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, list[dict]]:
    """The per-split values on the splits that every mode of their (dataset, teacher, student,
    size) has a finite value on, and, for each such group that loses splits, a record: its keys,
    ``total`` (splits any mode has) and ``left_out`` (the (repeat, fold) pairs dropped)."""
    per_split = _split_frame(results, metric)
    group = ["dataset", *CONFIG]
    modes = per_split.groupby(group, sort=False)["mode"].transform("nunique")
    finite = per_split["value"].notna()
    on_split = finite.groupby([per_split[c] for c in [*group, *SPLIT]], sort=False)
    shared = on_split.transform("sum") == modes  # one row per mode and split: every mode's
    splits = per_split.assign(shared=shared).groupby([*group, *SPLIT], sort=False)["shared"]
    splits = splits.first().reset_index()
    gaps = []
    for key, found in splits.groupby(group, sort=False):
        if not found["shared"].all():
            lost = found.loc[~found["shared"], SPLIT].itertuples(index=False, name=None)
            gaps.append(dict(zip(group, key, strict=True)))
            gaps[-1].update(total=len(found), left_out=sorted((int(r), int(f)) for r, f in lost))
    return per_split[shared & finite].reset_index(drop=True), gaps


def dataset_means(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value per dataset, the unit of replication across datasets: each (dataset, teacher,
    student, size, mode)'s mean over the splits that every mode of that dataset, teacher,
    student and size has a finite value on, with ``splits`` the number behind it (the same for
    all those modes).

    Pairing the modes on the same splits keeps one mode's luck on a split the others lack (a
    partial study, a NaN) out of the comparison. Splits of one dataset share training rows, so
    they are not independent replicates; tests across datasets take these means, never the
    splits (Demšar 2006). The teacher's own rows are left out. Columns: dataset, teacher,
    student, size, mode, value, splits.
    """
    _lower_is_better(metric)
    per_split, _ = _shared_splits(results, metric)
    grouped = per_split.groupby(["dataset", *CONFIG, "mode"], sort=False)["value"]
    return grouped.agg(value="mean", splits="count").reset_index()


def left_out_splits(results: pd.DataFrame, metric: str) -> list[str]:
    """The splits the comparisons across datasets leave out (:func:`dataset_means`), as lines:
    ``"wine lightgbm/tree 8: 1 of 3 splits (repeat/fold 1/0)"``, or ``"wine lightgbm/tree
    (every size): ..."`` when every size of a student loses the same splits; [] when none."""
    _lower_is_better(metric)
    _, gaps = _shared_splits(results, metric)
    sizes = _split_frame(results, metric).groupby(["dataset", "teacher", "student"])["size"]
    all_sizes = sizes.unique().to_dict()
    by_student: dict[tuple, list[dict]] = {}
    for gap in gaps:
        by_student.setdefault((gap["dataset"], gap["teacher"], gap["student"]), []).append(gap)
    lines = []
    for (dataset, teacher, student), found in sorted(by_student.items()):
        found.sort(key=lambda g: size_key(g["size"]))
        what = {(g["total"], tuple(g["left_out"])) for g in found}
        every = len(found) > 1 and len(found) == len(all_sizes[(dataset, teacher, student)])
        if every and len(what) == 1:
            found = [dict(found[0], size="(every size)")]
        for gap in found:
            lines.append(
                f"{dataset} {teacher}/{student} {gap['size']}: {len(gap['left_out'])} of "
                f"{gap['total']} splits (repeat/fold {_splits_text(gap['left_out'])})"
            )
    return lines


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
    paired), ``n`` (those whose difference is not 0: the ones the Wilcoxon test ranks),
    ``wins`` / ``ties`` / ``losses`` (datasets where ``mode`` is better / the same
    (:func:`~kdcli.reporting.stats.same`) / worse, in the metric's direction),
    ``geo_mean_ratio`` and ``set_aside`` (:func:`geo_mean_ratio`) and ``p`` (two-sided Wilcoxon
    signed-rank test on the N differences, :func:`kdcli.reporting.stats.wilcoxon_p`; NaN with
    fewer than 2 non-zero differences). Rows are sorted by teacher, student and size.
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
        diff = np.where(same_values(m, b), 0.0, m - b)
        better = diff < 0 if lower else diff > 0
        worse = diff > 0 if lower else diff < 0
        ratio, set_aside = geo_mean_ratio(m, b, lower)
        records.append(
            {
                "teacher": teacher,
                "student": student,
                "size": size,
                "N": len(pair),
                "n": int(np.count_nonzero(diff)),
                "wins": int(better.sum()),
                "ties": int((diff == 0).sum()),
                "losses": int(worse.sum()),
                "geo_mean_ratio": ratio,
                "set_aside": set_aside,
                "p": wilcoxon_p(diff),
            }
        )
    return _sorted_configs(pd.DataFrame.from_records(records, columns=[*CONFIG, *VERSUS]))


def versus_baseline(results: pd.DataFrame, metric: str, baseline: str = "raw") -> pd.DataFrame:
    """Every other mode against ``baseline`` across datasets (:func:`paired_comparison`), with
    Holm's adjustment over the modes compared for each (teacher, student, size): one family per
    configuration, so testing more modes does not inflate the chance of a false win.

    Columns: teacher, student, size, mode, N, n, wins, ties, losses, geo_mean_ratio, set_aside,
    p (raw) and p_holm. Rows by configuration, then mode order.
    """
    modes = ordered_modes(dataset_means(results, metric)["mode"].unique())
    parts = []
    for mode in modes:
        if mode == baseline:
            continue
        table = paired_comparison(results, metric, mode, baseline)
        parts.append(table.assign(mode=mode))
    columns = [*CONFIG, "mode", *VERSUS]
    if not parts or all(p.empty for p in parts):
        return pd.DataFrame(columns=[*columns, "p_holm"])
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True)[columns]
    table["p_holm"] = math.nan
    for _config, group in table.groupby(CONFIG, sort=False):
        table.loc[group.index, "p_holm"] = holm(group["p"].to_numpy(dtype=float))
    return _sorted_configs(table, by_mode=True)


def geo_mean_ratio(m: np.ndarray, b: np.ndarray, lower: bool) -> tuple[float, int]:
    """The geometric mean over datasets of the loss ratios mode / baseline (the loss is the
    metric, or 1 − AUC for AUC), and how many datasets it sets aside.

    < 1 when ``mode`` is better: 0.97 is a typical 3% less error. Unlike a mean of relative
    reductions, a dataset where the baseline's error is near 0 cannot swamp it: a ratio and its
    inverse weigh the same. Datasets where either loss is 0 (or below, or not finite) have no
    ratio and are set aside; NaN when none is left."""
    loss_m, loss_b = (m, b) if lower else (1.0 - m, 1.0 - b)
    keep = np.isfinite(loss_m) & np.isfinite(loss_b) & (loss_m > 0) & (loss_b > 0)
    keep &= ~(same_values(loss_m, 0.0) | same_values(loss_b, 0.0))
    set_aside = int((~keep).sum())
    if not keep.any():
        return math.nan, set_aside
    return float(np.exp(np.mean(np.log(loss_m[keep] / loss_b[keep])))), set_aside


def mean_ranks(results: pd.DataFrame, metric: str, alpha: float = ALPHA) -> pd.DataFrame:
    """Each mode's mean rank across datasets per (teacher, student, size), with the Nemenyi
    critical difference; rank 1 is the best mode.

    On each dataset the per-dataset means (:func:`dataset_means`) of the modes are ranked in the
    metric's direction, ties (:func:`~kdcli.reporting.stats.same`) sharing the average rank
    (1.5, 1.5 for a tie for first). Only datasets with a value for every mode seen for that
    configuration are ranked. Columns:
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
    (Friedman's statistic), ``F`` (Iman–Davenport), ``df1`` = k − 1, ``df2`` = (k − 1)(N − 1),
    ``p`` and ``p_of``: "F" (the p of F) or "exact" (every dataset ranks the modes alike: F is
    infinite and p the exact (k!)^-(N-1)); see :func:`kdcli.reporting.stats.friedman`. A
    configuration with fewer than 2 such datasets or 2 modes has NaN statistics (no test is
    possible); one with no complete dataset is left out.
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
            record["p_of"] = "exact" if test.exact else "F"
        else:
            record.update(dict.fromkeys(("chi2", "F", "df1", "df2", "p"), math.nan))
            record["p_of"] = ""
        records.append(record)
    columns = [*CONFIG, "N", "k", "chi2", "F", "df1", "df2", "p", "p_of"]
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

    A difference is mode − baseline on one (repeat, fold) split (seeds averaged), 0 where the
    two are the same (:func:`~kdcli.reporting.stats.same`); splits where either side has no
    finite value are left out. ``test_train_ratio`` is n_test / n_train of the splits (NaN when
    unknown: the corrected columns are then NaN). Columns: size, mode, ``J`` (splits),
    ``mean_difference``, ``naive_se`` (sd/√J), ``corrected_se``, ``t``, ``df`` (J − 1), ``p``
    (two-sided) and ``note``: why there is no p ("" when there is one: fewer than 3 splits, a
    difference the same on every split, or an unknown ratio). Sizes in numeric order ("full"
    last), modes in order.
    """
    _lower_is_better(metric)
    values = _split_values(results, metric)
    values = values[
        (values["dataset"] == str(dataset))
        & (values["teacher"] == str(teacher))
        & (values["student"] == str(student))
    ]
    columns = ["size", "mode", "J", "mean_difference", "naive_se", "corrected_se", "t", "df", "p"]
    columns.append("note")
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
            m, b = pair[mode].to_numpy(dtype=float), pair[baseline].to_numpy(dtype=float)
            diff = np.where(same_values(m, b), 0.0, m - b)
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
                    "note": test.why,
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
