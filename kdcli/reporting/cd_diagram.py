"""Critical-difference diagrams (Demšar 2006, Fig. 1): each mode's mean rank across datasets on
one axis, the Nemenyi critical difference as a bar, and a thick line under every group of modes
that are not significantly different. PNG, SVG and PDF, drawn with matplotlib (Agg), two
columns wide in a :mod:`.plot_style`."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from kdcli.reporting.model import Figure
from kdcli.reporting.plot_style import PlotStyle, plot_style
from kdcli.reporting.plots import _name, _save
from kdcli.reporting.results_frame import CONFIG
from kdcli.reporting.stats import ALPHA, cd_groups
from kdcli.reporting.tables import p_text

ROW = 0.28  # vertical space of one label, in axis units


def draw_cd(ranks: dict[str, float], cd: float, title: str = "", style: str | PlotStyle = "paper"):
    """The figure for ``ranks`` (shown name → mean rank, 1 = best) and critical difference ``cd``.
    Best modes are labelled on the left, the others on the right, so no two leader lines cross;
    constrained layout narrows the axis until the labels fit the figure's width."""
    st = plot_style(style)
    with st.context():
        return _draw(ranks, cd, title, st)


def _draw(ranks: dict[str, float], cd: float, title: str, st: PlotStyle):
    names = sorted(ranks, key=lambda m: ranks[m])
    values = [ranks[m] for m in names]
    k = len(names)
    groups = cd_groups(values, cd) if math.isfinite(cd) else []
    left = names[: (k + 1) // 2]
    right = names[(k + 1) // 2 :]
    bars = 0.12 * len(groups)
    rows = max(len(left), len(right))
    low = -(0.25 + bars + ROW * (rows + 0.5))
    x_max = max(k, 1 + (cd if math.isfinite(cd) else 0))
    scale = st.font / 9  # a label's row grows with its font
    fig, ax = plt.subplots(figsize=st.figsize(True, scale * (1.0 + 0.9 * (0.6 - low))))
    ax.set_xlim(0.4 - 0.9, x_max + 0.9 + 0.6)
    ax.set_ylim(low, 0.75)
    ax.axis("off")

    ax.plot([1, x_max], [0, 0], color="black", linewidth=1)
    for tick in range(1, math.floor(x_max) + 1):
        ax.plot([tick, tick], [0, 0.06], color="black", linewidth=1)
        ax.text(tick, 0.1, str(tick), ha="center", va="bottom", fontsize=st.small)
    if math.isfinite(cd):
        ax.plot([1, 1 + cd], [0.45, 0.45], color="black", linewidth=1.5)
        for end in (1, 1 + cd):
            ax.plot([end, end], [0.4, 0.5], color="black", linewidth=1.5)
        ax.text(1 + cd / 2, 0.52, f"CD = {cd:.3f}", ha="center", va="bottom", fontsize=st.small)

    for g, group in enumerate(groups):
        y = -(0.15 + 0.12 * g)
        lo, hi = values[group[0]], values[group[-1]]
        ax.plot([lo - 0.04, hi + 0.04], [y, y], color="black", linewidth=3, solid_capstyle="round")

    start = -(0.25 + bars)
    for i, name in enumerate(left):  # the best has the shortest leader
        y = start - ROW * (i + 0.5)
        ax.plot([ranks[name], ranks[name], 0.6], [0, y, y], color="#444", linewidth=0.8)
        ax.text(0.55, y, f"{name} ({ranks[name]:.3f})", ha="right", va="center", fontsize=st.font)
    for i, name in enumerate(reversed(right)):  # the worst has the shortest leader
        y = start - ROW * (i + 0.5)
        ax.plot([ranks[name], ranks[name], x_max + 0.4], [0, y, y], color="#444", linewidth=0.8)
        ax.text(
            x_max + 0.45, y, f"({ranks[name]:.3f}) {name}", ha="left", va="center", fontsize=st.font
        )
    if title:
        ax.set_title(title)
    return fig


def cd_diagrams(
    ranks: pd.DataFrame,
    friedman: pd.DataFrame,
    metric: str,
    out_dir: Path,
    labels: dict | None = None,
    *,
    style: str | PlotStyle = "paper",
) -> list[Figure]:
    """One diagram per (teacher, student, size) that has a test (N >= 2 datasets, k >= 2 modes):
    ``ranks`` from :func:`~kdcli.reporting.compare.mean_ranks`, ``friedman`` from
    :func:`~kdcli.reporting.compare.friedman_table` (its p goes in the title, since a post-hoc
    reading only counts when the Friedman test rejects; printed as every table prints a p, never
    0, marked "exact" where every dataset ranks the modes alike)."""
    st = plot_style(style)
    labels = labels or {}
    tests = friedman.set_index(CONFIG)
    figures: list[Figure] = []
    modes = [c for c in ranks.columns if c not in (*CONFIG, "N", "CD", "groups")]
    for data in ranks.to_dict("records"):
        if not math.isfinite(float(data["CD"])):
            continue
        config = tuple(data[c] for c in CONFIG)
        shown = {
            str(labels.get(m, m)): float(data[m])
            for m in modes
            if data[m] is not None and not math.isnan(float(data[m]))
        }
        found = config in tests.index
        p = float(tests.loc[config, "p"]) if found else math.nan
        exact = " (exact)" if found and tests.loc[config].get("p_of") == "exact" else ""
        teacher, student, size = config
        title = (
            f"Mean rank of each target by {metric} over {data['N']} datasets\n"
            f"teacher {teacher}, {student} students of size {size}; "
            f"Friedman p = {p_text(p)}{exact}\n"
            f"a bar joins targets within the critical difference (Nemenyi, α = {ALPHA})"
        )
        fig = draw_cd(shown, float(data["CD"]), title, st)
        files = _save(fig, out_dir, _name("cd", teacher, student, str(size), metric), st)
        words = (
            f"critical-difference diagram: mean rank of each target by {metric} over "
            f"{data['N']} datasets · teacher {teacher} · {student} students of size {size}"
        )
        figures.append(Figure(files, words, None))
    return figures
