"""Seeds: every model of a split draws its own random numbers, the same on every run.

With one seed for all, student tree i of an rf student was grown on the bootstrap rows of teacher
tree i of the rf teacher (the dao2021 preset); the paper's code seeded every fit on its own.
"""

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble._forest import _generate_sample_indices
from sklearn.model_selection import StratifiedKFold

from kdcli.data import load_dataset
from kdcli.data.dataset import Dataset, OuterSplit
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import Split, derived_seed, make_splits
from kdcli.science.students import FAMILIES, fit_student, make_student
from kdcli.science.teachers import make_teacher
from kdcli.settings import fit_settings


def _split(seed: int, n: int = 300) -> Split:
    return Split(repeat=0, fold=0, seed=seed, train=np.arange(n), test=np.arange(0))


def _bootstraps(forest, n_rows: int) -> list[np.ndarray]:
    """The rows each tree of a fitted scikit-learn forest was grown on, as scikit-learn draws
    them from the tree's random_state."""
    return [_generate_sample_indices(t.random_state, n_rows, n_rows, None) for t in forest]


def test_derived_seeds_are_known_numbers_in_range_and_distinct():
    # SeedSequence(0, spawn_key=(b"student" as an integer, b"rf" as an integer)): fixed values
    assert derived_seed(0, "student", "rf") == 1288340795
    assert derived_seed(0, "crossfit-teacher", 0) == 3491401010
    assert derived_seed(0, "student", "rf") == derived_seed(0, "student", "rf")
    split = _split(7)
    seeds = [split.teacher_seed]
    seeds += [split.crossfit_teacher_seed(k) for k in range(10)]
    seeds += [split.student_seed(f) for f in FAMILIES]
    assert len(set(seeds)) == len(seeds)
    for top in (0, 2**32 - 1):
        for seed in (derived_seed(top, "student", f) for f in FAMILIES):
            assert 0 <= seed <= 2**32 - 1 and isinstance(seed, int)
    # another split seed, other seeds: repeats do not share students
    assert _split(8).student_seed("rf") != split.student_seed("rf")


def test_student_and_teacher_bootstrap_rows_differ():
    X, y = make_classification(300, 6, random_state=0)
    split = _split(0)
    teacher = make_teacher("rf", {"n_estimators": 8}, 1, split.teacher_seed).fit(X, y)
    p_hat = teacher.predict_proba(X)[:, 1]
    student = fit_student(make_student("rf", 8, 1, split.student_seed("rf")), X, p_hat)
    teacher_rows = _bootstraps(teacher[-1].estimators_, len(y))
    student_rows = _bootstraps(student.estimators_, len(y))
    for i, (t, s) in enumerate(zip(teacher_rows, student_rows, strict=True)):
        assert not np.array_equal(t, s), f"tree {i} of student and teacher share bootstrap rows"
    # the check sees the old scheme's fault: a student seeded like the teacher shares them all
    shared = fit_student(make_student("rf", 8, 1, split.teacher_seed), X, p_hat)
    for t, s in zip(teacher_rows, _bootstraps(shared.estimators_, len(y)), strict=True):
        np.testing.assert_array_equal(t, s)


def test_cross_fit_teachers_draw_other_bootstraps_than_the_full_data_teacher():
    X, y = make_classification(300, 6, random_state=1)
    split = _split(3)
    full = make_teacher("rf", {"n_estimators": 4}, 1, split.teacher_seed).fit(X, y)
    fold = make_teacher("rf", {"n_estimators": 4}, 1, split.crossfit_teacher_seed(0)).fit(X, y)
    for t, f in zip(full[-1].estimators_, fold[-1].estimators_, strict=True):
        assert t.random_state != f.random_state


def test_a_split_with_rf_teacher_and_rf_student_is_reproducible_and_nested():
    X, y = make_classification(400, 6, n_informative=4, flip_y=0.1, random_state=2)
    ds = Dataset("synth", pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]), y, ["a", "b"])
    settings = dict(
        teacher="rf", teacher_param={"n_estimators": 20}, student="rf", folds=3, c_grid=[0.01, 1]
    )
    spec = fit_settings(sizes=[2, 5], **settings)
    split = make_splits(ds, spec)[0]
    keep = ["size", "mode", "metric", "value"]

    def values(fit) -> pd.DataFrame:
        out = pd.DataFrame(run_split(ds, split, fit, fit.teacher, threads=1).records)
        return out[out.metric != "model_bytes"][keep].reset_index(drop=True)

    first = values(spec)
    pd.testing.assert_frame_equal(first, values(spec))  # same seed, same numbers
    # the student seed does not depend on size: the 2-tree prefix is the 2-tree forest
    alone = values(fit_settings(sizes=[2], **settings))
    pd.testing.assert_frame_equal(
        first[first["size"].isin(["", "2"])].reset_index(drop=True), alone
    )


def _with_official_folds(ds: Dataset, repeats: int, folds: int) -> Dataset:
    """``ds`` with a task's official folds: ``repeats`` shuffles of stratified ``folds``-fold."""
    ds.outer_splits = [
        OuterSplit(r, f, train, test)
        for r in range(repeats)
        for f, (train, test) in enumerate(
            StratifiedKFold(folds, shuffle=True, random_state=r).split(ds.X, ds.y)
        )
    ]
    return ds


def test_the_folds_of_a_repeat_draw_models_of_their_own():
    """Issue 21, item 8: every official fold of a repeat had the seed --seed + repeat, so its
    teacher, students and cross-fit folds drew the same random numbers as the other folds'."""
    ds = _with_official_folds(load_dataset("sklearn:iris"), repeats=2, folds=3)
    splits = make_splits(ds, fit_settings(seed=5, repeats=2))
    assert [(s.repeat, s.fold) for s in splits] == [(r, f) for r in (0, 1) for f in (0, 1, 2)]
    models = [
        seed
        for s in splits
        for seed in (s.teacher_seed, s.crossfit_teacher_seed(0), s.student_seed("rf"))
    ]
    assert len(set(models)) == len(models) == 18  # no two models of any two folds share seeds
    assert splits[4].seed == derived_seed(5 + 1, "fold", 1)  # repeat 1, fold 1
    # a study's unit (one repeat and fold) gets the seed of the same split in a whole run
    (unit,) = make_splits(ds, fit_settings(seed=5, repeats=2), only=(1, 1))
    assert unit.seed == splits[4].seed
    # kd's own splits keep their seeds: --seed + repeat, so their numbers do not move
    own = make_splits(load_dataset("sklearn:iris"), fit_settings(seed=5, repeats=3))
    assert [s.seed for s in own] == [5, 6, 7]
