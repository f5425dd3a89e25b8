"""kdcli.DistilledClassifier is a scikit-learn classifier: it passes check_estimator and works
in a Pipeline and cross_val_score, on numbers and on frames with categories."""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import kdcli

SMALL = {  # teachers and grids small enough for the checks' many fits
    "teacher_params": {"n_estimators": 20},
    "c_grid": (0.01, 1.0),
    "alpha_grid": (0.0, 0.5, 1.0),
    "select_c": "paper",
    "size": 16,
}


def test_it_passes_every_check_of_check_estimator():
    results = check_estimator(kdcli.DistilledClassifier(**SMALL), on_fail=None)
    failed = [
        (r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"
    ]
    assert len(results) > 40 and failed == []


def test_it_works_in_a_pipeline_and_cross_val_score():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), kdcli.DistilledClassifier(**SMALL, n_jobs=2))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.min() > 0.88, scores
    params = pipe.get_params()
    assert (
        params["distilledclassifier__size"] == 16 and params["distilledclassifier__mode"] == "auto"
    )
    assert clone(pipe).set_params(distilledclassifier__student="linear")[-1].student == "linear"


def test_it_keeps_the_labels_and_reads_categories_and_missing_values(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    colour = rng.choice(["red", "green", "blue"], n)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    y = np.where((colour == "red") ^ (np.nan_to_num(x) > 0.5), "spam", "ham")
    X = pd.DataFrame({"colour": pd.Categorical(colour), "x": x})
    clf = kdcli.DistilledClassifier(**{**SMALL, "mode": "crossfit"}).fit(X, y)
    assert list(clf.classes_) == ["ham", "spam"] and clf.mode_ == "crossfit"
    assert np.mean(clf.predict(X) == y) > 0.9
    assert list(clf.feature_names_in_) == ["colour", "x"]
    saved = kdcli.load_model(clf.model_.save(tmp_path / "m"))
    assert np.array_equal(saved.predict_proba(X), clf.predict_proba(X))
