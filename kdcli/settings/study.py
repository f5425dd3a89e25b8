"""A study's settings: the suite's members and one :class:`FitSettings` for all of them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kdcli.data.openml_source import OpenMLConfig
from kdcli.data.suites import Member, select, suite_members
from kdcli.errors import SettingError
from kdcli.settings.fit import FitSettings
from kdcli.settings.fit_check import fit_settings


@dataclass(frozen=True)
class StudySettings:
    """Everything that decides a study's numbers (not how or where it runs)."""

    suite: str
    members: tuple[Member, ...]
    fit: FitSettings

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "members": [{"name": m.name, "spec": m.spec} for m in self.members],
            "fit": self.fit.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StudySettings:
        return cls(
            suite=d["suite"],
            members=tuple(Member(m["name"], m["spec"]) for m in d["members"]),
            fit=FitSettings.from_dict(d["fit"]),
        )

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def study_settings(
    suite: str = "demo",
    datasets: str | list[str] | None = None,
    *,
    openml: OpenMLConfig | None = None,
    notice: Callable[[str], None] | None = None,
    **settings: Any,
) -> StudySettings:
    """A study over a suite (one kd ships, ``dir:PATH``, a manifest .csv or a live OpenML suite,
    ``openml-suite:ID``, fetched once with ``openml``'s settings), or only the members named in
    ``datasets``; ``notice`` hears which tasks of a live suite are left out; ``settings`` are
    those of :func:`fit_settings`."""
    fit = fit_settings(**settings)
    names = ",".join(datasets) if isinstance(datasets, list) else datasets
    listed = suite_members(suite, openml=openml, notice=notice)
    members = tuple(Member(m.name, m.spec) for m in select(listed, names))
    if any(t.model for t in fit.teachers) and len(members) != 1:
        raise SettingError(
            "teacher_model",
            f"{{opt}} is a model of one dataset's columns; this study has {len(members)} "
            "datasets: name one with --datasets",
        )
    return StudySettings(suite=suite, members=members, fit=fit)
