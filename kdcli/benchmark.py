"""`kd benchmark`: plan a study, run its unfinished units on an executor, keep every result."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import KDError
from kdcli.executors import DaskExecutor, LocalExecutor, Outcome
from kdcli.output import atomic_write_text, check_out_dir
from kdcli.results_dir import ResultsDir
from kdcli.run import FitRequest
from kdcli.study import PlanFailure, StudySettings, Unit, plan_units
from kdcli.suites import select, suite_members
from kdcli.teachers import params_per_teacher

EXECUTORS = ("local", "dask")


@dataclass
class BenchmarkRequest:
    """The options of `kd benchmark`; ``fit`` holds those shared with `kd fit`."""

    fit: FitRequest
    suite: str = "demo"
    datasets: str | None = None
    out: Path | None = None
    jobs: int = 1
    threads: int | None = None  # per fit; default cores // jobs
    executor: str = "local"
    address: str | None = None
    timeout_per_unit: float | None = None
    retry_failed: bool = False

    def settings(self) -> StudySettings:
        request = self.fit.resolved()
        teachers = request.teachers()
        params = params_per_teacher(teachers, request.teacher_param)
        first = replace(request, teacher=teachers[0])
        fit = first.settings()
        members = [
            {"name": m.name, "spec": m.spec}
            for m in select(suite_members(self.suite), self.datasets)
        ]
        return StudySettings(
            suite=self.suite, members=members, teachers=teachers, fit=fit, teacher_params=params
        )

    def check(self) -> None:
        if self.out is None:
            raise KDError("kd benchmark needs --out DIR: every finished unit is kept there")
        if self.jobs < 1:
            raise KDError(f"--jobs must be at least 1, got {self.jobs}")
        if self.executor not in EXECUTORS:
            raise KDError(f"unknown --executor '{self.executor}'; use local or dask")
        if self.address and self.executor != "dask":
            raise KDError("--address needs --executor dask")
        if self.timeout_per_unit is not None and self.timeout_per_unit <= 0:
            raise KDError(f"--timeout-per-unit must be positive, got {self.timeout_per_unit}")

    def threads_per_fit(self) -> int:
        if self.threads is not None:
            if self.threads < 1:
                raise KDError(f"--threads must be at least 1, got {self.threads}")
            return self.threads
        return max(1, (os.cpu_count() or 1) // self.jobs)


@dataclass
class StudyReport:
    total: int
    skipped: int  # finished before this run
    done: int = 0  # units with results, after this run
    ran: int = 0
    failed_now: int = 0
    interrupted: bool = False
    plan_failures: list[PlanFailure] = field(default_factory=list)
    results: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    failures: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    teacher_fits_reused: int = 0
    fits: int = 0  # model fits of the units run now, and their summed wall time
    fit_seconds: float = 0.0


class Reporter:
    """What the CLI shows while a study runs; the default shows nothing."""

    def planning(self, dataset: str) -> None: ...

    def start(self, total: int, todo: int, skipped: int) -> None: ...

    def unit_started(self, unit: Unit) -> None: ...

    def unit_finished(self, unit: Unit, outcome: Outcome) -> None: ...


def run_benchmark(
    request: BenchmarkRequest,
    cfg: OpenMLConfig,
    command: str,
    versions: dict,
    reporter: Reporter | None = None,
) -> StudyReport:
    reporter = reporter or Reporter()
    request.check()
    settings = request.settings()
    threads = request.threads_per_fit()
    executor = (
        DaskExecutor(request.address, request.jobs, request.timeout_per_unit, threads)
        if request.executor == "dask"
        else LocalExecutor(request.jobs, request.timeout_per_unit)
    )
    check_out_dir(request.out, "kd-benchmark")
    executor.connect()  # an unreachable scheduler is reported before DIR is touched
    try:
        return _run(request, settings, threads, executor, cfg, command, versions, reporter)
    finally:
        executor.close()


def _run(request, settings, threads, executor, cfg, command, versions, reporter) -> StudyReport:
    store = ResultsDir(request.out)
    record = store.open(settings, command, {"versions": versions})
    t0 = time.perf_counter()
    units, plan_failures = plan_units(settings, cfg, reporter.planning)
    failed_members = {pf.dataset for pf in plan_failures}
    for pf in plan_failures:
        store.write_failure(
            f"{pf.dataset}__plan",
            {"dataset": pf.dataset, "spec": pf.spec, "error": pf.error, "stage": "plan"},
        )
    for member in settings.members:  # planned now (e.g. fetched since): its old failure goes
        if member["name"] not in failed_members:
            store.clear_failure(f"{member['name']}__plan")
    by_id = {u.unit_id: u for u in units}
    if request.retry_failed:
        todo = [u for u in units if store.failed(u) and not store.done(u)]
    else:
        todo = [u for u in units if not store.done(u) and not store.failed(u)]
    skipped = sum(store.done(u) for u in units)
    report = StudyReport(total=len(units), skipped=skipped, plan_failures=plan_failures)
    reporter.start(len(units), len(todo), skipped)
    work = unit_payloads(settings, todo, cfg, threads)
    try:
        for outcome in executor.run(work, lambda uid: reporter.unit_started(by_id[uid])):
            unit = by_id[outcome.unit_id]
            if outcome.result is not None:
                store.write_unit(unit, outcome.result["records"], outcome.result["timings"])
                timings = outcome.result["timings"]
                report.teacher_fits_reused += bool(timings.get("teacher_cached"))
                report.fits += timings.get("fits", 0)
                report.fit_seconds += timings.get("fit_seconds", 0.0)
            else:
                store.write_failure(
                    unit.unit_id,
                    {
                        "dataset": unit.dataset,
                        "repeat": unit.repeat,
                        "fold": unit.fold,
                        "teacher": unit.teacher,
                        "error": outcome.error,
                        "detail": outcome.detail,
                        "seconds": round(outcome.seconds, 2),
                    },
                )
                report.failed_now += 1
            report.ran += 1
            reporter.unit_finished(unit, outcome)
    except KeyboardInterrupt:
        report.interrupted = True
    report.seconds = time.perf_counter() - t0
    report.done = int(sum(store.done(u) for u in units))
    report.results = store.assemble(units)
    report.summary = store.write_tables(report.results)
    latency = store.assemble_latency(units)
    if len(latency):
        atomic_write_text(store.path / "latency.csv", latency.to_csv(index=False))
    report.failures = [
        f for f in store.failure_list() if f["unit"] in by_id or f["unit"].endswith("__plan")
    ]
    record.update(
        units_total=len(units),
        units_done=report.done,
        units_failed=len(report.failures),
        threads_per_fit=threads,
        executor=request.executor,
        jobs=request.jobs,
    )
    record.setdefault("timings", []).append(
        {
            "seconds": round(report.seconds, 2),
            "units_run": report.ran,
            "interrupted": report.interrupted,
            "fits": report.fits,
            "fit_seconds": round(report.fit_seconds, 2),
        }
    )
    store.write_record(record)
    return report


def _cfg_dict(cfg: OpenMLConfig) -> dict:
    return {
        "cache_dir": str(cfg.cache_dir),
        "server": cfg.server,
        "offline": cfg.offline,
        "retries": cfg.retries,
        "backoff": cfg.backoff,
        "timeout": cfg.timeout,
    }


def unit_payloads(
    settings: StudySettings, units: list[Unit], cfg: OpenMLConfig, threads: int
) -> list[tuple[str, dict]]:
    """What each worker gets: plain data, so it travels to a process or a Dask worker."""
    base = {
        "settings": settings.to_dict() | {"fit": settings.fit.to_dict()},
        "openml": _cfg_dict(cfg),
        "threads": threads,
    }
    return [(u.unit_id, {**base, "unit": u.__dict__.copy()}) for u in units]
