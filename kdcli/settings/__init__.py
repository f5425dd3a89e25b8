"""Settings parsed and checked once, at the edge: frozen, JSON-serialisable specs."""

from kdcli.settings.execution import Execution
from kdcli.settings.fit import DEFAULTS, FitSettings, TeacherSettings, fit_settings
from kdcli.settings.study import Member, StudySettings, study_settings

__all__ = [
    "DEFAULTS",
    "Execution",
    "FitSettings",
    "Member",
    "StudySettings",
    "TeacherSettings",
    "fit_settings",
    "study_settings",
]
