"""Bounds of numeric settings, checked when the spec is made (no data, no fit): sizes per
student family, counts in teacher parameters, seeds with their derived seeds, fold numbers,
and NaN/inf anywhere a number is read."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kdcli
from kdcli.errors import SettingError
from kdcli.science.students import (
    MAX_LEAVES,
    MAX_SIZES,
    MAX_TREES,
    check_memory,
    fit_student,
    forest_bytes,
    make_student,
)
from kdcli.settings import fit_settings, values
from kdcli.settings.execution import Execution, available_memory
from kdcli.settings.fit_check import MAX_REPEATS, MAX_SEED
from kdcli.settings.param_text import teacher_param


@pytest.mark.parametrize(
    ("student", "size", "words"),
    [
        ("tree", 10**8, ["at most 10,000,000 leaves", "sizes 10000000 or less", "full"]),
        ("tree", 10**12, ["at most 10,000,000 leaves"]),  # was a MemoryError of 128 TB
        ("rf", 10**5, ["at most 10,000 trees", "sizes 10000 or less"]),
        ("gbdt", 10**8, ["at most 10,000 rounds"]),
        ("linear", 10**400, ["at most 1,000,000,000,000"]),  # was OverflowError in 1/size
    ],
)
def test_sizes_past_their_family_bound_are_refused(student, size, words):
    with pytest.raises(SettingError) as err:
        fit_settings(student=student, sizes=str(size))
    for word in words:
        assert word in str(err.value), str(err.value)


@pytest.mark.parametrize("family", list(MAX_SIZES))
def test_the_bound_itself_is_accepted(family):
    spec = fit_settings(student=family, sizes=MAX_SIZES[family])
    assert spec.sizes[family] == (MAX_SIZES[family],)


def test_a_tree_of_more_leaves_than_rows_is_grown_as_the_one_leaf_per_row_tree():
    """The same tree (so the same numbers) as without the cap, but scikit-learn no longer
    allocates room for every leaf asked for: the leaves are capped at the rows."""
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(120, 4)), rng.random((120, 3))
    capped = fit_student(make_student("tree", MAX_LEAVES, 1, 0), X, T)
    assert capped.max_leaf_nodes == 120
    free = make_student("tree", 5000, 1, 0).fit(X, T)  # the old way: room for 5000 leaves
    a, b = capped.tree_.__getstate__(), free.tree_.__getstate__()
    assert np.array_equal(a["nodes"], b["nodes"]) and np.array_equal(a["values"], b["values"])
    assert np.array_equal(capped.predict(X), free.predict(X))


def test_forest_memory_estimate_is_close_to_a_real_forest():
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(600, 5)), rng.random(600)
    forest = fit_student(make_student("rf", 10, 1, 0), X, T)
    real = sum(
        e.tree_.__getstate__()["nodes"].nbytes + e.tree_.__getstate__()["values"].nbytes
        for e in forest.estimators_
    )
    assert 0.8 * real < forest_bytes(10, 600, 1) < 1.25 * real


def test_a_forest_that_does_not_fit_in_memory_is_refused_with_the_trees_that_do():
    need_one = forest_bytes(1, 50_000, 1)
    with pytest.raises(SettingError) as err:
        check_memory("rf", [10, 5000], 50_000, 1, held=5, available=100 * 5 * need_one)
    text = err.value.render("--sizes")
    assert "--sizes 100 or less for rf" in text and "GiB" in text, text
    check_memory("rf", [100], 50_000, 1, held=5, available=100 * 5 * need_one)  # just fits
    check_memory("rf", [10**4], 50_000, 1, held=5, available=None)  # unknown: not refused
    check_memory("gbdt", [10**4], 50_000, 1, held=5, available=1)  # only forests grow so


def test_prepare_fit_refuses_a_forest_past_the_memory_of_this_machine():
    """Before any fit: 10,000 trees on 75,000 rows and 4 modes need ~350 GB."""
    available = available_memory()
    if available is None or available > 5 * forest_bytes(MAX_TREES, 75_000, 1):
        pytest.skip("this machine could hold the forests")
    with pytest.raises(SettingError) as err:
        kdcli.prepare_fit("synthetic:binary?n=100000", student="rf", sizes=MAX_TREES)
    assert "of memory" in str(err.value) and "or less for rf" in str(err.value)


@pytest.mark.parametrize(
    "param",
    ["n_estimators=20000", "num_trees=20000", "num_boost_round=1e9", "num_leaves=nan"],
)
def test_teacher_counts_are_bounded_and_numbers_finite(param):
    with pytest.raises(SettingError) as err:
        fit_settings(teacher_param=param)
    assert "at most 10,000 trees" in str(err.value) or "finite number" in str(err.value)


def test_rf_teacher_bounds():
    with pytest.raises(SettingError, match="at most 10,000 trees"):
        fit_settings(teacher="rf", teacher_param="n_estimators=100000")
    with pytest.raises(SettingError, match="at most 10,000,000 leaves"):
        fit_settings(teacher="rf", teacher_param="max_leaf_nodes=1000000000000")
    assert fit_settings(teacher="rf", teacher_param="n_estimators=10000").teacher.params == {
        "n_estimators": 10000
    }


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "nan", "-Infinity", "1e999"])
def test_teacher_param_values_must_be_finite(value):
    with pytest.raises(SettingError, match="finite number"):
        fit_settings(teacher_param={"learning_rate": value})
    with pytest.raises(SettingError, match="finite number"):
        fit_settings(teacher_param=f"xgboost.learning_rate={value}", teacher="xgboost")


def test_teacher_param_scalars_still_read_as_before():
    assert teacher_param("num_leaves=31") == ("num_leaves", 31)
    assert teacher_param("learning_rate=0.05") == ("learning_rate", 0.05)
    assert teacher_param("learning_rate=1e-2") == ("learning_rate", 0.01)
    assert teacher_param("extra_trees=True") == ("extra_trees", True)
    assert teacher_param("max_depth=None") == ("max_depth", None)
    assert teacher_param("boosting='dart'") == ("boosting", "dart")
    assert teacher_param("boosting=dart") == ("boosting", "dart")
    assert teacher_param("k={[]: 1}") == ("k", "{[]: 1}")  # was TypeError


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", math.nan, math.inf, "soon"])
def test_timeout_per_unit_is_a_positive_finite_number(value):
    with pytest.raises(SettingError, match="timeout_per_unit must be"):
        Execution(timeout_per_unit=value)


def test_timeout_per_unit_text_becomes_a_number():
    assert Execution(timeout_per_unit="2.5").timeout_per_unit == 2.5  # was kept as text


def test_seeds_and_their_derived_seeds_stay_32_bit():
    assert fit_settings(seed=MAX_SEED).seed == MAX_SEED
    with pytest.raises(SettingError, match="at most 4294967295"):
        fit_settings(seed=MAX_SEED + 1)
    with pytest.raises(SettingError) as err:
        fit_settings(seed=MAX_SEED, repeats=3)
    assert "seeds up to 4294967297" in str(err.value) and "4294967293 or less" in str(err.value)
    assert fit_settings(seed=MAX_SEED - 2, repeats=3).seed == MAX_SEED - 2


def test_repeats_are_bounded_before_the_seed_is_checked():
    # the seed's bound was 2**32 - repeats: a huge --repeats gave "--seed must be at most -..."
    with pytest.raises(SettingError) as err:
        fit_settings(repeats=10**12)
    assert err.value.param == "repeats" and f"at most {MAX_REPEATS}" in str(err.value)


def test_derived_seeds_are_unchanged():
    """seed + repeat, as always: the numbers of existing runs do not move."""
    plan = kdcli.prepare_fit("sklearn:iris", seed=7, repeats=3, student="linear")
    assert [s.seed for s in plan.splits] == [7, 8, 9]


def test_fold_numbers_are_bounded_before_a_list_is_made():
    with pytest.raises(SettingError, match="past 99,999"):
        values.outer_folds("folds_outer", "0-200000")
    assert values.outer_folds("folds_outer", "0-2,5") == [0, 1, 2, 5]


def test_sizes_per_family_group_without_a_family_is_a_spec_error():
    with pytest.raises(SettingError, match="'x' names no student"):
        fit_settings(sizes="tree=8;x")
