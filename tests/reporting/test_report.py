"""`kd report`: tables, statistics, formats and plots from hand-built results with known answers."""

import json

import pandas as pd
import pytest


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
    paired = next(s for s in report["sections"] if s["title"] == "crossfit vs raw · error")
    for r in paired["rows"]:
        assert (r["pairs"], r["wins"], r["losses"], r["datasets"]) == (12, 12, 0, 2)
        assert r["p_value"] < 0.001
    ranks = next(s for s in report["sections"] if s["kind"] == "ranks")["rows"]
    assert all(r["crossfit"] == 1 and r["raw"] == 3 for r in ranks)
    assert report["missing"] == ["gone: no results"]  # the study planned it; nothing came back


def test_a_partial_study_says_what_is_missing(kd, tmp_path):
    run = make_run(tmp_path / "run", drop_fold=True, members=("a", "b"))
    code, out, _ = kd("report", run, "--format", "md", "--no-plots")
    assert code == 0
    assert "**Missing results**" in out and "b lightgbm/tree 4 raw: 5 of 6 folds" in out
    assert "| size | raw | vanilla | crossfit | teacher |" in out


def test_html_is_self_contained_with_plots(kd, tmp_path):
    run = make_run(tmp_path / "run")
    code, _, err = kd("report", run, "--format", "html", "--out", tmp_path / "r.html")
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    assert html.count("data:image/png;base64,") == 3  # two datasets and the rank plot
    assert "<table" in html and "crossfit vs raw" in html
    for png in (run / "plots").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert len(list((run / "plots").glob("*.svg"))) == 3


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
    assert len(links) == 3
    for line in links:
        target = line[line.index("](") + 2 : -1]
        assert target.startswith("plots/") and (folder / target).is_file(), line


def test_csv_report_and_bad_input(kd, tmp_path):
    run = make_run(tmp_path / "run")
    code, out, _ = kd("report", run, "--format", "csv", "--no-plots")
    assert code == 0 and out.startswith("section,")
    frame = pd.read_csv(pd.io.common.StringIO(out))
    assert {"crossfit vs raw · error", "mean rank of each mode · error"} <= set(frame.section)
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
