"""`kd report`: the tables a researcher puts in a paper, built from a run's long results.

A report is a list of sections, each a titled DataFrame of plain numbers; renderers turn them
into terminal tables, Markdown, CSV, JSON or one self-contained HTML file.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kdcli.atomic import check_writable_place, written_together
from kdcli.errors import KDError
from kdcli.records import size_key
from kdcli.reporting.bayes import bayes_tables, check_rope
from kdcli.reporting.capacity import CapacityTable, capacity_tables, teacher_order
from kdcli.reporting.compare import (
    TEACHER_MODE,
    coverage,
    friedman_table,
    left_out_splits,
    mean_ranks,
    per_dataset_table,
    versus_baseline,
    within_dataset,
)
from kdcli.reporting.pareto import front_points, pareto_table
from kdcli.reporting.run_results import planned, run_latency, run_record, run_results
from kdcli.reporting.split_sizes import SplitRatio, split_ratios
from kdcli.reporting.stats import ALPHA, MIN_SPLITS
from kdcli.reporting.tables import cell_text, number_text, p_text, ratio_text, star_row
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import ordered_modes
from kdcli.settings.presets import preset_labels, preset_metric

FORMATS = ("rich", "md", "csv", "json", "html")


@dataclass
class Section:
    title: str
    table: pd.DataFrame
    note: str = ""
    kind: str = "table"  # capacity | per-dataset | within | friedman | ranks | versus | bayes
    # | compression | pareto
    metric: str = "error"
    labels: dict = field(default_factory=dict)  # mode → shown name (a preset's curve names)


@dataclass
class Report:
    """What `kd report` shows: titled tables (``sections``), lines on what is missing, notes on
    tests that could not be made (and why), the baseline of the comparisons, and the plots."""

    source: str
    metric: str
    sections: list[Section] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)
    capacity: list[CapacityTable] = field(default_factory=list)  # a sweep's tables, for its plots
    pareto: pd.DataFrame | None = None  # :func:`~.pareto.pareto_table`, for its figures

    def sections_of(self, kind: str) -> list[Section]:
        """The sections of one kind, in report order."""
        return [s for s in self.sections if s.kind == kind]


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
INDEXED = ("per-dataset", "capacity")  # sections whose table index is a column of their own


def _by_dataset_and_teacher(frame: pd.DataFrame) -> list:
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
        sections.append(Section(title, item.table, CAPACITY_NOTE, "capacity", item.metric))
    return sections


def _choose_baseline(modes: list[str], baseline: str | None) -> tuple[str | None, str]:
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


def _nonfinite_note(scores: pd.DataFrame) -> list[str]:
    """NaN or inf values are averaged like the rest (a cell's mean shows them); say where."""
    values = pd.to_numeric(scores["value"], errors="coerce").to_numpy(dtype=float)
    bad = scores[~np.isfinite(values)]
    if bad.empty:
        return []

    def cell(r) -> str:
        if r.student == "teacher":
            return f"{r.dataset} · teacher {r.teacher}"
        size = "" if pd.isna(r.size) or r.size == "" else f" {r.size}"
        return f"{r.dataset} · {r.student}{size} · {r.mode}"

    cells = sorted({cell(r) for r in bad.itertuples(index=False)})
    shown = ", ".join(cells[:5]) + (f" and {len(cells) - 5} more" if len(cells) > 5 else "")
    return [
        f"{len(bad)} value(s) of {scores['metric'].iloc[0]} are NaN or infinite, so their cells' "
        "means in the tables are too (nonfinite in summary.csv); the tests leave their splits "
        f"out, for every mode of the dataset: {shown}"
    ]


def build_report(*args, **kwargs) -> Report:
    """See :func:`_build_report`. A NaN or inf value (named in the notes) makes its cell's mean
    and spread NaN or inf; numpy's warnings about it would only repeat that, off the one line."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", over="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _build_report(*args, **kwargs)


def _build_report(
    results: pd.DataFrame,
    metric: str,
    source: str,
    expected: list[str] | None = None,
    latency: pd.DataFrame | None = None,
    labels: dict | None = None,
    baseline: str | None = None,
    ratios: dict[str, SplitRatio] | None = None,
    planned: dict[tuple[str, str], set[tuple[int, int]]] | None = None,
    rope: float | None = None,
) -> Report:
    """``labels`` names modes as a preset's source does (e.g. 'KD student (logit)');
    ``baseline`` is the mode the others are tested against (None: raw, when there is one);
    ``ratios`` each dataset's n_test/n_train (:func:`split_ratios`) for the within-dataset test;
    ``planned`` the splits a study planned per (dataset, teacher), so that every cell with
    fewer is flagged (without it, a cell is measured against the most any cell has); ``rope``
    the region of practical equivalence of the Bayesian comparison (None: the metric's default,
    :func:`~kdcli.reporting.bayes.default_rope`)."""
    labels = labels or {}
    ratios = ratios or {}
    scores = results[results.metric == metric]
    modes = ordered_modes(m for m in scores["mode"].unique() if m != TEACHER_MODE)
    baseline, why = _choose_baseline(modes, baseline)
    report = Report(source=source, metric=metric, missing=coverage(results, expected, planned))
    report.baseline = baseline
    report.notes += [why] if why else []
    report.notes += _nonfinite_note(scores)
    name = labels.get(baseline, baseline)
    report.capacity = capacity_tables(results, metric)
    report.sections += _capacity_sections(report.capacity)
    one_split: list[str] = []  # one split planned: the study's design
    unfinished: list[str] = []  # more planned, one finished: the study is partial
    for (dataset, teacher), part in _by_dataset_and_teacher(scores):
        for student in sorted(s for s in part.student.unique() if s != "teacher"):
            table = per_dataset_table(part, dataset, teacher, student, metric)
            where = f"{dataset} · teacher {teacher} · {student} student"
            report.sections.append(
                Section(f"{where} · {metric}", table, PER_DATASET_NOTE, "per-dataset", metric)
            )
            if baseline is None:
                continue
            ratio = ratios.get(str(dataset), SplitRatio(math.nan, "n_test/n_train unknown"))
            within = within_dataset(part, dataset, teacher, student, metric, baseline, ratio.ratio)
            if within.empty:  # no mode but the baseline: nothing to compare
                continue
            if (within["J"] < 2).all():
                short = one_split if _planned_splits(planned, dataset, teacher) < 2 else unfinished
                short += [str(dataset)] if str(dataset) not in short else []
                continue
            report.sections.append(
                Section(
                    f"{where} · each mode − {name} within this dataset · {metric}",
                    within,
                    "within one dataset only (not a test across datasets): mode − "
                    f"{name} on each of its J splits; Nadeau–Bengio corrected resampled t-test, "
                    "t = mean difference / corrected SE, df = J − 1, two-sided p; corrected SE = "
                    "√((1/J + n_test/n_train)·var), naive SE = sd/√J (ignores that the splits "
                    f"share training rows); {ratio.source}; {WITHIN_NO_P}",
                    "within",
                    metric,
                )
            )
    if one_split:
        report.notes.append(
            f"no within-dataset test for {_few(one_split)}: it needs at least 2 splits of a "
            "dataset (--repeats 2 or more, or several outer folds)"
        )
    if unfinished:
        report.notes.append(
            f"no within-dataset test yet for {_few(unfinished)}: only 1 of the splits the study "
            "planned has results; resume it (the same kd benchmark command) to finish them"
        )
    report.sections += _across_datasets(results, metric, modes, baseline, labels, report.notes)
    for title, table, note, scope in bayes_tables(results, metric, modes, baseline, rope, ratios):
        if scope == "within" and table["p_better"].isna().all():  # one split each: no test
            continue  # (the note on within-dataset tests already says why)
        report.sections.append(Section(title, table, note, "bayes", metric))
    for (dataset, teacher), part in _by_dataset_and_teacher(results):
        lat = None
        if latency is not None and len(latency):
            lat = latency[(latency.dataset == dataset) & (latency.teacher == teacher)]
        table = compression_table(part, metric, lat)
        if table is not None:
            report.sections.append(
                Section(
                    f"{dataset} · teacher {teacher} · compression",
                    table,
                    "model size (mean over modes and folds; bytes: native model file for LightGBM/"
                    f"XGBoost, node arrays for scikit-learn trees) beside the mean held-out {metric} "
                    "of each mode",
                    "compression",
                )
            )
    report.pareto = pareto_table(results, metric, latency)
    report.sections += _pareto_sections(report.pareto, metric, report.notes)
    for section in report.sections:
        section.labels = labels
    return report


PARETO_NOTE = (
    "the points of each student family (every mode × size; {metric}, model bytes and ms per "
    "10,000 rows each the mean over the splits) that no other point of the family beats: none "
    "has {metric} and bytes (front: bytes), or {metric} and latency (front: latency), both at "
    "least as good and one better; equal points share the front; the figures show every point, "
    "the teacher's own bytes and latency are in the compression section"
)


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
        sections.append(Section(title, points, note, "pareto", metric))
    if unmeasured:
        notes.append(
            f"no prediction latency for {_few(unmeasured)} (a run from before kd measured it): "
            "the Pareto front is against model bytes only, and its figure has the bytes panel only"
        )
    return sections


WITHIN_NO_P = (
    f"no p (–) with fewer than {MIN_SPLITS} splits (a variance from 2 is too rough to test "
    "with) or where the difference is the same on every split (zero variance: t undefined); "
    "the note column says why"
)


def _few(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _planned_splits(planned: dict | None, dataset, teacher) -> int:
    """How many splits the study planned for a dataset and teacher; 0 when it is not known."""
    return len((planned or {}).get((str(dataset), str(teacher)), ()))


def _across_datasets(
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
    sections = []
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
            f"{_few(left_out)}"
        )
    loss = "1 − AUC" if metric == "auc" else metric
    sections.append(
        Section(
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
    )
    ranks = mean_ranks(results, metric)
    sections.append(
        Section(
            f"mean rank across datasets and Nemenyi critical difference · {metric}",
            ranks,
            f"rank 1 = best mode on a dataset ({EACH_DATASET}; means the same within 1e-9, "
            "relative, share the average rank), averaged over the N "
            "datasets with every mode; CD = q_α·√(k(k+1)/(6N)), q_α the studentized range "
            f"quantile / √2, α = {ALPHA}: two modes whose mean ranks differ by CD or more differ "
            "significantly (Nemenyi); groups: modes not significantly different, joined by a line "
            "in the critical-difference diagram",
            "ranks",
        )
    )
    if baseline is not None:
        versus = versus_baseline(results, metric, baseline)
        name = labels.get(baseline, baseline)
        if len(versus):
            sections.append(
                Section(
                    f"each mode vs {name} across datasets · {metric}",
                    versus,
                    f"each dataset counts once ({EACH_DATASET}); wins / ties / losses against "
                    f"{name} over the N datasets (a tie: the same within 1e-9, relative); "
                    f"geo_mean_ratio = geometric mean over the datasets of {loss} (mode) / {loss} "
                    f"({name}), with its % change (< 1, negative: the mode is better), "
                    f"set_aside = datasets left out of it as {loss} is 0 on either side; "
                    "p = two-sided Wilcoxon signed-rank test on the n datasets whose difference "
                    "is not 0 (of N; ties dropped); "
                    "p_holm = Holm-adjusted over the modes compared at each student size",
                    "versus",
                )
            )
    return sections


EACH_DATASET = "per mode: its mean over the splits that every mode of the dataset has"


# --------------------------------------------------------------------------------------------
# renderers


def display_frame(section: Section) -> pd.DataFrame:
    """Cells as text: per-dataset tables show 'mean ± se (n)' with the best mode starred."""
    return _cells(section).rename(columns=section.labels)


def _cells(section: Section) -> pd.DataFrame:
    t = section.table
    if section.kind == "compression":
        out = t.copy().astype(object)
        for col in t.columns:
            if col in SIZE_METRICS:
                out[col] = [f"{v:,.0f}" if v == v else "–" for v in t[col].astype(float)]
            elif col == "ms_per_10k":
                out[col] = [f"{v:,.1f}" if v == v else "–" for v in t[col].astype(float)]
            elif col not in ("student", "size"):
                out[col] = [number_text(v) for v in t[col]]
        return out
    if section.kind == "pareto":
        return _pareto_cells(section)
    if section.kind == "capacity":
        return _capacity_cells(section)
    if section.kind != "per-dataset":
        return _stat_cells(section)
    found = [c.removesuffix("_mean") for c in t.columns if c.endswith("_mean")]
    modes = ordered_modes(found)
    lower = LOWER_IS_BETTER.get(section.metric, True)
    rows = []
    for _size, row in t.iterrows():
        cells = {m: (row[f"{m}_mean"], row[f"{m}_naive_se"], int(row[f"{m}_n"])) for m in modes}
        shown, _best = star_row(cells, modes, lower)
        rows.append([text for text, _ in shown])
    out = pd.DataFrame(rows, columns=modes, index=t.index)
    if "teacher" in found:
        out["teacher"] = [
            cell_text(r.teacher_mean, r.teacher_naive_se, n=int(r.teacher_n))
            for r in t.itertuples()
        ]
    out.index.name = "size"
    return out.reset_index()


def _pareto_cells(section: Section) -> pd.DataFrame:
    """Bytes as whole numbers, latency to 0.1 ms, '–' where unmeasured; modes by their labels."""
    t = section.table
    out = t.copy().astype(object)
    out["model_bytes"] = [f"{v:,.0f}" if v == v else "–" for v in t["model_bytes"].astype(float)]
    out["ms_per_10k"] = [f"{v:,.1f}" if v == v else "–" for v in t["ms_per_10k"].astype(float)]
    out[section.metric] = [number_text(v) for v in t[section.metric]]
    out["mode"] = [str(section.labels.get(m, m)) for m in t["mode"]]
    return out


def _capacity_cells(section: Section) -> pd.DataFrame:
    """The swept value, the teacher's own score, each mode's (★ on the best) as 'mean ± se',
    and the splits behind them."""
    t = section.table
    modes = [c.removesuffix("_mean") for c in t.columns if c.endswith("_mean")]
    modes = ordered_modes(m for m in modes if m != "teacher")
    lower = LOWER_IS_BETTER.get(section.metric, True)
    rows = []
    for value, row in t.iterrows():
        cells = {m: (row[f"{m}_mean"], row[f"{m}_naive_se"]) for m in modes}
        shown, _best = star_row(cells, modes, lower)
        teacher = cell_text(float(row["teacher_mean"]), float(row["teacher_naive_se"]))
        rows.append([value, teacher, *(text for text, _ in shown), int(row["n"])])
    return pd.DataFrame(rows, columns=[t.index.name, "teacher", *modes, "n"])


COUNTS = ("N", "n", "k", "J", "df", "df1", "df2", "wins", "ties", "losses", "set_aside")
TEXT_COLUMNS = ("dataset", "size", "teacher", "student", "mode", "groups", "p_of", "note", "front")


def _count(value) -> str:
    return "–" if value is None or value != value else str(int(value))


def _behind(row: dict) -> str:
    """What a p rests on: "n=10 of N=28; 18 ties" (Wilcoxon: the non-zero differences of the N
    datasets), "N=10" datasets (Friedman) or "J=5" splits (within one dataset)."""
    if "n" in row and "N" in row:
        n, total = _count(row["n"]), _count(row["N"])
        ties = int(row["N"]) - int(row["n"]) if n != "–" and total != "–" else 0
        return f"n={n} of N={total}" + (f"; {ties} tie{'s' * (ties != 1)}" if ties else "")
    for count in ("N", "J"):
        if count in row:
            return f"{count}={_count(row[count])}"
    return ""


def _stat_cells(section: Section) -> pd.DataFrame:
    """Numbers as text (:func:`~kdcli.reporting.tables.number_text`); counts as integers; every
    p-value with what it rests on beside it (:func:`_behind`); modes by their labels."""
    t = section.table
    out = t.map(number_text)
    for col in t.columns:
        if col in COUNTS:
            out[col] = [_count(v) for v in t[col]]
    if "geo_mean_ratio" in t.columns:
        out["geo_mean_ratio"] = [ratio_text(float(v)) for v in t["geo_mean_ratio"]]
    rows = t.to_dict("records")
    for col in ("p", "p_holm"):
        if col in t.columns:
            out[col] = [p_text(float(r[col]), _behind(r)) for r in rows]
    labels = section.labels
    if "mode" in t.columns:
        out["mode"] = [str(labels.get(m, m)) for m in t["mode"]]
    if "groups" in t.columns:
        out["groups"] = [
            " | ".join(
                ", ".join(str(labels.get(m, m)) for m in g.split(", ")) for g in text.split(" | ")
            )
            if text
            else "–"
            for text in t["groups"]
        ]
    return out


def render_rich(report: Report, console) -> None:
    """Terminal tables; every name and cell goes in as Text, so user text (a dataset called
    `[bold]x`) is shown as written, never read as markup."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    for section in report.sections:
        frame = display_frame(section)
        table = Table(title=Text(section.title), caption=Text(section.note), title_justify="left")
        for i, col in enumerate(frame.columns):
            swept = section.kind == "capacity" and i == 0  # the swept value: None, gini
            table.add_column(
                escape(str(col)),
                justify="left" if col in TEXT_COLUMNS or swept else "right",
            )
        for row in frame.itertuples(index=False):
            table.add_row(*(Text(str(v)) for v in row))
        console.print(table)
    for line in report.missing:
        console.print(Text.assemble(("missing:", "yellow"), " ", str(line)), highlight=False)
    for line in report.notes:
        console.print(Text.assemble(("note:", "cyan"), " ", str(line)), highlight=False)


def render_markdown(report: Report, links_from: Path | None = None) -> str:
    """``links_from``: the folder the file will be in, so that its image links are relative to
    it and the report can be moved or committed with its plots."""
    lines = [f"# kd report: {report.source}", "", f"metric: {report.metric}", ""]
    if report.missing:
        lines += ["**Missing results** (means are over fewer folds):", ""]
        lines += [f"- {m}" for m in report.missing] + [""]
    if report.notes:
        lines += ["**Notes**:", ""] + [f"- {n}" for n in report.notes] + [""]
    for section in report.sections:
        frame = display_frame(section)
        lines += [f"## {section.title}", "", f"_{section.note}_", ""]
        lines.append("| " + " | ".join(map(str, frame.columns)) + " |")
        lines.append("|" + "---|" * len(frame.columns))
        for row in frame.itertuples(index=False):
            lines.append("| " + " | ".join(str(v) for v in row) + " |")
        lines.append("")
    for plot in report.plots:
        link = Path(os.path.relpath(plot, links_from)).as_posix() if links_from else plot
        lines.append(f"![{plot.stem}]({link})")
    return "\n".join(lines) + "\n"


def render_csv(report: Report) -> str:
    frames = []
    for section in report.sections:
        t = section.table.reset_index() if section.kind in INDEXED else section.table
        frames.append(t.assign(section=section.title))
    if report.notes:
        frames.append(pd.DataFrame({"section": "note", "note": report.notes}))
    if not frames:
        return "section\n"
    joined = pd.concat(frames, ignore_index=True)
    cols = ["section"] + [c for c in joined.columns if c != "section"]
    return joined[cols].to_csv(index=False)


def render_json(report: Report) -> str:
    def table(section: Section):
        t = section.table.reset_index() if section.kind in INDEXED else section.table
        # 15 significant digits: a p-value of 3.8e-06 keeps its precision (pandas' default 10)
        return json.loads(t.to_json(orient="records", double_precision=15))

    return (
        json.dumps(
            {
                "source": report.source,
                "metric": report.metric,
                "missing": report.missing,
                "baseline": report.baseline,
                "notes": report.notes,
                "sections": [
                    {"title": s.title, "kind": s.kind, "note": s.note, "rows": table(s)}
                    for s in report.sections
                ],
                "plots": [str(p) for p in report.plots],
            },
            indent=2,
        )
        + "\n"
    )


def render_html(report: Report) -> str:
    """One self-contained file: tables, and the PNG plots embedded as data URIs."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>kd report: {html.escape(report.source)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:4px 8px;text-align:right}th{background:#f3f3f3}.note{color:#666}"
        "img{max-width:100%}</style></head><body>",
        f"<h1>kd report</h1><p>{html.escape(report.source)} · metric {report.metric}</p>",
    ]
    if report.missing:
        parts.append(
            "<h2>Missing results</h2><ul>"
            + "".join(f"<li>{html.escape(m)}</li>" for m in report.missing)
            + "</ul>"
        )
    if report.notes:
        parts.append(
            "<h2>Notes</h2><ul>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
            + "</ul>"
        )
    for section in report.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts.append(f"<p class='note'>{html.escape(section.note)}</p>")
        parts.append(display_frame(section).to_html(index=False, escape=True))
    for plot in report.plots:
        if plot.suffix == ".png" and plot.exists():
            data = base64.b64encode(plot.read_bytes()).decode()
            parts.append(
                f"<h2>{html.escape(plot.stem)}</h2>"
                f"<img alt='{html.escape(plot.stem)}' src='data:image/png;base64,{data}'>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


SIZE_METRICS = ("n_trees", "n_leaves", "model_bytes")


def compression_table(
    part: pd.DataFrame, metric: str, latency: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """Rows: the teacher, then each student × size; columns: its size, then the metric per mode."""
    if not part.metric.isin(SIZE_METRICS).any():
        return None
    part = part.assign(size=part["size"].fillna("").astype(str))
    sizes = part[part.metric.isin(SIZE_METRICS)].pivot_table(
        index=["student", "size"], columns="metric", values="value", aggfunc="mean"
    )
    scores = part[part.metric == metric].pivot_table(
        index=["student", "size"], columns="mode", values="value", aggfunc="mean"
    )
    modes = (["teacher"] if "teacher" in scores.columns else []) + ordered_modes(scores.columns)
    if latency is not None and len(latency):
        lat = latency.assign(size=latency["size"].fillna("").astype(str))
        sizes = sizes.join(lat.groupby(["student", "size"])["ms_per_10k"].mean(), how="left")
    table = sizes.join(scores[modes], how="left").reset_index()
    order = sorted(
        range(len(table)),
        key=lambda i: (
            table.loc[i, "student"] != "teacher",
            table.loc[i, "student"],
            size_key(table.loc[i, "size"]),
        ),
    )
    table = table.loc[order].reset_index(drop=True)
    shown = [c for c in (*SIZE_METRICS, "ms_per_10k") if c in table.columns]
    return table[["student", "size", *shown, *modes]]


def report_run(
    run: str | Path,
    metric: str | None = None,
    plots: str | Path | None = None,
    draw_plots: bool = True,
    baseline: str | None = None,
    rope: float | None = None,
) -> Report:
    """The report of a `kd fit`/`kd benchmark` output folder (or a results CSV): ``metric``
    defaults to the run's preset's, else error; plots go to ``plots`` (default RUN/plots);
    ``baseline`` is the mode every other is tested against (default raw); ``rope`` the region
    of practical equivalence of the Bayesian comparison (default: the metric's)."""
    run = Path(run)
    plots = Path(plots) if plots is not None else None
    record = run_record(run)
    notes: list[str] = []
    results = run_results(run, notes.append)  # a study's: from its unit files, every time
    settings = record.get("settings", {})
    preset = settings.get("preset") or settings.get("fit", {}).get("preset")  # kd fit | benchmark
    labels = preset_labels(preset)
    metric = metric or preset_metric(preset)
    if metric not in LOWER_IS_BETTER:
        raise KDError(f"unknown --metric '{metric}'; use one of {', '.join(LOWER_IS_BETTER)}")
    if not (results.metric == metric).any():
        raise KDError(
            f"{run} has no '{metric}' results (it has {', '.join(sorted(set(results.metric)))})"
        )
    check_rope(rope, metric)  # before any work
    members = settings.get("members")
    expected = [m["name"] for m in members] if members else None
    latency = run_latency(run)
    ratios = split_ratios(results, record)
    rep = build_report(
        results,
        metric,
        str(run),
        expected,
        latency,
        labels,
        baseline,
        ratios,
        planned(record),
        rope,
    )
    rep.notes[:0] = notes  # what reading the run left out comes first
    if draw_plots:
        from kdcli.reporting.cd_diagram import cd_diagrams
        from kdcli.reporting.plots import capacity_plots, metric_vs_size, pareto_plots, rank_plot

        folder = plots or run / "plots"
        check_writable_place(folder, "--plots", fix="choose another --plots folder or --no-plots")
        quiet = warnings.catch_warnings()  # NaN/inf cells are named in the notes instead
        with (
            quiet,
            np.errstate(invalid="ignore", over="ignore"),
            written_together(folder, "--plots folder (or --no-plots)"),
        ):
            warnings.simplefilter("ignore", RuntimeWarning)
            drawn = capacity_plots(rep.capacity, folder, labels)  # a sweep's headline
            drawn += metric_vs_size(results, metric, folder, labels)
            drawn += rank_plot(results, metric, folder, labels)
            ranks, friedman = rep.sections_of("ranks"), rep.sections_of("friedman")
            if ranks and friedman:
                drawn += cd_diagrams(ranks[0].table, friedman[0].table, metric, folder, labels)
            drawn += pareto_plots(rep.pareto, metric, folder, labels)
        rep.plots = [p for p in drawn if p.suffix == ".png"]
    return rep


RENDERERS = {
    "rich": render_markdown,  # as text; a terminal gets render_rich
    "md": render_markdown,
    "csv": render_csv,
    "json": render_json,
    "html": render_html,
}


def render(report: Report, fmt: str = "md", links_from: str | Path | None = None) -> str:
    """The report as text in one of FORMATS; Markdown links its plots relative to the folder
    ``links_from`` when given (where the file goes)."""
    if fmt not in RENDERERS:
        raise KDError(f"unknown --format '{fmt}'; use one of {', '.join(FORMATS)}")
    if fmt == "md" and links_from is not None:
        return render_markdown(report, Path(links_from))
    return RENDERERS[fmt](report)
