"""The one summary table of a study (`kd report --summary`, and the end screen of `kd benchmark`):
datasets as rows and modes as columns at one (teacher, student, size), the best marked, and under
them what the tests across datasets say. Every number comes from the report's own builders
(:func:`~.per_dataset.per_dataset_table`, :mod:`.compare`, :mod:`.bayes`), so the summary never
disagrees with the full report."""

from __future__ import annotations

import math

import pandas as pd

from kdcli.errors import KDError
from kdcli.records import size_key
from kdcli.reporting.bayes import bayes_tables
from kdcli.reporting.compare import (
    choose_baseline,
    friedman_table,
    mean_ranks,
    versus_baseline,
)
from kdcli.reporting.model import Report, Section
from kdcli.reporting.numerics import quiet_numerics
from kdcli.reporting.per_dataset import best_modes, per_dataset_table
from kdcli.reporting.results_frame import TEACHER_MODE
from kdcli.reporting.study_verdict import study_verdict
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import ordered_modes

ROW = "dataset"  # the column of row names: a dataset, or one of the statistics below them
STAT = "statistic"  # "" on a dataset's row; on the rows below, which statistic (cells.py reads it)
PROBABILITIES = ("p_better", "p_rope", "p_worse")


def default_size(sizes: list[str]) -> str:
    """The middle size in numeric order (the lower middle of an even count), so the table shows
    a student small enough for distillation to matter; "full" only when it is the only size."""
    ordered = sorted(sizes, key=size_key)
    sized = [s for s in ordered if s != "full"] or ordered
    return sized[(len(sized) - 1) // 2]


def summary_report(
    results: pd.DataFrame,
    metric: str,
    source: str,
    *,
    baseline: str | None = None,
    teacher: str | None = None,
    student: str | None = None,
    size: str | None = None,
    labels: dict | None = None,
    rope: float | None = None,
) -> Report:
    """A report holding only the summary section (:func:`summary_section`), its notes and the
    verdict across datasets of its teacher and student."""
    report = Report(source, metric)
    scores, teacher, student = _chosen(results, metric, teacher, student)
    with quiet_numerics():
        section, baseline, notes = summary_section(
            results,
            metric,
            baseline=baseline,
            teacher=teacher,
            student=student,
            size=size,
            labels=labels,
            rope=rope,
        )
    report.sections.append(section)
    report.baseline = baseline
    report.notes += notes
    if scores["dataset"].nunique() >= 2:  # the verdict of the summary's teacher and student
        config = results[
            (results["teacher"].astype(str) == teacher)
            & (results["student"].astype(str) == student)
        ]
        with quiet_numerics():
            report.verdict = study_verdict(config, metric, baseline, labels or {})
    return report


def summary_section(
    results: pd.DataFrame,
    metric: str,
    *,
    baseline: str | None = None,
    teacher: str | None = None,
    student: str | None = None,
    size: str | None = None,
    labels: dict | None = None,
    rope: float | None = None,
) -> tuple[Section, str | None, list[str]]:
    """The summary of one (teacher, student, size) on ``metric``: teacher and student default
    to the first of the results, size to :func:`default_size`; the Bayesian rows only when
    ``rope`` is given. Returns the section, the baseline used and notes on what is absent."""
    labels = labels or {}
    scores, teacher, student = _chosen(results, metric, teacher, student)
    sizes = [str(s) for s in scores["size"].unique()]
    if size is None:
        size = default_size(sizes)
    elif str(size) not in sizes:
        shown = ", ".join(sorted(sizes, key=size_key))
        raise KDError(f"--size {size} is not a size of the {student} student; use one of {shown}")
    size = str(size)
    modes = ordered_modes(scores["mode"].unique())
    baseline, why = choose_baseline(modes, baseline)
    config = _config_of(results, teacher, student, size)
    table = _dataset_rows(results, scores, teacher, student, size, metric, modes)
    table = pd.concat([table, _stat_rows(config, metric, modes, baseline, labels, rope)])
    name = labels.get(baseline, baseline)
    title = f"summary · teacher {teacher} · {student} {size} student · {metric}"
    section = Section(
        title, table.reset_index(drop=True), _note(metric, name, rope), "summary", metric
    )
    section.labels = labels
    notes = [why] if why else []
    if scores["dataset"].nunique() < 2:
        notes.append("no test across datasets in the summary: it needs at least 2 datasets")
    return section, baseline, notes


def _chosen(
    results: pd.DataFrame, metric: str, teacher: str | None, student: str | None
) -> tuple[pd.DataFrame, str, str]:
    """The scores of one teacher and student (each given, or the first of the results), and
    the two chosen."""
    scores = results[(results["metric"] == metric) & (results["mode"] != TEACHER_MODE)]
    teacher = _pick(scores["teacher"], teacher, "--teacher", "teachers")
    scores = scores[scores["teacher"].astype(str) == teacher]
    student = _pick(scores["student"], student, "--student", "students")
    return scores[scores["student"].astype(str) == student], teacher, student


def _pick(values: pd.Series, chosen: str | None, option: str, what: str) -> str:
    """``chosen`` when the results have it, else the first in the results' order; an error
    naming the ones there are otherwise."""
    present = [str(v) for v in dict.fromkeys(values)]
    if not present:
        raise KDError(f"no results to summarise: the results have no {what}")
    if chosen is None:
        return present[0]
    if str(chosen) not in present:
        raise KDError(f"{option} {chosen} is not in these results; use one of {', '.join(present)}")
    return str(chosen)


def _config_of(results: pd.DataFrame, teacher: str, student: str, size: str) -> pd.DataFrame:
    """The results of one configuration (with every other metric and the teacher's own rows
    kept out), for the tests across datasets."""
    keep = (results["teacher"].astype(str) == teacher) & (
        (results["student"].astype(str) == student) & (results["size"].astype(str) == size)
    )
    return results[keep]


def _dataset_rows(
    results: pd.DataFrame,
    scores: pd.DataFrame,
    teacher: str,
    student: str,
    size: str,
    metric: str,
    modes: list[str],
) -> pd.DataFrame:
    """One row per dataset: each mode's mean and naive SE, and the best (the one ★ rule)."""
    lower = LOWER_IS_BETTER[metric]
    records = []
    for dataset in sorted(scores["dataset"].astype(str).unique()):
        part = results[(results["dataset"].astype(str) == dataset)]
        table = per_dataset_table(part, dataset, teacher, student, metric)
        row: dict = table.loc[size].to_dict() if size in table.index else {}
        record: dict[str, object] = {ROW: dataset, STAT: ""}
        means = {}
        for mode in modes:
            means[mode] = float(row.get(f"{mode}_mean", math.nan))
            record[mode] = means[mode]
            record[f"{mode}_naive_se"] = float(row.get(f"{mode}_naive_se", math.nan))
        record["best"] = "=".join(best_modes(means, lower))
        records.append(record)
    return pd.DataFrame.from_records(records, columns=_columns(modes))


def _columns(modes: list[str]) -> list[str]:
    return [ROW, STAT, *(c for m in modes for c in (m, f"{m}_naive_se")), "best"]


def _stat_rows(
    config: pd.DataFrame,
    metric: str,
    modes: list[str],
    baseline: str | None,
    labels: dict,
    rope: float | None,
) -> pd.DataFrame:
    """The rows under the datasets: mean rank, wins/ties/losses and Holm-adjusted Wilcoxon p
    against the baseline, Friedman's p (in the first mode's column), and with ``rope`` the
    Bayesian probabilities. Empty cells are NaN ("–" when shown)."""
    rows: list[dict[str, object]] = []
    if config["dataset"].nunique() < 2 or len(modes) < 2:
        return pd.DataFrame(rows, columns=_columns(modes))
    ranks = mean_ranks(config, metric)
    if len(ranks):
        rank = {m: float(ranks[m].iloc[0]) for m in modes if m in ranks.columns}
        best = best_modes({m: rank.get(m, math.nan) for m in modes}, lower=True)
        rows.append({ROW: "mean rank", STAT: "mean_rank", **rank, "best": "=".join(best)})
    friedman = friedman_table(config, metric)
    if len(friedman):
        f = friedman.iloc[0]
        what = f"Friedman p (N={int(f['N'])}, k={int(f['k'])})"
        rows.append({ROW: what, STAT: "friedman_p", modes[0]: f["p"]})
    if baseline is not None:
        name = labels.get(baseline, baseline)
        versus = versus_baseline(config, metric, baseline).set_index("mode")
        wtl = {m: f"{r.wins}/{r.ties}/{r.losses}" for m, r in versus.iterrows()}
        rows.append({ROW: f"wins/ties/losses vs {name}", STAT: "wins_ties_losses", **wtl})
        p_holm = versus["p_holm"].to_dict()
        rows.append({ROW: f"Wilcoxon p (Holm) vs {name}", STAT: "p_holm", **p_holm})
        if rope is not None:
            rows += _bayes_rows(config, metric, modes, baseline, rope, name)
    return pd.DataFrame(rows, columns=_columns(modes))


def _bayes_rows(
    config: pd.DataFrame, metric: str, modes: list[str], baseline: str, rope: float, name: str
) -> list[dict[str, object]]:
    """P(better than the baseline), P(practically equal), P(worse), each mode a column."""
    tables = bayes_tables(config, metric, modes, baseline, rope, {})
    across = [t for t in tables if t.scope == "across"]
    if not across:
        return []
    table = across[0].table.set_index("mode")
    words = {"p_better": f"P(better than {name})", "p_rope": f"P(within ±{rope:g} of {name})"}
    words["p_worse"] = f"P(worse than {name})"
    return [{ROW: words[p], STAT: p, **table[p].to_dict()} for p in PROBABILITIES]


def _note(metric: str, baseline: str | None, rope: float | None) -> str:
    """What the rows are and where each statistic comes from."""
    bayes = (
        f"; P(…): Bayesian signed-rank test on the per-dataset means, rope ±{rope:g}"
        if baseline and rope is not None
        else ""
    )
    against = (
        f"; wins/ties/losses against {baseline} over the datasets (a tie: the same within 1e-9, "
        "relative); Wilcoxon p = two-sided signed-rank test of each mode against "
        f"{baseline}, Holm-adjusted over the modes"
        if baseline
        else ""
    )
    return (
        f"each dataset: mean ± naive SE of {metric} over its splits (sd/√n; the splits share "
        "training rows, so it understates the uncertainty); ★ the best mode, ties all starred; "
        "mean rank: 1 = best on a dataset, averaged over the datasets with every mode (★ the "
        "lowest); Friedman p: do the modes differ at all (one p, in the first column)"
        f"{against}{bayes}; the full report (kd report without --summary) has every test in "
        "detail"
    )
