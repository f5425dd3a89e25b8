"""What every step of one split's fits shares, gathered once: the split's rows and folds, the
settings, the teacher, the threads and the progress callback. Steps take a
:class:`SplitContext` and their own few arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
import pandas as pd

from kdcli.data.dataset import Dataset
from kdcli.experiment.splits import Split, derived_seed
from kdcli.science.crossfit import TeacherPredictions, stratified_folds
from kdcli.science.encoding import model_names
from kdcli.science.selection_rows import Folds, selection_folds
from kdcli.settings.fit import FitSettings, TeacherSettings

Advance = Callable[[str, int], None]  # (what is running now, steps just finished)


def no_progress(_label: str, _done: int) -> None:
    """The progress callback of a run that nobody watches."""


class TeacherStore(Protocol):
    """Where teacher predictions of a split may be kept (a study's cache); see kdcli.study."""

    def get(
        self, ds: Dataset, split: Split, teacher: TeacherSettings, crossfit: int | str, /
    ) -> TeacherPredictions | None: ...

    def put(
        self,
        ds: Dataset,
        split: Split,
        teacher: TeacherSettings,
        crossfit: int | str,
        /,
        *,
        preds: TeacherPredictions,
        info: dict,
    ) -> None: ...


class TrainingFolds(NamedTuple):
    """The folds of a split's training rows (pairs of fit rows and held-out rows)."""

    crossfit: Folds  # the cross-fit teachers'
    select_all: Folds  # those that choose c and α, over every training row
    select: Folds  # the same, restricted to the selection subsample (``select_rows``)


def training_folds(y_train: np.ndarray, settings: FitSettings, seed: int) -> TrainingFolds:
    """The cross-fitting folds of a split's training rows, the folds that choose c and α, and
    those restricted to a stratified subsample of ``select_rows`` training rows where a split
    has more (leak-free selection teachers keep the full folds, whose rows outside fold j hold
    the subsample's: kdcli.science.selection_rows)."""
    folds = stratified_folds(y_train, settings.folds, seed)
    all_select = (
        folds
        if settings.select_folds in (None, settings.folds)
        else stratified_folds(y_train, settings.select_folds, seed)
    )
    select = selection_folds(
        all_select, y_train, settings.select_rows, derived_seed(seed, "select-rows")
    )
    return TrainingFolds(folds, all_select, select)


@dataclass(frozen=True, eq=False, kw_only=True)
class SplitRows:
    """A split's rows as its models see them: columns under the models' names, which results
    never show (:func:`kdcli.science.encoding.model_names`)."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    n_classes: int
    p0_test: np.ndarray | None = None  # the Bayes probabilities of the held-out rows, if known

    @classmethod
    def of(cls, ds: Dataset, split: Split) -> SplitRows:
        X = model_names(ds.X)
        return cls(
            X_train=X.iloc[split.train],
            X_test=X.iloc[split.test],
            y_train=ds.y[split.train],
            y_test=ds.y[split.test],
            n_classes=ds.n_classes,
            p0_test=ds.p0[split.test] if ds.p0 is not None else None,
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class SplitContext:
    """One split and one teacher: what its teacher fits, its student fits and its scores read.
    Its seeds are the split's (:class:`kdcli.experiment.splits.Split`)."""

    settings: FitSettings
    teacher: TeacherSettings
    split: Split
    rows: SplitRows
    folds: TrainingFolds
    threads: int = 1  # fits side by side (a core budget of that many tokens)
    advance: Advance = no_progress

    @property
    def label(self) -> str:
        """What the progress callback hears while the teachers fit."""
        return f"{self.split.where}: teacher {self.teacher.label}"


def split_context(
    ds: Dataset,
    split: Split,
    settings: FitSettings,
    teacher: TeacherSettings,
    *,
    threads: int = 1,
    advance: Advance = no_progress,
) -> SplitContext:
    """The context of ``split`` of ``ds`` for ``teacher``: its rows and their folds."""
    rows = SplitRows.of(ds, split)
    return SplitContext(
        settings=settings,
        teacher=teacher,
        split=split,
        rows=rows,
        folds=training_folds(rows.y_train, settings, split.seed),
        threads=threads,
        advance=advance,
    )
