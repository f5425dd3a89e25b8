"""The outer train/test splits of a dataset, checked before anything is fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from kdcli.data.dataset import Dataset
from kdcli.errors import SettingError
from kdcli.science.crossfit import check_oob_trees
from kdcli.science.students import check_memory
from kdcli.science.teacher_model import check_fits_data
from kdcli.science.teachers import BAGGED
from kdcli.settings.execution import available_memory
from kdcli.settings.fit import FitSettings


def derived_seed(seed: int, *path: str | int) -> int:
    """The seed of one model of a split: numpy's ``SeedSequence(seed)`` with ``path`` as its
    spawn key (a name counts as the integer of its UTF-8 bytes), its first 32-bit word.

    Models on different paths draw independent streams, unlike seeds ``seed + i`` or one seed
    shared by all, and the value depends only on ``seed`` and ``path``: the same on every
    machine and executor, in 0..2**32 − 1.
    """
    key = tuple(p if isinstance(p, int) else int.from_bytes(p.encode(), "big") for p in path)
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])


@dataclass(frozen=True, kw_only=True)
class Split:
    """One outer train/test split. Its ``seed`` (``--seed`` + repeat for kd's own splits; for a
    task's official fold f, :func:`fold_seed`) draws the split, the cross-fitting folds and the
    full-data teacher; every other model has a seed of its own derived from it
    (:func:`derived_seed`), so no two models share random draws:

    - cross-fit teacher k: ``derived_seed(seed, "crossfit-teacher", k)``;
    - students of a family: ``derived_seed(seed, "student", family)``, for every mode and size
      (the modes of a family differ only in their targets, a paired comparison; the size stays
      out, so a forest's k-tree prefix is still the k-tree forest) and for the fits that choose c.
    """

    repeat: int
    fold: int
    seed: int
    train: np.ndarray
    test: np.ndarray

    @property
    def where(self) -> str:
        return f"repeat {self.repeat}" + (f" fold {self.fold}" if self.fold else "")

    @property
    def teacher_seed(self) -> int:
        """The full-data teacher's seed: the split's own."""
        return self.seed

    def crossfit_teacher_seed(self, k: int) -> int:
        """Cross-fit teacher k's seed: not the full-data teacher's, whose trees would otherwise
        draw the same features (and correlated bootstrap positions) on nine tenths of its rows."""
        return derived_seed(self.seed, "crossfit-teacher", k)

    def student_seed(self, family: str) -> int:
        """The seed of every student of ``family``: independent of the teachers', so student
        tree i is not grown on the bootstrap rows of teacher tree i."""
        return derived_seed(self.seed, "student", family)


def make_splits(
    ds: Dataset, settings: FitSettings, only: tuple[int, int] | None = None
) -> list[Split]:
    """A task's official folds where the dataset has them, else seeded stratified splits; with
    ``only`` = (repeat, fold), that one split (a study's unit)."""
    if ds.outer_splits is not None:
        splits = _official_splits(ds, settings, only)
    else:
        splits = _own_splits(ds, settings, only)
    _check_memory(ds, settings, splits)
    _check_oob(settings, splits)
    for teacher in settings.teachers:  # --teacher-model: its features and classes are the data's
        if teacher.model:
            check_fits_data(teacher.model, [str(c) for c in ds.X.columns], ds.n_classes)
    return splits


def _check_memory(ds: Dataset, settings: FitSettings, splits: list[Split]) -> None:
    """Student sizes against the rows they are fitted on: a forest grows with both, and one per
    mode (and a cross-validation fit) is held at once; refused here, before any fit."""
    if not splits:
        return
    rows = max(len(s.train) for s in splits)
    outputs = 1 if ds.n_classes == 2 else ds.n_classes
    available = available_memory()
    for family in settings.students:
        check_memory(
            family, list(settings.sizes[family]), rows, outputs, len(settings.modes) + 1, available
        )


def _check_oob(settings: FitSettings, splits: list[Split]) -> None:
    """Under ``--crossfit oob``, forest teachers with enough trees for their rows to each be
    out of bag somewhere: the full-data teacher on a split's training rows and, under
    ``--select-c nested``, a selection teacher on the rows outside one selection fold."""
    if not splits or not (settings.cross_fit and settings.crossfit == "oob"):
        return
    rows = max(len(s.train) for s in splits)
    sizes = {rows}
    if settings.nested_select:
        J = settings.select_folds or settings.folds
        sizes.add(rows - -(-rows // J))  # outside the largest selection fold
    for teacher in settings.teachers:
        if teacher.name in BAGGED:
            for n in sorted(sizes, reverse=True):
                check_oob_trees(teacher.label, teacher.full_params, n)


def _own_splits(ds: Dataset, settings: FitSettings, only: tuple[int, int] | None) -> list[Split]:
    if settings.outer_folds is not None:
        raise SettingError(
            "folds_outer", "{opt} applies to openml-task: datasets, which have official folds"
        )
    counts = np.bincount(ds.y, minlength=ds.n_classes)
    smallest = int(counts.min())
    if smallest < 2:
        name = ds.class_names[int(counts.argmin())]
        raise SettingError(
            "dataset",
            f"class '{name}' of {ds.name} has {smallest} row; a held-out split needs >= 2 rows "
            "per class: drop that class from the file",
        )
    repeats = range(settings.repeats) if only is None else [only[0]]
    splits = []
    for r in repeats:
        seed = settings.seed + r
        try:
            train, test = train_test_split(
                np.arange(ds.n_rows), test_size=settings.test_size, stratify=ds.y, random_state=seed
            )
        except ValueError as err:
            raise SettingError(
                "test_size", f"cannot split {ds.name} with {{opt}} {settings.test_size}: {err}"
            ) from None
        _check_training_classes(ds, ds.y[train], settings)
        splits.append(Split(repeat=r, fold=0, seed=seed, train=np.sort(train), test=np.sort(test)))
    return splits


def _check_training_classes(ds: Dataset, y_train: np.ndarray, settings: FitSettings) -> None:
    folds, param = settings.most_folds
    train_counts = np.bincount(y_train, minlength=ds.n_classes)
    if train_counts.min() < folds:
        k = int(train_counts.argmin())
        raise SettingError(
            param,
            f"class '{ds.class_names[k]}' has {int(train_counts[k])} training rows, fewer than "
            f"{{opt}} {folds}; use {{opt}} {max(2, int(train_counts[k]))} or fewer"
            if train_counts[k] >= 2
            else f"class '{ds.class_names[k]}' has {int(train_counts[k])} training row(s); "
            "cross-fitting needs >= 2: drop that class or lower --test-size",
        )


def _official_splits(
    ds: Dataset, settings: FitSettings, only: tuple[int, int] | None
) -> list[Split]:
    """The task's folds for repeats 0..R-1 and the chosen outer folds.

    Rare classes are not refused here: with official folds a class may have fewer training rows
    than the folds; cross-fitting then sees it in some folds only, which the teachers tolerate.
    """
    assert ds.outer_splits is not None  # make_splits calls this only for a task with folds
    repeats = 1 + max(s.repeat for s in ds.outer_splits)
    n_folds = 1 + max(s.fold for s in ds.outer_splits)
    if settings.repeats > repeats:
        raise SettingError(
            "repeats", f"{ds.name} has {repeats} official repeat(s); use {{opt}} {repeats} or less"
        )
    wanted = settings.outer_folds if settings.outer_folds is not None else range(n_folds)
    bad = [f for f in wanted if f >= n_folds]
    if bad:
        raise SettingError(
            "folds_outer", f"{ds.name} has folds 0-{n_folds - 1}; {{opt}} asks for fold {bad[0]}"
        )
    most, param = settings.most_folds
    splits = []
    for s in ds.outer_splits:
        if only is not None and (s.repeat, s.fold) != only:
            continue
        if s.repeat < settings.repeats and s.fold in wanted:
            if np.bincount(ds.y[s.train], minlength=ds.n_classes).max() < most:
                raise SettingError(
                    param, f"{ds.name} fold {s.fold} has too few training rows for {{opt}} {most}"
                )
            seed = fold_seed(settings.seed, s.repeat, s.fold)
            splits.append(
                Split(repeat=s.repeat, fold=s.fold, seed=seed, train=s.train, test=s.test)
            )
    return splits


def fold_seed(seed: int, repeat: int, fold: int) -> int:
    """The seed of official fold ``fold`` of ``repeat``: ``derived_seed(seed + repeat, "fold",
    fold)``, so the folds of one repeat draw independent teachers, students and cross-fits
    (``seed + repeat`` for all of them made every fold's models share random draws)."""
    return derived_seed(seed + repeat, "fold", fold)
