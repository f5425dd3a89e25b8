"""`kd report --format latex` (issue 25): booktabs tables that compile, the best in bold by the
same ★ rule as every other format, the kind of SE in each caption, user text escaped."""

import re
import shutil
import subprocess

import pandas as pd
import pytest
from test_report import make_run, write_run

import kdcli
from kdcli.reporting.latex import cell, escape, label, render_latex, se_kind
from kdcli.reporting.model import Report, Section

NASTY = "a_b&c%"
ODD = "x$#{}~^\\<>|é"  # every special of LaTeX and an accent
ROW = re.compile(r"(?<!\\)&")


def tie_run(path, names=(NASTY, "plain")):
    """On the first dataset raw and crossfit tie on every split (both best), vanilla trails; on
    the others crossfit is best alone. Four splits each, so the within-dataset test runs."""
    rows = []
    for i, name in enumerate(names):
        for r in range(4):
            raw = 0.20 + 0.1 * i + 0.01 * r
            crossfit = raw if i == 0 else raw - 0.02 - 0.001 * r
            rows += [(name, r, "raw", raw), (name, r, "vanilla", raw + 0.02 - 0.002 * r)]
            rows.append((name, r, "crossfit", crossfit))
    return write_run(path, rows)


def parse_tables(tex: str) -> list[dict]:
    """Each table environment: caption, label, tabular spec, header and rows as cells."""
    out = []
    for body in re.findall(r"\\begin\{table\}(.*?)\\end\{table\}", tex, re.S):
        spec = re.search(r"\\begin\{tabular\}\{(\w+)\}", body)
        inner = body[spec.end() : body.index(r"\end{tabular}")] if spec else ""
        lines = [ln.strip() for ln in inner.strip().splitlines()]
        rows = [[c.strip() for c in ROW.split(ln.removesuffix(r"\\"))] for ln in lines if "&" in ln]
        caption = re.search(r"\\caption\{(.*)\}\n", body)
        out.append(
            {
                "spec": spec[1] if spec else "",
                "rules": [ln for ln in lines if ln in (r"\toprule", r"\midrule", r"\bottomrule")],
                "caption": caption[1] if caption else "",
                "label": re.findall(r"\\label\{([^}]*)\}", body),
                "header": rows[0] if rows else [],
                "rows": rows[1:],
            }
        )
    return out


def check_structure(tex: str) -> list[dict]:
    """Every environment closed, booktabs rules in order, each row as wide as its spec, one
    unique label per table."""
    for env in ("table", "tabular", "itemize", "figure", "document"):
        assert tex.count(f"\\begin{{{env}}}") == tex.count(f"\\end{{{env}}}"), env
    tables = parse_tables(tex)
    assert tables and tex.count(r"\begin{table}") == len(tables)
    for t in tables:
        assert t["rules"] == [r"\toprule", r"\midrule", r"\bottomrule"], t["caption"]
        assert t["rows"] and all(len(r) == len(t["spec"]) for r in [t["header"], *t["rows"]])
        assert len(t["label"]) == 1 and t["caption"]
    labels = [t["label"][0] for t in tables]
    assert len(set(labels)) == len(labels)
    assert all(re.fullmatch(r"tab:[a-z0-9-]+", name) for name in labels)
    return tables


def bold_modes(table: dict) -> set[str]:
    """The columns in bold, the same on every row (one size, so one best)."""
    header, rows = table["header"], table["rows"]
    bold = [{h for h, c in zip(header, row, strict=True) if "textbf" in c} for row in rows]
    assert len(bold) == 1
    return bold[0]


def test_tables_are_booktabs_bold_the_best_with_ties_and_name_the_se(tmp_path):
    report = kdcli.report(tie_run(tmp_path / "run"), plots=None, draw_plots=False)
    tex = render_latex(report)
    assert tex.startswith(r"\documentclass{article}") and tex.endswith("\\end{document}\n")
    tables = check_structure(tex)
    per_dataset = [t for t in tables if t["label"][0].startswith("tab:per-dataset-")]
    by_name = {t["caption"].split(" $")[0]: t for t in per_dataset}
    assert set(by_name) == {escape(NASTY), "plain"}
    # the ★ of the other formats, not a rule of its own: raw and crossfit tie, both bold
    plain = {s.title.split(" ·")[0]: s for s in report.sections_of("per-dataset")}
    for name, table in ((NASTY, by_name[escape(NASTY)]), ("plain", by_name["plain"])):
        means = {m: float(plain[name].table[f"{m}_mean"].iloc[0]) for m in ("raw", "crossfit")}
        assert bold_modes(table) == ({"raw", "crossfit"} if name == NASTY else {"crossfit"})
        assert (means["raw"] == means["crossfit"]) == (name == NASTY)
        assert "naive SE" in table["caption"] and "Best in bold" in table["caption"]
        assert re.search(r"\$0\.\d{4} \\pm 0\.\d{4}\$ \(4\)", table["rows"][0][1])
    within = [t for t in tables if t["label"][0].startswith("tab:within-")]
    assert len(within) == 2 and all("Nadeau--Bengio corrected SE" in t["caption"] for t in within)
    across = [t for t in tables if t["label"][0].startswith("tab:versus-")]
    assert across and "textbf" not in str(across[0]["rows"]) and "SE" not in across[0]["caption"]
    assert NASTY not in tex and r"a\_b\&c\%" in tex  # never raw, in captions, labels or cells
    assert "★" not in tex and "in bold" in tex  # the notes speak of bold, not of stars


def test_escape_cells_and_labels():
    assert escape(NASTY) == r"a\_b\&c\%"
    assert escape(ODD + "中") == (  # 中: a glyph pdflatex lacks
        r"x\$\#\{\}\textasciitilde{}\textasciicircum{}\textbackslash{}\textless{}"
        r"\textgreater{}\textbar{}é[U+4E2D]"
    )
    assert escape("−0.5 · √n") == r"$-$0.5 $\cdot$ $\surd$n"
    assert cell("★ 0.1445 ± 0.0173 (2)") == r"\textbf{\boldmath $0.1445 \pm 0.0173$ (2)}"
    assert cell("0.1445 ± 0.0173") == r"$0.1445 \pm 0.0173$"
    assert cell("-0.0100") == "$-$0.0100" and cell("–") == "--"
    frame = pd.DataFrame({"mode": ["raw"], "mean_difference": [0.1]})
    same = Section(f"{ODD} · x", frame, kind="within"), Section(f"{ODD} · x", frame, kind="within")
    taken: set[str] = set()
    assert [label(s, taken) for s in same] == ["tab:within-x-e-x", "tab:within-x-e-x-2"]
    assert se_kind(Section("t", frame)) is None
    assert "corrected" in se_kind(Section("t", frame.assign(corrected_se=0.1)))


def test_fragment_for_a_paper_and_the_cli_writes_a_document(kd, tmp_path):
    run = tie_run(tmp_path / "run")
    fragment = render_latex(kdcli.report(run, plots=None, draw_plots=False), standalone=False)
    assert r"\documentclass" not in fragment and r"\begin{document}" not in fragment
    assert "% needs \\usepackage{booktabs,graphicx}" in fragment
    check_structure(fragment)
    code, _, err = kd("report", run, "--format", "latex", "--out", tmp_path / "r.tex")
    assert code == 0, err
    written = (tmp_path / "r.tex").read_text(encoding="utf-8")
    assert written.startswith(r"\documentclass") and fragment in written
    code, out, err = kd("report", run, "--format", "latex", "--no-plots")
    assert code == 0 and out == written, err


def test_unknown_format_names_latex_among_the_choices(kd, tmp_path):
    code, _, err = kd("report", tie_run(tmp_path / "run"), "--format", "tex")
    assert code != 0 and "latex" in err


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_pdflatex_compiles_the_report_with_its_plots(kd, tmp_path):
    run = tie_run(tmp_path / "run", names=(NASTY, ODD, "plain"))
    out = tmp_path / "paper" / "report.tex"
    out.parent.mkdir()
    code, _, err = kd("report", run, "--format", "latex", "--out", out, "--plots", out.parent / "p")
    assert code == 0, err
    tex = out.read_text(encoding="utf-8")
    assert r"\includegraphics[width=\linewidth]{p/" in tex  # relative to the .tex file
    check_structure(tex)
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", out.name],
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert (out.parent / "report.pdf").stat().st_size > 1000


def test_a_partial_study_lists_what_is_missing(tmp_path):
    report = kdcli.report(make_run(tmp_path / "run"), plots=None, draw_plots=False)
    tex = render_latex(report, standalone=False)
    assert r"\item gone: no results" in tex
    check_structure(tex)
    assert Report("s", "error").sections == [] and "table" not in render_latex(Report("s", "e"))
