"""`kd distill` on one set of rows: the teachers, the choice of target by cross-validation
within those rows, then one student on every row.

The choice among targets uses the cross-validation that chooses c and α (the selection folds,
:func:`kdcli.science.correction.cv_scores`): each candidate mode's student is fitted on the rows
outside selection fold j and scored against the labels of fold j. With ``select_c`` nested (the
default of `kd distill`) fold j's teacher-based targets come from teachers that never saw fold
j, so a target close to the teacher gains nothing from the teacher having fitted the very labels
it is scored on; the paper's procedure lets those teachers see fold j, which favours the teacher.
Each candidate's score is its best over its own grid (c, α): slightly optimistic for corrected
and mixed, so the choice takes the simplest candidate within one standard error of the best
(:func:`one_se_choice`), and `kd distill` estimates the error of the whole procedure apart
(:mod:`kdcli.distilled.estimate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from kdcli.distilled.model import latency
from kdcli.distilled.student import build_student, fit_student
from kdcli.errors import KDError
from kdcli.experiment.split_context import SplitContext, SplitRows, training_folds
from kdcli.experiment.splits import Split
from kdcli.experiment.teacher_fit import fit_teachers
from kdcli.science import budget
from kdcli.science.correction import cv_scores
from kdcli.science.crossfit import TeacherPredictions
from kdcli.science.encoding import OrdinalCodes, categorical_columns, model_names
from kdcli.science.nested import largest, prefix_predictions, size_groups
from kdcli.science.targets import (
    MODES,
    base_mode,
    make_targets,
    mode_scale,
    mode_sort_key,
    one_hot,
    regression_columns,
)
from kdcli.science.teacher_model import as_is_proba
from kdcli.settings.fit import FitSettings

AUTO = "auto"
CANDIDATES = MODES  # what --mode auto chooses among
SIZE_GRID: dict[str, list[int | str]] = {  # what --size auto chooses among
    "tree": [4, 8, 16, 32, 64, 128, 256, 512, 1024, "full"],
    "rf": [1, 2, 5, 10, 20, 50, 100],
    "gbdt": [5, 10, 20, 50, 100, 200, 500],
    "linear": [1, 10, 100, 1000],
}


@dataclass(frozen=True)
class Candidate:
    """One target's cross-validated score (the selection metric as a loss, lower is better)
    at its best c or α, with the standard error of its mean over the selection folds."""

    mode: str
    value: float | None  # c (corrected) or α (mixed) at its best; None for the others
    cv: float
    se: float
    folds: tuple[float, ...]  # the per-fold scores behind cv and se

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "value": self.value,
            "cv": self.cv,
            "se": self.se,
            "folds": list(self.folds),
        }


class Predictor(Protocol):
    """What kd asks of a fitted student: a scikit-learn or LightGBM model, untyped upstream."""

    def predict(self, X: np.ndarray) -> np.ndarray: ...


@dataclass
class Distilled:
    """A student fitted on every row, and how its target was chosen."""

    student: Predictor  # fitted on the code matrix (kdcli.distilled.student)
    family: str
    size: int | str
    mode: str
    value: float | None  # c or α of the chosen mode
    scale: str
    eps: float
    n_classes: int
    n_features: int
    categorical: list[int]  # positions of the categorical columns among the features
    metric: str  # the selection metric the candidates were scored on
    candidates: list[Candidate]
    teacher_size: dict = field(default_factory=dict)
    teacher_ms_per_10k: float | None = None
    sizes: list[dict] | None = None  # --size auto: every size's choice, bytes and latency

    @property
    def value_name(self) -> str | None:
        return {"corrected": "c", "mixed": "alpha"}.get(base_mode(self.mode))

    def raw(self, codes: np.ndarray) -> np.ndarray:
        """The student's outputs on a code matrix, before :func:`to_proba`."""
        return self.student.predict(codes)


def codes_of(X: pd.DataFrame) -> np.ndarray:
    """The one numeric matrix a distilled student reads: numbers as they are, categories as
    their codes, missing as NaN (:class:`kdcli.science.encoding.OrdinalCodes`)."""
    return OrdinalCodes().transform(X)


def categorical_positions(X: pd.DataFrame) -> list[int]:
    cats = set(categorical_columns(X))
    return [i for i, c in enumerate(X.columns) if c in cats]


@dataclass(frozen=True)
class DistillRequest:
    """What to distil, beside the fit settings: the student, how its target (and with ``size``
    auto its size) is chosen, and the budget a chosen size must keep."""

    family: str
    size: int | str  # a size, or "auto" (chosen among SIZE_GRID within the budget)
    mode: str  # a mode, or "auto"
    estimate_folds: int = 5  # 0: no outer estimate
    threads: int = 1
    teacher_as_is: bool = False  # a --teacher-model itself as the full-data teacher
    max_bytes: int | None = None  # model.onnx at most this many bytes (size auto)
    max_ms_per_10k: float | None = None  # onnxruntime batch latency at most this (size auto)


def distill_rows(
    X: pd.DataFrame,
    y: np.ndarray,
    n_classes: int,
    fit: FitSettings,
    request: DistillRequest,
    seed: int,
    teacher_as_is: bool | None = None,
) -> Distilled:
    """Teachers on ``X``, the target (and with size auto the size) chosen by cross-validation
    within these rows, then the student on all of them. With ``teacher_as_is`` (default: the
    request's) the --teacher-model itself gives the in-sample probabilities (it was trained on
    these rows); the other teachers are refits."""
    as_is = request.teacher_as_is if teacher_as_is is None else teacher_as_is
    with budget.own_budget(request.threads):
        return _distill(X, y, n_classes, fit, request, seed, as_is)


@dataclass
class _Rows:
    """One distillation's rows and teachers: what every size and candidate is fitted on."""

    codes: np.ndarray
    y: np.ndarray
    n_classes: int
    preds: TeacherPredictions
    select: list  # the selection folds
    categorical: list[int]
    seed: int  # the student's
    scale: str
    candidates: list[str]


def _distill(X, y, n_classes, fit: FitSettings, request: DistillRequest, seed, as_is) -> Distilled:
    user_frame, X = X, model_names(X)
    rows = np.arange(len(y))
    split = Split(repeat=0, fold=0, seed=seed, train=rows, test=rows)
    folds = training_folds(y, fit, seed)
    every = SplitRows(X_train=X, X_test=X, y_train=y, y_test=y, n_classes=n_classes)
    context = SplitContext(
        settings=fit,
        teacher=fit.teacher,
        split=split,
        rows=every,
        folds=folds,
        threads=request.threads,
    )
    preds = fit_teachers(context)
    if as_is:
        preds.in_sample = as_is_proba(fit.teacher.model, user_frame, n_classes)
    candidates = list(fit.modes) if request.mode == AUTO else [request.mode]
    data = _Rows(
        codes_of(X), y, n_classes, preds, folds.select, categorical_positions(X),
        split.student_seed(request.family), mode_scale(candidates[0], fit.scale), candidates,
    )  # fmt: skip
    if request.size == AUTO:
        return choose_size(data, fit, request)
    size = request.size
    scored = _score(data, fit, request, size)
    best = one_se_choice(scored)
    return _distilled(
        data, fit, request, size, best, scored, _final(data, fit, request, size, best)
    )


def _score(data: _Rows, fit: FitSettings, request: DistillRequest, size) -> list[Candidate]:
    return _score_sizes(data, fit, request, [size])[0]


def _score_sizes(
    data: _Rows, fit: FitSettings, request: DistillRequest, sizes: list
) -> list[list[Candidate]]:
    return score_sizes(
        data.candidates, data.codes, data.y, data.n_classes, data.preds, data.select, fit,
        request.family, sizes, data.categorical, data.seed, request.threads,
    )  # fmt: skip


def _final(data: _Rows, fit: FitSettings, request: DistillRequest, size, best: Candidate):
    """The student of ``size`` on every row, on the chosen target."""
    base = base_mode(best.mode)
    targets = make_targets(
        base,
        one_hot(data.y, data.n_classes),
        data.preds.in_sample,
        data.preds.out_of_fold,
        best.value if base == "corrected" else None,
        data.scale,
        fit.eps,
        best.value if base == "mixed" else None,
    )
    student = build_student(request.family, size, data.categorical, data.seed)
    return fit_student(student, data.codes, regression_columns(targets, data.scale))


def _distilled(data: _Rows, fit, request, size, best, scored, student, sizes=None) -> Distilled:
    return Distilled(
        student=student,
        family=request.family,
        size=size,
        mode=best.mode,
        value=best.value,
        scale=data.scale,
        eps=fit.eps,
        n_classes=data.n_classes,
        n_features=data.codes.shape[1],
        categorical=data.categorical,
        metric=fit.select_metric,
        candidates=scored,
        teacher_size=dict(data.preds.size),
        teacher_ms_per_10k=data.preds.ms_per_10k,
        sizes=sizes,
    )


def choose_size(data: _Rows, fit: FitSettings, request: DistillRequest) -> Distilled:
    """``--size auto``: every size of the family's grid (the settings' sizes) gets its own choice
    of target and its student on every row, exported to measure model.onnx's bytes and batch
    latency; of the sizes within the budget, the smallest whose CV score is within one SE of
    the best one's. Refused in one line when no size fits."""
    from kdcli.distilled.onnx_export import student_onnx  # onnx loads only to export

    rows = []
    sizes = list(fit.sizes[request.family])
    # nested sizes (kdcli.science.nested) share their cross-validation fits
    for size, scored in zip(sizes, _score_sizes(data, fit, request, sizes), strict=True):
        best = one_se_choice(scored)
        student = _final(data, fit, request, size, best)
        graph = student_onnx(
            student, request.family, data.codes.shape[1], data.n_classes, data.scale, fit.eps
        ).SerializeToString()
        speed = latency(graph, data.codes, repeats=0)["batch_ms_per_10k"]
        fits = (request.max_bytes is None or len(graph) <= request.max_bytes) and (
            request.max_ms_per_10k is None or speed <= request.max_ms_per_10k
        )
        rows.append((size, best, scored, student, len(graph), speed, fits))
    feasible = [r for r in rows if r[6]]
    if not feasible:
        smallest = min(rows, key=lambda r: r[4])
        raise KDError(
            f"no {request.family} student fits the budget ({_budget(request)}): the smallest, "
            f"size {smallest[0]}, takes {smallest[4]:,} bytes and {smallest[5]:.2f} ms per "
            "10,000 rows; raise the budget or choose another --student"
        )
    top = min(feasible, key=lambda r: r[1].cv)
    chosen = next(r for r in feasible if r[1].cv <= top[1].cv + top[1].se)  # smallest first
    table = [
        {
            "size": r[0],
            "mode": r[1].mode,
            "value": r[1].value,
            "cv": r[1].cv,
            "se": r[1].se,
            "onnx_bytes": r[4],
            "batch_ms_per_10k": r[5],
            "within_budget": r[6],
            "chosen": r is chosen,
        }
        for r in rows
    ]
    size, best, scored, student = chosen[:4]
    return _distilled(data, fit, request, size, best, scored, student, table)


def _budget(request: DistillRequest) -> str:
    parts = []
    if request.max_bytes is not None:
        parts.append(f"--max-bytes {request.max_bytes:,}")
    if request.max_ms_per_10k is not None:
        parts.append(f"--max-ms-per-10k {request.max_ms_per_10k:g}")
    return ", ".join(parts) or "none"


def score_sizes(
    candidates: list[str],
    codes: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    preds: TeacherPredictions,
    folds: list,
    fit: FitSettings,
    family: str,
    sizes: list,
    categorical: list[int],
    seed: int,
    threads: int = 1,
) -> list[list[Candidate]]:
    """Per size (in their order), every candidate's selection-fold score at its best c or α.

    Fold j's teacher-based targets come from the leak-free teachers where they were fitted
    (``select_c`` nested), else from the teachers on every row (the paper's procedure). Sizes
    that nest (kdcli.science.nested: a tree's sizes but ``full``, every forest or booster size)
    are scored on the predictions of one fit of the largest, the numbers of a fit per size."""
    y1h = one_hot(y, n_classes)
    scale = mode_scale(candidates[0], fit.scale)
    grid = [(m, v) for m in candidates for v in _values(m, fit)]

    def targets(item, j: int, fit_idx: np.ndarray) -> np.ndarray:
        mode, value = item
        base = base_mode(mode)
        p_in = preds.in_sample if preds.select_in_sample is None else preds.select_in_sample[j]
        p_cf = preds.out_of_fold if preds.select is None else preds.select[j]
        return make_targets(
            base,
            y1h[fit_idx],
            None if p_in is None else p_in[fit_idx],
            None if p_cf is None else p_cf[fit_idx],
            value if base == "corrected" else None,
            scale,
            fit.eps,
            value if base == "mixed" else None,
        )

    by_size: dict[str, list[Candidate]] = {}
    for group in size_groups(family, list(sizes)):

        def fit_predict(train_idx, T, predict_idx, group=group):
            student = build_student(family, largest(group), categorical, seed)
            model = fit_student(student, codes[train_idx], T)
            if len(group) == 1:
                return [model.predict(codes[predict_idx])]
            return prefix_predictions(model, codes[predict_idx], [int(k) for k in group])

        values = cv_scores(
            fit_predict,
            targets,
            y,
            n_classes,
            folds,
            grid,
            scale,
            fit.eps,
            fit.select_metric,
            n_jobs=threads,
            stage="select-target",
        )
        for k, size in enumerate(group):
            by_size[str(size)] = _best_per_mode(candidates, grid, values[:, :, k])
    return [by_size[str(size)] for size in sizes]


def _best_per_mode(candidates: list[str], grid: list, values: np.ndarray) -> list[Candidate]:
    """Each candidate at its best c or α: the lowest mean over the selection folds."""
    out = []
    for mode in candidates:
        idx = [i for i, (m, _v) in enumerate(grid) if m == mode]
        means = values[idx].mean(axis=1)
        best = min(range(len(idx)), key=lambda i: (means[i], grid[idx[i]][1] or 0.0))
        per_fold = values[idx[best]]
        se = (
            float(np.std(per_fold, ddof=1) / math.sqrt(len(per_fold))) if len(per_fold) > 1 else 0.0
        )
        out.append(Candidate(mode, grid[idx[best]][1], float(means[best]), se, tuple(per_fold)))
    return out


def one_se_choice(candidates: list[Candidate]) -> Candidate:
    """The simplest candidate whose score is within one standard error of the best one's
    (Breiman et al., 1984): raw, then vanilla, crossfit, corrected, mixed.

    Corrected and mixed take the best of a grid whose ends are raw and vanilla targets, so on
    noise alone they score a little better than either; a target that needs a teacher (or a
    tuned c or α) has to beat the simpler one by more than the noise of the selection folds."""
    best = min(candidates, key=lambda c: (c.cv, mode_sort_key(c.mode)))
    within = [c for c in candidates if c.cv <= best.cv + best.se]
    return min(within, key=lambda c: mode_sort_key(c.mode))


def _values(mode: str, fit: FitSettings) -> tuple:
    base = base_mode(mode)
    if base == "corrected":
        return tuple(fit.c_grid)
    if base == "mixed":
        return tuple(fit.alpha_grid or ())
    return (None,)
