"""`kd report --format latex`: each section as a booktabs ``table`` a paper can ``\\input``.

The cells are the ones every renderer shows (:func:`~.cells.display_frame`): the ★ that marks the
best mode (ties under the one rule of :func:`~.per_dataset.best_modes`) becomes bold here, so the
LaTeX tables never pick a different best. "mean ± se" goes into math mode; every other piece of
text, a dataset's name included, is escaped, and the Unicode kd writes (−, ·, √, α, …) is spelled
in LaTeX, so the file compiles with plain pdflatex.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pandas as pd

from kdcli.reporting.cells import TEXT_COLUMNS, display_frame
from kdcli.reporting.model import Report, Section
from kdcli.reporting.tables import STAR

PACKAGES = ("booktabs", "graphicx")  # what the tables and figures need in a paper's preamble

SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
SYMBOLS = {  # the Unicode kd's own notes and cells use, as pdflatex reads it
    "–": "--",
    "—": "---",
    "…": r"\dots{}",
    "§": r"\S{}",
    "−": "$-$",
    "·": r"$\cdot$",
    "±": r"$\pm$",
    "×": r"$\times$",
    "√": r"$\surd$",
    "→": r"$\to$",
    "≈": r"$\approx$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≠": r"$\ne$",
    "∞": r"$\infty$",
    "∈": r"$\in$",
    "⊙": r"$\odot$",
    "‖": r"$\Vert$",
    "⌈": r"$\lceil$",
    "⌉": r"$\rceil$",
    "²": r"\textsuperscript{2}",
    "₀": r"$_0$",
    "₁": r"$_1$",
    "α": r"$\alpha$",
    "γ": r"$\gamma$",
    "χ": r"$\chi$",
    "Σ": r"$\Sigma$",
    "★": r"$\star$",
}
MEAN_SE = re.compile(r"^(?P<mean>\S+) ± (?P<se>\S+)(?P<rest>.*)$")
NUMBER = re.compile(r"^-\d")


def escape(text: object) -> str:
    """User text (a dataset called ``a_b&c%``) as LaTeX that prints it as written. Latin letters
    with accents pass as they are (pdflatex reads them as UTF-8); any other character it has no
    glyph for is written as its code point, [U+4E2D], rather than stopping the compile."""
    return "".join(_char(ch) for ch in unicodedata.normalize("NFC", str(text)))


def _char(ch: str) -> str:
    if ch in SPECIAL:
        return SPECIAL[ch]
    if ch in SYMBOLS:
        return SYMBOLS[ch]
    if ord(ch) < 0x80 or (0xC0 <= ord(ch) <= 0x17F and ch not in "×÷"):
        return ch if ch.isprintable() or ch in "\n\t" else " "
    return f"[U+{ord(ch):04X}]"


def cell(text: object) -> str:
    """One display cell: ★ (the best, ties all) as bold, "mean ± se (n)" as math, the rest
    escaped; a negative number gets a true minus."""
    shown = str(text)
    best = shown.startswith(STAR)
    shown = shown.removeprefix(STAR)
    match = MEAN_SE.match(shown)
    if match:
        body = f"${match['mean']} \\pm {match['se']}$" + escape(match["rest"])
    elif NUMBER.match(shown):
        body = "$-$" + escape(shown[1:])
    else:
        body = escape(shown)
    return f"\\textbf{{\\boldmath {body}}}" if best else body


def se_kind(section: Section) -> str | None:
    """Which standard error the section's ± and SE columns are, read from its plain columns (so
    a new section states its own): naive sd/√n, Nadeau–Bengio corrected, or none."""
    columns = [str(c) for c in section.table.columns]
    naive = any(c == "naive_se" or c.endswith("_naive_se") for c in columns)
    corrected = "corrected_se" in columns
    if naive and corrected:
        return (
            "naive SE = sd/√J over the J splits and Nadeau–Bengio corrected SE = "
            "√((1/J + n_test/n_train)·var), which allows for the training rows the splits share"
        )
    if naive:
        return (
            "mean ± naive SE (sd/√n over the n splits; the splits share training rows, so it "
            "understates the uncertainty)"
        )
    if corrected:
        return "Nadeau–Bengio corrected SE"
    return None


def label(section: Section, taken: set[str]) -> str:
    """``tab:KIND-TITLE`` in ASCII letters, digits and hyphens; a suffix keeps labels unique."""
    words = unicodedata.normalize("NFKD", f"{section.kind} {section.title}")
    slug = re.sub(r"[^a-z0-9]+", "-", words.encode("ascii", "ignore").decode().lower()).strip("-")
    base = f"tab:{slug or 'table'}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    taken.add(name)
    return name


def _note(note: str) -> str:
    """A section's note under its table; the ★ of the text formats is bold here."""
    bold = note.replace("★ the best", "bold: the best").replace(" starred", " in bold")
    return escape(bold.replace("★", "bold"))


def _align(section: Section, column: pd.Series, i: int) -> str:
    """Names left (the swept value of a sweep too), numbers right: a teacher column of scores
    is right-aligned though a column of teacher names is not."""
    named = str(column.name) in TEXT_COLUMNS or (section.kind == "capacity" and i == 0)
    scores = any(MEAN_SE.match(str(v).removeprefix(STAR)) for v in column)
    return "l" if named and not scores else "r"


def latex_table(section: Section, name: str) -> str:
    """One ``table`` environment: caption (title, best in bold, the kind of SE), label, a
    booktabs tabular shrunk to the line width only when wider, and the note below."""
    frame = display_frame(section)
    spec = "".join(_align(section, frame[c], i) for i, c in enumerate(frame.columns))
    caption = escape(section.title) + "."
    if any(str(v).startswith(STAR) for v in frame.to_numpy().ravel()):
        caption += " Best in bold (ties: every value the same within 1e-9, relative)."
    kind = se_kind(section)
    if kind:
        caption += f" {escape(kind)}."
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        f"\\caption{{{caption}}}",
        f"\\label{{{name}}}",
        r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
        f"\\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(escape(c) for c in frame.columns) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(cell(v) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}}"]
    if section.note:
        lines += [r"\par\smallskip", f"{{\\footnotesize {_note(section.note)}\\par}}"]
    lines.append(r"\end{table}")
    return "\n".join(lines)


def _items(title: str, items: list[str]) -> list[str]:
    """A titled list of escaped lines; nothing when there are none."""
    if not items:
        return []
    return [
        f"\\paragraph{{{title}}}",
        r"\begin{itemize}",
        *(f"\\item {escape(i)}" for i in items),
        r"\end{itemize}",
        "",
    ]


def _figure(plot: Path, title: str, links_from: Path | None) -> list[str]:
    """A figure from its PDF when there is one beside the PNG (vector, its text the paper's),
    else the PNG (pdflatex reads no SVG); a path LaTeX cannot take is named only."""
    vector = Path(plot).with_suffix(".pdf")
    chosen = vector if vector.exists() else Path(plot)
    link = chosen.as_posix()
    if links_from is not None:
        link = Path(os.path.relpath(chosen, links_from)).as_posix()
    if any(ch in link for ch in "\\{}%#&$^~ ") or not link.isascii():
        return [f"\\paragraph{{Plot}} \\texttt{{{escape(link)}}}", ""]
    return [
        r"\begin{figure}[htbp]",
        r"\centering",
        f"\\includegraphics[width=\\linewidth]{{{link}}}",
        f"\\caption{{{escape(title)}}}",
        r"\end{figure}",
        "",
    ]


def latex_body(report: Report, links_from: Path | None = None) -> str:
    """The report without a preamble, in reading order: the verdict, what is missing, then the
    summary, the tests across datasets and each dataset (its verdict, one ``table`` per section,
    its figures), the notes last; for a paper to ``\\input`` (it needs :data:`PACKAGES`)."""
    lines = [f"% kd report: {escape(report.source)} (metric: {escape(report.metric)})"]
    lines.append(f"% needs \\usepackage{{{','.join(PACKAGES)}}}")
    lines += _items("Verdict", report.verdict)
    lines += _items("Missing results (means are over fewer folds)", report.missing)
    taken: set[str] = set()
    for part in report.parts():
        lines += [f"\\subsection*{{{escape(part.title)}}}", ""]
        lines += _items("Verdict", part.verdict)
        for section in part.sections:
            lines += [latex_table(section, label(section, taken)), ""]
        for figure in part.figures:
            lines += _figure(figure.png, figure.title, links_from)
        lines += [r"\clearpage", ""]  # flush the part's floats: LaTeX holds at most 18
    if not report.figures:  # plots given without figures (a caller's own list)
        for plot in report.plots:
            if plot.suffix == ".png":
                lines += _figure(plot, plot.stem, links_from)
    lines += _items("Notes", report.notes)
    return "\n".join(lines) + "\n"


def render_latex(
    report: Report, standalone: bool = True, links_from: str | Path | None = None
) -> str:
    """The report as LaTeX: by default a whole document (pdflatex compiles it as it is, and its
    tables copy into a paper); ``standalone=False`` gives :func:`latex_body` alone, to
    ``\\input``. ``links_from``: the folder the file goes in, that the plots are relative to."""
    body = latex_body(report, None if links_from is None else Path(links_from))
    if not standalone:
        return body
    head = [
        r"\documentclass{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage[utf8]{inputenc}",
        f"\\usepackage{{{','.join(PACKAGES)}}}",
        r"\begin{document}",
        f"\\section*{{kd report: {escape(report.source)}}}",
        f"Metric: {escape(report.metric)}.",
        "",
    ]
    return "\n".join(head) + "\n" + body + "\\end{document}\n"
