"""Choosing c of the loss correction by cross-validation of the student on the training rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.utils.parallel import Parallel, delayed

from kdcli.science.metrics import score
from kdcli.science.targets import make_targets, ranking_scores, regression_columns, to_proba

C_GRID = tuple(float(c) for c in np.logspace(-5, 3, 9))  # 1e-5 … 1e3


def select_c(
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], Sequence[np.ndarray]],
    y: np.ndarray,
    y1h: np.ndarray,
    p_crossfit: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    grid: tuple[float, ...] = C_GRID,
    scale: str = "prob",
    eps: float = 1e-3,
    metric: str = "log_loss",
    n_jobs: int = 1,
    p_select: np.ndarray | None = None,
) -> list[tuple[float, dict[float, float]]]:
    """Per student size, the c whose corrected targets give the best held-out-fold score, and
    every c's score.

    ``fit_predict(train_idx, targets, predict_idx)`` fits the student on the training rows
    ``train_idx`` (targets given for those rows) and returns raw predictions for ``predict_idx``,
    one array per student size: nested students (the first k trees of one forest) share a fit.
    Scores are against the true labels of the held-out fold; ties go to the smaller c.
    ``n_jobs`` > 1 runs the fits in threads: for single-threaded students that release the GIL.

    Fold j's training targets are built from ``p_crossfit``, the paper's procedure, whose
    cross-fit teachers saw fold j; or, leak-free, from ``p_select[j]`` (an (n_folds, n, K) array
    from :func:`kdcli.science.selection.selection_proba`: teachers that never saw fold j).
    """
    n_classes = y1h.shape[1]
    if p_select is not None and len(p_select) != len(folds):
        raise ValueError(f"p_select has {len(p_select)} folds, the selection {len(folds)}")

    def fold_scores(c: float, j: int) -> list[float]:
        fit_idx, held_idx = folds[j]
        p_hat = (p_crossfit if p_select is None else p_select[j])[fit_idx]
        if np.isnan(p_hat).any():
            raise ValueError(f"selection fold {j} lacks teacher probabilities for its rows")
        T = regression_columns(
            make_targets("corrected", y1h[fit_idx], p_crossfit=p_hat, c=c, scale=scale, eps=eps),
            scale,
        )
        return [
            score(
                metric,
                y[held_idx],
                to_proba(raw, n_classes, scale, eps),
                ranking_scores(raw, n_classes, scale),  # AUC: the outputs' order, untied
            )
            for raw in fit_predict(fit_idx, T, held_idx)
        ]

    tasks = [(c, j) for c in grid for j in range(len(folds))]
    values = np.array(
        Parallel(n_jobs=n_jobs, prefer="threads")(delayed(fold_scores)(*t) for t in tasks)
    ).reshape(len(grid), len(folds), -1)
    chosen = []
    for j in range(values.shape[2]):
        scores = {c: float(values[i, :, j].mean()) for i, c in enumerate(grid)}
        chosen.append((min(grid, key=lambda c: (scores[c], c)), scores))
    return chosen
