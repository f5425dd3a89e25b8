"""The verdict that opens every report: a few lines built from the tests, never written by hand.

Across datasets (two or more), per teacher and student: which target beats the baseline at which
size by the Holm-adjusted Wilcoxon test, or that none does; then which target has the best mean
rank at which sizes, and where Friedman's test says the targets differ at all. Each dataset counts
once (its mean over splits), as in the tests it reads. With one dataset, the verdict is that of
`kd fit` (:func:`~.verdict.fit_verdict`: the corrected t-test over its splits).
"""

from __future__ import annotations

import math

import pandas as pd

from kdcli.records import size_key
from kdcli.reporting.compare import WithinTests, friedman_table, mean_ranks, versus_baseline
from kdcli.reporting.per_dataset import best_modes
from kdcli.reporting.results_frame import CONFIG, TEACHER_MODE
from kdcli.reporting.split_sizes import SplitRatio
from kdcli.reporting.stats import ALPHA
from kdcli.reporting.verdict import fit_verdict


def report_verdict(
    results: pd.DataFrame,
    metric: str,
    baseline: str | None,
    labels: dict,
    ratios: dict[str, SplitRatio],
    tests: WithinTests | None = None,
) -> list[str]:
    """The verdict of a whole report: across datasets when there are two or more, else the one
    dataset's own (:func:`dataset_verdict`, with the report's ``tests`` when given)."""
    scores = results[(results["metric"] == metric) & (results["mode"] != TEACHER_MODE)]
    datasets = sorted(scores["dataset"].astype(str).unique())
    if len(datasets) == 1:
        return dataset_verdict(results, metric, datasets[0], ratios, tests=tests)
    return study_verdict(results, metric, baseline, labels)


def dataset_verdict(
    results: pd.DataFrame,
    metric: str,
    dataset: str,
    ratios: dict[str, SplitRatio],
    named: bool = True,
    tests: WithinTests | None = None,
) -> list[str]:
    """One dataset's lines: at each size the best target against raw and vanilla, tested over
    the dataset's splits; ``named``: each line starts with the dataset's name; ``tests``: the
    report's within-dataset tests, when it has them."""
    part = results[results["dataset"].astype(str) == dataset]
    ratio = ratios.get(dataset, SplitRatio(math.nan, "n_test/n_train unknown")).ratio
    lines = fit_verdict(part, metric, ratio, tests)
    return [f"{dataset}, {line}" for line in lines] if named else lines


def study_verdict(
    results: pd.DataFrame, metric: str, baseline: str | None, labels: dict
) -> list[str]:
    """Two lines per (teacher, student) with a test across datasets: the baseline comparison,
    then the mean ranks and Friedman's test."""
    ranks = mean_ranks(results, metric)
    if not len(ranks):
        return []
    friedman = friedman_table(results, metric)
    versus = versus_baseline(results, metric, baseline) if baseline else pd.DataFrame()
    lines = []
    for (teacher, student), part in ranks.groupby(["teacher", "student"], sort=True):
        part = part[part["N"] >= 2]
        if part.empty:
            continue
        where = (
            f"Across {int(part['N'].max())} datasets (teacher {teacher}, {student} students, "
            f"{metric})"
        )
        tests = _of(friedman, teacher, student)
        if baseline is not None and len(versus):
            lines.append(f"{where}: {_against(_of(versus, teacher, student), baseline, labels)}.")
        else:
            lines.append(f"{where}: no baseline to compare against (give --baseline).")
        lines.append(_ranks_line(part, tests, labels))
    return lines


def _of(table: pd.DataFrame, teacher: object, student: object) -> pd.DataFrame:
    if not len(table):
        return table
    return table[(table["teacher"] == teacher) & (table["student"] == student)]


def _sizes(sizes: list[str]) -> str:
    """'8', '8 and 64', '8, 64 and full'."""
    return sizes[0] if len(sizes) == 1 else ", ".join(sizes[:-1]) + f" and {sizes[-1]}"


def _runs(best_by_size: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(winner, 'a–b') for each run of consecutive sizes that share a winner."""
    runs: list[tuple[str, list[str]]] = []
    for size, winner in best_by_size:
        if runs and runs[-1][0] == winner:
            runs[-1][1].append(size)
        else:
            runs.append((winner, [size]))
    return [(w, s[0] if len(s) == 1 else f"{s[0]}–{s[-1]}") for w, s in runs]


def _against(versus: pd.DataFrame, baseline: str, labels: dict) -> str:
    """Which targets beat (or lose to) the baseline where, by the Holm-adjusted Wilcoxon p."""
    name = labels.get(baseline, baseline)
    significant = versus[versus["p_holm"] < ALPHA]
    better: list[tuple[str, pd.Series]] = []
    worse: list[tuple[str, pd.Series]] = []
    for mode, rows in significant.groupby("mode", sort=False):
        for _, row in rows.iterrows():
            (better if _is_better(row) else worse).append((str(mode), row))
    claims = _claims(_by_mode(better), ("beats", "beat"), name, labels)
    claims += _claims(_by_mode(worse), ("is worse than", "are worse than"), name, labels)
    if not better:
        smallest = versus["p_holm"].min()
        shown = "–" if pd.isna(smallest) else f"{smallest:.2g}"
        claims.insert(0, f"no target beats {name} at any size (Holm-adjusted Wilcoxon p ≥ {shown})")
    return "; ".join(claims)


def _is_better(row: pd.Series) -> bool:
    """The side of a significant difference: more wins than losses, else the geometric mean."""
    if row["wins"] != row["losses"]:
        return bool(row["wins"] > row["losses"])
    return bool(row["geo_mean_ratio"] < 1)


def _by_mode(pairs: list[tuple[str, pd.Series]]) -> list[tuple[str, list[pd.Series]]]:
    grouped: dict[str, list[pd.Series]] = {}
    for mode, row in pairs:
        grouped.setdefault(mode, []).append(row)
    return list(grouped.items())


def _claims(
    by_mode: list[tuple[str, list[pd.Series]]], verbs: tuple[str, str], name: str, labels: dict
) -> list[str]:
    """One claim per set of sizes: targets that differ from the baseline at the same sizes
    share one ('vanilla, crossfit and mixed beat raw at full (…)')."""
    groups: dict[tuple[str, ...], list[tuple[str, list[pd.Series]]]] = {}
    for mode, rows in by_mode:
        sizes = tuple(sorted((str(r["size"]) for r in rows), key=size_key))
        groups.setdefault(sizes, []).append((mode, rows))
    claims = []
    for group in groups.values():
        if len(group) == 1:
            (mode, rows), verb = group[0], verbs[0]
            claims.append(_claim(mode, rows, f"{verb} {name}", labels))
        else:
            claims.append(_shared_claim(group, f"{verbs[1]} {name}", labels))
    return claims


def _shared_claim(group: list[tuple[str, list[pd.Series]]], verb: str, labels: dict) -> str:
    """Several targets at the same sizes: their p range, and each one's counts where its p is
    smallest."""
    names = [labels.get(mode, mode) for mode, _ in group]
    rows = [r for _, rs in group for r in rs]
    sizes = _sizes(sorted({str(r["size"]) for r in rows}, key=size_key))
    low, high = (f(float(r["p_holm"]) for r in rows) for f in (min, max))
    counts = []
    for name, (_, own) in zip(names, group, strict=True):
        best = min(own, key=lambda r: float(r["p_holm"]))
        counts.append(f"{name} {int(best['wins'])}/{int(best['ties'])}/{int(best['losses'])}")
    where = ", each where its p is smallest" if len(rows) > len(group) else ""
    return (
        f"{_sizes(names)} {verb} at {sizes} (Holm-adjusted Wilcoxon p {low:.2g}–{high:.2g}; "
        f"wins/ties/losses {', '.join(counts)}{where})"
    )


def _claim(mode: str, rows: list[pd.Series], verb: str, labels: dict) -> str:
    """'vanilla beats raw at 512, full (Holm-adjusted Wilcoxon p ≤ 0.005; 20/2/6
    wins/ties/losses at full)': the size with the smallest p gives the counts."""
    rows = sorted(rows, key=lambda r: size_key(str(r["size"])))
    sizes = _sizes([str(r["size"]) for r in rows])
    top = max(float(r["p_holm"]) for r in rows)
    best = min(rows, key=lambda r: float(r["p_holm"]))
    counts = f"{int(best['wins'])}/{int(best['ties'])}/{int(best['losses'])}"
    bound = "=" if len(rows) == 1 else "≤"
    return (
        f"{labels.get(mode, mode)} {verb} at {sizes} (Holm-adjusted Wilcoxon p {bound} "
        f"{top:.2g}; wins/ties/losses {counts} at {best['size']})"
    )


def _ranks_line(ranks: pd.DataFrame, friedman: pd.DataFrame, labels: dict) -> str:
    """Which target has the best mean rank at which sizes, and whether Friedman's test finds
    any difference among the targets."""
    modes = [c for c in ranks.columns if c not in (*CONFIG, "N", "CD", "groups")]
    ordered = sorted(ranks.to_dict("records"), key=lambda r: size_key(str(r["size"])))
    best_by_size = []
    for row in ordered:
        values = {m: float(row[m]) for m in modes if row[m] is not None and not pd.isna(row[m])}
        best = best_modes(values, lower=True)
        best_by_size.append((str(row["size"]), " = ".join(labels.get(m, m) for m in best)))
    named = ", ".join(f"{winner} at {sizes}" for winner, sizes in _runs(best_by_size))
    return f"Best mean rank: {named}; {_friedman_words(friedman)}."


def _friedman_words(friedman: pd.DataFrame) -> str:
    """Where the Friedman test rejects 'all targets alike', in words."""
    tested = friedman[friedman["p"].notna()]
    if tested.empty:
        return "no Friedman test (too few datasets with every target)"
    differ = tested[tested["p"] < ALPHA]
    if differ.empty:
        bound = "=" if len(tested) == 1 else "≥"
        return (
            f"the targets do not differ significantly at any size (Friedman p {bound} "
            f"{tested['p'].min():.2g})"
        )
    sizes = sorted(differ["size"].astype(str), key=size_key)
    elsewhere = tested[tested["p"] >= ALPHA]
    rest = f", ≥ {elsewhere['p'].min():.2g} elsewhere" if len(elsewhere) else ""
    bound = "=" if len(differ) == 1 else "≤"
    return (
        f"the targets differ at {_sizes(sizes)} (Friedman p {bound} {differ['p'].max():.2g}{rest})"
    )
