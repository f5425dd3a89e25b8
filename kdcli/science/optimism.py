"""How optimistic the cross-validation that chooses c is, on a design whose p0 is known.

The CV estimate of a student's held-out log loss at each c, under the paper's targets and the
leak-free ones (:mod:`kdcli.science.selection`), against the student's true expected log loss on
new rows (from p0): the gap is the optimism a leak buys. Used by a test and by
``benchmarks/bench_select_c.py``.
"""

from __future__ import annotations

import numpy as np

from kdcli.data.synthetic import make_synthetic
from kdcli.science.correction import select_c
from kdcli.science.crossfit import stratified_folds, teacher_predictions
from kdcli.science.selection import selection_plan, selection_proba
from kdcli.science.students import fit_student, make_student
from kdcli.science.targets import make_targets, one_hot, regression_columns, to_proba
from kdcli.science.teachers import TEACHER_DEFAULTS, make_teacher

NEW_ROWS = 20_000  # rows of p0 the truth is measured on


def cv_optimism(
    n: int, noise: float, leaves: int, seed: int, grid: tuple[float, ...], n_jobs: int = 2
) -> dict:
    """Binary design of ``n`` training rows, default LightGBM teachers, ``leaves``-leaf tree
    students, 5 folds: per c, the true expected log loss and the CV estimates (paper, nested)."""
    X, y, p0 = make_synthetic("binary", n + NEW_ROWS, 10, noise, seed)
    X_train, y_train, X_new, p0_new = X[:n], y[:n], X[n:], p0[n:]
    folds = stratified_folds(y_train, 5, seed)
    params = TEACHER_DEFAULTS["lightgbm"]
    preds = teacher_predictions(
        lambda: make_teacher("lightgbm", params, 1, seed), X_train, y_train, X_new, 2, folds,
        n_jobs=n_jobs,
    )  # fmt: skip
    p_select = selection_proba(
        lambda i: make_teacher("lightgbm", params, 1, seed + 1 + i), X_train, y_train, 2,
        selection_plan(folds), 5, n_jobs=n_jobs,
    )  # fmt: skip

    def fit_predict(train, T, held):
        model = fit_student(make_student("tree", leaves, 1, seed), X_train[train], T)
        return [model.predict(X_train[held])]

    y1h = one_hot(y_train, 2)
    p_crossfit = preds.out_of_fold
    assert p_crossfit is not None  # teacher_predictions cross-fits by default
    args = (fit_predict, y_train, y1h, p_crossfit, folds, tuple(grid))
    ((c_paper, paper),) = select_c(*args, n_jobs=n_jobs)
    ((c_nested, nested),) = select_c(*args, n_jobs=n_jobs, p_select=p_select)
    truth = {}
    for c in grid:
        T = regression_columns(make_targets("corrected", y1h, p_crossfit=p_crossfit, c=c), "prob")
        model = fit_student(make_student("tree", leaves, 1, seed), X_train, T)
        P = to_proba(model.predict(X_new), 2, "prob", 1e-3)
        truth[c] = float(-(p0_new * np.log(P)).sum(axis=1).mean())
    return {
        "c": {"paper": c_paper, "nested": c_nested},
        "truth": truth,
        "optimism_paper": {c: truth[c] - paper[c] for c in grid},
        "optimism_nested": {c: truth[c] - nested[c] for c in grid},
    }
