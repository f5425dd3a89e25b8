"""Choosing c of the loss correction, and α of the label/teacher blend, by cross-validation of
the student on the training rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from kdcli.science.crossfit import fits
from kdcli.science.metrics import score
from kdcli.science.targets import (
    ALPHA_GRID,
    make_targets,
    ranking_scores,
    regression_columns,
    to_proba,
)

C_GRID = tuple(float(c) for c in np.logspace(-5, 3, 9))  # 1e-5 … 1e3


def cv_scores(
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], Sequence[np.ndarray]],
    targets: Callable[[float, int, np.ndarray], np.ndarray],
    y: np.ndarray,
    n_classes: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    grid: Sequence,
    scale: str = "prob",
    eps: float = 1e-3,
    metric: str = "log_loss",
    n_jobs: int = 1,
    stage: str = "select-c",
) -> np.ndarray:
    """Held-out-fold scores of a student on the targets of each grid value: an array
    (len(grid), n_folds, sizes), the cross-validation behind every choice kd makes on the
    training rows (c, α, and the mode of `kd distill --mode auto`).

    ``targets(value, j, fit_idx)`` gives fold j's training targets (n_fit, K) for a grid value;
    ``fit_predict(train_idx, targets, predict_idx)`` fits the student on the training rows
    ``train_idx`` and returns raw predictions for ``predict_idx``, one array per student size:
    nested students (the first k trees of one forest) share a fit. Scores are against the true
    labels of the held-out fold. ``n_jobs`` > 1 runs the fits in threads: for single-threaded
    students that release the GIL. Each fit holds a token of the core budget, traced as
    ``stage`` (:func:`kdcli.science.crossfit.fits`).
    """

    def fold_scores(value, j: int) -> list[float]:
        fit_idx, held_idx = folds[j]
        T = regression_columns(targets(value, j, fit_idx), scale)
        return [
            score(
                metric,
                y[held_idx],
                to_proba(raw, n_classes, scale, eps),
                ranking_scores(raw, n_classes, scale),  # AUC: the outputs' order, untied
            )
            for raw in fit_predict(fit_idx, T, held_idx)
        ]

    tasks = [(v, j) for v in grid for j in range(len(folds))]
    per_task = fits(lambda t: fold_scores(*t), tasks, n_jobs, stage, _task_label)
    return np.array(per_task).reshape(len(grid), len(folds), -1)


def select_by_cv(
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], Sequence[np.ndarray]],
    targets: Callable[[float, int, np.ndarray], np.ndarray],
    y: np.ndarray,
    n_classes: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    grid: tuple[float, ...],
    scale: str = "prob",
    eps: float = 1e-3,
    metric: str = "log_loss",
    n_jobs: int = 1,
    stage: str = "select-c",
) -> list[tuple[float, dict[float, float]]]:
    """Per student size, the grid value whose targets give the best mean held-out-fold score
    (:func:`cv_scores`), and every value's score: the one cross-validation that chooses c of
    the correction and α of the blend. Ties go to the smaller value."""
    values = cv_scores(
        fit_predict, targets, y, n_classes, folds, grid, scale, eps, metric, n_jobs, stage
    )
    chosen = []
    for k in range(values.shape[2]):
        scores = {v: float(values[i, :, k].mean()) for i, v in enumerate(grid)}
        chosen.append((min(grid, key=lambda v: (scores[v], v)), scores))
    return chosen


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
    every c's score (:func:`select_by_cv`); ties go to the smaller c.

    Fold j's training targets are built from ``p_crossfit``, the paper's procedure, whose
    cross-fit teachers saw fold j; or, leak-free, from ``p_select[j]`` (an (n_folds, n, K) array
    from :func:`kdcli.science.selection.selection_proba`: teachers that never saw fold j).
    """
    teacher = _fold_teacher(p_crossfit, p_select, len(folds))

    def targets(c: float, j: int, fit_idx: np.ndarray) -> np.ndarray:
        p_hat = teacher(j, fit_idx)
        return make_targets("corrected", y1h[fit_idx], p_crossfit=p_hat, c=c, scale=scale, eps=eps)

    return select_by_cv(
        fit_predict, targets, y, y1h.shape[1], folds, grid, scale, eps, metric, n_jobs
    )


def _task_label(task: tuple) -> str:
    value, j = task
    shown = " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in np.atleast_1d(value))
    return f"{shown} fold {j}"


def select_alpha(
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], Sequence[np.ndarray]],
    y: np.ndarray,
    y1h: np.ndarray,
    p_vanilla: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    grid: tuple[float, ...] = ALPHA_GRID,
    scale: str = "prob",
    eps: float = 1e-3,
    metric: str = "log_loss",
    n_jobs: int = 1,
    p_select: np.ndarray | None = None,
) -> list[tuple[float, dict[float, float]]]:
    """Per student size, the α of the mixed targets α y + (1 − α) p̂ with the best held-out-fold
    score, by the cross-validation that chooses c (:func:`select_by_cv`); ties go to the
    smaller α.

    Fold j's training targets blend ``p_vanilla``, the full-data teacher's in-sample p̂ as the
    mixed student's own targets do, though that teacher saw fold j (as the paper's cross-fit
    teachers do when they choose c); or, leak-free, ``p_select[j]`` (an (n_folds, n, K) array
    from :func:`kdcli.science.selection.selection_proba` with source ``in_sample``: the
    in-sample p̂ of a teacher trained on the rows outside fold j)."""
    teacher = _fold_teacher(p_vanilla, p_select, len(folds))

    def targets(alpha: float, j: int, fit_idx: np.ndarray) -> np.ndarray:
        p_hat = teacher(j, fit_idx)
        return make_targets(
            "mixed", y1h[fit_idx], p_vanilla=p_hat, scale=scale, eps=eps, alpha=alpha
        )

    K = y1h.shape[1]
    return select_by_cv(
        fit_predict, targets, y, K, folds, grid, scale, eps, metric, n_jobs, "select-alpha"
    )


def _fold_teacher(
    p_all: np.ndarray, p_select: np.ndarray | None, n_folds: int
) -> Callable[[int, np.ndarray], np.ndarray]:
    """The teacher probabilities behind selection fold j's training rows: ``p_all`` (one teacher
    for every fold, the paper's procedure) or the leak-free ``p_select[j]``; a row without them
    is an error, never a silent NaN target."""
    if p_select is not None and len(p_select) != n_folds:
        raise ValueError(f"p_select has {len(p_select)} folds, the selection {n_folds}")

    def teacher(j: int, fit_idx: np.ndarray) -> np.ndarray:
        p_hat = (p_all if p_select is None else p_select[j])[fit_idx]
        if np.isnan(p_hat).any():
            raise ValueError(f"selection fold {j} lacks teacher probabilities for its rows")
        return p_hat

    return teacher
