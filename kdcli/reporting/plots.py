"""The paper's figure for any dataset (held-out metric vs student size, one line per mode, the
teacher dashed), its counterpart against teacher capacity when a study sweeps a teacher parameter
(:func:`metric_vs_teacher`), an aggregate mean-rank plot (ranks of per-dataset means) and the
metric against model bytes and latency with its Pareto front (:func:`pareto_plots`). PNG and
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
from kdcli.reporting.compare import mean_ranks
from kdcli.reporting.pareto import AXES
from kdcli.reporting.per_dataset import per_dataset_table
from kdcli.reporting.results_frame import CONFIG
from kdcli.science.metrics import LOWER_IS_BETTER
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


FORMATS = ("png", "svg", "pdf")  # a page's image, an editable vector, a paper's figure
DPI = 300  # print quality: a 3.5 in column at 300 dpi is 1,050 pixels wide


def _save(fig, out_dir: Path, stem: str) -> list[Path]:
    """PNG (at :data:`DPI`), SVG and PDF, each written atomically; a folder that cannot take
    them is one line naming it and --plots (kdcli.atomic)."""
    paths = []
    try:
        # text stays text: labels can be edited in an SVG, and a PDF embeds its fonts (Type 42)
        with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
            for fmt in FORMATS:
                path = out_dir / f"{stem}.{fmt}"
                atomic_write(
                    path,
                    lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=DPI, bbox_inches="tight"),
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
        if part["N"].max() < 2:  # one dataset: a rank across datasets says nothing
            continue
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
        paths += _save(fig, out_dir, _name("mean-rank", str(teacher), str(student), metric))
    return paths


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "p", "d")
AXIS_LABELS = {"bytes": "model bytes (log)", "latency": "prediction ms per 10,000 rows (log)"}
ALL_SIZES_UP_TO = 24  # points in a panel up to which every one is labelled with its size


def pareto_plots(table, metric: str, out_dir: Path, labels: dict | None = None) -> list[Path]:
    """One figure per (dataset, teacher, student) of a :func:`~.pareto.pareto_table`: the metric
    against model bytes | latency, each (mode, size) a point, the front ringed and joined, the
    teacher a black star; only the bytes panel where the run measured no latency."""
    labels = labels or {}
    paths: list[Path] = []
    if not len(table):
        return paths
    modes = ordered_modes(table["mode"].unique())
    markers = {m: MARKERS[i % len(MARKERS)] for i, m in enumerate(modes)}
    students = table[table["student"] != "teacher"]
    for (dataset, teacher, student), points in students.groupby(
        ["dataset", "teacher", "student"], sort=True
    ):
        own = table[
            (table["dataset"] == dataset)
            & (table["teacher"] == teacher)
            & (table["student"] == "teacher")
        ]
        fig = pareto_figure(points, own, metric, markers, labels)
        parts = (str(dataset), str(teacher), str(student), "pareto", metric)
        paths += _save(fig, out_dir, _name(*parts))
    return paths


def pareto_figure(points, teacher, metric: str, markers: dict, labels: dict):
    """The figure of one student family (``points``) beside its ``teacher`` row (may be empty);
    the legend sits outside the axes so that it covers no point. The caller saves it."""
    panels = [n for n in AXES if points[AXES[n]].notna().any()] or ["bytes"]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.2 * len(panels), 4.2), sharey=True, squeeze=False
    )
    for ax, name in zip(axes[0], panels, strict=True):
        _pareto_panel(ax, points, teacher, metric, name, markers, labels)
    lower = LOWER_IS_BETTER.get(metric, True)
    better = "lower" if lower else "higher"
    axes[0][0].set_ylabel(f"held-out {metric}, mean over splits ({better} is better)")
    row = points.iloc[0]
    missing = "" if "latency" in panels else " · no latency measured: bytes only"
    fig.suptitle(f"{row.dataset}: {row.student} students distilled from {row.teacher}{missing}")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def _pareto_panel(ax, points, teacher, metric: str, name: str, markers, labels) -> None:
    x = AXES[name]
    for mode, part in points.groupby("mode", sort=False):
        ax.scatter(
            part[x],
            part[metric],
            marker=markers.get(mode, "o"),
            color=_style(mode)["color"],
            label=labels.get(mode, mode),
            alpha=0.85,  # a point under another of the same place still shows
            zorder=3,
        )
    front = points[points[f"on_front_{name}"]].sort_values([x, metric])
    ax.step(front[x], front[metric], where="post", color="black", alpha=0.5, linewidth=1)
    ax.scatter(
        front[x],
        front[metric],
        s=160,
        facecolors="none",
        edgecolors="black",
        linewidths=1,
        label="Pareto front",
        zorder=4,
    )
    shown = points if len(points) <= ALL_SIZES_UP_TO else front
    for size, xv, yv in zip(shown["size"], shown[x], shown[metric], strict=True):
        ax.annotate(
            str(size),
            (xv, yv),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7,
            color="#444444",
        )
    if len(teacher) and teacher[[x, metric]].notna().all(axis=None):
        ax.scatter(
            teacher[x],
            teacher[metric],
            marker="*",
            s=220,
            color="black",
            label=labels.get("teacher", f"teacher ({teacher['teacher'].iloc[0]})"),
            zorder=5,
        )
    ax.set_xscale("log")
    ax.set_xlabel(AXIS_LABELS[name])
    ax.set_title(f"{metric} vs {name}")
    ax.grid(alpha=0.3, which="both")
