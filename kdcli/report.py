"""Summaries over repeats (mean ± standard error) and the tables a person reads."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table
from rich.text import Text

from kdcli.metrics import LOWER_IS_BETTER
from kdcli.targets import ordered_modes

KEYS = ["dataset", "teacher", "student", "size", "mode", "metric"]


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard error (NaN with one repeat) and count over repeats."""
    grouped = results.groupby(KEYS, sort=False)["value"]
    out = grouped.agg(mean="mean", std="std", n="count").reset_index()
    out["se"] = out["std"] / out["n"].map(math.sqrt)
    return out.drop(columns="std")


def _size_order(size: str) -> tuple[int, float]:
    return (1, math.inf) if size == "full" else (0, float(size))


def _cell(mean: float, se: float, digits: int) -> str:
    if math.isnan(mean):
        return "–"
    text = f"{mean:.{digits}f}"
    if not math.isnan(se):
        text += f" ± {se:.{digits}f}"
    return text


def student_table(
    summary: pd.DataFrame,
    student: str,
    metric: str,
    digits: int = 4,
    labels: dict | None = None,
) -> Table:
    """Rows: size; columns: modes (under ``labels`` where given, e.g. a paper's curve names);
    the best mode of each row in bold green with a ★."""
    rows = summary[(summary.student == student) & (summary.metric == metric)]
    modes = ordered_modes(rows["mode"])
    labels = labels or {}
    teacher = summary[(summary.student == "teacher") & (summary.metric == metric)]
    caption = None
    if len(teacher):
        t = teacher.iloc[0]
        caption = f"teacher {t.teacher}: {_cell(t['mean'], t['se'], digits)}"
    direction = "lower" if LOWER_IS_BETTER.get(metric, True) else "higher"
    table = Table(
        title=f"{student} student · held-out {metric} ({direction} is better)",
        caption=caption,
        title_justify="left",
    )
    table.add_column("size", justify="right", style="bold")
    for mode in modes:
        table.add_column(labels.get(mode, mode), justify="right")
    with_gain = "raw" in modes and len(modes) > 1
    if with_gain:
        table.add_column("best − raw", justify="right", style="cyan")
    sizes = sorted(set(rows["size"]), key=_size_order)
    better = min if LOWER_IS_BETTER.get(metric, True) else max
    for size in sizes:
        by_mode = rows[rows["size"] == size].set_index("mode")
        means = {m: by_mode.loc[m, "mean"] for m in modes if m in by_mode.index}
        valid = {m: v for m, v in means.items() if not math.isnan(v)}
        best = better(valid, key=valid.get) if valid else None
        cells = []
        for mode in modes:
            if mode not in by_mode.index:
                cells.append(Text("–"))
                continue
            text = _cell(by_mode.loc[mode, "mean"], by_mode.loc[mode, "se"], digits)
            if best is not None and means[mode] == means[best]:
                cells.append(Text(f"★ {text}", style="bold green"))
            else:
                cells.append(Text(text))
        if with_gain:
            gain = means[best] - means["raw"] if best is not None and "raw" in valid else math.nan
            shown = f"{gain:+.{digits}f}" if abs(gain) >= 0.5 * 10**-digits else "0"
            cells.append(Text("–" if math.isnan(gain) else shown))
        table.add_row(size, *cells)
    return table


def tables(summary: pd.DataFrame, metrics: list[str], labels: dict | None = None) -> list[Table]:
    students = [s for s in dict.fromkeys(summary["student"]) if s != "teacher"]
    return [
        student_table(summary, s, m, labels=labels)
        for m in metrics
        for s in students
        if (summary.metric == m).any()
    ]


def study_table(
    summary: pd.DataFrame,
    teacher: str,
    student: str,
    size: str,
    metric: str = "error",
    digits: int = 4,
    labels: dict | None = None,
) -> Table:
    """One screen for a study: a row per dataset, the modes as columns, the best marked; the last
    row counts on how many datasets each mode was best."""
    labels = labels or {}
    rows = summary[
        (summary.teacher == teacher)
        & (summary.metric == metric)
        & (
            ((summary.student == student) & (summary["size"].astype(str) == size))
            | (summary.student == "teacher")
        )
    ]
    modes = ordered_modes(rows["mode"])
    lower = LOWER_IS_BETTER.get(metric, True)
    table = Table(
        title=f"held-out {metric} · teacher {teacher} · {student} student, size {size}",
        caption="★ best mode per dataset; mean ± se over repeats and outer folds",
        title_justify="left",
    )
    table.add_column("dataset")
    table.add_column("teacher", justify="right", style="dim")
    for mode in modes:
        table.add_column(labels.get(mode, mode), justify="right")
    wins = dict.fromkeys(modes, 0)
    for dataset in dict.fromkeys(rows["dataset"]):
        by_mode = rows[rows.dataset == dataset].set_index("mode")
        means = {m: by_mode.loc[m, "mean"] for m in modes if m in by_mode.index}
        valid = {m: v for m, v in means.items() if not math.isnan(v)}
        best = (min if lower else max)(valid, key=valid.get) if valid else None
        if best is not None:
            for m in valid:
                wins[m] += valid[m] == valid[best]
        cells = [
            _cell(by_mode.loc["teacher", "mean"], by_mode.loc["teacher", "se"], digits)
            if "teacher" in by_mode.index
            else "–"
        ]
        for mode in modes:
            if mode not in by_mode.index:
                cells.append(Text("–"))
                continue
            text = _cell(by_mode.loc[mode, "mean"], by_mode.loc[mode, "se"], digits)
            is_best = best is not None and means[mode] == means[best]
            cells.append(Text(f"★ {text}", style="bold green") if is_best else Text(text))
        table.add_row(dataset, *cells)
    table.add_section()
    table.add_row("best on (datasets)", "", *(str(wins[m]) for m in modes), style="bold")
    return table
