"""kdcli.reporting.bayes on designed results whose answer is clear, and against baycomp itself."""

import math

import baycomp
import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

from kdcli.errors import SettingError
from kdcli.records import RESULT_COLUMNS
from kdcli.reporting.bayes import _signed_rank, bayes_tables, check_rope, default_rope
from kdcli.reporting.split_sizes import SplitRatio, split_ratios
from kdcli.study.run_folder import RunFolder

NSAMPLES = 5000  # the module's default is 50 000; these margins hold with room at 5 000


def designed(gap, datasets=6, splits=5, metric="error", noise=0.004, seed=1, base=0.2):
    """raw, and corrected better than raw by ``gap`` in the metric's direction on every split of
    every dataset (plus small noise, so a dataset's differences vary)."""
    rng = np.random.default_rng(seed)
    sign = -1 if metric != "auc" else 1
    rows = []
    for d in range(datasets):
        for j in range(splits):
            raw = base + 0.02 * d + 0.001 * j
            key = {"dataset": f"d{d}", "repeat": j, "fold": 0, "seed": j, "teacher": "lgbm",
                   "student": "tree", "size": "8", "metric": metric}  # fmt: skip
            corrected = raw + sign * gap + rng.normal(0, noise)
            rows.append({**key, "mode": "raw", "value": raw})
            rows.append({**key, "mode": "corrected", "value": corrected})
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def ratios(results, ratio=0.25):
    return {d: SplitRatio(ratio, "test") for d in results["dataset"].unique()}


def tables(results, metric="error", rope=None, **kw):
    kw.setdefault("nsamples", NSAMPLES)
    return bayes_tables(results, metric, ["raw", "corrected"], "raw", rope, ratios(results), **kw)


def probs(table):
    return table[["p_better", "p_rope", "p_worse"]].to_numpy(dtype=float)


def test_a_mode_better_by_005_everywhere_is_better_across_and_within():
    across, within = tables(designed(0.05))
    assert across.scope == "across" and within.scope == "within"
    assert across.table["N"].tolist() == [6]
    assert across.table["p_better"].iloc[0] > 0.95
    assert (within.table["J"] == 5).all() and len(within.table) == 6
    assert (within.table["p_better"] > 0.95).all()
    assert across.table["mean_difference"].iloc[0] == pytest.approx(-0.05, abs=0.005)


def test_a_mode_worse_by_005_everywhere_is_worse():
    across, within = tables(designed(-0.05))
    assert across.table["p_worse"].iloc[0] > 0.95
    assert (within.table["p_worse"] > 0.95).all()


def test_identical_and_nearly_identical_modes_are_practically_equivalent():
    across, within = tables(designed(0.0, noise=0.0))
    assert across.table["p_rope"].iloc[0] > 0.95
    # every difference 0: the variance is 0, so no within-dataset probabilities, and a note
    assert within.table[["p_better", "p_rope", "p_worse"]].isna().all().all()
    assert "variance is 0" in within.note
    across, within = tables(designed(0.0, noise=0.001))
    assert across.table["p_rope"].iloc[0] > 0.95
    assert (within.table["p_rope"] > 0.95).all()


def test_auc_higher_is_better():
    across, within = tables(designed(0.05, metric="auc", base=0.7), metric="auc")
    assert across.table["p_better"].iloc[0] > 0.95
    assert (within.table["p_better"] > 0.95).all()
    assert across.table["mean_difference"].iloc[0] == pytest.approx(0.05, abs=0.005)
    assert "higher auc is better" in across.note


def test_probabilities_sum_to_one_and_the_report_is_deterministic():
    results = designed(0.012, noise=0.01)
    first, second = tables(results), tables(results)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a.table, b.table)
        assert np.allclose(probs(a.table).sum(axis=1), 1.0)
    other_seed = tables(results, seed=7)[0].table
    assert not other_seed["p_better"].equals(first[0].table["p_better"])  # the seed is used


def test_across_datasets_is_baycomps_signed_rank_test_on_the_dataset_means():
    results = designed(0.012, noise=0.01, datasets=8)
    across = tables(results, seed=3)[0].table
    wide = results.groupby(["dataset", "mode"])["value"].mean().unstack()
    # error: lower is better, so baycomp's "right" (y − x > rope) is y = raw, x = corrected
    expected = baycomp.SignedRankTest.probs(
        wide["corrected"].to_numpy(), wide["raw"].to_numpy(), 0.01,
        nsamples=NSAMPLES, random_state=3,
    )  # fmt: skip
    p_worse, p_rope, p_better = expected
    assert 0.05 < p_better < 0.95  # a case where the answer is not a foregone 0 or 1
    assert probs(across)[0] == pytest.approx([p_better, p_rope, p_worse], abs=1e-12)


def test_within_one_dataset_is_the_correlated_t_test_with_the_recorded_ratio():
    results = designed(0.01, noise=0.01, datasets=2)
    within = bayes_tables(
        results, "error", ["raw", "corrected"], "raw", 0.005,
        {"d0": SplitRatio(0.5, "x"), "d1": SplitRatio(math.nan, "unknown")}, nsamples=NSAMPLES,
    )[1]  # fmt: skip
    d0 = results[results.dataset == "d0"].pivot(index="repeat", columns="mode", values="value")
    gain = (d0["raw"] - d0["corrected"]).to_numpy()
    scale = math.sqrt((1 / 5 + 0.5) * gain.var(ddof=1))
    expected_better = student_t.sf(0.005, 4, loc=gain.mean(), scale=scale)
    row = within.table.set_index("dataset").loc["d0"]
    assert row["p_better"] == pytest.approx(expected_better, abs=1e-12)
    assert row["test_train_ratio"] == 0.5
    assert (
        within.table.set_index("dataset").loc["d1", ["p_better", "p_rope", "p_worse"]].isna().all()
    )
    assert "d1 8 corrected: n_test/n_train of its splits is unknown" in within.note


def test_one_split_or_one_dataset_gives_no_probabilities_and_says_why():
    (within,) = tables(designed(0.05, datasets=1, splits=1))  # one dataset: no across table
    assert within.scope == "within" and within.table["J"].tolist() == [1]
    assert math.isnan(within.table["p_better"].iloc[0]) and "needs at least 2 splits" in within.note
    # a student size that only one of the datasets has: a row without probabilities, and why
    results = designed(0.05, datasets=3)
    extra = results[results.dataset == "d0"].assign(size="64")
    across = tables(pd.concat([results, extra], ignore_index=True))[0]
    assert across.table["size"].tolist() == ["8", "64"]
    assert across.table["N"].tolist() == [3, 1] and math.isnan(across.table["p_better"].iloc[1])
    assert "for lgbm/tree 64 corrected: it needs at least 2 datasets" in across.note


def test_modes_are_paired_over_the_splits_both_have():
    results = designed(0.05, datasets=3, splits=4)
    # corrected lacks split 3 of d0, raw has a NaN on split 2 of d1: those splits are left out;
    # raw's split 3 of d0 is far off, so an unpaired mean over 4 splits would move by ≈ 0.17
    results.loc[(results.dataset == "d0") & (results.repeat == 3), "value"] = 0.9
    gone = (results.dataset == "d0") & (results.repeat == 3) & (results["mode"] == "corrected")
    results = results[~gone].copy()
    nan = (results.dataset == "d1") & (results.repeat == 2) & (results["mode"] == "raw")
    results.loc[nan, "value"] = math.nan
    within = tables(results)[1].table.set_index("dataset")
    assert within["J"].to_dict() == {"d0": 3, "d1": 3, "d2": 4}
    # d0's raw mean over its 3 shared splits, not its 4: the difference stays ≈ −0.05
    assert within["mean_difference"].to_numpy() == pytest.approx([-0.05] * 3, abs=0.01)


def test_no_baseline_or_no_other_mode_gives_nothing():
    results = designed(0.05)
    assert bayes_tables(results, "error", ["raw", "corrected"], None, None, {}) == []
    assert bayes_tables(results, "error", ["raw"], "raw", None, {}) == []


def test_the_rope_defaults_per_metric_and_a_bad_one_is_refused():
    assert default_rope("error") == default_rope("auc") == 0.01
    assert default_rope("log_loss") == 0.01 and check_rope(None, "brier") == 0.01
    assert "rope = ±0.01" in tables(designed(0.05))[0].note
    for bad in (-0.01, math.nan, math.inf, "0.1", True):
        with pytest.raises(SettingError) as err:
            check_rope(bad, "error")
        assert err.value.render("--rope").startswith("--rope must be a number ≥ 0")
    with pytest.raises(ValueError, match="no direction"):
        default_rope("c")


def test_a_zero_rope_leaves_no_room_for_equivalence():
    across, within = tables(designed(0.01, noise=0.01), rope=0.0)
    assert (within.table["p_rope"] == 0).all()
    assert np.allclose(probs(within.table).sum(axis=1), 1.0)
    assert across.table["p_rope"].iloc[0] == 0


def test_a_real_kd_fit_with_repeats(kd, tmp_path):
    """The wiring on a real run: its results, and n_test/n_train from its run.json."""
    out = tmp_path / "fit"
    code, _, err = kd(
        "fit", "--dataset", "sklearn:iris", "--modes", "raw,vanilla", "--sizes", "4",
        "--repeats", "3", "--teacher-param", "n_estimators=20", "--threads", "1",
        "--out", out, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    results = RunFolder(out).results()
    found = split_ratios(results, RunFolder(out).record())
    (within,) = bayes_tables(  # one dataset: no table across datasets
        results, "error", ["raw", "vanilla"], "raw", None, found, nsamples=NSAMPLES
    )
    row = within.table.iloc[0]
    assert (row["dataset"], row["mode"], row["J"]) == ("sklearn:iris", "vanilla", 3)
    assert row["test_train_ratio"] == pytest.approx(38 / 112, rel=1e-12)  # 150 rows, test 0.25
    split = results[(results["metric"] == "error") & (results["mode"].isin(["raw", "vanilla"]))]
    wide = split.pivot_table(index="repeat", columns="mode", values="value")
    assert row["mean_difference"] == pytest.approx((wide["vanilla"] - wide["raw"]).mean())
    if not math.isnan(row["p_better"]):  # iris may give the same error on every repeat
        assert row[["p_better", "p_rope", "p_worse"]].sum() == pytest.approx(1.0)
    else:
        assert "variance is 0" in within.note


@pytest.mark.parametrize("rope", [0.0, 0.001, 0.01])
def test_the_signed_rank_sample_is_baycomps_to_the_last_draw(rope):
    """kd computes baycomp's posterior sample without its Python loop: the same draws, the same
    probabilities, exactly, on gains with ties, zeros and values on the rope's edge."""
    rng = np.random.default_rng(7)
    for trial in range(25):
        n = int(rng.integers(2, 40))
        gains = rng.normal(0, 0.01, n) * (rng.random(n) > 0.2)
        gains = np.round(gains, 3) if trial % 3 == 0 else gains
        seed = int(rng.integers(0, 10_000))
        ours = _signed_rank(gains, rope, seed, 4000)
        theirs = baycomp.SignedRankTest(
            np.zeros(n), gains, rope, nsamples=4000, random_state=seed
        ).probs(with_rope=True)
        assert (ours["p_worse"], ours["p_rope"], ours["p_better"]) == tuple(theirs)
