"""Our metrics agree with scikit-learn's; the excess risk against p0 is exact."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

from kdcli.science.metrics import classification_metrics, excess_risk, macro_auc, score


def _data(k, n=400, seed=0):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(k), size=n)
    y = np.array([rng.choice(k, p=p) for p in P])
    return y, P


def test_binary_metrics_match_sklearn():
    y, P = _data(2)
    m = classification_metrics(y, P)
    assert m["error"] == pytest.approx(1 - accuracy_score(y, P.argmax(axis=1)))
    assert m["log_loss"] == pytest.approx(log_loss(y, P))
    assert m["brier"] == pytest.approx(brier_score_loss(y, P[:, 1]))
    assert m["brier"] == pytest.approx(np.mean((P[:, 1] - y) ** 2))
    assert m["auc"] == pytest.approx(roc_auc_score(y, P[:, 1]))


def test_multiclass_metrics_match_sklearn():
    y, P = _data(4)
    m = classification_metrics(y, P)
    assert m["error"] == pytest.approx(1 - accuracy_score(y, P.argmax(axis=1)))
    assert m["log_loss"] == pytest.approx(log_loss(y, P))
    assert m["brier"] == pytest.approx(np.mean(np.sum((P - np.eye(4)[y]) ** 2, axis=1)))
    assert m["auc"] == pytest.approx(roc_auc_score(y, P, multi_class="ovr", average="macro"))


def test_macro_auc_skips_a_class_absent_from_the_held_out_rows():
    y, P = _data(4)
    keep = y != 3
    value = macro_auc(y[keep], P[keep])
    expected = np.mean([roc_auc_score(y[keep] == k, P[keep][:, k]) for k in range(3)])
    assert value == pytest.approx(expected)


def test_score_is_a_loss():
    y, P = _data(3)
    assert score("auc", y, P) == pytest.approx(1 - macro_auc(y, P))
    assert score("error", y, P) == pytest.approx(classification_metrics(y, P)["error"])


def test_excess_risk_is_zero_at_p0_and_exact_by_hand():
    _, p0 = _data(3)
    r = excess_risk(p0, p0)
    assert r["p0_mse"] == 0.0 and r["excess_error"] == 0.0 and r["p0_kl"] == pytest.approx(0.0)
    p0 = np.array([[0.7, 0.3], [0.4, 0.6]])
    P = np.array([[0.4, 0.6], [0.2, 0.8]])
    r = excess_risk(P, p0)
    # row 0 predicts class 1: expected error 0.7 vs Bayes 0.3; row 1 right: 0
    assert r["excess_error"] == pytest.approx((0.4 + 0.0) / 2)
    assert r["p0_mse"] == pytest.approx((0.09 * 2 + 0.04 * 2) / 2)
    kl = [
        0.7 * np.log(0.7 / 0.4) + 0.3 * np.log(0.3 / 0.6),
        0.4 * np.log(0.4 / 0.2) + 0.6 * np.log(0.6 / 0.8),
    ]
    assert r["p0_kl"] == pytest.approx(np.mean(kl))
