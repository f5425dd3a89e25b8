"""Our metrics agree with scikit-learn's; the excess risk against p0 is exact."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

import kdcli
from kdcli.experiment.splits import make_splits
from kdcli.records import cell_means, summarise
from kdcli.science.crossfit import predict_full
from kdcli.science.encoding import model_names
from kdcli.science.metrics import classification_metrics, excess_risk, macro_auc, score
from kdcli.science.students import fit_student, make_student
from kdcli.science.targets import (
    floor_proba,
    make_targets,
    one_hot,
    ranking_scores,
    regression_columns,
    to_proba,
)
from kdcli.science.teachers import make_teacher


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


def test_log_loss_is_scikit_learns_to_the_bit_and_refuses_what_it_refuses():
    """kd's log loss skips scikit-learn's checks for speed; its value must not move."""
    from kdcli.science.metrics import log_loss as kd_log_loss

    rng = np.random.default_rng(7)
    for trial in range(300):
        n, k = int(rng.integers(1, 500)), int(rng.integers(2, 12))
        P = rng.dirichlet(np.ones(k) * rng.uniform(0.05, 3), size=n)
        if trial % 3 == 0:  # exact zeros and ones: the clipping decides
            P[rng.random(P.shape) < 0.2] = 0.0
            P[:, 0] += 1e-3
            P /= P.sum(axis=1, keepdims=True)
        if trial % 4 == 0:
            P = P.astype(np.float32)
        y = rng.integers(0, k, n)
        assert kd_log_loss(y, P) == float(log_loss(y, P, labels=np.arange(k))), trial
    y, P = _data(3)
    for bad_P, bad_y in (
        (np.where(P > 0.5, np.nan, P), y),
        (P * 2, y),
        (-P, y),
        (P, np.where(y == 0, 3, y)),
        (P, y[:-1]),
        (P, y + 0.5),
    ):
        with pytest.raises(ValueError):
            log_loss(bad_y, bad_P, labels=np.arange(3))
        with pytest.raises(ValueError):
            kd_log_loss(bad_y, bad_P)


def test_auc_brier_and_error_are_scikit_learns_to_the_bit():
    """kd computes them without scikit-learn's checks for speed; no value may move, not even in
    its last bit: ties of scores (rounded, or a tree's few leaves), float32, a few rows, exact
    zeros and ones, one class much rarer than the others, float16."""
    from kdcli.science.metrics import binary_auc, brier, metric_value

    rng = np.random.default_rng(11)
    for trial in range(400):
        n, k = int(rng.integers(2, 400)), int(rng.integers(2, 7))
        P = rng.dirichlet(np.ones(k) * rng.uniform(0.05, 3), size=n)
        if trial % 3 == 0:  # ties, as a small tree's leaves give
            P = np.round(P, int(rng.integers(1, 3)))
            P[:, 0] += 1.0 - P.sum(axis=1)
            P = np.clip(P, 0, 1)
            P /= P.sum(axis=1, keepdims=True)
        if trial % 4 == 0:
            P = P.astype(np.float32)
        elif trial % 5 == 0:  # kept as float16, as scikit-learn keeps it
            P = P.astype(np.float16)
        y = rng.choice(k, size=n, p=rng.dirichlet(np.ones(k)))
        y[: min(n, k)] = np.arange(min(n, k))  # every class at least once where rows allow
        labels = np.arange(k)
        expected_error = 1.0 - accuracy_score(y, P.argmax(axis=1))
        assert metric_value("error", y, P, None) == expected_error, trial
        sk_brier = brier_score_loss(y, P[:, 1]) if k == 2 else brier_score_loss(y, P, labels=labels)
        assert brier(y, P) == float(sk_brier), trial
        for c in range(k):
            if 0 < np.sum(y == c) < n:
                assert binary_auc(y == c, P[:, c]) == float(roc_auc_score(y == c, P[:, c])), trial
    with pytest.raises(ValueError):
        binary_auc(np.array([True, False]), np.array([np.nan, 0.5]))
    with pytest.raises(ValueError):
        brier(np.array([0, 1]), np.array([[0.5, 0.5], [-0.5, 1.5]]))


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


def test_a_probability_of_exactly_zero_gives_infinite_kl_without_a_warning():
    """A forest teacher of few trees puts 0 on a class p0 gives mass to: KL(p0 || p) is inf,
    reported as such, not as a RuntimeWarning line among kd's output."""
    p0, P = np.array([[0.7, 0.3], [0.4, 0.6]]), np.array([[1.0, 0.0], [0.5, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert excess_risk(P, p0)["p0_kl"] == np.inf


def test_a_corrected_logit_target_near_one_over_eps_scores_finitely():
    # The teacher gives the positive class 0.0005 (floored at eps = 1e-3) on rows whose label is
    # 1, and 0.9995 on rows whose label is 0: with c large, γ ≈ 1 and the corrected logit target
    # is logit p̂ ± (1 − eps) / (eps (1 − eps)) ≈ ±1000, which a full tree fits exactly.
    eps = 1e-3
    X = np.arange(8.0)[:, None]
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    p1 = np.where(y == 1, 0.0005, 0.9995)
    T = regression_columns(
        make_targets(
            "corrected",
            one_hot(y, 2),
            p_crossfit=np.column_stack([1 - p1, p1]),
            c=1e9,
            scale="logit",
            eps=eps,
        ),
        "logit",
    )
    assert T[0] == pytest.approx(np.log(eps / (1 - eps)) + 1 / eps, rel=1e-6)  # ≈ 992
    raw = fit_student(make_student("tree", "full", 1, 0), X, T).predict(X)
    assert 1 / (1 + np.exp(-raw[0])) == 1.0  # the sigmoid alone rounds to exactly 1
    # held-out rows where the student is sure and wrong: the flipped labels, p0 = 1/2 each
    P = to_proba(raw, 2, "logit", eps)
    m = classification_metrics(1 - y, P, ranking_scores(raw, 2, "logit"))
    r = excess_risk(P, np.full((8, 2), 0.5))
    assert m["log_loss"] == pytest.approx(np.log(1 + 1 / eps))  # −log(eps / (1 + eps)) ≈ 6.909
    # KL(½,½ ‖ eps/(1+eps), 1/(1+eps)) = log ½ − ½ log(eps/(1+eps)) − ½ log(1/(1+eps))
    kl = np.log(0.5) - 0.5 * np.log(eps / (1 + eps)) - 0.5 * np.log(1 / (1 + eps))
    assert r["p0_kl"] == pytest.approx(kl)
    assert np.isfinite([m["log_loss"], r["p0_kl"], m["auc"]]).all() and m["auc"] == 0.0


def test_auc_ranks_by_the_scores_not_the_clipped_probabilities():
    # a linear student's outputs 1.2 < 1.5 < 2.0 all clip to probability 1: the two pairs of a
    # negative at 1.2 with a positive tie, AUC (2 + ½ + ½) / 4 = 0.75 from P; the scores keep
    # them apart, AUC 1
    y = np.array([0, 0, 1, 1])
    raw = np.array([0.1, 1.2, 1.5, 2.0])
    P = to_proba(raw, 2, "prob", 1e-3)
    assert classification_metrics(y, P)["auc"] == pytest.approx(0.75)
    assert classification_metrics(y, P, ranking_scores(raw, 2, "prob"))["auc"] == 1.0
    assert score("auc", y, P, ranking_scores(raw, 2, "prob")) == 0.0


def test_a_nonfinite_score_is_counted_and_never_averaged_away():
    def rows(metric: str, values: list[float]) -> list[dict]:
        keys = dict(dataset="d", fold=0, teacher="t", student="s", size="1", mode="raw")
        return [
            {**keys, "repeat": r, "seed": r, "metric": metric, "value": v}
            for r, v in enumerate(values)
        ]

    results = pd.DataFrame(
        rows("log_loss", [0.5, np.inf, 0.7])
        + rows("auc", [0.9, 0.8, np.nan])
        + rows("error", [0.1, 0.2, 0.3])
    )
    summary = summarise(results).set_index("metric")
    assert summary.loc["log_loss", "mean"] == np.inf  # not 0.6, the mean of the finite two
    assert np.isnan(summary.loc["auc", "mean"]) and np.isnan(summary.loc["auc", "se"])
    assert summary["nonfinite"].to_dict() == {"log_loss": 1, "auc": 1, "error": 0}
    assert summary["n"].to_dict() == {"log_loss": 3, "auc": 3, "error": 3}
    assert summary.loc["error", "mean"] == pytest.approx(0.2)
    assert summary.loc["error", "se"] == pytest.approx(0.1 / np.sqrt(3))
    means = cell_means(results).set_index("metric")["value"]
    assert means["log_loss"] == np.inf and np.isnan(means["auc"])
    assert means["error"] == pytest.approx(0.2)


def test_error_is_the_argmax_of_the_outputs_not_of_the_clipped_probabilities():
    """Issue 21, item 7: a linear or boosted student's outputs (1.05, 1.2, −0.25) clip to a tie
    at 1 that argmax gives to class 0, and outputs all below eps clip to eps everywhere; the
    student predicts class 1 and class 2."""
    eps = 1e-3
    raw = np.array([[1.05, 1.2, -0.25], [-0.2, -0.1, -0.05], [0.1, 0.8, 0.1]])
    y = np.array([1, 2, 1])
    P = to_proba(raw, 3, "prob", eps)
    assert P.argmax(axis=1).tolist() == [0, 0, 1]  # what error was taken from
    ranking = ranking_scores(raw, 3, "prob")
    assert classification_metrics(y, P, ranking)["error"] == 0.0
    assert score("error", y, P, ranking) == 0.0  # the CV that chooses c and α scores alike
    # excess_error judges the same predicted classes: each row's p0 puts 0.9 on its label
    p0 = np.full((3, 3), 0.05)
    p0[np.arange(3), y] = 0.9
    assert excess_risk(P, p0, ranking)["excess_error"] == 0.0
    assert excess_risk(P, p0)["excess_error"] == pytest.approx(2 * 0.85 / 3)  # P's argmax
    # where clipping ties nothing, the two agree
    assert classification_metrics(y, P)["error"] == pytest.approx(2 / 3)


def test_on_the_logit_scale_the_predicted_class_is_the_largest_output():
    raw = np.array([[40.0, 41.0, -5.0], [0.0, 0.0, 1e-9]])  # the softmax rounds row 0 to (0, 1, 0)
    ranking = ranking_scores(raw, 3, "logit")
    assert ranking.argmax(axis=1).tolist() == [1, 2]
    P = to_proba(raw, 3, "logit", 1e-3)
    assert classification_metrics(np.array([1, 2]), P, ranking)["error"] == 0.0


def test_the_teacher_is_scored_on_its_students_floor():
    """Issue 21, item 4: a 3-tree forest teacher puts exactly 0 on the class of some held-out
    rows. Unfloored, each such miss cost it about 36 of log loss (scikit-learn clips at machine
    precision) and made its p0_kl infinite, where a student with the same probabilities is
    floored at eps; now both are scored on the floor, and error and AUC keep the teacher's own
    order."""
    eps = 1e-3
    ds = kdcli.load_dataset("synthetic:binary?n=300&noise=0.2&seed=1")
    spec = kdcli.fit_settings(
        teacher="rf", teacher_param={"n_estimators": 3}, student="tree", sizes=[2], modes="raw"
    )
    got = kdcli.fit(ds, spec, threads=1).results
    got = got[got.student == "teacher"].set_index("metric")["value"]
    split = make_splits(ds, spec)[0]
    X, y, p0 = model_names(ds.X), ds.y[split.test], ds.p0[split.test]
    teacher = make_teacher("rf", spec.teacher.full_params, 1, split.teacher_seed)
    teacher.fit(X.iloc[split.train], ds.y[split.train])
    P = predict_full(teacher, X.iloc[split.test], 2)
    assert (P[np.arange(len(y)), y] == 0).sum() >= 3  # sure and wrong on several rows
    assert not np.isfinite(excess_risk(P, p0)["p0_kl"])  # what the teacher's p0_kl was
    floored = floor_proba(P, eps)
    assert got["log_loss"] == pytest.approx(log_loss(y, floored))
    assert got["log_loss"] < log_loss(y, P) / 3
    assert got["p0_kl"] == pytest.approx(excess_risk(floored, p0)["p0_kl"])
    assert got["brier"] == pytest.approx(brier_score_loss(y, floored[:, 1]))
    assert got["error"] == pytest.approx(1 - accuracy_score(y, P.argmax(axis=1)))
    assert got["auc"] == pytest.approx(roc_auc_score(y, P[:, 1]))  # P's ties, not the floor's
    # a student whose outputs were these probabilities scores what the teacher does
    raw = P[:, 1]
    student = classification_metrics(
        y, to_proba(raw, 2, "prob", eps), ranking_scores(raw, 2, "prob")
    )
    for metric in ("error", "log_loss", "brier", "auc"):
        assert got[metric] == pytest.approx(student[metric])
