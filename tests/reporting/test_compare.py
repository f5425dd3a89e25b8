"""kdcli.compare on hand-built result frames whose answers are worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from kdcli.records import RESULT_COLUMNS
from kdcli.reporting.compare import coverage, mean_ranks, paired_comparison, per_dataset_table


def row(
    value,
    *,
    dataset="adult",
    repeat=0,
    fold=0,
    seed=0,
    teacher="lgbm",
    student="tree",
    size="8",
    mode="raw",
    metric="error",
):
    return {
        "dataset": dataset, "repeat": repeat, "fold": fold, "seed": seed, "teacher": teacher,
        "student": student, "size": size, "mode": mode, "metric": metric, "value": value,
    }  # fmt: skip


def frame(rows):
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def teacher_row(value, **keys):
    return row(value, student="teacher", size="", mode="teacher", **keys)


# ---------------------------------------------------------------- paired_comparison


def test_mode_that_always_wins_has_exact_wilcoxon_p():
    rows = []
    for i in range(10):
        base = 0.30 + 0.01 * i
        rows.append(row(base, fold=i, mode="raw"))
        rows.append(row(base - 0.001 * (i + 1), fold=i, mode="corrected"))  # distinct gaps
    out = paired_comparison(frame(rows), "error", "corrected", "raw")
    assert len(out) == 1
    r = out.iloc[0]
    assert (r.teacher, r.student, r["size"]) == ("lgbm", "tree", "8")
    assert (r.pairs, r.wins, r.ties, r.losses, r.datasets) == (10, 10, 0, 0, 1)
    assert r.p_value == pytest.approx(0.001953125)
    assert r.mean_relative_reduction > 0


def test_mode_that_always_loses_counts_losses():
    rows = []
    for i in range(4):
        rows.append(row(0.2, dataset=f"d{i}", mode="raw"))
        rows.append(row(0.3 + 0.01 * i, dataset=f"d{i}", mode="vanilla"))
    r = paired_comparison(frame(rows), "error", "vanilla", "raw").iloc[0]
    assert (r.pairs, r.wins, r.ties, r.losses, r.datasets) == (4, 0, 0, 4, 4)
    assert r.mean_relative_reduction < 0


def test_exact_ties_give_no_wins_and_no_p_value():
    rows = []
    for i in range(5):
        rows.append(row(0.25, fold=i, mode="raw"))
        rows.append(row(0.25 + 1e-15, fold=i, mode="crossfit"))  # equal within 1e-12
    r = paired_comparison(frame(rows), "error", "crossfit", "raw").iloc[0]
    assert (r.pairs, r.wins, r.ties, r.losses) == (5, 0, 5, 0)
    assert math.isnan(r.p_value)
    assert r.mean_relative_reduction == pytest.approx(0.0)


def test_one_nonzero_difference_has_no_p_value():
    rows = [row(0.2, fold=0, mode="raw"), row(0.1, fold=0, mode="corrected")]
    rows += [row(0.2, fold=1, mode="raw"), row(0.2, fold=1, mode="corrected")]
    r = paired_comparison(frame(rows), "error", "corrected", "raw").iloc[0]
    assert (r.wins, r.ties) == (1, 1)
    assert math.isnan(r.p_value)


def test_relative_reduction_by_hand_skips_zero_baseline():
    rows = [
        row(0.2, fold=0, mode="raw"), row(0.1, fold=0, mode="corrected"),  # (0.2-0.1)/0.2 = 0.5
        row(0.4, fold=1, mode="raw"), row(0.5, fold=1, mode="corrected"),  # (0.4-0.5)/0.4 = -0.25
        row(0.0, fold=2, mode="raw"), row(0.1, fold=2, mode="corrected"),  # denominator 0: skipped
    ]  # fmt: skip
    r = paired_comparison(frame(rows), "error", "corrected", "raw").iloc[0]
    assert r.mean_relative_reduction == pytest.approx((0.5 - 0.25) / 2)
    assert (r.pairs, r.wins, r.losses) == (3, 1, 2)


def test_auc_higher_is_better_and_reduces_one_minus_auc():
    rows = [
        row(0.8, fold=0, mode="raw", metric="auc"), row(0.9, fold=0, mode="corrected", metric="auc"),
        row(0.8, fold=1, mode="raw", metric="auc"), row(0.7, fold=1, mode="corrected", metric="auc"),
        row(0.6, fold=2, mode="raw", metric="auc"), row(0.9, fold=2, mode="corrected", metric="auc"),
        row(1.0, fold=3, mode="raw", metric="auc"), row(0.9, fold=3, mode="corrected", metric="auc"),
    ]  # fmt: skip
    r = paired_comparison(frame(rows), "auc", "corrected", "raw").iloc[0]
    assert (r.pairs, r.wins, r.ties, r.losses) == (4, 2, 0, 2)
    # (0.9-0.8)/0.2 = 0.5, (0.7-0.8)/0.2 = -0.5, (0.9-0.6)/0.4 = 0.75; the 1.0 baseline skipped
    assert r.mean_relative_reduction == pytest.approx((0.5 - 0.5 + 0.75) / 3)


def test_pairs_only_on_matching_keys_and_one_row_per_size_full_last():
    rows = [
        row(0.3, size="full", mode="raw"), row(0.2, size="full", mode="corrected"),
        row(0.3, size="64", mode="raw"), row(0.2, size="64", mode="corrected"),
        row(0.3, size="8", mode="raw"), row(0.2, size="8", mode="corrected"),
        row(0.3, size="8", seed=1, mode="raw"),  # no partner on seed 1
        row(0.2, size="8", fold=1, mode="corrected"),  # no partner on fold 1
        row(0.9, size="8", mode="corrected", metric="log_loss"),  # another metric
        teacher_row(0.1),
    ]  # fmt: skip
    out = paired_comparison(frame(rows), "error", "corrected", "raw")
    assert list(out["size"]) == ["8", "64", "full"]
    assert list(out["pairs"]) == [1, 1, 1]


def test_c_is_not_a_score():
    rows = [row(1.0, mode="corrected", metric="c"), row(1.0, mode="raw", metric="c")]
    with pytest.raises(ValueError, match="direction"):
        paired_comparison(frame(rows), "c", "corrected", "raw")


# ---------------------------------------------------------------- mean_ranks


def test_mean_ranks_fixed_order_gives_one_two_three():
    rows = []
    for i in range(3):
        rows += [
            row(0.1, fold=i, mode="corrected"),
            row(0.2, fold=i, mode="vanilla"),
            row(0.3, fold=i, mode="raw"),
        ]
    out = mean_ranks(frame(rows), "error")
    assert list(out.columns) == [
        "teacher",
        "student",
        "size",
        "raw",
        "vanilla",
        "corrected",
        "blocks",
    ]
    r = out.iloc[0]
    assert (r.corrected, r.vanilla, r.raw, r.blocks) == (1.0, 2.0, 3.0, 3)


def test_mean_ranks_tie_shares_average_rank():
    rows = [row(0.1, mode="corrected"), row(0.1, mode="vanilla"), row(0.3, mode="raw")]
    r = mean_ranks(frame(rows), "error").iloc[0]
    assert (r.corrected, r.vanilla, r.raw) == (1.5, 1.5, 3.0)


def test_mean_ranks_average_over_blocks_and_auc_direction():
    rows = [
        row(0.9, fold=0, mode="raw", metric="auc"), row(0.8, fold=0, mode="corrected", metric="auc"),
        row(0.7, fold=1, mode="raw", metric="auc"), row(0.8, fold=1, mode="corrected", metric="auc"),
        row(0.6, fold=2, mode="raw", metric="auc"), row(0.8, fold=2, mode="corrected", metric="auc"),
        row(0.9, fold=3, mode="raw", metric="auc"),  # incomplete block: not ranked
    ]  # fmt: skip
    r = mean_ranks(frame(rows), "auc").iloc[0]
    assert r.blocks == 3
    assert r.raw == pytest.approx((1 + 2 + 2) / 3)
    assert r.corrected == pytest.approx((2 + 1 + 1) / 3)


def test_mean_ranks_one_row_per_configuration_sorted():
    rows = []
    for size in ["full", "8"]:
        for student in ["tree", "linear"]:
            rows += [row(0.1, size=size, student=student, mode="raw"),
                     row(0.2, size=size, student=student, mode="vanilla")]  # fmt: skip
    rows.append(teacher_row(0.05))
    out = mean_ranks(frame(rows), "error")
    assert list(zip(out.student, out["size"], strict=True)) == [
        ("linear", "8"),
        ("linear", "full"),
        ("tree", "8"),
        ("tree", "full"),
    ]
    assert list(out.raw) == [1.0] * 4
    # the teacher's own rows add no "teacher" mode column
    assert list(out.columns) == ["teacher", "student", "size", "raw", "vanilla", "blocks"]


# ---------------------------------------------------------------- per_dataset_table


def table_frame():
    rows = []
    raw = {"8": [0.30, 0.34, 0.32], "64": [0.20, 0.22, 0.24], "full": [0.10, 0.12, 0.14]}
    cor = {"8": [0.28, 0.30, 0.32], "64": [0.20, 0.22, 0.24], "full": [0.15]}
    for size, values in raw.items():
        for fold, v in enumerate(values):
            rows.append(row(v, fold=fold, size=size, mode="raw"))
    for size, values in cor.items():
        for fold, v in enumerate(values):
            rows.append(row(v, fold=fold, size=size, mode="corrected"))
    for fold, v in enumerate([0.05, 0.07, 0.09]):
        rows.append(teacher_row(v, fold=fold))
    rows.append(row(0.99, size="8", mode="raw", dataset="other"))  # other dataset: ignored
    rows.append(row(0.99, size="8", mode="raw", student="linear"))  # other student: ignored
    rows.append(row(0.99, size="8", mode="raw", metric="log_loss"))  # other metric: ignored
    return frame(rows)


def test_per_dataset_table_values():
    t = per_dataset_table(table_frame(), "adult", "lgbm", "tree", "error")
    assert list(t.index) == ["8", "64", "full"]
    assert list(t.columns) == [
        "raw_mean", "raw_se", "raw_n", "corrected_mean", "corrected_se", "corrected_n",
        "teacher_mean", "teacher_se", "teacher_n", "best",
    ]  # fmt: skip
    values = [0.30, 0.34, 0.32]
    assert t.loc["8", "raw_mean"] == pytest.approx(0.32)
    assert t.loc["8", "raw_se"] == pytest.approx(np.std(values, ddof=1) / math.sqrt(3))
    assert t.loc["8", "raw_se"] == pytest.approx(0.02 / math.sqrt(3))
    assert t.loc["8", "raw_n"] == 3
    assert t.loc["8", "corrected_mean"] == pytest.approx(0.30)
    assert t.loc["full", "corrected_n"] == 1
    assert math.isnan(t.loc["full", "corrected_se"])
    assert t.loc["8", "teacher_mean"] == pytest.approx(0.07)
    assert t.loc["full", "teacher_n"] == 3
    assert t.loc["8", "best"] == "corrected"
    assert t.loc["64", "best"] == "raw=corrected"
    assert t.loc["full", "best"] == "raw"


def test_per_dataset_table_auc_best_is_highest_and_numeric_sizes():
    rows = [
        row(0.8, size=8, mode="raw", metric="auc"), row(0.9, size=8, mode="vanilla", metric="auc"),
        row(0.7, size=16.0, mode="raw", metric="auc"), row(0.6, size=16.0, mode="vanilla", metric="auc"),
        row(0.5, size="full", mode="raw", metric="auc"),
    ]  # fmt: skip
    t = per_dataset_table(frame(rows), "adult", "lgbm", "tree", "auc")
    assert list(t.index) == ["8", "16", "full"]
    assert list(t["best"]) == ["vanilla", "raw", "raw"]
    assert t.loc["full", "vanilla_n"] == 0
    assert t.loc["full", "teacher_n"] == 0


def test_per_dataset_table_averages_seeds_within_a_split():
    rows = [row(0.2, seed=0), row(0.4, seed=1), row(0.5, fold=1)]
    t = per_dataset_table(frame(rows), "adult", "lgbm", "tree", "error")
    assert t.loc["8", "raw_n"] == 2
    assert t.loc["8", "raw_mean"] == pytest.approx((0.3 + 0.5) / 2)


# ---------------------------------------------------------------- coverage


def full_study(datasets=("adult", "credit")):
    rows = []
    for dataset in datasets:
        for fold in range(5):
            rows.append(teacher_row(0.1, dataset=dataset, fold=fold))
            for mode in ["raw", "corrected"]:
                for metric in ["error", "c"]:
                    rows.append(row(0.2, dataset=dataset, fold=fold, mode=mode, metric=metric))
    return rows


def test_coverage_complete_study_is_empty():
    assert coverage(frame(full_study()), expected_units=["adult", "credit"]) == []


def test_coverage_reports_missing_folds():
    rows = [
        r for r in full_study()
        if not (r["dataset"] == "adult" and r["mode"] == "corrected" and r["fold"] in (1, 3))
    ]  # fmt: skip
    assert coverage(frame(rows)) == [
        "adult lgbm/tree 8 corrected: 3 of 5 folds (missing repeat/fold 0/1, 0/3)"
    ]


def test_coverage_reports_missing_dataset_and_missing_cell():
    rows = [r for r in full_study() if not (r["dataset"] == "credit" and r["mode"] == "teacher")]
    lines = coverage(frame(rows), expected_units=["adult", "credit", "bank"])
    assert lines == [
        "credit lgbm/teacher: 0 of 5 folds (missing repeat/fold 0/0, 0/1, 0/2, 0/3, 0/4)",
        "bank: no results",
    ]


def test_coverage_empty_results_lists_every_expected_dataset():
    assert coverage(frame([]), expected_units=["adult", "bank"]) == [
        "adult: no results",
        "bank: no results",
    ]
    assert coverage(frame([])) == []
