"""`kd report --format html`: one self-contained page (no network: the style is inline, the
figures are data URIs) that opens with its verdict and a table of contents, gives every part and
table an anchor, and sets each dataset's figures beside its tables. It prints well: no part or
table is split across pages where it fits on one, and the contents are left out of print."""

from __future__ import annotations

import base64
import html
import re

from kdcli.reporting.cells import display_frame
from kdcli.reporting.model import Figure, Part, Report, Section

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1280px;
padding:0 1em;color:#222;line-height:1.4}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
h3{font-size:1em;margin:1.2em 0 .3em}
nav{background:#f7f7f7;border:1px solid #e3e3e3;padding:.5em 1.5em;margin:1em 0}
nav ol{margin:.3em 0;padding-left:1.4em}nav li{margin:.1em 0}
nav ol ol{columns:3 14em;font-size:.92em}
.verdict{background:#eef6ee;border-left:4px solid #2ca02c;padding:.6em 1em;margin:1em 0}
.verdict li{margin:.2em 0}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.9em}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}
td:first-child{text-align:left}
.note{color:#666;font-size:.85em;margin:.2em 0}
.pair{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
.pair>.tables{flex:1 1 560px;min-width:0;overflow-x:auto}
.pair>.figures{flex:0 1 480px}
figure{margin:0 0 1em}figure img{width:100%;max-width:480px;height:auto;border:1px solid #eee}
figure.wide img{max-width:960px}figcaption{font-size:.85em;color:#444}
a{color:#1f5fa8}
@media print{body{max-width:none;margin:0;font-size:10pt}nav{display:none}
section.dataset h2{break-before:page}
table,figure,.block{break-inside:avoid}.pair>.figures{flex-basis:45%}a{color:inherit}}
"""


class Anchors:
    """Ids safe in a URL fragment and unique on the page ('dataset-adult', 'friedman-2')."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, text: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "part"
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}-{n}"
        self.taken.add(name)
        return name


def render_html(report: Report) -> str:
    """The page: title, verdict, contents, what is missing, the parts, the notes."""
    anchor = Anchors()
    parts = report.parts()
    part_ids = [anchor(p.anchor) for p in parts]
    section_ids = [[anchor(s.title) for s in p.sections] for p in parts]
    body = [
        f"<h1>kd report</h1><p>{html.escape(report.source)} · metric "
        f"{html.escape(report.metric)}"
        + (f" · baseline {html.escape(report.baseline)}" if report.baseline else "")
        + "</p>",
    ]
    if report.verdict:  # the answer first, above the contents
        body.append(
            "<section id='verdict' class='part'><h2>Verdict</h2>"
            + _list(report.verdict, "verdict")
            + "</section>"
        )
    body.append(_contents(report, parts, part_ids, section_ids))
    if report.missing:
        body.append(
            "<section id='missing' class='part'><h2>Missing results</h2>"
            "<p class='note'>means are over fewer folds</p>" + _list(report.missing) + "</section>"
        )
    for part, pid, sids in zip(parts, part_ids, section_ids, strict=True):
        body.append(_part(part, pid, sids))
    if not report.figures and report.plots:  # plots given without figures (a caller's own)
        shown = [Figure((p,), p.stem) for p in report.plots if p.suffix == ".png"]
        body.append(_figures(shown))
    if report.notes:
        body.append(
            "<section id='notes' class='part'><h2>Notes</h2>" + _list(report.notes) + "</section>"
        )
    head = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>kd report: {html.escape(report.source)}</title><style>{STYLE}</style></head>"
    )
    return head + "<body>\n" + "\n".join(body) + "\n</body></html>\n"


def _list(items: list[str], cls: str = "") -> str:
    attr = f" class='{cls}'" if cls else ""
    return f"<ul{attr}>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>"


def _contents(
    report: Report, parts: list[Part], part_ids: list[str], section_ids: list[list[str]]
) -> str:
    """The table of contents: the report's parts, the tables across datasets one by one, and
    the datasets (each a link to its part)."""
    items = ["<li><a href='#verdict'>Verdict</a></li>"] if report.verdict else []
    items += ["<li><a href='#missing'>Missing results</a></li>"] if report.missing else []
    datasets = []
    for part, pid, sids in zip(parts, part_ids, section_ids, strict=True):
        link = f"<a href='#{pid}'>{html.escape(part.title)}</a>"
        if part.dataset:
            datasets.append(f"<li>{link}</li>")
            continue
        inner = "".join(
            f"<li><a href='#{sid}'>{html.escape(s.title)}</a></li>"
            for s, sid in zip(part.sections, sids, strict=True)
        )
        items.append(f"<li>{link}" + (f"<ol>{inner}</ol>" if inner else "") + "</li>")
    if datasets:
        items.append(f"<li>Datasets ({len(datasets)})<ol>{''.join(datasets)}</ol></li>")
    items += ["<li><a href='#notes'>Notes</a></li>"] if report.notes else []
    return "<nav id='contents'><h2>Contents</h2><ol>" + "".join(items) + "</ol></nav>"


def _part(part: Part, pid: str, section_ids: list[str]) -> str:
    """A part: its heading, its verdict, then its tables with its figures beside them."""
    tables = "".join(_section(s, sid) for s, sid in zip(part.sections, section_ids, strict=True))
    verdict = _list(part.verdict, "verdict") if part.verdict else ""
    if part.dataset and part.figures:  # a dataset's curves beside its tables
        inside = (
            f"<div class='pair'><div class='tables'>{tables}</div>{_figures(part.figures)}</div>"
        )
    else:  # the wide figures across datasets (grid, CD diagrams) under their tables
        inside = tables + _figures(part.figures)
    cls = "part dataset" if part.dataset else "part"
    return (
        f"<section id='{pid}' class='{cls}'><h2>{html.escape(part.title)}</h2>"
        f"{verdict}{inside}</section>"
    )


def _section(section: Section, sid: str) -> str:
    return (
        f"<div class='block' id='{sid}'><h3>{html.escape(section.title)}</h3>"
        f"<p class='note'>{html.escape(section.note)}</p>"
        + display_frame(section).to_html(index=False, escape=True)
        + "</div>"
    )


def _figures(figures: list[Figure]) -> str:
    """The PNGs embedded as data URIs, each with its title in words as caption."""
    shown = []
    for figure in figures:
        if not figure.png.exists():
            continue
        data = base64.b64encode(figure.png.read_bytes()).decode()
        title = html.escape(figure.title)
        wide = " class='wide'" if figure.dataset is None else ""
        shown.append(
            f"<figure{wide}><img alt='{title}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{title}</figcaption></figure>"
        )
    return f"<div class='figures'>{''.join(shown)}</div>" if shown else ""
