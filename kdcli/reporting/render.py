"""The renderers of `kd report`: one report (:class:`~.model.Report`) as terminal tables, Markdown,
CSV, JSON, one self-contained HTML file or LaTeX (:mod:`.latex`). They only read the report, so
every format shows the same sections; CSV and JSON keep the plain numbers, the others show cells
as text (:func:`~.cells.display_frame`)."""

from __future__ import annotations

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
from kdcli.reporting.html_page import render_html
from kdcli.reporting.latex import render_latex
from kdcli.reporting.model import Report, Section

FORMATS = ("rich", "md", "csv", "json", "html", "latex")
INDEXED = ("per-dataset", "capacity")  # sections whose table index is a column of their own


def render_rich(report: Report, console: Console) -> None:
    """Terminal tables; every name and cell goes in as Text, so user text (a dataset called
    `[bold]x`) is shown as written, never read as markup. The verdict first, then the parts in
    reading order (:meth:`~.model.Report.parts`), what is missing and the notes last."""
    if report.verdict:
        console.print(Text("Verdict", style="bold"))
        for line in report.verdict:
            console.print(Text.assemble("  ", str(line)), highlight=False)
    for part in report.parts():
        for line in part.verdict:
            console.print(
                Text.assemble((f"{part.title}:", "bold"), " ", str(line)), highlight=False
            )
        for section in part.sections:
            console.print(_rich_table(section))
    for line in report.missing:
        console.print(Text.assemble(("missing:", "yellow"), " ", str(line)), highlight=False)
    for line in report.notes:
        console.print(Text.assemble(("note:", "cyan"), " ", str(line)), highlight=False)


def _rich_table(section: Section) -> Table:
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
    return table


def render_markdown(report: Report, links_from: Path | None = None) -> str:
    """The verdict first, then the summary, the tests across datasets and each dataset with its
    own verdict, tables and figures. ``links_from``: the folder the file will be in, so that its
    image links are relative to it and the report can be moved or committed with its plots."""

    def image(path: Path, title: str) -> str:
        link = Path(os.path.relpath(path, links_from)).as_posix() if links_from else path
        return f"![{title}]({link})"

    lines = [f"# kd report: {report.source}", "", f"metric: {report.metric}", ""]
    if report.verdict:
        lines += ["## Verdict", ""] + [f"- {v}" for v in report.verdict] + [""]
    if report.missing:
        lines += ["**Missing results** (means are over fewer folds):", ""]
        lines += [f"- {m}" for m in report.missing] + [""]
    for part in report.parts():
        lines += [f"## {part.title}", ""]
        lines += [f"- {v}" for v in part.verdict] + ([""] if part.verdict else [])
        for section in part.sections:
            lines += _markdown_section(section)
        lines += [image(f.png, f.title) for f in part.figures]
        lines += [""] if part.figures else []
    if not report.figures:  # plots given without figures (a caller's own list)
        lines += [image(plot, plot.stem) for plot in report.plots]
    if report.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in report.notes] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_section(section: Section) -> list[str]:
    frame = display_frame(section)
    lines = [f"### {section.title}", "", f"_{section.note}_", ""]
    lines.append("| " + " | ".join(map(str, frame.columns)) + " |")
    lines.append("|" + "---|" * len(frame.columns))
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return [*lines, ""]


def _plain(section: Section) -> pd.DataFrame:
    """A section's table of plain numbers, its index (sizes, swept values) as a column."""
    return section.table.reset_index() if section.kind in INDEXED else section.table


def render_csv(report: Report) -> str:
    """Every section's plain numbers in one CSV, a ``section`` column saying whose; the verdicts
    (first) and the notes as rows of their own, so a spreadsheet gets the whole report."""
    frames = (
        [pd.DataFrame({"section": "verdict", "note": report.verdict})] if report.verdict else []
    )
    for name, lines in report.dataset_verdicts.items():
        frames += [pd.DataFrame({"section": f"verdict · {name}", "note": lines})] if lines else []
    frames += [_plain(section).assign(section=section.title) for section in report.sections]
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
        "verdict": report.verdict,
        "dataset_verdicts": report.dataset_verdicts,
        "notes": report.notes,
        "sections": [
            {
                "title": s.title,
                "kind": s.kind,
                "dataset": s.dataset,
                "note": s.note,
                "rows": rows(s),
            }
            for s in report.sections
        ],
        "plots": [str(p) for p in report.plots],
        "figures": [
            {"title": f.title, "dataset": f.dataset, "files": [str(p) for p in f.files]}
            for f in report.figures
        ],
    }
    return json.dumps(document, indent=2) + "\n"


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
