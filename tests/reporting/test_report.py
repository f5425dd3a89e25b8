"""`kd report`: tables, statistics, formats and plots from hand-built results with known answers."""

import contextlib
import io
import json
import math

import pandas as pd
import pytest

import kdcli
from kdcli.cli import main
from kdcli.reporting.render import render

from conftest import one_line_error

pytestmark = pytest.mark.heavy(seconds=40)  # its file starts early under pytest-xdist


def kd_stdout(*args) -> str:
    """`kd ARGS` in-process where capsys is not at hand (a module-scoped fixture): its stdout,
    after checking that it exited 0."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    assert done.value.code == 0
    return out.getvalue()


def make_run(path, drop_fold=False, members=("a", "b", "gone")):
    """crossfit beats raw by 0.02 on every split; vanilla sits between; the teacher is best."""
    rows = []
    base = {"a": 0.20, "b": 0.30}
    for dataset, err in base.items():
        for repeat in range(2):
            for fold in range(3):
                noise = 0.001 * (repeat * 3 + fold)
                seed = repeat
                rows.append((dataset, repeat, fold, seed, "teacher", "", "teacher", err - 0.05))
                for size in ("4", "full"):
                    shift = 0.0 if size == "4" else -0.03
                    for mode, delta in (("raw", 0.02), ("vanilla", 0.01), ("crossfit", 0.0)):
                        lost = (dataset, repeat, fold, size, mode) == ("b", 1, 2, "4", "raw")
                        if drop_fold and lost:  # a unit that wrote only part of its cells
                            continue
                        rows.append(
                            (
                                dataset,
                                repeat,
                                fold,
                                seed,
                                "tree",
                                size,
                                mode,
                                err + shift + delta + noise,
                            )
                        )
    frame = pd.DataFrame(
        rows, columns=["dataset", "repeat", "fold", "seed", "student", "size", "mode", "value"]
    )
    frame["teacher"] = "lightgbm"
    frame["metric"] = "error"
    path.mkdir()
    frame.to_csv(path / "results.csv", index=False)
    members = [{"name": m, "spec": f"sklearn:{m}"} for m in members]
    (path / "run.json").write_text(
        json.dumps({"kind": "kd-benchmark", "settings": {"members": members}})
    )
    return path


def test_json_report_tables_and_statistics(kd, tmp_path):
    run = make_run(tmp_path / "run")
    code, out, err = kd("report", run, "--format", "json", "--no-plots")
    assert code == 0, err
    report = json.loads(out)
    titles = [s["title"] for s in report["sections"]]
    assert "a · teacher lightgbm · tree student · error" in titles
    table = next(s for s in report["sections"] if s["title"].startswith("a ·"))["rows"]
    row4 = next(r for r in table if r["size"] == "4")
    assert row4["crossfit_mean"] == pytest.approx(0.2025) and row4["crossfit_n"] == 6
    assert row4["best"] == "crossfit" and row4["teacher_mean"] == pytest.approx(0.15)
    assert [r["size"] for r in table] == ["4", "full"]
    versus = next(s for s in report["sections"] if s["kind"] == "versus")
    assert versus["title"] == "each mode vs raw across datasets · error"
    for r in (r for r in versus["rows"] if r["mode"] == "crossfit"):
        # two datasets are two pairs (not 12 splits): both won, exact p = 2 / 2**2
        assert (r["N"], r["wins"], r["losses"], r["p"]) == (2, 2, 0, 0.5)
    ranks = next(s for s in report["sections"] if s["kind"] == "ranks")["rows"]
    assert all(r["crossfit"] == 1 and r["raw"] == 3 and r["N"] == 2 for r in ranks)
    assert report["baseline"] == "raw" and report["notes"] == []
    assert report["missing"] == ["gone: no results"]  # the study planned it; nothing came back


def test_a_partial_study_says_what_is_missing(kd, tmp_path):
    run = make_run(tmp_path / "run", drop_fold=True, members=("a", "b"))
    code, out, _ = kd("report", run, "--format", "md", "--no-plots")
    assert code == 0
    assert "**Missing results**" in out and "b lightgbm/tree 4 raw: 5 of 6 folds" in out
    assert "| size | raw | vanilla | crossfit | teacher |" in out


def test_html_is_self_contained_with_plots(kd, tmp_path):
    run = make_run(tmp_path / "run")
    code, _, err = kd(
        "report", run, "--format", "html", "--out", tmp_path / "r.html", "--save-plots"
    )
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    # two datasets, their grid, the rank plot and a critical-difference diagram per size
    assert html.count("data:image/png;base64,") == 6
    assert "<table" in html and "each mode vs raw across datasets" in html
    for png in (run / "plots").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert len(list((run / "plots").glob("*.svg"))) == 6


def test_markdown_file_links_its_plots_relative_to_itself(kd, tmp_path):
    """A report written with --out can be moved or committed together with its plots."""
    run = make_run(tmp_path / "run")
    folder = tmp_path / "published"
    folder.mkdir()
    code, _, err = kd(
        "report", run, "--format", "md", "--out", folder / "report.md", "--plots", folder / "plots"
    )
    assert code == 0, err
    links = [line for line in (folder / "report.md").read_text().splitlines() if "![" in line]
    assert len(links) == 6
    for line in links:
        target = line[line.index("](") + 2 : -1]
        assert target.startswith("plots/") and (folder / target).is_file(), line


def test_csv_report_and_bad_input(kd, tmp_path):
    run = make_run(tmp_path / "run")
    code, out, _ = kd("report", run, "--format", "csv", "--no-plots")
    assert code == 0 and out.startswith("section,")
    frame = pd.read_csv(pd.io.common.StringIO(out))
    assert {
        "each mode vs raw across datasets · error",
        "mean rank across datasets and Nemenyi critical difference · error",
        "Friedman test across datasets · error",
    } <= set(frame.section)
    assert "raw_naive_se" in frame.columns and "raw_se" not in frame.columns
    for args, words in (
        (["--metric", "f1"], "unknown --metric 'f1'"),
        (["--metric", "auc"], "has no 'auc' results"),
        (["--format", "pdf"], "unknown --format 'pdf'"),
    ):
        code, _, err = kd("report", run, *args)
        assert code == 2 and words in err
    code, _, err = kd("report", tmp_path / "nowhere")
    assert code == 2 and "does not exist" in err


def test_compression_section_from_a_real_run(kd, tmp_path):
    out = tmp_path / "fit"
    code, _, err = kd(
        "fit",
        "--dataset",
        "sklearn:wine",
        "--student",
        "tree,linear",
        "--sizes",
        "4",
        "--teacher-param",
        "n_estimators=20",
        "--threads",
        "1",
        "--out",
        out,
        "--quiet",
    )
    assert code == 0, err
    code, stdout, err = kd("report", out, "--format", "json", "--no-plots")
    assert code == 0, err
    section = next(s for s in json.loads(stdout)["sections"] if s["kind"] == "compression")
    rows = {(r["student"], r["size"]): r for r in section["rows"]}
    assert rows[("teacher", "")]["n_trees"] == 60  # 20 rounds x 3 classes
    assert rows[("tree", "4")]["n_leaves"] == 4 and rows[("linear", "4")]["n_trees"] == 0
    assert 0 <= rows[("tree", "4")]["crossfit"] <= 1
    assert rows[("tree", "4")]["ms_per_10k"] > 0 and rows[("teacher", "")]["ms_per_10k"] > 0
    latency = pd.read_csv(out / "latency.csv")
    assert len(latency) == 1 + 2 * 4  # the teacher, then 2 students x 4 modes


# ---------------------------------------------------------------- statistics a referee accepts


def make_study(path, datasets=10, splits=5, test_size=0.25):
    """corrected beats raw on every split of every dataset (per-dataset gaps 0.001 (i + 2));
    vanilla is worse than raw on even datasets, better on odd ones. A study's run.json (test
    size, no dataset rows), kd's own splits (repeats of fold 0)."""
    rows = []
    for i in range(datasets):
        for j in range(splits):
            raw = 0.30 + 0.01 * i + 0.002 * j
            vanilla = raw + (0.0003 if i % 2 == 0 else -0.0003) * (i + 1)
            corrected = raw - 0.001 * (i + 1) - 0.0005 * j
            keys = (f"d{i}", j, 0, j, "lightgbm")
            rows.append((*keys, "teacher", "", "teacher", "error", 0.2))
            for mode, value in (("raw", raw), ("vanilla", vanilla), ("corrected", corrected)):
                rows.append((*keys, "tree", "8", mode, "error", value))
    columns = ["dataset", "repeat", "fold", "seed", "teacher", "student", "size", "mode"]
    frame = pd.DataFrame(rows, columns=[*columns, "metric", "value"])
    path.mkdir()
    frame.to_csv(path / "results.csv", index=False)
    members = [{"name": f"d{i}", "spec": f"file:d{i}.csv"} for i in range(datasets)]
    settings = {"suite": "test", "members": members, "fit": {"test_size": test_size}}
    (path / "run.json").write_text(json.dumps({"kind": "kd-benchmark", "settings": settings}))
    return path


@pytest.fixture(scope="module")
def study_json(tmp_path_factory) -> dict:
    """`kd report --format json` of make_study's ten datasets, read by the tests below."""
    run = make_study(tmp_path_factory.mktemp("study") / "run")
    return json.loads(kd_stdout("report", run, "--format", "json", "--no-plots"))


def test_ten_datasets_give_the_exact_wilcoxon_p_with_n_beside_it(study_json):
    """Issue 13's Done-when, through the command: 10 per-dataset pairs, exact p = 2 / 2**10."""
    report = study_json
    (versus,) = [s for s in report["sections"] if s["kind"] == "versus"]
    rows = {r["mode"]: r for r in versus["rows"]}
    corrected = rows["corrected"]
    assert (corrected["N"], corrected["wins"], corrected["losses"]) == (10, 10, 0)
    assert corrected["p"] == 0.001953125
    # Holm over the two modes compared with raw: the smaller p doubles
    assert corrected["p_holm"] == pytest.approx(2 * 0.001953125, abs=1e-15)
    assert rows["vanilla"]["p_holm"] == pytest.approx(max(rows["vanilla"]["p"], 2 * 0.001953125))
    assert all("N" in r for r in versus["rows"])
    # Friedman: mean ranks 1, 2.5, 2.5 -> chi2 = 15, F = 27 on (2, 18), p = 4**-9
    (friedman,) = [s for s in report["sections"] if s["kind"] == "friedman"]
    (f,) = friedman["rows"]
    assert (f["N"], f["k"], f["df1"], f["df2"]) == (10, 3, 2, 18)
    assert f["chi2"] == pytest.approx(15) and f["F"] == pytest.approx(27)
    assert f["p"] == pytest.approx(4.0**-9, rel=1e-9)
    (ranks,) = [s for s in report["sections"] if s["kind"] == "ranks"]
    (r,) = ranks["rows"]
    assert (r["corrected"], r["raw"], r["vanilla"], r["N"]) == (1, 2.5, 2.5, 10)
    q = 2.3437005863784  # studentized range, k = 3, infinite df, / sqrt(2)
    assert r["CD"] == pytest.approx(q * math.sqrt(3 * 4 / (6 * 10)), abs=1e-9)
    assert r["groups"] == "raw, vanilla"  # corrected stands apart: 1.5 > CD = 1.048


def test_within_dataset_test_is_labelled_and_corrected(study_json):
    sections = study_json["sections"]
    within = next(s for s in sections if s["kind"] == "within" and s["title"].startswith("d0 ·"))
    assert "within one dataset only" in within["note"]
    assert "n_test/n_train ≈ 0.3333 (test size 0.25)" in within["note"]
    r = next(r for r in within["rows"] if r["mode"] == "corrected")
    # d0: differences -0.001 - 0.0005 j, j = 0..4: mean -0.002, var = 0.0005**2 * 2.5
    var = 0.0005**2 * 2.5
    assert (r["J"], r["df"]) == (5, 4)
    assert r["mean_difference"] == pytest.approx(-0.002, abs=1e-12)
    assert r["naive_se"] == pytest.approx(math.sqrt(var / 5), abs=1e-12)
    assert r["corrected_se"] == pytest.approx(math.sqrt((1 / 5 + 1 / 3) * var), abs=1e-12)
    per_dataset = next(s for s in sections if s["kind"] == "per-dataset")
    assert "naive SE" in per_dataset["note"] and "raw_naive_se" in per_dataset["rows"][0]


def test_markdown_and_html_show_n_beside_p_and_the_cd_diagram(kd, tmp_path):
    """One report, its figures drawn once into RUN/plots (where --save-plots puts them) as the
    PNGs a page embeds, shown as Markdown linked from beside the run and as an HTML page; the
    command itself writes the page without figures. The CD diagram's vector copies are drawn
    by the function the report draws it with. (The command's paths that draw, link or embed
    plots are tested above and in test_kd_report_writes_nothing_beside_the_run_unless_asked.)"""
    from kdcli.reporting.cd_diagram import cd_diagrams

    run = make_study(tmp_path / "run", datasets=10, splits=2)
    rep = kdcli.report(run, plots=run / "plots", png_only=True)
    (ranks,), (tests,) = rep.sections_of("ranks"), rep.sections_of("friedman")
    cd_diagrams(ranks.table, tests.table, "error", run / "plots")  # PNG, SVG and PDF
    md = render(rep, "md", links_from=tmp_path)  # as `--out tmp_path/r.md` links them
    versus = md[md.index("### each mode vs raw across datasets") :]
    assert "| teacher | student | size | mode | N | n | wins | ties | losses |" in versus
    assert (
        "| corrected | 10 | 10 | 10 | 0 | 0 | 0.9839 (-1.6%) | 0 | 0.0020 (n=10 of N=10) "
        "| 0.0039 (n=10 of N=10) |"
    ) in versus
    friedman = md[md.index("### Friedman test across datasets") :]
    assert "| 10 | 3 | 15.0000 | 27.0000 | 2 | 18 | 3.81e-06 (N=10) | F |" in friedman
    # J = 2 splits: no within-dataset p, and the note column says why
    assert "naive SE" in md and "(J=2)" not in md and "fewer than 3 splits" in md
    cd = run / "plots" / "cd-lightgbm-tree-8-error"
    assert cd.with_suffix(".png").is_file() and cd.with_suffix(".svg").is_file()
    cd_alt = "critical-difference diagram: mean rank of each target by error over 10 datasets"
    assert (
        f"![{cd_alt} · teacher lightgbm · tree students of size 8](run/plots/cd-lightgbm-tree-8-error.png)"
        in md
    )
    assert cd.with_suffix(".svg").read_text().lstrip().startswith("<?xml")

    code, _, err = kd("report", run, "--format", "html", "--out", tmp_path / "r.html", "--no-plots")
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    assert "0.0020 (n=10 of N=10)" in html and "Nemenyi" in html and "naive SE" in html
    html = render(rep, "html")
    cd_title = "critical-difference diagram: mean rank of each target by error over 10 datasets"
    assert f"alt='{cd_title}" in html
    assert html.count("data:image/png;base64,") == 10 + 1 + 1 + 1  # datasets, grid, ranks, CD


def test_one_dataset_says_why_there_is_no_test_across_datasets(kd, tmp_path):
    run = make_study(tmp_path / "run", datasets=1, splits=3)
    why = "no test across datasets: the results have 1 dataset (N = 1)"
    for fmt in ("md", "json", "csv", "html"):
        code, out, err = kd("report", run, "--format", fmt, "--no-plots")
        assert code == 0, err
        assert why in out, fmt
        assert "Friedman test across datasets" not in out and "across datasets ·" not in out
    rep = kdcli.report(run, draw_plots=False)
    assert rep.sections_of("friedman") == [] and len(rep.sections_of("within")) == 1


def test_baseline_option_and_api(kd, tmp_path):
    run = make_study(tmp_path / "run", datasets=3)
    rep = kdcli.report(run, draw_plots=False, baseline="vanilla")
    assert rep.baseline == "vanilla"
    (versus,) = rep.sections_of("versus")
    assert versus.title == "each mode vs vanilla across datasets · error"
    assert list(versus.table["mode"]) == ["raw", "corrected"]
    assert all(s.table["mode"].tolist() == ["raw", "corrected"] for s in rep.sections_of("within"))
    code, out, _ = kd("report", run, "--baseline", "corrected", "--format", "md", "--no-plots")
    assert code == 0 and "## each mode vs corrected across datasets · error" in out
    code, _, err = kd("report", run, "--baseline", "crossfit", "--no-plots")
    assert code == 2
    assert "--baseline 'crossfit' is not a mode of these results; use one of raw, vanilla" in err


def test_without_raw_the_default_baseline_is_explained(tmp_path):
    run = make_study(tmp_path / "run", datasets=3, splits=2)
    results = pd.read_csv(run / "results.csv")
    results[results["mode"] != "raw"].to_csv(run / "results.csv", index=False)
    rep = kdcli.report(run, draw_plots=False)
    assert (
        rep.baseline is None and rep.sections_of("versus") == [] and rep.sections_of("within") == []
    )
    assert any("no 'raw' mode" in n and "--baseline" in n for n in rep.notes)
    assert len(rep.sections_of("friedman")) == 1  # the Friedman test needs no baseline


def test_a_non_finite_value_is_named_not_averaged_away(kd, tmp_path):
    run = make_run(tmp_path / "run")
    frame = pd.read_csv(run / "results.csv", dtype={"size": str})
    hit = (frame.dataset == "a") & (frame["mode"] == "vanilla") & (frame["size"] == "4")
    frame.loc[hit & (frame.repeat == 0) & (frame.fold == 1), "value"] = math.inf
    frame.to_csv(run / "results.csv", index=False)
    code, out, err = kd("report", run, "--format", "json", "--no-plots")
    assert code == 0, err
    notes = json.loads(out)["notes"]
    assert any("1 value(s) of error are NaN or infinite" in n and "a · tree 4 · vanilla" in n
               for n in notes)  # fmt: skip
    code, out, _ = kd("report", make_run(tmp_path / "clean"), "--format", "json", "--no-plots")
    assert not any("infinite" in n for n in json.loads(out)["notes"])


# ---------------------------------------------------------------- issue 21


def write_run(path, rows, metric="error"):
    """A run folder from (dataset, repeat, mode, value) rows: tree students of size 8."""
    frame = pd.DataFrame(rows, columns=["dataset", "repeat", "mode", "value"])
    frame = frame.assign(fold=0, seed=frame["repeat"], teacher="lightgbm", student="tree")
    frame = frame.assign(size="8", metric=metric)
    path.mkdir()
    frame.to_csv(path / "results.csv", index=False)
    settings = {"fit": {"test_size": 0.25}}
    (path / "run.json").write_text(json.dumps({"kind": "kd-benchmark", "settings": settings}))
    return path


ALIKE = {  # the README's 3-tree AUCs: both datasets rank the four modes alike
    "magic": (0.8781, 0.9174, 0.9203, 0.9197),
    "adult": (0.8316, 0.9000, 0.9066, 0.9064),
}


def test_friedman_p_is_never_printed_as_zero(kd, tmp_path):
    """In the Markdown table, and in the title of the CD diagram drawn from the report's own
    rank and Friedman tables (as `kd report --save-plots` draws it, without the other figures)."""
    import matplotlib

    from kdcli.reporting.cd_diagram import cd_diagrams

    rows = [
        (dataset, 0, mode, v)
        for dataset, values in ALIKE.items()
        for mode, v in zip(("raw", "vanilla", "crossfit", "corrected"), values, strict=True)
    ]
    run = write_run(tmp_path / "run", rows, metric="auc")
    code, md, err = kd("report", run, "--metric", "auc", "--format", "md", "--no-plots")
    assert code == 0, err
    friedman = md[md.index("### Friedman test across datasets") :].split("\n## ")[0]
    assert "| 2 | 4 | 6.0000 | inf | 3 | 3 | 0.0417 (N=2) | exact |" in friedman
    assert "exact" in friedman.split("\n")[2]  # the note says which p it is
    rep = kdcli.report(run, "auc", draw_plots=False)
    (ranks,), (tests,) = rep.sections_of("ranks"), rep.sections_of("friedman")
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text in the SVG
        cd_diagrams(ranks.table, tests.table, "auc", run / "plots")
    title = (run / "plots" / "cd-lightgbm-tree-8-auc.svg").read_text()
    assert "Friedman p = 0.0417 (exact)" in title and "p = 0 " not in title


def test_wilcoxon_n_beside_p_and_geo_mean_ratio_in_every_format(kd, tmp_path):
    from io import StringIO

    from rich.console import Console

    from kdcli.reporting.render import render_rich

    rows = []
    for i in range(28):  # 10 datasets won by corrected, 18 ties
        gap = 0.001 * (i + 1) if i < 10 else 0.0
        rows += [(f"d{i}", 0, "raw", 0.3), (f"d{i}", 0, "corrected", 0.3 - gap)]
    run = write_run(tmp_path / "run", rows)
    shown = "0.0020 (n=10 of N=28; 18 ties)"
    rep = kdcli.report(run, draw_plots=False)  # built once, shown in each format
    md = render(rep, "md")
    for fmt, out in (("md", md), ("html", render(rep, "html"))):
        assert shown in out, fmt
    console = Console(file=StringIO(), width=400)
    render_rich(rep, console)
    assert shown in console.file.getvalue()
    code, out, err = kd("report", run, "--format", "json", "--no-plots")  # the command's path
    assert code == 0, err
    (versus,) = [s for s in json.loads(out)["sections"] if s["kind"] == "versus"]
    assert (versus["rows"][0]["n"], versus["rows"][0]["N"]) == (10, 28)
    # geometric mean of 0.3 - 0.001 (i + 1) over 0.3, as a ratio and a change
    ratio = math.exp(sum(math.log(1 - (i + 1) / 300) for i in range(10)) / 28)
    assert versus["rows"][0]["geo_mean_ratio"] == pytest.approx(ratio)
    assert f"{ratio:.4f} ({100 * (ratio - 1):+.1f}%)" in md and "geo_mean_ratio" in md


def test_two_splits_print_no_within_dataset_p_and_say_why(kd, tmp_path):
    run = make_study(tmp_path / "run", datasets=3, splits=2)
    code, md, err = kd("report", run, "--format", "md", "--no-plots")
    assert code == 0, err
    within = md[md.index("each mode − raw within this dataset") :].split("\n## ")[0]
    assert "(J=2)" not in within and "fewer than 3 splits" in within


def test_noise_around_zero_prints_as_zero():
    from kdcli.reporting.cells import display_frame
    from kdcli.reporting.model import Section
    from kdcli.reporting.tables import cell_text

    table = pd.DataFrame({"size": ["8"], "mode": ["crossfit"], "J": [3],
                          "mean_difference": [-5.551115123125783e-17], "p": [0.5]})  # fmt: skip
    shown = display_frame(Section("within", table, kind="within"))
    assert shown["mean_difference"].tolist() == ["0.0000"]
    assert cell_text(-1e-17, 1e-18) == "0.0000 ± 0.0000"


def test_a_partial_study_compares_modes_on_shared_splits_and_says_so(kd, tmp_path):
    run = make_run(tmp_path / "run", drop_fold=True, members=("a", "b"))
    code, out, err = kd("report", run, "--format", "json", "--no-plots")
    assert code == 0, err
    notes = json.loads(out)["notes"]
    assert any(
        "compared on the splits they all share" in n and "b lightgbm/tree 4: 1 of 6 splits" in n
        for n in notes
    ), notes


def test_the_bayesian_comparison_is_a_section_in_every_format_with_its_rope(kd, tmp_path):
    """crossfit beats raw by 0.02 ± 0.002 on every split of both datasets: more than the
    default rope of 0.01, well inside a rope of 0.5."""
    run = make_run(tmp_path / "run", members=("a", "b"))
    frame = pd.read_csv(run / "results.csv", dtype={"size": str})
    wobble = 0.002 * ((frame["repeat"] * 3 + frame["fold"]) % 3 - 1)  # a variance to work on
    frame.loc[frame["mode"] == "crossfit", "value"] += wobble[frame["mode"] == "crossfit"]
    frame.to_csv(run / "results.csv", index=False)
    code, out, err = kd("report", run, "--format", "json", "--no-plots")
    assert code == 0, err
    bayes = [s for s in json.loads(out)["sections"] if s["kind"] == "bayes"]
    across, within = bayes[0]["rows"], bayes[1]["rows"]
    assert bayes[0]["title"].startswith("Bayesian comparison with raw across datasets")
    crossfit = [r for r in within if r["mode"] == "crossfit"]
    assert len(crossfit) == 4 and all(r["p_better"] > 0.95 for r in crossfit)  # 2 datasets x 2
    assert {r["mode"] for r in across} == {"vanilla", "crossfit"}
    rep = kdcli.report(run, draw_plots=False, rope=0.5)
    wide = [s for s in json.loads(render(rep, "json"))["sections"] if s["kind"] == "bayes"][1]
    assert all(r["p_rope"] > 0.95 for r in wide["rows"] if r["mode"] == "crossfit")
    default = kdcli.report(run, draw_plots=False)  # built once, shown in each format
    for fmt in ("md", "html", "rich"):
        assert "Bayesian comparison with raw within each dataset" in render(default, fmt), fmt
    assert [s.title for s in rep.sections_of("bayes")] == [s["title"] for s in bayes]
    line = one_line_error(*kd("report", run, "--no-plots", "--rope", "-1"))
    assert "--rope must be a number ≥ 0" in line


def _listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_kd_report_writes_nothing_beside_the_run_unless_asked(kd, tmp_path):
    run = make_run(tmp_path / "run")
    before = _listing(run)
    for fmt in ("md", "rich", "json", "csv"):
        assert kd("report", run, "--format", fmt)[0] == 0
    code, _, err = kd("report", run, "--format", "html", "--out", tmp_path / "r.html")
    assert code == 0, err
    assert (tmp_path / "r.html").read_text().count("data:image/png;base64,") == 6
    assert _listing(run) == before  # the html's images were drawn elsewhere and embedded
    assert kd("report", run, "--format", "md", "--save-plots")[0] == 0
    assert len(list((run / "plots").glob("*.png"))) == 6
    line = one_line_error(*kd("report", run, "--plots", tmp_path / "p", "--save-plots"))
    assert "--save-plots" in line and "--plots" in line
