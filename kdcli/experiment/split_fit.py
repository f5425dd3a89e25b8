"""One split's fits: the teachers once, then every student x size x mode, held-out scores."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from kdcli.data.dataset import Dataset
from kdcli.experiment.split_context import (
    Advance,
    SplitContext,
    TeacherStore,
    no_progress,
    split_context,
)
from kdcli.experiment.splits import Split
from kdcli.experiment.student_fit import FitLog, Scored, SizeGroup, family_scores
from kdcli.experiment.teacher_fit import split_teachers
from kdcli.records import SPLIT_SIZES, TEACHER_ROW
from kdcli.science import budget
from kdcli.science.correction import select_alpha, select_c
from kdcli.science.crossfit import TeacherPredictions, take_rows
from kdcli.science.encoding import encode_for
from kdcli.science.metrics import classification_metrics, excess_risk
from kdcli.science.targets import base_mode, floor_proba, make_targets, one_hot, regression_columns
from kdcli.settings.fit import FitSettings, TeacherSettings


def count_steps(settings: FitSettings, n_splits: int) -> int:
    """Progress units: teacher fits plus student fits (c selection counts as one)."""
    per_split = len(settings.teachers) * settings.teacher_fits
    for family in settings.students:
        per_split += len(settings.teachers) * len(settings.sizes[family]) * len(settings.modes)
    return per_split * n_splits


@dataclass
class SplitResult:
    records: list[dict]  # long format (kdcli.records)
    latency: list[dict]  # prediction wall time per model, kept apart from the records
    timings: dict  # seconds, fit counts, whether the teacher came from the store


def run_split(
    ds: Dataset,
    split: Split,
    settings: FitSettings,
    teacher: TeacherSettings,
    *,
    threads: int = 1,
    advance: Advance = no_progress,
    store: TeacherStore | None = None,
    name: str | None = None,
) -> SplitResult:
    """All fits of one split and one teacher; ``name`` is the dataset's name in the records.

    With a ``store``, teacher predictions are read from it when present, else computed and put
    there.
    """
    context = split_context(ds, split, settings, teacher, threads=threads, advance=advance)
    teachers = split_teachers(context, ds, store)
    keys = {
        "dataset": name or ds.name,
        "repeat": split.repeat,
        "fold": split.fold,
        "seed": split.seed,
        "teacher": teacher.label,
    }
    scored = [_teacher_scored(context, teachers.preds)]
    t0 = time.perf_counter()
    log = FitLog()
    scored += _fit_students(context, teachers.preds, log)
    records = [row for s in scored for row in _records(context, keys, s)]
    # wall-clock, so kept apart from the (deterministic) results
    latency = [{**s.latency_row(), **keys} for s in scored if s.ms_per_10k is not None]
    students = time.perf_counter() - t0
    teacher_fits = 0 if teachers.cached else settings.teacher_fits
    timings = {
        "teacher_cached": teachers.cached,
        "teacher": teachers.seconds,
        "students": students,
        "fits": teacher_fits + log.count,
        # the teacher's share is its wall time: its fits plus their (small) predictions
        "fit_seconds": (teachers.seconds if teacher_fits else 0.0) + log.seconds,
    }
    return SplitResult(records, latency, timings)


def _teacher_scored(context: SplitContext, preds: TeacherPredictions) -> Scored:
    """The teacher's probabilities on its students' floor (log loss, Brier, p0_*), its own order
    for the predicted class and AUC; the split's sizes for the Nadeau–Bengio correction."""
    split = context.split
    sizes = dict(zip(SPLIT_SIZES, (len(split.train), len(split.test)), strict=True))
    student, size, mode = TEACHER_ROW
    return Scored(
        student=student,
        size=size,
        mode=mode,
        P=floor_proba(preds.test, context.settings.eps),
        ranking=preds.test,
        extra={**preds.size, **sizes},
        ms_per_10k=preds.ms_per_10k,
    )


def _records(context: SplitContext, keys: dict, scored: Scored) -> list[dict]:
    """One model's held-out scores and extra values in long format (kdcli.records)."""
    rows = context.rows
    scores = classification_metrics(rows.y_test, scored.P, scored.ranking)
    if rows.p0_test is not None:
        scores.update(excess_risk(scored.P, rows.p0_test, scored.ranking))
    scores.update(scored.extra)
    return [
        {
            **keys,
            "student": scored.student,
            "size": scored.size,
            "mode": scored.mode,
            "metric": metric,
            "value": float(value),
        }
        for metric, value in scores.items()
    ]


def _fit_students(context: SplitContext, preds: TeacherPredictions, log: FitLog) -> list[Scored]:
    """The families at once under a core budget, their scores in kd's order."""
    parts: list[Callable[[], list[Scored]]] = [
        partial(_family, context, preds, family, log) for family in context.settings.students
    ]
    return [scored for part in budget.side_by_side(parts) for scored in part]


def _family(
    context: SplitContext, preds: TeacherPredictions, family: str, log: FitLog
) -> list[Scored]:
    rows = context.rows
    F_train, F_test = encode_for(family, rows.X_train, rows.X_test)
    data = StudentData(
        F_train=F_train,
        F_test=F_test,
        y_train=rows.y_train,
        n_classes=rows.n_classes,
        teacher=preds,
        select_folds=context.folds.select,
        seed=context.split.student_seed(family),
        threads=context.threads,
    )
    return family_scores(
        data, family=family, settings=context.settings, advance=context.advance, log=log
    )


@dataclass(kw_only=True)
class StudentData:
    """What every student of one family on one split is fitted and scored on; it travels with
    the fits to a cluster's workers, so it holds no callback."""

    F_train: np.ndarray | pd.DataFrame
    F_test: np.ndarray | pd.DataFrame
    y_train: np.ndarray
    n_classes: int
    teacher: TeacherPredictions
    select_folds: list  # the folds that choose c of the correction
    seed: int  # every student of the family, any mode or size (Split.student_seed)
    threads: int  # fits side by side, each single-threaded

    def targets(self, mode: str, scale: str, eps: float, value: float | None = None) -> np.ndarray:
        """A mode's training targets; ``value`` is its chosen c (corrected) or α (mixed)."""
        y1h = one_hot(self.y_train, self.n_classes)
        base = base_mode(mode)
        T = make_targets(
            base,
            y1h,
            p_vanilla=self.teacher.in_sample,
            p_crossfit=self.teacher.out_of_fold,
            c=value if base == "corrected" else None,
            scale=scale,
            eps=eps,
            alpha=value if base == "mixed" else None,
        )
        return regression_columns(T, scale)

    def choose(
        self, mode: str, fit_predict: SizeGroup, scale: str, settings: FitSettings
    ) -> list[float | None]:
        """c of a corrected mode, α of a mixed one, per size, by one cross-validation; None for
        the modes without a setting to choose."""
        base = base_mode(mode)
        if base == "corrected":
            return [c for c, _scores in self.choose_c(fit_predict, scale, settings)]
        if base == "mixed":
            return [a for a, _scores in self.choose_alpha(fit_predict, scale, settings)]
        return [None] * len(fit_predict.sizes)

    def choose_alpha(
        self, fit_predict: SizeGroup, scale: str, settings: FitSettings
    ) -> list[tuple[float, dict[float, float]]]:
        assert settings.alpha_grid is not None  # set whenever a mode is mixed
        return select_alpha(
            lambda tr, T, held: fit_predict(tr, T, take_rows(self.F_train, held)),
            self.y_train,
            one_hot(self.y_train, self.n_classes),
            self.teacher.in_sample,
            self.select_folds,
            grid=settings.alpha_grid,
            scale=scale,
            eps=settings.eps,
            metric=settings.select_metric,
            n_jobs=self.threads,
            p_select=self._p_alpha(settings),
        )

    def _p_alpha(self, settings: FitSettings) -> np.ndarray | None:
        """Leak-free α-selection probabilities under ``select_c`` nested; None: the full-data
        teacher's in-sample ones."""
        if not settings.nested_alpha:
            return None
        if self.teacher.select_in_sample is None:
            raise RuntimeError("select_c nested: the teacher predictions lack their α part")
        return self.teacher.select_in_sample

    def choose_c(
        self, fit_predict: SizeGroup, scale: str, settings: FitSettings
    ) -> list[tuple[float, dict[float, float]]]:
        assert self.teacher.out_of_fold is not None  # a corrected mode implies cross-fitting
        return select_c(
            lambda tr, T, held: fit_predict(tr, T, take_rows(self.F_train, held)),
            self.y_train,
            one_hot(self.y_train, self.n_classes),
            self.teacher.out_of_fold,
            self.select_folds,
            grid=settings.c_grid,
            scale=scale,
            eps=settings.eps,
            metric=settings.select_metric,
            n_jobs=self.threads,
            p_select=self._p_select(settings),
        )

    def _p_select(self, settings: FitSettings) -> np.ndarray | None:
        """Leak-free c-selection probabilities under ``select_c`` nested; None: the paper's."""
        if settings.select_c != "nested":
            return None
        if self.teacher.select is None:
            raise RuntimeError("select_c nested: the teacher predictions lack their selection part")
        return self.teacher.select
