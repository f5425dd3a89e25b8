"""kd: knowledge distillation experiments for tabular data.

The public API (documented in :mod:`kdcli.api`): ``load_dataset``, ``fit_spec`` and ``fit``,
``study_spec`` and ``run_study``, ``report`` and ``render``, ``check`` and ``update_reference``,
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


def __getattr__(name: str):
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
