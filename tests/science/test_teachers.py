"""Teachers: parameter names are checked up front (without fitting), models are built in full."""

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import RandomForestClassifier

from kdcli.errors import SettingError
from kdcli.science.crossfit import predict_full
from kdcli.science.encoding import OrdinalCodes
from kdcli.science.stopping import DenseLabels, EarlyStopping, validation_split
from kdcli.science.teachers import (
    OBJECTIVES,
    RESERVED,
    TEACHER_DEFAULTS,
    TEACHERS,
    check_param_names,
    make_teacher,
)
from kdcli.settings import TeacherSettings, fit_settings

# real names each library accepts: LightGBM's own aliases, XGBoost's wrapper and native names
ACCEPTED = {
    "lightgbm": [
        "num_leaves",
        "min_data_in_leaf",
        "min_child_samples",
        "bagging_fraction",
        "subsample",
        "lambda_l1",
        "reg_alpha",
        "num_iterations",
        "eta",
        "max_bin",
        "feature_fraction",
    ],
    "xgboost": [
        "max_depth",
        "eta",
        "lambda",
        "alpha",
        "subsample",
        "colsample_bytree",
        "min_child_weight",
        "max_bin",
        "gamma",
        "max_leaves",
    ],
    "rf": ["max_features", "min_samples_leaf", "criterion", "max_depth", "bootstrap"],
}
UNKNOWN = {
    "lightgbm": ["num_leafs", "max_features"],
    "xgboost": ["num_leaves", "min_samples_leaf"],
    "rf": ["learning_rate", "num_leaves"],
}


@pytest.mark.parametrize("name", TEACHERS)
def test_real_parameter_names_are_accepted(name):
    """Every documented name (and LightGBM alias) must pass, or users could not tune teachers."""
    check_param_names(name, ACCEPTED[name])


@pytest.mark.parametrize("name", TEACHERS)
def test_unknown_names_are_refused_naming_the_key(name):
    """A typo must fail before any fit, naming the setting and the bad key."""
    for key in UNKNOWN[name]:
        with pytest.raises(SettingError) as err:
            check_param_names(name, ["max_depth", key])
        assert err.value.param == "teacher_param"
        assert f"'{key}'" in str(err.value)
        assert name in str(err.value)


@pytest.mark.parametrize("name", TEACHERS)
@pytest.mark.parametrize("key", sorted(RESERVED))
def test_names_kd_sets_itself_are_refused(name, key):
    """Seeds and threads come from --seed and --threads; an override would break repeats."""
    with pytest.raises(SettingError, match="set by kd") as err:
        check_param_names(name, [key])
    assert err.value.param == "teacher_param"
    assert err.value.option == "--teacher-param"


@pytest.mark.parametrize("name", TEACHERS)
@pytest.mark.parametrize("key", sorted(OBJECTIVES))
def test_objectives_are_refused(name, key):
    """A teacher must stay a probabilistic classifier whatever library it is."""
    with pytest.raises(SettingError, match="probabilistic classifier") as err:
        check_param_names(name, [key])
    assert err.value.param == "teacher_param"


def test_an_unknown_teacher_is_refused_as_the_teacher_setting():
    """The error must name --teacher, not --teacher-param."""
    with pytest.raises(SettingError) as err:
        check_param_names("catboost", [])
    assert err.value.param == "teacher"
    assert "lightgbm" in str(err.value)


@pytest.mark.parametrize("key", ["random_seed", "num_thread", "nthreads", "loss"])
def test_lightgbm_aliases_of_reserved_names_are_refused(key):
    """An alias of a reserved name reaches LightGBM all the same: random_seed overrides --seed
    (so repeats differ by nothing), loss=regression replaces the classifier's objective."""
    with pytest.raises(SettingError):
        check_param_names("lightgbm", [key])


def test_checking_names_fits_nothing_and_ignores_values(monkeypatch):
    """Names are checked without a fit (a fit could start an OpenMP pool before workers fork);
    values are the library's business, so an invalid one passes here and fails only at fit."""

    def no_fit(*_args, **_kwargs):
        raise AssertionError("check_param_names fitted a model")

    for cls in (lightgbm.LGBMClassifier, xgboost.XGBClassifier, RandomForestClassifier):
        monkeypatch.setattr(cls, "fit", no_fit)
    check_param_names("lightgbm", {"num_leaves": -5, "learning_rate": "fast"})
    check_param_names("xgboost", {"max_depth": -5})
    check_param_names("rf", {"n_estimators": -5})
    spec = fit_settings(teacher="lightgbm", teacher_param={"num_leaves": -5})
    assert spec.teacher.params == {"num_leaves": -5}
    monkeypatch.undo()

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = make_teacher("lightgbm", spec.teacher.full_params, n_jobs=1, random_state=0)
    with pytest.raises(lightgbm.basic.LightGBMError):
        model.fit(X, y)


def test_full_params_merge_defaults_and_overrides():
    """Overrides win, other defaults stay, and the shared defaults are never modified."""
    spec = TeacherSettings("lightgbm", {"num_leaves": 15, "min_child_samples": 3})
    full = spec.full_params
    assert full == {**TEACHER_DEFAULTS["lightgbm"], "num_leaves": 15, "min_child_samples": 3}
    assert full["learning_rate"] == 0.1
    full["n_estimators"] = 1
    assert TEACHER_DEFAULTS["lightgbm"]["n_estimators"] == 400
    assert TEACHER_DEFAULTS["lightgbm"]["num_leaves"] == 63
    assert TeacherSettings("rf").full_params == {"n_estimators": 500}


def test_scoped_overrides_reach_only_their_teacher():
    """TEACHER.KEY=V applies to that teacher only; KEY=V to all of them."""
    spec = fit_settings(
        teacher="lightgbm,xgboost", teacher_param=["xgboost.max_depth=3", "eta=0.2"]
    )
    lgb, xgb = spec.teachers
    assert "max_depth" not in lgb.full_params
    assert lgb.full_params["eta"] == 0.2
    assert xgb.full_params["max_depth"] == 3
    assert xgb.full_params["n_estimators"] == TEACHER_DEFAULTS["xgboost"]["n_estimators"]


def _estimator(model):
    """The library model inside kd's wrappers."""
    if isinstance(model, DenseLabels):
        model = model.estimator
    if isinstance(model, EarlyStopping):
        return model.estimator
    if hasattr(model, "steps"):
        return model.steps[-1][1]
    return model


@pytest.mark.parametrize("name", TEACHERS)
def test_make_teacher_builds_the_full_model_and_fits(name):
    """The built model carries every default, the override, kd's seed and threads, and learns."""
    X, y = load_iris(return_X_y=True)
    params = TeacherSettings(name, {"n_estimators": 10}).full_params
    model = make_teacher(name, params, n_jobs=1, random_state=7)
    got = _estimator(model).get_params()
    stopping = {"early_stopping_rounds", "validation_fraction"}
    for key, value in params.items():
        if key not in stopping:  # those two belong to kd's EarlyStopping
            assert got[key] == value, key
    if name != "rf":
        inner = model.estimator if isinstance(model, DenseLabels) else model
        assert inner.rounds == params["early_stopping_rounds"]
        assert inner.validation_fraction == params["validation_fraction"]
    assert got["n_jobs"] == 1
    assert got["random_state"] == 7

    model.fit(X, y)
    P = np.asarray(model.predict_proba(X), dtype=float)
    assert P.shape == (150, 3)
    assert np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(P.argmax(axis=1) == y) > 0.9


def test_rf_teacher_encodes_categorical_columns():
    """scikit-learn forests need numbers: the rf teacher integer-codes categoricals itself."""
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], size=200)
    X = pd.DataFrame(
        {"colour": pd.Categorical(colour), "x": rng.normal(size=200)},
    )
    y = (colour == "red").astype(int)
    model = make_teacher("rf", {"n_estimators": 10}, n_jobs=1, random_state=0)
    assert isinstance(model.steps[0][1], OrdinalCodes)
    P = model.fit(X, y).predict_proba(X)
    assert P.shape == (200, 2)
    assert np.mean(P.argmax(axis=1) == y) == 1.0  # the category decides the label exactly


def test_dense_labels_keep_the_original_classes():
    """A cross-fitting fold may lack class 1 of {0, 1, 2}: XGBoost fits on dense labels, while
    classes_ keeps {0, 2} so predict_full puts the columns back in place."""
    X, y3 = make_classification(
        n_samples=120, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    keep = y3 != 1
    X, y = X[keep], y3[keep]
    assert set(np.unique(y)) == {0, 2}
    params = {**TEACHER_DEFAULTS["xgboost"], "n_estimators": 10}
    model = make_teacher("xgboost", params, n_jobs=1, random_state=0)
    assert isinstance(model, DenseLabels)
    model.fit(X, y)
    assert model.classes_.tolist() == [0, 2]
    P = model.predict_proba(X)
    assert P.shape == (len(y), 2)
    assert np.mean(model.classes_[P.argmax(axis=1)] == y) > 0.9

    full = predict_full(model, X, n_classes=3)
    assert full.shape == (len(y), 3)
    assert np.all(full[:, 1] == 0)
    np.testing.assert_allclose(full[:, [0, 2]], P / P.sum(axis=1, keepdims=True))


def test_validation_split_is_stratified_disjoint_and_keeps_lone_rows():
    """Every class keeps its share in the validation part; a class of one row stays in the
    fitting part, so the stopped model still knows it."""
    y = np.array([0] * 60 + [1] * 30 + [2] * 9 + [3])
    fit_idx, val_idx = validation_split(y, 0.2, seed=0)
    assert np.intersect1d(fit_idx, val_idx).size == 0
    assert np.union1d(fit_idx, val_idx).tolist() == list(range(len(y)))
    assert 99 in fit_idx
    assert np.bincount(y[val_idx], minlength=4).tolist() == [12, 6, 2, 0]
    again, _ = validation_split(y, 0.2, seed=0)
    np.testing.assert_array_equal(fit_idx, again)


def test_too_few_rows_to_hold_out_fit_every_row_for_all_rounds():
    y = np.array([0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="too few"):
        validation_split(y, 0.8, seed=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        validation_split(y, 1.5, seed=0)
    X = np.arange(12.0).reshape(6, 2)
    params = {**TEACHER_DEFAULTS["lightgbm"], "n_estimators": 7, "validation_fraction": 0.8}
    model = make_teacher("lightgbm", {**params, "min_child_samples": 1}, 1, 0).fit(X, y)
    assert model.n_rounds_ == 7
    assert model.predict_proba(X).shape == (6, 2)


def _noisy_logistic(n: int, seed: int):
    """Binary data with known p0 = sigmoid(x0 + x1): a flexible booster run for a fixed, large
    number of rounds overfits its probabilities here."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    p0 = 1 / (1 + np.exp(-(X[:, 0] + X[:, 1])))
    return X, (rng.random(n) < p0).astype(int), p0


def _kl(p0, p):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(np.mean(p0 * np.log(p0 / p) + (1 - p0) * np.log((1 - p0) / (1 - p))))


@pytest.mark.parametrize("name", ["lightgbm", "xgboost"])
def test_early_stopping_teacher_refits_on_all_rows_and_beats_fixed_rounds(name):
    """The rounds are chosen on a validation part, then the teacher is refitted on every row
    with that many rounds; its excess risk against the known p0 is far below that of the same
    teacher run for all its rounds."""
    X, y, _ = _noisy_logistic(800, seed=1)
    X_test, _, p0 = _noisy_logistic(20_000, seed=2)
    params = {**TEACHER_DEFAULTS[name], "n_estimators": 500}
    fixed = make_teacher(name, {**params, "early_stopping_rounds": None}, 1, 0).fit(X, y)
    stopped = make_teacher(name, params, n_jobs=1, random_state=0).fit(X, y)
    inner = stopped.estimator_ if isinstance(stopped, DenseLabels) else stopped
    assert isinstance(inner, EarlyStopping)
    assert 1 <= inner.n_rounds_ < 200
    assert inner.estimator_.get_params()["n_estimators"] == inner.n_rounds_
    kl_fixed = _kl(p0, fixed.predict_proba(X_test)[:, 1])
    kl_stopped = _kl(p0, stopped.predict_proba(X_test)[:, 1])
    assert kl_stopped < 0.5 * kl_fixed, (kl_stopped, kl_fixed)


def test_early_stopping_is_deterministic_and_off_without_rounds():
    X, y, _ = _noisy_logistic(400, seed=3)
    params = TEACHER_DEFAULTS["lightgbm"]
    a = make_teacher("lightgbm", params, 1, 5).fit(X, y).predict_proba(X)
    b = make_teacher("lightgbm", params, 1, 5).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    plain = make_teacher("lightgbm", {**params, "early_stopping_rounds": 0}, 1, 5)
    assert isinstance(plain, lightgbm.LGBMClassifier)


def test_validation_fraction_is_a_boosted_teachers_setting():
    check_param_names("lightgbm", ["validation_fraction", "early_stopping_rounds"])
    check_param_names("xgboost", ["validation_fraction", "early_stopping_rounds"])
    with pytest.raises(SettingError, match="validation_fraction"):
        check_param_names("rf", ["validation_fraction"])
