"""n_test / n_train for the Nadeau–Bengio correction, from what a run records."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

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
