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

Ties: :func:`same` is the one rule by which kd calls two values equal, for the ★ of the best
mode, the ranks, wins / ties / losses and the zero differences of every test.

Distributions come from scipy; only the formulas scipy lacks are written out here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

ALPHA = 0.05
TIE_RTOL = 1e-9  # relative to max(1, |a|, |b|): see same()
MIN_SPLITS = 3  # the fewest splits behind a within-dataset p


def same(a: float, b: float) -> bool:
    """Whether kd counts two values as equal: |a − b| <= 1e-9 · max(1, |a|, |b|).

    Means of a metric over the same splits that differ by less are floating-point noise (the
    order in which terms were summed). For error this is the same as comparing the counts of
    misclassified rows: one row more on one of J splits of n_test rows moves the mean by
    1/(J·n_test), far above 1e-9 for any data kd handles. NaN is never the same as anything.
    """
    return bool(same_values(np.array([a]), np.array([b]))[0])


def same_values(a: npt.ArrayLike, b: npt.ArrayLike) -> np.ndarray:
    """:func:`same`, element by element."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore"):
        scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
        close = np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= TIE_RTOL * scale)
        return (a == b) | close


def snap_ties(values: np.ndarray) -> np.ndarray:
    """A copy of a 1-d array in which values that are :func:`same` share one value (the
    smallest of their run in sorted order), so that ranking them ties them."""
    values = np.asarray(values, dtype=float)
    out = values.copy()
    order = np.argsort(values, kind="stable")
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or not same(values[order[start]], values[order[i]]):
            out[order[start:i]] = values[order[start]]
            start = i
    return out


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
    exact: bool = False  # every dataset ranks the modes alike: F undefined, p exact


def rank_rows(values: np.ndarray, lower: bool = True) -> np.ndarray:
    """Ranks within each row (dataset), 1 = best in the metric's direction, ties (by
    :func:`same`) sharing the average rank."""
    values = np.asarray(values, dtype=float)
    snapped = np.array([snap_ties(row) for row in values]).reshape(values.shape)
    return stats.rankdata(snapped if lower else -snapped, axis=1, method="average")


def friedman(values: np.ndarray, lower: bool = True) -> Friedman:
    """Friedman's chi-square and the Iman–Davenport F of an N x k table (N >= 2, k >= 2).

    chi2 = 12N / (k(k+1)) * (sum_j R_j^2 - k(k+1)^2 / 4) on the mean ranks R_j, as in Demšar
    (2006), without the tie correction of ``scipy.stats.friedmanchisquare``: the two agree when
    no dataset has tied modes, and with ties this form is the smaller, so it errs on the
    conservative side and matches the mean ranks the critical-difference diagram shows.
    F = (N-1) chi2 / (N(k-1) - chi2) on k-1 and (k-1)(N-1) degrees of freedom. When every
    dataset ranks the modes alike, without ties (chi2 = N(k-1)), F is infinite and its p would
    be 0; p is then the exact chance of that outcome under the null (each dataset's ranking one
    of k! alike), k! · (1/k!)^N = (k!)^-(N-1), and ``exact`` is set.
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
    # rank sums are multiples of 1/2, so the denominator is an integer / (Nk(k+1)): 0, or at
    # least 1/(Nk(k+1)), far above rounding
    alike = denominator < 0.5 / (n * k * (k + 1))
    f = math.inf if alike else (n - 1) * chi2 / denominator
    exact_p = math.exp(-(n - 1) * math.lgamma(k + 1))
    return Friedman(
        N=n,
        k=k,
        mean_ranks=ranks,
        chi2=chi2,
        p_chi2=float(stats.chi2.sf(chi2, df1)),
        F=f,
        df1=df1,
        df2=df2,
        p=exact_p if alike else float(stats.f.sf(f, df1, df2)),
        exact=alike,
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
    """Two-sided Wilcoxon signed-rank p-value on the n non-zero differences (zeros dropped
    first, so scipy's exact distribution serves small n without tied magnitudes, as it would
    not with the zeros in); NaN when n < 2. Differences that are noise around 0 must be zeroed
    before (:func:`same` of the two values, as the callers do)."""
    diff = np.asarray(diff, dtype=float)
    diff = diff[diff != 0]
    if len(diff) < 2:
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
    why: str = ""  # why there is no p ("" when there is one)


def corrected_resampled_t(diff: npt.ArrayLike, test_train_ratio: float) -> CorrectedT:
    """t = mean(d) / sqrt((1/J + n_test/n_train) var(d, ddof=1)), df = J - 1, two-sided p from
    the t distribution.

    No p (NaN, with ``why``) with fewer than :data:`MIN_SPLITS` splits (a variance from 2 splits
    is too rough to test with), an unknown ratio, or differences that are the same on every split
    (by :func:`same`): their variance is 0, so t is undefined (NaN too), not infinite. The naive
    and corrected SEs are given wherever they can be computed."""
    d = np.asarray(diff, dtype=float)
    d = d[~np.isnan(d)]
    j = len(d)
    mean = float(d.mean()) if j else math.nan
    if j < 2:
        why = "no split" if j == 0 else "1 split: no variance to test with"
        return CorrectedT(j, mean, math.nan, math.nan, math.nan, max(j - 1, 0), math.nan, why)
    constant = same(float(d.min()), float(d.max()))  # no rounding residue as variance
    var = 0.0 if constant else float(np.var(d, ddof=1))
    naive = math.sqrt(var / j)
    known = math.isfinite(test_train_ratio) and test_train_ratio >= 0
    corrected = math.sqrt((1.0 / j + test_train_ratio) * var) if known else math.nan
    if constant:
        why = "the difference is the same on every split: zero variance, t undefined"
        return CorrectedT(j, mean, naive, corrected, math.nan, j - 1, math.nan, why)
    if not known:
        why = "n_test/n_train unknown"
        return CorrectedT(j, mean, naive, corrected, math.nan, j - 1, math.nan, why)
    t = mean / corrected
    if j < MIN_SPLITS:
        why = f"J = {j}: fewer than {MIN_SPLITS} splits give no reliable p"
        return CorrectedT(j, mean, naive, corrected, t, j - 1, math.nan, why)
    return CorrectedT(j, mean, naive, corrected, t, j - 1, float(2.0 * stats.t.sf(abs(t), j - 1)))
