"""--crossfit oob: a bagged teacher's out-of-bag probabilities stand in for cross-fitting."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.ensemble._forest import _generate_unsampled_indices

import kdcli
from kdcli.data.dataset import Dataset
from kdcli.errors import SpecError
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import make_splits
from kdcli.science.crossfit import oob_proba


def test_a_rows_oob_probability_comes_only_from_trees_that_never_saw_it():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 4)), rng.integers(0, 3, 300)
    forest = RandomForestClassifier(60, oob_score=True, random_state=1).fit(X, y)
    by_hand, seen_by = np.zeros((300, 3)), np.zeros(300)
    for tree in forest.estimators_:
        unseen = _generate_unsampled_indices(tree.random_state, 300, 300, None)
        by_hand[unseen] += tree.predict_proba(X[unseen])
        seen_by[unseen] += 1
    assert seen_by.min() > 0
    np.testing.assert_allclose(oob_proba(forest, 3), by_hand / seen_by[:, None], atol=1e-12)


def test_on_pure_noise_oob_cannot_recall_labels_that_in_sample_does():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(400, 5)), rng.integers(0, 2, 400)
    forest = RandomForestClassifier(200, oob_score=True, random_state=0).fit(X, y)
    in_sample = forest.predict_proba(X)[np.arange(400), y].mean()
    oob = oob_proba(forest, 2)[np.arange(400), y].mean()
    assert in_sample > 0.75 and 0.4 < oob < 0.55


def test_oob_needs_one_teacher_fit_per_split_and_its_own_cache_key(tmp_path):
    X, y = np.random.default_rng(3).normal(size=(300, 4)), np.arange(300) % 2
    ds = Dataset("noise", pd.DataFrame(X, columns=list("abcd")), y, ["0", "1"])
    settings = dict(teacher="rf", teacher_param={"n_estimators": 50}, sizes=[4], folds=3)
    oob, folds = kdcli.fit_spec(crossfit="oob", **settings), kdcli.fit_spec(**settings)
    split = make_splits(ds, oob)[0]
    from kdcli.study.teacher_cache import TeacherCache

    cache = TeacherCache(tmp_path)
    with_oob = run_split(ds, split, oob, oob.teacher, store=cache)
    with_folds = run_split(ds, split, folds, folds.teacher, store=cache)
    assert with_oob.timings["fits"] - with_folds.timings["fits"] == -3  # no K fold teachers
    assert not with_folds.timings["teacher_cached"]  # oob predictions are not the folds'
    assert run_split(ds, split, oob, oob.teacher, store=cache).timings["teacher_cached"]


def test_oob_is_refused_for_a_boosted_teacher():
    with pytest.raises(SpecError) as err:
        kdcli.fit_spec(crossfit="oob", teacher="rf,lightgbm")
    assert err.value.param == "crossfit" and "lightgbm is boosted" in str(err.value)
