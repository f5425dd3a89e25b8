"""Mode mixed: t = α y + (1 − α) p̂, α chosen by the cross-validation that chooses c."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kdcli
from kdcli.data.synthetic import make_synthetic
from kdcli.science.correction import select_alpha
from kdcli.science.crossfit import stratified_folds
from kdcli.science.students import fit_student, make_student
from kdcli.science.targets import ALPHA_GRID, log_target, make_targets, mixed, one_hot


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
