"""kd fit's verdict: built from designed results whose answer is known, and printed by kd fit."""

import numpy as np

from kdcli.records import frame
from kdcli.reporting.verdict import fit_verdict


def designed(repeats: int, gaps: dict[str, dict[str, float]], noise: float = 0.002):
    """Error per split: raw 0.20 (+ a shared split effect), each mode raw + its gap at each
    size, plus a little noise of its own; the teacher at 0.10."""
    rng = np.random.default_rng(0)
    records = []
    for r in range(repeats):
        split = rng.normal(0, 0.02)  # what every mode of a split shares (the test pairs it out)
        base = dict(dataset="d", repeat=r, fold=0, seed=r, teacher="lightgbm", metric="error")
        records.append({**base, "student": "teacher", "size": "", "mode": "teacher", "value": 0.1})
        for size, by_mode in gaps.items():
            for mode in ("raw", "vanilla", "crossfit", "corrected"):
                value = 0.2 + split + by_mode.get(mode, 0.0) + rng.normal(0, noise)
                row = {**base, "student": "tree", "size": size, "mode": mode, "value": value}
                records.append(row)
    return frame(records)


def test_the_best_mode_is_named_with_its_gap_and_test_against_raw_and_vanilla():
    gaps = {
        "4": {"vanilla": -0.01, "crossfit": -0.05, "corrected": -0.04},
        "full": {"vanilla": 0.03, "crossfit": 0.02, "corrected": 0.02},
    }
    small, full = fit_verdict(designed(5, gaps), "error", 1 / 3)
    assert small.startswith("tree 4: crossfit has the lowest error, ")
    gap_raw, gap_vanilla = small.split(": ", 2)[2].split("), ")
    assert gap_raw.startswith("0.05") and " below raw (p = " in gap_raw and "J = 5" in gap_raw
    p_raw = float(gap_raw.split("p = ")[1].split(",")[0])
    assert p_raw < 0.01  # 0.05 against noise of 0.002: the test sees it
    assert gap_vanilla.startswith("0.04") and "below vanilla" in gap_vanilla
    # at full size labels win; raw is not compared with itself, only with vanilla
    assert full.startswith("tree full: raw has the lowest error, ")
    assert "0.03" in full and "below vanilla" in full and " raw (" not in full


def test_too_few_repeats_say_how_to_get_a_test():
    (line,) = fit_verdict(designed(2, {"8": {"crossfit": -0.05}}), "error", 1 / 3)
    assert line.startswith("tree 8: crossfit has the lowest error")
    assert line.endswith("too few repeats for a test; use --repeats 5")


def test_a_higher_is_better_metric_names_the_highest_and_ties_are_named_together():
    auc = designed(5, {"4": {"crossfit": 0.05, "corrected": 0.05}}, noise=0.0)
    auc["metric"] = "auc"
    (line,) = fit_verdict(auc, "auc", 1 / 3)
    assert line.startswith("tree 4: crossfit and corrected tie for the highest auc")
    assert "above raw" in line and "above vanilla" in line


def test_kd_fit_ends_with_its_verdict(kd):
    args = ["fit", "--dataset", "sklearn:breast_cancer", "--teacher-param", "n_estimators=20"]
    code, out, err = kd(*args, "--sizes", "4", "--repeats", "3", "--threads", "1")
    assert code == 0, err
    verdict = [line for line in out.splitlines() if line.startswith("verdict: ")]
    assert len(verdict) == 1 and verdict[0].startswith("verdict: tree 4: ")
    assert "J = 3" in verdict[0] or "tie for" in verdict[0]
