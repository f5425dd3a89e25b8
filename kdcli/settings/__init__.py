"""Settings parsed and checked once, at the edge: frozen, JSON-serialisable specs."""

from kdcli.data.suites import Member
from kdcli.settings.execution import Execution
from kdcli.settings.fit import FitSettings, TeacherSettings
from kdcli.settings.fit_check import DEFAULTS, fit_settings
from kdcli.settings.study import StudySettings, study_settings

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
