"""Choosing c of the loss correction by cross-validation of the student on the training rows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from joblib import Parallel, delayed

from kdcli.metrics import score
from kdcli.targets import make_targets, regression_columns, to_proba

C_GRID = tuple(float(c) for c in np.logspace(-5, 3, 9))  # 1e-5 … 1e3


def select_c(
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    y: np.ndarray,
    y1h: np.ndarray,
    p_crossfit: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    grid: tuple[float, ...] = C_GRID,
    scale: str = "prob",
    eps: float = 1e-3,
    metric: str = "log_loss",
    n_jobs: int = 1,
) -> tuple[float, dict[float, float]]:
    """The c whose corrected targets give the best held-out-fold score, and every c's score.

    ``fit_predict(train_idx, targets, predict_idx)`` fits the student on the training rows
    ``train_idx`` (targets given for those rows) and returns raw predictions for ``predict_idx``.
    Scores are against the true labels of the held-out fold; ties go to the smaller c.
    ``n_jobs`` > 1 runs the fits in threads: for single-threaded students that release the GIL.
    """
    n_classes = y1h.shape[1]

    def fold_score(c: float, fit_idx: np.ndarray, held_idx: np.ndarray) -> float:
        T = regression_columns(
            make_targets("corrected", y1h, p_crossfit=p_crossfit, c=c, scale=scale, eps=eps), scale
        )
        raw = fit_predict(fit_idx, T[fit_idx], held_idx)
        return score(metric, y[held_idx], to_proba(raw, n_classes, scale, eps))

    tasks = [(c, fit_idx, held_idx) for c in grid for fit_idx, held_idx in folds]
    values = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(fold_score)(*t) for t in tasks)
    scores = {
        c: float(np.mean(values[i * len(folds) : (i + 1) * len(folds)])) for i, c in enumerate(grid)
    }
    best = min(grid, key=lambda c: (scores[c], c))
    return best, scores
