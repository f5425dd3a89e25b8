"""--crossfit oob: a bagged teacher's out-of-bag probabilities stand in for cross-fitting."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.ensemble._forest import _generate_unsampled_indices

import kdcli
from kdcli.data.dataset import Dataset
from kdcli.errors import SettingError
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import make_splits
from kdcli.science.crossfit import (
    check_oob_trees,
    never_out_of_bag,
    oob_proba,
    oob_trees_needed,
    stratified_folds,
)
from kdcli.science.selection import selection_plan, selection_proba
from kdcli.science.teachers import make_teacher


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
    oob, folds = kdcli.fit_settings(crossfit="oob", **settings), kdcli.fit_settings(**settings)
    split = make_splits(ds, oob)[0]
    from kdcli.study.teacher_cache import TeacherCache

    cache = TeacherCache(tmp_path)
    with_oob = run_split(ds, split, oob, oob.teacher, store=cache)
    with_folds = run_split(ds, split, folds, folds.teacher, store=cache)
    assert with_oob.timings["fits"] - with_folds.timings["fits"] == -3  # no K fold teachers
    assert not with_folds.timings["teacher_cached"]  # oob predictions are not the folds'
    assert run_split(ds, split, oob, oob.teacher, store=cache).timings["teacher_cached"]


def test_oob_is_refused_for_a_boosted_teacher():
    with pytest.raises(SettingError) as err:
        kdcli.fit_settings(crossfit="oob", teacher="rf,lightgbm")
    assert err.value.param == "crossfit" and "lightgbm is boosted" in str(err.value)


def few_trees(trees: int, rows: int = 40, seed: int = 0) -> tuple[RandomForestClassifier, int]:
    """A forest of ``trees`` trees on ``rows`` rows of noise, and how many of its rows no tree
    left out (counted by hand from each tree's bootstrap draw)."""
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(rows, 3)), np.arange(rows) % 2
    forest = RandomForestClassifier(trees, oob_score=True, random_state=seed)
    with pytest.warns(UserWarning, match="do not have OOB scores"):
        forest.fit(X, y)
    left_out = np.zeros(rows, dtype=int)
    for tree in forest.estimators_:
        left_out[_generate_unsampled_indices(tree.random_state, rows, rows, None)] += 1
    return forest, int((left_out == 0).sum())


def test_rows_that_no_tree_left_out_are_found_though_scikit_learn_scores_them_zero():
    forest, stuck = few_trees(3)
    assert stuck == 9  # the issue's 3-tree forest on 40 rows
    found = never_out_of_bag(forest)
    assert len(found) == stuck
    assert (forest.oob_decision_function_[found] == 0).all()  # 0/0 written as 0, not NaN
    with pytest.raises(SettingError) as err:
        oob_proba(forest, 2)
    assert err.value.param == "crossfit"
    assert "9 of 40 training rows are in the bootstrap sample of all 3 trees" in str(err.value)
    assert f"n_estimators={oob_trees_needed(40)} or more" in str(err.value)


@pytest.mark.filterwarnings("ignore:Some inputs do not have OOB scores")
def test_the_selection_teachers_out_of_bag_rows_are_checked_too():
    """--select-c nested with oob: each selection fold's bagged teacher must cover its rows."""
    y = np.arange(40) % 2
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)), columns=list("abc"))
    plan = selection_plan(stratified_folds(y, 3, 0), "oob")
    with pytest.raises(SettingError, match="bootstrap sample of all 3 trees"):
        selection_proba(
            lambda i: make_teacher("rf", {"n_estimators": 3, "oob_score": True}, 1, i),
            X, y, 2, plan, 3, "oob",
        )  # fmt: skip


@pytest.mark.parametrize("trees", [1, 3, 10])
@pytest.mark.parametrize("select_c", ["paper", "nested"])
def test_too_few_trees_for_their_rows_are_refused_before_any_fit(trees, select_c):
    """40 rows (30 for training) need 23 trees for every row to be out of bag at least once,
    but for a chance of 1 in 1,000."""
    with pytest.raises(SettingError) as err:
        kdcli.prepare_fit(
            "synthetic:binary?n=40", teacher="rf", crossfit="oob", select_c=select_c,
            teacher_param={"n_estimators": trees}, student="tree", sizes=[4],
        )  # fmt: skip
    assert err.value.param == "crossfit"
    message = str(err.value)
    assert f"crossfit oob: {trees} tree(s) are too few for 30 training rows" in message
    assert "use n_estimators=23 or more for the rf teacher, or crossfit folds" in message


def test_enough_trees_and_modes_without_cross_fitting_are_not_refused():
    settings = dict(teacher="rf", crossfit="oob", student="tree", sizes=[4])
    kdcli.prepare_fit("synthetic:binary?n=40", teacher_param={"n_estimators": 23}, **settings)
    kdcli.prepare_fit(
        "synthetic:binary?n=40", teacher_param={"n_estimators": 3}, modes="raw,vanilla", **settings
    )


@pytest.mark.parametrize(
    ("rows", "drawn", "trees"),
    [(30, 30, 23), (1000, 1000, 31), (10**6, 10**6, 46), (1000, 500, 15)],
)
def test_trees_needed_bound_the_chance_that_a_row_is_never_out_of_bag(rows, drawn, trees):
    q = 1 - (1 - 1 / rows) ** drawn
    assert oob_trees_needed(rows, drawn) == trees
    assert rows * q**trees <= 1e-3 < rows * q ** (trees - 1)


def test_a_forest_without_bootstrap_samples_is_refused_for_oob():
    with pytest.raises(SettingError, match="needs bootstrap samples"):
        check_oob_trees("rf", {"n_estimators": 500, "bootstrap": False}, 100)
    check_oob_trees("rf", {"n_estimators": 500, "max_samples": 0.5}, 100)
