"""The sections of `kd report` that compare the modes across datasets (Friedman, mean ranks with
the Nemenyi critical difference, each mode against the baseline): each dataset counts once, by
its mean over splits, so these are the paper's claims about modes in general."""

from __future__ import annotations

import pandas as pd

from kdcli.reporting.compare import friedman_table, mean_ranks, versus_baseline
from kdcli.reporting.model import Section
from kdcli.reporting.results_frame import TEACHER_MODE
from kdcli.reporting.shared_splits import left_out_splits
from kdcli.reporting.stats import ALPHA

EACH_DATASET = "per mode: its mean over the splits that every mode of the dataset has"


def few(names: list[str], n: int = 5) -> str:
    """The first ``n`` names and how many more: a note stays one readable line."""
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def across_datasets(
    results: pd.DataFrame,
    metric: str,
    modes: list[str],
    baseline: str | None,
    labels: dict,
    notes: list[str],
) -> list[Section]:
    """Friedman, mean ranks with the Nemenyi CD, and each mode vs the baseline (Wilcoxon, Holm):
    each dataset one value per mode, its mean over splits. ``notes`` gets why a test is absent."""
    scores = results[(results["metric"] == metric) & (results["mode"] != TEACHER_MODE)]
    n = scores["dataset"].nunique()
    if n < 2 or len(modes) < 2:
        what = f"{n} dataset (N = {n})" if n < 2 else f"one mode ({', '.join(modes)})"
        notes.append(
            f"no test across datasets: the results have {what}; the Friedman, Nemenyi and "
            "Wilcoxon tests across datasets need at least 2 datasets and 2 modes (each dataset "
            "counts once, by its mean over splits)"
        )
        return []
    friedman = friedman_table(results, metric)
    if not ((friedman["N"] >= 2) & (friedman["k"] >= 2)).any():
        notes.append(
            "no test across datasets: no student size has 2 datasets with a value for every mode"
        )
    left_out = left_out_splits(results, metric)
    if left_out:
        notes.append(
            "across datasets the modes of a dataset are compared on the splits they all share, "
            "so these splits are left out (not every mode has a finite value there): "
            f"{few(left_out)}"
        )
    sections = [_friedman_section(friedman, metric), _ranks_section(results, metric)]
    if baseline is not None:
        sections += _versus_sections(results, metric, baseline, labels.get(baseline, baseline))
    return sections


def _friedman_section(friedman: pd.DataFrame, metric: str) -> Section:
    """Whether the modes differ at all, per student size."""
    return Section(
        f"Friedman test across datasets · {metric}",
        friedman,
        f"each dataset counts once ({EACH_DATASET}); Friedman test of the k "
        "modes on the N datasets with every mode: chi2 = Friedman's statistic, F = "
        "Iman–Davenport's (N−1)·chi2 / (N(k−1) − chi2) on df1 = k−1 and df2 = (k−1)(N−1) "
        "degrees of freedom; p_of says which p: F = the p of F; exact = every dataset ranks "
        "the modes alike (chi2 = N(k−1), F infinite), p = (k!)^−(N−1), the exact chance of "
        "that. A small p says the modes differ; the CD and the comparisons with the "
        "baseline say which",
        "friedman",
    )


def _ranks_section(results: pd.DataFrame, metric: str) -> Section:
    """Which modes differ: mean ranks and the Nemenyi critical difference."""
    return Section(
        f"mean rank across datasets and Nemenyi critical difference · {metric}",
        mean_ranks(results, metric),
        f"rank 1 = best mode on a dataset ({EACH_DATASET}; means the same within 1e-9, "
        "relative, share the average rank), averaged over the N "
        "datasets with every mode; CD = q_α·√(k(k+1)/(6N)), q_α the studentized range "
        f"quantile / √2, α = {ALPHA}: two modes whose mean ranks differ by CD or more differ "
        "significantly (Nemenyi); groups: modes not significantly different, joined by a line "
        "in the critical-difference diagram",
        "ranks",
    )


def _versus_sections(results: pd.DataFrame, metric: str, baseline: str, name: str) -> list[Section]:
    """Each mode against the baseline (shown as ``name``); none when nothing is compared."""
    versus = versus_baseline(results, metric, baseline)
    if not len(versus):
        return []
    loss = "1 − AUC" if metric == "auc" else metric
    note = (
        f"each dataset counts once ({EACH_DATASET}); wins / ties / losses against "
        f"{name} over the N datasets (a tie: the same within 1e-9, relative); "
        f"geo_mean_ratio = geometric mean over the datasets of {loss} (mode) / {loss} "
        f"({name}), with its % change (< 1, negative: the mode is better), "
        f"set_aside = datasets left out of it as {loss} is 0 on either side; "
        "p = two-sided Wilcoxon signed-rank test on the n datasets whose difference "
        "is not 0 (of N; ties dropped); "
        "p_holm = Holm-adjusted over the modes compared at each student size"
    )
    return [Section(f"each mode vs {name} across datasets · {metric}", versus, note, "versus")]
