"""Distillation targets as plain functions on arrays.

Notation (Dao et al., 2021): y is the one-hot label, p̂ the teacher's class probabilities.
The loss-corrected target is t = p̂ + γ ⊙ (y − p̂) with γ = c / (c + (y − p̂)²) elementwise:
where the teacher is far from the label, γ is small and the student trusts the teacher. γ runs
from 0 (c → 0) to 1 (c → ∞), so on the probability scale t = (1 − γ) p̂ + γ y lies between p̂
and y: the teacher at c → 0, the label at c → ∞. On the logit scale the correction is a
first-order step of log p̂ toward y (:func:`corrected_log`), which at c → ∞ is log p̂ + (y − p̂)/p̂,
not the label's log.

The mixed target t = α y + (1 − α) p̂ (Hinton et al.'s label term) blends the label with the
teacher's in-sample probabilities by one weight for every entry: the baseline a correction that
weighs each entry by its residual has to beat.
"""

from __future__ import annotations

import numpy as np

MODES = ("raw", "vanilla", "crossfit", "corrected", "mixed")
DEFAULT_MODES = ("raw", "vanilla", "crossfit", "corrected")  # mixed fits 11 α per size: opt-in
ALPHA_GRID = tuple(round(0.1 * i, 1) for i in range(11))  # 0, 0.1, …, 1
SCALES = ("prob", "logit")
MODE_VARIANTS = MODES + tuple(f"{m}:{s}" for m in MODES for s in SCALES)


def split_mode(mode: str) -> tuple[str, str | None]:
    """``vanilla:logit`` → ('vanilla', 'logit'); a plain mode has no scale of its own."""
    base, _, scale = mode.partition(":")
    return base, scale or None


def base_mode(mode: str) -> str:
    return split_mode(mode)[0]


def mode_scale(mode: str, default: str) -> str:
    """The scale a mode's student regresses on: its own (``vanilla:logit``) or the run's."""
    return split_mode(mode)[1] or default


def mode_sort_key(mode: str) -> tuple[int, str]:
    """raw, vanilla (and its variants), crossfit, corrected, then anything else by name."""
    base = base_mode(mode)
    return (MODES.index(base) if base in MODES else len(MODES), mode)


def ordered_modes(modes) -> list[str]:
    """The distinct student modes among ``modes`` (the teacher's row left out), in report order."""
    return sorted(set(modes) - {"teacher"}, key=mode_sort_key)


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[np.asarray(y)]


def gamma(c: float, y1h: np.ndarray, p_hat: np.ndarray) -> np.ndarray:
    """γ = c / (c + (y − p̂)²); defined as 0 at c = 0 (pure teacher) even where y = p̂."""
    if c < 0:
        raise ValueError(f"c must be >= 0, got {c}")
    if np.isinf(c):
        return np.ones_like(p_hat, dtype=float)
    r2 = (y1h - p_hat) ** 2
    denom = c + r2
    return np.divide(c, denom, out=np.zeros_like(r2, dtype=float), where=denom > 0)


def corrected(p_hat: np.ndarray, y1h: np.ndarray, c: float) -> np.ndarray:
    """t = p̂ + γ ⊙ (y − p̂) = (1 − γ) p̂ + γ y with γ ∈ [0, 1]: each entry lies between p̂ and
    y, so within [0, 1], though for K classes a row need not sum to 1 (γ differs by class)."""
    return p_hat + gamma(c, y1h, p_hat) * (y1h - p_hat)


def mixed(p_hat: np.ndarray, y1h: np.ndarray, alpha: float) -> np.ndarray:
    """t = α y + (1 − α) p̂: the label at α = 1 and the teacher at α = 0, each exactly (so a
    student on them is the raw or the vanilla student, bit for bit)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if alpha == 1.0:
        return y1h.astype(float)
    if alpha == 0.0:
        return p_hat
    return alpha * y1h + (1.0 - alpha) * p_hat


def clip_floor(p: np.ndarray, eps: float) -> np.ndarray:
    return np.clip(p, eps, None)


def log_target(p: np.ndarray, eps: float) -> np.ndarray:
    """log p with p clipped below at eps (the teacher may put exactly 0 on a class)."""
    return np.log(clip_floor(p, eps))


def corrected_log(p_hat: np.ndarray, y1h: np.ndarray, c: float, eps: float) -> np.ndarray:
    """Logit-scale correction: log p̂ + γ (y − p̂) / p̂, the first-order step of log p̂ toward y
    (p̂ floored at eps). It can exceed 0, a "log-probability" above 0 (p̂ = 0.1, y = 1, γ ≈ 1:
    log 0.1 + 9), and reaches about 1/eps where p̂ is floored and y = 1; c → ∞ gives
    log p̂ + (y − p̂)/p̂, not log y. Students' outputs are floored at eps again in
    :func:`to_proba`."""
    p = clip_floor(p_hat, eps)
    return np.log(p) + gamma(c, y1h, p) * (y1h - p) / p


def make_targets(
    mode: str,
    y1h: np.ndarray,
    p_vanilla: np.ndarray | None = None,
    p_crossfit: np.ndarray | None = None,
    c: float | None = None,
    scale: str = "prob",
    eps: float = 1e-3,
    alpha: float | None = None,
) -> np.ndarray:
    """The (n, K) target matrix of one mode, on the probability or log-probability scale. The
    mixed blend is made on probabilities, then (logit scale) logged like any target."""
    if mode == "raw":
        base = y1h.astype(float)
        return base if scale == "prob" else log_target(base, eps)
    if mode == "vanilla":
        p = _given(p_vanilla, mode)
        return p if scale == "prob" else log_target(p, eps)
    if mode == "crossfit":
        p = _given(p_crossfit, mode)
        return p if scale == "prob" else log_target(p, eps)
    if mode == "corrected":
        if c is None:
            raise ValueError("corrected targets need c")
        if scale == "prob":
            return corrected(_given(p_crossfit, mode), y1h, c)
        return corrected_log(_given(p_crossfit, mode), y1h, c, eps)
    if mode == "mixed":
        if alpha is None:
            raise ValueError("mixed targets need alpha")
        base = mixed(_given(p_vanilla, mode), y1h, alpha)
        return base if scale == "prob" else log_target(base, eps)
    raise ValueError(f"unknown mode {mode!r}")


def _given(p: np.ndarray | None, mode: str) -> np.ndarray:
    """The teacher's probabilities a mode's targets are made of, which its caller must pass."""
    if p is None:
        raise ValueError(f"{mode} targets need the teacher's probabilities")
    return p


def regression_columns(T: np.ndarray, scale: str) -> np.ndarray:
    """What the student regresses. Binary data needs one column: on the probability scale the
    positive class, on the logit scale the logit log p₁ − log p₀ (softmax of (0, z) is the
    sigmoid), which for the corrected targets is logit p̂ + γ (y − p̂) / (p̂ (1 − p̂))."""
    if T.shape[1] == 2:
        return T[:, 1] if scale == "prob" else T[:, 1] - T[:, 0]
    return T


def _columns(pred: np.ndarray, n_classes: int, scale: str) -> np.ndarray:
    """Student outputs as (n, K): a binary student's one column becomes (1 − p, p), or the
    logits (0, z)."""
    pred = np.asarray(pred, dtype=float)
    if pred.ndim == 1:
        pred = pred[:, None]
    if pred.shape[1] == 1 and n_classes == 2:
        zero = np.zeros(len(pred))
        pred = np.column_stack([1.0 - pred[:, 0] if scale == "prob" else zero, pred[:, 0]])
    return pred


def to_proba(pred: np.ndarray, n_classes: int, scale: str, eps: float) -> np.ndarray:
    """Student outputs to class probabilities: the outputs (probability scale) or their softmax
    (logit scale), floored at eps, capped at 1 and renormalised.

    The floor serves both scales: a corrected logit target near 1/eps drives the softmax to
    exactly 0 or 1 in floating point, and a row sure of the wrong class then costs about 36 of
    log loss (scikit-learn clips at machine precision) and an infinite KL; floored, at most
    log((1 + eps)/eps).
    """
    P = _columns(pred, n_classes, scale)
    if scale == "logit":
        e = np.exp(P - P.max(axis=1, keepdims=True))
        P = e / e.sum(axis=1, keepdims=True)
    return floor_proba(P, eps)


def floor_proba(P: np.ndarray, eps: float) -> np.ndarray:
    """Probabilities floored at eps, capped at 1 and renormalised: the scale every held-out
    probability is scored on, the teacher's as its students' (:func:`to_proba`), so a confident
    miss costs each at most log((1 + (K − 1) eps)/eps) of log loss."""
    P = np.clip(np.asarray(P, dtype=float), eps, 1.0)
    return P / P.sum(axis=1, keepdims=True)


def ranking_scores(pred: np.ndarray, n_classes: int, scale: str) -> np.ndarray:
    """Per-class scores that order rows as the student's raw outputs do, for AUC.

    :func:`to_proba` ties rows the student tells apart: every output above 1 (or below eps) is
    clipped to one value, and a softmax rounds to exactly 0 or 1 far out. These keep the order:
    on the probability scale the outputs themselves; on the logit scale the log-odds of each
    class, z_k − log Σ_{j≠k} exp z_j (for binary data the logit z itself), increasing in the
    softmax probability without rounding to it.
    """
    S = _columns(pred, n_classes, scale)
    if scale == "prob":
        return S
    out = np.empty_like(S)
    for k in range(S.shape[1]):
        out[:, k] = S[:, k] - np.logaddexp.reduce(np.delete(S, k, axis=1), axis=1)
    return out
