"""The students of one family on one split: every size and mode fitted, each returned with its
held-out outputs and its prediction latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np

from kdcli.experiment.split_context import Advance
from kdcli.science import budget
from kdcli.science.crossfit import fits, take_rows
from kdcli.science.model_size import model_size
from kdcli.science.nested import NESTED, largest, prefix_model, prefix_predictions, size_groups
from kdcli.science.students import FULL, fit_student, make_student
from kdcli.science.targets import base_mode, mode_scale, ranking_scores, to_proba
from kdcli.settings.fit import FitSettings

if TYPE_CHECKING:  # its selection of c and α lives with the run of a split
    from kdcli.experiment.split_fit import StudentData

Size = int | str  # a student's size: leaves, trees, rounds; `full` for the unbounded tree
CHOSEN = {"corrected": "c", "mixed": "alpha"}  # the metric that records a mode's chosen value


def per_10k(seconds: float, rows: int) -> float:
    """Prediction latency in milliseconds per 10,000 rows (wall clock: varies run to run)."""
    return 1000.0 * seconds * 10_000 / max(rows, 1)


class FitLog(budget.Tally):
    """How many student fits ran and their summed wall time (for fits/second in benchmarks),
    wherever they ran: in threads side by side, or on a cluster's workers. The fits that choose
    c and α run inside :mod:`kdcli.science.correction`, so they are counted here, not returned."""

    def fit(self, model: Any, X: Any, T: np.ndarray) -> Any:
        t0 = time.perf_counter()
        fit_student(model, X, T)
        self.add(time.perf_counter() - t0)
        return model


@dataclass(frozen=True, eq=False, kw_only=True)
class Scored:
    """A fitted model's held-out probabilities, the scores AUC ranks by (its raw outputs' order,
    which clipping would tie), its extra values (size, chosen c or α) and its prediction
    latency, which is wall clock and so kept apart from the results."""

    student: str
    size: str
    mode: str
    P: np.ndarray
    ranking: np.ndarray | None
    extra: dict[str, float]
    ms_per_10k: float | None  # None: not measured (a teacher read from a store)

    def latency_row(self) -> dict[str, object]:
        """Its entry of a run's latency (kdcli.records.LATENCY_COLUMNS), less the split's keys."""
        return {
            "student": self.student,
            "size": self.size,
            "mode": self.mode,
            "ms_per_10k": self.ms_per_10k,
        }


@dataclass(frozen=True, eq=False, kw_only=True)
class SizeGroup:
    """Sizes of ``family`` that one fitted model serves: every size of a nested family (rf,
    gbdt, and a tree's sizes but ``full``: kdcli.science.nested), else one. Called as the
    cross-validation fit that chooses c or α; it may run on a cluster's worker, so it holds only
    what its fits need."""

    family: str
    sizes: list[Size]
    data: StudentData
    log: FitLog
    eps: float

    @property
    def nested(self) -> bool:
        return self.family in NESTED and FULL not in self.sizes

    def __call__(self, train_idx: np.ndarray, T: np.ndarray, predict_rows: Any) -> list[np.ndarray]:
        """Fit on ``train_idx`` to targets ``T``; per size, the predictions of ``predict_rows``."""
        model = self.log.fit(
            make_student(self.family, largest(self.sizes), 1, self.data.seed),
            take_rows(self.data.F_train, train_idx),
            T,
        )
        if self.nested:
            return prefix_predictions(model, predict_rows, [int(k) for k in self.sizes])
        return [model.predict(predict_rows)]

    def final(self, job: FinalJob) -> Any:
        """The student of one :class:`FinalJob`, fitted on every training row."""
        mode, scale, value, size = job
        model = make_student(self.family, size, 1, self.data.seed)
        return self.log.fit(
            model, self.data.F_train, self.data.targets(mode, scale, self.eps, value)
        )


class ModePlan(NamedTuple):
    """A mode's targets: their scale and, per size, the c or α chosen for them."""

    mode: str
    scale: str
    chosen: list[float | None]  # c or α per size; None for the modes without one to choose


class FinalJob(NamedTuple):
    """One final model: per (mode, distinct c or α), as large as its largest size."""

    mode: str
    scale: str
    value: float | None
    size: Size


def family_scores(
    data: StudentData, *, family: str, settings: FitSettings, advance: Advance, log: FitLog
) -> list[Scored]:
    """Every size and mode of ``family``, scored in kd's order. Nested families (rf, gbdt,
    tree) serve all sizes from one model of the largest size, exactly (kdcli.science.nested);
    the others fit each size."""
    sizes = list(settings.sizes[family])
    groups = size_groups(family, sizes)
    parts: list[Callable[[], list[Scored]]] = [
        partial(
            group_scores,
            SizeGroup(family=family, sizes=group, data=data, log=log, eps=settings.eps),
            settings,
            advance,
        )
        for group in groups
    ]
    # the sizes at once under a core budget (budget.side_by_side), in order
    scored = [scored for part in budget.side_by_side(parts) for scored in part]
    position = {str(size): i for i, size in enumerate(sizes)}  # size by size, however grouped
    return sorted(scored, key=lambda s: position[s.size])


def group_scores(group: SizeGroup, settings: FitSettings, advance: Advance) -> list[Scored]:
    """Every mode for sizes that one fitted model serves: c (α) chosen per size from the same
    cross-validation fits, then one model per (mode, distinct c), fitted side by side."""
    plans = _mode_plans(group, settings, advance)
    jobs = [
        FinalJob(
            p.mode,
            p.scale,
            c,
            largest([k for k, ck in zip(group.sizes, p.chosen, strict=True) if ck == c]),
        )
        for p in plans
        for c in dict.fromkeys(p.chosen)
    ]
    with budget.scope(group.family):
        done = fits(group.final, jobs, group.data.threads, "student", _final_label)
    models = dict(zip([(j.mode, j.value) for j in jobs], done, strict=True))
    scores = []
    for p in plans:
        for size, c in zip(group.sizes, p.chosen, strict=True):
            model = models[(p.mode, c)]
            if group.nested:
                model = prefix_model(model, int(size))
            scores.append(_scored(model, group, p, size=size, value=c))
            advance(f"{group.family} {size} {p.mode}", 1)
    return scores


def _mode_plans(group: SizeGroup, settings: FitSettings, advance: Advance) -> list[ModePlan]:
    """Each mode's scale and c (α) per size; the modes that choose one do so at once."""
    label = f"{group.family} {','.join(map(str, group.sizes))}"

    def plan(mode: str) -> ModePlan:
        scale = mode_scale(mode, settings.scale)
        advance(f"{label} {mode}", 0)
        with budget.scope(f"{label} {mode}"):
            return ModePlan(mode, scale, group.data.choose(mode, group, scale, settings))

    selecting = [m for m in settings.modes if base_mode(m) in CHOSEN]  # c or α: at once
    chosen = budget.side_by_side([partial(plan, m) for m in selecting])
    by_mode = dict(zip(selecting, chosen, strict=True))
    return [by_mode[m] if m in by_mode else plan(m) for m in settings.modes]


def _final_label(job: object) -> str:
    mode, _scale, c, size = cast(FinalJob, job)
    return f"{size} {mode}" if c is None else f"{size} {mode} {CHOSEN[base_mode(mode)]}={c:g}"


def _scored(
    model: Any, group: SizeGroup, plan: ModePlan, *, size: Size, value: float | None
) -> Scored:
    """A fitted student on the held-out rows, its prediction timed."""
    data = group.data
    t0 = time.perf_counter()
    raw = model.predict(data.F_test)
    ms_per_10k = per_10k(time.perf_counter() - t0, len(data.F_test))
    extra = model_size(model)
    if value is not None:
        extra = {CHOSEN[base_mode(plan.mode)]: value, **extra}
    return Scored(
        student=group.family,
        size=str(size),
        mode=plan.mode,
        P=to_proba(raw, data.n_classes, plan.scale, group.eps),
        ranking=ranking_scores(raw, data.n_classes, plan.scale),
        extra=extra,
        ms_per_10k=ms_per_10k,
    )
