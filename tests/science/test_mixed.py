"""Mode mixed: t = α y + (1 − α) p̂, α chosen by the cross-validation that chooses c."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kdcli
from kdcli.data.synthetic import make_synthetic
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import derived_seed, make_splits
from kdcli.science.correction import select_alpha
from kdcli.science.crossfit import stratified_folds, take_rows
from kdcli.science.encoding import encode_for, model_names
from kdcli.science.selection import selection_plan, selection_proba
from kdcli.science.students import fit_student, make_student
from kdcli.science.targets import ALPHA_GRID, log_target, make_targets, mixed, one_hot
from kdcli.science.teachers import make_teacher
from kdcli.study.teacher_cache import TeacherCache


def test_the_blend_is_exact_at_both_ends_and_linear_between():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=50)
    y1h = one_hot(rng.integers(0, 3, size=50), 3)
    assert mixed(p, y1h, 1.0).dtype == float
    np.testing.assert_array_equal(mixed(p, y1h, 1.0), y1h)  # bit for bit, not ≈
    assert mixed(p, y1h, 0.0) is p
    np.testing.assert_allclose(mixed(p, y1h, 0.3), 0.3 * y1h + 0.7 * p)
    np.testing.assert_allclose(mixed(p, y1h, 0.3).sum(axis=1), 1.0)  # still probabilities
    for bad in (-0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="alpha"):
            mixed(p, y1h, bad)


def test_on_the_logit_scale_the_blend_is_made_before_the_log():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(2), size=40)
    y1h = one_hot(rng.integers(0, 2, size=40), 2)
    got = make_targets("mixed", y1h, p_vanilla=p, scale="logit", eps=0.01, alpha=0.4)
    np.testing.assert_array_equal(got, log_target(0.4 * y1h + 0.6 * p, 0.01))
    raw = make_targets("raw", y1h, scale="logit", eps=0.01)
    vanilla = make_targets("vanilla", y1h, p_vanilla=p, scale="logit", eps=0.01)
    one = make_targets("mixed", y1h, p_vanilla=p, scale="logit", eps=0.01, alpha=1.0)
    zero = make_targets("mixed", y1h, p_vanilla=p, scale="logit", eps=0.01, alpha=0.0)
    np.testing.assert_array_equal(one, raw)
    np.testing.assert_array_equal(zero, vanilla)
    with pytest.raises(ValueError, match="alpha"):
        make_targets("mixed", y1h, p_vanilla=p)


def _results(student: str, scale: str, alpha: str) -> pd.DataFrame:
    return kdcli.fit(
        "sklearn:breast_cancer",
        threads=1,
        teacher="rf",
        teacher_param={"n_estimators": 20, "max_depth": 3},
        student=student,
        sizes="4",
        modes=f"raw:{scale},vanilla:{scale},mixed:{scale}",
        alpha_grid=alpha,
        repeats=1,
    ).results


@pytest.mark.parametrize(
    ("student", "scale"), [("rf", "prob"), ("tree", "logit"), ("gbdt", "prob")]
)
def test_mixed_at_alpha_one_is_raw_and_at_alpha_zero_is_vanilla_exactly(student, scale):
    """Through kd's whole fit: same targets, same student seed, so the same numbers."""
    for alpha, twin in (("1", "raw"), ("0", "vanilla")):
        res = _results(student, scale, alpha)
        chosen = res[(res["mode"] == f"mixed:{scale}") & (res.metric == "alpha")]
        assert chosen.value.tolist() == [float(alpha)]  # the chosen α is reported
        scores = res[res.metric != "alpha"].pivot_table(
            index="metric", columns="mode", values="value"
        )
        assert len(scores) >= 3  # error, log loss, AUC, ...
        pd.testing.assert_series_equal(
            scores[f"mixed:{scale}"], scores[f"{twin}:{scale}"], check_names=False, rtol=0, atol=0
        )
        other = "vanilla" if twin == "raw" else "raw"
        assert not scores[f"mixed:{scale}"].equals(scores[f"{other}:{scale}"])


def _select(p_hat: np.ndarray, y: np.ndarray, X: np.ndarray, metric: str) -> float:
    folds = stratified_folds(y, 5, seed=0)

    def fit_predict(train, T, held):
        model = fit_student(make_student("tree", 8, 1, 0), X[train], T)
        return [model.predict(X[held])]

    [(alpha, scores)] = select_alpha(
        fit_predict, y, one_hot(y, 2), p_hat, folds, ALPHA_GRID, "prob", 1e-3, metric
    )
    assert set(scores) == set(ALPHA_GRID)
    return alpha


def test_the_cross_validation_leans_on_labels_for_a_wrong_teacher_and_on_p0_itself():
    """Known p0 (binary synthetic design, 20% label noise): a teacher that predicts 1 − p0 gets
    α near 1 (mostly labels), the Bayes probabilities themselves a small α (mostly teacher).
    Seeds 3-6 gave 0.8-1.0 and 0.0-0.5; the bounds leave that room."""
    X, y, p0 = make_synthetic("binary", 1500, 5, 0.2, seed=3)
    for metric in ("log_loss", "auc"):
        assert _select(p0[:, ::-1], y, X, metric) >= 0.8
        assert _select(p0, y, X, metric) <= 0.5


LEAK = {  # a forest teacher that fits its training labels closely, on small noisy data
    "teacher": "rf",
    "teacher_param": {"n_estimators": 30},
    "student": "tree",
    "sizes": [2, 4, 8, 16, 32],
    "modes": "mixed",
}


def _chosen_alpha(ds, select_c: str) -> list[float]:
    res = kdcli.fit(ds, threads=1, select_c=select_c, **LEAK).results
    return (
        res[res.metric == "alpha"]
        .sort_values("size", key=lambda s: s.astype(int))["value"]
        .tolist()
    )


def test_under_nested_alpha_is_chosen_on_teachers_that_never_saw_the_fold():
    """Issue 21, item 9: under --select-c nested, c was chosen on leak-free targets but α on the
    full-data teacher's in-sample p̂, which saw every selection fold. Now fold j's blend uses the
    in-sample p̂ of a teacher trained on the rows outside j (seeded ("alpha-teacher", j)); the
    full-data teacher plays no part (its probabilities are NaN here)."""
    ds = kdcli.load_dataset("synthetic:binary?n=300&noise=0.3&seed=2")
    spec = kdcli.fit_settings(select_c="nested", **LEAK)
    assert spec.teacher_fits == 1 + 5  # the full-data teacher and one per selection fold
    split = make_splits(ds, spec)[0]
    X = model_names(ds.X)
    X_train, y_train = X.iloc[split.train], ds.y[split.train]
    folds = stratified_folds(y_train, 5, split.seed)
    p_select = selection_proba(
        lambda j: make_teacher(
            "rf", spec.teacher.full_params, 1, derived_seed(split.seed, "alpha-teacher", j)
        ),
        X_train,
        y_train,
        2,
        selection_plan(folds, "in_sample"),
        5,
        "in_sample",
    )
    F_train, _ = encode_for("tree", X_train, X.iloc[split.test])
    leak_free = []
    for size in LEAK["sizes"]:

        def fit_predict(train, T, held, size=size):
            student = make_student("tree", size, 1, split.student_seed("tree"))
            fitted = fit_student(student, take_rows(F_train, train), T)
            return [fitted.predict(take_rows(F_train, held))]

        [(alpha, _scores)] = select_alpha(
            fit_predict,
            y_train,
            one_hot(y_train, 2),
            np.full((len(y_train), 2), np.nan),  # the full-data teacher's p̂: unused
            folds,
            ALPHA_GRID,
            p_select=p_select,
        )
        leak_free.append(alpha)
    nested = _chosen_alpha(ds, "nested")
    assert nested == leak_free
    assert nested != _chosen_alpha(ds, "paper")  # the leak moves the choice here: [0, 0, 0, 0.2, 0]


def test_leak_free_alpha_targets_need_every_training_row_of_the_fold():
    y = np.array([0, 1] * 10)
    folds = stratified_folds(y, 2, seed=0)
    p_select = np.full((2, 20, 2), 0.5)
    p_select[0, folds[0][0][0]] = np.nan  # a training row of fold 0 without a probability
    with pytest.raises(ValueError, match="selection fold 0 lacks teacher probabilities"):
        select_alpha(
            lambda train, T, held: [np.zeros(len(held))],
            y,
            one_hot(y, 2),
            np.full((20, 2), 0.5),
            folds,
            (0.0, 1.0),
            p_select=p_select,
        )


def test_a_study_keeps_the_leak_free_alpha_targets_with_its_teacher(tmp_path):
    """The α part is cached beside the c part, under a key of its own: a re-run fits no teacher
    and gives the same numbers."""
    ds = kdcli.load_dataset("synthetic:binary?n=300&seed=5")
    fit = kdcli.fit_settings(
        select_c="nested",
        modes="corrected,mixed",
        sizes=[4],
        teacher_param={"n_estimators": 30},
        c_grid="0.01,1",
        alpha_grid="0,0.5,1",
    )
    assert fit.teacher_fits == 1 + 5 + 10 + 5  # full-data, cross-fit, c's and α's teachers
    split = make_splits(ds, fit)[0]
    store = TeacherCache(tmp_path)
    first = run_split(ds, split, fit, fit.teacher, threads=1, store=store)
    preds = store.get(ds, split, fit.teacher, "5;select_c=nested;alpha=nested;select_folds=5")
    assert preds.select_in_sample.shape == (5, len(split.train), 2)
    assert store.get(ds, split, fit.teacher, "5;select_c=nested;select_folds=5") is None
    again = run_split(ds, split, fit, fit.teacher, threads=1, store=store)
    assert again.timings["teacher_cached"] and again.records == first.records
