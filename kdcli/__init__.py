"""kd: knowledge distillation experiments for tabular data.

The public API (documented in :mod:`kdcli.api`): ``load_dataset``, ``fit_settings`` and ``fit``,
``study_settings`` and ``run_study``, ``report`` and ``render``, ``check`` and ``update_reference``,
``distill``, ``load_model`` and ``DistilledClassifier``.
Names load on first use, so ``import kdcli`` (and the ``kd`` command) starts quickly.
"""

from __future__ import annotations

import importlib
import importlib.util
import os

try:  # one source: the installed package's metadata (pyproject.toml's version)
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("kd")
except PackageNotFoundError:  # pragma: no cover - run from a checkout never installed
    __version__ = "0+unknown"

# OpenMP threads (LightGBM, XGBoost) that spin while they wait steal the cores of every other
# process on the machine; set before either library loads, so it holds in workers too.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# names of kd 0.1, kept one release: the settings objects were "specs", a study's outcome a
# "report" (a word now kept for `kd report`'s document)
RENAMED = {
    "fit_spec": "fit_settings",
    "study_spec": "study_settings",
    "distill_spec": "distill_settings",
    "FitSpec": "FitSettings",
    "StudySpec": "StudySettings",
    "StudyReport": "StudyRun",
    "Reporter": "StudyProgress",
    "CheckReport": "CheckVerdict",
}


def __getattr__(name: str):
    if name in RENAMED:
        import warnings

        warnings.warn(
            f"kdcli.{name} is now kdcli.{RENAMED[name]}; the old name goes in kd 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module("kdcli.api"), RENAMED[name])
    if importlib.util.find_spec(f"kdcli.{name}") is not None:
        raise AttributeError(name)  # a submodule not imported yet: the import system's business
    api = importlib.import_module("kdcli.api")
    if name == "__all__":  # `from kdcli import *`: the API, without importing it up front
        return ["__version__", *api.__all__]
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'kdcli' has no attribute {name!r}")


def __dir__() -> list[str]:
    api = importlib.import_module("kdcli.api")
    return sorted([*globals(), *api.__all__])
