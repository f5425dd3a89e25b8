"""One split's fits: the teachers once, then every student x size x mode, held-out scores."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from kdcli.data.dataset import Dataset
from kdcli.errors import KDError
from kdcli.experiment.splits import Split, derived_seed
from kdcli.records import SPLIT_SIZES, TEACHER_ROW
from kdcli.science import budget
from kdcli.science.correction import select_alpha, select_c
from kdcli.science.crossfit import (
    TeacherPredictions,
    fits,
    stratified_folds,
    take_rows,
    teacher_predictions,
)
from kdcli.science.encoding import encode_for, model_names
from kdcli.science.metrics import classification_metrics, excess_risk
from kdcli.science.model_size import model_size
from kdcli.science.nested import NESTED, prefix_model, prefix_predictions
from kdcli.science.selection import selection_plan, selection_proba
from kdcli.science.selection_rows import selection_folds
from kdcli.science.students import fit_student, make_student
from kdcli.science.targets import (
    base_mode,
    floor_proba,
    make_targets,
    mode_scale,
    one_hot,
    ranking_scores,
    regression_columns,
    to_proba,
)
from kdcli.science.teachers import BAGGED, TEACHER_DEFAULTS, make_teacher, probe
from kdcli.settings.fit import FitSettings, TeacherSettings

if TYPE_CHECKING:
    import pandas as pd

Advance = Callable[[str, int], None]  # (what is running now, steps just finished)


class TeacherStore(Protocol):
    """Where teacher predictions of a split may be kept (a study's cache); see kdcli.study."""

    def get(self, ds: Dataset, split: Split, teacher: TeacherSettings, crossfit: int | str): ...

    def put(
        self,
        ds: Dataset,
        split: Split,
        teacher: TeacherSettings,
        crossfit: int | str,
        preds,
        info: dict,
    ) -> None: ...


def count_steps(fit: FitSettings, n_splits: int) -> int:
    """Progress units: teacher fits plus student fits (c selection counts as one)."""
    per_split = len(fit.teachers) * fit.teacher_fits
    for family in fit.students:
        per_split += len(fit.teachers) * len(fit.sizes[family]) * len(fit.modes)
    return per_split * n_splits


@dataclass
class SplitResult:
    records: list[dict]  # long format (kdcli.records)
    latency: list[dict]  # prediction wall time per model, kept apart from the records
    timings: dict  # seconds, fit counts, whether the teacher came from the store


def run_split(
    ds: Dataset,
    split: Split,
    fit: FitSettings,
    teacher: TeacherSettings,
    threads: int = 1,
    advance: Advance = lambda _label, _done: None,
    store: TeacherStore | None = None,
    name: str | None = None,
) -> SplitResult:
    """All fits of one split and one teacher; ``name`` is the dataset's name in the records.

    With a ``store``, teacher predictions are read from it when present, else computed and put
    there.
    """
    X = model_names(ds.X)  # the models' names for the columns; results never show them
    X_train, X_test = X.iloc[split.train], X.iloc[split.test]
    y_train, y_test = ds.y[split.train], ds.y[split.test]
    folds, all_select_folds, select_folds = training_folds(y_train, fit, split.seed)
    timings: dict = {}
    t0 = time.perf_counter()
    label = f"{split.where}: teacher {teacher.label}"
    advance(label, 0)
    crossfit = fit.folds if fit.crossfit == "folds" else fit.crossfit  # the cache key's part
    # leak-free c- and α-selection targets are kept with the predictions, under keys of their own
    nested = [k for k, on in (("select_c", fit.nested_select), ("alpha", fit.nested_alpha)) if on]
    if nested:
        parts = "".join(f";{k}=nested" for k in nested)
        crossfit = f"{crossfit}{parts};select_folds={len(all_select_folds)}"
    preds = store.get(ds, split, teacher, crossfit) if store is not None else None
    timings["teacher_cached"] = preds is not None
    if preds is None:
        preds = fit_teachers(
            teacher,
            X_train,
            y_train,
            X_test,
            ds.n_classes,
            folds,
            fit,
            threads,
            split,
            lambda: advance(label, 1),
            all_select_folds,
        )
        if store is not None and fit.cross_fit:  # only complete predictions are kept
            info = {
                "dataset": ds.name,
                "teacher": teacher.label,
                "seed": split.seed,
                "repeat": split.repeat,
                "fold": split.fold,
            }
            store.put(ds, split, teacher, crossfit, preds, info)
    else:
        advance(label, fit.teacher_fits)
    timings["teacher"] = time.perf_counter() - t0

    keys = {
        "dataset": name or ds.name,
        "repeat": split.repeat,
        "fold": split.fold,
        "seed": split.seed,
        "teacher": teacher.label,
    }
    p0_test = ds.p0[split.test] if ds.p0 is not None else None
    records: list[dict] = []

    def record(
        student: str,
        size,
        mode: str,
        P: np.ndarray,
        extra: dict | None = None,
        ranking: np.ndarray | None = None,  # AUC's scores, where P's clipping ties rows
    ) -> None:
        scores = classification_metrics(y_test, P, ranking)
        if p0_test is not None:
            scores.update(excess_risk(P, p0_test, ranking))
        scores.update(extra or {})
        for metric, value in scores.items():
            records.append(
                {
                    **keys,
                    "student": student,
                    "size": str(size),
                    "mode": mode,
                    "metric": metric,
                    "value": float(value),
                }
            )

    # the teacher's probabilities on its students' floor (log loss, Brier, p0_*), its own order
    # for the predicted class and AUC; the split's sizes for the Nadeau–Bengio correction
    sizes = dict(zip(SPLIT_SIZES, (len(split.train), len(split.test)), strict=True))
    record(*TEACHER_ROW, floor_proba(preds.test, fit.eps), {**preds.size, **sizes}, preds.test)
    latency: list[dict] = []  # wall-clock, so kept apart from the (deterministic) results
    if preds.ms_per_10k is not None:
        latency.append(
            {"student": "teacher", "size": "", "mode": "teacher", "ms_per_10k": preds.ms_per_10k}
        )
    t0 = time.perf_counter()
    fit_log = FitLog()

    def family_part(family: str):
        def run() -> tuple[list, list]:
            F_train, F_test = encode_for(family, X_train, X_test)
            data = StudentData(
                F_train,
                F_test,
                y_train,
                ds.n_classes,
                preds,
                select_folds,
                split.student_seed(family),
                threads,
            )
            timed: list[dict] = []
            runs = list(family_runs(family, fit.sizes[family], data, fit, advance, timed, fit_log))
            return runs, timed

        return run

    # the families at once under a core budget; their records and latency in kd's order
    for family, (runs, timed) in zip(
        fit.students, budget.side_by_side([family_part(f) for f in fit.students]), strict=True
    ):
        for size, mode, P, ranking, extra in runs:
            record(family, size, mode, P, extra, ranking)
        latency += timed
    for entry in latency:  # the students' entries know only their model
        entry.update(keys)
    timings["students"] = time.perf_counter() - t0
    teacher_fits = 0 if timings["teacher_cached"] else fit.teacher_fits
    timings["fits"] = teacher_fits + fit_log.count
    # the teacher's share is its wall time: its fits plus their (small) predictions
    timings["fit_seconds"] = (timings["teacher"] if teacher_fits else 0.0) + fit_log.seconds
    return SplitResult(records, latency, timings)


def training_folds(y_train: np.ndarray, fit: FitSettings, seed: int) -> tuple[list, list, list]:
    """The cross-fitting folds of a split's training rows, the folds that choose c and α, and
    those restricted to a stratified subsample of ``select_rows`` training rows where a split
    has more (leak-free selection teachers keep the full folds, whose rows outside fold j hold
    the subsample's: kdcli.science.selection_rows)."""
    folds = stratified_folds(y_train, fit.folds, seed)
    all_select = (
        folds
        if fit.select_folds in (None, fit.folds)
        else stratified_folds(y_train, fit.select_folds, seed)
    )
    select = selection_folds(
        all_select, y_train, fit.select_rows, derived_seed(seed, "select-rows")
    )
    return folds, all_select, select


def fit_teachers(
    teacher: TeacherSettings,
    X_train,
    y_train,
    X_test,
    n_classes,
    folds,
    fit: FitSettings,
    threads: int,
    split: Split,
    on_fit,
    select_folds: list | None = None,
) -> TeacherPredictions:
    """The full-data and cross-fit teachers, and with ``fit.nested_select`` (``nested_alpha``)
    those behind the leak-free targets of the ``select_folds`` that choose c (α); a library's
    refusal of a parameter value is reported in one line naming that parameter (values are
    checked by fitting, not before), any other failure as it is."""
    params = teacher.full_params
    oob = fit.cross_fit and fit.crossfit == "oob"
    if oob:
        params = {**params, "oob_score": True}
    # K + 1 boosted fits run side by side, one thread each: OpenMP threads of one fit stall at
    # every barrier when a neighbour takes a core. A forest instead spreads its own trees over
    # threads that never wait for each other, so its fits run one after another on every core:
    # balanced to the last tree, where K + 1 one-thread fits on 2 cores leave one idle when
    # K + 1 is odd (the paper's 11).
    # Under a study's core budget (kdcli.science.budget) each fit holds a token per thread; a
    # forest's numbers do not depend on its threads, so it runs on as many as are free.
    side_by_side = threads if fit.teacher_fits > 1 and teacher.name not in BAGGED else 1
    per_fit, elastic = threads // side_by_side, teacher.name in BAGGED

    def make(seed: int = split.teacher_seed, params: dict = params):
        return make_teacher(teacher.name, params, budget.held() or per_fit, seed)

    try:
        preds = teacher_predictions(
            make,
            X_train,
            y_train,
            X_test,
            n_classes,
            folds,
            on_fit=on_fit,
            cross_fit=fit.cross_fit,
            n_jobs=side_by_side,
            oob=oob,
            fold_teacher=lambda k: make(split.crossfit_teacher_seed(k)),
            fit_threads=per_fit,
            elastic=elastic,
        )
        if fit.nested_select:
            assert select_folds is not None  # both callers pass them
            source = "oob" if oob else "out_of_fold"
            preds.select = selection_proba(
                lambda i: make(derived_seed(split.seed, "selection-teacher", i)),
                X_train,
                y_train,
                n_classes,
                selection_plan(select_folds, source),
                len(select_folds),
                source,
                n_jobs=side_by_side,
                on_fit=on_fit,
                fit_threads=per_fit,
                elastic=elastic,
            )
        if fit.nested_alpha:  # out-of-bag scores play no part in in-sample probabilities
            assert select_folds is not None  # both callers pass them
            preds.select_in_sample = selection_proba(
                lambda i: make(derived_seed(split.seed, "alpha-teacher", i), teacher.full_params),
                X_train,
                y_train,
                n_classes,
                selection_plan(select_folds, "in_sample"),
                len(select_folds),
                "in_sample",
                n_jobs=side_by_side,
                on_fit=on_fit,
                fit_threads=per_fit,
                elastic=elastic,
            )
        return preds
    except KDError:
        raise
    except Exception as err:
        blamed = _blamed_params(teacher, params, n_classes, err)
        if not blamed:
            raise
        detail = " ".join(str(err).split())[:200]
        raise KDError(f"teacher {teacher.name} does not accept {blamed}: {detail}") from err


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


def per_10k(seconds: float, rows: int) -> float:
    """Prediction latency in milliseconds per 10,000 rows (wall clock: varies run to run)."""
    return 1000.0 * seconds * 10_000 / max(rows, 1)


class FitLog(budget.Tally):
    """How many student fits ran and their summed wall time (for fits/second in benchmarks),
    wherever they ran: in threads side by side, or on a cluster's workers."""

    def fit(self, model, X, T):
        t0 = time.perf_counter()
        fit_student(model, X, T)
        self.add(time.perf_counter() - t0)
        return model


@dataclass
class StudentData:
    """What every student of one split is fitted and scored on."""

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
            self.teacher.in_sample,
            self.teacher.out_of_fold,
            value if base == "corrected" else None,
            scale,
            eps,
            value if base == "mixed" else None,
        )
        return regression_columns(T, scale)

    def choose(self, mode: str, fit_predict, scale: str, fit: FitSettings) -> list:
        """c of a corrected mode, α of a mixed one, per size, by one cross-validation; None for
        the modes without a setting to choose."""
        base = base_mode(mode)
        if base == "corrected":
            return [c for c, _scores in self.choose_c(fit_predict, scale, fit)]
        if base == "mixed":
            return [a for a, _scores in self.choose_alpha(fit_predict, scale, fit)]
        return [None] * len(fit_predict.sizes)

    def choose_alpha(self, fit_predict, scale: str, fit: FitSettings) -> list:
        assert fit.alpha_grid is not None  # set whenever a mode is mixed
        return select_alpha(
            lambda tr, T, held: fit_predict(tr, T, take_rows(self.F_train, held)),
            self.y_train,
            one_hot(self.y_train, self.n_classes),
            self.teacher.in_sample,
            self.select_folds,
            fit.alpha_grid,
            scale,
            fit.eps,
            fit.select_metric,
            n_jobs=self.threads,
            p_select=self._p_alpha(fit),
        )

    def _p_alpha(self, fit: FitSettings) -> np.ndarray | None:
        """Leak-free α-selection probabilities under ``select_c`` nested; None: the full-data
        teacher's in-sample ones."""
        if not fit.nested_alpha:
            return None
        if self.teacher.select_in_sample is None:
            raise RuntimeError("select_c nested: the teacher predictions lack their α part")
        return self.teacher.select_in_sample

    def choose_c(self, fit_predict, scale: str, fit: FitSettings) -> list:
        assert self.teacher.out_of_fold is not None  # a corrected mode implies cross-fitting
        return select_c(
            lambda tr, T, held: fit_predict(tr, T, take_rows(self.F_train, held)),
            self.y_train,
            one_hot(self.y_train, self.n_classes),
            self.teacher.out_of_fold,
            self.select_folds,
            fit.c_grid,
            scale,
            fit.eps,
            fit.select_metric,
            n_jobs=self.threads,
            p_select=self._p_select(fit),
        )

    def _p_select(self, fit: FitSettings) -> np.ndarray | None:
        """Leak-free c-selection probabilities under ``select_c`` nested; None: the paper's."""
        if fit.select_c != "nested":
            return None
        if self.teacher.select is None:
            raise RuntimeError("select_c nested: the teacher predictions lack their selection part")
        return self.teacher.select


def family_runs(family, sizes, data: StudentData, fit: FitSettings, advance, latency, fit_log):
    """Yield (size, mode, held-out probabilities, their ranking scores, extra values) for every
    size and mode.

    Nested families (rf, gbdt) serve all sizes from one model of the largest size, exactly
    (kdcli.science.nested); the others fit each size.
    """
    groups = [list(sizes)] if family in NESTED else [[size] for size in sizes]

    def part(group: list):
        def run() -> tuple[list, list]:
            timed: list[dict] = []
            return list(_group_runs(family, group, data, fit, advance, timed, fit_log)), timed

        return run

    # the sizes at once under a core budget (budget.side_by_side), in order
    for runs, timed in budget.side_by_side([part(group) for group in groups]):
        latency += timed
        yield from runs


def _group_runs(family, sizes, data: StudentData, fit: FitSettings, advance, latency, fit_log):
    """Every mode for sizes that one fitted model serves: c chosen per size from the same
    cross-validation fits, then one model per (mode, distinct c), fitted side by side."""
    nested = family in NESTED

    def largest(group: list):  # a nested model serves every size up to its own
        return max(group, key=int) if nested else group[0]

    def fit_predict(train_idx, T, predict_rows):
        model = fit_log.fit(
            make_student(family, largest(sizes), 1, data.seed),
            take_rows(data.F_train, train_idx),
            T,
        )
        if nested:
            return prefix_predictions(model, predict_rows, [int(k) for k in sizes])
        return [model.predict(predict_rows)]

    cast(Any, fit_predict).sizes = sizes  # a function attribute, which mypy cannot type
    label = f"{family} {','.join(map(str, sizes))}"

    def plan(mode: str):  # (mode, scale, c or α chosen per size)
        def run() -> tuple:
            scale = mode_scale(mode, fit.scale)
            advance(f"{label} {mode}", 0)
            with budget.scope(f"{label} {mode}"):
                return mode, scale, data.choose(mode, fit_predict, scale, fit)

        return run

    selecting = [m for m in fit.modes if base_mode(m) in CHOSEN]  # c or α: at once
    chosen = dict(zip(selecting, budget.side_by_side([plan(m) for m in selecting]), strict=True))
    plans = [chosen[m] if m in chosen else plan(m)() for m in fit.modes]
    jobs = [  # one model per (mode, distinct c or α), as large as its largest size
        (mode, scale, c, largest([k for k, ck in zip(sizes, chosen, strict=True) if ck == c]))
        for mode, scale, chosen in plans
        for c in dict.fromkeys(chosen)
    ]

    def final(job):
        mode, scale, c, size = job
        model = make_student(family, size, 1, data.seed)
        return fit_log.fit(model, data.F_train, data.targets(mode, scale, fit.eps, c))

    with budget.scope(family):
        done = fits(final, jobs, data.threads, "student", _final_label)
    models = dict(zip([(j[0], j[2]) for j in jobs], done, strict=True))
    for mode, scale, chosen in plans:
        for size, c in zip(sizes, chosen, strict=True):
            model = models[(mode, c)]
            if nested:
                model = prefix_model(model, int(size))
            P, ranking, extra = _scored(model, data, mode, scale, fit.eps, family, size, latency)
            if c is not None:
                extra = {CHOSEN[base_mode(mode)]: c, **extra}
            advance(f"{family} {size} {mode}", 1)
            yield size, mode, P, ranking, extra


def _final_label(job: object) -> str:
    mode, _scale, c, size = cast(tuple, job)  # one of _group_runs' jobs
    return f"{size} {mode}" if c is None else f"{size} {mode} {CHOSEN[base_mode(mode)]}={c:g}"


CHOSEN = {"corrected": "c", "mixed": "alpha"}  # the metric that records a mode's chosen value


def _scored(model, data: StudentData, mode, scale, eps, family, size, latency) -> tuple:
    """Held-out probabilities, the scores AUC ranks by (its raw outputs' order, which clipping
    would tie) and size of a fitted student; its prediction latency is logged."""
    t0 = time.perf_counter()
    raw = model.predict(data.F_test)
    latency.append(
        {
            "student": family,
            "size": str(size),
            "mode": mode,
            "ms_per_10k": per_10k(time.perf_counter() - t0, len(data.F_test)),
        }
    )
    P = to_proba(raw, data.n_classes, scale, eps)
    return P, ranking_scores(raw, data.n_classes, scale), model_size(model)
