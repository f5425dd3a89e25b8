"""kd's Python API: what every `kd` command does, as functions returning pandas objects and
plain dataclasses. The CLI is a thin layer over these.

    import kdcli
    result = kdcli.fit("sklearn:breast_cancer", student="tree,gbdt", sizes=[8, 64], repeats=3)
    result.table("error")                       # sizes x modes, the teacher as a column
    study = kdcli.run_study(kdcli.study_settings("demo"), out="runs/demo", jobs=2)
    kdcli.check("runs/bundled", against="results/reference/bundled.csv", partial=True).ok
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from kdcli.atomic import atomic_write_text, written_together
from kdcli.data import Dataset
from kdcli.data import load_dataset as _load
from kdcli.data.openml_source import OpenMLConfig
from kdcli.distilled.estimator import DistilledClassifier
from kdcli.distilled.make import distill_dataset
from kdcli.distilled.model import DistilledModel, load_model
from kdcli.distilled.procedure import AUTO, DistillRequest
from kdcli.distilled.settings import distill_settings
from kdcli.experiment.fit import FitPlan, FitResult, execute_fit, plan_fit
from kdcli.experiment.split_fit import Advance
from kdcli.reporting.check import CheckVerdict, update_reference
from kdcli.reporting.check import check_run as check
from kdcli.reporting.model import Report
from kdcli.reporting.render import render
from kdcli.reporting.report import report_run as report
from kdcli.settings.execution import Execution
from kdcli.settings.fit import FitSettings
from kdcli.settings.fit_check import fit_settings
from kdcli.settings.study import StudySettings, study_settings
from kdcli.study.run_folder import FORMAT, RunFolder
from kdcli.study.runner import StudyProgress, StudyRun
from kdcli.study.runner import run_study as _run_study

__all__ = [
    "CheckVerdict",
    "Dataset",
    "DistillRequest",
    "DistilledClassifier",
    "DistilledModel",
    "Execution",
    "FitPlan",
    "FitResult",
    "FitSettings",
    "OpenMLConfig",
    "Report",
    "StudyProgress",
    "StudyRun",
    "StudySettings",
    "check",
    "distill",
    "distill_settings",
    "execute_fit",
    "fit",
    "fit_settings",
    "load_dataset",
    "load_model",
    "load_results",
    "prepare_fit",
    "render",
    "report",
    "run_study",
    "save_fit",
    "study_settings",
    "update_reference",
]


def load_dataset(
    spec: str,
    *,
    target: str | None = None,
    max_rows: int | None = None,
    seed: int = 0,
    openml: OpenMLConfig | None = None,
) -> Dataset:
    """The dataset a SPEC names (sklearn:NAME, synthetic:NAME?k=v, file:PATH, openml:ID,
    openml-task:ID); ``max_rows`` takes a stratified subsample drawn with ``seed``."""
    ds = _load(spec, target, openml)
    return ds.subsample(max_rows, seed) if max_rows is not None else ds


def prepare_fit(
    dataset: str | Dataset,
    settings: FitSettings | None = None,
    *,
    target: str | None = None,
    openml: OpenMLConfig | None = None,
    **options,
) -> FitPlan:
    """Load the data and check it against the settings (every refusal happens here, before any
    fit); ``options`` make the settings when none are given (see :func:`fit_settings`)."""
    if settings is None:
        settings = fit_settings(**options)
    elif options:
        raise TypeError("give settings or options, not both")
    if isinstance(dataset, str):
        dataset = load_dataset(
            dataset, target=target, max_rows=settings.max_rows, seed=settings.seed, openml=openml
        )
    return plan_fit(dataset, settings)


def fit(
    dataset: str | Dataset,
    settings: FitSettings | None = None,
    *,
    target: str | None = None,
    threads: int | None = None,
    openml: OpenMLConfig | None = None,
    progress: Advance | None = None,
    **options,
) -> FitResult:
    """Distil one teacher into every student x size x mode on one dataset, over its outer splits.

    ``threads`` per model fit defaults to the usable cores; ``progress(label, steps_done)`` is
    told of every fit.
    """
    plan = prepare_fit(dataset, settings, target=target, openml=openml, **options)
    threads = Execution(threads=threads).threads_per_fit
    return execute_fit(plan, threads, progress or (lambda _label, _done: None))


def save_fit(out: Path, result: FitResult, *, record: dict, force: bool = False) -> None:
    """results.csv, summary.csv, latency.csv and run.json in ``out``, written together.

    ``out`` must be new or empty; an earlier fit there is replaced only with ``force`` (its four
    files, nothing else), and a folder of other files never: they are not kd's to overwrite.
    """
    folder = RunFolder(out)
    folder.check_out("kd-fit", force)
    with written_together(folder.path, "--out"):  # all four files, or (a full disk) none
        atomic_write_text(folder.path / "results.csv", result.results.to_csv(index=False))
        atomic_write_text(folder.path / "summary.csv", result.summary.to_csv(index=False))
        atomic_write_text(folder.path / "latency.csv", result.latency.to_csv(index=False))
        folder.write(record)  # last: a run.json means the rest are there


def fit_record(plan: FitPlan, result: FitResult, *, seconds: float, command: str = "") -> dict:
    """Everything needed to reproduce and read a fit: what `kd fit --out` keeps as run.json."""
    ds = plan.dataset
    spec = ds.meta.get("spec")
    return {
        "format": FORMAT,
        "kind": "kd-fit",
        "kd_version": package_versions()["kd"],
        "command": command,
        "started": result.started,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": {
            "suite": None,
            "members": [{"name": ds.name, "spec": spec}] if isinstance(spec, str) else [],
            "fit": plan.fit.to_dict(),
        },
        "dataset": {
            "spec": ds.meta.get("spec"),
            "name": ds.name,
            "rows": ds.n_rows,
            "features": ds.X.shape[1],
            "classes": ds.n_classes,
            "class_names": ds.class_names,
            "p0_known": ds.p0 is not None,
            "notices": list(ds.notices),  # what loading did to the data
            "meta": ds.meta,
        },
        "versions": package_versions(),
        "platform": platform.platform(),
        "splits": [  # the outer splits' sizes: the Nadeau–Bengio correction's n_test/n_train
            {
                "repeat": s.repeat,
                "fold": s.fold,
                "seed": s.seed,
                "n_train": len(s.train),
                "n_test": len(s.test),
            }
            for s in plan.splits
        ],
        "timings": {"total_seconds": round(seconds, 3), "repeats": result.timings},
        "summary": json.loads(result.summary.to_json(orient="records")),
    }


def run_study(
    settings: StudySettings,
    out: str | Path | None,
    *,
    jobs: int = 1,
    threads: int | None = None,
    executor: str = "local",
    address: str | None = None,
    timeout_per_unit: float | None = None,
    retry_failed: bool = False,
    openml: OpenMLConfig | None = None,
    progress: StudyProgress | None = None,
    command: str = "",
    spread_from: float = 10.0,
    memory_per_unit: str | int | None = None,
    config: dict | None = None,
) -> StudyRun:
    """Run, or resume, a study in the folder ``out`` (made by :func:`study_settings`): one result
    file per finished unit, so the same call after an interruption runs only what is left.
    ``executor`` is 'local' (``jobs`` worker processes) or 'dask' (a cluster at ``address``, or
    a local one of ``jobs`` workers); on Dask, a unit estimated to take ``spread_from``
    seconds or more spreads its fits over the cluster's workers. ``memory_per_unit`` caps each
    unit's worker ('4G', '512M', or MiB as a number; a unit past it fails as ``memory``).
    ``config``: the options as given (`kd benchmark --print-config`), recorded in run.json."""
    execution = Execution(
        jobs, threads, executor, address, timeout_per_unit, spread_from, memory_per_unit
    )
    return _run_study(
        settings,
        None if out is None else Path(out),
        execution,
        openml,
        progress,
        retry_failed,
        command,
        package_versions(),
        config,
    )


def distill(
    dataset: str | Dataset,
    *,
    student: str = "tree",
    size: int | str | None = None,
    mode: str = AUTO,
    estimate_folds: int = 5,
    target: str | None = None,
    threads: int | None = None,
    openml: OpenMLConfig | None = None,
    say=None,
    command: str = "",
    settings: FitSettings | None = None,
    request: DistillRequest | None = None,
    **options,
) -> DistilledModel:
    """Distil one student on every row of ``dataset``: the target (``mode`` auto: chosen by
    cross-validation within the rows), c or α, an outer estimate of its held-out error
    (``estimate_folds``, 0 to skip), its ONNX graph and card. Nothing is written until
    :meth:`DistilledModel.save`. ``options``: the fit settings of :func:`fit_settings`; or
    ``settings`` and ``request`` as :func:`distill_settings` made them."""
    if settings is None or request is None:
        settings, request = distill_settings(
            student, size, mode, estimate_folds, threads, **options
        )
    elif options:
        raise TypeError("give settings and request, or options, not both")
    if isinstance(dataset, str):
        dataset = load_dataset(
            dataset, target=target, max_rows=settings.max_rows, seed=settings.seed, openml=openml
        )
    plan_fit(dataset, settings)  # the data's refusals (too few rows of a class for the folds)
    return distill_dataset(
        dataset, settings, request, command, package_versions()["kd"], say or (lambda _t: None)
    )


def load_results(
    run: str | Path, notice: Callable[[str], None] = lambda _text: None
) -> pd.DataFrame:
    """The long results of a run: a study's from its checked unit files (what is left out is
    told to ``notice``), a `kd fit` folder's or a results file's as written."""
    return RunFolder.of(run).results(notice)


def package_versions() -> dict[str, str]:
    """Versions of Python, kd and the libraries behind its numbers, for run records."""
    out = {"python": platform.python_version()}
    for name in (
        "kd",
        "numpy",
        "pandas",
        "scikit-learn",
        "scipy",
        "lightgbm",
        "xgboost",
        "onnxruntime",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    commit = checkout_commit()
    if commit is not None:  # run from a git checkout: the exact code behind the numbers
        out["kd_commit"] = commit
    return out


def checkout_commit() -> str | None:
    """The git commit kd runs from when it runs from a checkout (``+dirty`` with uncommitted
    changes to tracked files), else None: an installed wheel has no repository beside it."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "") if head else None


__all__ += ["fit_record", "package_versions"]
