"""Small multiples: one figure per (teacher, student) with every dataset's metric-vs-size curves
as a small panel, so a reader sees at a glance on which datasets a mode helps, which one page of
a figure per dataset cannot show. Two columns wide, a row of panels per few datasets, the sizes
on one shared axis, one legend for all panels below them."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kdcli.records import size_key
from kdcli.reporting.model import Figure
from kdcli.reporting.plot_style import PlotStyle, plot_style
from kdcli.reporting.plots import _name, _save, draw_curves, shared_legend, size_table

X_TICKS = 4  # at most this many size labels under a panel
Y_TICKS = 3


def grid_plots(
    results: pd.DataFrame,
    metric: str,
    out_dir: Path,
    labels: dict | None = None,
    *,
    style: str | PlotStyle = "paper",
) -> list[Figure]:
    """One grid per (teacher, student) with 2 datasets or more (:func:`grid_figure`)."""
    st = plot_style(style)
    scores = results[(results.metric == metric) & (results.student != "teacher")]
    figures: list[Figure] = []
    for (teacher, student), part in scores.groupby(["teacher", "student"], sort=True):
        datasets = sorted({str(d) for d in part["dataset"]})
        if len(datasets) < 2:  # one panel is the dataset's own figure
            continue
        names = (str(teacher), str(student), metric)
        tables = {d: size_table(results, d, *names) for d in datasets}
        fig = grid_figure(tables, names, labels, st)
        files = _save(fig, out_dir, _name("grid", *names), st)
        title = f"held-out {metric} of {student} students from {teacher} by size, every dataset"
        figures.append(Figure(files, title, None))
    return figures


def grid_figure(
    tables: dict[str, pd.DataFrame],
    names: tuple[str, str, str],
    labels: dict | None = None,
    style: str | PlotStyle = "paper",
):
    """The grid of ``tables`` (dataset → :func:`~.plots.size_table`), ``names`` its (teacher,
    student, metric): a panel per dataset titled with its name, every mode's curve and the
    teacher dashed, few ticks, the sizes of all datasets on one x axis. The caller saves it."""
    st = plot_style(style)
    teacher, student, metric = names
    sizes = sorted({str(s) for table in tables.values() for s in table.index}, key=size_key)
    where = {size: i for i, size in enumerate(sizes)}
    columns = min(st.grid_columns, len(tables))
    rows = math.ceil(len(tables) / columns)
    height = rows * st.panel + 1.3 * st.font / 9  # the title, the shared labels, the legend
    with st.context():
        fig, axes = plt.subplots(
            rows, columns, figsize=st.figsize(True, height), sharex=True, squeeze=False
        )
        panels = list(axes.flat)
        for ax in panels[len(tables) :]:
            fig.delaxes(ax)  # the last row's empty places
        width = 0.8 * st.wide / columns  # a panel's room for its title
        for i, (ax, (dataset, table)) in enumerate(zip(panels, tables.items(), strict=False)):
            draw_curves(ax, table, [where[str(s)] for s in table.index], labels or {}, teacher)
            ax.set_title(st.fill(dataset, width, st.small), fontsize=st.small)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=Y_TICKS))
            if i + columns >= len(tables):  # the lowest panel of its column
                ax.tick_params(labelbottom=True)
                ax.set_xlabel(f"{student} size")
            ax.grid(alpha=0.3)
        shared = panels[0].xaxis  # every panel shares its locator and formatter
        shared.set_major_locator(MaxNLocator(nbins=X_TICKS, integer=True, min_n_ticks=1))
        shared.set_major_formatter(FuncFormatter(lambda v, _: _size_at(sizes, v)))
        panels[0].set_xlim(-0.5, len(sizes) - 0.5)  # every size has its place, first to last
        title = (
            f"{student} students distilled from {teacher}: held-out {metric} on each dataset "
            "(band: ± naive SE)"
        )
        fig.suptitle(st.fill(title, 0.9 * st.wide, st.title))
        fig.supylabel(f"held-out {metric}")
        shared_legend(fig, st, wide=True)
    return fig


def _size_at(sizes: list[str], position: float) -> str:
    """The size at a tick's position on the shared axis ('' between or beyond the sizes)."""
    index = round(position)
    return sizes[index] if abs(position - index) < 1e-9 and 0 <= index < len(sizes) else ""
