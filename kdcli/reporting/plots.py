"""The paper's figure for any dataset (held-out metric vs student size, one line per mode, the
teacher dashed), its counterpart against teacher capacity when a study sweeps a teacher parameter
(:func:`metric_vs_teacher`) and an aggregate mean-rank plot (ranks of per-dataset means). PNG and
SVG, drawn with matplotlib (Agg); the critical-difference diagrams are in :mod:`.cd_diagram`."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from kdcli.atomic import atomic_write
from kdcli.records import size_key
from kdcli.reporting.capacity import CapacityTable, capacity_tables
from kdcli.reporting.compare import CONFIG, mean_ranks, per_dataset_table
from kdcli.science.targets import base_mode, ordered_modes, split_mode

COLORS = {
    "raw": "#7f7f7f",
    "vanilla": "#1f77b4",
    "crossfit": "#2ca02c",
    "corrected": "#d62728",
    "mixed": "#9467bd",
}
OTHER_COLOR = "#8c564b"  # a mode kd does not know


def _style(mode: str) -> dict:
    """A mode's colour by its kind; a variant with its own scale (vanilla:logit) dotted."""
    return {
        "color": COLORS.get(base_mode(mode), OTHER_COLOR),
        "linestyle": ":" if split_mode(mode)[1] else "-",
    }


def _name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(parts)).strip("-")


def _save(fig, out_dir: Path, stem: str) -> list[Path]:
    """PNG and SVG, each written atomically; a folder that cannot take them is one line naming
    it and --plots (kdcli.atomic)."""
    paths = []
    try:
        for fmt in ("png", "svg"):
            path = out_dir / f"{stem}.{fmt}"
            atomic_write(
                path,
                lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=120, bbox_inches="tight"),
                "--plots",
            )
            paths.append(path)
    finally:
        plt.close(fig)
    return paths


def metric_vs_size(results, metric: str, out_dir: Path, labels: dict | None = None) -> list[Path]:
    """One figure per (dataset, teacher, student): mean ± naive SE band per mode across sizes."""
    labels = labels or {}
    paths: list[Path] = []
    scores = results[results.metric == metric]
    for (dataset, teacher), part in scores.groupby(["dataset", "teacher"], sort=True):
        for student in sorted(s for s in part.student.unique() if s != "teacher"):
            table = per_dataset_table(results, dataset, teacher, student, metric)
            sizes = sorted(table.index, key=size_key)
            table = table.loc[sizes]
            x = list(range(len(sizes)))
            fig, ax = plt.subplots(figsize=(6, 4))
            found = [c.removesuffix("_mean") for c in table.columns if c.endswith("_mean")]
            for mode in ordered_modes(found):
                mean = table[f"{mode}_mean"].astype(float)
                se = table[f"{mode}_naive_se"].astype(float).fillna(0.0)
                style = _style(mode)
                ax.plot(x, mean, marker="o", label=labels.get(mode, mode), **style)
                ax.fill_between(x, mean - se, mean + se, color=style["color"], alpha=0.15)
            if "teacher_mean" in table.columns:
                ax.axhline(
                    float(table["teacher_mean"].iloc[0]),
                    color="black",
                    linestyle="--",
                    label=f"teacher ({teacher})",
                )
            ax.set_xticks(x, sizes)
            ax.set_xlabel(f"{student} student size")
            ax.set_ylabel(f"held-out {metric} (band: ± naive SE)")
            ax.set_title(f"{dataset}: {student} students distilled from {teacher}")
            ax.legend(frameon=False)
            ax.grid(alpha=0.3)
            paths += _save(fig, out_dir, _name(dataset, teacher, student, metric))
    return paths


def capacity_figure(item: CapacityTable, labels: dict | None = None):
    """The figure of one capacity table: the metric at each swept value (evenly spaced, labelled
    with the values), one line per mode with a ± naive SE band, the teacher's own score dashed
    black with its band. The caller saves (or closes) it."""
    labels = labels or {}
    table, sweep = item.table, item.sweep
    x = list(range(len(table)))
    fig, ax = plt.subplots(figsize=(6, 4))
    found = [c.removesuffix("_mean") for c in table.columns if c.endswith("_mean")]
    lines = [(m, _style(m), labels.get(m, m)) for m in ordered_modes(set(found) - {"teacher"})]
    teacher = {"color": "black", "linestyle": "--"}
    lines.append(("teacher", teacher, labels.get("teacher", f"teacher ({sweep.name})")))
    for column, style, label in lines:
        mean = table[f"{column}_mean"].astype(float)
        se = table[f"{column}_naive_se"].astype(float).fillna(0.0)
        ax.plot(x, mean, marker="o", label=label, **style)
        ax.fill_between(x, mean - se, mean + se, color=style["color"], alpha=0.15)
    held = f" ({sweep.held})" if sweep.fixed else ""
    ax.set_xticks(x, list(table.index))
    ax.set_xlabel(f"teacher {sweep.name} {sweep.param}{held}")
    ax.set_ylabel(f"held-out {item.metric} (band: ± naive SE)")
    ax.set_title(f"{item.dataset}: {item.student} {item.size} students distilled from {sweep.name}")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return fig


def metric_vs_teacher(
    results, metric: str, out_dir: Path, labels: dict | None = None
) -> list[Path]:
    """One figure per (dataset, teacher sweep, student, size) of a --teacher-grid study
    (:func:`capacity_figure`); none when no teacher parameter is swept."""
    return capacity_plots(capacity_tables(results, metric), out_dir, labels)


def capacity_plots(
    items: list[CapacityTable], out_dir: Path, labels: dict | None = None
) -> list[Path]:
    """The figures of capacity tables already made (`kd report` has them from its sections)."""
    paths: list[Path] = []
    for item in items:
        sweep = item.sweep
        held = [f"{k}={v}" for k, v in sweep.fixed]
        parts = [item.dataset, "capacity", sweep.name, sweep.param, *held, item.student, item.size]
        paths += _save(capacity_figure(item, labels), out_dir, _name(*parts, item.metric))
    return paths


def rank_plot(results, metric: str, out_dir: Path, labels: dict | None = None) -> list[Path]:
    """Mean rank of each mode across datasets (of its per-dataset means), per student size."""
    labels = labels or {}
    ranks = mean_ranks(results, metric)
    paths: list[Path] = []
    for (teacher, student), part in ranks.groupby(["teacher", "student"], sort=True):
        part = part.set_index("size").loc[sorted(part["size"], key=size_key)]
        fig, ax = plt.subplots(figsize=(6, 4))
        x = list(range(len(part)))
        shown = [c for c in part.columns if c not in (*CONFIG, "N", "CD", "groups")]
        for mode in ordered_modes(shown):
            ax.plot(
                x,
                part[mode].astype(float),
                marker="o",
                label=labels.get(mode, mode),
                **_style(mode),
            )
        ax.set_xticks(x, list(part.index))
        ax.set_xlabel(f"{student} student size")
        ax.set_ylabel("mean rank (1 = best)")
        ax.invert_yaxis()
        ax.set_title(f"mean rank across datasets · teacher {teacher} · {metric}")
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
        paths += _save(fig, out_dir, _name("mean-rank", teacher, student, metric))
    return paths
