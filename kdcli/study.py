"""A study: suite members × repeats × outer folds × teachers, each such unit run once.

The unit is one (dataset, repeat, outer fold, teacher): load the data once, get the teacher's
predictions (from the teacher cache, or fit the full-data and K cross-fit teachers), then fit every
student family × size × mode on them. ``run_unit`` is a plain function of JSON-able input, so any
executor (a local process, a Dask worker on another machine) can run it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from kdcli.data import load_dataset
from kdcli.data.openml_source import OpenMLConfig, fetch_dataset, fetch_task, parse_id
from kdcli.data.spec import parse_spec
from kdcli.errors import KDError
from kdcli.experiment import FitSettings, make_splits, run_split
from kdcli.suites import Member
from kdcli.teacher_cache import TeacherStore


@dataclass
class StudySettings:
    """Everything that decides a study's numbers (not how or where it runs)."""

    suite: str
    members: list[dict]  # name, spec of each dataset, in order
    teachers: list[str]
    fit: FitSettings
    teacher_params: dict[str, dict] = field(default_factory=dict)  # per teacher, validated

    def to_dict(self) -> dict:
        out = asdict(self)
        out["fit"] = {
            k: v
            for k, v in self.fit.to_dict().items()
            if k not in ("threads", "teacher", "teacher_params")
        }
        return out

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def fit_for(self, teacher: str) -> FitSettings:
        return replace(self.fit, teacher=teacher, teacher_params=self.teacher_params[teacher])


@dataclass
class Unit:
    dataset: str  # member name
    spec: str
    repeat: int
    fold: int
    teacher: str

    @property
    def unit_id(self) -> str:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.dataset)[:60]
        return f"{name}__r{self.repeat}_f{self.fold}__{self.teacher}"

    @property
    def label(self) -> str:
        return f"{self.dataset} r{self.repeat} f{self.fold} {self.teacher}"


@dataclass
class PlanFailure:
    dataset: str
    spec: str
    error: str


def plan_units(
    settings: StudySettings,
    cfg: OpenMLConfig,
    on_member: Callable[[str], None] = lambda _name: None,
) -> tuple[list[Unit], list[PlanFailure]]:
    """All units of the study; OpenML data is fetched here, once. A member that cannot be planned
    (an unknown id, a regression task, data unavailable) is reported and skipped."""
    units, failures = [], []
    for m in settings.members:
        on_member(m["name"])
        try:
            folds = _outer_folds(Member(m["name"], m["spec"]), settings.fit, cfg)
        except KDError as err:
            failures.append(PlanFailure(m["name"], m["spec"], str(err)))
            continue
        for repeat, fold in folds:
            for teacher in settings.teachers:
                units.append(Unit(m["name"], m["spec"], repeat, fold, teacher))
    return units, failures


def _outer_folds(member: Member, fit: FitSettings, cfg: OpenMLConfig) -> list[tuple[int, int]]:
    source, name, _ = parse_spec(member.spec)
    if source == "openml":  # download once here, not in every worker
        fetch_dataset(parse_id(source, name), cfg)
    if source != "openml-task":  # kd's own split: one outer fold (--folds-outer is for tasks)
        return [(r, 0) for r in range(fit.repeats)]
    meta = fetch_task(parse_id(source, name), cfg)  # small: description and splits
    repeats = min(fit.repeats, int(meta["repeats"]))
    wanted = fit.outer_folds if fit.outer_folds is not None else range(int(meta["folds"]))
    folds = [f for f in wanted if f < int(meta["folds"])]
    if not folds:
        raise KDError(f"task has folds 0-{int(meta['folds']) - 1}; --folds-outer selects none")
    return [(r, f) for r in range(repeats) for f in folds]


def run_unit(payload: dict) -> dict:
    """Run one unit. Input and output are plain data (dicts, lists, numbers, strings)."""
    unit = Unit(**payload["unit"])
    settings = study_from_dict(payload["settings"])
    cfg = OpenMLConfig(**{**payload["openml"], "cache_dir": Path(payload["openml"]["cache_dir"])})
    fit = replace(settings.fit_for(unit.teacher), threads=int(payload["threads"]))
    ds = load_dataset(unit.spec, None, cfg)
    if fit.max_rows is not None:
        ds = ds.subsample(fit.max_rows, fit.seed)
    if ds.outer_splits is not None:
        fit = replace(fit, repeats=unit.repeat + 1, outer_folds=[unit.fold])
    else:
        fit = replace(fit, repeats=unit.repeat + 1, outer_folds=None)
    split = next(s for s in make_splits(ds, fit) if (s.repeat, s.fold) == (unit.repeat, unit.fold))
    store = TeacherStore(cfg.cache_dir / "teachers")
    records, timings = run_split(ds, split, fit, teacher_store=store)
    for rec in records:
        rec.update(dataset=unit.dataset, teacher=unit.teacher)
    return {"records": records, "timings": timings, "rows": ds.n_rows}


def study_from_dict(d: dict) -> StudySettings:
    fit = FitSettings(**{**d["fit"], "c_grid": tuple(d["fit"]["c_grid"])})
    return StudySettings(
        suite=d["suite"],
        members=d["members"],
        teachers=d["teachers"],
        fit=fit,
        teacher_params=d["teacher_params"],
    )
