"""`kd report` against teacher capacity: a --teacher-grid sweep's tables, sections and figure,
from hand-built results with known answers."""

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from kdcli.records import RESULT_COLUMNS, teacher_label
from kdcli.reporting.capacity import Sweep, capacity_table, capacity_tables, find_sweeps
from kdcli.reporting.plots import capacity_figure
from kdcli.reporting.render import FORMATS, render, render_rich
from kdcli.reporting.report import report_run
from kdcli.reporting.sections import build_report

DEPTHS = [10, None, 1, 5]  # out of order on purpose: 10 sorts before 5 as text
LEVEL = {1: 0, 5: 1, 10: 2, None: 3}
SHIFT = {"raw": -0.10, "vanilla:logit": -0.05, "corrected:logit": -0.03, "mixed": -0.04}
BASE = {"a": 0.70, "b": 0.60}
NOISE = [0.0, 0.01, 0.02, 0.03]  # per split (repeat, fold)
SE = float(np.std(NOISE, ddof=1) / math.sqrt(len(NOISE)))


def auc(dataset, depth, mode, split):
    """The teacher gains 0.05 AUC per step of depth; each mode sits a fixed step below it."""
    return BASE[dataset] + 0.05 * LEVEL[depth] + SHIFT.get(mode, 0.0) + NOISE[split]


def sweep_frame(
    datasets=("a", "b"), depths=DEPTHS, sizes=("4",), name=teacher_label
) -> pd.DataFrame:
    """2 repeats x 2 folds of each dataset and teacher variant: the teacher's own rows and a tree
    student per size and mode; AUC as :func:`auc` has it and error = 1 − AUC."""
    cells = [("teacher", "", "teacher"), *(("tree", s, m) for s in sizes for m in SHIFT)]
    rows = [
        (dataset, repeat, fold, repeat, teacher, student, size, mode, metric, value)
        for dataset in datasets
        for depth in depths
        for teacher in [name("rf", {"max_depth": depth})]
        for repeat in range(2)
        for fold in range(2)
        for student, size, mode in cells
        for metric in ("auc", "error")
        for score in [auc(dataset, depth, mode, repeat * 2 + fold)]
        for value in [score if metric == "auc" else 1.0 - score]
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def test_rows_in_capacity_order_with_hand_computed_means():
    frame = sweep_frame(sizes=("4", "full"))
    (sweep,) = find_sweeps(frame)
    assert (sweep.name, sweep.param, sweep.fixed) == ("rf", "max_depth", ())
    assert sweep.values == ["1", "5", "10", "None"]
    table = capacity_table(frame, "b", sweep, "tree", "full", "auc")
    assert list(table.index) == ["1", "5", "10", "None"] and table.index.name == "max_depth"
    assert list(table.columns) == [
        "teacher_mean", "teacher_naive_se",
        "raw_mean", "raw_naive_se",
        "vanilla:logit_mean", "vanilla:logit_naive_se",
        "corrected:logit_mean", "corrected:logit_naive_se",
        "mixed_mean", "mixed_naive_se",
        "n",
    ]  # fmt: skip
    mean_noise = sum(NOISE) / len(NOISE)
    for depth, level in LEVEL.items():
        row = table.loc[str(depth)]
        teacher = 0.60 + 0.05 * level + mean_noise
        assert row["teacher_mean"] == pytest.approx(teacher)
        assert row["raw_mean"] == pytest.approx(teacher - 0.10)
        assert row["corrected:logit_mean"] == pytest.approx(teacher - 0.03)
        assert row["mixed_mean"] == pytest.approx(teacher - 0.04)
        assert row["teacher_naive_se"] == pytest.approx(SE)
        assert row["vanilla:logit_naive_se"] == pytest.approx(SE)
        assert row["n"] == 4
    error = capacity_table(frame, "a", sweep, "tree", "4", "error")
    assert error.loc["None", "teacher_mean"] == pytest.approx(1 - (0.70 + 0.15 + mean_noise))


def test_seeds_of_a_split_are_averaged_and_a_nan_shows():
    frame = sweep_frame(datasets=("a",))
    one = (frame.teacher == "rf[max_depth=5]") & (frame["mode"] == "raw") & (frame.metric == "auc")
    twin = frame[one & (frame.repeat == 0) & (frame.fold == 0)].assign(seed=7, value=0.95)
    frame = pd.concat([frame, twin], ignore_index=True)  # a second seed on split 0
    (sweep,) = find_sweeps(frame)
    table = capacity_table(frame, "a", sweep, "tree", "4", "auc")
    split0 = (auc("a", 5, "raw", 0) + 0.95) / 2
    values = [split0] + [auc("a", 5, "raw", k) for k in (1, 2, 3)]
    assert table.loc["5", "raw_mean"] == pytest.approx(np.mean(values))
    assert table.loc["5", "raw_naive_se"] == pytest.approx(np.std(values, ddof=1) / 2)
    assert table.loc["5", "n"] == 4  # splits, not rows

    frame.loc[one & (frame.repeat == 1) & (frame.fold == 1), "value"] = math.nan
    table = capacity_table(frame, "a", sweep, "tree", "4", "auc")
    assert math.isnan(table.loc["5", "raw_mean"])  # averaged like the rest, not skipped
    assert table.loc["1", "raw_mean"] == pytest.approx(0.60 + 0.015)
    md = render(build_report(frame, "auc", "run"), "md")
    row = next(line for line in md.splitlines() if line.startswith("| 5 |"))
    assert row.split(" | ")[2] == "–"  # max_depth, teacher, raw


def test_no_sweep_no_capacity_sections():
    plain = sweep_frame(depths=[1], name=lambda n, v: "rf")
    two = pd.concat([plain, plain.assign(teacher="xgboost")], ignore_index=True)
    one_variant = sweep_frame(depths=[5])  # rf[max_depth=3] alone is no sweep
    for frame in (plain, two, one_variant):
        assert find_sweeps(frame) == [] and capacity_tables(frame, "auc") == []
        rep = build_report(frame, "auc", "run")
        assert rep.sections_of("capacity") == [] and rep.sections_of("per-dataset")
        assert "capacity" not in render(rep, "md")


def test_a_plain_teacher_beside_its_variants_is_not_in_the_sweep():
    frame = pd.concat(
        [sweep_frame(depths=[1, None]), sweep_frame(depths=[1], name=lambda n, v: "rf")],
        ignore_index=True,
    )
    (sweep,) = find_sweeps(frame)
    assert sweep.teachers == (("1", "rf[max_depth=1]"), ("None", "rf[max_depth=None]"))


def test_a_product_grid_holds_the_other_parameter_fixed():
    labels = {
        (depth, leaf): teacher_label("rf", {"max_depth": depth, "min_samples_leaf": leaf})
        for depth in (5, None)
        for leaf in (1, 5, 20)
    }
    frame = pd.concat(
        [
            sweep_frame(datasets=("a",), depths=[d], name=lambda n, v, lab=lab: lab).assign(
                value=lambda f, leaf=leaf: f["value"] + 0.001 * leaf
            )
            for (d, leaf), lab in labels.items()
        ],
        ignore_index=True,
    )
    sweeps = find_sweeps(frame)
    assert [(s.param, s.fixed, s.values) for s in sweeps] == [
        ("max_depth", (("min_samples_leaf", "1"),), ["5", "None"]),
        ("max_depth", (("min_samples_leaf", "5"),), ["5", "None"]),
        ("max_depth", (("min_samples_leaf", "20"),), ["5", "None"]),
        ("min_samples_leaf", (("max_depth", "5"),), ["1", "5", "20"]),
        ("min_samples_leaf", (("max_depth", "None"),), ["1", "5", "20"]),
    ]
    leaf_sweep = sweeps[3]
    table = capacity_table(frame, "a", leaf_sweep, "tree", "4", "auc")
    assert list(table.index) == ["1", "5", "20"] and table.index.name == "min_samples_leaf"
    assert table["raw_mean"].diff().dropna().to_numpy() == pytest.approx([0.004, 0.015])
    titles = [s.title for s in build_report(frame, "auc", "run").sections_of("capacity")]
    assert "a · teacher rf vs min_samples_leaf at max_depth=None · tree 4 student · auc" in titles
    assert len(titles) == 5


def test_report_sections_first_of_each_dataset_and_in_every_format():
    frame = sweep_frame()
    labels = {"vanilla:logit": "KD student (logit)"}
    rep = build_report(frame, "auc", "run", labels=labels)
    datasets = [p for p in rep.parts() if p.dataset]
    assert [p.title for p in datasets] == ["a", "b"]
    for part in datasets:  # a sweep's headline opens each dataset's part
        assert part.sections[0].kind == "capacity"
        assert "capacity" not in [s.kind for s in part.sections[1:]]
    first = datasets[0].sections[0]
    assert first.title == "a · teacher rf vs max_depth · tree 4 student · auc"
    assert "mean ± naive SE" in first.note and "teacher variant itself" in first.note

    md = render(rep, "md")
    assert "### a · teacher rf vs max_depth · tree 4 student · auc" in md
    header = "| max_depth | teacher | raw | KD student (logit) | corrected:logit | mixed | n |"
    assert header in md
    teacher = 0.70 + 0.015
    row = (
        f"| 1 | {teacher:.4f} ± {SE:.4f} | {teacher - 0.10:.4f} ± {SE:.4f} | "
        f"{teacher - 0.05:.4f} ± {SE:.4f} | ★ {teacher - 0.03:.4f} ± {SE:.4f} | "
        f"{teacher - 0.04:.4f} ± {SE:.4f} | 4 |"
    )
    assert row in md
    assert md.index("teacher rf vs max_depth") < md.index("teacher rf[max_depth=1] · tree student")
    rows = md.split(header)[1].split("\n\n")[0].splitlines()[2:]
    assert [r.split(" | ")[0] for r in rows] == ["| 1", "| 5", "| 10", "| None"]

    loss = build_report(sweep_frame(datasets=("a",)), "error", "run")  # a's rows, as above
    loss = render(loss, "md")  # lower is better: ★ still on best
    assert f"★ {1 - (teacher - 0.03):.4f}" in loss

    doc = json.loads(render(rep, "json"))
    capacity = [s for s in doc["sections"] if s["kind"] == "capacity"]
    assert len(capacity) == 2 and capacity[1]["title"].startswith("b · teacher rf vs max_depth")
    assert [r["max_depth"] for r in capacity[0]["rows"]] == ["1", "5", "10", "None"]
    assert capacity[0]["rows"][3]["teacher_mean"] == pytest.approx(0.70 + 0.15 + 0.015)
    assert capacity[0]["rows"][0]["n"] == 4

    text = io.StringIO(render(rep, "csv"))  # "None" is read as NaN by default
    table = pd.read_csv(text, dtype={"max_depth": str}, keep_default_na=False, na_values=[""])
    mine = table[table.section == first.title]
    assert list(mine["max_depth"]) == ["1", "5", "10", "None"]
    assert mine["mixed_mean"].to_numpy() == pytest.approx(
        [teacher - 0.04 + 0.05 * k for k in range(4)]
    )

    page = render(rep, "html")
    assert "a · teacher rf vs max_depth · tree 4 student · auc" in page
    assert f"★ {teacher - 0.03:.4f} ± {SE:.4f}" in page and "<th>max_depth</th>" in page

    console = Console(file=io.StringIO(), width=200, record=True)
    render_rich(rep, console)
    text = console.export_text()
    assert "a · teacher rf vs max_depth · tree 4 student · auc" in text
    assert "None" in text and "KD student (logit)" in text
    assert set(FORMATS) == {"rich", "md", "csv", "json", "html", "latex"}
    assert "teacher rf vs max_depth" in render(rep, "rich")
    latex = render(rep, "latex")
    assert "teacher rf vs max\\_depth" in latex and "\\textbf" in latex


def test_figure_one_line_per_mode_and_the_teacher_dashed():
    frame = sweep_frame(datasets=("a",))
    (item,) = capacity_tables(frame, "auc")
    fig = capacity_figure(item, {"corrected:logit": "Enhanced KD student (logit)"})
    try:
        (ax,) = fig.axes
        lines = ax.get_lines()
        shown = [(line.get_label(), line.get_linestyle()) for line in lines]
        assert shown == [
            ("raw", "-"),
            ("vanilla:logit", ":"),
            ("Enhanced KD student (logit)", ":"),
            ("mixed", "-"),
            ("teacher (rf)", "--"),
        ]
        teacher = lines[-1]
        assert teacher.get_color() == "black"
        assert list(teacher.get_ydata()) == pytest.approx([0.715 + 0.05 * k for k in range(4)])
        assert list(lines[3].get_ydata()) == pytest.approx([0.675 + 0.05 * k for k in range(4)])
        assert lines[3].get_color() == "#9467bd"  # mixed: its own colour
        assert len(ax.collections) == 5  # a ± SE band for each line
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "5", "10", "None"]
        assert ax.get_xlabel() == "teacher rf max_depth"
        assert ax.get_title().startswith("a: tree 4 students")
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_report_run_draws_the_capacity_plots_and_links_them(tmp_path):
    """Two teacher variants (10 before 5 as text) are a sweep: each variant's figures are not
    what this test reads, so fewer of them are drawn."""
    run = tmp_path / "run"
    run.mkdir()
    sweep_frame(depths=[10, 5]).to_csv(run / "results.csv", index=False)
    rep = report_run(run, metric="auc")
    for dataset in ("a", "b"):
        for fmt in ("png", "svg"):
            path = run / "plots" / f"{dataset}-capacity-rf-max_depth-tree-4-auc.{fmt}"
            assert path.is_file() and path.stat().st_size > 0
    png = run / "plots" / "a-capacity-rf-max_depth-tree-4-auc.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert rep.plots[0] == png  # the headline figure first
    md = render(rep, "md", links_from=run)
    capacity = rep.figures[0]  # linked under its title in words, not its file name
    assert capacity.title.startswith("a: ") and capacity.png == png
    assert f"![{capacity.title}](plots/a-capacity-rf-max_depth-tree-4-auc.png)" in md
    assert len(rep.sections_of("capacity")) == 2


def test_sweep_values_text_and_held_text():
    sweep = Sweep("rf", "criterion", (("entropy", "x"), ("gini", "y")), (("max_depth", "3"),))
    assert sweep.values == ["entropy", "gini"] and sweep.held == "max_depth=3"
    frame = sweep_frame(datasets=("a",), depths=[1])
    text = pd.concat(
        [frame.assign(teacher=f"rf[criterion={c}]") for c in ("gini", "entropy")], ignore_index=True
    )
    (found,) = find_sweeps(text)
    assert found.values == ["entropy", "gini"] and found.param == "criterion"


def test_teacher_labels_sort_in_capacity_order():
    from kdcli.reporting.capacity import teacher_order

    labels = ["rf[max_depth=None]", "rf[max_depth=10]", "lightgbm", "rf[max_depth=2]", "rf"]
    assert sorted(labels, key=teacher_order) == [
        "lightgbm", "rf", "rf[max_depth=2]", "rf[max_depth=10]", "rf[max_depth=None]",
    ]  # fmt: skip
