"""The verdict of one dataset's fit, in words: at each student size, the best target against
training on labels (raw) and against plain distillation (vanilla), with the Nadeau–Bengio
corrected t-test over the fit's splits. It is what a user of `kd fit` wants to read first; with
fewer than 3 splits there is no test, and the line says how to get one.
"""

from __future__ import annotations

import math

import pandas as pd

from kdcli.records import cell_means, size_key
from kdcli.reporting.compare import WithinTests
from kdcli.reporting.per_dataset import best_modes
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import ordered_modes

BASELINES = ("raw", "vanilla")
MIN_SPLITS = 3  # a corrected t-test needs a variance of at least 2 degrees of freedom


def fit_verdict(
    results: pd.DataFrame,
    metric: str,
    test_train_ratio: float,
    tests: WithinTests | None = None,
) -> list[str]:
    """One line per (teacher, student, size) of a one-dataset fit's long results; ``tests``: the
    within-dataset tests of a report that holds these results (made here without it)."""
    lower = LOWER_IS_BETTER[metric]
    means = cell_means(results)
    means = means[(means["metric"] == metric) & (means["mode"] != "teacher")]
    if means.empty:
        return []
    dataset = str(results["dataset"].iloc[0])  # kd fit: one dataset
    teachers = sorted(set(means["teacher"].astype(str)))
    tests = tests or WithinTests(results, metric)
    lines = []
    for (teacher, student), part in means.groupby(["teacher", "student"], sort=True):
        against = {
            b: tests(dataset, str(teacher), str(student), b, test_train_ratio) for b in BASELINES
        }
        who = f"{student}" if len(teachers) == 1 else f"teacher {teacher}, {student}"
        for size in sorted(set(part["size"].astype(str)), key=size_key):
            at = part[part["size"].astype(str) == size]
            by_mode = {str(m): float(v) for m, v in zip(at["mode"], at["value"], strict=True)}
            best = best_modes(by_mode, lower)
            if not best:
                continue
            lines.append(f"{who} {size}: " + _line(best, by_mode, metric, lower, against, size))
    return lines


def _line(
    best: list[str],
    by_mode: dict[str, float],
    metric: str,
    lower: bool,
    tests: dict[str, pd.DataFrame],
    size: str,
) -> str:
    best = ordered_modes(best)
    lead = best[0]
    extreme = "lowest" if lower else "highest"
    if len(best) == 1:
        head = f"{lead} has the {extreme} {metric}, {by_mode[lead]:.4f}"
    else:
        named = ", ".join(best[:-1]) + f" and {best[-1]}"
        head = f"{named} tie for the {extreme} {metric}, {by_mode[lead]:.4f}"
    against = [_against(lead, b, by_mode, tests[b], size) for b in BASELINES if b not in best]
    against = [a for a in against if a]
    if not against:
        return head
    if any(a.endswith("(no test)") for a in against):
        return f"{head}; too few repeats for a test; use --repeats 5"
    return f"{head}: " + ", ".join(against)


def _against(
    lead: str,
    baseline: str,
    by_mode: dict[str, float],
    test: pd.DataFrame,
    size: str,
) -> str:
    """``lead`` against ``baseline`` at ``size``: the gap and the test, or '' (no baseline, or
    the lead is the baseline)."""
    if lead == baseline or baseline not in by_mode:
        return ""
    gap = by_mode[lead] - by_mode[baseline]
    side = ("below" if gap < 0 else "above") if not math.isclose(gap, 0.0) else "level with"
    row = test[(test["size"].astype(str) == size) & (test["mode"] == lead)]
    if row.empty or int(row["J"].iloc[0]) < MIN_SPLITS:
        return f"{abs(gap):.4f} {side} {baseline} (no test)"
    j, p = int(row["J"].iloc[0]), float(row["p"].iloc[0])
    shown_p = "no p: " + str(row["note"].iloc[0]) if math.isnan(p) else f"p = {p:.2g}"
    return f"{abs(gap):.4f} {side} {baseline} ({shown_p}, J = {j})"
