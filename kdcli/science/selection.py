"""Leak-free teacher probabilities for the cross-validation that chooses c (``--select-c nested``).

The paper's procedure scores c on selection fold j with a student trained on the other rows,
whose targets are the cross-fit probabilities p̂(i): each from a teacher trained without row i's
fold, but *with* fold j. A teacher that fits fold j's labels passes them on to its predictions on
the rows around them, so targets close to the teacher (small c) score better on fold j than they
will on new rows, and the choice of c leans toward the teacher.

Here each selection fold j gets training targets of its own, from teachers that never saw fold
j, built like the targets they stand in for:

- ``out_of_fold`` (cross-fit p̂): a cross-fit within the rows outside j, over the other selection
  folds. The teacher that leaves out folds j and k serves both j (it predicts fold k) and k (it
  predicts fold j), so J selection folds cost J(J − 1)/2 teachers (10 for J = 5), each trained on
  (J − 2)/J of the training rows, where the final cross-fit teachers have (K − 1)/K.
- ``oob`` (a bagged teacher's out-of-bag p̂): one bagged teacher per fold j on the rows outside j,
  its out-of-bag probabilities: J teachers.
- ``in_sample`` (vanilla p̂): one teacher per fold j on the rows outside j, predicting those same
  rows: J teachers. No mode chooses c on them; they are the leak-free p̂ of the blend whose α
  mode ``mixed`` chooses by the same cross-validation (its own targets use the full-data
  teacher's in-sample p̂, which for fold j's training targets would have seen fold j).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kdcli.science.crossfit import fits, oob_proba, predict_full, take_rows

SELECT_C = ("paper", "nested")  # how the targets of the c-selection folds are made
SOURCES = ("out_of_fold", "oob", "in_sample")


@dataclass(frozen=True)
class TeacherFit:
    """One teacher of a plan: the rows it is fitted on and, per selection fold it serves, the rows
    whose probabilities it gives to that fold's training targets."""

    train: np.ndarray
    serves: tuple[tuple[int, np.ndarray], ...]  # (selection fold j, rows outside j)


def n_selection_fits(n_select_folds: int, source: str = "out_of_fold") -> int:
    """Teachers :func:`selection_plan` fits for ``n_select_folds`` folds, on top of the usual
    ones (the full-data teacher and the K cross-fit teachers)."""
    J = n_select_folds
    return J * (J - 1) // 2 if source == "out_of_fold" else J


def selection_plan(
    folds: list[tuple[np.ndarray, np.ndarray]], source: str = "out_of_fold"
) -> list[TeacherFit]:
    """The teachers behind leak-free targets for the selection ``folds`` ((fit, held) pairs
    whose held parts partition the rows): no teacher serving fold j has a row of fold j among
    its training rows, and with ``out_of_fold`` none predicts a row it was trained on."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    held = [np.sort(np.asarray(h)) for _fit, h in folds]
    n = sum(len(h) for h in held)
    if not np.array_equal(np.sort(np.concatenate(held)), np.arange(n)):
        raise ValueError("the held-out parts of the selection folds must partition the rows")
    if source == "out_of_fold" and len(folds) < 3:
        raise ValueError(
            "leak-free out-of-fold targets need at least 3 selection folds: with 2, the rows "
            "outside one fold are a single fold, which no teacher could predict without seeing it"
        )
    rows = np.arange(n)
    if source != "out_of_fold":  # one teacher on the rows outside each fold
        return [
            TeacherFit(outside, ((j, outside),))
            for j, h in enumerate(held)
            for outside in [np.setdiff1d(rows, h)]
        ]
    return [
        TeacherFit(np.setdiff1d(rows, np.union1d(held[j], held[k])), ((j, held[k]), (k, held[j])))
        for j, k in itertools.combinations(range(len(held)), 2)
    ]


def selection_proba(
    make_teacher: Callable[[int], Any],
    X,
    y: np.ndarray,
    n_classes: int,
    plan: list[TeacherFit],
    n_folds: int,
    source: str = "out_of_fold",
    n_jobs: int = 1,
    on_fit: Callable[[], None] | None = None,
    fit_threads: int = 1,
    elastic: bool = False,
) -> np.ndarray:
    """Fit the plan's teachers (``n_jobs`` at a time) and return, per selection fold j, the
    probabilities of its training rows: an (n_folds, n_rows, K) array, NaN on fold j's own rows.
    ``make_teacher(i)`` builds the plan's teacher i (e.g. with a seed of its own);
    ``source="oob"`` needs a bagged teacher made with ``oob_score=True``. Each fit holds
    ``fit_threads`` tokens of the core budget, fewer if ``elastic``
    (:func:`kdcli.science.crossfit.fits`), traced as an ``alpha-teacher`` for ``in_sample``,
    else a ``selection-teacher``."""

    def one(i: int) -> list[np.ndarray]:
        t = plan[i]
        teacher = make_teacher(i).fit(take_rows(X, t.train), y[t.train])
        if source == "oob":  # the teacher's training rows are the rows it serves, in order
            out = [oob_proba(teacher, n_classes)]
        else:
            out = [predict_full(teacher, take_rows(X, rows), n_classes) for _j, rows in t.serves]
        if on_fit is not None:
            on_fit()
        return out

    proba = np.full((n_folds, len(y), n_classes), np.nan)
    stage = "alpha-teacher" if source == "in_sample" else "selection-teacher"
    done = fits(one, range(len(plan)), n_jobs, stage, _plan_label, fit_threads, elastic)
    for t, probas in zip(plan, done, strict=True):
        for (j, rows), p in zip(t.serves, probas, strict=True):
            proba[j, rows] = p
    return proba


def _plan_label(i: int) -> str:
    return f"teacher {i}"
