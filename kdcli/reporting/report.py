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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kdcli.atomic import check_writable_place, written_together
from kdcli.errors import KDError
from kdcli.records import load_results, size_key
from kdcli.reporting.compare import coverage, mean_ranks, paired_comparison, per_dataset_table
from kdcli.reporting.tables import cell_text, star_row
from kdcli.science.metrics import LOWER_IS_BETTER
from kdcli.science.targets import base_mode, ordered_modes
from kdcli.spec.presets import preset_labels, preset_metric

FORMATS = ("rich", "md", "csv", "json", "html")


@dataclass
class Section:
    title: str
    table: pd.DataFrame
    note: str = ""
    kind: str = "table"  # per-dataset | paired | ranks | compression
    metric: str = "error"
    labels: dict = field(default_factory=dict)  # mode → shown name (a preset's curve names)


@dataclass
class Report:
    source: str
    metric: str
    sections: list[Section] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)


def build_report(
    results: pd.DataFrame,
    metric: str,
    source: str,
    expected: list[str] | None = None,
    latency: pd.DataFrame | None = None,
    labels: dict | None = None,
) -> Report:
    """``labels`` names modes as a preset's source does (e.g. 'KD student (logit)')."""
    labels = labels or {}
    scores = results[results.metric == metric]
    report = Report(source=source, metric=metric, missing=coverage(results, expected))
    for (dataset, teacher), part in scores.groupby(["dataset", "teacher"], sort=True):
        for student in sorted(s for s in part.student.unique() if s != "teacher"):
            table = per_dataset_table(results, dataset, teacher, student, metric)
            report.sections.append(
                Section(
                    f"{dataset} · teacher {teacher} · {student} student · {metric}",
                    table,
                    "mean ± se over outer folds and repeats; n = folds behind each cell",
                    "per-dataset",
                    metric=metric,
                )
            )
    modes = ordered_modes(scores["mode"])
    vanilla = next((m for m in modes if base_mode(m) == "vanilla"), None)
    for baseline in ("raw", vanilla):
        for mode in modes:
            if baseline is None or mode == baseline or baseline not in modes:
                continue
            if baseline == vanilla and base_mode(mode) in ("raw", "vanilla"):
                continue
            table = paired_comparison(results, metric, mode, baseline)
            if len(table):
                report.sections.append(
                    Section(
                        f"{labels.get(mode, mode)} vs {labels.get(baseline, baseline)} · {metric}",
                        table,
                        "paired by dataset, fold, seed, student and size; relative reduction of "
                        f"{'1 − AUC' if metric == 'auc' else metric}; Wilcoxon signed-rank p-value",
                        "paired",
                    )
                )
    for (dataset, teacher), part in results.groupby(["dataset", "teacher"], sort=True):
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
    ranks = mean_ranks(results, metric)
    if len(ranks):
        report.sections.append(
            Section(
                f"mean rank of each mode · {metric}",
                ranks,
                "rank 1 = best within each dataset × fold × seed",
                "ranks",
            )
        )
    for section in report.sections:
        section.labels = labels
    return report


# --------------------------------------------------------------------------------------------
# renderers


def _fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.2e}"
        return f"{value:.{digits}f}"
    return str(value)


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
                out[col] = [_fmt(v) for v in t[col]]
        return out
    if section.kind != "per-dataset":
        return t.map(_fmt)
    found = [c.removesuffix("_mean") for c in t.columns if c.endswith("_mean")]
    modes = ordered_modes(found)
    lower = LOWER_IS_BETTER.get(section.metric, True)
    rows = []
    for _size, row in t.iterrows():
        cells = {m: (row[f"{m}_mean"], row[f"{m}_se"], int(row[f"{m}_n"])) for m in modes}
        shown, _best = star_row(cells, modes, lower)
        rows.append([text for text, _ in shown])
    out = pd.DataFrame(rows, columns=modes, index=t.index)
    if "teacher" in found:
        out["teacher"] = [
            cell_text(r.teacher_mean, r.teacher_se, n=int(r.teacher_n)) for r in t.itertuples()
        ]
    out.index.name = "size"
    return out.reset_index()


def render_rich(report: Report, console) -> None:
    """Terminal tables; every name and cell goes in as Text, so user text (a dataset called
    `[bold]x`) is shown as written, never read as markup."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    for section in report.sections:
        frame = display_frame(section)
        table = Table(title=Text(section.title), caption=Text(section.note), title_justify="left")
        for col in frame.columns:
            table.add_column(
                escape(str(col)),
                justify="left" if col in ("size", "teacher", "student") else "right",
            )
        for row in frame.itertuples(index=False):
            table.add_row(*(Text(str(v)) for v in row))
        console.print(table)
    for line in report.missing:
        console.print(Text.assemble(("missing:", "yellow"), " ", str(line)), highlight=False)


def render_markdown(report: Report, links_from: Path | None = None) -> str:
    """``links_from``: the folder the file will be in, so that its image links are relative to
    it and the report can be moved or committed with its plots."""
    lines = [f"# kd report: {report.source}", "", f"metric: {report.metric}", ""]
    if report.missing:
        lines += ["**Missing results** (means are over fewer folds):", ""]
        lines += [f"- {m}" for m in report.missing] + [""]
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
        t = section.table.reset_index() if section.kind == "per-dataset" else section.table
        frames.append(t.assign(section=section.title))
    if not frames:
        return "section\n"
    joined = pd.concat(frames, ignore_index=True)
    cols = ["section"] + [c for c in joined.columns if c != "section"]
    return joined[cols].to_csv(index=False)


def render_json(report: Report) -> str:
    def table(section: Section):
        t = section.table.reset_index() if section.kind == "per-dataset" else section.table
        return json.loads(t.to_json(orient="records"))

    return (
        json.dumps(
            {
                "source": report.source,
                "metric": report.metric,
                "missing": report.missing,
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
) -> Report:
    """The report of a `kd fit`/`kd benchmark` output folder (or a results CSV): ``metric``
    defaults to the run's preset's, else error; plots go to ``plots`` (default RUN/plots)."""
    run = Path(run)
    plots = Path(plots) if plots is not None else None
    record = _run_record(run)
    results = _study_results(run) if (run / "units").is_dir() else load_results(run)
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
    members = settings.get("members")
    expected = [m["name"] for m in members] if members else None
    latency = _latency(run / "latency.csv") if (run / "latency.csv").exists() else None
    rep = build_report(results, metric, str(run), expected, latency, labels)
    if draw_plots:
        from kdcli.reporting.plots import metric_vs_size, rank_plot

        folder = plots or run / "plots"
        check_writable_place(folder, "--plots", fix="choose another --plots folder or --no-plots")
        with written_together(folder, "--plots folder (or --no-plots)"):
            drawn = metric_vs_size(results, metric, folder, labels) + rank_plot(
                results, metric, folder, labels
            )
        rep.plots = [p for p in drawn if p.suffix == ".png"]
    return rep


def _run_record(run: Path) -> dict:
    """The run's run.json, if any; a damaged one is named with how to recover."""
    path = run / "run.json"
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        redo = (
            "the same kd benchmark command on it rebuilds it and keeps the finished units"
            if (run / "units").is_dir()
            else "run the kd fit again"
        )
        reason = " ".join(str(err).split())[:100]
        raise KDError(f"{path} is damaged ({reason}); {redo}") from None
    return record


def _study_results(run: Path) -> pd.DataFrame:
    """A study's results.parquet, or, when it is missing or damaged, the same table rebuilt from
    the unit files it was assembled from (and written back)."""
    from kdcli.study.results_dir import ResultsDir

    try:
        return load_results(run)
    except KDError:
        store = ResultsDir(run)
        results = store.assemble_all()
        if not len(results):
            raise
        store.write_tables(results)
        return results


def _latency(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"size": str})
    except (OSError, ValueError) as err:
        reason = " ".join(str(err).split())[:100]
        raise KDError(
            f"{path} is damaged ({reason}); delete it (the report then shows no latency) or "
            "resume the study to rewrite it"
        ) from None


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
