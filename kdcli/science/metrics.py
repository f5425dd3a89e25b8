"""Held-out scores (scikit-learn's metrics, to the bit) and, where p0 is known, the true excess
risk.

Error, log loss, Brier and AUC are scikit-learn's computations without its input checks: those
took 2-4 ms a call, and every fit of a study is scored (choosing c scores thousands); on a small
dataset a unit spent more time scoring than fitting. Each is tested equal to scikit-learn's
value, bit for bit, on random inputs (tests/science/test_metrics.py)."""

from __future__ import annotations

import numpy as np

METRICS = ("error", "log_loss", "brier", "auc")
EXCESS_METRICS = ("p0_mse", "p0_kl", "excess_error")
LOWER_IS_BETTER = {
    "error": True,
    "log_loss": True,
    "brier": True,
    "auc": False,
    "p0_mse": True,
    "p0_kl": True,
    "excess_error": True,
}


def macro_auc(y: np.ndarray, P: np.ndarray) -> float:
    """AUC of per-class scores P (probabilities or any order-preserving score); for K classes
    the macro one-vs-rest average over the classes present in y.

    Equals ``roc_auc_score(..., multi_class='ovr', average='macro')`` when every class is present,
    and stays defined when a rare class is absent from the held-out rows.
    """
    if P.shape[1] == 2:
        return binary_auc(y == 1, P[:, 1]) if len(np.unique(y)) == 2 else float("nan")
    scores = [binary_auc(y == k, P[:, k]) for k in range(P.shape[1]) if 0 < np.sum(y == k) < len(y)]
    return float(np.mean(scores)) if scores else float("nan")


def binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """scikit-learn's ``roc_auc_score(positive, score)`` to the bit, both classes present: the
    ROC curve's points at each distinct score (descending), those collinear with their
    neighbours dropped, and the trapezoidal area under them."""
    score = np.asarray(score)
    if not np.isfinite(score).all():
        raise ValueError("AUC needs finite scores")
    order = np.argsort(score, kind="stable")[::-1]  # ties share a point: their order is moot
    ranked, hits = score[order], np.asarray(positive, dtype=np.float64)[order]
    ends = np.concatenate([np.nonzero(np.diff(ranked))[0], [len(ranked) - 1]])
    tps = np.cumsum(hits)[ends]
    fps = 1 + ends.astype(np.float64) - tps
    if len(fps) > 2:
        corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.nonzero(np.concatenate([[True], corner, [True]]))[0]
        fps, tps = fps[keep], tps[keep]
    fps, tps = np.concatenate([[0.0], fps]), np.concatenate([[0.0], tps])
    return float(np.trapezoid(tps / tps[-1], fps / fps[-1]))


def classification_metrics(
    y: np.ndarray, P: np.ndarray, ranking: np.ndarray | None = None
) -> dict[str, float]:
    """error = 1 − accuracy; Brier is scikit-learn's (binary: positive column; K classes: sum).

    The predicted class (error) and AUC's order come from ``ranking`` (per-class scores in the
    order of the model's raw outputs, :func:`kdcli.science.targets.ranking_scores`) where given,
    else from P: a student's P is clipped and renormalised, which ties classes and rows its
    outputs tell apart (outputs 1.05, 1.2, −0.25 clip to a tie that argmax gives to class 0).
    """
    return {metric: metric_value(metric, y, P, ranking) for metric in METRICS}


def metric_value(metric: str, y: np.ndarray, P: np.ndarray, ranking: np.ndarray | None) -> float:
    """One of :data:`METRICS` (see :func:`classification_metrics`): choosing c needs only one."""
    scores = P if ranking is None else ranking
    if metric == "error":
        return 1.0 - float(np.average(y == predicted(scores)))
    if metric == "log_loss":
        return log_loss(y, P)
    if metric == "brier":
        return brier(y, P)
    if metric == "auc":
        return macro_auc(y, scores)
    raise ValueError(f"unknown metric {metric!r}")


def log_loss(y: np.ndarray, P: np.ndarray) -> float:
    """scikit-learn's ``log_loss(y, P, labels=range(K))`` to the bit, without its input checks
    and one-hot encoding: they took 3 ms of each call, and choosing c scores thousands of fits
    (here 0.02 ms). A row's loss is −log of its class's probability clipped to [eps, 1 − eps];
    the rows' mean is numpy's, as scikit-learn's np.average. The inputs scikit-learn refuses
    are refused (ValueError). Tested equal on random inputs."""
    P = _probabilities(P, "log loss")
    y = np.asarray(y)
    if P.ndim != 2 or y.shape != (len(P),):
        raise ValueError("log loss needs one row of probabilities per label")
    if y.min() < 0 or y.max() >= P.shape[1]:
        raise ValueError("log loss needs labels 0..K-1")
    rows = np.arange(len(y))
    codes = y.astype(np.intp)
    if not np.array_equal(codes, y):
        raise ValueError("log loss needs labels 0..K-1")
    eps = np.finfo(P.dtype).eps
    return float(np.mean(-np.log(np.clip(P, eps, 1 - eps)[rows, codes])))


def brier(y: np.ndarray, P: np.ndarray) -> float:
    """scikit-learn's ``brier_score_loss`` to the bit: binary data on the positive column (its
    half of the two-column sum), K classes on all (the sum, not halved)."""
    P = _probabilities(P, "Brier score")
    if P.shape[1] == 2:
        p = P[:, 1]
        labels = np.stack([y != 1, y == 1], axis=1).astype(p.dtype)
        return float(np.average(np.sum((labels - np.stack((1 - p, p), axis=1)) ** 2, axis=1)) * 0.5)
    labels = (np.asarray(y)[:, None] == np.arange(P.shape[1])).astype(P.dtype)
    return float(np.average(np.sum((labels - P) ** 2, axis=1)))


def _probabilities(P: np.ndarray, what: str) -> np.ndarray:
    """``P`` as scikit-learn's scores take it (float16, 32 and 64 kept, anything else as
    float64), refused (ValueError) unless every value is finite and in [0, 1]."""
    P = np.asarray(P)
    if P.dtype not in (np.float64, np.float32, np.float16):
        P = P.astype(np.float64)
    if not np.isfinite(P).all() or P.min() < 0 or P.max() > 1:
        raise ValueError(f"{what} needs finite probabilities in [0, 1]")
    return P


def predicted(scores: np.ndarray) -> np.ndarray:
    """The predicted class of each row: the argmax of its per-class scores (first on a tie)."""
    return np.asarray(scores).argmax(axis=1)


def excess_risk(
    P: np.ndarray, p0: np.ndarray, ranking: np.ndarray | None = None
) -> dict[str, float]:
    """Distance to the Bayes probabilities on the held-out x's, free of label noise.

    p0_mse: mean Σ_k (p_k − p0_k)²; p0_kl: mean KL(p0 ‖ p), the excess log loss;
    excess_error: expected error of the argmax rule under p0 minus the Bayes error (≥ 0), for
    the classes :func:`classification_metrics` predicts (of ``ranking`` where given).
    """
    n = len(P)
    pred = predicted(P if ranking is None else ranking)
    expected_error = 1.0 - p0[np.arange(n), pred]
    bayes_error = 1.0 - p0.max(axis=1)
    safe_p0 = np.where(p0 > 0, p0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # a model's exact 0: KL is inf
        kl = np.sum(np.where(p0 > 0, p0 * (np.log(safe_p0) - np.log(P)), 0.0), axis=1)
    return {
        "p0_mse": float(np.mean(np.sum((P - p0) ** 2, axis=1))),
        "p0_kl": float(np.mean(kl)),
        "excess_error": float(np.mean(expected_error - bayes_error)),
    }


def score(metric: str, y: np.ndarray, P: np.ndarray, ranking: np.ndarray | None = None) -> float:
    """One metric as a loss to minimise (AUC enters as 1 − AUC, of ``ranking`` where given)."""
    value = metric_value(metric, y, P, ranking)
    return value if LOWER_IS_BETTER[metric] else 1.0 - value
