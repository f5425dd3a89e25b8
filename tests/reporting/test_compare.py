"""kdcli.reporting.compare and its neighbours (per_dataset, shared_splits, coverage) on hand-built
result frames whose answers are worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import studentized_range
from scipy.stats import t as student_t

from kdcli.records import RESULT_COLUMNS
from kdcli.reporting.compare import (
    WithinTests,
    friedman_table,
    mean_ranks,
    paired_comparison,
    versus_baseline,
    within_dataset,
)
from kdcli.reporting.coverage import coverage
from kdcli.reporting.per_dataset import per_dataset_table
from kdcli.reporting.shared_splits import _split_frame, dataset_means, shared_work


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


# ---------------------------------------------------------------- paired_comparison (across datasets)


def always_wins(datasets=10, splits=5):
    """corrected beats raw on every split of every dataset, by a gap that differs per dataset."""
    rows = []
    for i in range(datasets):
        for j in range(splits):
            base = 0.30 + 0.01 * i + 0.002 * j
            rows.append(row(base, dataset=f"d{i}", repeat=j, mode="raw"))
            gap = 0.001 * (i + 1) + 0.0005 * j
            rows.append(row(base - gap, dataset=f"d{i}", repeat=j, mode="corrected"))
    return frame(rows)


def test_ten_datasets_of_five_splits_are_ten_pairs_with_exact_wilcoxon_p():
    """The Done-when of issue 13: 10 per-dataset pairs (not 50 split pairs), all won, give the
    exact two-sided p = 2 / 2**10."""
    out = paired_comparison(always_wins(), "error", "corrected", "raw")
    assert len(out) == 1
    r = out.iloc[0]
    assert (r.teacher, r.student, r["size"]) == ("lgbm", "tree", "8")
    assert (r.N, r.wins, r.ties, r.losses) == (10, 10, 0, 0)
    assert r.p == 0.001953125 == 2 / 2**10
    assert r.geo_mean_ratio < 1


def test_splits_of_one_dataset_are_not_pairs():
    """Ten splits of one dataset are one dataset: no test across datasets (it was p = 0.002)."""
    rows = []
    for i in range(10):
        base = 0.30 + 0.01 * i
        rows.append(row(base, repeat=i, mode="raw"))
        rows.append(row(base - 0.001 * (i + 1), repeat=i, mode="corrected"))
    r = paired_comparison(frame(rows), "error", "corrected", "raw").iloc[0]
    assert (r.N, r.wins, r.ties, r.losses) == (1, 1, 0, 0)
    assert math.isnan(r.p)


def test_mode_that_always_loses_counts_losses():
    rows = []
    for i in range(4):
        rows.append(row(0.2, dataset=f"d{i}", mode="raw"))
        rows.append(row(0.3 + 0.01 * i, dataset=f"d{i}", mode="vanilla"))
    r = paired_comparison(frame(rows), "error", "vanilla", "raw").iloc[0]
    assert (r.N, r.wins, r.ties, r.losses) == (4, 0, 0, 4)
    assert r.geo_mean_ratio > 1
    assert r.p == pytest.approx(2 / 2**4)  # exact: every sign the same


def test_exact_ties_give_no_wins_and_no_p_value():
    rows = []
    for i in range(5):
        rows.append(row(0.25, dataset=f"d{i}", mode="raw"))
        rows.append(row(0.25 + 1e-15, dataset=f"d{i}", mode="crossfit"))  # equal within 1e-12
    r = paired_comparison(frame(rows), "error", "crossfit", "raw").iloc[0]
    assert (r.N, r.wins, r.ties, r.losses) == (5, 0, 5, 0)
    assert math.isnan(r.p)
    assert r.geo_mean_ratio == pytest.approx(1.0) and r.n == 0


def test_one_nonzero_difference_has_no_p_value():
    rows = [row(0.2, dataset="d0", mode="raw"), row(0.1, dataset="d0", mode="corrected")]
    rows += [row(0.2, dataset="d1", mode="raw"), row(0.2, dataset="d1", mode="corrected")]
    r = paired_comparison(frame(rows), "error", "corrected", "raw").iloc[0]
    assert (r.wins, r.ties) == (1, 1)
    assert math.isnan(r.p)


def test_geo_mean_ratio_by_hand_on_per_dataset_means_sets_zero_baseline_aside():
    rows = [  # each dataset: the mean over its two splits first
        row(0.1, dataset="d0", repeat=0, mode="raw"), row(0.3, dataset="d0", repeat=1, mode="raw"),
        row(0.05, dataset="d0", repeat=0, mode="corrected"),
        row(0.15, dataset="d0", repeat=1, mode="corrected"),  # 0.1 / 0.2 = 0.5
        row(0.4, dataset="d1", mode="raw"), row(0.5, dataset="d1", mode="corrected"),  # 1.25
        row(0.0, dataset="d2", mode="raw"), row(0.1, dataset="d2", mode="corrected"),  # aside
    ]  # fmt: skip
    r = paired_comparison(frame(rows), "error", "corrected", "raw").iloc[0]
    assert r.geo_mean_ratio == pytest.approx(math.sqrt(0.5 * 1.25)) and r.set_aside == 1
    assert (r.N, r.wins, r.losses) == (3, 1, 2)


def test_auc_higher_is_better_and_reduces_one_minus_auc():
    rows = [
        row(0.8, dataset="d0", mode="raw", metric="auc"),
        row(0.9, dataset="d0", mode="corrected", metric="auc"),
        row(0.8, dataset="d1", mode="raw", metric="auc"),
        row(0.7, dataset="d1", mode="corrected", metric="auc"),
        row(0.6, dataset="d2", mode="raw", metric="auc"),
        row(0.9, dataset="d2", mode="corrected", metric="auc"),
        row(1.0, dataset="d3", mode="raw", metric="auc"),
        row(0.9, dataset="d3", mode="corrected", metric="auc"),
    ]
    r = paired_comparison(frame(rows), "auc", "corrected", "raw").iloc[0]
    assert (r.N, r.wins, r.ties, r.losses) == (4, 2, 0, 2)
    # 1 - AUC: 0.1/0.2 = 0.5, 0.3/0.2 = 1.5, 0.1/0.4 = 0.25; the 1.0 baseline set aside
    assert r.geo_mean_ratio == pytest.approx((0.5 * 1.5 * 0.25) ** (1 / 3)) and r.set_aside == 1


def test_pairs_only_on_datasets_with_both_modes_and_one_row_per_size_full_last():
    rows = [
        row(0.3, size="full", mode="raw"), row(0.2, size="full", mode="corrected"),
        row(0.3, size="64", mode="raw"), row(0.2, size="64", mode="corrected"),
        row(0.3, size="8", mode="raw"), row(0.2, size="8", mode="corrected"),
        row(0.3, size="8", dataset="only-raw", mode="raw"),  # no partner on this dataset
        row(0.2, size="8", dataset="only-cor", mode="corrected"),  # nor on this one
        row(0.9, size="8", mode="corrected", metric="log_loss"),  # another metric
        teacher_row(0.1),
    ]  # fmt: skip
    out = paired_comparison(frame(rows), "error", "corrected", "raw")
    assert list(out["size"]) == ["8", "64", "full"]
    assert list(out["N"]) == [1, 1, 1]


def test_c_is_not_a_score():
    rows = [row(1.0, mode="corrected", metric="c"), row(1.0, mode="raw", metric="c")]
    with pytest.raises(ValueError, match="direction"):
        paired_comparison(frame(rows), "c", "corrected", "raw")


# ---------------------------------------------------------------- versus_baseline (Holm)


def test_versus_baseline_holm_over_the_modes_by_hand():
    """Six datasets, exact Wilcoxon p-values worked out by counting sign patterns, then Holm."""
    rows = []
    for i in range(6):
        gap = 0.001 * (i + 1)  # |differences| ranked 1..6 by dataset
        rows.append(row(0.5, dataset=f"d{i}", mode="raw"))
        rows.append(row(0.5 - gap, dataset=f"d{i}", mode="corrected"))  # wins on all 6
        rows.append(row(0.5 + (gap if i == 0 else -gap), dataset=f"d{i}", mode="crossfit"))
        rows.append(row(0.5 + (gap if i >= 3 else -gap), dataset=f"d{i}", mode="vanilla"))
    out = versus_baseline(frame(rows), "error", "raw")
    assert list(out["mode"]) == ["vanilla", "crossfit", "corrected"]
    p = dict(zip(out["mode"], out["p"], strict=True))
    # all six one way: 2 of 64 sign patterns are as extreme -> 2 * 1/64
    assert p["corrected"] == pytest.approx(2 / 64, abs=1e-15)
    # the loss has rank 1: W- = 1; patterns with W <= 1: {}, {1} -> 2 * 2/64
    assert p["crossfit"] == pytest.approx(4 / 64, abs=1e-15)
    # losses on ranks 4, 5, 6: W+ = 6; subsets of 1..6 with sum <= 6: 14 -> 2 * 14/64
    assert p["vanilla"] == pytest.approx(28 / 64, abs=1e-15)
    # Holm, m = 3: 3 * 2/64 = 0.09375; 2 * 4/64 = 0.125; max(0.125, 1 * 28/64) = 0.4375
    holm = dict(zip(out["mode"], out["p_holm"], strict=True))
    assert holm == pytest.approx({"corrected": 0.09375, "crossfit": 0.125, "vanilla": 0.4375})
    assert set(out["N"]) == {6}


def test_versus_baseline_is_one_family_per_size():
    rows = []
    for size in ("8", "full"):
        for i in range(5):
            rows.append(row(0.5, dataset=f"d{i}", size=size, mode="vanilla"))
            rows.append(row(0.4 - 0.01 * i, dataset=f"d{i}", size=size, mode="corrected"))
    out = versus_baseline(frame(rows), "error", "vanilla")
    assert list(out["size"]) == ["8", "full"] and list(out["mode"]) == ["corrected"] * 2
    assert list(out["p_holm"]) == list(out["p"]) == [2 / 32] * 2  # a family of one: unchanged


# ---------------------------------------------------------------- mean_ranks, friedman_table


def test_dataset_means_average_seeds_then_splits():
    rows = [row(0.2, seed=0), row(0.4, seed=1), row(0.5, repeat=1), teacher_row(0.1)]
    out = dataset_means(frame(rows), "error")
    assert len(out) == 1 and out["splits"].iloc[0] == 2
    assert out["value"].iloc[0] == pytest.approx((0.3 + 0.5) / 2)


def test_a_reports_shared_work_is_done_once_and_what_a_caller_does_to_it_stays_its_own():
    results = always_wins(datasets=3, splits=2)
    fresh = _split_frame(results, "error")
    with shared_work():
        first = _split_frame(results, "error")
        first["value"] = 99.0  # a caller's own copy
        pd.testing.assert_frame_equal(_split_frame(results, "error"), fresh)
        results["value"] += 1.0  # held frames must not change in the block: this is not seen
        pd.testing.assert_frame_equal(_split_frame(results, "error"), fresh)
        assert _split_frame(results, "log_loss").empty  # another metric is its own entry
        assert dataset_means(results, "error")["value"].max() < 1.0
    assert _split_frame(results, "error")["value"].min() > 1.0  # outside: worked out anew


def test_mean_ranks_fixed_order_gives_one_two_three():
    rows = []
    for i in range(3):
        rows += [
            row(0.1, dataset=f"d{i}", mode="corrected"),
            row(0.2, dataset=f"d{i}", mode="vanilla"),
            row(0.3, dataset=f"d{i}", mode="raw"),
        ]
    out = mean_ranks(frame(rows), "error")
    assert list(out.columns) == [
        "teacher", "student", "size", "raw", "vanilla", "corrected", "N", "CD", "groups",
    ]  # fmt: skip
    r = out.iloc[0]
    assert (r.corrected, r.vanilla, r.raw, r.N) == (1.0, 2.0, 3.0, 3)
    q = studentized_range.ppf(0.95, 3, np.inf) / math.sqrt(2)
    assert r.CD == pytest.approx(q * math.sqrt(3 * 4 / (6 * 3)), abs=1e-12)  # 1.913
    assert r.groups == "corrected, vanilla | vanilla, raw"  # 1 apart < CD; 2 apart >= CD


def test_mean_ranks_rank_per_dataset_means_not_splits():
    """vanilla wins two of d0's three splits, but d0's means rank raw first (one value per
    dataset): ranked by split, raw would average (1 + 2 + 2 + 2) / 4 = 1.75."""
    rows = [
        row(0.10, dataset="d0", repeat=0, mode="raw"), row(0.30, dataset="d0", repeat=0, mode="vanilla"),
        row(0.30, dataset="d0", repeat=1, mode="raw"), row(0.25, dataset="d0", repeat=1, mode="vanilla"),
        row(0.30, dataset="d0", repeat=2, mode="raw"), row(0.25, dataset="d0", repeat=2, mode="vanilla"),
        row(0.20, dataset="d1", mode="raw"), row(0.10, dataset="d1", mode="vanilla"),
    ]  # fmt: skip
    r = mean_ranks(frame(rows), "error").iloc[0]
    # d0: raw 0.7/3 < vanilla 0.8/3, rank 1 and 2; d1: vanilla first
    assert (r.raw, r.vanilla, r.N) == (1.5, 1.5, 2)


def test_mean_ranks_tie_shares_average_rank():
    rows = [row(0.1, mode="corrected"), row(0.1, mode="vanilla"), row(0.3, mode="raw")]
    r = mean_ranks(frame(rows), "error").iloc[0]
    assert (r.corrected, r.vanilla, r.raw) == (1.5, 1.5, 3.0)
    assert math.isnan(r.CD) and r.groups == ""  # one dataset: no critical difference


def test_mean_ranks_auc_direction_and_incomplete_datasets_left_out():
    rows = [
        row(0.9, dataset="d0", mode="raw", metric="auc"),
        row(0.8, dataset="d0", mode="corrected", metric="auc"),
        row(0.7, dataset="d1", mode="raw", metric="auc"),
        row(0.8, dataset="d1", mode="corrected", metric="auc"),
        row(0.6, dataset="d2", mode="raw", metric="auc"),
        row(0.8, dataset="d2", mode="corrected", metric="auc"),
        row(0.9, dataset="d3", mode="raw", metric="auc"),  # no corrected: not ranked
    ]
    r = mean_ranks(frame(rows), "auc").iloc[0]
    assert r.N == 3
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
    modes = ["raw", "vanilla"]
    assert list(out.columns) == ["teacher", "student", "size", *modes, "N", "CD", "groups"]


def test_friedman_table_by_hand():
    """Ten datasets: corrected always first, raw and vanilla take turns: mean ranks 1, 2.5, 2.5.
    chi2 = 12*10/(3*4) * (1 + 2.5**2 + 2.5**2 - 3*4**2/4) = 15; F = 9*15 / (10*2 - 15) = 27 on
    (2, 18) df; for df1 = 2 the F tail is (1 + 2F/df2)**(-df2/2) = 4**-9 exactly."""
    rows = []
    for i in range(10):
        raw, vanilla = (0.3, 0.31) if i % 2 else (0.31, 0.3)
        rows += [
            row(raw, dataset=f"d{i}", mode="raw"),
            row(vanilla, dataset=f"d{i}", mode="vanilla"),
            row(0.2, dataset=f"d{i}", mode="corrected"),
            row(0.2, dataset="lonely", size="64", mode="raw"),  # one dataset at size 64
            row(0.3, dataset="lonely", size="64", mode="vanilla"),
        ]
    out = friedman_table(frame(rows), "error")
    assert list(out["size"]) == ["8", "64"]
    r = out.iloc[0]
    assert (r.N, r.k, r.df1, r.df2) == (10, 3, 2, 18)
    assert r.chi2 == pytest.approx(15.0, abs=1e-9)
    assert r.F == pytest.approx(27.0, abs=1e-9)
    assert r.p == pytest.approx(4.0**-9, rel=1e-9)
    lonely = out.iloc[1]
    assert (lonely.N, lonely.k) == (1, 2) and math.isnan(lonely.p)  # no test with N = 1


# ---------------------------------------------------------------- within_dataset


def test_within_dataset_corrected_t_by_hand():
    """Five splits, differences -0.01, -0.02, -0.03, -0.02, -0.02: mean -0.02, var 5e-5;
    n_test/n_train = 1/3: corrected SE = sqrt((1/5 + 1/3) 5e-5), t = -0.02 / that, df 4."""
    diffs = [-0.01, -0.02, -0.03, -0.02, -0.02]
    rows = []
    for j, d in enumerate(diffs):
        rows.append(row(0.3, repeat=j, mode="raw"))
        rows.append(row(0.3 + d, repeat=j, mode="corrected"))
        rows.append(row(0.3, repeat=j, mode="vanilla"))  # no difference at all
        rows.append(row(0.9, repeat=j, dataset="other", mode="corrected"))  # another dataset
    out = within_dataset(frame(rows), "adult", "lgbm", "tree", "error", "raw", 1 / 3)
    assert list(out["mode"]) == ["vanilla", "corrected"]
    r = out.set_index("mode").loc["corrected"]
    se = math.sqrt((1 / 5 + 1 / 3) * 5e-5)
    assert (r.J, r.df) == (5, 4)
    assert r.mean_difference == pytest.approx(-0.02, abs=1e-12)
    assert r.naive_se == pytest.approx(math.sqrt(5e-5 / 5), abs=1e-12)
    assert r.corrected_se == pytest.approx(se, abs=1e-12)
    assert r.t == pytest.approx(-0.02 / se, abs=1e-9)  # -3.873
    assert r.p == pytest.approx(2 * student_t.sf(0.02 / se, 4), abs=1e-12)
    assert 0.01 < r.p < 0.05  # the naive t (-6.32) would claim p < 0.01
    still = out.set_index("mode").loc["vanilla"]
    assert still.mean_difference == 0 and math.isnan(still.p)


def test_within_dataset_without_the_baseline_or_a_ratio():
    rows = [row(0.3, repeat=j, mode="corrected") for j in range(3)]
    assert within_dataset(frame(rows), "adult", "lgbm", "tree", "error", "raw", 0.5).empty
    rows += [row(0.3 + 0.01 * j, repeat=j, mode="raw") for j in range(3)]
    r = within_dataset(frame(rows), "adult", "lgbm", "tree", "error", "raw", math.nan).iloc[0]
    assert r.J == 3 and r.naive_se > 0 and math.isnan(r.corrected_se) and math.isnan(r.p)


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
        "raw_mean", "raw_naive_se", "raw_n", "corrected_mean", "corrected_naive_se", "corrected_n",
        "teacher_mean", "teacher_naive_se", "teacher_n", "best",
    ]  # fmt: skip
    values = [0.30, 0.34, 0.32]
    assert t.loc["8", "raw_mean"] == pytest.approx(0.32)
    assert t.loc["8", "raw_naive_se"] == pytest.approx(np.std(values, ddof=1) / math.sqrt(3))
    assert t.loc["8", "raw_naive_se"] == pytest.approx(0.02 / math.sqrt(3))
    assert t.loc["8", "raw_n"] == 3
    assert t.loc["8", "corrected_mean"] == pytest.approx(0.30)
    assert t.loc["full", "corrected_n"] == 1
    assert math.isnan(t.loc["full", "corrected_naive_se"])
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


# ---------------------------------------------------------------- issue 21


def unpaired_frame():
    """d0: corrected has only split 0, where it beats raw (0.20 < 0.30); raw's own mean over its
    three splits (0.1667) would beat it. d1 and d2: corrected better on the only split."""
    rows = [
        row(0.30, dataset="d0", repeat=0, mode="raw"),
        row(0.20, dataset="d0", repeat=0, mode="corrected"),
        row(0.10, dataset="d0", repeat=1, mode="raw"),
        row(0.10, dataset="d0", repeat=2, mode="raw"),
        row(0.40, dataset="d1", mode="raw"), row(0.30, dataset="d1", mode="corrected"),
        row(0.50, dataset="d2", mode="raw"), row(0.45, dataset="d2", mode="corrected"),
    ]  # fmt: skip
    return frame(rows)


def test_modes_of_a_dataset_are_compared_on_the_splits_they_share():
    results = unpaired_frame()
    means = dataset_means(results, "error").set_index(["dataset", "mode"])
    assert means.loc[("d0", "raw"), "value"] == pytest.approx(0.30)  # split 0 only
    assert means.loc[("d0", "raw"), "splits"] == 1
    r = paired_comparison(results, "error", "corrected", "raw").iloc[0]
    assert (r.N, r.wins, r.losses) == (3, 3, 0)
    ranks = mean_ranks(results, "error").iloc[0]
    assert (ranks.corrected, ranks.raw) == (1.0, 2.0)
    assert friedman_table(results, "error").iloc[0].N == 3


def test_a_nan_split_is_left_out_for_every_mode_and_said():
    from kdcli.reporting.shared_splits import left_out_splits

    results = unpaired_frame()
    results.loc[len(results)] = row(math.nan, dataset="d0", repeat=1, mode="corrected")
    ranks = mean_ranks(results, "error").iloc[0]
    assert (ranks.corrected, ranks.raw) == (1.0, 2.0)  # d0 still on split 0 alone
    assert left_out_splits(results, "error") == [
        "d0 lgbm/tree 8: 2 of 3 splits (repeat/fold 1/0, 2/0)"
    ]
    both = pd.concat([results, results.assign(size="64")], ignore_index=True)
    assert left_out_splits(both, "error") == [
        "d0 lgbm/tree (every size): 2 of 3 splits (repeat/fold 1/0, 2/0)"
    ]


def test_per_dataset_cell_with_a_nan_split_is_nan_as_the_note_says():
    rows = [row(0.2, fold=0), row(math.nan, fold=1), row(0.3, fold=0, mode="corrected")]
    t = per_dataset_table(frame(rows), "adult", "lgbm", "tree", "error")
    assert math.isnan(t.loc["8", "raw_mean"]) and t.loc["8", "raw_n"] == 2
    assert t.loc["8", "best"] == "corrected"


def test_wilcoxon_n_is_the_non_zero_differences():
    """28 datasets, 18 ties: the test runs on 10 (all won: exact p = 2 / 2**10)."""
    rows = []
    for i in range(28):
        gap = 0.001 * (i + 1) if i < 10 else 0.0
        rows += [row(0.3, dataset=f"d{i}", mode="raw"),
                 row(0.3 - gap, dataset=f"d{i}", mode="corrected")]  # fmt: skip
    r = paired_comparison(frame(rows), "error", "corrected", "raw").iloc[0]
    assert (r.N, r.n, r.wins, r.ties, r.losses) == (28, 10, 10, 18, 0)
    assert r.p == pytest.approx(2 / 2**10)
    assert versus_baseline(frame(rows), "error", "raw").iloc[0].n == 10


def test_geometric_mean_ratio_sets_zero_errors_aside():
    """d0's error goes 0.001 -> 0.008 (x8): the mean relative reduction was -7 there alone;
    the geometric mean of the ratios 8, 0.5, 0.5 is 2**(1/3); d3 (raw error 0) is set aside."""
    rows = [
        row(0.001, dataset="d0", mode="raw"), row(0.008, dataset="d0", mode="corrected"),
        row(0.2, dataset="d1", mode="raw"), row(0.1, dataset="d1", mode="corrected"),
        row(0.3, dataset="d2", mode="raw"), row(0.15, dataset="d2", mode="corrected"),
        row(0.0, dataset="d3", mode="raw"), row(0.05, dataset="d3", mode="corrected"),
    ]  # fmt: skip
    r = paired_comparison(frame(rows), "error", "corrected", "raw").iloc[0]
    assert r.geo_mean_ratio == pytest.approx(2 ** (1 / 3)) and r.set_aside == 1
    assert "mean_relative_reduction" not in r.index
    auc = [dict(x, metric="auc", value=1 - x["value"]) for x in rows]  # 1 - AUC: the same
    r = paired_comparison(frame(auc), "auc", "corrected", "raw").iloc[0]
    assert r.geo_mean_ratio == pytest.approx(2 ** (1 / 3)) and r.set_aside == 1


def test_one_tie_rule_for_stars_ranks_wins_and_tests():
    """vanilla and corrected differ by floating-point noise (credit-a) or 1e-10: tied in the
    stars, the ranks, the Friedman test, wins/ties/losses and the within-dataset test."""
    rows = []
    for i, (v, c) in enumerate([(0.16763005780346824, 0.16763005780346818), (0.1, 0.1 + 1e-10)]):
        for j in range(3):
            rows += [row(0.3, dataset=f"d{i}", repeat=j, mode="raw"),
                     row(v, dataset=f"d{i}", repeat=j, mode="vanilla"),
                     row(c, dataset=f"d{i}", repeat=j, mode="corrected")]  # fmt: skip
    results = frame(rows)
    ranks = mean_ranks(results, "error").iloc[0]
    assert (ranks.vanilla, ranks.corrected, ranks.raw) == (1.5, 1.5, 3.0)
    (f,) = friedman_table(results, "error").itertuples()
    assert f.chi2 == pytest.approx(12 * 2 / 12 * (1.5**2 * 2 + 9 - 12))
    r = paired_comparison(results, "error", "corrected", "vanilla").iloc[0]
    assert (r.wins, r.ties, r.losses, r.n) == (0, 2, 0, 0) and math.isnan(r.p)
    for dataset in ("d0", "d1"):
        best = per_dataset_table(results, dataset, "lgbm", "tree", "error").loc["8", "best"]
        assert best == "vanilla=corrected"
        within = within_dataset(results, dataset, "lgbm", "tree", "error", "vanilla", 0.25)
        assert within.set_index("mode").loc["corrected", "mean_difference"] == 0.0


def test_within_dataset_gives_no_p_below_three_splits_or_without_variance():
    rows = []
    for j in range(3):
        rows += [row(0.3 + 0.01 * j, repeat=j, mode="raw"),
                 row(0.3 + 0.01 * j - 2 / 150, repeat=j, mode="corrected"),  # constant
                 row(0.3 + 0.02 * j, repeat=j, mode="vanilla")]  # fmt: skip
    out = within_dataset(frame(rows), "adult", "lgbm", "tree", "error", "raw", 0.25)
    out = out.set_index("mode")
    assert math.isnan(out.loc["corrected", "p"]) and math.isnan(out.loc["corrected", "t"])
    assert "variance" in out.loc["corrected", "note"]
    assert out.loc["vanilla", "p"] > 0 and out.loc["vanilla", "note"] == ""
    two = within_dataset(frame(rows[:6]), "adult", "lgbm", "tree", "error", "raw", 0.25)
    r = two.set_index("mode").loc["vanilla"]
    assert r.J == 2 and math.isnan(r.p) and "3 splits" in r.note


def test_friedman_table_when_every_dataset_ranks_alike():
    rows = []
    for i, values in enumerate([(0.8781, 0.9174, 0.9203, 0.9197), (0.8316, 0.9, 0.9066, 0.9064)]):
        for mode, v in zip(("raw", "vanilla", "crossfit", "corrected"), values, strict=True):
            rows.append(row(v, dataset=f"d{i}", mode=mode, metric="auc"))
    r = friedman_table(frame(rows), "auc").iloc[0]
    assert r.p == pytest.approx(1 / 24) and r.p_of == "exact"


def test_a_reports_within_tests_are_within_dataset_per_dataset():
    """A report computes every dataset's tests in one pass (WithinTests); each must be what
    within_dataset gives for that dataset alone, whatever else the frame holds."""
    rng = np.random.default_rng(3)
    rows = [
        row(float(rng.uniform(0.1, 0.4)), dataset=d, teacher=t, size=size, repeat=j, mode=m)
        for d in ("adult", "magic", "wine")
        for t in ("lgbm", "rf")
        for size in ("8", "full")
        for j in range(4)
        for m in ("raw", "vanilla", "corrected")
    ]
    rows.append(row(float("nan"), dataset="magic", teacher="rf", repeat=2, mode="vanilla"))
    results = frame(rows)
    tests = WithinTests(results, "error")
    for d in ("adult", "magic", "wine"):
        for t in ("lgbm", "rf"):
            for baseline, ratio in (("raw", 0.25), ("vanilla", math.nan)):
                one = within_dataset(results, d, t, "tree", "error", baseline, ratio)
                pd.testing.assert_frame_equal(tests(d, t, "tree", baseline, ratio), one)
                assert tests(d, t, "tree", baseline, ratio) is tests(d, t, "tree", baseline, ratio)
    assert tests("absent", "lgbm", "tree", "raw", 0.25).empty
