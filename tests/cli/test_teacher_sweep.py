"""A --teacher-grid sweep end to end: `kd fit` and `kd benchmark` run each variant as its own
teacher (labels, unit files, cache entries, resume), `kd report` tables and plots it against the
swept value, and bad grids are one line, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import kdcli
from kdcli.records import teacher_variant

from conftest import one_line_error

SWEEP = [
    "--teacher", "rf", "--teacher-param", "rf.n_estimators=10", "--sizes", "4",
    "--modes", "raw,vanilla,corrected,mixed", "--alpha-grid", "0,0.5,1", "--threads", "1",
]  # fmt: skip


def bench(out: Path, cache: Path, grid: str, *extra) -> list:
    return [
        "benchmark", "--suite", "demo", "--datasets", "breast_cancer", "--repeats", "2",
        "--out", out, "--cache-dir", cache, *SWEEP, "--teacher-grid", grid, *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """One two-variant sweep, two repeats, its report; shared by the tests that read it."""
    from kdcli.cli import main

    root = tmp_path_factory.mktemp("sweep")
    args = bench(root / "a", root / "cache", "rf.max_depth=1,None", "--json")
    try:
        main([str(a) for a in args])
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    try:
        main(
            ["report", str(root / "a"), "--format", "md", "--out", str(root / "a" / "report.md"),
             "--save-plots"]
        )  # fmt: skip
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    return root


def test_each_variant_is_a_unit_with_its_label_and_parseable_values(study):
    units = sorted(p.name for p in (study / "a" / "units").glob("*.parquet"))
    assert len(units) == 4  # 2 repeats x 2 variants
    assert {u.split("__")[2].rsplit("-", 1)[0] for u in units} == {
        "rf-max_depth-1",
        "rf-max_depth-None",
    }
    res = pd.read_parquet(study / "a" / "results.parquet")
    assert set(res.teacher) == {"rf[max_depth=1]", "rf[max_depth=None]"}
    assert {teacher_variant(t)[1]["max_depth"] for t in res.teacher} == {"1", "None"}
    alpha = res[(res["mode"] == "mixed") & (res.metric == "alpha")]
    assert len(alpha) == 4 and alpha.value.isin([0.0, 0.5, 1.0]).all()
    own = res[res["mode"] == "teacher"].pivot_table(
        index="teacher", columns="metric", values="value"
    )
    assert own.loc["rf[max_depth=1]", "log_loss"] != own.loc["rf[max_depth=None]", "log_loss"]


def test_the_report_opens_with_the_capacity_table_and_draws_its_figure(study):
    text = (study / "a" / "report.md").read_text()
    assert text.index("## Verdict") < text.index("## breast_cancer")  # the answer first
    first = text.index("### ")  # then the one dataset's part, its capacity table first
    assert text[first:].startswith("### breast_cancer · teacher rf vs max_depth · tree 4 student")
    table = text[first:].split("\n\n")[2].splitlines()
    assert table[0] == "| max_depth | teacher | raw | vanilla | corrected | mixed | n |"
    assert [row.split(" | ")[0] for row in table[2:]] == ["| 1", "| None"]
    plots = study / "a" / "plots"
    for ext in ("png", "svg"):
        figure = plots / f"breast_cancer-capacity-rf-max_depth-tree-4-error.{ext}"
        assert figure.stat().st_size > 1000
    assert "breast_cancer-capacity-rf-max_depth-tree-4-error.png" in text


def test_a_rerun_resumes_and_a_wider_grid_reuses_the_variants_it_has(study, kd):
    code, out, _ = kd(*bench(study / "a", study / "cache", "rf.max_depth=1,None", "--json"))
    assert code == 0 and json.loads(out)["units_run"] == 0
    code, out, err = kd(*bench(study / "b", study / "cache", "rf.max_depth=1,3,None", "--json"))
    assert code == 0, err
    report = json.loads(out)
    assert report["units_run"] == 6 and report["teacher_predictions_reused"] == 4
    a = pd.read_parquet(study / "a" / "results.parquet")
    b = pd.read_parquet(study / "b" / "results.parquet")
    same = b[b.teacher.isin(set(a.teacher))].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), same)


def test_kd_fit_sweeps_too_and_the_api_gives_the_same_numbers(kd, tmp_path):
    args = ["fit", "--dataset", "sklearn:wine", *SWEEP, "--teacher-grid", "rf.max_depth=1,3"]
    code, out, err = kd(*args, "--repeats", "1", "--out", tmp_path / "fit")
    assert code == 0, err
    assert "rf[max_depth=1]" in out and "rf[max_depth=3]" in out
    cli = pd.read_csv(tmp_path / "fit" / "results.csv", dtype={"size": str}, keep_default_na=False)
    assert set(cli.teacher) == {"rf[max_depth=1]", "rf[max_depth=3]"}
    api = kdcli.fit(
        "sklearn:wine",
        threads=1,
        teacher="rf",
        teacher_param={"n_estimators": 10},
        teacher_grid={"rf.max_depth": [1, 3]},
        sizes="4",
        modes="raw,vanilla,corrected,mixed",
        alpha_grid=[0, 0.5, 1],
        repeats=1,
    )
    got = api.results.sort_values(["teacher", "mode", "metric"]).reset_index(drop=True)
    want = cli.sort_values(["teacher", "mode", "metric"]).reset_index(drop=True)
    pd.testing.assert_series_equal(got.value, want.value, check_exact=False, rtol=1e-12)
    assert set(api.table("error", teacher="rf[max_depth=3]").columns) >= {"raw", "mixed"}


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--teacher-grid", "rf.max_dept=1,2"], ["'max_dept'", "--teacher-grid"]),
        (["--teacher-grid", "rf.max_depth="], ["--teacher-grid", "has no values"]),
        (["--teacher-grid", "rf.max_depth=abc"], ["--teacher-grid", "abc"]),
        (["--teacher-grid", "rf.num_leaves=7,15"], ["'num_leaves'", "--teacher-grid"]),
        (["--teacher-grid", "xgboost.max_depth=2"], ["--teacher-grid", "not a --teacher here"]),
        (
            ["--teacher-grid", "rf.max_depth=1,2", "--teacher-param", "rf.max_depth=3"],
            ["--teacher-grid", "also sets"],
        ),
        (["--alpha-grid", "1.5"], ["--alpha-grid", "[0, 1]"]),
        (["--alpha-grid", "-0.1"], ["--alpha-grid", "[0, 1]"]),
        (["--alpha-grid", "x"], ["--alpha-grid", "'x'"]),
    ],
)
@pytest.mark.parametrize("command", ["fit", "benchmark"])
def test_a_bad_grid_is_one_line_exit_2_and_nothing_written(kd, tmp_path, command, extra, words):
    where = ["--dataset", "sklearn:wine"] if command == "fit" else ["--suite", "demo"]
    out = tmp_path / "out"
    args = [command, *where, "--teacher", "rf", "--modes", "raw,mixed", *extra, "--out", out]
    line = one_line_error(*kd(*args))
    for word in words:
        assert word in line, line
    assert not out.exists()


def test_lightgbm_and_xgboost_grids_check_types_too(kd, tmp_path):
    for teacher in ("lightgbm", "xgboost"):
        out = tmp_path / teacher
        args = ["fit", "--dataset", "sklearn:wine", "--teacher", teacher, "--out", out]
        line = one_line_error(*kd(*args, "--teacher-grid", f"{teacher}.max_depth=2.5"))
        assert "--teacher-grid" in line and "whole number" in line and not out.exists()


def test_a_grid_of_ten_million_teachers_is_one_line_naming_its_count(kd, tmp_path):
    """Issue 20, item 9: 7 parameters x 10 values gave no output for minutes while memory grew
    to gigabytes; now the count is refused before any variant is made."""
    names = ["num_leaves", "max_depth", "min_child_samples", "n_estimators", "max_bin",
             "subsample_for_bin", "min_data_in_bin"]  # fmt: skip
    grid = [a for n in names for a in ("--teacher-grid", f"{n}={','.join(map(str, range(2, 12)))}")]
    places = (("fit", ["--dataset", "sklearn:wine"]), ("benchmark", ["--suite", "demo"]))
    for command, where in places:
        out = tmp_path / command
        line = one_line_error(*kd(command, *where, "--teacher", "lightgbm", *grid, "--out", out))
        assert "--teacher-grid makes 10,000,000 teachers" in line and "limit of 1,000" in line
        assert not out.exists()


def test_a_bad_grid_value_names_the_grid_not_the_teacher_param(kd, tmp_path):
    """Issue 20, item 12: it was a --teacher-param error suggesting max_depth=0.1."""
    args = ["fit", "--dataset", "sklearn:wine", "--teacher", "rf", "--out", tmp_path / "out"]
    line = one_line_error(*kd(*args, "--teacher-grid", "rf.max_depth=1,nan"))
    assert "--teacher-grid rf.max_depth=nan" in line and "--teacher-param" not in line
    assert "write e.g. --teacher-grid rf.max_depth=8,16,32" in line
    line = one_line_error(*kd(*args, "--teacher-grid", "rf.max_depth=1,True"))
    assert "--teacher-grid rf.max_depth=True" in line and "not True or False" in line


def test_a_teacher_param_beats_the_presets_grid_on_the_command_line(kd):
    """Issue 20, item 12: `--preset dao2021-teacher --teacher-param rf.max_depth=2` was refused
    as a --teacher-grid (which the user never gave) that --teacher-param also sets."""
    code, out, err = kd(
        "fit", "--dataset", "sklearn:iris", "--preset", "dao2021-teacher",
        "--teacher-param", "rf.max_depth=2", "--teacher-param", "rf.n_estimators=5",
        "--modes", "raw,vanilla", "--sizes", "2", "--repeats", "1", "--folds", "2",
        "--select-folds", "2", "--threads", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    settings = json.loads(out)["settings"]["fit"]
    assert settings["teachers"] == [{"name": "rf", "params": {"max_depth": 2, "n_estimators": 5}}]
    assert "teacher_grid" in settings["preset"]["overridden"]
