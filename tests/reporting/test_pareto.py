"""The Pareto front of the metric against model bytes and latency: the rule on hand-made points,
then a real `kd fit` whose report draws the figures and lists exactly the non-dominated points."""

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from kdcli.cli import main
from kdcli.reporting.pareto import pareto_front, pareto_table

from conftest import run_kd


def front_of(coords: list[tuple[float, float]], index=None) -> list[bool]:
    points = pd.DataFrame(coords, columns=["x", "y"], index=index)
    return pareto_front(points, "x", "y").tolist()


def test_a_point_worse_on_both_axes_or_tied_on_one_is_dominated():
    assert front_of([(1, 1), (2, 2)]) == [True, False]
    assert front_of([(1, 2), (1, 3)]) == [True, False]  # same x, worse y
    assert front_of([(1, 3), (2, 3)]) == [True, False]  # same y, larger x
    assert front_of([(1, 3), (2, 1)]) == [True, True]  # a trade-off: both on it


def test_duplicates_share_the_front_and_a_dominated_duplicate_stays_off():
    assert front_of([(1, 1), (1, 1), (2, 0.5)]) == [True, True, True]
    assert front_of([(2, 2), (2, 2), (1, 1)]) == [False, False, True]


def test_a_point_without_a_finite_value_is_off_the_front_and_dominates_nothing():
    assert front_of([(np.nan, 0), (5, 5), (np.inf, -1)]) == [False, True, False]
    assert front_of([]) == []


def test_the_index_is_kept():
    points = pd.DataFrame({"x": [3.0, 1.0], "y": [3.0, 1.0]}, index=[10, 7])
    front = pareto_front(points, "x", "y")
    assert front.to_dict() == {10: False, 7: True}


def brute_force(coords: list[tuple[float, float]]) -> list[bool]:
    def beats(a, b) -> bool:
        return a[0] <= b[0] and a[1] <= b[1] and (a[0] < b[0] or a[1] < b[1])

    return [not any(beats(o, p) for o in coords) for p in coords]


def test_random_points_with_many_ties_match_the_definition():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        coords = [tuple(map(float, p)) for p in rng.integers(0, 4, size=(n, 2))]
        assert front_of(coords) == brute_force(coords), coords


def test_a_higher_is_better_metric_is_maximised():
    rows = []
    for mode, size, auc, size_bytes in (
        ("raw", "4", 0.90, 100.0),
        ("raw", "8", 0.95, 200.0),
        ("vanilla", "8", 0.93, 200.0),  # as big as raw 8, lower AUC: dominated
        ("teacher", "", 0.99, 900.0),
    ):
        student = "teacher" if mode == "teacher" else "tree"
        for metric, value in (("auc", auc), ("model_bytes", size_bytes)):
            rows.append(("d", 0, 0, 0, "lgbm", student, size, mode, metric, value))
    columns = ["dataset", "repeat", "fold", "seed", "teacher", "student", "size", "mode"]
    results = pd.DataFrame(rows, columns=[*columns, "metric", "value"])
    table = pareto_table(results, "auc").set_index(["mode", "size"])
    assert table["on_front_bytes"].to_dict() == {
        ("teacher", ""): False,  # the reference, on no front
        ("raw", "4"): True,
        ("raw", "8"): True,
        ("vanilla", "8"): False,
    }
    assert not table["on_front_latency"].any() and table["ms_per_10k"].isna().all()


# ---------------------------------------------------------------- a real run and its report


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    out = tmp_path_factory.mktemp("pareto") / "fit"
    args = ["fit", "--dataset", "sklearn:breast_cancer", "--student", "tree,gbdt"]
    args += ["--sizes", "2,4,16", "--teacher-param", "n_estimators=20", "--threads", "1"]
    with pytest.raises(SystemExit) as done:
        main([*args, "--out", str(out), "--quiet"])
    assert done.value.code == 0
    return out


@pytest.fixture(scope="module")
def linked(fitted, tmp_path_factory) -> tuple[str, Path]:
    """`kd report --format md --plots DIR` of the fit, SVG text kept as text: the Markdown and
    DIR, which the tests below only read."""
    plots = tmp_path_factory.mktemp("linked") / "plots"
    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit) as done:
            main(["report", str(fitted), "--format", "md", "--plots", str(plots)])
    assert done.value.code == 0
    return out.getvalue(), plots


def recomputed_fronts(run, metric="error") -> set[tuple[str, str, str, str]]:
    """(student, mode, size, axis) of every non-dominated point, from the run's own files."""
    results = pd.read_csv(run / "results.csv", dtype={"size": str})
    latency = pd.read_csv(run / "latency.csv", dtype={"size": str})
    results = results[results.student != "teacher"]
    keys = ["student", "mode", "size"]
    means = results.pivot_table(index=keys, columns="metric", values="value", aggfunc="mean")
    means = means.join(latency[latency.student != "teacher"].groupby(keys)["ms_per_10k"].mean())
    out = set()
    for student, part in means.groupby(level="student"):
        for axis, x in (("bytes", "model_bytes"), ("latency", "ms_per_10k")):
            coords = list(zip(part[x], part[metric], strict=True))
            for (_, mode, size), on in zip(part.index, brute_force(coords), strict=True):
                out |= {(student, mode, size, axis)} if on else set()
    return out


def pareto_rows(report: dict) -> list[dict]:
    sections = [s for s in report["sections"] if s["kind"] == "pareto"]
    assert len(sections) == 1  # one dataset, one teacher
    return sections[0]["rows"]


def test_the_section_lists_exactly_the_non_dominated_points(fitted, capsys):
    code, out, err = run_kd(["report", fitted, "--format", "json", "--no-plots"], capsys)
    assert code == 0, err
    listed = {
        (r["student"], r["mode"], r["size"], axis)
        for r in pareto_rows(json.loads(out))
        for axis in r["front"].split(", ")
    }
    assert listed == recomputed_fronts(fitted)
    results = pd.read_csv(fitted / "results.csv", dtype={"size": str})
    points = results[results.student != "teacher"][["student", "mode", "size"]].drop_duplicates()
    assert len({p[:3] for p in listed}) < len(points)  # a front, not the whole grid
    for fmt, words in (("md", "| student | front | mode |"), ("csv", "front"), ("html", "front")):
        code, out, err = run_kd(["report", fitted, "--format", fmt, "--no-plots"], capsys)
        assert code == 0 and "Pareto front of error vs model bytes, latency" in out, err
        assert words in out


def test_the_figure_has_both_panels_the_teacher_and_is_linked(linked):
    md, plots = linked
    for student in ("tree", "gbdt"):
        stem = f"sklearn-breast_cancer-lightgbm-{student}-pareto-error"
        svg = (plots / f"{stem}.svg").read_text()
        for words in ("error vs bytes", "error vs latency", "teacher (lightgbm)", "Pareto front"):
            assert words in svg, (stem, words)
        assert (plots / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        (alt,) = re.findall(rf"!\[([^\]]+)\]\([^)]*/{stem}\.png\)", md)
        assert (
            alt == f"sklearn:breast_cancer: error of {student} students from lightgbm by model size"
        )


def png_width(path) -> int:
    return int.from_bytes(path.read_bytes()[16:20], "big")


def test_an_old_run_without_latency_gets_the_bytes_panel_and_a_note(
    fitted, linked, capsys, tmp_path
):
    old = tmp_path / "old"
    shutil.copytree(fitted, old, ignore=shutil.ignore_patterns("plots"))
    (old / "latency.csv").unlink()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        code, out, err = run_kd(["report", old, "--format", "json", "--save-plots"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert any("no prediction latency" in n and "bytes only" in n for n in report["notes"])
    rows = pareto_rows(report)
    assert rows and {r["front"] for r in rows} == {"bytes"}
    assert {(r["student"], r["mode"], r["size"], "bytes") for r in rows} == {
        f for f in recomputed_fronts(fitted) if f[3] == "bytes"
    }
    stem = "sklearn-breast_cancer-lightgbm-tree-pareto-error"
    svg = (old / "plots" / f"{stem}.svg").read_text()
    assert "error vs bytes" in svg and "error vs latency" not in svg
    _, both = linked  # the same figure with its latency panel
    assert png_width(old / "plots" / f"{stem}.png") < png_width(both / f"{stem}.png")
