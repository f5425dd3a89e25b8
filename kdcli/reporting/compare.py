"""The frequentist tests of the modes: across datasets (each mode against a baseline with
Wilcoxon and Holm, mean ranks with the Nemenyi critical difference, Friedman) and within one
dataset (Nadeau–Bengio corrected). Nothing here prints; every function returns a DataFrame.

Tests across datasets take one value per dataset
(:func:`~kdcli.reporting.shared_splits.dataset_means`), each mode's mean over the splits that
all the modes of that dataset, teacher, student and size share
(:func:`~kdcli.reporting.shared_splits.left_out_splits` names the others); a test over one
dataset's splits is :func:`within_dataset`. The formulas are in :mod:`kdcli.reporting.stats`,
the conventions in :mod:`kdcli.reporting.results_frame`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kdcli.errors import KDError
from kdcli.records import size_key
from kdcli.reporting.results_frame import (
    CONFIG,
    SPLIT,
    _lower_is_better,
    _sorted_configs,
    named_rows,
)
from kdcli.reporting.shared_splits import _by_config, _split_values
from kdcli.reporting.stats import (
    ALPHA,
    cd_groups,
    corrected_resampled_t,
    friedman,
    holm,
    nemenyi_cd,
    rank_rows,
    same_values,
    wilcoxon_p,
)
from kdcli.science.targets import ordered_modes

VERSUS = ["N", "n", "wins", "ties", "losses", "geo_mean_ratio", "set_aside", "p"]


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
    return _paired(_by_config(results, metric), _lower_is_better(metric), mode, baseline)


def _paired(tables: list, lower: bool, mode: str, baseline: str) -> pd.DataFrame:
    """:func:`paired_comparison` on the per-configuration tables of :func:`_by_config`, so
    several modes are compared on one computation of the per-dataset means."""
    records = []
    for (teacher, student, size), wide in tables:
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
    lower = _lower_is_better(metric)
    tables = _by_config(results, metric)
    modes = ordered_modes({m for _config, wide in tables for m in wide.columns})
    parts = []
    for mode in modes:
        if mode == baseline:
            continue
        parts.append(_paired(tables, lower, mode, baseline).assign(mode=mode))
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
    mine = named_rows(results, dataset=dataset, teacher=teacher, student=student, metric=metric)
    return within_tests(_split_values(mine, metric), baseline, test_train_ratio)


def within_tests(values: pd.DataFrame, baseline: str, test_train_ratio: float) -> pd.DataFrame:
    """:func:`within_dataset`'s table from one (dataset, teacher, student)'s per-split values
    (:func:`~kdcli.reporting.shared_splits._split_values`)."""
    columns = ["size", "mode", "J", "mean_difference", "naive_se", "corrected_se", "t", "df", "p"]
    columns.append("note")
    if baseline not in set(values["mode"]):
        return pd.DataFrame(columns=columns)
    wide = values.pivot_table(index=["size", *SPLIT], columns="mode", values="value")
    records = []
    for size in sorted(values["size"].unique(), key=size_key):
        at_size = wide.loc[size]
        column = {mode: at_size[mode].to_numpy(dtype=float) for mode in at_size.columns}
        for mode in ordered_modes(at_size.columns):
            if mode == baseline:
                continue
            m, b = column[mode], column[baseline]
            both = ~(np.isnan(m) | np.isnan(b))  # the splits both have a value on
            if not both.any():
                continue
            m, b = m[both], b[both]
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


def choose_baseline(modes: list[str], baseline: str | None) -> tuple[str | None, str]:
    """The baseline of the comparisons and, when there is none, the reason."""
    if baseline is None:
        if "raw" in modes:
            return "raw", ""
        return None, (
            "no comparison with a baseline: these results have no 'raw' mode; choose one with "
            f"--baseline ({', '.join(modes)})"
        )
    if baseline not in modes:
        raise KDError(
            f"--baseline '{baseline}' is not a mode of these results; use one of "
            f"{', '.join(modes) or '(none)'}"
        )
    return baseline, ""


class WithinTests:
    """Every (dataset, teacher, student)'s :func:`within_dataset` tests of one results frame,
    from one pass over it, each computed once: a report asks for them per dataset section and
    again for each dataset's verdict."""

    def __init__(self, results: pd.DataFrame, metric: str) -> None:
        _lower_is_better(metric)
        values = _split_values(results, metric)
        keys = ["dataset", "teacher", "student"]
        self._values = {k: v for k, v in values.groupby(keys, sort=False)}
        self._empty = values.iloc[:0]
        self._done: dict[tuple, pd.DataFrame] = {}

    def __call__(
        self, dataset: str, teacher: str, student: str, baseline: str, test_train_ratio: float
    ) -> pd.DataFrame:
        ratio = None if math.isnan(test_train_ratio) else test_train_ratio  # NaN != NaN
        key = (str(dataset), str(teacher), str(student), baseline, ratio)
        if key not in self._done:
            values = self._values.get(key[:3], self._empty)
            self._done[key] = within_tests(values, baseline, test_train_ratio)
        return self._done[key]
