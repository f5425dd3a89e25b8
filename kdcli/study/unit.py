"""One unit of a study, as a plain function of plain data, so any executor can run it: a local
worker process, or a Dask worker on another machine."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from kdcli.data import load_dataset
from kdcli.data.openml_source import OpenMLConfig
from kdcli.experiment.split_fit import run_split
from kdcli.experiment.splits import make_splits
from kdcli.science import budget
from kdcli.settings.fit import FitSettings
from kdcli.study.plan import Unit
from kdcli.study.spread import DaskSpread, in_dask_worker
from kdcli.study.teacher_cache import TeacherCache, data_fingerprint


def payload(
    fit: FitSettings, unit: Unit, cfg: OpenMLConfig, threads: int, spread: bool = False
) -> dict:
    """What a worker gets: JSON-able data, so it travels to a process or a Dask worker.
    ``spread``: on a Dask worker, the unit's fits go to the whole cluster
    (:mod:`kdcli.study.spread`)."""
    return {
        "fit": fit.to_dict(),
        "unit": asdict(unit),
        "openml": {**asdict(cfg), "cache_dir": str(cfg.cache_dir)},
        "threads": threads,
        "spread": spread,
    }


def run_unit(work: dict) -> dict:
    """Run one unit; returns its records, latency and timings. The settings are read as they were
    checked when the study started: nothing is validated again here.

    Its timings hold a ``trace`` of every fit (:mod:`kdcli.science.budget`): ``fits``, in
    seconds from the unit's start, ``origin`` (Unix time, to lay units of a study side by
    side), and the worker of each fit spread over a Dask cluster, so a simulator can replay
    the study under another schedule."""
    spreader = DaskSpread() if work.get("spread") and in_dask_worker() else None
    with budget.tracing() as trace, budget.spreading(spreader):
        out = _run_unit(work)
    out["timings"] = {**out["timings"], "trace": trace}
    return out


def _run_unit(work: dict) -> dict:
    fit = FitSettings.from_dict(work["fit"])
    unit = Unit(**work["unit"])
    cfg = OpenMLConfig(**{**work["openml"], "cache_dir": Path(work["openml"]["cache_dir"])})
    teacher = next(t for t in fit.teachers if t.label == unit.teacher)
    ds = load_dataset(unit.spec, None, cfg)
    data = data_fingerprint(ds.X, ds.y)  # recorded, so a resume can tell the data changed
    if fit.max_rows is not None:
        ds = ds.subsample(fit.max_rows, fit.seed)
    (split,) = make_splits(ds, fit, only=(unit.repeat, unit.fold))
    store = TeacherCache(cfg.cache_dir / "teachers")
    threads = int(work["threads"])
    out = run_split(ds, split, fit, teacher, threads=threads, store=store, name=unit.dataset)
    return {
        "records": out.records,
        "latency": out.latency,
        "timings": out.timings,
        "notices": list(ds.notices),  # what loading did to the data (columns dropped, converted)
        "data": data,
    }
