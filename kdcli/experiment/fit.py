"""A `kd fit` run: one dataset, every outer split, one teacher (or each variant of its sweep),
all students and modes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd

from kdcli import records
from kdcli.data.dataset import Dataset
from kdcli.experiment.split_fit import Advance, count_steps, run_split
from kdcli.experiment.splits import Split, make_splits
from kdcli.spec.fit import FitSpec


@dataclass
class FitPlan:
    """A dataset and a spec checked against each other (class counts against folds), with the
    splits they give: everything is refused here, before any fit."""

    dataset: Dataset
    fit: FitSpec
    splits: list[Split]

    @property
    def total_steps(self) -> int:
        return count_steps(self.fit, len(self.splits))


def plan_fit(ds: Dataset, fit: FitSpec) -> FitPlan:
    fit.check_one_library()
    return FitPlan(ds, fit, make_splits(ds, fit))


@dataclass
class FitResult:
    """The numbers of a run: long ``results``, their ``summary`` (mean, se, n per cell) and the
    prediction ``latency`` of every model; ``timings`` per split."""

    results: pd.DataFrame
    summary: pd.DataFrame
    latency: pd.DataFrame
    timings: list[dict] = field(default_factory=list)
    started: str = ""

    def table(
        self, metric: str = "error", student: str | None = None, teacher: str | None = None
    ) -> pd.DataFrame:
        """Sizes x modes of one metric (means over splits), the teacher as a column; with a
        --teacher-grid, of one variant (``teacher``, a label; default the first)."""
        s = self.summary[self.summary.metric == metric]
        s = s[s.teacher == (teacher or s.teacher.iloc[0])]
        student = student or next(x for x in s.student if x != "teacher")
        wide = s[s.student == student].pivot(index="size", columns="mode", values="mean")
        wide = wide.loc[sorted(wide.index, key=records.size_key)]
        teacher = s[s.student == "teacher"]["mean"]
        if len(teacher):
            wide["teacher"] = float(teacher.iloc[0])
        return wide


def execute_fit(
    plan: FitPlan, threads: int = 1, advance: Advance = lambda _l, _d: None
) -> FitResult:
    """Fit every split of a plan, ``threads`` per model fit; ``advance`` hears of each fit."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    recs, latency, timings = [], [], []
    for split in plan.splits:
        for teacher in plan.fit.teachers:
            t0 = time.perf_counter()
            out = run_split(plan.dataset, split, plan.fit, teacher, threads, advance)
            recs += out.records
            latency += out.latency
            timings.append(
                {
                    "repeat": split.repeat,
                    "fold": split.fold,
                    "seed": split.seed,
                    **({"teacher": teacher.label} if plan.fit.swept else {}),
                    "seconds": round(time.perf_counter() - t0, 3),
                    **out.timings,
                }
            )
    results = records.frame(recs)
    return FitResult(
        results, records.summarise(results), records.latency_frame(latency), timings, started
    )
