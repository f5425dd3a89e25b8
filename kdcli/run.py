"""From the options of `kd fit` to a checked plan, and from the plan to results."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import pandas as pd

from kdcli.correction import C_GRID
from kdcli.data import Dataset, load_dataset
from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import KDError
from kdcli.experiment import (
    RESULT_COLUMNS,
    Advance,
    FitSettings,
    count_steps,
    latency_frame,
    make_splits,
    parse_outer_folds,
    run_fit,
)
from kdcli.metrics import EXCESS_METRICS, METRICS
from kdcli.presets import apply_preset, get_preset, preset_record
from kdcli.report import summarise
from kdcli.students import DEFAULT_SIZES, FAMILIES, check_sizes, parse_sizes
from kdcli.targets import MODE_VARIANTS, MODES, SCALES
from kdcli.teachers import TEACHERS, params_per_teacher


def _choices(
    option: str, text: str, allowed: tuple[str, ...], shown: str | None = None
) -> list[str]:
    """The distinct values of a comma-separated option; ``shown`` describes ``allowed`` in errors
    where listing every value would not help (modes with their scale variants)."""
    shown = shown or ", ".join(allowed)
    values = [v.strip().lower() for v in text.split(",") if v.strip()]
    if not values:
        raise KDError(f"{option} is empty; use one or more of {shown}")
    for v in values:
        if v not in allowed:
            raise KDError(f"unknown {option.lstrip('-')} '{v}'; use one or more of {shown}")
    return list(dict.fromkeys(values))


MODES_SHOWN = (
    f"{', '.join(MODES)}, each optionally with its own scale, e.g. vanilla:logit "
    f"(scales: {', '.join(SCALES)})"
)


@dataclass
class FitPlan:
    spec: str
    dataset: Dataset
    settings: FitSettings
    table_metrics: list[str]
    load_seconds: float

    @property
    def total_steps(self) -> int:
        return count_steps(self.settings, len(make_splits(self.dataset, self.settings)))


@dataclass
class FitRequest:
    """The options of `kd fit` as typed; :meth:`plan` checks them all before anything runs."""

    dataset: str
    target: str | None = None
    teacher: str = "lightgbm"
    teacher_param: list[str] = field(default_factory=list)
    student: str = "tree"
    sizes: str | None = None
    modes: str = ",".join(MODES)
    folds: int = 5
    test_size: float = 0.25
    seed: int = 0
    repeats: int = 1
    scale: str = "prob"
    eps: float = 1e-3
    select_metric: str = "log_loss"
    c_grid: str | None = None
    metric: str = ""
    threads: int = 1
    folds_outer: str | None = None
    max_rows: int | None = None
    openml: OpenMLConfig | None = None
    select_folds: int | None = None
    preset: str | None = None
    explicit: frozenset[str] = frozenset()  # fields given on the command line: beat the preset
    preset_info: dict | None = None

    def resolved(self) -> FitRequest:
        """The request with its preset's values filled in where no flag was given."""
        if not self.preset:
            return self
        preset = get_preset(self.preset)
        filled = apply_preset(self, preset, set(self.explicit))
        info = preset_record(preset, set(self.explicit), filled)
        return replace(filled, preset=None, preset_info=info)

    def teachers(self) -> list[str]:
        return _choices("--teacher", self.resolved().teacher, TEACHERS)

    def settings(self) -> FitSettings:
        if self.preset:
            return self.resolved().settings()
        teachers = self.teachers()
        if len(teachers) > 1:
            raise KDError("kd fit takes one --teacher; kd benchmark compares several")
        teacher = teachers[0]
        overrides = params_per_teacher(teachers, self.teacher_param)[teacher]
        students = _choices("--student", self.student, FAMILIES)
        modes = _choices("--modes", self.modes, MODE_VARIANTS, MODES_SHOWN)
        scale = _choices("--scale", self.scale, SCALES)[0]
        select_metric = _choices("--select-metric", self.select_metric, METRICS)[0]
        sizes = {f: list(DEFAULT_SIZES[f]) for f in students}
        if self.sizes is not None and "=" in self.sizes:  # tree=8,full;gbdt=10,100
            for group in filter(None, (g.strip() for g in self.sizes.split(";"))):
                family, _, values = group.partition("=")
                family = family.strip().lower()
                if family not in students:
                    raise KDError(
                        f"--sizes names '{family}', which is not among --student "
                        f"{','.join(students)}; write e.g. tree=8,full;gbdt=10,100"
                    )
                sizes[family] = parse_sizes(values)
        elif self.sizes is not None:
            sizes = {f: parse_sizes(self.sizes) for f in students}
        for family in students:
            check_sizes(family, sizes[family])
        if self.folds < 2:
            raise KDError(f"--folds must be at least 2, got {self.folds}")
        if self.select_folds is not None and self.select_folds < 2:
            raise KDError(f"--select-folds must be at least 2, got {self.select_folds}")
        if not 0.0 < self.test_size < 1.0:
            raise KDError(f"--test-size must be between 0 and 1 (a fraction), got {self.test_size}")
        if self.seed < 0:
            raise KDError(f"--seed must be >= 0, got {self.seed}")
        if self.repeats < 1:
            raise KDError(f"--repeats must be at least 1, got {self.repeats}")
        if not 0.0 < self.eps < 0.5:
            raise KDError(f"--eps must be in (0, 0.5), got {self.eps}")
        if self.threads < 1:
            raise KDError(f"--threads must be at least 1, got {self.threads}")
        if self.max_rows is not None and self.max_rows < 10:
            raise KDError(f"--max-rows must be at least 10, got {self.max_rows}")
        return FitSettings(
            teacher=teacher,
            teacher_params=overrides,
            students=students,
            sizes=sizes,
            modes=modes,
            folds=self.folds,
            test_size=self.test_size,
            seed=self.seed,
            repeats=self.repeats,
            scale=scale,
            eps=self.eps,
            c_grid=self._grid(),
            select_metric=select_metric,
            threads=self.threads,
            outer_folds=parse_outer_folds(self.folds_outer),
            max_rows=self.max_rows,
            select_folds=self.select_folds,
            preset=self.preset_info,
        )

    def _grid(self) -> tuple[float, ...]:
        if self.c_grid is None:
            return C_GRID
        values = []
        for part in self.c_grid.split(","):
            try:
                value = float(part)
            except ValueError:
                value = float("nan")
            if not value > 0 or math.isinf(value):
                raise KDError(
                    f"--c-grid '{self.c_grid}': '{part.strip()}' is not a positive "
                    "number; write e.g. --c-grid 0.001,0.1,10"
                )
            values.append(value)
        return tuple(sorted(set(values)))

    def plan(self) -> FitPlan:
        if self.preset:
            return self.resolved().plan()
        settings = self.settings()
        t0 = time.perf_counter()
        ds = load_dataset(self.dataset, self.target, self.openml)
        if self.max_rows is not None:
            ds = ds.subsample(self.max_rows, self.seed)
        load_seconds = time.perf_counter() - t0
        make_splits(ds, settings)  # class counts vs. folds and test size, before any fit
        allowed = METRICS + (EXCESS_METRICS if ds.p0 is not None else ())
        if self.metric:
            asked = [m.strip().lower() for m in self.metric.split(",") if m.strip()]
            needs_p0 = [m for m in asked if m in EXCESS_METRICS]
            if needs_p0 and ds.p0 is None:
                raise KDError(
                    f"--metric {needs_p0[0]} needs the true probabilities p0, which only "
                    "synthetic: datasets have; drop it for this dataset"
                )
            table_metrics = _choices("--metric", self.metric, allowed)
        else:
            table_metrics = ["error", "p0_mse"] if ds.p0 is not None else ["error"]
        return FitPlan(self.dataset, ds, settings, table_metrics, load_seconds)


@dataclass
class FitResult:
    results: pd.DataFrame
    summary: pd.DataFrame
    timings: list[dict]
    load_seconds: float
    started: str
    latency: pd.DataFrame | None = None


def execute_fit(plan: FitPlan, advance: Advance = lambda _label, _done: None) -> FitResult:
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    records, timings = run_fit(plan.dataset, plan.settings, advance)
    results = pd.DataFrame.from_records(records)
    results = results[RESULT_COLUMNS + [c for c in results.columns if c not in RESULT_COLUMNS]]
    latency = latency_frame(timings, plan.dataset.name, plan.settings.teacher)
    return FitResult(results, summarise(results), timings, plan.load_seconds, started, latency)
