"""Choosing c and α on a stratified subsample of a large split's training rows (select_rows):
the subsample's folds, its strata, leak-free nested teachers over it, and real fits where the
final students still see every row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kdcli
import kdcli.experiment.split_fit as split_fit
from kdcli.data import load_dataset
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import derived_seed, make_splits
from kdcli.science.crossfit import stratified_folds
from kdcli.science.selection import selection_plan
from kdcli.science.selection_rows import (
    fold_of_rows,
    restrict_folds,
    selection_folds,
    stratified_rows,
)

FIT = {  # small and quick: a 10-tree teacher, 8-leaf trees
    "teacher_param": {"n_estimators": 10},
    "sizes": [8],
    "c_grid": "1e-3,0.1,10",
}


def _labels(n: int, seed: int, p=(0.6, 0.35, 0.05)) -> np.ndarray:
    return np.random.default_rng(seed).choice(len(p), size=n, p=p)


@pytest.mark.parametrize("n", [1, 7, 100, 999, 1000])
def test_stratified_rows_are_n_rows_in_proportion(n):
    strata = _labels(1000, 0, (0.7, 0.2, 0.09, 0.01))
    rows = stratified_rows(strata, n, seed=3)
    assert len(rows) == n and len(np.unique(rows)) == n
    assert np.all(np.diff(rows) > 0)  # sorted indices
    counts, taken = np.bincount(strata), np.bincount(strata[rows], minlength=4)
    if n >= 4:  # every stratum keeps a row, the rest in proportion (to within one row)
        assert taken.min() >= 1
        share = (counts - 1) * (n - 4) / (counts - 1).sum()
        assert np.all(np.abs(taken - 1 - share) < 1)
    else:
        assert np.all(np.abs(taken - counts * n / 1000) < 1)


def test_stratified_rows_follow_the_seed_and_refuse_impossible_sizes():
    strata = _labels(500, 1)
    np.testing.assert_array_equal(stratified_rows(strata, 100, 7), stratified_rows(strata, 100, 7))
    assert not np.array_equal(stratified_rows(strata, 100, 7), stratified_rows(strata, 100, 8))
    for n in (0, 501):
        with pytest.raises(ValueError, match="cannot draw"):
            stratified_rows(strata, n, 0)
    # strata of one row each: every one of them, however the quotas round
    np.testing.assert_array_equal(stratified_rows(np.arange(5), 5, 0), np.arange(5))


def test_small_splits_keep_their_folds():
    y = _labels(300, 2)
    folds = stratified_folds(y, 5, 0)
    assert selection_folds(folds, y, 300, 0) is folds  # at most max_rows rows: nothing changes
    assert selection_folds(folds, y, None, 0) is folds  # select_rows all


@pytest.mark.parametrize("n_folds", [3, 5])
def test_large_splits_choose_on_the_folds_restricted_to_a_stratified_subsample(n_folds):
    y = _labels(5000, 4)
    folds = stratified_folds(y, n_folds, 11)
    sub = selection_folds(folds, y, 1000, seed=5)
    held = np.concatenate([h for _f, h in sub])
    rows = np.sort(held)
    assert len(rows) == 1000 and len(np.unique(rows)) == 1000  # the held parts partition S
    for (fit, h), (full_fit, full_held) in zip(sub, folds, strict=True):
        assert np.isin(h, full_held).all() and np.isin(fit, full_fit).all()
        np.testing.assert_array_equal(np.sort(np.concatenate([fit, h])), rows)
        share = np.bincount(y[h], minlength=3) / len(h)  # each fold in the classes' proportion
        np.testing.assert_allclose(share, np.bincount(y) / len(y), atol=0.01)
    sizes = [len(h) for _f, h in sub]
    assert max(sizes) - min(sizes) <= 3  # folds of equal size, to a row per class
    again = selection_folds(folds, y, 1000, seed=5)
    for a, b in zip(sub, again, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_fold_of_rows_and_restrict_folds_on_a_hand_made_partition():
    folds = [(np.array([2, 3]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3]))]
    np.testing.assert_array_equal(fold_of_rows(folds, 4), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="cover every row"):
        fold_of_rows(folds, 5)
    sub = restrict_folds(folds, np.array([1, 3]), 4)
    assert [(f.tolist(), h.tolist()) for f, h in sub] == [([3], [1]), ([1], [3])]


@pytest.mark.parametrize("source", ["out_of_fold", "oob", "in_sample"])
def test_nested_teachers_of_the_full_folds_serve_the_subsample_leak_free(source):
    """--select-c nested: the teachers are planned on the full folds; on the subsample's fold j
    none saw a row it holds out, and every row it fits on has its targets."""
    y = _labels(2000, 6)
    folds = stratified_folds(y, 5, 1)
    sub = selection_folds(folds, y, 400, seed=2)
    plan = selection_plan(folds, source)
    for j, (fit, held) in enumerate(sub):
        served = [rows for t in plan for k, rows in t.serves if k == j]
        assert all(
            not np.intersect1d(t.train, held).size for t in plan for k, _r in t.serves if k == j
        )
        assert np.isin(fit, np.concatenate(served)).all()


def test_run_split_chooses_on_the_subsample_and_fits_the_final_students_on_every_row(
    monkeypatch,
):
    ds = load_dataset("synthetic:binary?n=1200&seed=3")  # 900 training rows
    fit = kdcli.fit_settings(modes="crossfit,corrected", select_rows=300, **FIT)
    split = make_splits(ds, fit)[0]
    seen: list[int] = []
    choose = split_fit.select_c

    def spy(fit_predict, y, y1h, p, folds, *args, **kwargs):
        seen.append(sum(len(h) for _f, h in folds))
        assert len(y) == len(split.train)  # indices into every training row
        return choose(fit_predict, y, y1h, p, folds, *args, **kwargs)

    monkeypatch.setattr(split_fit, "select_c", spy)
    run_split(ds, split, fit, fit.teacher, threads=1)
    assert seen == [300]
    y_train = ds.y[split.train]
    expected = selection_folds(
        stratified_folds(y_train, 5, split.seed),
        y_train,
        300,
        derived_seed(split.seed, "select-rows"),
    )
    assert sum(len(h) for _f, h in expected) == 300

    # one candidate c: the same c either way, so the final students are the same fits
    one = {**FIT, "c_grid": "0.1"}
    sub = kdcli.fit(ds, threads=1, select_rows=300, **one).results
    full = kdcli.fit(ds, threads=1, select_rows="all", **one).results
    pd.testing.assert_frame_equal(sub, full)


@pytest.mark.parametrize("select_c", ["paper", "nested"])
def test_a_subsample_moves_only_the_choice_of_c(select_c):
    ds = load_dataset("synthetic:multiclass?n=900&k=3&seed=4")  # 675 training rows
    runs = {
        rows: kdcli.fit(
            ds,
            threads=1,
            select_rows=rows,
            select_c=select_c,
            student="tree,rf",
            modes="raw,crossfit,corrected",
            **{**FIT, "sizes": {"tree": [8], "rf": [1, 3]}},
        ).results
        for rows in (200, 0)
    }
    sub, full = runs[200], runs[0]
    same = sub["mode"] != "corrected"  # the teacher and students that choose nothing
    pd.testing.assert_frame_equal(sub[same], full[same])
    c = sub[sub.metric == "c"]
    assert len(c) == 3 and set(c["value"]) <= {1e-3, 0.1, 10.0}
    again = kdcli.fit(
        ds,
        threads=1,
        select_rows=200,
        select_c=select_c,
        student="tree,rf",
        modes="raw,crossfit,corrected",
        **{**FIT, "sizes": {"tree": [8], "rf": [1, 3]}},
    ).results
    pd.testing.assert_frame_equal(sub, again)  # the subsample follows the split's seed


def test_datasets_within_select_rows_give_the_same_numbers_as_every_row():
    """The default (100,000) on a small dataset: the records of select_rows all, number for
    number, mixed mode's α included."""
    kw = {**FIT, "modes": "raw,vanilla,crossfit,corrected,mixed", "alpha_grid": "0,0.5,1"}
    default = kdcli.fit("sklearn:breast_cancer", threads=1, **kw).results
    every = kdcli.fit("sklearn:breast_cancer", threads=1, select_rows="all", **kw).results
    pd.testing.assert_frame_equal(default, every)
    assert kdcli.fit_settings().select_rows == 100_000
