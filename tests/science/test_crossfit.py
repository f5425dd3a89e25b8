"""Cross-fitting really is out-of-fold; teachers are fit once per configuration."""

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neighbors import KNeighborsClassifier

from kdcli.science.crossfit import out_of_fold_proba, stratified_folds, teacher_predictions
from kdcli.science.targets import one_hot


class Memoriser(ClassifierMixin, BaseEstimator):
    """A teacher that remembers each training row's label by its id (column 0) and knows nothing
    else: seen rows get their label with probability 1, unseen rows the class frequencies."""

    def fit(self, X, y):
        X = np.asarray(X)
        self.classes_ = np.unique(y)
        self.memory_ = dict(zip(X[:, 0].astype(int).tolist(), y.tolist(), strict=True))
        self.prior_ = np.bincount(y, minlength=len(self.classes_)) / len(y)
        return self

    def predict_proba(self, X):
        X = np.asarray(X)
        out = np.tile(self.prior_, (len(X), 1))
        for i, row_id in enumerate(X[:, 0].astype(int)):
            if row_id in self.memory_:
                out[i] = np.eye(len(self.classes_))[self.memory_[row_id]]
        return out


def _noise_data(n=300, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.arange(n), rng.normal(size=n)])
    y = rng.integers(0, k, size=n)  # labels carry no signal: only memory can predict them
    return X, y


def test_memorising_teacher_vanilla_recalls_crossfit_cannot():
    X, y = _noise_data()
    folds = stratified_folds(y, 5, seed=0)
    preds = teacher_predictions(Memoriser, X, y, X[:10], 3, folds)
    y1h = one_hot(y, 3)
    np.testing.assert_array_equal(preds.in_sample, y1h)  # vanilla: labels by memory
    assert not np.any(np.all(preds.out_of_fold == y1h, axis=1))  # no row recalled out of fold
    assert np.all(preds.out_of_fold.max(axis=1) < 0.6)  # only the class prior is left


def test_folds_partition_the_rows_and_are_stratified():
    _, y = _noise_data(n=500)
    folds = stratified_folds(y, 5, seed=3)
    held = np.concatenate([h for _, h in folds])
    np.testing.assert_array_equal(np.sort(held), np.arange(500))
    for fit_idx, held_idx in folds:
        assert not set(fit_idx) & set(held_idx)
        assert (
            np.abs(
                np.bincount(y[held_idx], minlength=3) / len(held_idx)
                - np.bincount(y, minlength=3) / 500
            ).max()
            < 0.02
        )


def test_one_nearest_neighbour_teacher_on_noise():
    """A real memorising learner: in-sample argmax equals every label, out-of-fold is chance."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = rng.integers(0, 2, size=400)
    folds = stratified_folds(y, 5, seed=1)
    preds = teacher_predictions(lambda: KNeighborsClassifier(n_neighbors=1), X, y, X[:5], 2, folds)
    assert np.mean(preds.in_sample.argmax(axis=1) == y) == 1.0
    assert 0.35 < np.mean(preds.out_of_fold.argmax(axis=1) == y) < 0.65


def test_lightgbm_teacher_predictions_are_deterministic_and_complete():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    y = (X["a"] + rng.normal(scale=0.5, size=300) > 0).astype(int).to_numpy()

    def make():
        return LGBMClassifier(n_estimators=30, verbose=-1, random_state=0, n_jobs=1)

    folds = stratified_folds(y, 3, seed=0)
    a = teacher_predictions(
        make, X.iloc[:200], y[:200], X.iloc[200:], 2, stratified_folds(y[:200], 3, 0)
    )
    b = teacher_predictions(
        make, X.iloc[:200], y[:200], X.iloc[200:], 2, stratified_folds(y[:200], 3, 0)
    )
    np.testing.assert_array_equal(a.out_of_fold, b.out_of_fold)
    np.testing.assert_array_equal(a.test, b.test)
    for P in (a.in_sample, a.out_of_fold, a.test):
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert a.in_sample.shape == (200, 2) and a.test.shape == (100, 2)
    # the full-data teacher is the one that predicts the test rows
    full = make().fit(X.iloc[:200], y[:200])
    np.testing.assert_allclose(a.test, full.predict_proba(X.iloc[200:]))
    # out-of-fold rows differ from in-sample ones (other teachers made them)
    assert np.abs(a.out_of_fold - a.in_sample).mean() > 0.01
    assert len(folds) == 3


def test_missing_class_in_a_fold_gets_a_zero_column():
    X, y = _noise_data(n=60, k=3)
    y = y.copy()
    y[:] = np.where(y == 2, 1, y)
    folds = stratified_folds(y, 3, 0)
    oof = out_of_fold_proba(Memoriser, X, y, 3, folds)
    assert oof.shape == (60, 3)
    np.testing.assert_array_equal(oof[:, 2], 0.0)


def test_without_cross_fit_modes_only_the_full_data_teacher_is_fit():
    X, y = _noise_data()
    fits = []

    class Counting(Memoriser):
        def fit(self, X, y):
            fits.append(len(y))
            return super().fit(X, y)

    preds = teacher_predictions(
        Counting, X, y, X[:10], 3, stratified_folds(y, 5, 0), cross_fit=False
    )
    assert fits == [300] and preds.out_of_fold is None
    np.testing.assert_array_equal(preds.in_sample, one_hot(y, 3))


def test_a_forest_teacher_on_several_threads_predicts_the_same_bits():
    """scikit-learn sums a forest's trees as its threads finish; kd sums them in order, so a
    multi-threaded teacher gives every target, and every student, the numbers of the seed."""
    from kdcli.data.synthetic import make_synthetic
    from kdcli.science.crossfit import predict_full
    from kdcli.science.teachers import make_teacher

    X, y, _ = make_synthetic("binary", 3000, 8, 0.2, seed=0)
    one = make_teacher("rf", {"n_estimators": 200, "max_depth": 6}, 1, 7).fit(X, y)
    want = predict_full(one, X, 2)
    for _ in range(5):
        many = make_teacher("rf", {"n_estimators": 200, "max_depth": 6}, 2, 7).fit(X, y)
        np.testing.assert_array_equal(predict_full(many, X, 2), want)
    assert many[-1].n_jobs == 2  # the teacher keeps its threads for what comes next


def test_fits_keep_their_order_and_trace_each_fit_with_its_stage():
    """Fits side by side return in the order of their items, each traced once, in one batch."""
    from kdcli.science import budget
    from kdcli.science.crossfit import fits

    with budget.tracing() as trace:
        got = fits(lambda k: k * k, range(-1, 5), 3, lambda k: "a" if k < 0 else "b")
        fits(lambda k: k, [7], 1, "c")
    assert got == [1, 0, 1, 4, 9, 16]
    assert sorted((f["batch"], f["stage"], f["label"]) for f in trace["fits"]) == [
        (0, "a", "-1"),
        *[(0, "b", str(k)) for k in range(5)],
        (1, "c", "7"),
    ]


def test_a_forest_teacher_on_the_threads_left_free_gives_the_same_predictions():
    """Under a study's core budget a forest teacher runs on the tokens that are free, here one
    of two: the same probabilities, to the bit, as on two threads without a budget."""
    import multiprocessing as mp

    from kdcli.data.synthetic import make_synthetic
    from kdcli.science import budget
    from kdcli.science.teachers import make_teacher
    from kdcli.study.tokens import TokenBroker, TokenClient

    X, y, _ = make_synthetic("binary", 1500, 6, 0.2, seed=0)
    folds = stratified_folds(y[:1000], 3, 0)
    params = {"n_estimators": 60, "max_depth": 5}

    def run():
        built = []

        def make(k: int = -1):
            model = make_teacher("rf", params, budget.held() or 2, 7 + k)
            built.append(model[-1].n_jobs)
            return model

        with budget.tracing() as trace:
            preds = teacher_predictions(
                make,
                X[:1000],
                y[:1000],
                X[1000:],
                2,
                folds,
                n_jobs=1,
                fold_teacher=make,
                fit_threads=2,
                elastic=True,
            )
        return preds, built, trace["fits"]

    free, built_free, _ = run()
    broker = TokenBroker(mp.get_context("spawn"), 2)
    try:
        neighbour = TokenClient(broker.connect(), 2)
        budget.set_budget(TokenClient(broker.connect(), 2))
        assert neighbour.acquire(1, 1) == 1  # another worker's fit holds one token
        shared, built_shared, trace = run()
    finally:
        budget.set_budget(None)
        broker.close()
    assert built_free == [2] * 4 and built_shared == [1] * 4
    assert [f["tokens"] for f in trace] == [1] * 4
    for a, b in zip(
        (free.in_sample, free.out_of_fold, free.test),
        (shared.in_sample, shared.out_of_fold, shared.test),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
