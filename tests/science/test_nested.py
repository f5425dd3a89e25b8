"""Nested boosted students: the first k rounds of a K-round booster are the k-round booster."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from kdcli.data.dataset import Dataset
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import make_splits
from kdcli.science.model_size import model_size
from kdcli.science.nested import prefix_model, prefix_predictions
from kdcli.science.students import fit_student, make_student
from kdcli.settings import fit_settings


def test_a_boosters_prefix_predicts_and_measures_as_the_smaller_booster():
    X, y = make_classification(400, 6, random_state=0)
    T = np.column_stack([y, 1 - y]).astype(float)
    big = fit_student(make_student("gbdt", 12, 1, 3), X, T)
    for k in (1, 5, 12):
        small = fit_student(make_student("gbdt", k, 1, 3), X, T)
        np.testing.assert_array_equal(prefix_model(big, k).predict(X), small.predict(X))
        got, want = model_size(prefix_model(big, k)), model_size(small)
        assert got["n_trees"] == want["n_trees"] == 2 * k
        assert got["n_leaves"] == want["n_leaves"]
    five, twelve = prefix_predictions(big, X, [5, 12])
    np.testing.assert_array_equal(five, prefix_model(big, 5).predict(X))
    np.testing.assert_array_equal(twelve, big.predict(X))
    with pytest.raises(ValueError):
        prefix_model(big, 13)


def test_nested_boosted_students_equal_separate_fits_with_fewer_fits():
    X, y = make_classification(500, 6, n_informative=4, flip_y=0.1, random_state=1)
    ds = Dataset("synth", pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]), y, ["a", "b"])
    settings = dict(teacher_param={"n_estimators": 30}, student="gbdt", folds=3, c_grid=[0.01, 1])
    nested = fit_settings(sizes=[1, 3, 6], **settings)
    split = make_splits(ds, nested)[0]
    together = run_split(ds, split, nested, nested.teacher, threads=2)
    for size in (1, 3, 6):
        alone_spec = fit_settings(sizes=[size], **settings)
        alone = run_split(ds, split, alone_spec, alone_spec.teacher, threads=1)
        keep = ["mode", "metric", "value"]
        mine = pd.DataFrame(together.records)
        mine = mine[(mine["size"] == str(size)) & (mine.metric != "model_bytes")][keep]
        theirs = pd.DataFrame(alone.records)
        theirs = theirs[(theirs["size"] == str(size)) & (theirs.metric != "model_bytes")][keep]
        assert len(theirs) > 20
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), theirs.reset_index(drop=True))
    # teacher 1 + 3 folds; per mode one booster, corrected: 2 c x 3 folds + at most 2 boosters
    assert together.timings["fits"] <= 4 + 3 + 2 * 3 + 2
