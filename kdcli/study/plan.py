"""A study's units: suite members x repeats x outer folds x teachers, each run once.

The unit is one (dataset, repeat, outer fold, teacher): load the data once, get the teacher's
predictions (from the teacher cache, or fit the full-data and K cross-fit teachers), then fit every
student family x size x mode on them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from kdcli.data.openml_source import OpenMLConfig, fetch_dataset, fetch_task, parse_id
from kdcli.data.spec import parse_spec
from kdcli.data.suites import Member
from kdcli.errors import KDError
from kdcli.settings.fit import FitSettings
from kdcli.settings.study import StudySettings


@dataclass(frozen=True)
class Unit:
    dataset: str  # member name
    spec: str
    repeat: int
    fold: int
    teacher: str  # the teacher's label

    @property
    def unit_id(self) -> str:
        """A file name; a member name that is not one already gets a hash of itself, so two
        names never share a unit file ('set a' and 'set/a')."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.dataset)
        if name != self.dataset or len(name) > 60:
            digest = hashlib.sha256(self.dataset.encode()).hexdigest()[:8]
            name = f"{name[:50]}-{digest}"
        return f"{name}__r{self.repeat}_f{self.fold}__{_file_part(self.teacher)}"

    @property
    def label(self) -> str:
        return f"{self.dataset} r{self.repeat} f{self.fold} {self.teacher}"


def _file_part(teacher: str) -> str:
    """A teacher label as part of a file name: ``rf`` as it is, a variant's ``rf[max_depth=3]``
    as ``rf-max_depth-3-<hash>`` (the hash keeps ``max_depth=0.5`` and ``max_depth=0-5`` apart)."""
    part = re.sub(r"[^A-Za-z0-9_.-]+", "-", teacher).strip("-")
    if part == teacher:
        return part
    return f"{part[:60]}-{hashlib.sha256(teacher.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class PlanFailure:
    dataset: str
    spec: str
    error: str


def plan_units(
    study: StudySettings,
    cfg: OpenMLConfig,
    on_member: Callable[[str], None] = lambda _name: None,
) -> tuple[list[Unit], list[PlanFailure]]:
    """All units of the study; OpenML data is fetched here, once. A member that cannot be planned
    (an unknown id, a regression task, data unavailable) is reported and skipped."""
    units, failures = [], []
    for member in study.members:
        on_member(member.name)
        try:
            folds = _outer_folds(member, study.fit, cfg)
        except KDError as err:
            failures.append(PlanFailure(member.name, member.spec, str(err)))
            continue
        for repeat, fold in folds:
            for teacher in study.fit.teachers:
                units.append(Unit(member.name, member.spec, repeat, fold, teacher.label))
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
