"""The paper's figure for any dataset (held-out metric vs student size, one line per mode, the
teacher dashed), its counterpart against teacher capacity when a study sweeps a teacher parameter
(:func:`metric_vs_teacher`), an aggregate mean-rank plot (ranks of per-dataset means) and the
metric against model bytes and latency with its Pareto front (:func:`pareto_plots`). Each is a
PNG, an SVG and a PDF, drawn with matplotlib (Agg) in a :mod:`.plot_style` (``paper``: the
printed size of a journal column); the critical-difference diagrams are in :mod:`.cd_diagram`,
the small multiples of every dataset in :mod:`.grid`."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from kdcli.atomic import atomic_write
from kdcli.records import size_key
from kdcli.reporting.capacity import CapacityTable, capacity_tables
from kdcli.reporting.compare import mean_ranks
from kdcli.reporting.model import Figure
from kdcli.reporting.pareto import AXES
from kdcli.reporting.per_dataset import per_dataset_table
from kdcli.reporting.plot_style import PlotStyle, plot_style
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
TEACHER_LOOK = {"color": "black", "linestyle": "--"}


def mode_look(mode: str) -> dict:
    """A mode's colour by its kind; a variant with its own scale (vanilla:logit) dotted."""
    return {
        "color": COLORS.get(base_mode(mode), OTHER_COLOR),
        "linestyle": ":" if split_mode(mode)[1] else "-",
    }


def _name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(parts)).strip("-")


def _save(fig, out_dir: Path, stem: str, style: PlotStyle) -> tuple[Path, ...]:
    """The style's formats (PNG at its dpi, SVG and PDF; PNG alone for a page that embeds
    them) at the figure's own size (so its fonts print at their size), each written atomically; a folder that cannot take them is one line naming it
    and --plots (kdcli.atomic)."""
    paths = []
    try:
        with style.context():  # text stays text: editable in an SVG, embedded in a PDF
            for fmt in style.formats:
                path = out_dir / f"{stem}.{fmt}"
                atomic_write(
                    path,
                    lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=style.dpi),
                    "--plots",
                )
                paths.append(path)
                # the constrained layout is worked out once, on the first (PNG, finest) draw, and
                # kept for the other formats: the same places in all three, a quarter less time
                fig.set_layout_engine("none")
    finally:
        plt.close(fig)
    return tuple(paths)


def legend_below(fig, handles: list, names: list[str], style: PlotStyle, wide: bool = False):
    """The figure's legend outside its axes, below them (constrained layout makes the room),
    in as many columns as fit the figure's width, so it covers no data."""
    renderer = fig.canvas.get_renderer()
    for ncols in range(style.legend_columns(len(names), wide), 0, -1):
        legend = fig.legend(handles, names, loc="outside lower center", ncols=ncols, frameon=False)
        if ncols == 1 or legend.get_window_extent(renderer).width <= fig.bbox.width:
            return legend
        legend.remove()
    return None  # no entries


def shared_legend(fig, style: PlotStyle, wide: bool = False):
    """One legend below the axes for the lines of all of them, each name once, in the order
    the axes first show it."""
    entries: dict[str, object] = {}
    for ax in fig.axes:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(name, handle)
    return legend_below(fig, list(entries.values()), list(entries), style, wide)


def size_table(results, dataset: str, teacher: str, student: str, metric: str) -> pd.DataFrame:
    """:func:`~.per_dataset.per_dataset_table`, its sizes small to large."""
    table = per_dataset_table(results, dataset, teacher, student, metric)
    return table.loc[sorted(table.index, key=size_key)]


def draw_curves(ax, table: pd.DataFrame, x: list, labels: dict, teacher: str) -> None:
    """A size table's curves on ``ax`` at positions ``x``: each mode's mean with a ± naive SE
    band, the teacher's own score dashed black."""
    found = [c.removesuffix("_mean") for c in table.columns if c.endswith("_mean")]
    for mode in ordered_modes(set(found) - {"teacher"}):
        mean = table[f"{mode}_mean"].astype(float)
        se = table[f"{mode}_naive_se"].astype(float).fillna(0.0)
        look = mode_look(mode)
        ax.plot(x, mean, marker="o", label=labels.get(mode, mode), **look)
        ax.fill_between(x, mean - se, mean + se, color=look["color"], alpha=0.15)
    if "teacher_mean" in table.columns:
        name = labels.get("teacher", f"teacher ({teacher})")
        ax.axhline(float(table["teacher_mean"].iloc[0]), label=name, **TEACHER_LOOK)


def size_figure(
    table: pd.DataFrame,
    names: tuple[str, str, str, str],
    labels: dict | None = None,
    style: str | PlotStyle = "paper",
):
    """The figure of one size table, ``names`` its (dataset, teacher, student, metric): one
    column wide, the legend below. The caller saves (or closes) it."""
    st = plot_style(style)
    dataset, teacher, student, metric = names
    with st.context():
        fig, ax = plt.subplots(figsize=st.figsize())
        x = list(range(len(table)))
        draw_curves(ax, table, x, labels or {}, teacher)
        ax.set_xticks(x, list(table.index))
        ax.set_xlabel(f"{student} student size")
        ax.set_ylabel(st.fill(f"held-out {metric} (band: ± naive SE)", 0.8 * st.height))
        title = f"{dataset}: {student} students distilled from {teacher}"
        ax.set_title(st.fill(title, 0.9 * st.column, st.title))
        ax.grid(alpha=0.3)
        shared_legend(fig, st)
    return fig


def metric_vs_size(
    results,
    metric: str,
    out_dir: Path,
    labels: dict | None = None,
    *,
    style: str | PlotStyle = "paper",
) -> list[Figure]:
    """One figure per (dataset, teacher, student): mean ± naive SE band per mode across sizes."""
    st = plot_style(style)
    figures: list[Figure] = []
    scores = results[results.metric == metric]
    for (dataset, teacher), part in scores.groupby(["dataset", "teacher"], sort=True):
        for student in sorted(s for s in part.student.unique() if s != "teacher"):
            names = (str(dataset), str(teacher), str(student), metric)
            table = size_table(results, *names)
            fig = size_figure(table, names, labels, st)
            title = f"{dataset}: held-out {metric} of {student} students from {teacher} by size"
            files = _save(fig, out_dir, _name(*names), st)
            figures.append(Figure(files, title, str(dataset)))
    return figures


def capacity_figure(
    item: CapacityTable, labels: dict | None = None, style: str | PlotStyle = "paper"
):
    """The figure of one capacity table: the metric at each swept value (evenly spaced, labelled
    with the values), one line per mode with a ± naive SE band, the teacher's own score dashed
    black with its band; one column wide, the legend below. The caller saves (or closes) it."""
    st = plot_style(style)
    labels = labels or {}
    table, sweep = item.table, item.sweep
    x = list(range(len(table)))
    found = [c.removesuffix("_mean") for c in table.columns if c.endswith("_mean")]
    lines = [(m, mode_look(m), labels.get(m, m)) for m in ordered_modes(set(found) - {"teacher"})]
    lines.append(("teacher", TEACHER_LOOK, labels.get("teacher", f"teacher ({sweep.name})")))
    with st.context():
        fig, ax = plt.subplots(figsize=st.figsize())
        for column, look, label in lines:
            mean = table[f"{column}_mean"].astype(float)
            se = table[f"{column}_naive_se"].astype(float).fillna(0.0)
            ax.plot(x, mean, marker="o", label=label, **look)
            ax.fill_between(x, mean - se, mean + se, color=look["color"], alpha=0.15)
        held = f" ({sweep.held})" if sweep.fixed else ""
        ax.set_xticks(x, list(table.index))
        ax.set_xlabel(st.fill(f"teacher {sweep.name} {sweep.param}{held}", 0.8 * st.column))
        ax.set_ylabel(st.fill(f"held-out {item.metric} (band: ± naive SE)", 0.8 * st.height))
        ax.set_title(st.fill(_capacity_title(item), 0.9 * st.column, st.title))
        ax.grid(alpha=0.3)
        shared_legend(fig, st)
    return fig


def _capacity_title(item: CapacityTable) -> str:
    return f"{item.dataset}: {item.student} {item.size} students distilled from {item.sweep.name}"


def metric_vs_teacher(
    results,
    metric: str,
    out_dir: Path,
    labels: dict | None = None,
    *,
    style: str | PlotStyle = "paper",
) -> list[Figure]:
    """One figure per (dataset, teacher sweep, student, size) of a --teacher-grid study
    (:func:`capacity_figure`); none when no teacher parameter is swept."""
    return capacity_plots(capacity_tables(results, metric), out_dir, labels, style=style)


def capacity_plots(
    items: list[CapacityTable],
    out_dir: Path,
    labels: dict | None = None,
    *,
    style: str | PlotStyle = "paper",
) -> list[Figure]:
    """The figures of capacity tables already made (`kd report` has them from its sections)."""
    st = plot_style(style)
    figures: list[Figure] = []
    for item in items:
        sweep = item.sweep
        held = [f"{k}={v}" for k, v in sweep.fixed]
        parts = [item.dataset, "capacity", sweep.name, sweep.param, *held, item.student, item.size]
        fig = capacity_figure(item, labels, st)
        files = _save(fig, out_dir, _name(*parts, item.metric), st)
        title = f"{_capacity_title(item)}: held-out {item.metric} by teacher {sweep.param}"
        figures.append(Figure(files, title, str(item.dataset)))
    return figures


def rank_figure(
    part: pd.DataFrame,
    names: tuple[str, str, str],
    labels: dict | None = None,
    style: str | PlotStyle = "paper",
):
    """The mean-rank figure of one (teacher, student): ``part`` the rows of
    :func:`~.compare.mean_ranks` indexed by size, ``names`` (teacher, student, metric); one
    column wide, the legend below. The caller saves (or closes) it."""
    st = plot_style(style)
    labels = labels or {}
    teacher, student, metric = names
    with st.context():
        fig, ax = plt.subplots(figsize=st.figsize())
        x = list(range(len(part)))
        shown = [c for c in part.columns if c not in (*CONFIG, "N", "CD", "groups")]
        for mode in ordered_modes(shown):
            y = part[mode].astype(float)
            ax.plot(x, y, marker="o", label=labels.get(mode, mode), **mode_look(mode))
        ax.set_xticks(x, list(part.index))
        ax.set_xlabel(f"{student} student size")
        ax.set_ylabel("mean rank (1 = best)")
        ax.invert_yaxis()
        ax.set_title(st.fill(_rank_title(teacher, metric), 0.9 * st.column, st.title))
        ax.grid(alpha=0.3)
        shared_legend(fig, st)
    return fig


def _rank_title(teacher: str, metric: str) -> str:
    return f"mean rank across datasets · teacher {teacher} · {metric}"


def rank_plot(
    results,
    metric: str,
    out_dir: Path,
    labels: dict | None = None,
    *,
    style: str | PlotStyle = "paper",
) -> list[Figure]:
    """Mean rank of each mode across datasets (of its per-dataset means), per student size."""
    st = plot_style(style)
    ranks = mean_ranks(results, metric)
    figures: list[Figure] = []
    for (teacher, student), part in ranks.groupby(["teacher", "student"], sort=True):
        if part["N"].max() < 2:  # one dataset: a rank across datasets says nothing
            continue
        part = part.set_index("size").loc[sorted(part["size"], key=size_key)]
        names = (str(teacher), str(student), metric)
        fig = rank_figure(part, names, labels, st)
        files = _save(fig, out_dir, _name("mean-rank", *names), st)
        title = f"{_rank_title(*names[::2])} · {student} students by size"
        figures.append(Figure(files, title, None))
    return figures


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "p", "d")
AXIS_LABELS = {"bytes": "model bytes (log)", "latency": "prediction ms per 10,000 rows (log)"}
ALL_SIZES_UP_TO = 24  # points in a panel up to which every one is labelled with its size


def pareto_plots(
    table,
    metric: str,
    out_dir: Path,
    labels: dict | None = None,
    *,
    style: str | PlotStyle = "paper",
) -> list[Figure]:
    """One figure per (dataset, teacher, student) of a :func:`~.pareto.pareto_table`: the metric
    against model bytes | latency, each (mode, size) a point, the front ringed and joined, the
    teacher a black star; only the bytes panel where the run measured no latency."""
    st = plot_style(style)
    labels = labels or {}
    figures: list[Figure] = []
    if not len(table):
        return figures
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
        fig = pareto_figure(points, own, metric, markers, labels, st)
        parts = (str(dataset), str(teacher), str(student), "pareto", metric)
        files = _save(fig, out_dir, _name(*parts), st)
        title = f"{dataset}: {metric} of {student} students from {teacher} by model size"
        figures.append(Figure(files, title, str(dataset)))
    return figures


def pareto_figure(
    points, teacher, metric: str, markers: dict, labels: dict, style: str | PlotStyle = "paper"
):
    """The figure of one student family (``points``) beside its ``teacher`` row (may be empty):
    two columns wide with both panels, one with bytes only; the legend below the axes, so that
    it covers no point. The caller saves it."""
    st = plot_style(style)
    panels = [n for n in AXES if points[AXES[n]].notna().any()] or ["bytes"]
    wide = len(panels) > 1
    with st.context():
        fig, axes = plt.subplots(
            1, len(panels), figsize=st.figsize(wide), sharey=True, squeeze=False
        )
        for ax, name in zip(axes[0], panels, strict=True):
            _pareto_panel(ax, points, teacher, (metric, name), markers, labels, st)
        lower = LOWER_IS_BETTER.get(metric, True)
        better = "lower" if lower else "higher"
        ylabel = f"held-out {metric}, mean over splits ({better} is better)"
        axes[0][0].set_ylabel(st.fill(ylabel, 0.8 * st.height))
        row = points.iloc[0]
        missing = "" if "latency" in panels else " · no latency measured: bytes only"
        title = f"{row.dataset}: {row.student} students distilled from {row.teacher}{missing}"
        fig.suptitle(st.fill(title, 0.9 * st.figsize(wide)[0], st.title))
        handles, names = axes[0][0].get_legend_handles_labels()
        legend_below(fig, handles, names, st, wide)
    return fig


def _pareto_panel(ax, points, teacher, axis: tuple[str, str], markers, labels, st) -> None:
    """One panel: ``axis`` (metric, bytes | latency)."""
    metric, name = axis
    x = AXES[name]
    ring, star = (2.1 * st.markersize) ** 2, (2.5 * st.markersize) ** 2  # areas in pt²
    for mode, part in points.groupby("mode", sort=False):
        ax.scatter(
            part[x],
            part[metric],
            marker=markers.get(mode, "o"),
            color=mode_look(mode)["color"],
            label=labels.get(mode, mode),
            alpha=0.85,  # a point under another of the same place still shows
            zorder=3,
        )
    front = points[points[f"on_front_{name}"]].sort_values([x, metric])
    ax.step(front[x], front[metric], where="post", color="black", alpha=0.5, linewidth=1)
    ax.scatter(
        front[x],
        front[metric],
        s=ring,
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
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=st.small,
            color="#444444",
        )
    if len(teacher) and teacher[[x, metric]].notna().all(axis=None):
        ax.scatter(
            teacher[x],
            teacher[metric],
            marker="*",
            s=star,
            color="black",
            label=labels.get("teacher", f"teacher ({teacher['teacher'].iloc[0]})"),
            zorder=5,
        )
    ax.set_xscale("log")
    ax.set_xlabel(AXIS_LABELS[name])
    ax.set_title(f"{metric} vs {name}")
    ax.grid(alpha=0.3, which="both")
