"""`kd report --summary` (issue 25): one table of datasets x modes at one student size, the best
starred, and under it the mean rank, wins/ties/losses, Friedman's p and Holm's Wilcoxon p."""

import json

import pandas as pd
import pytest
from test_latex import check_structure
from test_report import make_study

from kdcli.reporting.summary import default_size

from conftest import one_line_error


def sized_study(path):
    """make_study's tree 8 (corrected best on every dataset) plus tree 4 and 16 where vanilla is
    best everywhere, tree full where raw is, and a linear 8 student where vanilla is."""
    make_study(path)
    frame = pd.read_csv(path / "results.csv", dtype={"size": str}, keep_default_na=False)
    tree8 = frame[frame["student"] == "tree"]
    parts = [frame]
    for student, size, winner in (
        ("tree", "4", "vanilla"),
        ("tree", "16", "vanilla"),
        ("tree", "full", "raw"),
        ("linear", "8", "vanilla"),
    ):
        part = tree8.copy().assign(student=student, size=size)
        wide = part.set_index(["dataset", "repeat", "fold", "seed", "mode"])["value"].unstack()
        wide[winner] = wide["corrected"] - 0.01
        part = wide.stack().rename("value").reset_index()
        parts.append(part.assign(teacher="lightgbm", student=student, size=size, metric="error"))
    pd.concat(parts, ignore_index=True).to_csv(path / "results.csv", index=False)
    return path


def summary_json(kd, run, *args):
    code, out, err = kd("report", run, "--summary", "--format", "json", *args)
    assert code == 0, err
    (section,) = json.loads(out)["sections"]
    assert section["kind"] == "summary"
    data = [r for r in section["rows"] if not r["statistic"]]
    stats = {r["statistic"]: r for r in section["rows"] if r["statistic"]}
    return section, data, stats


def test_one_mode_better_everywhere_is_best_on_every_row_with_rank_1_and_every_win(kd, tmp_path):
    section, data, stats = summary_json(kd, make_study(tmp_path / "run"))
    assert section["title"] == "summary · teacher lightgbm · tree 8 student · error"
    assert [r["dataset"] for r in data] == [f"d{i}" for i in range(10)]
    assert all(r["best"] == "corrected" for r in data)
    assert data[0]["raw"] == pytest.approx(0.304)  # mean of 0.30 + 0.002 j, j < 5
    ranks = stats["mean_rank"]
    assert (ranks["corrected"], ranks["raw"], ranks["vanilla"]) == (1.0, 2.5, 2.5)
    assert ranks["best"] == "corrected"
    assert stats["wins_ties_losses"]["corrected"] == "10/0/0"
    assert stats["wins_ties_losses"]["vanilla"] == "5/0/5"
    assert stats["wins_ties_losses"]["raw"] is None  # the baseline against itself: none
    assert stats["p_holm"]["corrected"] == pytest.approx(2 * 2 / 2**10)  # exact, Holm over 2
    assert stats["friedman_p"]["raw"] == pytest.approx(4.0**-9)  # the first mode's column
    assert "p_better" not in stats  # the Bayesian rows only where --rope asks


def test_rope_adds_the_bayesian_probabilities(kd, tmp_path):
    _, _, stats = summary_json(kd, make_study(tmp_path / "run"), "--rope", "0.001")
    assert stats["p_better"]["corrected"] == pytest.approx(1.0)
    assert stats["p_worse"]["corrected"] == pytest.approx(0.0)
    total = sum(stats[p]["vanilla"] for p in ("p_better", "p_rope", "p_worse"))
    assert total == pytest.approx(1.0)


def test_default_size_is_the_middle_one_never_full():
    assert default_size(["full", "16", "4", "8"]) == "8"
    assert default_size(["32", "4", "16", "8"]) == "8"  # even: the lower middle
    assert default_size(["full", "2"]) == "2"
    assert default_size(["full"]) == "full"


def test_student_and_size_choose_the_table(kd, tmp_path):
    run = sized_study(tmp_path / "run")
    section, data, _ = summary_json(kd, run)  # 4, 8, 16, full: the middle is 8
    assert "tree 8 student" in section["title"]
    assert all(r["best"] == "corrected" for r in data)
    section, data, stats = summary_json(kd, run, "--size", "16")
    assert "tree 16 student" in section["title"]
    assert all(r["best"] == "vanilla" for r in data) and stats["mean_rank"]["vanilla"] == 1.0
    _, data, _ = summary_json(kd, run, "--size", "full")
    assert all(r["best"] == "raw" for r in data)
    section, data, _ = summary_json(kd, run, "--student", "linear")
    assert "linear 8 student" in section["title"]
    assert all(r["best"] == "vanilla" for r in data)


def test_a_size_or_student_that_is_not_there_is_one_line(kd, tmp_path):
    run = sized_study(tmp_path / "run")
    line = one_line_error(*kd("report", run, "--summary", "--size", "12"))
    assert "--size 12" in line and "4, 8, 16, full" in line
    line = one_line_error(*kd("report", run, "--summary", "--student", "knn"))
    assert "--student knn" in line and "tree" in line and "linear" in line
    line = one_line_error(*kd("report", run, "--size", "8"))  # without --summary
    assert "--summary" in line


@pytest.mark.parametrize("fmt", ["rich", "md", "csv", "html"])
def test_every_text_format_shows_the_table_and_its_bottom_rows(kd, tmp_path, fmt):
    code, out, err = kd("report", make_study(tmp_path / "run"), "--summary", "--format", fmt)
    assert code == 0, err
    for row in ("mean rank", "wins/ties/losses vs raw", "Friedman p", "Wilcoxon p (Holm) vs raw"):
        assert row in out, row
    assert "Nemenyi" not in out and "within this dataset" not in out  # the summary alone
    if fmt == "md":
        assert "| dataset | raw | vanilla | corrected |" in out
        assert "| mean rank | 2.50 | 2.50 | ★ 1.00 |" in out
        assert "| wins/ties/losses vs raw | – | 5/0/5 | 10/0/0 |" in out
    if fmt == "html":
        assert "<img" not in out  # no plots with --summary


def test_latex_is_one_booktabs_table_with_the_best_in_bold(kd, tmp_path):
    code, out, err = kd("report", make_study(tmp_path / "run"), "--summary", "--format", "latex")
    assert code == 0, err
    (table,) = check_structure(out)
    assert table["header"] == ["dataset", "raw", "vanilla", "corrected"]
    by_name = {row[0]: row for row in table["rows"]}
    for i in range(10):
        assert [("textbf" in c) for c in by_name[f"d{i}"][1:]] == [False, False, True]
    assert "textbf" in by_name["mean rank"][3] and "10/0/0" in by_name["wins/ties/losses vs raw"]
