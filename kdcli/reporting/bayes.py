"""How likely a practical difference is: each mode against the baseline, in baycomp's tests.

The frequentist tests of :mod:`kdcli.reporting.compare` ask whether the modes differ at all.
Here every comparison gives three probabilities that sum to 1: P(better), the mode beats the
baseline by more than ``rope``; P(rope), the two are practically equivalent (within ``rope``);
P(worse), the baseline beats the mode by more than ``rope`` (Benavoli et al., "Time for a
change", JMLR 2017). "Better" follows the metric: lower error, log loss and Brier, higher AUC.
``mean_difference`` is mode − baseline, as in :func:`kdcli.reporting.compare.within_dataset`.

* Across datasets: baycomp's Bayesian signed-rank test (Benavoli et al. 2014) on one value per
  dataset and mode, its mean over the splits it shares with the baseline (Demšar 2006: the
  dataset is the unit of replication). Its Dirichlet sample is seeded, so a report is the same
  every time it is made.
* Within one dataset: the Bayesian correlated t-test (Corani & Benavoli 2015) on the per-split
  differences, built on baycomp's ``single.Posterior`` with the Nadeau–Bengio variance
  (1/J + n_test/n_train)·s², df = J − 1, as baycomp's ``CorrelatedTTest`` computes it, but with
  the splits' recorded n_test/n_train (:func:`kdcli.reporting.split_sizes.split_ratios`) in place
  of baycomp's 1/(folds − 1). Exact (a Student t), so no sampling.

baycomp's ``HierarchicalTest`` is not used: it needs pystan (a C++ compile), its sampling cannot
be seeded, it reads a pickle back from the current folder, and it fixes n_test/n_train to
1/(folds − 1).
"""

from __future__ import annotations

import functools
import math
from numbers import Real
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from baycomp.single import Posterior

from kdcli.errors import SettingError
from kdcli.records import size_key
from kdcli.reporting.results_frame import CONFIG, SPLIT, _lower_is_better, _sorted_configs
from kdcli.reporting.shared_splits import _split_values
from kdcli.reporting.split_sizes import SplitRatio
from kdcli.reporting.stats import same_values
from kdcli.science.targets import mode_sort_key

NSAMPLES = 50_000  # baycomp's default; ≈ 0.4 s per comparison over 28 datasets, MC SE ≤ 0.0023
SEED = 0

# One hundredth on the metric's own scale. Error and AUC: one percentage point, the rope of
# Benavoli et al. (2017). Log loss and p0_kl (nats): 0.01 is the true class getting on average
# e^0.01 ≈ 1% more probability, about a tenth of the gap between a good and a mediocre model on
# typical tabular data. Brier and p0_mse (squared probabilities): 0.01 is a few per cent of a
# typical score, the scale of a one-point change in error. Set `rope` when another margin matters.
DEFAULT_ROPE = {
    "error": 0.01,
    "auc": 0.01,
    "log_loss": 0.01,
    "brier": 0.01,
    "p0_kl": 0.01,
    "p0_mse": 0.01,
    "excess_error": 0.01,
}

ACROSS_COLUMNS = [*CONFIG, "mode", "N", "mean_difference", "p_better", "p_rope", "p_worse"]
WITHIN_COLUMNS = [
    "dataset", "size", "mode", "J", "test_train_ratio", "mean_difference",
    "p_better", "p_rope", "p_worse",
]  # fmt: skip
PROBS = ("p_better", "p_rope", "p_worse")
NO_PROBS = dict.fromkeys(PROBS, math.nan)


class BayesTable(NamedTuple):
    """One section of the report: scope is "across" (datasets) or "within" (one dataset)."""

    title: str
    table: pd.DataFrame
    note: str
    scope: str


def default_rope(metric: str) -> float:
    """The region of practical equivalence used when none is given (see DEFAULT_ROPE)."""
    _lower_is_better(metric)
    return DEFAULT_ROPE.get(metric, 0.01)


def check_rope(rope: float | None, metric: str) -> float:
    """The rope to use: ``rope``, or the metric's default; a negative or non-finite one refused."""
    if rope is None:
        return default_rope(metric)
    if isinstance(rope, bool) or not isinstance(rope, Real) or not math.isfinite(rope) or rope < 0:
        raise SettingError(
            "rope",
            f"{{opt}} must be a number ≥ 0 (the margin within which two modes count as "
            f"practically equal), not {rope!r}; e.g. {{opt}} {default_rope(metric)}",
        )
    return float(rope)


def bayes_tables(
    results: pd.DataFrame,
    metric: str,
    modes: list[str],
    baseline: str | None,
    rope: float | None,
    ratios: dict[str, SplitRatio],
    seed: int = SEED,
    nsamples: int = NSAMPLES,
) -> list[BayesTable]:
    """Each of ``modes`` against ``baseline`` (the baseline itself is skipped), per teacher,
    student and size: one "across" table over the datasets, then one "within" table of per-dataset
    probabilities for each (teacher, student). ``rope`` None takes :func:`default_rope`;
    ``ratios`` each dataset's n_test/n_train; ``seed`` and ``nsamples`` drive the signed-rank
    sample. A mode and the baseline are compared on the splits both have a finite value for.
    No "across" table when no (teacher, student, size) has 2 datasets (a single `kd fit`); []
    without a baseline or another mode."""
    rope = check_rope(rope, metric)
    lower = _lower_is_better(metric)
    others = [m for m in modes if m != baseline]
    if baseline is None or not others:
        return []
    pairs = _paired_splits(results, metric, others, baseline)
    if pairs.empty:
        return []
    out = []
    if pairs.groupby(CONFIG)["dataset"].nunique().max() >= 2:
        out.append(_across(pairs, metric, lower, rope, baseline, seed, nsamples))
    for (teacher, student), part in pairs.groupby(["teacher", "student"], sort=True):
        out.append(_within(part, str(teacher), str(student), metric, lower, rope, baseline, ratios))
    return out


def _paired_splits(
    results: pd.DataFrame, metric: str, modes: list[str], baseline: str
) -> pd.DataFrame:
    """One row per (dataset, teacher, student, size, mode, split) where both the mode and the
    baseline have a finite value: columns ..., ``mode_value``, ``base_value``."""
    values = _split_values(results, metric)
    values = values[np.isfinite(values["value"].to_numpy(dtype=float))]
    keys = ["dataset", *CONFIG, *SPLIT]
    base = values[values["mode"] == baseline][[*keys, "value"]]
    base = base.rename(columns={"value": "base_value"})
    rest = values[values["mode"].isin(modes)].rename(columns={"value": "mode_value"})
    return rest.merge(base, on=keys, how="inner")


def _gain(mode_value: np.ndarray, base_value: np.ndarray, lower: bool) -> np.ndarray:
    """How much better the mode is, in the metric's direction; 0 where the two are the same by
    kd's one tie rule (:func:`kdcli.reporting.stats.same`)."""
    gain = base_value - mode_value if lower else mode_value - base_value
    gain = np.asarray(gain, dtype=float).copy()
    gain[same_values(mode_value, base_value)] = 0.0
    return gain


def _signed_rank(gains: np.ndarray, rope: float, seed: int, nsamples: int) -> dict[str, float]:
    """baycomp's Bayesian signed-rank test on per-dataset gains (positive: mode better), as
    ``SignedRankTest(zeros, gains, rope, nsamples=nsamples, random_state=seed).probs()``
    computes it (tests/reporting/test_bayes.py checks the two agree)."""
    winners = np.argmax(signed_rank_samples(gains, rope, seed, nsamples), axis=1)
    p_worse, p_rope, p_better = np.bincount(winners, minlength=3) / len(winners)
    return {"p_better": float(p_better), "p_rope": float(p_rope), "p_worse": float(p_worse)}


def signed_rank_samples(gains: np.ndarray, rope: float, seed: int, nsamples: int) -> np.ndarray:
    """The posterior sample of baycomp's ``SignedRankTest.sample`` (Benavoli et al. 2014):
    the same Dirichlet draws from the same ``RandomState``, with each draw's quadratic forms
    w'Aw computed for all draws at once instead of in baycomp's Python loop (0.6 s per
    comparison at 50,000 draws, most of a report's time). Columns: P(worse), P(rope),
    P(better)."""
    diff = np.concatenate(([0.0], np.asarray(gains, dtype=float)))  # y - x, x = 0; the prior
    sums = diff[:, None] + diff[None, :]
    draws = _dirichlet_draws(len(diff), seed, nsamples)

    def mass(region: np.ndarray) -> np.ndarray:
        return np.sum((draws @ region) * draws, axis=1)

    samples = np.zeros((nsamples, 3))
    if rope > 0:
        samples[:, 0] = mass(_heaviside(-sums, 2 * rope))
        samples[:, 2] = mass(_heaviside(sums, 2 * rope))
        samples[:, 1] = -samples[:, 0] - samples[:, 2] + 1
    else:
        samples[:, 2] = mass(_heaviside(sums, 0.0))
        samples[:, 0] = -samples[:, 2] + 1
    return samples


@functools.lru_cache(maxsize=2)
def _dirichlet_draws(k: int, seed: int, nsamples: int) -> np.ndarray:
    """baycomp's Dirichlet draws for k - 1 gains: they depend on the number of datasets and the
    seed, never on the gains, so one report's comparisons (a few dozen, most on the same
    datasets) share them (half of each comparison's time). Read-only, as they are shared."""
    weights = np.ones(k)
    weights[0] = 0.5  # baycomp's default prior
    draws = np.random.RandomState(seed).dirichlet(weights, nsamples)
    draws.setflags(write=False)
    return draws


def _heaviside(a: np.ndarray, threshold: float) -> np.ndarray:
    return (a > threshold).astype(float) + 0.5 * (a == threshold).astype(float)


def _across(
    pairs: pd.DataFrame,
    metric: str,
    lower: bool,
    rope: float,
    baseline: str,
    seed: int,
    nsamples: int,
) -> BayesTable:
    """The signed-rank test per (teacher, student, size, mode) over the per-dataset means."""
    means = pairs.groupby(["dataset", *CONFIG, "mode"], sort=False)[["mode_value", "base_value"]]
    means = means.mean().reset_index()
    records, short = [], []
    for (teacher, student, size, mode), group in means.groupby([*CONFIG, "mode"], sort=False):
        m = group["mode_value"].to_numpy(dtype=float)
        b = group["base_value"].to_numpy(dtype=float)
        record = {"teacher": teacher, "student": student, "size": size, "mode": mode}
        record.update({"N": len(group), "mean_difference": float(np.mean(m - b))})
        if len(group) >= 2:
            record.update(_signed_rank(_gain(m, b, lower), rope, seed, nsamples))
        else:
            record.update(NO_PROBS)
            short.append(f"{teacher}/{student} {size} {mode}".replace("  ", " "))
        records.append(record)
    table = _sorted_configs(pd.DataFrame.from_records(records, columns=ACROSS_COLUMNS), True)
    note = (
        f"Bayesian signed-rank test (baycomp; Benavoli et al. 2014) on the N per-dataset means, "
        f"each over the splits the mode shares with {baseline}; rope = ±{rope:g} "
        f"({_better_text(metric, lower)}): p_better = P(mode better than {baseline} by more than "
        f"the rope), p_rope = P(practically equivalent), p_worse = P({baseline} better by more "
        f"than the rope); mean_difference = mode − {baseline}, averaged over datasets; "
        f"Dirichlet sample of {nsamples} seeded with {seed}"
    )
    if short:
        note += f"; no probabilities (–) for {_few(short)}: it needs at least 2 datasets"
    title = f"Bayesian comparison with {baseline} across datasets · {metric}"
    return BayesTable(title, table, note, "across")


def _within(
    pairs: pd.DataFrame,
    teacher: str,
    student: str,
    metric: str,
    lower: bool,
    rope: float,
    baseline: str,
    ratios: dict[str, SplitRatio],
) -> BayesTable:
    """The Bayesian correlated t-test per dataset, size and mode of one (teacher, student)."""
    records: list[dict[str, Any]] = []
    why: dict[str, list[str]] = {}
    keys = ["dataset", "size", "mode"]
    for (dataset, size, mode), group in pairs.groupby(keys, sort=False):
        ratio = ratios.get(str(dataset), SplitRatio(math.nan, "n_test/n_train unknown")).ratio
        m = group["mode_value"].to_numpy(dtype=float)
        b = group["base_value"].to_numpy(dtype=float)
        probs, reason = _correlated_t(_gain(m, b, lower), ratio, rope)
        if reason:
            why.setdefault(reason, []).append(f"{dataset} {size} {mode}".replace("  ", " "))
        records.append(
            {
                "dataset": dataset,
                "size": size,
                "mode": mode,
                "J": len(group),
                "test_train_ratio": ratio,
                "mean_difference": float(np.mean(m - b)),
                **probs,
            }
        )
    table = pd.DataFrame.from_records(records, columns=WITHIN_COLUMNS)
    order = sorted(
        range(len(table)),
        key=lambda i: (
            size_key(table["size"].iat[i]),
            mode_sort_key(table["mode"].iat[i]),
            table["dataset"].iat[i],
        ),
    )
    table = table.iloc[order].reset_index(drop=True)
    note = (
        f"within each dataset only: Bayesian correlated t-test (Corani & Benavoli 2015) on the "
        f"J per-split differences mode − {baseline} (splits both have); posterior Student t "
        f"with df = J − 1, mean = mean difference, variance = (1/J + n_test/n_train)·s² "
        f"(Nadeau–Bengio; n_test/n_train in test_train_ratio); rope = ±{rope:g} "
        f"({_better_text(metric, lower)}); p_better / p_rope / p_worse as across datasets"
    )
    for reason, cells in why.items():
        note += f"; no probabilities (–) for {_few(cells)}: {reason}"
    title = (
        f"teacher {teacher} · {student} student · Bayesian comparison with {baseline} "
        f"within each dataset · {metric}"
    )
    return BayesTable(title, table, note, "within")


def _correlated_t(gains: np.ndarray, ratio: float, rope: float) -> tuple[dict[str, float], str]:
    """P(better), P(rope), P(worse) from one dataset's per-split gains, or NaNs and the reason."""
    j = len(gains)
    if j < 2:
        return NO_PROBS, "it needs at least 2 splits (--repeats 2 or more, or several folds)"
    if not math.isfinite(ratio) or ratio <= 0:
        return NO_PROBS, "n_test/n_train of its splits is unknown"
    var = float(np.var(gains, ddof=1))
    if var == 0:
        return NO_PROBS, "its differences are all equal, so their variance is 0 and undefined"
    posterior = Posterior(float(np.mean(gains)), (1 / j + ratio) * var, j - 1, rope)
    probs = posterior.probs()
    if len(probs) == 2:  # rope 0: baycomp gives (P(worse), P(better))
        probs = (probs[0], 0.0, probs[1])
    p_worse, p_rope, p_better = (float(p) for p in probs)
    return {"p_better": p_better, "p_rope": p_rope, "p_worse": p_worse}, ""


def _better_text(metric: str, lower: bool) -> str:
    return f"{'lower' if lower else 'higher'} {metric} is better"


def _few(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")
