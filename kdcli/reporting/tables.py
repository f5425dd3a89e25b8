"""The tables a person reads: a grid of rows x modes, each cell mean ± se, ★ on the best mode.

The se is sd/√n over repeats and outer folds, whose training rows overlap: a *naive* SE (too
small), and the captions say so. Tests that allow for the overlap are in `kd report`.

One builder (:func:`star_row`) serves the `kd fit` tables (rows: sizes), the study screen of
`kd benchmark` (rows: datasets) and the per-dataset sections of `kd report`. Names from the user
(datasets, paths, labels) go in as :class:`~rich.text.Text` or escaped, never as markup: a
dataset called `[bold]x` is shown so.

Numbers reach the page through one set of helpers, shared by every table and renderer:
:func:`number_text`, :func:`fixed_text`, :func:`p_text` and :func:`ratio_text` (so noise around
0 prints as 0, and no p prints as 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from kdcli.records import size_key
from kdcli.reporting.capacity import teacher_order
from kdcli.reporting.per_dataset import best_modes
from kdcli.reporting.stats import same
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import ordered_modes

STAR = "★ "
SMALLEST_P = 1e-16  # below: "< 1e-16" (a double cannot tell 1 − p from 1 there anyway)


def fixed_text(value: float, digits: int = 4) -> str:
    """``digits`` decimals; a value that rounds to 0 (-5.55e-17, -0.00001) prints as 0, unsigned."""
    text = f"{value:.{digits}f}"
    return text.lstrip("-") if text.strip("-0.") == "" else text


def number_text(value, digits: int = 4) -> str:
    """A statistic as every kd table prints it: "–" for none (NaN); 0 for a value that is 0 up
    to floating-point noise (:func:`~kdcli.reporting.stats.same`); below 1e-3 in scientific
    notation (3.81e-06); else ``digits`` decimals. Non-floats as text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not isinstance(value, float):
        return str(value)
    if same(value, 0.0):
        return fixed_text(0.0, digits)
    if abs(value) < 1e-3:
        return f"{value:.2e}"
    return fixed_text(value, digits)


def p_text(p: float, behind: str = "") -> str:
    """A p-value, never 0: "–" for none, "< 1e-16" below that, else as :func:`number_text`
    without rounding a small p to 0; ``behind`` (the counts it rests on) in brackets after it."""
    if p is None or math.isnan(p):
        return "–"
    text = f"< {SMALLEST_P:.0e}" if p < SMALLEST_P else f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"
    return f"{text} ({behind})" if behind else text


def ratio_text(ratio: float, digits: int = 4) -> str:
    """A ratio with its change: 0.9690 (-3.1%); "–" for none."""
    if math.isnan(ratio):
        return "–"
    change = fixed_text(100.0 * (ratio - 1.0), 1)
    sign = "+" if not change.startswith("-") and change != fixed_text(0.0, 1) else ""
    return f"{fixed_text(ratio, digits)} ({sign}{change}%)"


def cell_text(mean: float, se: float, digits: int = 4, n: int | None = None) -> str:
    if math.isnan(mean):
        return "–"
    text = fixed_text(mean, digits)
    if not math.isnan(se):
        text += f" ± {fixed_text(se, digits)}"
    return text if n is None else f"{text} ({n})"


def star_row(
    cells: Mapping[str, tuple], modes: list[str], lower: bool, digits: int = 4
) -> tuple[list[tuple[str, bool]], list[str]]:
    """``cells``: mode → (mean, se) or (mean, se, n). Returns (text, is best) per mode in
    ``modes`` ("–" where a mode has no cell) and the best modes."""
    best = best_modes({m: float(c[0]) for m, c in cells.items()}, lower)
    out = []
    for mode in modes:
        if mode not in cells:
            out.append(("–", False))
            continue
        mean, se, *n = cells[mode]
        text = cell_text(mean, se, digits, n[0] if n else None)
        out.append(((STAR if mode in best else "") + text, mode in best))
    return out, best


def _rich(cells: list[tuple[str, bool]]) -> list[Text]:
    return [Text(text, style="bold green") if best else Text(text) for text, best in cells]


def _mode_cells(rows: pd.DataFrame) -> dict[str, tuple]:
    by_mode = rows.set_index("mode")
    return {m: (by_mode.loc[m, "mean"], by_mode.loc[m, "se"]) for m in by_mode.index}


def student_table(
    summary: pd.DataFrame,
    student: str,
    metric: str,
    digits: int = 4,
    labels: dict | None = None,
) -> Table:
    """Rows: size; columns: modes (under ``labels`` where given, e.g. a paper's curve names),
    then how much the best mode gains over training on labels."""
    rows = summary[(summary.student == student) & (summary.metric == metric)]
    modes = ordered_modes(rows["mode"])
    labels = labels or {}
    lower = LOWER_IS_BETTER.get(metric, True)
    teacher = summary[(summary.student == "teacher") & (summary.metric == metric)]
    caption = "mean ± naive SE (sd/√n over repeats; splits overlap)"
    if len(teacher):
        t = teacher.iloc[0]
        caption += f" · teacher {t.teacher}: {cell_text(t['mean'], t['se'], digits)}"
    table = Table(
        title=Text(
            f"{student} student · held-out {metric} ({'lower' if lower else 'higher'} is better)"
        ),
        caption=Text(caption),
        title_justify="left",
    )
    table.add_column("size", justify="right", style="bold")
    for mode in modes:
        table.add_column(escape(str(labels.get(mode, mode))), justify="right")
    with_gain = "raw" in modes and len(modes) > 1
    if with_gain:
        table.add_column("best − raw", justify="right", style="cyan")
    for size in sorted(set(rows["size"]), key=size_key):
        cells = _mode_cells(rows[rows["size"] == size])
        shown, best = star_row(cells, modes, lower, digits)
        extra = []
        if with_gain:
            gain = cells[best[0]][0] - cells["raw"][0] if best and "raw" in cells else math.nan
            text = f"{gain:+.{digits}f}" if abs(gain) >= 0.5 * 10**-digits else "0"
            extra = [Text("–" if math.isnan(gain) else text)]
        table.add_row(Text(str(size)), *_rich(shown), *extra)
    return table


def tables(summary: pd.DataFrame, metrics: list[str], labels: dict | None = None) -> list[Table]:
    """`kd fit`'s tables: sizes x modes per student; for a --teacher-grid sweep, teacher
    variants x modes per student and size instead."""
    students = [s for s in dict.fromkeys(summary["student"]) if s != "teacher"]
    if summary["teacher"].nunique() > 1:
        return [
            teacher_table(summary, s, str(size), m, labels=labels)
            for m in metrics
            for s in students
            if (summary.metric == m).any()
            for size in sorted(set(summary[summary.student == s]["size"].astype(str)), key=size_key)
        ]
    return [
        student_table(summary, s, m, labels=labels)
        for m in metrics
        for s in students
        if (summary.metric == m).any()
    ]


def teacher_table(
    summary: pd.DataFrame,
    student: str,
    size: str,
    metric: str,
    digits: int = 4,
    labels: dict | None = None,
) -> Table:
    """Rows: the teacher variants of a sweep, in capacity order; columns: the teacher's own score,
    then the modes of one student size. Where distilling pays, and which target survives a weak
    teacher, reads down the columns."""
    labels = labels or {}
    rows = summary[(summary.metric == metric)]
    students = rows[(rows.student == student) & (rows["size"].astype(str) == size)]
    own = rows[rows.student == "teacher"]
    modes = ordered_modes(students["mode"])
    lower = LOWER_IS_BETTER.get(metric, True)
    table = Table(
        title=Text(
            f"{student} student, size {size} · held-out {metric} by teacher "
            f"({'lower' if lower else 'higher'} is better)"
        ),
        caption=Text("★ best mode per teacher; mean ± naive SE (sd/√n over repeats)"),
        title_justify="left",
    )
    table.add_column("teacher", style="bold")
    table.add_column("teacher's own", justify="right", style="dim")
    for mode in modes:
        table.add_column(escape(str(labels.get(mode, mode))), justify="right")
    for teacher in sorted(dict.fromkeys(summary["teacher"]), key=teacher_order):
        cells = _mode_cells(students[students.teacher == teacher])
        shown, _best = star_row(cells, modes, lower, digits)
        mine = own[own.teacher == teacher]
        own_text = cell_text(mine["mean"].iloc[0], mine["se"].iloc[0], digits) if len(mine) else "–"
        table.add_row(Text(str(teacher)), Text(own_text), *_rich(shown))
    return table


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
        title=Text(f"held-out {metric} · teacher {teacher} · {student} student, size {size}"),
        caption="★ best mode per dataset; mean ± naive SE (sd/√n) over repeats and outer folds",
        title_justify="left",
    )
    table.add_column("dataset")
    table.add_column("teacher", justify="right", style="dim")
    for mode in modes:
        table.add_column(escape(str(labels.get(mode, mode))), justify="right")
    wins = dict.fromkeys(modes, 0)
    for dataset in dict.fromkeys(rows["dataset"]):
        cells = _mode_cells(rows[rows.dataset == dataset])
        teacher_cell = cells.pop("teacher", None)
        shown, best = star_row(cells, modes, lower, digits)
        for mode in best:
            wins[mode] += 1
        own = cell_text(teacher_cell[0], teacher_cell[1], digits) if teacher_cell else "–"
        table.add_row(Text(str(dataset)), Text(own), *_rich(shown))
    table.add_section()
    table.add_row("best on (datasets)", "", *(str(wins[m]) for m in modes), style="bold")
    return table
