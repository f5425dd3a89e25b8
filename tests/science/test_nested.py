"""Nested students: the first k rounds of a K-round booster are the k-round booster, and the
first k − 1 splits of a best-first tree are the tree of k leaves."""

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


def _node_fields(model) -> dict:
    state = model.tree_.__getstate__()
    nodes = state["nodes"]  # a record array with padding: compared field by field
    return {
        "depth": state["max_depth"],
        "values": state["values"],
        **{f: nodes[f] for f in nodes.dtype.names},
    }


@pytest.mark.parametrize("seed", range(6))
def test_a_trees_prefix_is_the_smaller_tree_node_for_node(seed):
    rng = np.random.default_rng(seed)
    rows = [40, 300, 1500][seed % 3]  # 40: fewer rows than 64 or 512 leaves
    X = rng.normal(size=(rows, 5))
    if seed % 2:  # ties: equal values within a feature and two equal features
        X = np.round(X)
        X[:, 4] = X[:, 0]
    T = rng.random((rows, 1 + seed % 3)) ** 3
    big = fit_student(make_student("tree", 512, 1, seed), X, T)
    for k in (2, 8, 64, 511, 512):
        small = fit_student(make_student("tree", k, 1, seed), X, T)
        prefix = prefix_model(big, k)
        want, got = _node_fields(small), _node_fields(prefix)
        assert want.keys() == got.keys()
        for field in want:
            np.testing.assert_array_equal(got[field], want[field], err_msg=f"{k} leaves: {field}")
        assert prefix.get_params() == small.get_params()
        assert model_size(prefix) == model_size(small)
        np.testing.assert_array_equal(prefix.predict(X[::-1]), small.predict(X[::-1]))
    eight, sixty_four = prefix_predictions(big, X, [8, 64])
    np.testing.assert_array_equal(eight, prefix_model(big, 8).predict(X))
    np.testing.assert_array_equal(sixty_four, prefix_model(big, 64).predict(X))


def test_a_tree_holds_no_larger_tree_and_a_full_tree_no_prefix():
    X, y = make_classification(400, 6, random_state=0)
    T = np.column_stack([y, 1 - y]).astype(float)
    with pytest.raises(ValueError, match="no prefix of size 65"):
        prefix_model(fit_student(make_student("tree", 64, 1, 0), X, T), 65)
    with pytest.raises(ValueError, match="depth first"):
        prefix_model(fit_student(make_student("tree", "full", 1, 0), X, T), 8)


def test_nested_tree_students_equal_separate_fits_with_fewer_fits():
    X, y = make_classification(600, 6, n_informative=4, n_classes=3, flip_y=0.1, random_state=2)
    ds = Dataset("synth", pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]), y, ["a", "b", "c"])
    settings = dict(teacher_param={"n_estimators": 30}, folds=3, c_grid=[0.01, 1])
    together_spec = fit_settings(sizes=[4, 16, 64, "full"], **settings)
    split = make_splits(ds, together_spec)[0]
    together = run_split(ds, split, together_spec, together_spec.teacher, threads=2)
    mine = pd.DataFrame(together.records).drop(columns="seed", errors="ignore")
    fits_alone = 0
    for size in (4, 16, 64, "full"):
        alone_spec = fit_settings(sizes=[size], **settings)
        alone = run_split(ds, split, alone_spec, alone_spec.teacher, threads=1)
        fits_alone += alone.timings["fits"] - 4  # less its teachers (full data, 3 folds)
        theirs = pd.DataFrame(alone.records).drop(columns="seed", errors="ignore")
        theirs = theirs[theirs.student == "tree"].reset_index(drop=True)
        ours = mine[(mine.student == "tree") & (mine["size"] == str(size))].reset_index(drop=True)
        assert len(theirs) > 20
        pd.testing.assert_frame_equal(ours, theirs)  # in the same order, too
    # the tree of 64 leaves serves 4 and 16: two models a mode and c where there were four
    assert together.timings["fits"] - 4 < 0.6 * fits_alone
