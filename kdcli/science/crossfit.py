"""Teacher predictions: in-sample (vanilla KD), out-of-fold (cross-fitting) and on the test rows.

scikit-learn is imported where used: the settings import this module (through correction and
selection) as `kd` starts, and `kd --help` need not load it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from kdcli.errors import SettingError
from kdcli.science import budget

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class TeacherPredictions:
    """Everything the students need from one teacher configuration on one split."""

    in_sample: np.ndarray  # (n_train, K): full-data teacher on its own training rows
    out_of_fold: np.ndarray | None  # (n_train, K): row i from a teacher that never saw row i
    test: np.ndarray  # (n_test, K): full-data teacher on the held-out rows
    size: dict = field(default_factory=dict)  # trees, leaves, bytes of the full-data teacher
    ms_per_10k: float | None = None  # its prediction latency, when fitted in this run
    # (J, n_train, K), --select-c nested: per c-selection fold j, its training rows' probabilities
    # from teachers that never saw fold j (kdcli.science.selection); NaN on fold j's rows
    select: np.ndarray | None = None
    # (J, n_train, K), --select-c nested with mode mixed: per selection fold j, the in-sample
    # probabilities of a teacher trained on the rows outside j (α's leak-free p̂); NaN on fold j
    select_in_sample: np.ndarray | None = None


def stratified_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def ordered_proba(model, X) -> np.ndarray:
    """predict_proba, with a forest's trees summed in their own order.

    scikit-learn's forests add each tree's probabilities as their threads finish, so with
    n_jobs > 1 the rounding of the sum changes from run to run; every target built on it, and so
    every student fit, would too. Predicting on one thread keeps the numbers those of the seed.
    """
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.pipeline import Pipeline

    forests = (RandomForestClassifier, ExtraTreesClassifier)
    forest = model
    while not isinstance(forest, forests):
        if isinstance(forest, Pipeline):
            forest = forest[-1]
        elif hasattr(forest, "estimator_"):
            forest = forest.estimator_
        else:
            break
    if not isinstance(forest, forests) or forest.n_jobs in (None, 1):
        return model.predict_proba(X)
    threads = forest.n_jobs
    forest.set_params(n_jobs=1)
    try:
        return model.predict_proba(X)
    finally:
        forest.set_params(n_jobs=threads)


def predict_full(model, X, n_classes: int) -> np.ndarray:
    """predict_proba with one column per class 0..K-1, even if the model saw fewer classes."""
    proba = np.asarray(ordered_proba(model, X), dtype=float)
    proba /= proba.sum(axis=1, keepdims=True)  # float32 outputs (XGBoost) sum to 1 only roughly
    classes = np.asarray(model.classes_).astype(int)
    if len(classes) == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes] = proba
    return out


def take_rows(X, idx):
    return X.iloc[idx] if isinstance(X, pd.DataFrame) else X[idx]


def out_of_fold_proba(
    make_teacher: Callable[[], Any],
    X,
    y: np.ndarray,
    n_classes: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    on_fold: Callable[[int], None] | None = None,
    n_jobs: int = 1,
) -> np.ndarray:
    """Cross-fitting: each row's probabilities come from a teacher trained without its fold."""

    def one(k: int) -> np.ndarray:
        proba = _held_out_proba(make_teacher, X, y, n_classes, folds[k])
        if on_fold is not None:
            on_fold(k)
        return proba

    done = fits(one, range(len(folds)), n_jobs, "crossfit-teacher", _fold_label)
    return _stack(folds, done, len(y), n_classes)


def _fold_label(k: int) -> str:
    return "full" if k < 0 else f"fold {k}"


def _teacher_stage(k: int) -> str:
    return "teacher" if k < 0 else "crossfit-teacher"


def _held_out_proba(make_teacher, X, y, n_classes: int, fold) -> np.ndarray:
    fit_idx, held_idx = fold
    teacher = make_teacher().fit(take_rows(X, fit_idx), y[fit_idx])
    return predict_full(teacher, take_rows(X, held_idx), n_classes)


def _stack(folds, probas: list[np.ndarray], n_rows: int, n_classes: int) -> np.ndarray:
    oof = np.full((n_rows, n_classes), np.nan)
    for (_fit_idx, held_idx), proba in zip(folds, probas, strict=True):
        oof[held_idx] = proba
    if np.isnan(oof).any():
        raise ValueError("folds do not cover every training row")
    return oof


def fits(
    fn: Callable[[Item], Result],
    items: Iterable[Item],
    n_jobs: int = 1,
    stage: str | Callable[[Item], str] = "fit",
    label: Callable[[Item], str] = str,
    threads: int = 1,
    elastic: bool = False,
) -> list[Result]:
    """``[fn(item) for item in items]`` with up to ``n_jobs`` fits at a time, in threads.

    Independent single-threaded fits side by side keep every core busy without the barriers of
    a multi-threaded fit, whose OpenMP threads stall whenever one of them is descheduled (a
    busy neighbour process): the fits the libraries run release the GIL. Results keep the
    order of ``items``, so the numbers do not depend on ``n_jobs``. Each call of ``fn`` is one
    fit of ``threads`` threads: it holds that many tokens of the core budget while it runs,
    traced as ``stage`` (a name, or one per item) and ``label(item)``
    (:meth:`kdcli.science.budget.Batch.slot`; ``elastic``: it may run on fewer threads). In a
    spreading unit (:func:`kdcli.science.budget.spreading`) the fits run as tasks of the cluster
    instead, all at once, so ``fn`` must survive pickling and its side effects other than a
    :class:`kdcli.science.budget.Tally`'s are lost.
    """
    todo = list(items)
    batch = budget.Batch()

    def name(item: Item) -> str:
        return stage(item) if callable(stage) else stage

    def one(item: Item) -> Result:
        with batch.slot(name(item), label(item), threads, elastic):
            return fn(item)

    if batch.spread is not None and len(todo) > 1:  # a Dask unit: fits go to the cluster
        plan = [(name(item), label(item), threads, elastic) for item in todo]
        return batch.spread_map(fn, todo, plan)
    if n_jobs <= 1 or len(todo) <= 1:
        return [one(item) for item in todo]
    from sklearn.utils.parallel import Parallel, delayed

    return Parallel(n_jobs=min(n_jobs, len(todo)), prefer="threads")(
        delayed(one)(item) for item in todo
    )


def teacher_predictions(
    make_teacher: Callable[[], Any],
    X_train,
    y_train: np.ndarray,
    X_test,
    n_classes: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    on_fit: Callable[[], None] | None = None,
    cross_fit: bool = True,
    n_jobs: int = 1,
    oob: bool = False,
    fold_teacher: Callable[[int], Any] | None = None,
    fit_threads: int = 1,
    elastic: bool = False,
) -> TeacherPredictions:
    """Fit the full-data teacher once and (when ``cross_fit``) the K cross-fit teachers once,
    ``n_jobs`` fits at a time. With ``oob`` (a bagged teacher built with ``oob_score=True``) its
    out-of-bag probabilities stand in for the cross-fit ones: no further fits.
    ``fold_teacher(k)`` builds cross-fit teacher k (default ``make_teacher()``), e.g. with a seed
    of its own. Each fit holds ``fit_threads`` tokens of the core budget, fewer if ``elastic``
    (:func:`fits`); the teachers are built inside, so they can take their threads from
    :func:`kdcli.science.budget.held`."""
    from kdcli.science.model_size import model_size

    def job(k: int) -> np.ndarray | TeacherPredictions:
        out: np.ndarray | TeacherPredictions
        if k >= 0:
            make = make_teacher if fold_teacher is None else (lambda: fold_teacher(k))
            out = _held_out_proba(make, X_train, y_train, n_classes, folds[k])
        else:  # the full-data teacher
            teacher = make_teacher().fit(X_train, y_train)
            in_sample = predict_full(teacher, X_train, n_classes)
            t0 = time.perf_counter()
            test = predict_full(teacher, X_test, n_classes)
            ms_per_10k = 1000.0 * (time.perf_counter() - t0) * 10_000 / max(len(test), 1)
            out = TeacherPredictions(in_sample, None, test, model_size(teacher), ms_per_10k)
            if oob and cross_fit:
                out.out_of_fold = oob_proba(teacher, n_classes)
        if on_fit is not None:
            on_fit()
        return out

    # modes raw/vanilla only: the K cross-fit teachers would go unused
    done = fits(
        job,
        range(-1, len(folds) if cross_fit and not oob else 0),
        n_jobs,
        _teacher_stage,
        _fold_label,
        fit_threads,
        elastic,
    )
    # job(-1), the full-data teacher, comes first; the cross-fit teachers' probabilities follow
    preds = cast(TeacherPredictions, done[0])
    if cross_fit and not oob:
        oof = cast(list[np.ndarray], done[1:])
        preds.out_of_fold = _stack(folds, oof, len(y_train), n_classes)
    return preds


def oob_proba(model, n_classes: int) -> np.ndarray:
    """Out-of-bag class probabilities of a fitted bagged ensemble: row i's come only from the
    trees whose bootstrap sample left row i out, so, like cross-fitting, no tree saw its row.

    A row that every tree drew has no such trees. scikit-learn writes its probabilities as 0/0 = 0,
    not NaN, so such rows are found from the bootstrap samples themselves and refused: a
    prediction from a tree that saw the row would leak its label into the targets, and one from
    a separate forest would mix two kinds of target. :func:`check_oob_trees` refuses, before any
    fit, forests too small for their rows; this catches the rare draw that still misses a row.
    """
    forest = model.steps[-1][1] if hasattr(model, "steps") else model
    proba = np.asarray(forest.oob_decision_function_, dtype=float)
    missing = never_out_of_bag(forest)
    if len(missing):
        trees, rows = len(forest.estimators_), len(proba)
        drawn = len(forest.estimators_samples_[0])
        raise SettingError(
            "crossfit",
            f"{{opt}} oob: {len(missing)} of {rows:,} training rows are in the bootstrap sample "
            f"of all {trees} trees of the forest teacher, so they have no out-of-bag prediction; "
            f"use n_estimators={max(oob_trees_needed(rows, drawn), 2 * trees)} or more for it, "
            "or {opt} folds",
        )
    out = np.zeros((proba.shape[0], n_classes))
    out[:, np.asarray(forest.classes_).astype(int)] = proba
    return out / out.sum(axis=1, keepdims=True)


def never_out_of_bag(forest) -> np.ndarray:
    """The training rows in the bootstrap sample of every tree of a fitted bagged ``forest``."""
    samples = forest.estimators_samples_
    rows = len(forest.oob_decision_function_)
    left_out = np.zeros(rows, dtype=bool)
    for drawn in samples:
        left_out |= np.bincount(drawn, minlength=rows) == 0
    return np.flatnonzero(~left_out)


OOB_RISK = 1e-3  # the largest chance kd accepts that some training row is never out of bag


def bootstrap_rows(rows: int, max_samples=None) -> int:
    """Rows a tree's bootstrap sample draws (with replacement): scikit-learn's ``max_samples``
    (None: ``rows``; a fraction: that share, at least 1; an integer: that many)."""
    if max_samples is None:
        return rows
    if isinstance(max_samples, float):
        return max(round(rows * max_samples), 1)
    return int(max_samples)


def in_bag_chance(rows: int, drawn: int) -> float:
    """The chance that one bootstrap sample of ``drawn`` draws from ``rows`` holds a given row:
    1 − (1 − 1/rows)^drawn, about 1 − 1/e = 0.632 when ``drawn`` = ``rows``."""
    return 1.0 - (1.0 - 1.0 / rows) ** drawn


def oob_trees_needed(rows: int, drawn: int | None = None, risk: float = OOB_RISK) -> int:
    """The fewest trees for which the chance that some of ``rows`` training rows is in every
    tree's bootstrap sample is at most ``risk``.

    A row is in all T samples with chance q^T (q = :func:`in_bag_chance`), so by the union bound
    some row is with chance at most rows · q^T; T = ⌈log(rows / risk) / log(1/q)⌉. At the
    default risk 1e-3: 23 trees for 30 rows, 31 for 1,000, 46 for 1,000,000 (q ≈ 0.632).
    """
    q = in_bag_chance(rows, rows if drawn is None else drawn)
    if q >= 1.0:  # a single row, or one draw per row of one row: never out of bag
        raise ValueError(f"{rows} row(s) drawn {drawn} times leave no row out of bag")
    return max(1, math.ceil(math.log(rows / risk) / -math.log(q)))


def check_oob_trees(label: str, params: dict, rows: int) -> None:
    """Refuse, before any fit, a forest teacher whose out-of-bag predictions would miss rows:
    one of ``params['n_estimators']`` trees on ``rows`` training rows, too few for
    :func:`oob_trees_needed`, or one without bootstrap samples. ``label`` names the teacher."""
    if params.get("bootstrap") is False:
        raise SettingError(
            "crossfit",
            f"{{opt}} oob needs bootstrap samples; the {label} teacher has bootstrap=False: "
            "drop that parameter, or use {opt} folds",
        )
    trees = int(params.get("n_estimators", 100))
    drawn = bootstrap_rows(rows, params.get("max_samples"))
    needed = oob_trees_needed(rows, drawn)
    if trees >= needed:
        return
    stuck = rows * in_bag_chance(rows, drawn) ** trees  # expected rows never out of bag
    risk = (
        f"about {stuck:,.0f} of them would be"
        if stuck >= 1
        else f"up to a {stuck:.1%} chance that some row is"
    )
    raise SettingError(
        "crossfit",
        f"{{opt}} oob: {trees} tree(s) are too few for {rows:,} training rows: {risk} in every "
        f"tree's bootstrap sample, with no out-of-bag prediction; use n_estimators={needed} or "
        f"more for the {label} teacher, or {{opt}} folds",
    )
