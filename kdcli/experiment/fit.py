"""A `kd fit` run: one dataset, every outer split, one teacher (or each variant of its sweep),
all students and modes."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd

from kdcli import records
from kdcli.data.dataset import Dataset
from kdcli.errors import SettingError
from kdcli.experiment.split_context import Advance, no_progress
from kdcli.experiment.split_fit import count_steps, run_split
from kdcli.experiment.splits import Split, make_splits
from kdcli.science import budget
from kdcli.science.targets import ordered_modes
from kdcli.settings.fit import FitSettings


@dataclass
class FitPlan:
    """A dataset and its settings checked against each other (class counts against folds),
    with the splits they give: everything is refused here, before any fit. ``fit`` holds the
    settings (a public field: ``kdcli.plan(...).fit``)."""

    dataset: Dataset
    fit: FitSettings
    splits: list[Split]

    @property
    def total_steps(self) -> int:
        return count_steps(self.fit, len(self.splits))


def plan_fit(ds: Dataset, settings: FitSettings) -> FitPlan:
    settings.check_one_library()
    return FitPlan(ds, settings, make_splits(ds, settings))


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
        """Sizes x modes of one metric (means over splits), modes in kd's order, the teacher as
        a column. With several student families and no ``student``, one block per family: rows
        are (student, size), families in the order of the run. With a --teacher-grid, of one
        variant (``teacher``, a label; default the first)."""
        s = self.summary[self.summary.metric == _one_of("metric", metric, self.summary.metric)]
        s = s[s.teacher == _one_of("teacher", teacher, s.teacher)]
        families = [x for x in pd.unique(s.student) if x != "teacher"]
        teacher_mean = s[s.student == "teacher"]["mean"]
        if student is not None or len(families) == 1:
            wide = _family_table(s[s.student == _one_of("student", student, families)])
        else:
            blocks = {x: _family_table(s[s.student == x]) for x in families}
            wide = pd.concat(blocks, names=["student", "size"])
        if len(teacher_mean):
            wide["teacher"] = float(teacher_mean.iloc[0])
        return wide


def _one_of(param: str, value: str | None, present: Iterable[object]) -> str:
    """``value`` if the run has it (None: the first there is); else one line naming the choices."""
    choices = [str(x) for x in pd.unique(pd.Series(present, dtype=object))]
    if value is None and choices:
        return choices[0]
    if value not in choices:
        have = ", ".join(choices) or "none"
        raise SettingError(param, f"{{opt}} '{value}' is not in this result; it has {have}")
    return value


def _family_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One student family's sizes (in size order) x modes (in kd's order)."""
    wide = rows.pivot(index="size", columns="mode", values="mean")
    wide = wide.loc[sorted(wide.index, key=records.size_key), ordered_modes(wide.columns)]
    wide.columns.name = "mode"
    return wide


def execute_fit(plan: FitPlan, threads: int = 1, advance: Advance = no_progress) -> FitResult:
    """Fit every split of a plan, ``threads`` fits side by side (a core budget of that many
    tokens, so independent parts of a split run at once without more fits than ``threads``);
    ``advance`` hears of each fit."""
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with budget.own_budget(threads):
        recs, latency, timings = _fit_splits(plan, threads, advance)
    results = records.frame(recs)
    return FitResult(
        results=results,
        summary=records.summarise(results),
        latency=records.latency_frame(latency),
        timings=timings,
        started=started,
    )


def _fit_splits(plan: FitPlan, threads: int, advance: Advance) -> tuple[list, list, list]:
    recs, latency, timings = [], [], []
    for split in plan.splits:
        for teacher in plan.fit.teachers:
            t0 = time.perf_counter()
            out = run_split(
                plan.dataset, split, plan.fit, teacher, threads=threads, advance=advance
            )
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
    return recs, latency, timings
