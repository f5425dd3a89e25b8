"""A study's settings: the suite's members and one :class:`FitSpec` for all of them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from kdcli.data.suites import Member, select, suite_members
from kdcli.errors import SpecError
from kdcli.spec.fit import FitSpec, fit_spec


@dataclass(frozen=True)
class StudySpec:
    """Everything that decides a study's numbers (not how or where it runs)."""

    suite: str
    members: tuple[Member, ...]
    fit: FitSpec

    def to_dict(self) -> dict:
        return {
            "suite": self.suite,
            "members": [{"name": m.name, "spec": m.spec} for m in self.members],
            "fit": self.fit.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> StudySpec:
        return cls(
            suite=d["suite"],
            members=tuple(Member(m["name"], m["spec"]) for m in d["members"]),
            fit=FitSpec.from_dict(d["fit"]),
        )

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def study_spec(
    suite: str = "demo", datasets: str | list[str] | None = None, **settings
) -> StudySpec:
    """A study over a suite (a name under datasets/, ``dir:PATH`` or a manifest .csv), or only
    the members named in ``datasets``; ``settings`` are those of :func:`fit_spec`."""
    fit = fit_spec(**settings)
    names = ",".join(datasets) if isinstance(datasets, list) else datasets
    members = tuple(Member(m.name, m.spec) for m in select(suite_members(suite), names))
    if any(t.model for t in fit.teachers) and len(members) != 1:
        raise SpecError(
            "teacher_model",
            f"{{opt}} is a model of one dataset's columns; this study has {len(members)} "
            "datasets: name one with --datasets",
        )
    return StudySpec(suite=suite, members=members, fit=fit)
