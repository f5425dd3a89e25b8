"""The renderers of `kd report`: one report (:class:`~.model.Report`) as terminal tables, Markdown,
CSV, JSON, one self-contained HTML file or LaTeX (:mod:`.latex`). They only read the report, so
every format shows the same sections; CSV and JSON keep the plain numbers, the others show cells
as text (:func:`~.cells.display_frame`)."""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from kdcli.errors import KDError
from kdcli.reporting.cells import TEXT_COLUMNS, display_frame
from kdcli.reporting.latex import render_latex
from kdcli.reporting.model import Report, Section

FORMATS = ("rich", "md", "csv", "json", "html", "latex")
INDEXED = ("per-dataset", "capacity")  # sections whose table index is a column of their own


def render_rich(report: Report, console: Console) -> None:
    """Terminal tables; every name and cell goes in as Text, so user text (a dataset called
    `[bold]x`) is shown as written, never read as markup."""
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


def _plain(section: Section) -> pd.DataFrame:
    """A section's table of plain numbers, its index (sizes, swept values) as a column."""
    return section.table.reset_index() if section.kind in INDEXED else section.table


def render_csv(report: Report) -> str:
    """Every section's plain numbers in one CSV, a ``section`` column saying whose; the notes as
    rows of their own, so a spreadsheet gets the whole report."""
    frames = [_plain(section).assign(section=section.title) for section in report.sections]
    if report.notes:
        frames.append(pd.DataFrame({"section": "note", "note": report.notes}))
    if not frames:
        return "section\n"
    joined = pd.concat(frames, ignore_index=True)
    cols = ["section"] + [c for c in joined.columns if c != "section"]
    return joined[cols].to_csv(index=False)


def render_json(report: Report) -> str:
    """The whole report, its tables as records of plain numbers, for a program to read."""

    def rows(section: Section) -> list:
        # 15 significant digits: a p-value of 3.8e-06 keeps its precision (pandas' default 10)
        return json.loads(_plain(section).to_json(orient="records", double_precision=15))

    document = {
        "source": report.source,
        "metric": report.metric,
        "missing": report.missing,
        "baseline": report.baseline,
        "notes": report.notes,
        "sections": [
            {"title": s.title, "kind": s.kind, "note": s.note, "rows": rows(s)}
            for s in report.sections
        ],
        "plots": [str(p) for p in report.plots],
    }
    return json.dumps(document, indent=2) + "\n"


HTML_HEAD = (
    "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
    "padding:4px 8px;text-align:right}th{background:#f3f3f3}.note{color:#666}"
    "img{max-width:100%}</style></head><body>"
)


def _html_list(title: str, items: list[str]) -> list[str]:
    """A titled list of escaped lines; nothing when there are none."""
    if not items:
        return []
    return [
        f"<h2>{title}</h2><ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"
    ]


def render_html(report: Report) -> str:
    """One self-contained file: tables, and the PNG plots embedded as data URIs."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>kd report: {html.escape(report.source)}</title>",
        HTML_HEAD,
        f"<h1>kd report</h1><p>{html.escape(report.source)} · metric {report.metric}</p>",
    ]
    parts += _html_list("Missing results", report.missing)
    parts += _html_list("Notes", report.notes)
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


RENDERERS: dict[str, Callable[[Report], str]] = {
    "rich": render_markdown,  # as text; a terminal gets render_rich
    "md": render_markdown,
    "csv": render_csv,
    "json": render_json,
    "html": render_html,
    "latex": render_latex,  # a whole document, pdflatex-ready; its tables copy into a paper
}


def render(report: Report, fmt: str = "md", *, links_from: str | Path | None = None) -> str:
    """The report as text in one of FORMATS; Markdown and LaTeX link their plots relative to the
    folder ``links_from`` when given (where the file goes)."""
    if fmt not in RENDERERS:
        raise KDError(f"unknown --format '{fmt}'; use one of {', '.join(FORMATS)}")
    if fmt == "md" and links_from is not None:
        return render_markdown(report, Path(links_from))
    if fmt == "latex" and links_from is not None:
        return render_latex(report, links_from=Path(links_from))
    return RENDERERS[fmt](report)
