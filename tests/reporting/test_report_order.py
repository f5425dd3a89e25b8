"""The answer first: every report opens with a verdict built from the tests (designed results
whose answer is known), then the summary, the tests across datasets and each dataset."""

import json

import numpy as np
import pandas as pd
from test_report import make_study

from kdcli.records import frame
from kdcli.reporting.render import render
from kdcli.reporting.report import report_run
from kdcli.reporting.sections import build_report
from kdcli.reporting.split_sizes import SplitRatio
from kdcli.reporting.summary import summary_report


def designed(datasets: int, gaps: dict[str, float], sizes=("8", "full"), noise=0.0005):
    """Error per split: raw 0.2 + 0.01 i on dataset i, each mode raw + its gap (the same at
    every size) + noise of its own; 3 splits per dataset."""
    rng = np.random.default_rng(1)
    records = []
    for i in range(datasets):
        for j in range(3):
            base = dict(dataset=f"d{i:02d}", repeat=j, fold=0, seed=j, teacher="lightgbm")
            base["metric"] = "error"
            records.append({**base, "student": "teacher", "size": "", "mode": "teacher"})
            records[-1]["value"] = 0.1
            for size in sizes:
                raw = 0.2 + 0.01 * i + 0.001 * j
                for mode in ("raw", "vanilla", "crossfit", "corrected"):
                    value = raw + gaps.get(mode, 0.0) + rng.normal(0, noise)
                    row = {**base, "student": "tree", "size": size, "mode": mode, "value": value}
                    records.append(row)
    return frame(records)


def test_a_mode_that_beats_raw_everywhere_is_named_with_its_test(tmp_path):
    rep = report_run(make_study(tmp_path / "run", datasets=10, splits=5), draw_plots=False)
    first, ranks = rep.verdict
    assert first.startswith("Across 10 datasets (teacher lightgbm, tree students, error): ")
    # corrected wins on all 10: the exact two-sided Wilcoxon p is 2/1024, Holm over 2 modes 0.0039
    assert "corrected beats raw at 8 (Holm-adjusted Wilcoxon p = 0.0039;" in first
    assert "wins/ties/losses 10/0/0 at 8" in first
    assert "no target beats" not in first and "vanilla" not in first  # 5 wins, 5 losses
    assert ranks.startswith(
        "Best mean rank: corrected at 8; the targets differ at 8 (Friedman p = "
    )


def test_when_nothing_differs_the_verdict_says_so():
    rep = build_report(designed(12, {}), "error", "run")
    first, ranks = rep.verdict
    assert "no target beats raw at any size (Holm-adjusted Wilcoxon p ≥ " in first
    assert "the targets do not differ significantly at any size (Friedman p ≥ " in ranks


def test_a_mode_that_loses_everywhere_is_named_worse_and_the_best_rank_spans_sizes():
    rep = build_report(designed(12, {"vanilla": 0.02, "crossfit": -0.01}), "error", "run")
    first, ranks = rep.verdict
    assert "crossfit beats raw at 8 and full" in first
    assert "vanilla is worse than raw at 8 and full" in first
    assert "wins/ties/losses 0/0/12" in first
    assert ranks.startswith("Best mean rank: crossfit at 8–full;")


def test_targets_that_beat_raw_at_the_same_sizes_share_one_claim():
    rep = build_report(designed(12, {"crossfit": -0.01, "corrected": -0.02}), "error", "run")
    first = rep.verdict[0]
    assert "crossfit and corrected beat raw at 8 and full (Holm-adjusted Wilcoxon p " in first
    assert (
        "wins/ties/losses crossfit 12/0/0, corrected 12/0/0, each where its p is smallest" in first
    )
    assert rep.verdict[1].startswith("Best mean rank: corrected at 8–full;")


def test_sections_come_in_reading_order_and_each_dataset_has_its_verdict():
    rep = build_report(designed(3, {"crossfit": -0.01}), "error", "run")
    kinds = [s.kind for s in rep.sections]
    assert kinds[0] == "summary"
    first_dataset = next(i for i, s in enumerate(rep.sections) if s.dataset is not None)
    assert {"friedman", "ranks", "versus"} <= set(kinds[1:first_dataset])
    datasets = [s.dataset for s in rep.sections[first_dataset:]]
    assert datasets == sorted(datasets) and None not in datasets
    assert [p.title for p in rep.parts()] == ["Summary", "Across datasets", "d00", "d01", "d02"]
    assert rep.dataset_verdicts["d01"][0].startswith("tree 8: crossfit has the lowest error")
    md = render(rep, "md")
    order = ["## Verdict", "## Summary", "## Across datasets", "## d00", "## d02"]
    assert [md.index(h) for h in order] == sorted(md.index(h) for h in order)
    d01 = md[md.index("## d01") : md.index("## d02")]
    assert d01.split("\n")[2].startswith("- tree 8: crossfit has the lowest error")


def test_one_dataset_gets_the_verdict_of_kd_fit():
    ratios = {"d00": SplitRatio(1 / 3, "as designed")}
    rep = build_report(designed(1, {"crossfit": -0.01}), "error", "run", ratios=ratios)
    assert rep.sections[0].kind == "per-dataset" and not rep.sections_of("summary")
    assert [p.title for p in rep.parts()] == ["d00"]  # no part across datasets
    assert rep.verdict[0].startswith("d00, tree 8: crossfit has the lowest error")
    assert "below raw (p = " in rep.verdict[0] and "J = 3)" in rep.verdict[0]
    assert rep.dataset_verdicts == {}


def test_every_format_opens_with_the_verdict(tmp_path):
    rep = build_report(designed(4, {"crossfit": -0.01}), "error", "run")
    head = rep.verdict[0]
    md = render(rep, "md")
    assert md.index(head) < md.index("###")
    document = json.loads(render(rep, "json"))
    assert document["verdict"] == rep.verdict and document["dataset_verdicts"]["d03"]
    csv = pd.read_csv(pd.io.common.StringIO(render(rep, "csv")))
    assert list(csv["section"][:2]) == ["verdict", "verdict"] and csv["note"][0] == head
    latex = render(rep, "latex")
    assert latex.index(r"\paragraph{Verdict}") < latex.index(r"\begin{table}")
    html = render(rep, "html")
    assert html.index("id='verdict'") < html.index("<table")


def test_the_summary_report_opens_with_the_verdict_of_its_student():
    rep = summary_report(designed(4, {"crossfit": -0.01}), "error", "run")
    assert rep.verdict and rep.verdict[0].startswith("Across 4 datasets (teacher lightgbm")
    assert render(rep, "md").index("## Verdict") < render(rep, "md").index("## Summary")
