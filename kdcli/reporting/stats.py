"""Significance tests a referee accepts for comparing modes, on plain arrays.

Across datasets (Demšar, "Statistical comparisons of classifiers over multiple data sets", JMLR
2006): the unit of replication is the dataset, so each mode contributes one value per dataset
(its mean over that dataset's splits). :func:`friedman` tests whether the modes differ at all
(with the Iman–Davenport F), :func:`nemenyi_cd` gives the critical difference of mean ranks for
all pairs, :func:`wilcoxon_p` and :func:`holm` compare each mode with one baseline.

Within one dataset (Nadeau and Bengio, "Inference for the generalization error", Machine
Learning 2003): resampled splits share training rows, so the differences on them are correlated
and sd/sqrt(J) ("naive SE") is too small; :func:`corrected_resampled_t` inflates the variance by
n_test/n_train.

Distributions come from scipy; only the formulas scipy lacks are written out here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05


@dataclass(frozen=True)
class Friedman:
    """The Friedman test over N datasets (rows) and k modes (columns)."""

    N: int
    k: int
    mean_ranks: np.ndarray  # per mode, 1 = best
    chi2: float  # Friedman's chi-square, df k - 1
    p_chi2: float
    F: float  # Iman–Davenport: F distributed with (df1, df2)
    df1: int
    df2: int
    p: float  # of F: the p-value to report (chi2 is too conservative, Demšar 2006 §3.2.2)


def rank_rows(values: np.ndarray, lower: bool = True) -> np.ndarray:
    """Ranks within each row (dataset), 1 = best in the metric's direction, ties averaged."""
    values = np.asarray(values, dtype=float)
    return stats.rankdata(values if lower else -values, axis=1, method="average")


def friedman(values: np.ndarray, lower: bool = True) -> Friedman:
    """Friedman's chi-square and the Iman–Davenport F of an N x k table (N >= 2, k >= 2).

    chi2 = 12N / (k(k+1)) * (sum_j R_j^2 - k(k+1)^2 / 4) on the mean ranks R_j, as in Demšar
    (2006), without the tie correction of ``scipy.stats.friedmanchisquare``: the two agree when
    no dataset has tied modes, and with ties this form is the smaller, so it errs on the
    conservative side and matches the mean ranks the critical-difference diagram shows.
    F = (N-1) chi2 / (N(k-1) - chi2) on k-1 and (k-1)(N-1) degrees of freedom; when every
    dataset ranks the modes alike (chi2 = N(k-1)) F is infinite and p is 0.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] < 2 or values.shape[1] < 2:
        raise ValueError(
            f"the Friedman test needs N >= 2 datasets and k >= 2 modes, got {values.shape}"
        )
    if np.isnan(values).any():
        raise ValueError("the Friedman test needs a value for every dataset and mode")
    n, k = values.shape
    ranks = rank_rows(values, lower).mean(axis=0)
    chi2 = 12.0 * n / (k * (k + 1)) * (float(np.sum(ranks**2)) - k * (k + 1) ** 2 / 4.0)
    chi2 = max(chi2, 0.0)  # rounding can leave -1e-15 where every rank is equal
    df1, df2 = k - 1, (k - 1) * (n - 1)
    denominator = n * (k - 1) - chi2
    f = (n - 1) * chi2 / denominator if denominator > 1e-12 else math.inf
    return Friedman(
        N=n,
        k=k,
        mean_ranks=ranks,
        chi2=chi2,
        p_chi2=float(stats.chi2.sf(chi2, df1)),
        F=f,
        df1=df1,
        df2=df2,
        p=float(stats.f.sf(f, df1, df2)) if math.isfinite(f) else 0.0,
    )


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """The Nemenyi critical difference of mean ranks and its q_alpha: CD = q_alpha
    sqrt(k(k+1) / (6N)), q_alpha the studentized range quantile (k groups, infinite df) / sqrt 2.
    Two modes whose mean ranks differ by CD or more differ significantly at level ``alpha``."""
    if k < 2 or n < 1:
        raise ValueError(f"the critical difference needs k >= 2 modes and N >= 1, got {k}, {n}")
    q = float(stats.studentized_range.ppf(1.0 - alpha, k, np.inf)) / math.sqrt(2.0)
    return q * math.sqrt(k * (k + 1) / (6.0 * n)), q


def cd_groups(mean_ranks: Sequence[float], cd: float) -> list[list[int]]:
    """Maximal runs of modes (indices into ``mean_ranks``, best first) whose mean ranks all lie
    within less than ``cd`` of each other: the groups a critical-difference diagram joins with a
    line. A mode that differs from every other is in no group."""
    ranks = np.asarray(mean_ranks, dtype=float)
    order = [int(i) for i in np.argsort(ranks, kind="stable")]
    groups: list[list[int]] = []
    last_end = 0
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and ranks[order[end + 1]] - ranks[order[start]] < cd:
            end += 1
        if end > start and end > last_end:
            groups.append(order[start : end + 1])
            last_end = end
    return groups


def wilcoxon_p(diff: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value (zeros dropped, scipy's exact distribution for small
    samples without ties); NaN with fewer than 2 non-zero differences."""
    diff = np.asarray(diff, dtype=float)
    if np.count_nonzero(diff) < 2:
        return math.nan
    return float(stats.wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaNs are not in the family and stay
    NaN): the i-th smallest of m becomes max over j <= i of min(1, (m - j + 1) p_(j)). Reject at
    level alpha where the adjusted p <= alpha; controls the family-wise error without assuming
    independence. (scipy has only false-discovery control.)"""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    running = 0.0
    for i, index in enumerate(tested[np.argsort(p[tested], kind="stable")]):
        running = max(running, min(1.0, (m - i) * p[index]))
        out[index] = running
    return out


@dataclass(frozen=True)
class CorrectedT:
    """Nadeau–Bengio's corrected resampled t-test of paired differences over J splits."""

    J: int
    mean: float  # mean difference
    naive_se: float  # sd / sqrt(J): ignores that the splits' training sets overlap
    corrected_se: float  # sqrt((1/J + n_test/n_train) var)
    t: float
    df: int
    p: float  # two-sided


def corrected_resampled_t(diff: Sequence[float], test_train_ratio: float) -> CorrectedT:
    """t = mean(d) / sqrt((1/J + n_test/n_train) var(d, ddof=1)), df = J - 1, two-sided p from
    the t distribution. NaN with fewer than 2 splits or an unknown ratio (the naive SE is still
    given); constant differences give t = ±inf and p = 0, or NaN when they are all 0."""
    d = np.asarray(diff, dtype=float)
    d = d[~np.isnan(d)]
    j = len(d)
    mean = float(d.mean()) if j else math.nan
    if j < 2:
        return CorrectedT(j, mean, math.nan, math.nan, math.nan, max(j - 1, 0), math.nan)
    # equal within 1e-12 (kd's tie tolerance) is constant: no rounding residue as variance
    var = 0.0 if np.ptp(d) <= 1e-12 else float(np.var(d, ddof=1))
    naive = math.sqrt(var / j)
    if not math.isfinite(test_train_ratio) or test_train_ratio < 0:
        return CorrectedT(j, mean, naive, math.nan, math.nan, j - 1, math.nan)
    corrected = math.sqrt((1.0 / j + test_train_ratio) * var)
    if corrected == 0.0:
        if mean == 0.0:
            return CorrectedT(j, mean, naive, corrected, math.nan, j - 1, math.nan)
        return CorrectedT(j, mean, naive, corrected, math.copysign(math.inf, mean), j - 1, 0.0)
    t = mean / corrected
    return CorrectedT(j, mean, naive, corrected, t, j - 1, float(2.0 * stats.t.sf(abs(t), j - 1)))
