"""n_test / n_train for the Nadeau–Bengio correction, from what a run records."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold, train_test_split

import kdcli
from kdcli.data.dataset import OuterSplit
from kdcli.reporting.split_sizes import split_ratios


def results(dataset="wine", folds=(0,), repeats=(0, 1), **extra):
    rows = [
        {"dataset": dataset, "repeat": r, "fold": f, "mode": "raw", "value": 0.1, **extra}
        for r in repeats
        for f in folds
    ]
    return pd.DataFrame(rows)


def test_a_kd_fit_record_gives_the_exact_split_of_train_test_split():
    record = {"settings": {"test_size": 0.25}, "dataset": {"name": "wine", "rows": 178}}
    (ratio,) = split_ratios(results(), record).values()
    train, test = train_test_split(np.arange(178), test_size=0.25, random_state=0)
    assert (len(test), len(train)) == (45, 133)
    assert ratio.ratio == 45 / 133 and "45/133 (178 rows, test size 0.25)" in ratio.source


def test_a_study_record_gives_the_test_size_ratio():
    record = {
        "settings": {"members": [{"name": "wine", "spec": "file:w.csv"}], "fit": {"test_size": 0.3}}
    }
    ratio = split_ratios(results(), record)["wine"]
    assert ratio.ratio == pytest.approx(0.3 / 0.7) and "≈ 0.4286 (test size 0.3)" in ratio.source


def test_official_folds_are_k_fold():
    record = {
        "settings": {
            "members": [{"name": "wine", "spec": "openml-task:59"}],
            "fit": {"test_size": 0.25},
        }
    }
    ratio = split_ratios(results(folds=range(10), repeats=(0,)), record)["wine"]
    assert ratio.ratio == pytest.approx(1 / 9) and "official 10-fold" in ratio.source
    # folds beyond 0 tell official splits apart even without the spec
    assert split_ratios(results(folds=range(5)), {})["wine"].ratio == pytest.approx(1 / 4)


def test_recorded_sizes_win_and_nothing_recorded_is_unknown():
    recorded = results(n_train=90, n_test=30)
    record = {"settings": {"test_size": 0.5}}
    assert split_ratios(recorded, record)["wine"].ratio == pytest.approx(1 / 3)
    unknown = split_ratios(results(), {})["wine"]
    assert math.isnan(unknown.ratio) and "unknown" in unknown.source


def _task_run(repeats: int, folds_outer: list[int]) -> tuple[pd.DataFrame, dict]:
    """A real `kd fit` on iris with a task's official 10-fold splits (15 test rows of 150 each,
    n_test/n_train = 1/9): its results and run.json record, as an openml-task: run has them."""
    ds = kdcli.load_dataset("sklearn:iris")
    ds.meta["spec"] = "openml-task:59"
    ds.outer_splits = [
        OuterSplit(r, f, train, test)
        for r in range(repeats)
        for f, (train, test) in enumerate(
            StratifiedKFold(10, shuffle=True, random_state=r).split(ds.X, ds.y)
        )
    ]
    settings = dict(repeats=repeats, folds_outer=folds_outer, folds=2, modes="raw")
    plan = kdcli.prepare_fit(ds, student="tree", sizes=[2], **settings)
    result = kdcli.execute_fit(plan)
    return result.results, kdcli.fit_record(plan, result, seconds=0.0)


def test_a_task_run_on_some_folds_uses_the_sizes_of_its_splits():
    """Issue 21, item 2: folds 0-2 of a 10-fold task gave k = 3 and n_test/n_train = 1/2 (its
    SE 1.37 times too large); one fold over several repeats gave NaN."""
    results, record = _task_run(1, [0, 1, 2])
    sizes = results[results.metric.isin(["n_train", "n_test"])]
    assert set(sizes.student) == {"teacher"} and len(sizes) == 6  # per split, the teacher's row
    ratio = split_ratios(results, record)["sklearn:iris"]
    assert ratio.ratio == pytest.approx(1 / 9) and "15/135" in ratio.source
    assert "recorded per split" in ratio.source
    assert [(s["fold"], s["n_train"], s["n_test"]) for s in record["splits"]] == [
        (f, 135, 15) for f in (0, 1, 2)
    ]
    results, record = _task_run(2, [0])
    assert split_ratios(results, record)["sklearn:iris"].ratio == pytest.approx(1 / 9)


def test_uneven_splits_average_their_own_ratios():
    rows = [
        {"dataset": "d", "repeat": r, "fold": f, "teacher": t, "student": "teacher", "size": "",
         "mode": "teacher", "metric": m, "value": v}
        for r, f, n_train, n_test in ((0, 0, 90, 10), (0, 1, 80, 20))
        for t in ("rf[max_depth=1]", "rf[max_depth=2]")  # a sweep: one split, two teachers
        for m, v in (("n_train", n_train), ("n_test", n_test), ("error", 0.1))
    ]  # fmt: skip
    ratio = split_ratios(pd.DataFrame(rows), {})["d"]
    assert ratio.ratio == pytest.approx((10 / 90 + 20 / 80) / 2)
    assert "mean over 2 splits" in ratio.source
