"""A split's teachers: the full-data and cross-fit teachers, and those behind leak-free c- and
α-selection targets, fitted once (or read from a study's store)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from kdcli.data.dataset import Dataset
from kdcli.errors import KDError
from kdcli.experiment.split_context import SplitContext, TeacherStore
from kdcli.experiment.splits import derived_seed
from kdcli.science import budget
from kdcli.science.crossfit import TeacherPredictions, teacher_predictions
from kdcli.science.selection import selection_plan, selection_proba
from kdcli.science.teachers import BAGGED, TEACHER_DEFAULTS, make_teacher, probe
from kdcli.settings.fit import FitSettings, TeacherSettings
from kdcli.text import one_line


@dataclass(frozen=True)
class SplitTeachers:
    """A split's teacher predictions, whether they came from the store, and the wall seconds
    they took (fits, or the look-up)."""

    preds: TeacherPredictions
    cached: bool
    seconds: float


def split_teachers(
    context: SplitContext, ds: Dataset, store: TeacherStore | None = None
) -> SplitTeachers:
    """The teacher predictions of ``context``'s split: read from ``store`` when there, else
    fitted and, when complete (cross-fit ones included), put there."""
    t0 = time.perf_counter()
    settings, split, teacher = context.settings, context.split, context.teacher
    context.advance(context.label, 0)
    key = store_key(settings, len(context.folds.select_all))
    preds = store.get(ds, split, teacher, key) if store is not None else None
    if preds is not None:
        context.advance(context.label, settings.teacher_fits)
        return SplitTeachers(preds, True, time.perf_counter() - t0)
    preds = fit_teachers(context)
    if store is not None and settings.cross_fit:  # only complete predictions are kept
        info = {
            "dataset": ds.name,
            "teacher": teacher.label,
            "seed": split.seed,
            "repeat": split.repeat,
            "fold": split.fold,
        }
        store.put(ds, split, teacher, key, preds=preds, info=info)
    return SplitTeachers(preds, False, time.perf_counter() - t0)


def store_key(settings: FitSettings, n_select_folds: int) -> int | str:
    """The store key's part that names how the teachers cross-fit; leak-free c- and
    α-selection targets are kept with the predictions, under keys of their own."""
    crossfit = settings.folds if settings.crossfit == "folds" else settings.crossfit
    nested = [
        k
        for k, on in (("select_c", settings.nested_select), ("alpha", settings.nested_alpha))
        if on
    ]
    if not nested:
        return crossfit
    parts = "".join(f";{k}=nested" for k in nested)
    return f"{crossfit}{parts};select_folds={n_select_folds}"


def fit_teachers(context: SplitContext) -> TeacherPredictions:
    """The full-data and cross-fit teachers, and with ``nested_select`` (``nested_alpha``) those
    behind the leak-free targets of the folds that choose c (α); each fit is one step of
    progress. A library's refusal of a parameter value is reported in one line naming that
    parameter (values are checked by fitting, not before), any other failure as it is."""
    settings, teacher = context.settings, context.teacher
    oob = settings.cross_fit and settings.crossfit == "oob"
    params = {**teacher.full_params, "oob_score": True} if oob else teacher.full_params
    try:
        return _fit_all(context, params, oob)
    except KDError:
        raise
    except Exception as err:
        blamed = _blamed_params(teacher, params, context.rows.n_classes, err)
        if not blamed:
            raise
        detail = one_line(err, 200)
        raise KDError(f"teacher {teacher.name} does not accept {blamed}: {detail}") from err


@dataclass(frozen=True)
class _Pace:
    """How a split's teacher fits run: ``n_jobs`` side by side, each holding ``fit_threads``
    tokens of the core budget (fewer if ``elastic``), ``on_fit`` after each."""

    n_jobs: int
    fit_threads: int
    elastic: bool
    on_fit: Callable[[], None]


def _fit_all(context: SplitContext, params: dict, oob: bool) -> TeacherPredictions:
    settings, teacher, split, rows = context.settings, context.teacher, context.split, context.rows
    # K + 1 boosted fits run side by side, one thread each: OpenMP threads of one fit stall at
    # every barrier when a neighbour takes a core. A forest instead spreads its own trees over
    # threads that never wait for each other, so its fits run one after another on every core:
    # balanced to the last tree, where K + 1 one-thread fits on 2 cores leave one idle when
    # K + 1 is odd (the paper's 11).
    # Under a study's core budget (kdcli.science.budget) each fit holds a token per thread; a
    # forest's numbers do not depend on its threads, so it runs on as many as are free.
    side_by_side = (
        context.threads if settings.teacher_fits > 1 and teacher.name not in BAGGED else 1
    )
    per_fit = context.threads // side_by_side
    pace = _Pace(
        n_jobs=side_by_side,
        fit_threads=per_fit,
        elastic=teacher.name in BAGGED,
        on_fit=partial(context.advance, context.label, 1),
    )

    def make(seed: int = split.teacher_seed, params: dict = params) -> Any:
        return make_teacher(teacher.name, params, budget.held() or per_fit, seed)

    preds = teacher_predictions(
        make,
        rows.X_train,
        rows.y_train,
        rows.X_test,
        n_classes=rows.n_classes,
        folds=context.folds.crossfit,
        on_fit=pace.on_fit,
        cross_fit=settings.cross_fit,
        n_jobs=pace.n_jobs,
        oob=oob,
        fold_teacher=lambda k: make(split.crossfit_teacher_seed(k)),
        fit_threads=pace.fit_threads,
        elastic=pace.elastic,
    )
    if settings.nested_select:
        source = "oob" if oob else "out_of_fold"
        preds.select = _selection_teachers(
            context, lambda i: make(derived_seed(split.seed, "selection-teacher", i)), source, pace
        )
    if settings.nested_alpha:  # out-of-bag scores play no part in in-sample probabilities
        preds.select_in_sample = _selection_teachers(
            context,
            lambda i: make(derived_seed(split.seed, "alpha-teacher", i), teacher.full_params),
            "in_sample",
            pace,
        )
    return preds


def _selection_teachers(
    context: SplitContext, make: Callable[[int], Any], source: str, pace: _Pace
) -> np.ndarray:
    """Per selection fold j, its training rows' probabilities from teachers that never saw j
    (:func:`kdcli.science.selection.selection_proba`); ``make(i)`` builds the plan's teacher i."""
    rows, folds = context.rows, context.folds.select_all
    return selection_proba(
        make,
        rows.X_train,
        rows.y_train,
        rows.n_classes,
        plan=selection_plan(folds, source),
        n_folds=len(folds),
        source=source,
        n_jobs=pace.n_jobs,
        on_fit=pace.on_fit,
        fit_threads=pace.fit_threads,
        elastic=pace.elastic,
    )


def _blamed_params(teacher: TeacherSettings, params: dict, n_classes: int, err: Exception) -> str:
    """The user's parameters a teacher's failure is due to, as the options that gave them
    (``--teacher-param num_leaves=-5``), or "" when it is not theirs: the teacher with the same
    parameters fits small, clean data (:func:`kdcli.science.teachers.probe`), so the user's data
    failed it. Of several parameters, those the library refuses on their own are named."""
    if not teacher.params or not _is_parameter_error(err):
        return ""
    if probe(teacher.name, params, n_classes) is None:
        return ""
    base = {
        **TEACHER_DEFAULTS[teacher.name],
        **{k: v for k, v in params.items() if k not in teacher.params},  # kd's own, oob_score
    }
    keys = [
        key
        for key, value in teacher.params.items()
        if probe(teacher.name, {**base, key: value}, n_classes) is not None
    ] or list(teacher.params)  # refused only together
    options: dict[str, list[str]] = {}
    for key in keys:
        option = "--teacher-grid" if key in teacher.variant else "--teacher-param"
        options.setdefault(option, []).append(f"{key}={teacher.params[key]!r}")
    return " and ".join(f"{opt} {', '.join(given)}" for opt, given in options.items())


def _is_parameter_error(err: Exception) -> bool:
    """Errors libraries raise for a bad hyperparameter value (not, say, out of memory)."""
    names = {type(e).__name__ for e in (err, err.__cause__) if e is not None}
    return bool(
        names
        & {"ValueError", "TypeError", "LightGBMError", "XGBoostError", "InvalidParameterError"}
    )
