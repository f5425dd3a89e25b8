"""kdcli.reporting.stats against hand computations and Demšar (2006)'s worked example."""

import math

import numpy as np
import pytest
from scipy.stats import f as f_dist
from scipy.stats import friedmanchisquare
from scipy.stats import t as student_t

from kdcli.reporting.stats import (
    cd_groups,
    corrected_resampled_t,
    friedman,
    holm,
    nemenyi_cd,
    rank_rows,
    wilcoxon_p,
)

# Demšar 2006, Table 6: ranks of C4.5, C4.5+m, C4.5+cf, C4.5+m+cf (AUC) on 14 datasets. The
# statistics depend on the mean ranks only, printed as 3.143, 2.000, 2.893, 1.964.
DEMSAR_RANKS = np.array(
    [
        [4, 3, 2, 1],
        [1, 2, 3, 4],
        [4, 1, 2, 3],
        [4, 1, 3, 2],
        [4, 2, 3, 1],
        [1, 2.5, 4, 2.5],
        [3, 2, 4, 1],
        [2.5, 2.5, 4, 1],
        [4, 3, 2, 1],
        [2.5, 2.5, 2.5, 2.5],
        [4, 2.5, 1, 2.5],
        [3, 2, 4, 1],
        [4, 1, 2, 3],
        [3, 1, 4, 2],
    ]
)


def test_demsar_worked_example_friedman():
    test = friedman(DEMSAR_RANKS, lower=True)  # ranks rank themselves
    n, k = 14, 4
    ranks = np.array([44, 28, 40.5, 27.5]) / n
    assert test.mean_ranks == pytest.approx(ranks, abs=1e-12)
    assert np.round(test.mean_ranks, 3).tolist() == [3.143, 2.000, 2.893, 1.964]
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(ranks**2) - k * (k + 1) ** 2 / 4)
    f = (n - 1) * chi2 / (n * (k - 1) - chi2)
    assert test.chi2 == pytest.approx(chi2, abs=1e-6)
    assert test.F == pytest.approx(f, abs=1e-6)
    assert (test.N, test.k, test.df1, test.df2) == (14, 4, 3, 39)
    assert round(test.chi2, 2) == 9.28 and round(test.F, 2) == 3.69  # as printed in §3.2.2
    # "the critical value of F(3, 39) for alpha = 0.05 is 2.85, so we reject the null-hypothesis"
    assert round(f_dist.ppf(0.95, 3, 39), 2) == 2.85 and test.p < 0.05
    # the paper's figure from its rounded mean ranks is the same to two decimals
    printed = np.array([3.143, 2.000, 2.893, 1.964])
    assert round(12 * n / 20 * (np.sum(printed**2) - 25), 2) == 9.28


def test_demsar_critical_difference_and_no_significant_pair():
    cd, q = nemenyi_cd(4, 14)
    assert round(q, 3) == 2.569 and round(cd, 2) == 1.25  # §3.2.2
    assert cd == pytest.approx(q * math.sqrt(4 * 5 / (6 * 14)), abs=1e-12)
    ranks = friedman(DEMSAR_RANKS).mean_ranks
    # 3.143 - 1.964 = 1.179 < 1.25: "the data is not sufficient" to tell any pair apart
    assert cd_groups(ranks, cd) == [[3, 1, 2, 0]]


@pytest.mark.parametrize(
    ("k", "q"),
    [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (6, 2.850), (8, 3.031), (10, 3.164)],
)
def test_nemenyi_q_matches_demsar_table_5a(k, q):
    assert abs(nemenyi_cd(k, 10)[1] - q) < 1e-3  # printed to 3 decimals (2.3437 as 2.343)


def test_friedman_small_case_by_hand():
    """Ranks (1,2,3), (1,3,2), (2,1,3): R = 4/3, 2, 8/3; chi2 = 3 (116/9 - 12) = 8/3;
    F = 2 (8/3) / (6 - 8/3) = 1.6 on (2, 4) df; p = (1 + 2F/4)**-2 = 1/3.24 for df1 = 2."""
    test = friedman(np.array([[1, 2, 3], [1, 3, 2], [2, 1, 3]]))
    assert test.chi2 == pytest.approx(8 / 3, abs=1e-12)
    assert test.F == pytest.approx(1.6, abs=1e-12)
    assert (test.df1, test.df2) == (2, 4)
    assert test.p == pytest.approx(1 / 3.24, abs=1e-12)


def test_friedman_agrees_with_scipy_without_ties_and_is_smaller_with_them():
    values = np.array([[0.1, 0.3, 0.2, 0.4], [0.2, 0.1, 0.4, 0.3], [0.15, 0.2, 0.3, 0.35]])
    values = np.vstack([values, values[::-1] + 0.01, values * 1.1])
    test = friedman(values)
    scipy_chi2 = friedmanchisquare(*values.T).statistic
    assert test.chi2 == pytest.approx(scipy_chi2, abs=1e-9)
    assert test.p_chi2 == pytest.approx(friedmanchisquare(*values.T).pvalue, abs=1e-12)
    assert friedman(DEMSAR_RANKS).chi2 < friedmanchisquare(*DEMSAR_RANKS.T).statistic


def test_friedman_direction_perfect_agreement_and_refusals():
    higher = np.array([[0.9, 0.8, 0.7], [0.95, 0.85, 0.75]])  # e.g. AUC: first mode best
    test = friedman(higher, lower=False)
    assert test.mean_ranks.tolist() == [1.0, 2.0, 3.0]
    assert test.chi2 == pytest.approx(2 * 2) and math.isinf(test.F)
    assert test.exact and test.p == pytest.approx(1 / 6)  # (3!)**-(2-1), never 0
    equal = friedman(np.ones((3, 3)))
    assert equal.chi2 == 0.0 and equal.F == 0.0 and equal.p == 1.0
    with pytest.raises(ValueError, match="N >= 2"):
        friedman(np.ones((1, 3)))
    with pytest.raises(ValueError, match="every dataset"):
        friedman(np.array([[0.1, np.nan], [0.2, 0.3]]))


def test_wilcoxon_exact_p_on_ten_pairs():
    diff = -np.arange(1, 11) / 1000
    assert wilcoxon_p(diff) == 0.001953125  # two-sided exact: 2 / 2**10
    assert math.isnan(wilcoxon_p(np.array([0.0, 0.0, 0.1])))


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 (m = 3): 3*0.01 = 0.03; 2*0.03 = 0.06; max(0.06, 1*0.04) = 0.06
    out = holm([0.01, 0.04, 0.03, math.nan])
    assert out[:3] == pytest.approx([0.03, 0.06, 0.06], abs=1e-15) and math.isnan(out[3])
    # step-down keeps the order: 3*0.01 = 0.03; 2*0.012 = 0.024 -> 0.03; 1*0.04
    assert holm([0.012, 0.01, 0.04]) == pytest.approx([0.03, 0.03, 0.04], abs=1e-15)
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.2]) == pytest.approx([0.2])
    assert holm([]).shape == (0,)


def test_cd_groups():
    assert cd_groups([1.0, 1.5, 3.0, 3.2], 1.0) == [[0, 1], [2, 3]]
    assert cd_groups([2.6, 1.0, 1.8], 1.0) == [[1, 2], [2, 0]]  # overlapping runs, best first
    assert cd_groups([1.0, 3.0, 5.0], 1.0) == []  # every pair differs
    assert cd_groups([1.0, 2.0], 1.0) == []  # a difference of exactly CD is significant


def test_corrected_resampled_t_by_hand():
    d = [0.01, 0.02, 0.03, 0.02, 0.02]  # mean 0.02, var (ddof 1) = 2e-4 / 4 = 5e-5
    test = corrected_resampled_t(d, 0.25)
    se = math.sqrt((1 / 5 + 0.25) * 5e-5)
    assert (test.J, test.df) == (5, 4)
    assert test.mean == pytest.approx(0.02, abs=1e-15)
    assert test.naive_se == pytest.approx(math.sqrt(5e-5 / 5), abs=1e-15)
    assert test.corrected_se == pytest.approx(se, abs=1e-15)
    assert test.t == pytest.approx(0.02 / se, abs=1e-9)
    assert test.p == pytest.approx(2 * student_t.sf(0.02 / se, 4), abs=1e-15)
    naive = corrected_resampled_t(d, 0.0)  # no overlap: the ordinary paired t-test
    assert naive.t == pytest.approx(0.02 / math.sqrt(5e-5 / 5), abs=1e-9)


def test_corrected_resampled_t_degenerate_cases():
    one = corrected_resampled_t([0.1], 0.25)
    assert one.J == 1 and one.df == 0 and math.isnan(one.naive_se) and math.isnan(one.p)
    constant = corrected_resampled_t([-0.1, -0.1, -0.1], 0.25)
    assert math.isnan(constant.t) and math.isnan(constant.p) and "variance" in constant.why
    zero = corrected_resampled_t([0.0, 0.0], 0.25)
    assert math.isnan(zero.t) and math.isnan(zero.p)
    unknown = corrected_resampled_t([0.1, 0.2], math.nan)
    assert unknown.naive_se > 0 and math.isnan(unknown.corrected_se) and math.isnan(unknown.p)


# ---------------------------------------------------------------- issue 21

# the README's 3-tree AUCs (MAGIC, Adult) of raw, vanilla, crossfit, corrected: one order on both
ALIKE_AUCS = np.array([[0.8781, 0.9174, 0.9203, 0.9197], [0.8316, 0.9000, 0.9066, 0.9064]])


def test_friedman_when_every_dataset_ranks_the_modes_alike_gives_the_exact_p():
    """chi2 = N(k-1) leaves Iman–Davenport's F undefined; p is then the exact chance that N
    datasets rank k modes alike, k! (1/k!)**N = (k!)**-(N-1), never 0."""
    test = friedman(ALIKE_AUCS, lower=False)
    assert test.chi2 == pytest.approx(6.0) and math.isinf(test.F)
    assert test.exact and test.p == pytest.approx(1 / 24, abs=1e-15)
    assert test.p_chi2 == pytest.approx(0.1116, abs=1e-4)  # the chi-square p, for comparison
    three = friedman(np.array([[0.1, 0.2, 0.3]] * 3))
    assert three.exact and three.p == pytest.approx(1 / 36, abs=1e-15)  # (3!)**-2
    assert not friedman(DEMSAR_RANKS).exact


def test_corrected_t_with_zero_variance_has_no_t_and_no_p():
    """Differences 2/150 on every split: the variance is 0, so t is undefined, not infinite."""
    test = corrected_resampled_t([2 / 150] * 3, 0.25)
    assert test.mean == pytest.approx(2 / 150) and test.corrected_se == 0.0
    assert math.isnan(test.t) and math.isnan(test.p)
    assert "variance" in test.why
    two = corrected_resampled_t([2 / 150, 2 / 150], 0.25)  # the example
    assert math.isnan(two.t) and math.isnan(two.p) and two.why


def test_corrected_t_needs_three_splits_for_a_p():
    test = corrected_resampled_t([0.01, 0.03], 0.25)
    assert test.naive_se > 0 and math.isfinite(test.corrected_se) and math.isnan(test.p)
    assert "3 splits" in test.why
    assert corrected_resampled_t([0.01, 0.03, 0.02], 0.25).why == ""


def test_ranks_tie_values_that_differ_by_floating_point_noise():
    """credit-a at 64 leaves: vanilla and corrected differ in the 17th digit; one tie rule."""
    values = np.array([[0.16763005780346824, 0.16763005780346818, 0.2]])
    assert rank_rows(values).tolist() == [[1.5, 1.5, 3.0]]
    assert rank_rows(np.array([[0.3, 0.3 + 1e-10, 0.3 + 1e-3]])).tolist() == [[1.5, 1.5, 3.0]]


def test_same_is_one_rule_for_every_tie():
    from kdcli.reporting.stats import same, same_values

    assert same(0.16763005780346824, 0.16763005780346818)
    assert same(0.25, 0.25 + 1e-10) and same(1e6, 1e6 + 1e-4)  # relative beyond 1
    assert not same(0.25, 0.25 + 1 / (10 * 100_000))  # one row of 100,000 over 10 splits
    assert not same(math.nan, math.nan) and same(math.inf, math.inf)
    assert same_values(np.array([0.1, 0.2]), np.array([0.1 + 1e-12, 0.3])).tolist() == [True, False]
