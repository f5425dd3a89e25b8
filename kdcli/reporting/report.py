"""`kd report` from a run folder (:func:`report_run`): read a `kd fit`/`kd benchmark` output,
build its report (:func:`~.sections.build_report`) and, where asked, draw its plots.

The report model is in :mod:`.model` and :mod:`.sections`, its cells in :mod:`.cells`, the
formats in :mod:`.render`; this module only joins a run's files to them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from kdcli.atomic import check_writable_place, written_together
from kdcli.errors import KDError
from kdcli.reporting.bayes import check_rope
from kdcli.reporting.model import Figure, Report
from kdcli.reporting.plot_style import PlotStyle
from kdcli.reporting.plot_style import plot_style as _plot_style
from kdcli.reporting.sections import build_report, quiet_numerics
from kdcli.reporting.split_sizes import split_ratios
from kdcli.reporting.summary import summary_report
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.settings.presets import preset_labels, preset_metric
from kdcli.study.run_folder import RunFolder


def report_run(
    run: str | Path,
    metric: str | None = None,
    *,
    plots: str | Path | None = None,
    draw_plots: bool = True,
    baseline: str | None = None,
    rope: float | None = None,
    summary: bool = False,
    student: str | None = None,
    size: str | None = None,
    plot_style: str = "paper",
    png_only: bool = False,
) -> Report:
    """The report of a `kd fit`/`kd benchmark` output folder (or a results CSV): ``metric``
    defaults to the run's preset's, else error; plots go to ``plots`` (default RUN/plots);
    ``baseline`` is the mode every other is tested against (default raw); ``rope`` the region
    of practical equivalence of the Bayesian comparison (default: the metric's). ``summary``:
    the one summary table (:func:`~.summary.summary_report`) of ``student`` at ``size``
    (default: the first student, the middle size) instead, without plots; its Bayesian rows
    only with ``rope``. ``plot_style``: ``paper`` (figures at a journal column's printed size)
    or ``screen`` (larger); ``png_only``: no SVG or PDF copies (an HTML page embeds the PNGs
    alone)."""
    run = Path(run)
    held = RunFolder.of(run)
    record = held.record()  # format 2, whichever kd wrote it
    notes: list[str] = []
    results = held.results(notes.append)  # a study's: from its unit files, every time
    preset = held.preset()
    labels = preset_labels(preset)
    metric = metric or preset_metric(preset)
    _check_metric(run, results, metric)
    check_rope(rope, metric)  # before any work
    style = _plot_style(plot_style)
    if png_only:
        style = dataclasses.replace(style, formats=("png",))
    if summary:
        rep = summary_report(
            results,
            metric,
            str(run),
            baseline=baseline,
            student=student,
            size=size,
            labels=labels,
            rope=rope,
        )
        rep.notes[:0] = notes
        return rep
    members = (record.get("settings") or {}).get("members")
    rep = build_report(
        results,
        metric,
        str(run),
        expected=[m["name"] for m in members] if members else None,
        latency=held.latency(),
        labels=labels,
        baseline=baseline,
        ratios=split_ratios(results, record),
        planned=held.planned(),
        rope=rope,
    )
    rep.notes[:0] = notes  # what reading the run left out comes first
    if draw_plots:
        folder = Path(plots) if plots is not None else run / "plots"
        rep.figures = _draw_plots(rep, results, folder, labels, style)
        rep.plots = [figure.png for figure in rep.figures]
    return rep


def _check_metric(run: Path, results: pd.DataFrame, metric: str) -> None:
    """Refuse a metric kd does not know, or one the run has no values of, before any work."""
    if metric not in LOWER_IS_BETTER:
        raise KDError(f"unknown --metric '{metric}'; use one of {', '.join(LOWER_IS_BETTER)}")
    if not (results.metric == metric).any():
        raise KDError(
            f"{run} has no '{metric}' results (it has {', '.join(sorted(set(results.metric)))})"
        )


def _draw_plots(
    rep: Report, results: pd.DataFrame, folder: Path, labels: dict, style: PlotStyle
) -> list[Figure]:
    """Draw the report's figures into ``folder``, all of them or none (a failure half-way
    leaves nothing), and return them in report order: a sweep's headline (capacity) first, then
    each dataset's, the grid of all datasets, mean ranks, CD diagrams and Pareto fronts."""
    from kdcli.reporting.grid import grid_plots
    from kdcli.reporting.plots import capacity_plots, metric_vs_size, pareto_plots, rank_plot

    metric = rep.metric
    check_writable_place(folder, "--plots", fix="choose another --plots folder or --no-plots")
    with quiet_numerics(), written_together(folder, "--plots folder (or --no-plots)"):
        drawn = capacity_plots(rep.capacity, folder, labels, style=style)
        drawn += metric_vs_size(results, metric, folder, labels, style=style)
        drawn += grid_plots(results, metric, folder, labels, style=style)
        drawn += rank_plot(results, metric, folder, labels, style=style)
        drawn += report_cd_diagrams(rep, folder, style)
        drawn += pareto_plots(rep.pareto, metric, folder, labels, style=style)
    return drawn


def report_cd_diagrams(rep: Report, folder: Path, style: PlotStyle | str = "paper") -> list[Figure]:
    """The critical-difference diagrams of a built report (none without its rank and Friedman
    tables), with its labels: drawn with the other figures, or alone in other formats."""
    from kdcli.reporting.cd_diagram import cd_diagrams

    ranks, friedman = rep.sections_of("ranks"), rep.sections_of("friedman")
    if not (ranks and friedman):
        return []
    tables = (ranks[0].table, friedman[0].table)
    with quiet_numerics():
        return cd_diagrams(*tables, rep.metric, folder, ranks[0].labels, style=style)
