"""Cells as text for every renderer of `kd report` (:func:`display_frame`): one place decides how
a mean, a p-value, a count or a byte size reads, so the terminal, Markdown and HTML agree."""

from __future__ import annotations

import math

import pandas as pd

from kdcli.reporting.compression import SIZE_METRICS
from kdcli.reporting.model import Section
from kdcli.reporting.tables import cell_text, number_text, p_text, ratio_text, star_row
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import ordered_modes

COUNTS = ("N", "n", "k", "J", "df", "df1", "df2", "wins", "ties", "losses", "set_aside")
TEXT_COLUMNS = ("dataset", "size", "teacher", "student", "mode", "groups", "p_of", "note", "front")


def display_frame(section: Section) -> pd.DataFrame:
    """Cells as text: per-dataset tables show 'mean ± se (n)' with the best mode starred."""
    return _cells(section).rename(columns=section.labels)


def _cells(section: Section) -> pd.DataFrame:
    """The cells of one section by its kind, before modes are renamed to their labels."""
    if section.kind == "compression":
        return _compression_cells(section)
    if section.kind == "pareto":
        return _pareto_cells(section)
    if section.kind == "capacity":
        return _capacity_cells(section)
    if section.kind == "summary":
        return _summary_cells(section)
    if section.kind != "per-dataset":
        return _stat_cells(section)
    return _per_dataset_cells(section)


def _whole(values: pd.Series) -> list[str]:
    """Bytes, trees and leaves as whole numbers with thousands separators; '–' where none."""
    return [f"{v:,.0f}" if v == v else "–" for v in values.astype(float)]


def _tenths(values: pd.Series) -> list[str]:
    """Latency to 0.1 ms; '–' where unmeasured."""
    return [f"{v:,.1f}" if v == v else "–" for v in values.astype(float)]


def _compression_cells(section: Section) -> pd.DataFrame:
    """Sizes as whole numbers, latency to 0.1 ms, scores as every statistic."""
    t = section.table
    out = t.copy().astype(object)
    for col in t.columns:
        if col in SIZE_METRICS:
            out[col] = _whole(t[col])
        elif col == "ms_per_10k":
            out[col] = _tenths(t[col])
        elif col not in ("student", "size"):
            out[col] = [number_text(v) for v in t[col]]
    return out


def _per_dataset_cells(section: Section) -> pd.DataFrame:
    """Rows: sizes; each mode 'mean ± se (n)', ★ on the best; the teacher's own score last."""
    t = section.table
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
        own = zip(t["teacher_mean"], t["teacher_naive_se"], t["teacher_n"], strict=True)
        out["teacher"] = [cell_text(mean, se, n=int(n)) for mean, se, n in own]
    out.index.name = "size"
    return out.reset_index()


def _pareto_cells(section: Section) -> pd.DataFrame:
    """Bytes as whole numbers, latency to 0.1 ms, '–' where unmeasured; modes by their labels."""
    t = section.table
    out = t.copy().astype(object)
    out["model_bytes"] = _whole(t["model_bytes"])
    out["ms_per_10k"] = _tenths(t["ms_per_10k"])
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


def _summary_cells(section: Section) -> pd.DataFrame:
    """Datasets: each mode 'mean ± se', ★ on the best (:func:`star_row`); under them the mean
    rank (★ the lowest), wins/ties/losses as written, p-values and probabilities as numbers."""
    t = section.table
    plain = ("dataset", "statistic", "best")
    modes = ordered_modes(c for c in t.columns if c not in plain and not c.endswith("_se"))
    lower = LOWER_IS_BETTER.get(section.metric, True)
    rows = []
    for row in t.to_dict("records"):
        stat = row["statistic"]
        if not stat:
            cells = {m: (row[m], row[f"{m}_naive_se"]) for m in modes}
            shown = [text for text, _ in star_row(cells, modes, lower)[0]]
        elif stat == "mean_rank":
            ranks = {m: (row[m], math.nan) for m in modes if row[m] == row[m]}
            shown = [text for text, _ in star_row(ranks, modes, lower=True, digits=2)[0]]
        else:
            shown = [_summary_stat(stat, row[m]) for m in modes]
        rows.append([row["dataset"], *shown])
    return pd.DataFrame(rows, columns=["dataset", *modes])


def _summary_stat(stat: str, value: float | str | None) -> str:
    """A cell under the datasets: '–' for none, a p as a p, wins/ties/losses as written."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if stat in ("friedman_p", "p_holm"):
        return p_text(float(value))
    if stat == "wins_ties_losses":
        return str(value)
    return number_text(value)


def _count(value: float | None) -> str:
    """A count as an integer; '–' for none (None or NaN)."""
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
        out["groups"] = [_groups_text(text, labels) for text in t["groups"]]
    return out


def _groups_text(text: str, labels: dict) -> str:
    """Nemenyi groups ('a, b | b, c') with each mode by its label; '–' for none."""
    if not text:
        return "–"
    return " | ".join(
        ", ".join(str(labels.get(m, m)) for m in g.split(", ")) for g in text.split(" | ")
    )
