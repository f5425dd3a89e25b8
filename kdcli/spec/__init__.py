"""Settings parsed and checked once, at the edge: frozen, JSON-serialisable specs."""

from kdcli.spec.execution import Execution
from kdcli.spec.fit import DEFAULTS, FitSpec, TeacherSpec, fit_spec
from kdcli.spec.study import Member, StudySpec, study_spec

__all__ = [
    "DEFAULTS",
    "Execution",
    "FitSpec",
    "Member",
    "StudySpec",
    "TeacherSpec",
    "fit_spec",
    "study_spec",
]
