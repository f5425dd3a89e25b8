"""One `kd fit` run: split, teachers once, every student × size × mode, held-out scores."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from kdcli.correction import C_GRID, select_c
from kdcli.crossfit import TeacherPredictions, stratified_folds, teacher_predictions
from kdcli.data.dataset import Dataset
from kdcli.encoding import encode_for
from kdcli.errors import KDError
from kdcli.forest import prefix_forest, prefix_predictions
from kdcli.metrics import classification_metrics, excess_risk
from kdcli.model_size import model_size
from kdcli.students import fit_student, make_student
from kdcli.targets import (
    MODES,
    base_mode,
    make_targets,
    mode_scale,
    one_hot,
    regression_columns,
    to_proba,
)
from kdcli.teacher_cache import TeacherStore, data_fingerprint, teacher_key
from kdcli.teachers import teacher_factory, teacher_params

RESULT_COLUMNS = [
    "dataset",
    "repeat",
    "fold",
    "seed",
    "teacher",
    "student",
    "size",
    "mode",
    "metric",
    "value",
]  # the long format of results.csv
SINGLE_THREADED = ("tree", "linear")  # students whose c-selection fits run side by side
Advance = Callable[[str, int], None]  # (what is running now, steps just finished)
TEACHER_ROW = ("teacher", "", "teacher")  # (student, size, mode) of the teacher's own scores


@dataclass
class FitSettings:
    teacher: str = "lightgbm"
    teacher_params: dict = field(default_factory=dict)
    students: list[str] = field(default_factory=lambda: ["tree"])
    sizes: dict[str, list] = field(default_factory=dict)
    modes: list[str] = field(default_factory=lambda: list(MODES))
    folds: int = 5
    test_size: float = 0.25
    seed: int = 0
    repeats: int = 1
    scale: str = "prob"
    eps: float = 1e-3
    c_grid: tuple[float, ...] = C_GRID
    select_metric: str = "log_loss"
    threads: int = 1
    outer_folds: list[int] | None = None  # a task's official folds to run; None = all
    max_rows: int | None = None
    select_folds: int | None = None  # folds that choose c; None = the cross-fitting folds
    preset: dict | None = None  # the preset behind these settings, what it set, what was overridden

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Split:
    repeat: int
    fold: int
    seed: int
    train: np.ndarray
    test: np.ndarray


def make_splits(ds: Dataset, settings: FitSettings) -> list[Split]:
    """The outer train/test splits, checked before anything is fit.

    A task's official folds where the dataset has them; else seeded stratified splits.
    """
    if ds.outer_splits is not None:
        return _official_splits(ds, settings)
    if settings.outer_folds is not None:
        raise KDError("--folds-outer applies to openml-task: datasets, which have official folds")
    counts = np.bincount(ds.y, minlength=ds.n_classes)
    smallest = int(counts.min())
    if smallest < 2:
        name = ds.class_names[int(counts.argmin())]
        raise KDError(
            f"class '{name}' of {ds.name} has {smallest} row; a held-out split needs >= 2 rows per "
            "class: drop that class from the file"
        )
    splits = []
    for r in range(settings.repeats):
        seed = settings.seed + r
        try:
            train, test = train_test_split(
                np.arange(ds.n_rows), test_size=settings.test_size, stratify=ds.y, random_state=seed
            )
        except ValueError as err:
            raise KDError(
                f"cannot split {ds.name} with --test-size {settings.test_size}: {err}"
            ) from None
        _check_training_classes(ds, ds.y[train], *_most_folds(settings))
        splits.append(Split(repeat=r, fold=0, seed=seed, train=np.sort(train), test=np.sort(test)))
    return splits


def _most_folds(settings: FitSettings) -> tuple[int, str]:
    """The larger of the cross-fitting and c-selection fold counts, and the option that set it."""
    if settings.select_folds is not None and settings.select_folds > settings.folds:
        return settings.select_folds, "--select-folds"
    return settings.folds, "--folds"


def _check_training_classes(
    ds: Dataset, y_train: np.ndarray, folds: int, option: str = "--folds"
) -> None:
    train_counts = np.bincount(y_train, minlength=ds.n_classes)
    if train_counts.min() < folds:
        k = int(train_counts.argmin())
        raise KDError(
            f"class '{ds.class_names[k]}' has {int(train_counts[k])} training rows, fewer than "
            f"{option} {folds}; use {option} {max(2, int(train_counts[k]))} or fewer"
            if train_counts[k] >= 2
            else f"class '{ds.class_names[k]}' has {int(train_counts[k])} training row(s); "
            "cross-fitting needs >= 2: drop that class or lower --test-size"
        )


def _official_splits(ds: Dataset, settings: FitSettings) -> list[Split]:
    """The task's folds for repeats 0..R-1 and the chosen outer folds.

    Rare classes are not refused here: with official folds a class may have fewer training rows
    than --folds; cross-fitting then sees it in some folds only, which the teachers tolerate.
    """
    repeats = 1 + max(s.repeat for s in ds.outer_splits)
    n_folds = 1 + max(s.fold for s in ds.outer_splits)
    if settings.repeats > repeats:
        raise KDError(
            f"{ds.name} has {repeats} official repeat(s); use --repeats {repeats} or less"
        )
    wanted = settings.outer_folds if settings.outer_folds is not None else list(range(n_folds))
    bad = [f for f in wanted if f >= n_folds]
    if bad:
        raise KDError(f"{ds.name} has folds 0-{n_folds - 1}; --folds-outer asks for fold {bad[0]}")
    splits = []
    most, option = _most_folds(settings)
    for s in ds.outer_splits:
        if s.repeat < settings.repeats and s.fold in wanted:
            if np.bincount(ds.y[s.train], minlength=ds.n_classes).max() < most:
                raise KDError(
                    f"{ds.name} fold {s.fold} has too few training rows for {option} {most}"
                )
            splits.append(
                Split(
                    repeat=s.repeat,
                    fold=s.fold,
                    seed=settings.seed + s.repeat,
                    train=s.train,
                    test=s.test,
                )
            )
    return splits


def parse_outer_folds(text: str | None) -> list[int] | None:
    """``all`` → None; ``0-2`` → [0, 1, 2]; ``0,3`` → [0, 3]."""
    if text is None or text.strip().lower() == "all":
        return None
    folds: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            first, last = int(lo), int(hi) if hi else int(lo)
            if first < 0 or last < first:
                raise ValueError
            folds.extend(range(first, last + 1))
    except ValueError:
        raise KDError(
            f"--folds-outer '{text}' is not a fold list; write e.g. 0-2, 0,3 or all"
        ) from None
    return sorted(set(folds))


def needs_cross_fit(settings: FitSettings) -> bool:
    return any(base_mode(m) in ("crossfit", "corrected") for m in settings.modes)


def teacher_steps(settings: FitSettings) -> int:
    return 1 + (settings.folds if needs_cross_fit(settings) else 0)


def count_steps(settings: FitSettings, n_splits: int) -> int:
    """Progress units: teacher fits plus student fits (c selection counts as one)."""
    per_repeat = teacher_steps(settings)
    for family in settings.students:
        per_repeat += len(settings.sizes[family]) * len(settings.modes)
    return per_repeat * n_splits


def run_split(
    ds: Dataset,
    split: Split,
    settings: FitSettings,
    advance: Advance = lambda _label, _done: None,
    teacher_store: TeacherStore | None = None,
) -> tuple[list[dict], dict]:
    """All fits of one split. Returns long-format records and timings (seconds).

    With a ``teacher_store``, teacher predictions are read from it when present, else computed
    and stored there.
    """
    X_train, X_test = ds.X.iloc[split.train], ds.X.iloc[split.test]
    y_train, y_test = ds.y[split.train], ds.y[split.test]
    K = ds.n_classes
    folds = stratified_folds(y_train, settings.folds, split.seed)
    make_teacher = teacher_factory(
        settings.teacher, settings.teacher_params, settings.threads, split.seed
    )
    timings = {"teacher": 0.0, "students": 0.0}
    t0 = time.perf_counter()
    where = f"repeat {split.repeat}" + (f" fold {split.fold}" if ds.outer_splits else "")
    label = f"{where}: teacher {settings.teacher}"
    advance(label, 0)
    teacher, key = None, None
    if teacher_store is not None:
        params = teacher_params(settings.teacher, settings.teacher_params)
        key = teacher_key(
            data_fingerprint(ds.X, ds.y),
            split.train,
            split.test,
            settings.teacher,
            params,
            settings.folds,
            split.seed,
        )
        teacher = teacher_store.get(key)
    timings["teacher_cached"] = teacher is not None
    if teacher is None:
        cross_fit = needs_cross_fit(settings)
        teacher = teacher_predictions(
            make_teacher,
            X_train,
            y_train,
            X_test,
            K,
            folds,
            on_fit=lambda: advance(label, 1),
            cross_fit=cross_fit,
        )
        if teacher_store is not None and cross_fit:  # only complete predictions are kept
            teacher_store.put(
                key,
                teacher,
                {
                    "dataset": ds.name,
                    "teacher": settings.teacher,
                    "seed": split.seed,
                    "repeat": split.repeat,
                    "fold": split.fold,
                },
            )
    else:
        advance(label, teacher_steps(settings))
    timings["teacher"] = time.perf_counter() - t0

    p0_test = ds.p0[split.test] if ds.p0 is not None else None
    records: list[dict] = []

    def record(student: str, size, mode: str, P: np.ndarray, extra: dict | None = None) -> None:
        values = classification_metrics(y_test, P)
        if p0_test is not None:
            values.update(excess_risk(P, p0_test))
        values.update(extra or {})
        for metric, value in values.items():
            records.append(
                {
                    "repeat": split.repeat,
                    "fold": split.fold,
                    "seed": split.seed,
                    "student": student,
                    "size": str(size),
                    "mode": mode,
                    "metric": metric,
                    "value": float(value),
                }
            )

    record(*TEACHER_ROW, teacher.test, teacher.size)
    latency: list[dict] = []  # wall-clock, so kept apart from the (deterministic) results
    if teacher.ms_per_10k is not None:
        latency.append(
            {"student": "teacher", "size": "", "mode": "teacher", "ms_per_10k": teacher.ms_per_10k}
        )
    t0 = time.perf_counter()
    select_folds = (
        folds
        if settings.select_folds in (None, settings.folds)
        else stratified_folds(y_train, settings.select_folds, split.seed)
    )
    fit_log = FitLog()
    for family in settings.students:
        F_train, F_test = encode_for(family, X_train, X_test)
        runs = family_runs(
            family,
            settings.sizes[family],
            StudentData(F_train, F_test, y_train, K, teacher, select_folds, split.seed),
            settings,
            advance,
            latency,
            fit_log,
        )
        for size, mode, P, extra in runs:
            record(family, size, mode, P, extra)
    timings["students"] = time.perf_counter() - t0
    timings["latency"] = latency
    teacher_fits = 0 if timings["teacher_cached"] else teacher_steps(settings)
    timings["fits"] = teacher_fits + fit_log.count
    # the teacher's share is its wall time: its fits plus their (small) predictions
    timings["fit_seconds"] = (timings["teacher"] if teacher_fits else 0.0) + fit_log.seconds
    return records, timings


def per_10k(seconds: float, rows: int) -> float:
    """Prediction latency in milliseconds per 10,000 rows (wall clock: varies run to run)."""
    return 1000.0 * seconds * 10_000 / max(rows, 1)


@dataclass
class FitLog:
    """How many student fits ran and their summed wall time (for fits/second in benchmarks)."""

    count: int = 0
    seconds: float = 0.0

    def fit(self, model, X, T):
        t0 = time.perf_counter()
        fit_student(model, X, T)
        self.count += 1
        self.seconds += time.perf_counter() - t0
        return model


@dataclass
class StudentData:
    """What every student of one split is fitted and scored on."""

    F_train: object
    F_test: object
    y_train: np.ndarray
    n_classes: int
    teacher: TeacherPredictions
    select_folds: list  # the folds that choose c of the correction
    seed: int

    def targets(self, mode: str, scale: str, eps: float, c: float | None = None) -> np.ndarray:
        y1h = one_hot(self.y_train, self.n_classes)
        T = make_targets(
            base_mode(mode), y1h, self.teacher.in_sample, self.teacher.out_of_fold, c, scale, eps
        )
        return regression_columns(T, scale)

    def choose_c(self, fit_predict, scale: str, settings: FitSettings, n_jobs: int):
        return select_c(
            lambda tr, T, held: fit_predict(tr, T, _rows(self.F_train, held)),
            self.y_train,
            one_hot(self.y_train, self.n_classes),
            self.teacher.out_of_fold,
            self.select_folds,
            settings.c_grid,
            scale,
            settings.eps,
            settings.select_metric,
            n_jobs=n_jobs,
        )


def family_runs(family, sizes, data: StudentData, settings, advance, latency, fit_log):
    """Yield (size, mode, held-out probabilities, extra values) for every size and mode."""
    if family == "rf":
        yield from nested_forest_runs(sizes, data, settings, advance, latency, fit_log)
        return
    for size in sizes:
        for mode, P, extra in student_runs(family, size, data, settings, advance, latency, fit_log):
            yield size, mode, P, extra


def _scored(model, data: StudentData, mode, scale, eps, family, size, latency) -> tuple:
    """Held-out probabilities and size of a fitted student; its prediction latency is logged."""
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
    return to_proba(raw, data.n_classes, scale, eps), model_size(model)


def student_runs(family, size, data: StudentData, settings, advance, latency, fit_log):
    """Yield (mode, held-out probabilities, extra values) for every requested mode."""

    def fit_predict(train_idx, T, predict_rows):
        model = make_student(family, size, settings.threads, data.seed)
        fit_log.fit(model, _rows(data.F_train, train_idx), T)
        return [model.predict(predict_rows)]

    for mode in settings.modes:
        scale, eps = mode_scale(mode, settings.scale), settings.eps
        advance(f"{family} {size} {mode}", 0)
        extra = {}
        c = None
        if base_mode(mode) == "corrected":
            n_jobs = settings.threads if family in SINGLE_THREADED else 1
            c = data.choose_c(fit_predict, scale, settings, n_jobs)[0][0]
            extra["c"] = c
        model = make_student(family, size, settings.threads, data.seed)
        fit_log.fit(model, data.F_train, data.targets(mode, scale, eps, c))
        P, model_extra = _scored(model, data, mode, scale, eps, family, size, latency)
        extra.update(model_extra)
        advance(f"{family} {size} {mode}", 1)
        yield mode, P, extra


def nested_forest_runs(sizes, data: StudentData, settings, advance, latency, fit_log):
    """The rf student at every size from one forest of the largest size per target set.

    Exactly the numbers of separate fits (see kdcli.forest), including the choice of c, which
    is made per size from the same cross-validation fits.
    """
    largest = max(int(k) for k in sizes)

    def forest(n_trees: int):
        return make_student("rf", n_trees, settings.threads, data.seed)

    def fit_predict(train_idx, T, predict_rows):
        model = fit_log.fit(forest(largest), _rows(data.F_train, train_idx), T)
        return prefix_predictions(model, predict_rows, [int(k) for k in sizes])

    for mode in settings.modes:
        scale, eps = mode_scale(mode, settings.scale), settings.eps
        advance(f"rf {','.join(map(str, sizes))} {mode}", 0)
        if base_mode(mode) == "corrected":
            chosen = [c for c, _scores in data.choose_c(fit_predict, scale, settings, 1)]
        else:
            chosen = [None] * len(sizes)
        forests = {}  # one forest per distinct c, as large as its largest size
        for c in dict.fromkeys(chosen):
            n_trees = max(int(k) for k, ck in zip(sizes, chosen, strict=True) if ck == c)
            forests[c] = fit_log.fit(
                forest(n_trees), data.F_train, data.targets(mode, scale, eps, c)
            )
        for size, c in zip(sizes, chosen, strict=True):
            model = prefix_forest(forests[c], int(size))
            P, extra = _scored(model, data, mode, scale, eps, "rf", size, latency)
            if c is not None:
                extra = {"c": c, **extra}
            advance(f"rf {size} {mode}", 1)
            yield size, mode, P, extra


def _rows(X, idx):
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def run_fit(ds: Dataset, settings: FitSettings, advance: Advance = lambda _label, _done: None):
    """Every repeat; returns (records with dataset and teacher columns, timings per repeat)."""
    splits = make_splits(ds, settings)
    records, timings = [], []
    for split in splits:
        recs, times = run_split(ds, split, settings, advance)
        for rec in recs:
            rec.update(dataset=ds.name, teacher=settings.teacher)
        records.extend(recs)
        timings.append({"repeat": split.repeat, "fold": split.fold, "seed": split.seed, **times})
    return records, timings


def latency_frame(timings: list[dict], dataset: str, teacher: str) -> pd.DataFrame:
    """Prediction latencies of every split as a long table (kept apart from the results: they
    are wall-clock measurements, not reproducible numbers)."""
    rows = [
        {
            "dataset": dataset,
            "repeat": t["repeat"],
            "fold": t["fold"],
            "seed": t["seed"],
            "teacher": teacher,
            **entry,
        }
        for t in timings
        for entry in t.get("latency", [])
    ]
    keys = [c for c in RESULT_COLUMNS if c not in ("metric", "value")]
    return pd.DataFrame(rows, columns=[*keys, "ms_per_10k"])
