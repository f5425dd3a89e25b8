"""Building the report of `kd report` (:func:`build_report`): its sections, in report order, and
the notes on what is missing and why a test is absent, from a run's long results.

Kept apart from loading a run and from rendering, so that every format shows the same sections
and a caller can build a report from any results frame (no run folder needed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kdcli.reporting.across import across_datasets, few
from kdcli.reporting.bayes import bayes_tables
from kdcli.reporting.capacity import CapacityTable, capacity_tables, teacher_order
from kdcli.reporting.compare import WithinTests, choose_baseline
from kdcli.reporting.compression import compression_table
from kdcli.reporting.coverage import coverage
from kdcli.reporting.model import Report, Section
from kdcli.reporting.numerics import quiet_numerics
from kdcli.reporting.pareto import front_points, pareto_table
from kdcli.reporting.per_dataset import per_dataset_table
from kdcli.reporting.results_frame import TEACHER_MODE
from kdcli.reporting.shared_splits import shared_work
from kdcli.reporting.split_sizes import SplitRatio
from kdcli.reporting.stats import MIN_SPLITS
from kdcli.reporting.study_verdict import dataset_verdict, report_verdict
from kdcli.reporting.summary import summary_section
from kdcli.science.targets import ordered_modes

PER_DATASET_NOTE = (
    "mean ± naive SE (n): naive SE = sd/√n over the n splits (outer folds × repeats), which "
    "share training rows, so it understates the uncertainty; ★ the best mode, every mode whose "
    "mean is the same within 1e-9 (relative) starred"
)

CAPACITY_NOTE = (
    "rows: the swept teacher parameter, in capacity order (None = no limit, the largest); "
    "each cell mean ± naive SE over the n splits (outer folds × repeats; sd/√n, which "
    "understates the uncertainty as the splits share training rows; n the fewest splits of the "
    "row's cells when some are missing), ★ the best mode; teacher: the score of the teacher "
    "variant itself"
)

WITHIN_NO_P = (
    f"no p (–) with fewer than {MIN_SPLITS} splits (a variance from 2 is too rough to test "
    "with) or where the difference is the same on every split (zero variance: t undefined); "
    "the note column says why"
)

PARETO_NOTE = (
    "the points of each student family (every mode × size; {metric}, model bytes and ms per "
    "10,000 rows each the mean over the splits) that no other point of the family beats: none "
    "has {metric} and bytes (front: bytes), or {metric} and latency (front: latency), both at "
    "least as good and one better; equal points share the front; the figures show every point, "
    "the teacher's own bytes and latency are in the compression section"
)

Planned = dict[tuple[str, str], set[tuple[int, int]]]


def build_report(
    results: pd.DataFrame,
    metric: str,
    source: str,
    *,
    expected: list[str] | None = None,
    latency: pd.DataFrame | None = None,
    labels: dict | None = None,
    baseline: str | None = None,
    ratios: dict[str, SplitRatio] | None = None,
    planned: Planned | None = None,
    rope: float | None = None,
) -> Report:
    """The report of ``results`` (long: one row per value) on ``metric``; ``source`` names where
    they came from. ``expected`` the datasets a study planned (those without results are
    listed as missing); ``latency`` the run's prediction timings; ``labels`` names modes as a
    preset's source does (e.g. 'KD student (logit)'); ``baseline`` the mode the others are
    tested against (None: raw, when there is one); ``ratios`` each dataset's n_test/n_train
    (:func:`~.split_sizes.split_ratios`) for the within-dataset test; ``planned`` the splits a
    study planned per (dataset, teacher), so that every cell with fewer is flagged (without it,
    a cell is measured against the most any cell has); ``rope`` the region of practical
    equivalence of the Bayesian comparison (None: the metric's default,
    :func:`~kdcli.reporting.bayes.default_rope`)."""
    labels = labels or {}
    ratios = ratios or {}
    with quiet_numerics(), shared_work():
        scores = results[results.metric == metric]
        modes = ordered_modes(m for m in scores["mode"].unique() if m != TEACHER_MODE)
        baseline, why = choose_baseline(modes, baseline)
        report = Report(source, metric, missing=coverage(results, expected, planned))
        report.baseline = baseline
        report.notes += [why] if why else []
        report.notes += _nonfinite_note(scores)
        report.capacity = capacity_tables(results, metric)
        sections = _summary_sections(results, metric, baseline, labels, rope)
        sections += _capacity_sections(report.capacity)
        tests = WithinTests(scores, metric)
        sections += _dataset_sections(
            scores, metric, baseline, labels, ratios, planned, report.notes, tests
        )
        sections += across_datasets(results, metric, modes, baseline, labels, report.notes)
        sections += _bayes_sections(results, metric, modes, baseline, rope, ratios)
        sections += _compression_sections(results, metric, latency)
        report.pareto = pareto_table(results, metric, latency)
        sections += _pareto_sections(report.pareto, metric, report.notes)
        report.sections = sorted(sections, key=_reading_order)
        report.verdict = report_verdict(results, metric, baseline, labels, ratios, tests)
        report.dataset_verdicts = _dataset_verdicts(results, metric, ratios, tests)
    for section in report.sections:
        section.labels = labels
    return report


def _reading_order(section: Section) -> tuple[int, str]:
    """The answer first: the summary, the tests across datasets, then each dataset's sections
    (alphabetically; within one, in the order they were built: a sweep's capacity tables, the
    tables and tests of each student, compression, the Pareto front). The sort is stable."""
    if section.kind == "summary":
        return 0, ""
    if section.dataset is None:
        return 1, ""
    return 2, section.dataset


def _summary_sections(
    results: pd.DataFrame,
    metric: str,
    baseline: str | None,
    labels: dict,
    rope: float | None,
) -> list[Section]:
    """The summary table (:mod:`.summary`) of each (teacher, student) at its middle size, when
    there are datasets to summarise across (two or more)."""
    scores = results[(results["metric"] == metric) & (results["mode"] != TEACHER_MODE)]
    if scores["dataset"].nunique() < 2:
        return []
    pairs = scores[["teacher", "student"]].astype(str).drop_duplicates()
    return [
        summary_section(
            results, metric, baseline=baseline, teacher=t, student=s, labels=labels, rope=rope
        )[0]
        for t, s in sorted(
            pairs.itertuples(index=False, name=None), key=lambda p: (teacher_order(p[0]), p[1])
        )
    ]


def _dataset_verdicts(
    results: pd.DataFrame, metric: str, ratios: dict[str, SplitRatio], tests: WithinTests
) -> dict[str, list[str]]:
    """Each dataset's own verdict (its best target against raw and vanilla, tested over its
    splits), when the report has more than one dataset (with one, it is the report's)."""
    scores = results[(results["metric"] == metric) & (results["mode"] != TEACHER_MODE)]
    names = sorted(scores["dataset"].astype(str).unique())
    if len(names) < 2:
        return {}
    return {
        name: dataset_verdict(results, metric, name, ratios, named=False, tests=tests)
        for name in names
    }


def _by_dataset_and_teacher(frame: pd.DataFrame) -> list[tuple[tuple, pd.DataFrame]]:
    """(dataset, teacher) groups, a sweep's variants in capacity order."""
    groups = list(frame.groupby(["dataset", "teacher"], sort=False))
    return sorted(groups, key=lambda g: (g[0][0], teacher_order(g[0][1])))


def _capacity_sections(items: list[CapacityTable]) -> list[Section]:
    """The tables against teacher capacity of a --teacher-grid study (none without a sweep):
    the headline of such a study, so they come first."""
    sections = []
    for item in items:
        sweep = item.sweep
        held = f" at {sweep.held}" if sweep.fixed else ""
        title = (
            f"{item.dataset} · teacher {sweep.name} vs {sweep.param}{held} · "
            f"{item.student} {item.size} student · {item.metric}"
        )
        sections.append(
            Section(title, item.table, CAPACITY_NOTE, "capacity", item.metric, dataset=item.dataset)
        )
    return sections


def _nonfinite_note(scores: pd.DataFrame) -> list[str]:
    """NaN or inf values are averaged like the rest (a cell's mean shows them); say where."""
    values = pd.to_numeric(scores["value"], errors="coerce").to_numpy(dtype=float)
    bad = scores[~np.isfinite(values)]
    if bad.empty:
        return []

    def cell(r: Any) -> str:  # a row of itertuples: its columns as attributes
        if r.student == "teacher":
            return f"{r.dataset} · teacher {r.teacher}"
        size = "" if pd.isna(r.size) or r.size == "" else f" {r.size}"
        return f"{r.dataset} · {r.student}{size} · {r.mode}"

    cells = sorted({cell(r) for r in bad.itertuples(index=False)})
    return [
        f"{len(bad)} value(s) of {scores['metric'].iloc[0]} are NaN or infinite, so their cells' "
        "means in the tables are too (nonfinite in summary.csv); the tests leave their splits "
        f"out, for every mode of the dataset: {few(cells)}"
    ]


def _dataset_sections(
    scores: pd.DataFrame,
    metric: str,
    baseline: str | None,
    labels: dict,
    ratios: dict[str, SplitRatio],
    planned: Planned | None,
    notes: list[str],
    tests: WithinTests,
) -> list[Section]:
    """Per dataset, teacher and student: the table of means, then (with a baseline) the test of
    each mode against it within that dataset. ``notes`` gets the datasets with too few splits
    for the test, told apart by whether the study planned more (then it is unfinished)."""
    sections = []
    one_split: list[str] = []  # one split planned: the study's design
    unfinished: list[str] = []  # more planned, one finished: the study is partial
    for (dataset, teacher), part in _by_dataset_and_teacher(scores):
        for student in sorted(s for s in part.student.unique() if s != "teacher"):
            table = per_dataset_table(part, dataset, teacher, student, metric)
            where = f"{dataset} · teacher {teacher} · {student} student"
            sections.append(
                Section(
                    f"{where} · {metric}",
                    table,
                    PER_DATASET_NOTE,
                    "per-dataset",
                    metric,
                    dataset=str(dataset),
                )
            )
            if baseline is None:
                continue
            ratio = ratios.get(str(dataset), SplitRatio(math.nan, "n_test/n_train unknown"))
            within = tests(dataset, teacher, student, baseline, ratio.ratio)
            if within.empty:  # no mode but the baseline: nothing to compare
                continue
            if (within["J"] < 2).all():
                short = one_split if _planned_splits(planned, dataset, teacher) < 2 else unfinished
                short += [str(dataset)] if str(dataset) not in short else []
                continue
            name = labels.get(baseline, baseline)
            sections.append(_within_section(where, within, name, ratio, metric, str(dataset)))
    if one_split:
        notes.append(
            f"no within-dataset test for {few(one_split)}: it needs at least 2 splits of a "
            "dataset (--repeats 2 or more, or several outer folds)"
        )
    if unfinished:
        notes.append(
            f"no within-dataset test yet for {few(unfinished)}: only 1 of the splits the study "
            "planned has results; resume it (the same kd benchmark command) to finish them"
        )
    return sections


def _within_section(
    where: str, within: pd.DataFrame, name: str, ratio: SplitRatio, metric: str, dataset: str
) -> Section:
    """The Nadeau–Bengio test of each mode against the baseline (``name``) on one dataset."""
    return Section(
        f"{where} · each mode − {name} within this dataset · {metric}",
        within,
        "within one dataset only (not a test across datasets): mode − "
        f"{name} on each of its J splits; Nadeau–Bengio corrected resampled t-test, "
        "t = mean difference / corrected SE, df = J − 1, two-sided p; corrected SE = "
        "√((1/J + n_test/n_train)·var), naive SE = sd/√J (ignores that the splits "
        f"share training rows); {ratio.source}; {WITHIN_NO_P}",
        "within",
        metric,
        dataset=dataset,
    )


def _planned_splits(planned: Planned | None, dataset: object, teacher: object) -> int:
    """How many splits the study planned for a dataset and teacher; 0 when it is not known."""
    return len((planned or {}).get((str(dataset), str(teacher)), ()))


def _bayes_sections(
    results: pd.DataFrame,
    metric: str,
    modes: list[str],
    baseline: str | None,
    rope: float | None,
    ratios: dict[str, SplitRatio],
) -> list[Section]:
    """The Bayesian comparisons, less those within a dataset of one split each (no test; the
    note on within-dataset tests already says why). A within-dataset table lists every dataset,
    so it goes with the tests across datasets, unless there is only one."""
    names = results["dataset"].astype(str).unique()
    only = str(names[0]) if len(names) == 1 else None
    return [
        Section(title, table, note, "bayes", metric, dataset=only if scope == "within" else None)
        for title, table, note, scope in bayes_tables(
            results, metric, modes, baseline, rope, ratios
        )
        if not (scope == "within" and table["p_better"].isna().all())
    ]


def _compression_sections(
    results: pd.DataFrame, metric: str, latency: pd.DataFrame | None
) -> list[Section]:
    """One compression table per (dataset, teacher) whose results hold model sizes."""
    sections = []
    for (dataset, teacher), part in _by_dataset_and_teacher(results):
        lat = None
        if latency is not None and len(latency):
            lat = latency[(latency.dataset == dataset) & (latency.teacher == teacher)]
        table = compression_table(part, metric, lat)
        if table is not None:
            sections.append(
                Section(
                    f"{dataset} · teacher {teacher} · compression",
                    table,
                    "model size (mean over modes and folds; bytes: native model file for LightGBM/"
                    f"XGBoost, node arrays for scikit-learn trees) beside the mean held-out {metric} "
                    "of each mode",
                    "compression",
                    dataset=str(dataset),
                )
            )
    return sections


def _pareto_sections(table: pd.DataFrame, metric: str, notes: list[str]) -> list[Section]:
    """One section per (dataset, teacher) listing its students' Pareto-front points; ``notes``
    gets the groups whose run measured no latency (their fronts are against bytes only)."""
    sections, unmeasured = [], []
    students = table[table["student"] != "teacher"]
    for (dataset, teacher), part in _by_dataset_and_teacher(students):
        against = "model bytes, latency"
        if part["ms_per_10k"].isna().all():
            unmeasured.append(f"{dataset} · teacher {teacher}")
            against = "model bytes"
        points = front_points(part, metric).drop(columns=["dataset", "teacher"])
        title = f"{dataset} · teacher {teacher} · Pareto front of {metric} vs {against}"
        note = PARETO_NOTE.format(metric=metric)
        sections.append(Section(title, points, note, "pareto", metric, dataset=str(dataset)))
    if unmeasured:
        notes.append(
            f"no prediction latency for {few(unmeasured)} (a run from before kd measured it): "
            "the Pareto front is against model bytes only, and its figure has the bytes panel only"
        )
    return sections
