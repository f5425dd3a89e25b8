"""Exact checks of the target constructions."""

import numpy as np
import pytest

from kdcli.science.targets import (
    corrected,
    corrected_log,
    gamma,
    make_targets,
    mode_scale,
    mode_sort_key,
    one_hot,
    ranking_scores,
    regression_columns,
    split_mode,
    to_proba,
)


def test_one_hot():
    Y = one_hot(np.array([2, 0, 1]), 3)
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_gamma_exact_value():
    # c = 1, residual 0.5: gamma = 1 / (1 + 0.25) = 0.8
    assert gamma(1.0, np.array([[1.0]]), np.array([[0.5]]))[0, 0] == pytest.approx(0.8)
    # residual 0.9, c = 0.09: gamma = 0.09 / (0.09 + 0.81) = 0.1
    assert gamma(0.09, np.array([[0.0]]), np.array([[0.9]]))[0, 0] == pytest.approx(0.1)


def test_gamma_limits():
    y1h = one_hot(np.array([0, 1, 1]), 2)
    p = np.array([[0.7, 0.3], [0.5, 0.5], [0.0, 1.0]])  # last row: teacher exactly right
    np.testing.assert_array_equal(gamma(0.0, y1h, p), 0.0)  # c = 0: pure teacher, even at y = p̂
    np.testing.assert_array_equal(gamma(np.inf, y1h, p), 1.0)  # c = ∞: pure labels
    assert np.all(gamma(1e-9, y1h, p)[:2] < 1e-7)
    assert np.all(gamma(1e9, y1h, p) > 1 - 1e-8)
    g = gamma(0.1, y1h, p)
    assert np.all((g >= 0) & (g <= 1))
    with pytest.raises(ValueError):
        gamma(-1.0, y1h, p)


def test_corrected_limits_and_value():
    y1h = one_hot(np.array([1, 0]), 2)
    p = np.array([[0.5, 0.5], [0.2, 0.8]])
    np.testing.assert_allclose(corrected(p, y1h, 0.0), p)
    np.testing.assert_allclose(corrected(p, y1h, 1e12), y1h, atol=1e-10)
    # row 0, class 1: 0.5 + 0.8 * (1 - 0.5) = 0.9; class 0: 0.5 + 0.8 * (0 - 0.5) = 0.1
    np.testing.assert_allclose(corrected(p, y1h, 1.0)[0], [0.1, 0.9])
    # row 1, class 0: residual 0.8 → γ = 1 / 1.64; t = 0.2 + (0.8 / 1.64)
    assert corrected(p, y1h, 1.0)[1, 0] == pytest.approx(0.2 + 0.8 / 1.64)


def test_corrected_moves_toward_label_on_prob_scale():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=200)
    y1h = one_hot(rng.integers(0, 4, size=200), 4)
    t = corrected(p, y1h, 0.05)
    assert t.shape == (200, 4)
    lo, hi = np.minimum(p, y1h), np.maximum(p, y1h)
    assert np.all((t >= lo - 1e-12) & (t <= hi + 1e-12))


def test_corrected_log_scale_can_leave_the_probability_range():
    y1h = one_hot(np.array([1]), 2)
    p = np.array([[0.9, 0.1]])
    t = corrected_log(p, y1h, 1e12, eps=1e-3)  # γ ≈ 1: log 0.1 + 0.9 / 0.1
    assert t[0, 1] == pytest.approx(np.log(0.1) + 9.0)
    assert t[0, 1] > 0  # a "log-probability" above 0: intended, not clipped
    np.testing.assert_allclose(corrected_log(p, y1h, 0.0, eps=1e-3), np.log(p))
    # teacher probabilities are floored at eps before the log
    assert corrected_log(np.array([[1.0, 0.0]]), y1h, 0.0, eps=1e-3)[0, 1] == pytest.approx(
        np.log(1e-3)
    )


def test_make_targets_modes_and_shapes():
    y = np.array([0, 2, 1, 2])
    y1h = one_hot(y, 3)
    rng = np.random.default_rng(1)
    p_in = rng.dirichlet(np.ones(3), size=4)
    p_cf = rng.dirichlet(np.ones(3), size=4)
    np.testing.assert_array_equal(make_targets("raw", y1h, p_in, p_cf), y1h)
    np.testing.assert_array_equal(make_targets("vanilla", y1h, p_in, p_cf), p_in)
    np.testing.assert_array_equal(make_targets("crossfit", y1h, p_in, p_cf), p_cf)
    np.testing.assert_allclose(
        make_targets("corrected", y1h, p_in, p_cf, c=0.3), corrected(p_cf, y1h, 0.3)
    )
    np.testing.assert_allclose(
        make_targets("vanilla", y1h, p_in, p_cf, scale="logit"), np.log(p_in)
    )
    raw_log = make_targets("raw", y1h, scale="logit", eps=1e-3)
    np.testing.assert_allclose(raw_log, np.where(y1h == 1, 0.0, np.log(1e-3)))
    with pytest.raises(ValueError):
        make_targets("corrected", y1h, p_in, p_cf)  # no c
    with pytest.raises(ValueError):
        make_targets("other", y1h)


def test_binary_targets_are_the_positive_column_multiclass_keep_k():
    T2 = np.array([[0.3, 0.7], [0.6, 0.4]])
    np.testing.assert_array_equal(regression_columns(T2, "prob"), [0.7, 0.4])
    T3 = np.ones((5, 3)) / 3
    assert regression_columns(T3, "prob").shape == (5, 3)


def test_binary_logit_scale_regresses_the_logit_and_inverts_by_sigmoid():
    p = np.array([0.1, 0.5, 0.8])
    L = np.log(np.column_stack([1 - p, p]))
    z = regression_columns(L, "logit")
    np.testing.assert_allclose(z, np.log(p / (1 - p)))
    np.testing.assert_allclose(to_proba(z, 2, "logit", eps=1e-3)[:, 1], p)


def test_binary_logit_correction_is_the_logit_step_toward_the_label():
    p, y, c = np.array([0.2, 0.7]), np.array([1, 0]), 0.5
    y1h = one_hot(y, 2)
    P = np.column_stack([1 - p, p])
    z = regression_columns(
        make_targets("corrected", y1h, p_crossfit=P, c=c, scale="logit"), "logit"
    )
    g = c / (c + (y - p) ** 2)
    np.testing.assert_allclose(z, np.log(p / (1 - p)) + g * (y - p) / (p * (1 - p)))


def test_mode_variants_carry_their_own_scale():
    assert split_mode("vanilla:logit") == ("vanilla", "logit")
    assert split_mode("crossfit") == ("crossfit", None)
    assert mode_scale("vanilla:logit", "prob") == "logit"
    assert mode_scale("corrected", "prob") == "prob"
    assert sorted(["corrected", "vanilla:logit", "raw", "crossfit"], key=mode_sort_key) == [
        "raw",
        "vanilla:logit",
        "crossfit",
        "corrected",
    ]


def test_to_proba_clips_and_renormalises():
    P = to_proba(np.array([-0.2, 0.5, 1.3]), 2, "prob", eps=0.01)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # -0.2 → positive clipped to 0.01, negative 1.2 → 1.0: renormalised by 1.01
    np.testing.assert_allclose(P[0], [1.0 / 1.01, 0.01 / 1.01])
    np.testing.assert_allclose(P[1], [0.5, 0.5])
    np.testing.assert_allclose(P[2], [0.01 / 1.01, 1.0 / 1.01])
    multi = to_proba(np.array([[0.5, 0.7, -0.1]]), 3, "prob", eps=0.01)
    np.testing.assert_allclose(multi, [[0.5 / 1.21, 0.7 / 1.21, 0.01 / 1.21]])


def test_to_proba_softmax_inverts_log_targets():
    p = np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])
    np.testing.assert_allclose(to_proba(np.log(p) + 7.0, 3, "logit", eps=1e-3), p)


def test_logit_scale_floors_probabilities_at_eps():
    # a corrected logit target near 1/eps (eps = 1e-3: z = log p̂ + γ(y − p̂)/p̂ ≈ 1000) and
    # its mirror: the sigmoid rounds to exactly 1 and 0, whose log would be -inf
    z = np.array([1000.0, -1000.0, 0.0])
    assert 1 / (1 + np.exp(-z[0])) == 1.0
    P = to_proba(z, 2, "logit", eps=1e-3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(P[0], [1e-3 / 1.001, 1 / 1.001])  # floored, renormalised
    np.testing.assert_allclose(P[1], [1 / 1.001, 1e-3 / 1.001])
    np.testing.assert_allclose(P[2], [0.5, 0.5])
    multi = to_proba(np.array([[900.0, 0.0, -5.0]]), 3, "logit", eps=1e-3)
    np.testing.assert_allclose(multi, [[1 / 1.002, 1e-3 / 1.002, 1e-3 / 1.002]])


def test_ranking_scores_keep_the_order_that_clipping_ties():
    # probability scale: 1.3 and 1.6 clip to the same probability; their scores stay apart
    raw = np.array([-0.2, 0.5, 1.3, 1.6])
    assert to_proba(raw, 2, "prob", 0.01)[2, 1] == to_proba(raw, 2, "prob", 0.01)[3, 1]
    np.testing.assert_array_equal(ranking_scores(raw, 2, "prob")[:, 1], raw)
    # logit scale, binary: the logit itself; K classes: the log-odds z_k − log Σ_{j≠k} e^{z_j}
    z = np.array([40.0, 50.0, -3.0])
    np.testing.assert_array_equal(ranking_scores(z, 2, "logit")[:, 1], z)
    Z = np.array([[1.0, 2.0, 3.0], [80.0, 0.0, 0.0]])
    S = ranking_scores(Z, 3, "logit")
    assert S[0, 2] == pytest.approx(3.0 - np.log(np.exp(1.0) + np.exp(2.0)))
    assert S[1, 0] == pytest.approx(80.0 - np.log(2.0))
    P = to_proba(Z, 3, "logit", eps=1e-12)
    np.testing.assert_allclose(1 / (1 + np.exp(-S[0])), P[0])  # the log-odds of P


def test_prob_scale_corrected_targets_stay_between_teacher_and_label():
    # γ ∈ [0, 1]: t = (1 − γ) p̂ + γ y never leaves [0, 1], whatever c and however wrong p̂
    y1h = one_hot(np.array([1, 0, 1]), 2)
    p = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    for c in (0.0, 1e-5, 1.0, 1e3, np.inf):
        t = corrected(p, y1h, c)
        assert np.all((t >= 0) & (t <= 1))
    # K classes: entries between p̂ and y, but γ differs by class, so a row need not sum to 1:
    # γ = 1/1.25, 1/1.09, 1/1.04 → t = 0.9, 0.3 − 0.3/1.09, 0.2 − 0.2/1.04
    t = corrected(np.array([[0.5, 0.3, 0.2]]), one_hot(np.array([0]), 3), 1.0)
    np.testing.assert_allclose(t[0], [0.9, 0.3 - 0.3 / 1.09, 0.2 - 0.2 / 1.04])
    assert t.sum() == pytest.approx(0.9 + 0.3 - 0.3 / 1.09 + 0.2 - 0.2 / 1.04) and t.sum() < 1
    # on the logit scale c → ∞ is the first-order step, not the label's log (0 for y = 1)
    big = corrected_log(np.array([[0.5, 0.5]]), one_hot(np.array([1]), 2), np.inf, eps=1e-3)
    np.testing.assert_allclose(big[0], [np.log(0.5) - 1.0, np.log(0.5) + 1.0])
